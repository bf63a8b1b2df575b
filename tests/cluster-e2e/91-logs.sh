#!/usr/bin/env bash
# kubectl logs, logs -f (new lines arrive while following) and logs --previous (the output of
# the container's run before its restart): API server -> rkubelet /containerLogs -> CRI log files.
. "$(dirname "$0")/lib.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)" --client-ca-file="$RK_CLUSTER_DIR/ca.crt"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: logs}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  volumes: [{name: state, emptyDir: {}}]
  containers:
  - name: ticker
    image: docker.io/library/busybox:1.35
    command: [sh, -c, 'trap "exit 0" TERM; i=0; while true; do i=\$((i+1)); echo tick \$i; sleep 0.3; done']
  - name: restarts
    image: docker.io/library/busybox:1.35
    volumeMounts: [{name: state, mountPath: /s}]
    # Each run prints its number; the first one exits and the kubelet restarts it.
    command: [sh, -c, 'n=\$(( \$(cat /s/n 2>/dev/null || echo 0) + 1 )); echo \$n >/s/n; echo run \$n; [ \$n -ge 2 ] || exit 1; trap "exit 0" TERM; while true; do sleep 1; done']
YAML
wait_for 30 "pod logs Running" pod_phase_is logs Running

# logs: what the container printed so far.
wait_for 10 "ticker output" sh -c "'$KUBECTL' -n '$NS' logs logs -c ticker | grep -q '^tick 3\$'"
out=$(k -n "$NS" logs logs -c ticker) || fail "kubectl logs failed"
[ "$(printf '%s\n' "$out" | head -n 1)" = "tick 1" ] || fail "kubectl logs starts with '$(printf '%s\n' "$out" | head -n 1)', want 'tick 1'"
out=$(k -n "$NS" logs logs -c ticker --tail=2) || fail "kubectl logs --tail failed"
[ "$(printf '%s\n' "$out" | wc -l)" = 2 ] || fail "kubectl logs --tail=2 printed $(printf '%s\n' "$out" | wc -l) lines"
log "logs: output and --tail"

# logs -f: lines written after the request started reach the follower.
before=$(k -n "$NS" logs logs -c ticker | tail -n 1 | awk '{print $2}')
timeout 4 "$KUBECTL" -n "$NS" logs -f logs -c ticker >"$WORK/follow.out" 2>"$WORK/follow.err" || true
last=$(tail -n 1 "$WORK/follow.out" | awk '{print $2}')
[ -n "$last" ] || fail "logs -f printed nothing: $(cat "$WORK/follow.err")"
[ "$last" -gt $((before + 3)) ] || fail "logs -f ended at tick $last, started at $before: no new lines followed"
log "logs -f: followed from tick $before to tick $last"

# logs --previous: the run before the restart.
restarts() { k -n "$NS" get pod logs -o jsonpath='{.status.containerStatuses[?(@.name=="restarts")].restartCount}'; }
# While the container waits in back-off, upstream serves the last run for both; so wait until
# the second run is running.
restarted_and_running() {
  [ "$(restarts)" -ge 1 ] && [ -n "$(k -n "$NS" get pod logs -o jsonpath='{.status.containerStatuses[?(@.name=="restarts")].state.running.startedAt}')" ]
}
wait_for 60 "container restarts restarted and running" restarted_and_running
wait_for 20 "current run's output" sh -c "'$KUBECTL' -n '$NS' logs logs -c restarts | grep -q '^run '"
cur=$(k -n "$NS" logs logs -c restarts) || fail "kubectl logs of the restarted container failed"
prev=$(k -n "$NS" logs logs -c restarts --previous) || fail "kubectl logs --previous failed"
cur_n=${cur#run }; prev_n=${prev#run }
if [ "$prev" != "run $prev_n" ] || [ "$cur" != "run $cur_n" ]; then
  fail "unexpected output: current '$cur', previous '$prev'"
fi
[ "$prev_n" -lt "$cur_n" ] || fail "logs --previous shows run $prev_n, current shows run $cur_n (restarts: $(restarts))"
log "PASS: logs, logs -f and logs --previous (run $prev_n before run $cur_n)"
