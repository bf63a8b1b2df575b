#!/usr/bin/env bash
# The kubelet API port's authentication and authorization against the real control plane:
# x509 client certificates against --client-ca-file, bearer tokens and authorization through
# the API server's TokenReview and SubjectAccessReview webhooks, anonymous access off.
#   no credentials                     -> 401
#   a certificate from another CA      -> 401
#   a bad bearer token                 -> 401
#   a valid user without RBAC rights   -> 403 (certificate and token alike)
#   cluster admin (system:masters)     -> 200
. "$(dirname "$0")/lib.sh"
require_env
command -v openssl >/dev/null || skip "openssl is missing"
CA_KEY=$RK_CLUSTER_DIR/pki/ca.key
[ -r "$CA_KEY" ] || skip "the test cluster's CA key is not at $CA_KEY"
start_rkubelet --kubeconfig="$(node_kubeconfig)" --client-ca-file="$RK_CLUSTER_DIR/ca.crt" \
  --anonymous-auth=false --authentication-token-webhook=true --authorization-mode=Webhook
wait_for 10 "node Ready" node_ready
URL=https://127.0.0.1:$PORT
wait_for 20 "kubelet API listening" sh -c "curl -sk -o /dev/null '$URL/healthz'"

# client_cert NAME CA_CRT CA_KEY [O]: a client certificate for user NAME signed by that CA.
client_cert() {
  local name=$1 ca=$2 key=$3 org=${4:-}
  local subj="/CN=$name"; [ -z "$org" ] || subj="/O=$org/CN=$name"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
    -keyout "$WORK/$name.key" -out "$WORK/$name.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$WORK/$name.ext"
  openssl x509 -req -in "$WORK/$name.csr" -CA "$ca" -CAkey "$key" -CAcreateserial -days 1 \
    -extfile "$WORK/$name.ext" -out "$WORK/$name.crt" 2>/dev/null
}
# status ARGS...: the HTTP status of GET $URL/pods with curl's extra ARGS (000: no response).
status() { curl -sk -o "$WORK/body" -w '%{http_code}' --max-time 10 "$@" "$URL/pods" || true; }
expect() { # WANT WHAT ARGS...
  local want=$1 what=$2; shift 2
  local got; got=$(status "$@")
  [ "$got" = "$want" ] || fail "$what: HTTP $got, want $want ($(head -c 200 "$WORK/body" 2>/dev/null))"
  log "$what: $got"
}

# Another CA, and certificates from it and from the cluster CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=rk-e2e-other-ca" \
  -keyout "$WORK/other-ca.key" -out "$WORK/other-ca.crt" 2>/dev/null
client_cert rk-e2e-stranger "$WORK/other-ca.crt" "$WORK/other-ca.key" system:masters
client_cert rk-e2e-nobody "$RK_CLUSTER_DIR/ca.crt" "$CA_KEY"
client_cert rk-e2e-admin "$RK_CLUSTER_DIR/ca.crt" "$CA_KEY" system:masters

expect 401 "anonymous request"
expect 401 "certificate from another CA" --cert "$WORK/rk-e2e-stranger.crt" --key "$WORK/rk-e2e-stranger.key"
expect 401 "unknown bearer token" -H "Authorization: Bearer not-a-token-$RANDOM"
grep -q Unauthorized "$WORK/body" || fail "401 body is '$(cat "$WORK/body")', want Unauthorized"
expect 403 "cluster-CA certificate without RBAC rights" --cert "$WORK/rk-e2e-nobody.crt" --key "$WORK/rk-e2e-nobody.key"
# /pods is nodes/pods with a fall-back to nodes/proxy (fine-grained kubelet authorization).
grep -q 'Forbidden (user=rk-e2e-nobody, verb=get, resource=nodes, subresource(s)=\[pods proxy\])' "$WORK/body" \
  || fail "403 body is '$(cat "$WORK/body")'"
# A service account token: authenticated by TokenReview, with no rights on nodes.
k -n "$NS" create serviceaccount nobody >/dev/null 2>&1 || true
token=$(k -n "$NS" create token nobody) || fail "kubectl create token failed"
expect 403 "service account token without RBAC rights" -H "Authorization: Bearer $token"
expect 200 "cluster admin certificate" --cert "$WORK/rk-e2e-admin.crt" --key "$WORK/rk-e2e-admin.key"
jq -e '.kind == "PodList"' "$WORK/body" >/dev/null || fail "/pods as admin is not a PodList: $(head -c 200 "$WORK/body")"
# The API server's own client certificate (system:masters) still reaches the node's API.
k get --raw "/api/v1/nodes/$NODE/proxy/pods" | jq -e '.kind == "PodList"' >/dev/null \
  || fail "the API server's node proxy is refused with webhook authorization"
# Streaming, authorised by SubjectAccessReview (nodes/proxy) for the API server's user.
sleeper_pod authz
[ "$(k -n "$NS" exec authz -- echo through-webhook-authz)" = through-webhook-authz ] \
  || fail "kubectl exec with webhook authorization failed"
log "exec through webhook authorization"
log "PASS: 401 for no, foreign and invalid credentials, 403 without RBAC rights, 200 for admin"
