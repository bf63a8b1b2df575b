#!/usr/bin/env bash
# Volumes of static pods on a standalone node (issue 6): emptyDir (disk and tmpfs),
# downwardAPI, hostPath DirectoryOrCreate and subPathExpr work; deleting the manifest
# unmounts and removes everything. (Static pods may not use configMap, secret or
# serviceAccountToken volumes: the file source refuses those manifests, as upstream.)
. "$(dirname "$0")/lib.sh"
require_env
hostdir=$WORK/host/made
write_manifest vols.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: vols, labels: {app: vols}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo hi >/scratch/f; echo sub >/logs/f; trap "exit 0" TERM; sleep 3600 & wait']
    env:
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: mem, mountPath: /mem}
    - {name: info, mountPath: /info}
    - {name: host, mountPath: /host}
    - {name: scratch, mountPath: /logs, subPathExpr: 'logs/\$(POD)'}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: host, hostPath: {path: $hostdir, type: DirectoryOrCreate}}
YAML
start_rkubelet
# The root directory is made a shared mount at start, before any volume is mounted under it
# (mount propagation; binding it later would hide the mounts already made).
[ "$(findmnt -n -o PROPAGATION --target "$ROOTDIR")" = shared ] || fail "root dir not a shared mount: $(findmnt -n -o TARGET,PROPAGATION --target "$ROOTDIR")"
wait_for 40 "pod vols Running" pod_phase_is vols Running
uid=$(pod_field vols .metadata.uid)
id=$(cri ps -o json | jq -r --arg u "$uid" '.items[] | select(.labels["io.kubernetes.pod.uid"] == $u) | .id')
in_c() { cri exec "$id" -- "$@"; }
[ "$(in_c cat /scratch/f)" = hi ] || fail "emptyDir"
[ "$(cat "$ROOTDIR/pods/$uid/volumes/kubernetes.io~empty-dir/scratch/logs/vols-$NODE/f")" = sub ] || fail "subPathExpr"
in_c grep -q '^tmpfs /mem tmpfs rw,.*size=16384k' /proc/mounts || fail "medium Memory: $(in_c grep /mem /proc/mounts)"
grep -qx 'app="vols"' <<<"$(in_c cat /info/labels)" || fail "downwardAPI labels: $(in_c cat /info/labels)"
[ -d "$hostdir" ] || fail "hostPath DirectoryOrCreate"
mounts() { grep -c " $ROOTDIR/pods/$uid/" /proc/self/mountinfo || true; }
[ "$(mounts)" -ge 3 ] || fail "expected the tmpfs, downwardAPI and subPath mounts"
rm "$MANIFESTS/vols.yaml"
wait_for 30 "pod vols' directory removed" test ! -e "$ROOTDIR/pods/$uid"
[ "$(mounts)" = 0 ] || fail "mounts left behind"
log "PASS: standalone volumes"
