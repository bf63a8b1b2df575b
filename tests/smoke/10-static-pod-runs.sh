#!/usr/bin/env bash
# A static pod reaches Running and its log file under /var/log/pods has its output.
. "$(dirname "$0")/lib.sh"
require_env
write_manifest hello.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo hello-from-smoke; trap "exit 0" TERM; while :; do sleep 1; done']
YAML
start_rkubelet
wait_for 30 "pod hello Running" pod_phase_is hello Running
wait_for 10 "container main running" container_state_is hello main running
uid=$(pod_field hello .metadata.uid)
log_file=/var/log/pods/default_hello-${NODE}_${uid}/main/0.log
wait_for 10 "log file $log_file has the output" grep -q hello-from-smoke "$log_file"
[ "$(pod_field hello '.metadata.annotations["kubernetes.io/config.source"]')" = file ] || fail "config.source is not file"
[ "$(pod_field hello .status.qosClass)" = BestEffort ] || fail "qosClass is not BestEffort"
pod_field hello '.status.podIP' | grep -Eq '^[0-9.]+$' || fail "no pod IP"
curl -sf "http://127.0.0.1:$HEALTHZ_PORT/healthz" | grep -qx ok || fail "healthz is not ok"
log "PASS: static pod running, log at $log_file"
