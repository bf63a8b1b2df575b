# Shared helpers for the shell smoke tests. Source it; every test is a bash script that exits
# 0 (pass), 77 (skipped, with a SKIPPED line saying why) or anything else (fail).
set -euo pipefail

SMOKE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SMOKE_DIR/../.." && pwd)
# A private containerd when this checkout asks for one (.rk-test-local, RK_TEST_CONTAINERD).
# shellcheck source=../lib/private-containerd.sh
. "$REPO/tests/lib/private-containerd.sh"
private_containerd "$REPO"
RKUBELET=${RKUBELET:-$REPO/target/release/rkubelet}
TEST_NAME=$(basename "$0" .sh)
WORK=${RK_SMOKE_WORK:-/tmp/rk-smoke}/$TEST_NAME
NODE=${RK_SMOKE_NODE:-smoke-$(echo "$TEST_NAME" | tr -cd 'a-z0-9-' | cut -c1-40)}
MANIFESTS=$WORK/manifests
ROOTDIR=$WORK/root
KLOG=$WORK/rkubelet.log
RO_PORT=${RK_SMOKE_RO_PORT:-10255}
HEALTHZ_PORT=${RK_SMOKE_HEALTHZ_PORT:-10248}
PORT=${RK_SMOKE_PORT:-10250}
RK_PID=

log() { printf '[%s %s] %s\n' "$(date +%T)" "$TEST_NAME" "$*" >&2; }
fail() { log "FAIL: $*"; [ -f "$KLOG" ] && { echo "--- last rkubelet log lines:" >&2; tail -n 40 "$KLOG" >&2; }; exit 1; }
skip() { echo "SKIPPED: $*" >&2; exit 77; }

require_env() {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  [ -n "${CONTAINER_RUNTIME_ENDPOINT:-}" ] || skip "CONTAINER_RUNTIME_ENDPOINT not set (run scripts/containerd.sh up)"
  [ -x "$RKUBELET" ] || fail "no rkubelet binary at $RKUBELET"
  command -v jq >/dev/null || fail "jq is missing (scripts/test.sh installs it)"
}

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

# Image GC is off (--image-gc-high-threshold=100): the test images are imported once, and a disk
# that looks full (statfs counts reserved blocks as unavailable on some machines) would have
# rkubelet remove them between tests, as upstream's kubelet would.
start_rkubelet() { # extra flags...
  mkdir -p "$MANIFESTS" "$ROOTDIR"
  "$RKUBELET" \
    --container-runtime-endpoint="$CONTAINER_RUNTIME_ENDPOINT" \
    --pod-manifest-path="$MANIFESTS" \
    --root-dir="$ROOTDIR" \
    --hostname-override="$NODE" \
    --read-only-port="$RO_PORT" \
    --healthz-port="$HEALTHZ_PORT" \
    --port="$PORT" --cert-dir="$WORK/pki" \
    --file-check-frequency=2s \
    --fail-cgroupv1=false --fail-swap-on=false \
    --image-gc-high-threshold=100 \
    --v=2 "$@" >>"$KLOG" 2>&1 &
  RK_PID=$!
  wait_for 20 "rkubelet healthz" curl -sf "http://127.0.0.1:$HEALTHZ_PORT/healthz"
  log "rkubelet running (pid $RK_PID)"
}

stop_rkubelet() { # [signal]
  [ -n "$RK_PID" ] || return 0
  kill -"${1:-TERM}" "$RK_PID" 2>/dev/null || true
  wait "$RK_PID" 2>/dev/null || true
  RK_PID=
}

# The pods the node runs, as the read-only port's /pods serves them (a v1 PodList).
pods_json() { curl -sf "http://127.0.0.1:$RO_PORT/pods"; }
# pod_field NAME JQ: a field of the pod called NAME (its full static-pod name, NAME-NODE).
pod_field() { pods_json | jq -er --arg n "$1-$NODE" ".items[] | select(.metadata.name == \$n) | $2"; }
pod_phase_is() { [ "$(pod_field "$1" .status.phase)" = "$2" ]; }
container_state_is() { # POD CONTAINER STATE(running|waiting|terminated)
  pod_field "$1" ".status.containerStatuses[] | select(.name == \"$2\") | .state | has(\"$3\")" | grep -qx true
}
restart_count() { pod_field "$1" ".status.containerStatuses[] | select(.name == \"$2\") | .restartCount"; }

# Runtime-side checks through our own CRI client.
cri() { "$RKUBELET" cri --container-runtime-endpoint="$CONTAINER_RUNTIME_ENDPOINT" "$@"; }
# Sandboxes (any state) of pods of this test's node name.
runtime_pods_of() { cri pods -o json | jq -e --arg n "$1-$NODE" '[.items[] | select(.metadata.name == $n)] | length > 0'; }
runtime_pods_gone() { cri pods -o json | jq -e --arg n "$1-$NODE" '[.items[] | select(.metadata.name == $n)] | length == 0'; }

write_manifest() { # FILE (reads YAML from stdin)
  mkdir -p "$MANIFESTS"
  cat >"$MANIFESTS/.tmp-$1" && mv "$MANIFESTS/.tmp-$1" "$MANIFESTS/$1"
}

cleanup() {
  local rc=$?
  # Best effort from here on: a skipped test may lack the environment cleanup uses.
  set +eu
  rm -rf "$MANIFESTS"/* 2>/dev/null || true
  if [ -n "$RK_PID" ]; then
    # Let rkubelet remove its pods, then stop it.
    for _ in $(seq 1 40); do
      [ "$(cri pods -o json 2>/dev/null | jq --arg s "-$NODE" '[.items[] | select(.metadata.name | endswith($s))] | length' 2>/dev/null || echo 0)" = 0 ] && break
      sleep 0.5
    done
    stop_rkubelet
  fi
  # rkubelet bind-mounts its root directory onto itself (a shared mount): undo it.
  for m in $(mounts_below "$WORK"); do umount -l "$m" 2>/dev/null || true; done
  exit $rc
}
trap cleanup EXIT

mounts_below() { awk -v d="$1/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r; }
for m in $(mounts_below "$WORK"); do umount -l "$m" 2>/dev/null || true; done
rm -rf "$WORK"; mkdir -p "$WORK"
