#!/usr/bin/env bash
# Checks that the test control plane is a working cluster: versions, the
# controllers' work (namespaces, service accounts, kube-root-ca.crt), TLS
# bootstrap with the bootstrap token (a CSR approved and issued), the Node
# authorizer on the kubelet credentials, the static e2e token, and that a
# killed and restarted instance keeps its data. Needs openssl and curl.
#
#   tests/cluster/smoke.sh        (starts the cluster if needed; leaves it running)
set -euo pipefail

cluster="$(cd "$(dirname "$0")/../.." && pwd)/scripts/test-cluster.sh"
passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi; }

# eventually SECONDS CMD...: retry CMD every 0.5 s for up to SECONDS.
eventually() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.5
    done
}

eval "$("$cluster" up | sed 's/^/export /')"
kubectl() { "$KUBECTL" "$@"; }
as() { local kc=$1; shift; "$KUBECTL" --kubeconfig="$kc" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check "/readyz is ok" test "$(kubectl get --raw /readyz)" = ok
versions=$(kubectl version)
check "client is v1.37.2" grep -qx 'Client Version: v1.37.2' <<<"$versions"
check "server is v1.37.2" grep -qx 'Server Version: v1.37.2' <<<"$versions"
check "namespaces exist" kubectl get ns default kube-system kube-public kube-node-lease
check "kube-root-ca.crt published in default" eventually 60 kubectl -n default get configmap kube-root-ca.crt
check "default service account exists" eventually 60 kubectl -n default get serviceaccount default
check "cluster-info signed by the bootstrap signer" eventually 60 \
    sh -c "\"$KUBECTL\" -n kube-public get configmap cluster-info -o yaml | grep -q jws-kubeconfig-"

# TLS bootstrap: a CSR made with the bootstrap token is approved and signed.
node=smoke-$RANDOM
openssl ecparam -name prime256v1 -genkey -noout -out "$work/node.key" 2>/dev/null
openssl req -new -key "$work/node.key" -subj "/O=system:nodes/CN=system:node:$node" -out "$work/node.csr"
cat >"$work/csr.yaml" <<EOF
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: $node}
spec:
  request: $(base64 -w0 "$work/node.csr")
  signerName: kubernetes.io/kube-apiserver-client-kubelet
  usages: [digital signature, client auth]
EOF
check "bootstrap token may create a CSR" as "$BOOTSTRAP_KUBECONFIG" create -f "$work/csr.yaml"
issued() { [ -n "$(kubectl get csr "$node" -o jsonpath='{.status.certificate}')" ]; }
check "CSR auto-approved and issued" eventually 60 issued
kubectl get csr "$node" -o jsonpath='{.status.certificate}' | base64 -d >"$work/node.crt"
check "issued certificate is for system:node:$node, signed by the cluster CA" \
    sh -c "openssl verify -CAfile \"${KUBECONFIG%/*}/ca.crt\" \"$work/node.crt\" && openssl x509 -in \"$work/node.crt\" -noout -subject | grep -q \"CN *= *system:node:$node\""
kubectl delete csr "$node" >/dev/null

# The Node authorizer: a kubelet reads its own Node, not everyone's secrets.
self=$(basename "$KUBELET_KUBECONFIG" .kubeconfig)
self=${self#kubelet-}
check "kubelet credentials are system:node:$self" \
    sh -c "\"$KUBECTL\" --kubeconfig=\"$KUBELET_KUBECONFIG\" auth whoami | grep -q system:node:$self"
check "kubelet may get nodes (its own)" as "$KUBELET_KUBECONFIG" get nodes --field-selector "metadata.name=$self"
check "kubelet may create its Node" as "$KUBELET_KUBECONFIG" auth can-i create nodes
if as "$KUBELET_KUBECONFIG" get secrets -A >/dev/null 2>&1; then fail "kubelet must not list secrets"; else ok "kubelet may not list secrets"; fi

check "static e2e token is cluster-admin" curl -sfk -H "Authorization: Bearer $E2E_TOKEN" "$API_SERVER/api/v1/secrets"

# Kill the control plane outright and start it again: nothing is lost.
marker=smoke-$RANDOM
kubectl create configmap "$marker" --from-literal=k=v >/dev/null
pid=$(cat "${KUBECONFIG%/*}/rk-cluster.pid")
kill -KILL "$pid"
gone() { ! grep -qs '^State:.*[RSD]' "/proc/$pid/status"; }
eventually 30 gone || fail "killed rk-cluster still alive"
start=$SECONDS
"$cluster" up >/dev/null
echo "restart to ready: $((SECONDS - start)) s"
check "data survives a kill and restart" test "$(kubectl get configmap "$marker" -o jsonpath='{.data.k}')" = v
kubectl delete configmap "$marker" >/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
