#!/usr/bin/env bash
# Restarting the API server loses nothing: the test control plane is stopped and started again
# on the same etcd data. Meanwhile pods keep running, a pod that finishes while the API server
# is down shows Succeeded once it is back, rkubelet restarted while the API server is down kills
# no API pod (sources are not ready), and the watch resumes: new pods run, deleted pods go.
. "$(dirname "$0")/lib.sh"
require_env
[ -x "$REPO/scripts/test-cluster.sh" ] || skip "no scripts/test-cluster.sh"
# Whatever happens, the next test finds the control plane up.
test_cleanup() { "$REPO/scripts/test-cluster.sh" up >/dev/null 2>&1 || log "could not restart the control plane"; }
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
pod() { # NAME COMMAND
  apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $NODE
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    command: [sh, -c, '$2']
YAML
}
pod keeper 'trap "exit 0" TERM; while :; do sleep 1; done'
pod finisher 'sleep 12; echo finished'
wait_for 30 "keeper Running" pod_phase_is keeper Running
wait_for 30 "finisher Running" pod_phase_is finisher Running
keeper_id=$(pod_json keeper | jq -r '.status.containerStatuses[0].containerID')

log "stopping the control plane"
"$REPO/scripts/test-cluster.sh" down >&2
sleep 3
log "restarting rkubelet while the API server is down"
stop_rkubelet KILL
start_rkubelet --kubeconfig="$(node_kubeconfig)"
sleep 12
# Asked a few times: one failed `cri pods` call must not read as a killed pod (a removed
# sandbox does not come back, so retrying cannot hide a kill).
keeper_in_runtime() { for _ in 1 2 3 4 5; do runtime_has_pod keeper "$NS" >/dev/null && return 0; sleep 1; done; return 1; }
if ! keeper_in_runtime; then
  echo "--- sandboxes in the runtime:" >&2; cri pods >&2 || true
  echo "--- what rkubelet logged about keeper:" >&2; grep -E 'keeper|orphan|SyncLoop|sources' "$KLOG" | tail -n 40 >&2 || true
  fail "rkubelet killed an API pod while the API server was down"
fi
log "starting the control plane again"
"$REPO/scripts/test-cluster.sh" up >/dev/null
wait_for 60 "node Ready again" node_ready
wait_for 60 "finisher Succeeded (status caught up)" pod_phase_is finisher Succeeded
[ "$(pod_json keeper | jq -r '.status.containerStatuses[0].containerID')" = "$keeper_id" ] || fail "keeper's container was restarted"
pod newcomer 'trap "exit 0" TERM; while :; do sleep 1; done'
wait_for 60 "a new pod runs after the restart" pod_phase_is newcomer Running
k -n "$NS" delete pod keeper --wait=true --timeout=60s >/dev/null || fail "delete after the restart"
wait_for 20 "keeper removed from containerd" runtime_pod_gone keeper "$NS"
log "PASS"
