#!/usr/bin/env bash
# Issue 6: hostPath `type: Directory` on a missing path keeps the pod from starting with
# upstream's FailedMount event; `DirectoryOrCreate` creates the directory (0755).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
missing=$WORK/host/missing
created=$WORK/host/created/deep
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
for spec in "strict Directory $missing" "create DirectoryOrCreate $created"; do
  read -r name type path <<<"$spec"
  apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'ls -ld /h; trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts: [{name: h, mountPath: /h}]
  volumes:
  - {name: h, hostPath: {path: $path, type: $type}}
YAML
done
wait_for 40 "pod create Running" pod_phase_is create Running
[ -d "$created" ] || fail "DirectoryOrCreate did not create $created"
[ "$(stat -c %a "$created")" = 755 ] || fail "created with mode $(stat -c %a "$created")"
want="MountVolume.SetUp failed for volume \"h\" : hostPath type check failed, $missing is not a directory, unable to determine its type: path \"$missing\" does not exist"
wait_for 30 "FailedMount event for pod strict" event_seen FailedMount "$want"
k -n "$NS" get events -o json | jq -e '[.items[] | select(.reason == "FailedMount" and .type == "Warning" and .involvedObject.name == "strict")] | length > 0' >/dev/null || fail "event not on pod strict"
pod_phase_is strict Pending || fail "pod strict is not Pending"
k -n "$NS" get pod strict -o json | jq -e '.status.containerStatuses // [] | all(.state.waiting.reason == "ContainerCreating")' >/dev/null || fail "containers not waiting in ContainerCreating"
runtime_pod_gone strict "$NS" >/dev/null || fail "a sandbox was created for pod strict"
[ ! -e "$missing" ] || fail "type Directory created the path"
mkdir -p "$missing"
wait_for 60 "pod strict Running once the directory exists" pod_phase_is strict Running
log "PASS: hostPath type checks"
