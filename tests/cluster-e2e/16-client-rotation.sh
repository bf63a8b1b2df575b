#!/usr/bin/env bash
# rotateCertificates: rkubelet starts on a kubeconfig whose client certificate lives 15 minutes
# (a CSR asking for 600 s, the shortest allowed; the signer backdates notBefore by 5 minutes).
# It renews the certificate at 70-90% of its life with its own credentials (the cluster's
# selfnodeclient approver approves such renewals), swaps kubelet-client-current.pem, and its
# API client presents the new certificate: the node's Lease is still renewed after the first
# certificate expired. Takes about 12 minutes, so it runs only with RK_E2E_SLOW=1.
. "$(dirname "$0")/lib.sh"
[ "${RK_E2E_SLOW:-}" = 1 ] || skip "takes about 12 minutes; set RK_E2E_SLOW=1 to run it"
require_env
command -v openssl >/dev/null || skip "openssl is missing"

test_cleanup() {
  node_csrs 2>/dev/null | while read -r name _; do k delete csr "$name" >/dev/null 2>&1 || true; done
}

# A short-lived client certificate for the node, issued by the cluster CA (an operator's CSR).
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem"
openssl req -new -key "$WORK/key.pem" -subj "/O=system:nodes/CN=system:node:$NODE" -out "$WORK/req.pem"
k apply -f - >/dev/null <<EOF
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: $NODE-initial
spec:
  signerName: kubernetes.io/kube-apiserver-client-kubelet
  expirationSeconds: 600
  usages: ["digital signature", "client auth"]
  request: $(base64 -w0 "$WORK/req.pem")
EOF
k certificate approve "$NODE-initial" >/dev/null
issued() { [ -n "$(k get csr "$NODE-initial" -o jsonpath='{.status.certificate}')" ]; }
wait_for 30 "the initial certificate" issued
k get csr "$NODE-initial" -o jsonpath='{.status.certificate}' | base64 -d >"$WORK/cert.pem"
not_after=$(date -d "$(openssl x509 -in "$WORK/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
ca_data=$(k config view --raw -o json | jq -r '.clusters[0].cluster["certificate-authority-data"]')
cat >"$WORK/kubelet.conf" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "$API_SERVER", certificate-authority-data: "$ca_data"}
users:
- name: node
  user: {client-certificate: "$WORK/cert.pem", client-key: "$WORK/key.pem"}
contexts:
- name: node
  context: {cluster: test, user: node}
current-context: node
EOF

start_rkubelet --kubeconfig="$WORK/kubelet.conf" --rotate-certificates
wait_for 20 "node $NODE Ready" node_ready
current=$CERTDIR/kubelet-client-current.pem
[ -L "$current" ] || fail "the kubeconfig's pair was not copied to $current"
first=$(readlink "$current")
log "initial certificate expires at $(date -d "@$not_after" +%T); waiting for the renewal"
rotated() { [ "$(readlink "$current")" != "$first" ]; }
wait_for $(( not_after - $(date +%s) )) "the client certificate renewed before it expired" rotated
renewal=$(node_csrs | awk '$1 != "'"$NODE-initial"'" {print $1; exit}')
[ -n "$renewal" ] || fail "no renewal CSR"
k get csr "$renewal" -o json | jq -e --arg n "$NODE" '.spec.username == "system:node:\($n)" and ([.status.conditions[].type] | index("Approved"))' >/dev/null \
  || fail "renewal CSR $renewal: $(k get csr "$renewal" -o json | jq -c '{user: .spec.username, status: .status.conditions}')"
[ "$(openssl x509 -in "$current" -noout -serial)" != "$(openssl x509 -in "$WORK/cert.pem" -noout -serial)" ] || fail "same certificate"
log "renewed with CSR $renewal: $(basename "$(readlink "$current")"), valid until $(openssl x509 -in "$current" -noout -enddate | cut -d= -f2)"

# After the first certificate expired, the node still talks to the API server.
sleep $(( not_after - $(date +%s) + 5 ))
renew_time() { k -n kube-node-lease get lease "$NODE" -o jsonpath='{.spec.renewTime}'; }
before=$(renew_time)
lease_renewed() { [ "$(renew_time)" != "$before" ]; }
wait_for 30 "the Lease renewed after the first certificate expired" lease_renewed
node_ready || fail "node not Ready after the first certificate expired"
log "PASS: client certificate renewed by rkubelet ($renewal) and used after the first one expired"
