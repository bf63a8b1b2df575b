#!/usr/bin/env bash
# A static pod appears as a mirror pod (annotation, owner reference to the Node), its status is
# written there, a deleted mirror pod is recreated, and a changed manifest replaces it. A static
# pod that takes its grace period to stop keeps its mirror pod meanwhile, both when its manifest
# is edited (the new pod starts only after the old one stopped) and when it is removed.
. "$(dirname "$0")/lib.sh"
require_env
NS=default
manifest() { # label [grace seconds] [command]
  local grace=${2:-1} cmd=${3:-'trap "exit 0" TERM; while :; do sleep 1; done'}
  cat >"$MANIFESTS/.s.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: static, labels: {v: "$1"}}
spec:
  terminationGracePeriodSeconds: $grace
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, '$cmd']
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

# Grace periods: the container ignores SIGTERM, so each stop takes the whole 10 s.
slow='trap "" TERM; while :; do sleep 1; done'
manifest three 10 "$slow"
wait_for 30 "mirror of the slow pod Running" pod_phase_is "$mirror" Running
uid=$(k -n default get pod "$mirror" -o jsonpath='{.metadata.uid}')
mirror_stays() { # seconds: the mirror keeps its UID and stays Running that long
  local end=$((SECONDS + $1)) json
  while [ $SECONDS -lt $end ]; do
    json=$(pod_json "$mirror") || fail "mirror pod gone during the grace period"
    [ "$(jq -r .metadata.uid <<<"$json")" = "$uid" ] || fail "mirror pod replaced during the grace period"
    [ "$(jq -r .status.phase <<<"$json")" = Running ] || fail "mirror pod not Running during the grace period"
    sleep 0.5
  done
}
manifest four 10 "$slow"
mirror_stays 7
relabelled4() { [ "$(k -n default get pod "$mirror" -o jsonpath='{.metadata.labels.v}')" = four ]; }
wait_for 40 "mirror pod follows the edited manifest after the grace period" relabelled4
wait_for 30 "edited static pod Running" pod_phase_is "$mirror" Running
uid=$(k -n default get pod "$mirror" -o jsonpath='{.metadata.uid}')
rm "$MANIFESTS/static.yaml"
mirror_stays 7
wait_for 40 "mirror pod deleted after the grace period" pod_gone "$mirror"
log "PASS"
