#!/usr/bin/env bash
# kubectl exec (a command; -i with stdin), attach and port-forward: from kubectl through the
# API server to rkubelet's :10250, proxied to containerd's streaming server, and back.
. "$(dirname "$0")/lib.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)" --client-ca-file="$RK_CLUSTER_DIR/ca.crt"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: stream}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: docker.io/library/busybox:1.35
    command: [sh, -c, 'mkdir -p /w; echo hello-through-port-forward >/w/index.html; trap "exit 0" TERM; httpd -f -p 8080 -h /w & wait']
  - name: ticker
    image: docker.io/library/busybox:1.35
    command: [sh, -c, 'trap "exit 0" TERM; i=0; while true; do i=\$((i+1)); echo tick \$i; sleep 0.3; done']
YAML
wait_for 30 "pod stream Running" pod_phase_is stream Running

# exec of a command: its output, then its stderr and exit code.
out=$(k -n "$NS" exec stream -c web -- echo hi) || fail "kubectl exec failed"
[ "$out" = hi ] || fail "kubectl exec printed '$out', want 'hi'"
rc=0
k -n "$NS" exec stream -c web -- sh -c 'echo oops >&2; exit 3' 2>"$WORK/exec.err" || rc=$?
[ "$rc" = 3 ] || fail "kubectl exec exited $rc, want the command's 3"
grep -q oops "$WORK/exec.err" || fail "stderr of exec lost: $(cat "$WORK/exec.err")"
log "exec: output, stderr and exit code"

# exec -i: stdin reaches the command, and its end ends the command.
out=$(printf 'one\ntwo\nthree\n' | timeout 30 "$KUBECTL" -n "$NS" exec -i stream -c web -- sh -c 'wc -l; echo done') \
  || fail "kubectl exec -i failed or hung"
[ "$(printf '%s' "$out" | tr '\n' ' ')" = "3 done" ] || fail "kubectl exec -i printed '$out', want '3 done'"
log "exec -i: stdin and its EOF"

# exec over WebSocket with the subprotocols older clients (and the conformance spec) use: the
# API server passes these through to us unchanged, and we to containerd's streaming server.
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
k config view --raw --minify -o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d >"$WORK/admin.crt"
k config view --raw --minify -o jsonpath='{.users[0].user.client-key-data}' | base64 -d >"$WORK/admin.key"
ws_exec() { # PROTOCOL COMMAND...: the command's stdout; its stderr and protocol lines in ws.err
  local proto=$1 query="container=web&stdout=1&stderr=1" arg; shift
  for arg in "$@"; do query="$query&command=$(jq -rn --arg a "$arg" '$a|@uri')"; done
  RK_CERT=$WORK/admin.crt RK_KEY=$WORK/admin.key E2E_TOKEN='' timeout 30 python3 "$(dirname "$0")/ws-exec.py" \
    "$server/api/v1/namespaces/$NS/pods/stream/exec?$query" "$proto" 2>"$WORK/ws.err"
}
for proto in channel.k8s.io base64.channel.k8s.io; do
  out=$(ws_exec "$proto" echo "remote execution test") || fail "WebSocket exec ($proto): $(cat "$WORK/ws.err")"
  [ "$out" = "remote execution test" ] || fail "WebSocket exec ($proto) printed '$out': $(cat "$WORK/ws.err")"
  grep -qx "protocol=$proto" "$WORK/ws.err" || fail "WebSocket exec negotiated $(cat "$WORK/ws.err"), want $proto"
done
ws_exec v4.channel.k8s.io sh -c 'echo oops >&2; exit 3' >/dev/null || fail "WebSocket exec (v4): $(cat "$WORK/ws.err")"
grep -q oops "$WORK/ws.err" && grep -q '^status=.*"ExitCode".*"3"' "$WORK/ws.err" \
  || fail "WebSocket exec (v4) lost stderr or the exit code: $(cat "$WORK/ws.err")"
log "exec over WebSocket: channel.k8s.io, base64.channel.k8s.io, v4.channel.k8s.io (exit code on channel 3)"

# attach: the running process's output (until we stop listening).
timeout 5 "$KUBECTL" -n "$NS" attach stream -c ticker >"$WORK/attach.out" 2>"$WORK/attach.err" || true
grep -q '^tick [0-9]' "$WORK/attach.out" || fail "attach saw no output: $(cat "$WORK/attach.out" "$WORK/attach.err")"
log "attach: $(grep -c '^tick' "$WORK/attach.out") lines"

# port-forward to the pod's httpd, on a local port kubectl picks.
"$KUBECTL" -n "$NS" port-forward pod/stream :8080 >"$WORK/pf.out" 2>"$WORK/pf.err" &
pf=$!
stop_port_forward() { local rc=$?; kill "$pf" 2>/dev/null || true; (exit "$rc"); cleanup; }
trap stop_port_forward EXIT
wait_for 20 "port-forward listening" grep -q 'Forwarding from 127.0.0.1:' "$WORK/pf.out"
local_port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$WORK/pf.out" | head -n 1)
for i in 1 2; do
  body=$(curl -sf --max-time 10 "http://127.0.0.1:$local_port/index.html") \
    || fail "request $i through port-forward failed: $(cat "$WORK/pf.err")"
  [ "$body" = hello-through-port-forward ] || fail "port-forward request $i got '$body'"
done
kill $pf 2>/dev/null || true
log "PASS: exec, exec -i, attach and port-forward through rkubelet"
