#!/usr/bin/env bash
# Issue 6: configMap, secret (on tmpfs) and projected volumes show their data, with items,
# modes and defaultMode; updating the ConfigMap and the Secret changes the files inside the
# running container within 90 s, without a restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
k -n "$NS" create configmap cfg --from-literal=color=blue --from-literal=size=L >/dev/null
k -n "$NS" create secret generic sec --from-literal=password=s3cret --from-literal=user=admin >/dev/null
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: data, labels: {app: data}}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts:
    - {name: cfg, mountPath: /cfg}
    - {name: sec, mountPath: /sec}
    - {name: proj, mountPath: /proj}
  volumes:
  - name: cfg
    configMap:
      name: cfg
      items: [{key: color, path: nested/colour, mode: 0600}]
  - name: sec
    secret: {secretName: sec, defaultMode: 0440}
  - name: proj
    projected:
      sources:
      - configMap: {name: cfg, items: [{key: size, path: size}]}
      - secret: {name: sec, items: [{key: user, path: user}]}
      - downwardAPI: {items: [{path: podname, fieldRef: {fieldPath: metadata.name}}]}
YAML
wait_for 40 "pod data Running" pod_phase_is data Running
file_is data c /cfg/nested/colour blue || fail "configMap item"
cexec data c test ! -e /cfg/size || fail "configMap: only the listed item"
file_is data c /sec/password s3cret || fail "secret password"
file_is data c /sec/user admin || fail "secret user"
file_is data c /proj/size L || fail "projected configMap"
file_is data c /proj/user admin || fail "projected secret"
file_is data c /proj/podname data || fail "projected downwardAPI"
[ "$(cexec data c stat -L -c %a /cfg/nested/colour)" = 600 ] || fail "item mode"
[ "$(cexec data c stat -L -c %a /sec/password)" = 440 ] || fail "defaultMode"
cexec data c grep -q '^tmpfs /sec ' /proc/mounts || fail "secret volume not on tmpfs: $(cexec data c cat /proc/mounts)"
cexec data c grep -q '^tmpfs /proj ' /proc/mounts || fail "projected volume not on tmpfs"
cexec data c grep -q ' /cfg .* ro,' /proc/mounts || fail "configMap volume not read-only"
log "contents, modes and tmpfs are right"

id=$(cid data c)
t0=$(date +%s)
k -n "$NS" patch configmap cfg --type merge -p '{"data": {"color": "green", "size": "XL"}}' >/dev/null
k -n "$NS" patch secret sec --type merge -p '{"stringData": {"password": "n3w", "user": "root"}}' >/dev/null
wait_for 90 "configMap file updated" file_is data c /cfg/nested/colour green
wait_for 90 "secret file updated" file_is data c /sec/password n3w
wait_for 90 "projected files updated" file_is data c /proj/size XL
wait_for 90 "projected secret updated" file_is data c /proj/user root
log "updates visible $(( $(date +%s) - t0 )) s after the change"
[ "$(cid data c)" = "$id" ] && [ "$(restarts data)" = 0 ] || fail "the container was restarted"
log "PASS: configMap, secret and projected volumes, updated in place"
