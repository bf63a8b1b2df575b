#!/usr/bin/env bash
# restartPolicy OnFailure: exit 0 is final (Succeeded). restartPolicy Never: exit 1 stays exited
# (Failed), no restart.
. "$(dirname "$0")/lib.sh"
require_env
pod() { # NAME POLICY EXIT
  write_manifest "$1.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: $2
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo done; exit $3']
YAML
}
pod onfail OnFailure 0
pod never Never 1
start_rkubelet
wait_for 30 "onfail Succeeded" pod_phase_is onfail Succeeded
wait_for 30 "never Failed" pod_phase_is never Failed
sleep 12
[ "$(restart_count onfail main)" = 0 ] || fail "OnFailure restarted a container that exited 0"
[ "$(restart_count never main)" = 0 ] || fail "Never restarted a container"
[ "$(pod_field onfail '.status.containerStatuses[0].state.terminated.reason')" = Completed ] || fail "onfail is not Completed"
[ "$(pod_field never '.status.containerStatuses[0].state.terminated.exitCode')" = 1 ] || fail "never's exit code is not 1"
pod_phase_is onfail Succeeded && pod_phase_is never Failed || fail "a terminal phase went back"
log "PASS: OnFailure Succeeded, Never Failed, no restarts"
