#!/usr/bin/env bash
# Issue 6: subPath (a configMap key as one file, an emptyDir subdirectory) and subPathExpr
# ($(POD_NAME) from the downward API) mount the right file or directory; a subPath that
# leaves its volume through a symlink is refused (CreateContainerConfigError).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
k -n "$NS" create configmap cfg --from-literal=app.conf=debug=true --from-literal=other=x >/dev/null
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: sub}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: prep
    image: $IMAGE
    command: [sh, -c, 'mkdir -p /data/logs/sub /data/conf && echo prepared >/data/conf/file']
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'echo in-subdir >/logs/x; trap "exit 0" TERM; sleep 3600 & wait']
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/app.conf, subPath: app.conf}
    - {name: data, mountPath: /conf, subPath: conf}
    - {name: data, mountPath: /logs, subPathExpr: logs/\$(POD_NAME)}
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: data, emptyDir: {}}
YAML
wait_for 60 "pod sub Running" pod_phase_is sub Running
file_is sub c /etc/app.conf debug=true || fail "configMap subPath file"
cexec sub c test -f /etc/app.conf || fail "subPath of a key is not a file"
cexec sub c test ! -e /etc/other || fail "other keys leaked"
file_is sub c /conf/file prepared || fail "emptyDir subPath directory"
uid=$(pod_uid sub)
wait_for 10 "subPathExpr directory written" test -f "$ROOTDIR/pods/$uid/volumes/kubernetes.io~empty-dir/data/logs/sub/x"
[ -d "$ROOTDIR/pods/$uid/volume-subpaths/data/c" ] || fail "no bind mounts under volume-subpaths"
log "subPath and subPathExpr mounts are right"

apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: escape}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: prep
    image: $IMAGE
    command: [sh, -c, 'ln -s / /data/escape']
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'ls /host; sleep 3600']
    volumeMounts: [{name: data, mountPath: /host, subPath: escape}]
  volumes:
  - {name: data, emptyDir: {}}
YAML
waiting_reason() { [ "$(k -n "$NS" get pod escape -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')" = "$1" ]; }
wait_for 60 "escape refused with CreateContainerConfigError" waiting_reason CreateContainerConfigError
msg=$(k -n "$NS" get pod escape -o jsonpath='{.status.containerStatuses[0].state.waiting.message}')
[ "$msg" = 'failed to prepare subPath for volumeMount "data" of container "c"' ] || fail "message: $msg"
log "PASS: subPath, subPathExpr, and no escape through a symlink"
