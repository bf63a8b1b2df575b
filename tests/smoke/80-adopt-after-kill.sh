#!/usr/bin/env bash
# kill -9 of rkubelet, then a restart: the running pods are adopted, no container restarts
# (same container IDs, restart counts unchanged). SIGTERM also leaves pods running.
. "$(dirname "$0")/lib.sh"
require_env
for n in a1 a2; do
  write_manifest "$n.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $n}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo init done']
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']
YAML
done
start_rkubelet
wait_for 40 "a1 Running" pod_phase_is a1 Running
wait_for 40 "a2 Running" pod_phase_is a2 Running
snapshot() { pods_json | jq -S '[.items[] | {n: .metadata.name, c: [.status.containerStatuses[], .status.initContainerStatuses[] | {name, containerID, restartCount}]}] | sort_by(.n)'; }
before=$(snapshot)
stop_rkubelet KILL
log "killed rkubelet with SIGKILL"
start_rkubelet
sleep 6
after=$(snapshot)
[ "$before" = "$after" ] || { echo "before: $before" >&2; echo "after: $after" >&2; fail "containers changed across the restart"; }
grep -E "Created|Killing" "$KLOG" | tail -n 3 >&2 || true
stop_rkubelet TERM
log "stopped rkubelet with SIGTERM"
cri ps -o json | jq -e --arg s "-$NODE" '[.items[] | select(.labels["io.kubernetes.pod.name"] | endswith($s))] | length == 2' >/dev/null \
  || fail "pods did not keep running after SIGTERM"
start_rkubelet
sleep 4
[ "$(snapshot)" = "$before" ] || fail "containers changed after the SIGTERM restart"
log "PASS: pods adopted after SIGKILL and SIGTERM restarts"
