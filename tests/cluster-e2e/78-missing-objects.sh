#!/usr/bin/env bash
# Issue 6: a missing non-optional ConfigMap, Secret or key keeps the pod from starting with
# upstream's FailedMount event (the pod stays Pending, no sandbox); it starts once the object
# appears. An optional missing object gives an empty volume.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
k -n "$NS" create configmap partial --from-literal=a=1 >/dev/null
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
pod() { # NAME VOLUME-SOURCE-YAML
  apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts: [{name: v, mountPath: /v}]
  volumes:
  - name: v
    $2
YAML
}
pod no-cm 'configMap: {name: later}'
pod no-secret 'secret: {secretName: later}'
pod no-key 'configMap: {name: partial, items: [{key: b, path: b}]}'
pod optional 'configMap: {name: absent, optional: true}'
wait_for 40 "optional: pod Running" pod_phase_is optional Running
[ -z "$(cexec optional c ls /v)" ] || fail "optional missing ConfigMap: volume not empty"
wait_for 40 "FailedMount for the missing ConfigMap" event_seen FailedMount 'MountVolume.SetUp failed for volume "v" : configmap "later" not found'
wait_for 40 "FailedMount for the missing Secret" event_seen FailedMount 'MountVolume.SetUp failed for volume "v" : secret "later" not found'
wait_for 40 "FailedMount for the missing key" event_seen FailedMount 'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: b'
for p in no-cm no-secret no-key; do
  pod_phase_is "$p" Pending || fail "pod $p is not Pending"
  runtime_pod_gone "$p" "$NS" >/dev/null || fail "pod $p got a sandbox"
done
k -n "$NS" create configmap later --from-literal=x=y >/dev/null
k -n "$NS" create secret generic later --from-literal=x=y >/dev/null
k -n "$NS" patch configmap partial --type merge -p '{"data": {"b": "2"}}' >/dev/null
for p in no-cm no-secret no-key; do wait_for 150 "pod $p Running once its object exists" pod_phase_is "$p" Running; done
file_is no-cm c /v/x y || fail "ConfigMap content"
file_is no-key c /v/b 2 || fail "key content"
log "PASS: missing objects and keys block the pod with upstream's events until they appear"
