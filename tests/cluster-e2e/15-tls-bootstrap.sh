#!/usr/bin/env bash
# TLS bootstrap from the bootstrap token: rkubelet starts with only --bootstrap-kubeconfig and a
# --kubeconfig that does not exist; its client CSR is approved (the control plane's csrapproving
# controller approves node client CSRs, as in a kubeadm cluster) and signed; the node registers
# and is Ready; the certificate files and the kubeconfig are in place; a restart reuses them
# without a new CSR. Then serverTLSBootstrap: the kubelet-serving CSR (approved here with
# kubectl, as an operator would) gives the authenticated port a certificate signed by the
# cluster CA.
. "$(dirname "$0")/lib.sh"
require_env
[ -n "${BOOTSTRAP_KUBECONFIG:-}" ] || skip "BOOTSTRAP_KUBECONFIG not set (scripts/test-cluster.sh env)"
command -v openssl >/dev/null || skip "openssl is missing"

KUBECONFIG_OUT=$WORK/kubelet.conf
CA=$WORK/ca.crt
jq -r '.clusters[0].cluster["certificate-authority-data"]' < <(k config view --raw -o json) | base64 -d >"$CA"

test_cleanup() {
  node_csrs 2>/dev/null | while read -r name _; do k delete csr "$name" >/dev/null 2>&1 || true; done
}
# served_cert: the subject and issuer of the certificate the authenticated port presents.
served_cert() {
  openssl s_client -connect "127.0.0.1:$PORT" -servername "$NODE" </dev/null 2>/dev/null |
    openssl x509 -noout -subject -issuer 2>/dev/null
}
bootstrap_flags=(--bootstrap-kubeconfig="$BOOTSTRAP_KUBECONFIG" --kubeconfig="$KUBECONFIG_OUT")

# 1. Bootstrap.
[ ! -e "$KUBECONFIG_OUT" ] || fail "kubeconfig exists before the test"
start=$(date +%s%N)
start_rkubelet "${bootstrap_flags[@]}"
wait_for 20 "node $NODE Ready" node_ready
log "bootstrapped and Ready $(( ($(date +%s%N) - start) / 1000000 )) ms after start"
csrs=$(node_csrs)
log "CSRs: $csrs"
[ "$(wc -l <<<"$csrs")" = 1 ] || fail "expected one CSR, got: $csrs"
read -r csr_name csr_signer csr_cond <<<"$csrs"
[[ $csr_name == node-csr-* ]] || fail "CSR name $csr_name"
[ "$csr_signer" = kubernetes.io/kube-apiserver-client-kubelet ] || fail "CSR signer $csr_signer"
[[ $csr_cond == *Approved* ]] || fail "CSR conditions $csr_cond"
k get csr "$csr_name" -o jsonpath='{.spec.username}' | grep '^system:bootstrap:' >/dev/null || fail "CSR not made with the bootstrap token"

current=$CERTDIR/kubelet-client-current.pem
[ -L "$current" ] || fail "$current is not a symlink"
target=$(readlink "$current")
[[ $(basename "$target") =~ ^kubelet-client-[0-9]{4}(-[0-9]{2}){5}\.pem$ ]] || fail "symlink target $target"
[ "$(stat -c %a "$target")" = 600 ] || fail "$target mode $(stat -c %a "$target")"
[ ! -e "$CERTDIR/kubelet-client.key.tmp" ] || fail "the pending key was not removed"
openssl x509 -in "$current" -noout -subject | grep -E "O ?= ?system:nodes, CN ?= ?system:node:$NODE$" >/dev/null || fail "client certificate subject"
openssl verify -CAfile "$CA" "$current" >/dev/null || fail "client certificate not signed by the cluster CA"
grep -q "client-certificate: \"$current\"" "$KUBECONFIG_OUT" || fail "kubeconfig does not point at $current"
grep -q "server: \"$API_SERVER\"" "$KUBECONFIG_OUT" || fail "kubeconfig server"
[ -s "$CERTDIR/kubelet.crt" ] && [ -s "$CERTDIR/kubelet.key" ] || fail "no self-signed serving pair"
wait_for 10 "self-signed serving certificate on :$PORT" served_cert
served=$(served_cert)
grep -Eq "subject=CN ?= ?$NODE@" <<<"$served" || fail "serving certificate: $served"
log "client certificate $(basename "$target"), self-signed serving certificate: ${served//$'\n'/; }"

# 2. A restart reuses the certificate: no new CSR, same file.
stop_rkubelet
start_rkubelet "${bootstrap_flags[@]}"
wait_for 20 "node $NODE Ready after restart" node_ready
[ "$(node_csrs | wc -l)" = 1 ] || fail "a restart made a new CSR: $(node_csrs)"
[ "$(readlink "$current")" = "$target" ] || fail "a restart replaced the client certificate"
grep -q "exists and is valid, skipping bootstrap" "$KLOG" || fail "the restart did not skip bootstrap"
log "restart reused $(basename "$target") without a CSR"

# 3. serverTLSBootstrap (+ rotateCertificates): a kubelet-serving CSR, approved by the operator.
stop_rkubelet
start_rkubelet "${bootstrap_flags[@]}" --rotate-server-certificates --rotate-certificates
serving_pending() { node_csrs | grep " kubernetes.io/kubelet-serving Pending" >/dev/null; }
wait_for 20 "a pending kubelet-serving CSR" serving_pending
serving_csr=$(node_csrs | awk '$2 == "kubernetes.io/kubelet-serving" && $3 == "Pending" {print $1; exit}')
k get csr "$serving_csr" -o json | jq -e --arg n "$NODE" '.spec.usages == ["digital signature", "server auth"] and .spec.username == "system:node:\($n)"' >/dev/null \
  || fail "serving CSR $serving_csr: $(k get csr "$serving_csr" -o json | jq -c .spec.usages)"
k certificate approve "$serving_csr" >/dev/null
server_current=$CERTDIR/kubelet-server-current.pem
wait_for 20 "$server_current" test -s "$server_current"
openssl x509 -in "$server_current" -noout -ext subjectAltName | grep "DNS:$NODE" >/dev/null || fail "serving certificate SANs: $(openssl x509 -in "$server_current" -noout -ext subjectAltName)"
ca_signed() { served_cert | grep -E "issuer=CN ?= ?kubernetes" >/dev/null; }
wait_for 10 "the CA-signed serving certificate on :$PORT" ca_signed
served=$(served_cert)
grep -Eq "subject=O ?= ?system:nodes, CN ?= ?system:node:$NODE" <<<"$served" || fail "served: $served"
openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CA" -verify_return_error </dev/null 2>/dev/null | grep "Verify return code: 0 (ok)" >/dev/null \
  || fail "the served certificate does not verify against the cluster CA"
node_ready || fail "node not Ready with rotation on"
log "PASS: bootstrap ($csr_name), restart without CSR, serving CSR $serving_csr approved and served: ${served//$'\n'/; }"
