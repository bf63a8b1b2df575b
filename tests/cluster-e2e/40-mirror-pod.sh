#!/usr/bin/env bash
# A static pod appears as a mirror pod (annotation, owner reference to the Node), its status is
# written there, a deleted mirror pod is recreated, and a changed manifest replaces it.
. "$(dirname "$0")/lib.sh"
require_env
NS=default
manifest() {
  cat >"$MANIFESTS/.s.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: static, labels: {v: "$1"}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']
YAML
  mv "$MANIFESTS/.s.yaml" "$MANIFESTS/static.yaml"
}
mkdir -p "$MANIFESTS"; manifest one
start_rkubelet --kubeconfig="$(node_kubeconfig)"
mirror=static-$NODE
wait_for 30 "mirror pod Running" pod_phase_is "$mirror" Running
p=$(pod_json "$mirror")
jq -e '.metadata.annotations["kubernetes.io/config.mirror"] | length > 0' <<<"$p" >/dev/null || fail "mirror annotation"
jq -e --arg n "$NODE" '.metadata.ownerReferences[0] | .kind == "Node" and .name == $n' <<<"$p" >/dev/null || fail "owner reference"
uid=$(jq -r .metadata.uid <<<"$p")
k -n default delete pod "$mirror" --wait=false >/dev/null
recreated() { local u; u=$(k -n default get pod "$mirror" -o jsonpath='{.metadata.uid}') && [ -n "$u" ] && [ "$u" != "$uid" ]; }
wait_for 30 "mirror pod recreated" recreated
wait_for 30 "recreated mirror Running" pod_phase_is "$mirror" Running
manifest two
relabelled() { [ "$(k -n default get pod "$mirror" -o jsonpath='{.metadata.labels.v}')" = two ]; }
wait_for 30 "mirror pod follows the new manifest" relabelled
wait_for 30 "new mirror Running" pod_phase_is "$mirror" Running
rm "$MANIFESTS/static.yaml"
wait_for 30 "mirror pod deleted with its static pod" pod_gone "$mirror"
log "PASS"
