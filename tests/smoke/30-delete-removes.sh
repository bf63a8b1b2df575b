#!/usr/bin/env bash
# Deleting the manifest removes the pod, its containers and its sandbox within
# fileCheckFrequency + 5 s (here 2 s + 5 s).
. "$(dirname "$0")/lib.sh"
require_env
write_manifest gone.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: gone}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']
YAML
start_rkubelet
wait_for 30 "pod gone Running" pod_phase_is gone Running
uid=$(pod_field gone .metadata.uid)
rm "$MANIFESTS/gone.yaml"
start=$(date +%s)
containers_gone() { cri ps -a -o json | jq -e --arg u "$uid" '[.items[] | select(.labels["io.kubernetes.pod.uid"] == $u)] | length == 0'; }
wait_for 7 "sandbox removed" runtime_pods_gone gone
wait_for 1 "containers removed" containers_gone
no_pod() { ! pod_field gone .metadata.name; }
wait_for 2 "pod gone from /pods" no_pod
[ ! -e "$ROOTDIR/pods/$uid" ] || fail "pod directory $ROOTDIR/pods/$uid is left"
log "PASS: removed in $(( $(date +%s) - start )) s"
