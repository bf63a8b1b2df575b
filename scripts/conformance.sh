#!/usr/bin/env bash
# The upstream node e2e suite's [NodeConformance] specs (not Serial, Flaky, Disruptive or Slow)
# against rkubelet: containerd, the suite's images (scripts/e2e-images.sh), a private test
# control plane, e2e_node.test (scripts/e2e-node-build.sh), rkubelet registered as the only
# node, then ginkgo with --start-services=false. Writes a pass/fail table.
#
#   scripts/conformance.sh [--focus REGEX] [--list FILE] [--out FILE]
#   scripts/conformance.sh --check FILE      run the specs in FILE; fail when one did not pass
#
#   --focus REGEX  only the selected specs whose name matches REGEX (Go regexp)
#   --list FILE    only the specs named in FILE (one full spec name a line, # comments)
#   --out FILE     the table (default tests/conformance/results.md; $WORK/results.md for --check)
#   --update       write this run's table to $WORK and put its rows into the --out table (a
#                  re-run of some specs after a fix; the table says which rows are from which run)
#   --dry-run      only print how many specs the selection has
#
# Why a private control plane: the suite insists on exactly one Node in the cluster, and the
# shared one (/var/lib/rk-cluster) holds every helper's test nodes. It is the same rk-cluster
# binary in RK_CONFORMANCE_CLUSTER_DIR (default /var/lib/rk-cluster-conform), on ports
# RK_E2E_PORT+10 (apiserver) and +12/+13 (etcd); it is left running for the next run.
#
# Environment: RKUBELET (default target/release/rkubelet, else target/debug/rkubelet),
# RK_E2E_PORT (default 11550; read-only port +5, healthz +8; the kubelet port too when
# RK_CONFORMANCE_KUBELET_PORT is not given and 10250 is taken), RK_E2E_WORK
# (default /tmp/rk-e2e-conform), RK_CONFORMANCE_NODE (default rk-conform),
# RK_CONFORMANCE_PROCS (ginkgo processes, default 2), RK_CONFORMANCE_TIMEOUT (default 4h),
# RK_TEST_CONTAINERD (a private containerd, see tests/lib/private-containerd.sh).
# Exit: 0 all selected specs passed (--check: all listed specs passed), 1 otherwise,
# 77 (with a SKIPPED line) when the suite or its environment cannot be had.
set -euo pipefail
# The whole script is one compound command, so bash has read all of it before the long run:
# editing this file meanwhile cannot change what a running instance does.
{
RK_SCRIPT=conformance.sh
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$SCRIPTS_DIR")
. "$SCRIPTS_DIR/lib/common.sh"

# The selection by label (ginkgo ANDs it with --focus), and the same by name for safety.
LABELS='NodeConformance && !Serial && !Flaky && !Disruptive && !Slow'
SKIP='\[Serial\]|\[Flaky\]|\[Disruptive\]|\[Slow\]'

focus= list= check= out= dry=0 update=0
while [ $# -gt 0 ]; do
    case $1 in
        --focus) focus=$2; shift 2 ;;
        --list) list=$2; shift 2 ;;
        --check) check=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --dry-run) dry=1; shift ;;
        --update) update=1; shift ;;
        *) rk_die "unknown argument: $1 (see the header of $0)" ;;
    esac
done
[ -z "$check" ] || list=$check
if [ -n "$list" ]; then
    [ -f "$list" ] || rk_die "no such list: $list"
    list=$(cd "$(dirname "$list")" && pwd)/$(basename "$list")
fi

PORT=${RK_E2E_PORT:-11550}
WORK=${RK_E2E_WORK:-/tmp/rk-e2e-conform}/conformance
NODE=${RK_CONFORMANCE_NODE:-rk-conform}
PROCS=${RK_CONFORMANCE_PROCS:-2}
if [ -z "${RKUBELET:-}" ]; then
    RKUBELET=$REPO/target/release/rkubelet
    [ -x "$RKUBELET" ] || RKUBELET=$REPO/target/debug/rkubelet
fi
[ -n "$out" ] || { [ -n "$check" ] && out=$WORK/results.md || out=$REPO/tests/conformance/results.md; }
skip() { echo "SKIPPED: $*" >&2; exit 77; }

# --- the suite ------------------------------------------------------------------------------
build_out=$("$SCRIPTS_DIR/e2e-node-build.sh") || skip "e2e_node.test cannot be built (scripts/e2e-node-build.sh)"
E2E=$(sed -n 's/^E2E_NODE_TEST=//p' <<<"$build_out")
GINKGO=$(sed -n 's/^GINKGO=//p' <<<"$build_out")

focus_args=()
[ -z "$focus" ] || focus_args=(--focus="$focus")
# Several --focus flags would be ORed by ginkgo: the list takes the place of --focus.
[ -z "$list" ] || focus_args=(--focus="$(python3 "$SCRIPTS_DIR/conformance-report.py" regex "$list")")
filter_args=(${focus_args[@]+"${focus_args[@]}"} --skip="$SKIP" --label-filter="$LABELS")

seldir=$(mktemp -d)
selected=$("$GINKGO" --dry-run --no-color "${filter_args[@]}" --output-dir="$seldir" --json-report=selected.json "$E2E" 2>&1 | sed -n 's/^Ran \([0-9]*\) of \([0-9]*\) Specs.*/\1 of \2/p' | tail -n 1)
rk_log "selection: ${selected:-?} specs (labels $LABELS; skip $SKIP${focus:+; focus $focus}${list:+; list $list})"
[ "$dry" = 0 ] || { rm -rf "$seldir"; exit 0; }
[ "${selected%% *}" != 0 ] || rk_die "the selection is empty"
# A killed run leaves its volumes (tmpfs) mounted under the root dir, and the root dir's bind
# mount onto itself; a mount hidden under that bind is reachable only once it is gone: passes.
for _ in 1 2 3 4; do
    awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
done
rm -rf "$WORK"; mkdir -p "$WORK/report"
mv "$seldir/selected.json" "$WORK/selected.json"; rm -rf "$seldir"

# --- environment ----------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$RKUBELET" ] || rk_die "no rkubelet binary at $RKUBELET (cargo build, or set RKUBELET)"
command -v python3 >/dev/null || skip "python3 is missing (it reads the ginkgo report)"
# RK_TEST_CONTAINERD=NAME (or .rk-test-local): a containerd of our own, since rkubelet removes
# every pod it does not know from its runtime. containerd.sh honours RK_CONTAINERD_DIR.
. "$REPO/tests/lib/private-containerd.sh"
private_containerd "$REPO"
CONTAINER_RUNTIME_ENDPOINT=$("$SCRIPTS_DIR/containerd.sh" up | sed -n 's/^CONTAINER_RUNTIME_ENDPOINT=//p')
export CONTAINER_RUNTIME_ENDPOINT
"$SCRIPTS_DIR/e2e-images.sh" import 2>"$WORK/images.log" || { cat "$WORK/images.log" >&2; rk_die "building or importing the e2e images failed"; }

export RK_CLUSTER_DIR=${RK_CONFORMANCE_CLUSTER_DIR:-/var/lib/rk-cluster-conform}
export RK_NODE_NAME=$NODE
export RK_CLUSTER_ARGS="--secure-port $((PORT + 10)) --etcd-port $((PORT + 12))"
cluster_env=$("$SCRIPTS_DIR/test-cluster.sh" up) || skip "the private test control plane did not come up"
eval "$(sed 's/^/export /' <<<"$cluster_env")"
[ -n "${E2E_TOKEN:-}" ] || rk_die "the control plane printed no E2E_TOKEN"

k() { "$KUBECTL" --kubeconfig="$KUBECONFIG" "$@"; }
# The suite wants exactly one Node: ours. Leftovers of earlier runs go first.
for n in $(k get nodes -o name 2>/dev/null); do k delete "$n" --timeout=30s >/dev/null; done
# An interrupted run leaves its namespaces and pods behind (this control plane is ours alone).
for ns in $(k get namespaces -o jsonpath='{.items[*].metadata.name}' 2>/dev/null); do
    case $ns in default | kube-*) ;; *) k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true ;; esac
done
k delete pods --all --all-namespaces --force --grace-period=0 >/dev/null 2>&1 || true
# In node e2e mode the suite does not wait for a new namespace's default service account, so
# on a control plane that has just started the first specs fail ("serviceaccount default not
# found"): wait until the controller manager makes one for a namespace of ours.
probe=rk-conformance-ready-$$
k create namespace "$probe" >/dev/null || rk_die "cannot create namespace $probe"
for i in $(seq 1 120); do
    k -n "$probe" get serviceaccount default >/dev/null 2>&1 && break
    [ "$i" -lt 120 ] || rk_die "no default service account in a new namespace after 120 s (controller manager?)"
    sleep 1
done
k delete namespace "$probe" --wait=false >/dev/null 2>&1 || true

# --- rkubelet -------------------------------------------------------------------------------
# Some specs reach the kubelet through the API server at the fixed port 10250 (the suite's
# framework.KubeletPort): use it when free, else our block's port and say what that costs.
# The same for healthz (10248: device-plugin specs poll it) and the read-only port (10255).
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
KPORT=${RK_CONFORMANCE_KUBELET_PORT:-auto} HPORT=$((PORT + 8)) ROPORT=$((PORT + 5))
if [ "$KPORT" = auto ]; then
    if port_free 10250; then
        KPORT=10250
        if port_free 10248; then HPORT=10248; fi
        if port_free 10255; then ROPORT=10255; fi
    else
        KPORT=$PORT
        rk_log "warning: port 10250 is taken: rkubelet listens on $KPORT, so specs that reach the kubelet on 10250 will fail"
    fi
fi
mkdir -p "$WORK/manifests" "$WORK/root" "$WORK/pki"
kubeconfig=$("$RK_CLUSTER_BIN" kubelet-kubeconfig --dir "$RK_CLUSTER_DIR" --node-name "$NODE")
# A self-signed serving certificate, as upstream makes when it has none (the API server does
# not verify kubelets' certificates here).
ip=$(k get --raw /api 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverAddressByClientCIDRs"][0]["serverAddress"].rsplit(":",1)[0])' 2>/dev/null || echo 127.0.0.1)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$NODE@conformance" \
    -addext "subjectAltName=DNS:$NODE,IP:$ip,IP:127.0.0.1" \
    -keyout "$WORK/pki/kubelet.key" -out "$WORK/pki/kubelet.crt" >/dev/null 2>&1 \
    || rk_die "openssl could not make a serving certificate"
# Pod logs in our own directory: /var/log/pods is shared with the other kubelets on this host,
# whose logs a kubelet would take for orphans and remove.
mkdir -p "$WORK/pod-logs"
# No image GC and no disk-pressure eviction: a kubelet counts as used what is not available to
# non-root users, and this machine's root filesystem reserves so much that it is 84% "used"
# with 200 GB free; at the default 85% thresholds the kubelet deleted the imported e2e images
# mid-run (they cannot be pulled again) and would taint the node with DiskPressure.
printf '%s\n' 'apiVersion: kubelet.config.k8s.io/v1beta1' 'kind: KubeletConfiguration' \
    "podLogsDir: $WORK/pod-logs" 'imageGCHighThresholdPercent: 100' 'evictionHard:' \
    '  memory.available: 100Mi' '  nodefs.available: 1%' '  imagefs.available: 1%' \
    '  nodefs.inodesFree: 5%' '  imagefs.inodesFree: 5%' >"$WORK/config.yaml"
RK_PID=
finish() {
    local rc=$?
    set +e
    if [ -n "$RK_PID" ]; then
        # The suite deletes its namespaces; give rkubelet a moment to tear the pods down.
        for _ in $(seq 1 60); do
            [ "$(k get pods -A --field-selector "spec.nodeName=$NODE" -o name 2>/dev/null | wc -l)" = 0 ] && break
            sleep 1
        done
        kill "$RK_PID" 2>/dev/null; wait "$RK_PID" 2>/dev/null
    fi
    exit $rc
}
trap finish EXIT
"$RKUBELET" \
    --container-runtime-endpoint="$CONTAINER_RUNTIME_ENDPOINT" \
    --kubeconfig="$kubeconfig" --config="$WORK/config.yaml" \
    --client-ca-file="$RK_CLUSTER_DIR/ca.crt" \
    --pod-manifest-path="$WORK/manifests" \
    --root-dir="$WORK/root" \
    --cert-dir="$WORK/pki" \
    --hostname-override="$NODE" \
    --port="$KPORT" --read-only-port="$ROPORT" --healthz-port="$HPORT" \
    --fail-cgroupv1=false --fail-swap-on=false \
    --v=2 >"$WORK/rkubelet.log" 2>&1 &
RK_PID=$!
for i in $(seq 1 60); do
    [ "$(k get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] && break
    kill -0 "$RK_PID" 2>/dev/null || { tail -n 30 "$WORK/rkubelet.log" >&2; rk_die "rkubelet exited"; }
    [ "$i" -lt 60 ] || { tail -n 30 "$WORK/rkubelet.log" >&2; rk_die "node $NODE not Ready after 60 s"; }
    sleep 1
done
rk_log "rkubelet $RKUBELET (pid $RK_PID, port $KPORT) is node $NODE on $API_SERVER; log $WORK/rkubelet.log"

# --- the run --------------------------------------------------------------------------------
start=$SECONDS
# Taken now: the checkout may move on during a long run.
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
rc=0
"$GINKGO" --procs="$PROCS" --no-color --timeout="${RK_CONFORMANCE_TIMEOUT:-4h}" \
    "${filter_args[@]}" --output-dir="$WORK/report" --json-report=report.json --junit-report=junit.xml \
    "$E2E" -- \
    --start-services=false --host="$API_SERVER" --bearer-token="$E2E_TOKEN" --node-name="$NODE" \
    --prepull-images=false --container-runtime-endpoint="$CONTAINER_RUNTIME_ENDPOINT" \
    --report-dir="$WORK/report" >"$WORK/ginkgo.log" 2>&1 || rc=$?
elapsed=$((SECONDS - start))
[ -f "$WORK/report/report.json" ] || { tail -n 40 "$WORK/ginkgo.log" >&2; rk_die "ginkgo wrote no report (exit $rc)"; }

{
    echo "# Node conformance results (upstream e2e_node.test v1.37.2) against rkubelet"
    echo
    echo "Generated by scripts/conformance.sh on $(date -u +%Y-%m-%dT%H:%MZ), rkubelet $commit"
    echo "($(basename "$RKUBELET") binary $RKUBELET, kubelet ports $KPORT/$ROPORT/$HPORT), ginkgo --procs=$PROCS, $elapsed s."
    echo "Selection: ${selected} specs ([NodeConformance], not Serial/Flaky/Disruptive/Slow)$( [ -n "$focus" ] && printf ', narrowed by --focus %s' "'$focus'" )$( [ -n "$list" ] && printf ', restricted to the list %s' "$(basename "$list")" )."
} >"$WORK/title.md"
mkdir -p "$(dirname "$out")"
table=$out
[ "$update" = 0 ] || table=$WORK/partial.md
read -r ran passed failed skipped < <(python3 "$SCRIPTS_DIR/conformance-report.py" table "$WORK/report/report.json" "$table" "$WORK/title.md" "$WORK/selected.json")
rk_log "ran $ran: $passed passed, $failed failed, $skipped skipped, in $elapsed s; table $table; logs $WORK"
if [ "$update" = 1 ]; then
    read -r ran passed failed skipped < <(python3 "$SCRIPTS_DIR/conformance-report.py" merge "$out" "$table")
    rk_log "$out updated: $ran ran, $passed passed, $failed failed, $skipped skipped"
fi
if [ -n "$check" ]; then
    python3 "$SCRIPTS_DIR/conformance-report.py" check "$WORK/report/report.json" "$check" >&2 \
        || rk_die "specs listed in $check as passing did not pass"
    rk_log "PASS: every spec in $check passed"
    exit 0
fi
exit "$rc"
exit
}
