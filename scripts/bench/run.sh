#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2034  # the figures are written out through ${!name}
# rkubelet's benchmark: measures rkubelet (release build) and, when available, the upstream
# kubelet v1.37.2 in the same run, on the same control plane and runtime, and prints one
# markdown table (also written to scripts/bench/results.md). See scripts/bench/README.md.
#
#   sudo scripts/bench/run.sh
#
# Environment:
#   RK_BENCH_UPSTREAM=1      build the upstream kubelet if it is not cached yet (minutes)
#   RK_BENCH_ONLY=rk|upstream  measure one kubelet only
#   RK_BENCH_PODS=30         pods in the burst
#   RK_BENCH_WINDOW=30       seconds of each CPU/RSS window
#   RK_BENCH_SETTLE=15       seconds between a phase and its window
#   RK_BENCH_WORK=/tmp/rk-bench   logs and raw figures (kubelet logs are kept there)
#   RK_BENCH_KEEP_CONTAINERD=1    leave the bench containerd running afterwards
#   RK_BENCH_RESULTS=FILE    where to write the results (default scripts/bench/results.md)
set -euo pipefail
export LC_ALL=C

RK_SCRIPT=bench
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
. "$BENCH_DIR/../lib/common.sh"
. "$BENCH_DIR/lib.sh"

PODS=${RK_BENCH_PODS:-30}
WINDOW=${RK_BENCH_WINDOW:-30}
SETTLE=${RK_BENCH_SETTLE:-15}
WORK=${RK_BENCH_WORK:-/tmp/rk-bench}
RESULTS=${RK_BENCH_RESULTS:-$BENCH_DIR/results.md}
IMAGE=docker.io/library/busybox:1.35
# The upstream kubelet kills every pod of its runtime that it does not know, removes their
# exited containers and their log directories: on the containerd other tests share it would
# destroy their pods. Both kubelets therefore get a containerd of their own (same scripts,
# its own directory, bridge and subnet), their own pod cgroup root and their own pod log dir.
export RK_CONTAINERD_DIR=/var/lib/rk-bench-containerd
export RK_CNI_BRIDGE=rkbench0
export RK_CNI_SUBNET=10.89.0.0/16
TAINT_KEY=rkubelet.io/bench

rk_need_root
for tool in curl jq awk join setsid; do command -v "$tool" >/dev/null || rk_die "$tool is missing"; done
mkdir -p "$WORK"
BENCH_AUTH_HEADER=$WORK/auth-header
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# export_lines TEXT: exports each KEY=VALUE line (what the project's scripts print).
export_lines() {
    local line
    while IFS= read -r line; do [ -z "$line" ] || export "${line?}"; done <<<"$1"
}

# ---- setup, through the project's scripts (each is idempotent) ----
rk_log "control plane: scripts/test-cluster.sh up"
lines=$("$REPO/scripts/test-cluster.sh" up) || rk_die "scripts/test-cluster.sh up failed"
export_lines "$lines"
[ -n "${E2E_TOKEN:-}" ] || rk_die "the test cluster printed no E2E_TOKEN"
(umask 077; printf 'Authorization: Bearer %s\n' "$E2E_TOKEN" >"$BENCH_AUTH_HEADER")
rk_log "containerd of the bench: scripts/containerd.sh up ($RK_CONTAINERD_DIR)"
lines=$("$REPO/scripts/containerd.sh" up) || rk_die "scripts/containerd.sh up failed"
export_lines "$lines"
RT_PID=$(cat "$RK_CONTAINERD_DIR/run/containerd.pid")
"$REPO/scripts/images.sh" import pause busybox >/dev/null
rk_log "rkubelet: cargo build --release"
(cd "$REPO" && cargo build --release) >&2
RKUBELET=$REPO/target/release/rkubelet
cri() { "$RKUBELET" cri --container-runtime-endpoint="$CONTAINER_RUNTIME_ENDPOINT" "$@"; }

UPSTREAM=
UPSTREAM_NOTE=
if [ "${RK_BENCH_ONLY:-}" != rk ]; then
    if UPSTREAM=$("$BENCH_DIR/upstream-kubelet.sh" path); then :
    elif [ "${RK_BENCH_UPSTREAM:-}" = 1 ]; then UPSTREAM=$("$BENCH_DIR/upstream-kubelet.sh" build)
    else UPSTREAM=; UPSTREAM_NOTE="upstream: not built (set RK_BENCH_UPSTREAM=1)"; rk_log "$UPSTREAM_NOTE"; fi
fi

# ---- one kubelet ----
NODE='' NS='' DIR='' KPID='' CGROOT=''
k() { "$KUBECTL" "$@"; }

cgroup_dirs() { # the pod cgroup root in every hierarchy (v1) or in the unified one (v2)
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup$CGROOT"; return; fi
    local h
    for h in /sys/fs/cgroup/*/; do
        case $h in */unified/) continue ;; esac
        echo "${h%/}$CGROOT"
    done
}

make_cgroup_root() {
    local d h
    for d in $(cgroup_dirs); do
        mkdir -p "$d"
        h=${d%"$CGROOT"}
        # A new cpuset starts empty: give it its parent's CPUs and memory nodes.
        if [ -f "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
            cat "$h/cpuset.cpus" >"$d/cpuset.cpus"; cat "$h/cpuset.mems" >"$d/cpuset.mems"
        fi
    done
}

remove_cgroup_root() {
    local d
    for d in $(cgroup_dirs); do
        [ -d "$d" ] || continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || rk_log "cannot remove every cgroup under $d"
    done
}

write_config() { # file healthz-port port read-only-port
    cat >"$1" <<EOF
# Written by scripts/bench/run.sh: the same settings for both kubelets.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: $CONTAINER_RUNTIME_ENDPOINT
cgroupDriver: cgroupfs
cgroupRoot: $CGROOT
failSwapOn: false
failCgroupV1: false
healthzPort: $2
port: $3
readOnlyPort: $4
podLogsDir: $DIR/pod-logs
registerWithTaints:
- {key: $TAINT_KEY, value: only, effect: NoSchedule}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $RK_CLUSTER_DIR/ca.crt}
authorization:
  mode: Webhook
EOF
}

pod_list() {
    local i
    echo '{"apiVersion": "v1", "kind": "List", "items": ['
    for i in $(seq 0 $((PODS - 1))); do
        [ "$i" -eq 0 ] || echo ,
        cat <<EOF
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleep-$i", "namespace": "$NS"},
 "spec": {"nodeName": "$NODE", "automountServiceAccountToken": false,
  "tolerations": [{"key": "$TAINT_KEY", "operator": "Exists"}],
  "containers": [{"name": "sleep", "image": "$IMAGE", "command": ["sleep", "3600"]}]}}
EOF
    done
    echo ']}'
}

unmount_under() {
    # awk, not grep: no match is not a failure under pipefail.
    awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || rk_log "cannot unmount $m"
    done
}

# Removes what a previous, interrupted run may have left for this node.
preclean() {
    k delete node "$NODE" --wait=false >/dev/null 2>&1 || true
    if k get namespace "$NS" >/dev/null 2>&1; then
        k -n "$NS" delete pods --all --grace-period=0 --force >/dev/null 2>&1 || true
        k delete namespace "$NS" --wait=true --timeout=90s >/dev/null 2>&1 || true
    fi
    sandboxes_gone 1 || true
    unmount_under "$DIR"
    rm -rf "$DIR"
}

# Removes this node's pod sandboxes from the runtime (only pods of its namespace); waits up to
# SECS for the kubelet to have done it itself.
sandboxes_gone() {
    local secs=$1 ids i
    for i in $(seq 1 $((secs * 4))); do
        ids=$(cri pods -o json | jq -r --arg ns "$NS" '.items[] | select(.metadata.namespace == $ns) | .id')
        [ -n "$ids" ] || return 0
        [ "$i" -lt $((secs * 4)) ] && sleep 0.25
    done
    rk_log "removing $(wc -w <<<"$ids") sandboxes of $NS left in the runtime"
    # shellcheck disable=SC2086
    cri rmp $ids >/dev/null
}

stop_kubelet() {
    [ -n "$KPID" ] || return 0
    kill -TERM "$KPID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KPID" 2>/dev/null || true
    wait "$KPID" 2>/dev/null || true
    KPID=
}

finish_one() {
    stop_watch
    if [ -n "$KPID" ] && [ -n "$(k -n "$NS" get pods -o name 2>/dev/null)" ]; then
        # Let the kubelet stop what a failed phase left behind.
        k -n "$NS" delete pods --all --grace-period=1 --timeout=30s >/dev/null 2>&1 || true
    fi
    stop_kubelet
    sandboxes_gone 1 || rk_log "could not remove every sandbox of $NS"
    k -n "$NS" delete pods --all --grace-period=0 --force >/dev/null 2>&1 || true
    k delete node "$NODE" --wait=false >/dev/null 2>&1 || true
    k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
    unmount_under "$DIR"
    rm -rf "$DIR/root" "$DIR/pki" "$DIR/pod-logs"
    find /var/log/containers -maxdepth 1 -lname "$DIR/*" -delete 2>/dev/null || true
    remove_cgroup_root
}

# bench_one ID BINARY LABEL PORT_BASE: measures one kubelet; the figures go to $WORK/ID.env.
bench_one() {
    local id=$1 bin=$2 label=$3 base=$4 t0 t1 ta td out
    NODE=bench-$id NS=bench-$id DIR=$WORK/bench-$id CGROOT=/rk-bench-$id
    rk_log "== $label ($bin) as node $NODE"
    preclean
    mkdir -p "$DIR/root" "$DIR/pki" "$DIR/pod-logs"
    make_cgroup_root
    write_config "$DIR/config.yaml" $((base + 8)) $((base + 10)) $((base + 5))
    local kubeconfig
    kubeconfig=$("$RK_CLUSTER_BIN" kubelet-kubeconfig --dir "$RK_CLUSTER_DIR" --node-name "$NODE")
    k create namespace "$NS" >/dev/null
    for _ in $(seq 1 120); do k -n "$NS" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.25; done

    size=$(stat -c %s "$bin")
    out=$DIR/node.watch
    start_watch "/api/v1/nodes?fieldSelector=metadata.name%3D$NODE" "$JQ_NODE_READY" "$out"
    t0=$EPOCHREALTIME
    "$bin" --config="$DIR/config.yaml" --kubeconfig="$kubeconfig" --root-dir="$DIR/root" \
        --cert-dir="$DIR/pki" --hostname-override="$NODE" >"$DIR/kubelet.log" 2>&1 &
    KPID=$!
    ready_s=timeout
    if t1=$(wait_line "$out" ready 60); then ready_s=$(secs_between "$t0" "$t1"); fi
    stop_watch
    rk_log "node Ready after ${ready_s} s; settling ${SETTLE} s, then the idle window (${WINDOW} s)"
    kill -0 "$KPID" 2>/dev/null || { tail -n 30 "$DIR/kubelet.log" >&2; rk_die "$label exited"; }
    sleep "$SETTLE"
    measure_window "$KPID" "$WINDOW" idle
    cp "$DIR/idle-threads.txt" "$WORK/$id-idle-threads.txt"

    out=$DIR/pods.watch
    start_watch "/api/v1/namespaces/$NS/pods" "$JQ_PODS_RUNNING" "$out"
    ta=$EPOCHREALTIME
    pod_list | k apply -f - >/dev/null
    apply_cmd_s=$(secs_between "$ta" "$EPOCHREALTIME")
    run_s=timeout
    if t1=$(wait_line "$out" "running $PODS" 180); then run_s=$(secs_between "$ta" "$t1"); fi
    stop_watch
    rk_log "$PODS pods Running after ${run_s} s (kubectl apply itself: ${apply_cmd_s} s)"
    sleep "$SETTLE"
    measure_window "$KPID" "$WINDOW" steady
    cp "$DIR/steady-threads.txt" "$WORK/$id-steady-threads.txt"
    smaps=$(tr -s ' ' <"/proc/$KPID/smaps_rollup" | awk 'NR > 1 { printf "%s%s %s", sep, $1, $2; sep = ", " }')

    out=$DIR/delete.watch
    start_watch "/api/v1/namespaces/$NS/pods" "$JQ_PODS_DELETED" "$out"
    td=$EPOCHREALTIME
    k -n "$NS" delete pods --all --grace-period=1 --wait=false >/dev/null
    delete_cmd_s=$(secs_between "$td" "$EPOCHREALTIME")
    delete_s=timeout
    if t1=$(wait_line "$out" "deleted $PODS" 120); then delete_s=$(secs_between "$td" "$t1"); fi
    stop_watch
    rk_log "$PODS pods gone from the API after ${delete_s} s (kubectl delete itself: ${delete_cmd_s} s)"
    final_hwm_kb=$(status_kb "$KPID" VmHWM)

    {
        for v in size ready_s idle_cpu_mc idle_rss_kb idle_hwm_kb idle_threads idle_rt_cpu_mc \
            run_s apply_cmd_s steady_cpu_mc steady_rss_kb steady_hwm_kb steady_threads \
            steady_rt_cpu_mc delete_s delete_cmd_s final_hwm_kb; do
            printf '%s=%q\n' "$v" "${!v}"
        done
        printf 'smaps=%q\nbin=%q\nlabel=%q\n' "$smaps" "$bin" "$label"
    } >"$WORK/$id.env"
    finish_one
}

cleanup() {
    local rc=$?
    set +e
    stop_watch
    [ -n "$NODE" ] && finish_one
    if [ "${RK_BENCH_KEEP_CONTAINERD:-}" != 1 ]; then
        "$REPO/scripts/containerd.sh" down --purge >/dev/null 2>&1 || rk_log "could not purge the bench containerd"
    fi
    rm -f "$BENCH_AUTH_HEADER"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -f "$WORK"/*.env "$WORK"/*-threads.txt
if [ "${RK_BENCH_ONLY:-}" != upstream ]; then bench_one rk "$RKUBELET" rkubelet 10440; fi
NODE=
if [ -n "$UPSTREAM" ]; then bench_one upstream "$UPSTREAM" "upstream kubelet v1.37.2" 10540; fi
NODE=
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table ----
"$BENCH_DIR/report.sh" "$WORK" "$LOAD_START" "$LOAD_END" "$UPSTREAM_NOTE" >"$WORK/results.md"
cp "$WORK/results.md" "$RESULTS"
sed -n '/^| /p' "$RESULTS"
rk_log "written to $RESULTS (details there; kubelet logs under $WORK)"
