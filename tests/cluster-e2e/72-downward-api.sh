#!/usr/bin/env bash
# Issue 6: a downwardAPI volume shows labels and annotations (key="value" lines) and
# resource values (a limit the container does not set is the node's allocatable); an edited
# label appears in the file of the running container.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: info
  labels: {app: info, tier: front}
  annotations: {build: "42"}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: info, mountPath: /info}]
  volumes:
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
      - {path: tier, fieldRef: {fieldPath: "metadata.labels['tier']"}}
      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
      - {path: cpu, resourceFieldRef: {containerName: c, resource: limits.cpu, divisor: 1m}}
YAML
wait_for 40 "pod info Running" pod_phase_is info Running
labels=$(cexec info c cat /info/labels)
[ "$labels" = "$(printf 'app="info"\ntier="front"')" ] || fail "labels file: $labels"
annotations=$(cexec info c cat /info/annotations)
grep -qx 'build="42"' <<<"$annotations" || fail "annotations file: $annotations"
file_is info c /info/tier front || fail "label subscript"
file_is info c /info/mem 64 || fail "resourceFieldRef"
# No cpu limit and no cpu reservation: the node's allocatable is every usable CPU.
file_is info c /info/cpu "$(( $(nproc) * 1000 ))" || fail "default cpu limit: $(cexec info c cat /info/cpu)"
cexec info c grep -q '^tmpfs /info ' /proc/mounts || fail "downwardAPI volume not on tmpfs"

id=$(cid info c)
k -n "$NS" label pod info tier=back --overwrite >/dev/null
t0=$(date +%s)
wait_for 90 "edited label in the file" file_is info c /info/tier back
grep -qx 'tier="back"' <<<"$(cexec info c cat /info/labels)" || fail "labels file not rewritten"
log "label edit visible $(( $(date +%s) - t0 )) s later"
[ "$(cid info c)" = "$id" ] && [ "$(restarts info)" = 0 ] || fail "the container was restarted"
log "PASS: downwardAPI volume, refreshed on a label edit"
