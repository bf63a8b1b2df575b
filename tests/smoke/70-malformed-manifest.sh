#!/usr/bin/env bash
# A malformed manifest is logged with its file name and reason, and skipped: the other pods run.
. "$(dirname "$0")/lib.sh"
require_env
write_manifest good.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: good}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']
YAML
write_manifest broken.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: broken
spec: [this is not: valid
YAML
write_manifest invalid.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: Invalid_Name}
spec:
  containers: []
YAML
start_rkubelet
wait_for 30 "pod good Running" pod_phase_is good Running
wait_for 5 "broken.yaml reported" grep -q "broken.yaml" "$KLOG"
wait_for 5 "invalid.yaml reported" grep -q "invalid.yaml" "$KLOG"
grep "broken.yaml" "$KLOG" | head -n 2 >&2
grep "invalid.yaml" "$KLOG" | head -n 2 >&2
n=$(pods_json | jq '.items | length')
[ "$n" = 1 ] || fail "expected only the good pod, /pods has $n"
kill -0 "$RK_PID" || fail "rkubelet died"
log "PASS: bad manifests reported, the good pod runs"
