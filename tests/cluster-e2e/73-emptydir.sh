#!/usr/bin/env bash
# Issue 6: an emptyDir shared by two containers (one writes, the other reads), and a
# `medium: Memory` emptyDir that is a tmpfs of its sizeLimit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: shared}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: $IMAGE
    command: [sh, -c, 'echo from-writer >/data/msg; trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts: [{name: data, mountPath: /data}, {name: mem, mountPath: /mem}]
  - name: reader
    image: $IMAGE
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts: [{name: data, mountPath: /shared, readOnly: true}]
  volumes:
  - {name: data, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
YAML
wait_for 40 "pod shared Running" pod_phase_is shared Running
wait_for 10 "the reader sees the writer's file" file_is shared reader /shared/msg from-writer
cexec shared reader sh -c 'echo x >/shared/nope' 2>/dev/null && fail "a readOnly mount was writable"
uid=$(pod_uid shared)
[ "$(cat "$ROOTDIR/pods/$uid/volumes/kubernetes.io~empty-dir/data/msg")" = from-writer ] || fail "not in the pod's volume dir"
[ "$(stat -c %a "$ROOTDIR/pods/$uid/volumes/kubernetes.io~empty-dir/data")" = 777 ] || fail "emptyDir mode"
mem=$(cexec shared writer grep ' /mem ' /proc/mounts) || fail "no /mem mount"
grep -q '^tmpfs /mem tmpfs rw,' <<<"$mem" || fail "medium Memory is not a tmpfs: $mem"
grep -q 'size=65536k' <<<"$mem" || fail "tmpfs size is not the sizeLimit (64Mi): $mem"
[ "$(cexec shared writer df -k /mem | awk 'NR==2 {print $2}')" = 65536 ] || fail "df size"
cexec shared writer grep -q ' /data ' /proc/mounts || fail "no /data mount"
grep -q '^tmpfs' <<<"$(cexec shared writer grep ' /data ' /proc/mounts)" && fail "a disk emptyDir is a tmpfs"
log "PASS: shared emptyDir and a 64Mi tmpfs emptyDir"
