#!/usr/bin/env bash
# Issue 6: a plain pod (with the kube-api-access projected volume the ServiceAccount
# admission plugin adds) reaches Running; its token passes a TokenReview as the pod's
# service account bound to the pod, and ca.crt and namespace are right.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
YAML
wait_for 40 "pod plain Running" pod_phase_is plain Running
p=$(pod_json plain)
vol=$(jq -r '.spec.volumes[] | select(.name | startswith("kube-api-access-")) | .name' <<<"$p")
[ -n "$vol" ] || fail "no kube-api-access volume: is the ServiceAccount admission plugin on?"
jq -e '.spec.automountServiceAccountToken != false' <<<"$p" >/dev/null || fail "automount turned off"

dir=/var/run/secrets/kubernetes.io/serviceaccount
token=$(cexec plain c cat $dir/token) || fail "no token file in the container"
review=$(k create -o json -f - <<YAML
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec: {token: "$token"}
YAML
)
jq -e '.status.authenticated == true' <<<"$review" >/dev/null || { echo "$review" >&2; fail "TokenReview did not authenticate the token"; }
jq -e --arg u "system:serviceaccount:$NS:default" '.status.user.username == $u' <<<"$review" >/dev/null || fail "token user"
jq -e '.status.user.extra["authentication.kubernetes.io/pod-name"] == ["plain"]' <<<"$review" >/dev/null || fail "token not bound to the pod"
log "token accepted by TokenReview, bound to pod plain"

[ "$(cexec plain c cat $dir/namespace)" = "$NS" ] || fail "namespace file"
want_ca=$(k -n "$NS" get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}')
[ "$(cexec plain c cat $dir/ca.crt)" = "$want_ca" ] || fail "ca.crt differs from kube-root-ca.crt"
grep -q '^tmpfs .* ro,' <<<"$(cexec plain c grep " $dir " /proc/mounts)" || fail "the projected volume is not a read-only tmpfs"
# Visible names are links through ..data.
grep -qx '..data' <<<"$(cexec plain c ls -a $dir)" || fail "no ..data link"
[ "$(cexec plain c readlink $dir/token)" = "..data/token" ] || fail "token is not a link through ..data"
# The token lives in memory only: no copy on disk outside the tmpfs.
uid=$(pod_uid plain)
grep -q " $ROOTDIR/pods/$uid/volumes/kubernetes.io~projected/$vol .* - tmpfs " /proc/self/mountinfo || fail "no tmpfs on the host"
log "PASS: plain pod Running with a working service-account token, ca.crt and namespace"
