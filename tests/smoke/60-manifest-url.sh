#!/usr/bin/env bash
# A pod from --manifest-url (with --manifest-url-header) runs; a v1 List at the URL runs all
# its pods.
. "$(dirname "$0")/lib.sh"
require_env
command -v busybox >/dev/null || skip "busybox (for its httpd) is not installed"
www=$WORK/www
mkdir -p "$www"
cat >"$www/pods.yaml" <<'YAML'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: fromurl}
  spec:
    terminationGracePeriodSeconds: 1
    containers:
    - name: main
      image: docker.io/library/busybox:1.35
      imagePullPolicy: IfNotPresent
      command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']
YAML
port=18089
busybox httpd -f -p 127.0.0.1:$port -h "$www" &
httpd_pid=$!
trap 'kill $httpd_pid 2>/dev/null; cleanup' EXIT
start_rkubelet --manifest-url="http://127.0.0.1:$port/pods.yaml" --manifest-url-header=X-Test:smoke --http-check-frequency=2s
wait_for 30 "pod fromurl Running" pod_phase_is fromurl Running
[ "$(pod_field fromurl '.metadata.annotations["kubernetes.io/config.source"]')" = http ] || fail "config.source is not http"
# Emptying the URL's set removes the pod.
printf 'apiVersion: v1\nkind: List\nitems: []\n' >"$www/pods.yaml"
wait_for 20 "pod fromurl removed" runtime_pods_gone fromurl
log "PASS: --manifest-url pod ran and went away with the list"
