#!/usr/bin/env bash
# restartPolicy Always: a container exiting 1 is restarted, the first time at once, then with a
# growing backoff (10 s, 20 s, ...), shown as CrashLoopBackOff in between.
. "$(dirname "$0")/lib.sh"
require_env
write_manifest crash.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo crashing; exit 1']
YAML
start_rkubelet
# Record when each restart count is first seen.
declare -A seen
t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt 60 ]; do
  rc=$(restart_count crash main 2>/dev/null || echo -1)
  [ "$rc" -ge 0 ] && [ -z "${seen[$rc]:-}" ] && { seen[$rc]=$(date +%s); log "restartCount $rc at +$(( seen[$rc] - t0 )) s"; }
  [ "$rc" -ge 3 ] && break
  sleep 0.5
done
[ -n "${seen[3]:-}" ] || fail "restartCount did not reach 3 in 60 s"
gap1=$(( seen[2] - seen[1] )); gap2=$(( seen[3] - seen[2] ))
[ "$(( seen[1] - seen[0] ))" -le 4 ] || fail "the first restart was not immediate"
[ "$gap1" -ge 8 ] || fail "second restart after ${gap1}s: expected a ~10 s backoff"
[ "$gap2" -ge 16 ] && [ "$gap2" -gt "$gap1" ] || fail "third restart after ${gap2}s: expected a ~20 s backoff"
crashloop_shown() { [ "$(pod_field crash '.status.containerStatuses[0].state.waiting.reason')" = CrashLoopBackOff ]; }
wait_for 15 "waiting reason CrashLoopBackOff" crashloop_shown
[ "$(pod_field crash '.status.containerStatuses[0].lastState.terminated.exitCode')" = 1 ] || fail "lastState is not the exit 1"
log "PASS: restarts at +0, +${gap1}, +${gap2} s"
