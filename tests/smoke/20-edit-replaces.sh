#!/usr/bin/env bash
# Editing a static pod's manifest replaces the pod: a new UID, a new sandbox, the old one gone.
. "$(dirname "$0")/lib.sh"
require_env
manifest() { # MESSAGE
  write_manifest edit.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: edit}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo $1; trap "exit 0" TERM; while :; do sleep 1; done']
YAML
}
manifest version-one
start_rkubelet
wait_for 30 "pod edit Running" pod_phase_is edit Running
old_uid=$(pod_field edit .metadata.uid)
manifest version-two
new_uid_differs() { local u; u=$(pod_field edit .metadata.uid) && [ "$u" != "$old_uid" ]; }
wait_for 15 "pod edit has a new UID" new_uid_differs
wait_for 30 "the new pod Running" pod_phase_is edit Running
new_uid=$(pod_field edit .metadata.uid)
old_sandbox_gone() { cri pods -o json | jq -e --arg u "$old_uid" '[.items[] | select(.metadata.uid == $u)] | length == 0'; }
wait_for 20 "the old pod's sandbox removed" old_sandbox_gone
grep -q version-two /var/log/pods/default_edit-${NODE}_${new_uid}/main/0.log || fail "the new pod runs the old command"
log "PASS: edit replaced $old_uid with $new_uid"
