# Shared helpers for the cluster tests: rkubelet in API-server mode against the real test
# control plane (scripts/test-cluster.sh) and the real containerd. Source it. A test exits 0
# (pass), 77 (skipped, with a SKIPPED line) or anything else (fail).
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
# A private containerd when this checkout asks for one (.rk-test-local, RK_TEST_CONTAINERD).
# shellcheck source=../lib/private-containerd.sh
. "$REPO/tests/lib/private-containerd.sh"
private_containerd "$REPO"
RKUBELET=${RKUBELET:-$REPO/target/release/rkubelet}
TEST_NAME=$(basename "$0" .sh)
WORK=${RK_E2E_WORK:-/tmp/rk-e2e}/$TEST_NAME
NODE=${RK_E2E_NODE:-e2e-$(echo "$TEST_NAME" | tr -cd 'a-z0-9-' | cut -c1-40)}
NS=$NODE
MANIFESTS=$WORK/manifests
ROOTDIR=$WORK/root
CERTDIR=$WORK/pki
KLOG=$WORK/rkubelet.log
RO_PORT=${RK_E2E_RO_PORT:-10255}
HEALTHZ_PORT=${RK_E2E_HEALTHZ_PORT:-10248}
PORT=${RK_E2E_PORT:-10250}
RK_PID=

log() { printf '[%s %s] %s\n' "$(date +%T)" "$TEST_NAME" "$*" >&2; }
fail() {
  log "FAIL: $*"
  if [ -f "$KLOG" ]; then echo "--- last rkubelet log lines:" >&2; tail -n 40 "$KLOG" >&2; fi
  exit 1
}
skip() { echo "SKIPPED: $*" >&2; exit 77; }

k() { "$KUBECTL" "$@"; }

require_env() {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  [ -n "${CONTAINER_RUNTIME_ENDPOINT:-}" ] || skip "CONTAINER_RUNTIME_ENDPOINT not set (scripts/containerd.sh up)"
  [ -n "${KUBECONFIG:-}" ] && [ -n "${KUBECTL:-}" ] && [ -n "${RK_CLUSTER_BIN:-}" ] \
    || skip "no test control plane in the environment (scripts/test-cluster.sh up)"
  [ -x "$RKUBELET" ] || fail "no rkubelet binary at $RKUBELET"
  command -v jq >/dev/null || fail "jq is missing"
  # An earlier run's namespace may still be terminating: creating in it would fail.
  wait_for 90 "namespace $NS of an earlier run gone" ns_not_terminating
  k create namespace "$NS" >/dev/null 2>&1 || true
  # The namespace's default ServiceAccount comes from the controller-manager.
  wait_for 30 "ServiceAccount default in $NS" k -n "$NS" get serviceaccount default
}

ns_not_terminating() { [ "$(k get namespace "$NS" -o jsonpath='{.status.phase}' 2>/dev/null)" != Terminating ]; }

# Mount points under DIR, deepest first (from the host's mount table).
mounts_below() { awk -v d="$1/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.5 s until COMMAND succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$(( $(date +%s%N) + secs * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$deadline" ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  fail "timed out after ${secs}s waiting for: $what"
}

node_kubeconfig() { "$RK_CLUSTER_BIN" kubelet-kubeconfig --dir "$RK_CLUSTER_DIR" --node-name "$NODE"; }

# Image GC is off (--image-gc-high-threshold=100): the test images are imported once, and a disk
# that looks full (statfs counts reserved blocks as unavailable on some machines) would have
# rkubelet remove them between tests, as upstream's kubelet would.
start_rkubelet() { # extra flags...
  mkdir -p "$MANIFESTS" "$ROOTDIR" "$CERTDIR"
  "$RKUBELET" \
    --container-runtime-endpoint="$CONTAINER_RUNTIME_ENDPOINT" \
    --pod-manifest-path="$MANIFESTS" \
    --root-dir="$ROOTDIR" \
    --cert-dir="$CERTDIR" \
    --hostname-override="$NODE" \
    --read-only-port="$RO_PORT" \
    --healthz-port="$HEALTHZ_PORT" \
    --port="$PORT" \
    --file-check-frequency=2s \
    --fail-cgroupv1=false --fail-swap-on=false \
    --image-gc-high-threshold=100 \
    --v=2 "$@" >>"$KLOG" 2>&1 &
  RK_PID=$!
  wait_for 30 "rkubelet healthz" curl -sf "http://127.0.0.1:$HEALTHZ_PORT/healthz"
  log "rkubelet running (pid $RK_PID) as node $NODE"
}

stop_rkubelet() { # [signal]
  [ -n "$RK_PID" ] || return 0
  kill -"${1:-TERM}" "$RK_PID" 2>/dev/null || true
  wait "$RK_PID" 2>/dev/null || true
  RK_PID=
}

node_ready() { [ "$(k get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
pod_phase_is() { [ "$(k -n "$NS" get pod "$1" -o jsonpath='{.status.phase}')" = "$2" ]; }
pod_json() { k -n "$NS" get pod "$1" -o json; }
pod_gone() { ! k -n "$NS" get pod "$1" >/dev/null 2>&1; }
cri() { "$RKUBELET" cri --container-runtime-endpoint="$CONTAINER_RUNTIME_ENDPOINT" "$@"; }
runtime_has_pod() { cri pods -o json | jq -e --arg n "$1" --arg ns "$2" '[.items[] | select(.metadata.name == $n and .metadata.namespace == $ns)] | length > 0'; }
runtime_pod_gone() { ! runtime_has_pod "$@"; }

apply() { k -n "$NS" apply -f - >/dev/null; }

sleeper_pod() { # NAME: a busybox pod (container c) on this node that idles until stopped; waits for Running.
  apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
YAML
  wait_for 30 "pod $1 Running" pod_phase_is "$1" Running
}

# node_csrs: "name signer conditions" of the CSRs whose request is for this node.
node_csrs() {
  k get csr -o json | jq -r '.items[] | [.metadata.name, .spec.signerName, .spec.request,
      ([.status.conditions[]?.type] | join(",") | if . == "" then "Pending" else . end)] | @tsv' |
    while IFS=$'\t' read -r name signer req cond; do
      subject=$(base64 -d <<<"$req" | openssl req -noout -subject 2>/dev/null || true)
      case $subject in
        *"CN = system:node:$NODE" | *"CN=system:node:$NODE") echo "$name $signer $cond" ;;
      esac
    done
}

cleanup() {
  local rc=$?
  # Best effort from here on: a skipped test may lack the environment cleanup uses.
  set +eu
  # A test that disturbs shared infrastructure (the control plane) restores it here.
  if declare -F test_cleanup >/dev/null; then test_cleanup; fi
  rm -rf "$MANIFESTS"/* 2>/dev/null || true
  case $NS in default|kube-*) ;; *) k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true ;; esac
  if [ -n "$RK_PID" ]; then
    for _ in $(seq 1 40); do
      [ "$(cri pods -o json 2>/dev/null | jq --arg ns "$NS" --arg s "-$NODE" '[.items[] | select(.metadata.namespace == $ns or (.metadata.name | endswith($s)))] | length' 2>/dev/null || echo 0)" = 0 ] && break
      sleep 0.5
    done
    # Volumes are torn down after the containers are gone: give rkubelet time for that.
    for _ in $(seq 1 40); do [ -z "$(mounts_below "$ROOTDIR/pods")" ] && break; sleep 0.5; done
    stop_rkubelet
  fi
  # rkubelet bind-mounts its root directory onto itself (a shared mount): undo it.
  for m in $(mounts_below "$WORK"); do umount -l "$m" 2>/dev/null || true; done
  k delete node "$NODE" --wait=false >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT

# A failed earlier run may have left volume mounts behind (rkubelet stopped before its
# teardown): unmount them, or the directory cannot be removed.
for m in $(mounts_below "$WORK"); do umount -l "$m" 2>/dev/null || true; done
rm -rf "$WORK"; mkdir -p "$WORK"
