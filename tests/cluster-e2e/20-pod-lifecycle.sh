#!/usr/bin/env bash
# `kubectl apply` of a pod with nodeName reaches Running with a correct status (IPs,
# containerStatuses, conditions); `kubectl delete pod` removes it from the API and containerd.
. "$(dirname "$0")/lib.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 5
  containers:
  - name: httpd
    image: docker.io/library/busybox:1.35
    command: [sh, -c, 'mkdir -p /w; echo hi >/w/index.html; trap "exit 0" TERM; httpd -f -p 8080 -h /w & wait']
    ports: [{containerPort: 8080}]
YAML
t0=$(date +%s%N)
wait_for 30 "pod web Running" pod_phase_is web Running
log "Running $(( ($(date +%s%N) - t0) / 1000000 )) ms after apply"
p=$(pod_json web)
jq -e '.status.podIP | test("^[0-9.]+$")' <<<"$p" >/dev/null || fail "podIP"
jq -e '.status.podIPs[0].ip == .status.podIP' <<<"$p" >/dev/null || fail "podIPs"
jq -e '.status.hostIP | test("^[0-9.]+$")' <<<"$p" >/dev/null || fail "hostIP"
jq -e '.status.containerStatuses[0] | .ready and .started and .restartCount == 0 and (.containerID | startswith("containerd://")) and (.state | has("running"))' <<<"$p" >/dev/null || fail "containerStatuses"
for c in PodReadyToStartContainers Initialized Ready ContainersReady PodScheduled; do
  jq -e --arg c "$c" '.status.conditions[] | select(.type == $c) | .status == "True"' <<<"$p" >/dev/null || fail "condition $c"
done
jq -e '.status.qosClass == "BestEffort" and (.status.startTime | length > 0)' <<<"$p" >/dev/null || fail "qosClass/startTime"
ip=$(jq -r .status.podIP <<<"$p")
[ "$(curl -sf "http://$ip:8080/")" = hi ] || fail "the pod does not serve"
wait_for 5 "events Started" bash -c "\"$KUBECTL\" -n $NS get events -o json | jq -e '[.items[] | select(.involvedObject.name == \"web\") | .reason] | index(\"Started\")'"
t0=$(date +%s%N)
k -n "$NS" delete pod web --wait=true --timeout=30s >/dev/null || fail "kubectl delete did not finish"
log "deleted from the API $(( ($(date +%s%N) - t0) / 1000000 )) ms after kubectl delete"
wait_for 15 "sandbox removed from containerd" runtime_pod_gone web "$NS"
log "PASS: pod ran with the right status and was deleted everywhere"
