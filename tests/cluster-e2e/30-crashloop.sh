#!/usr/bin/env bash
# A crash-looping pod shows its restartCount and CrashLoopBackOff in `kubectl get pods`.
. "$(dirname "$0")/lib.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  nodeName: $NODE
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    command: [sh, -c, 'echo oops; exit 1']
YAML
shown() { k -n "$NS" get pod crash --no-headers | awk '{print $3, $4}' | grep -Eq '^CrashLoopBackOff [1-9]'; }
wait_for 40 "CrashLoopBackOff with restarts in kubectl get pods" shown
k -n "$NS" get pod crash >&2
p=$(pod_json crash)
jq -e '.status.containerStatuses[0].lastState.terminated.exitCode == 1 and .status.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff"' <<<"$p" >/dev/null || fail "status"
k -n "$NS" get events -o json | jq -e '[.items[] | select(.involvedObject.name == "crash") | .reason] | index("BackOff")' >/dev/null || fail "no BackOff event"
log "PASS"
