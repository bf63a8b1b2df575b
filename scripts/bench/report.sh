#!/usr/bin/env bash
# Renders scripts/bench/results.md from the raw figures run.sh leaves in its work dir
# (WORK/rk.env, WORK/upstream.env, WORK/*-threads.txt):
#   scripts/bench/report.sh WORK "LOAD AT START" "LOAD AT END" [NOTE]
set -euo pipefail
export LC_ALL=C

work=$1 load_start=$2 load_end=$3 note=${4:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
pods=${RK_BENCH_PODS:-30}

have() { [ -f "$work/$1.env" ]; }
# get ID VAR: one figure of one kubelet ("" when that kubelet was not measured).
# shellcheck disable=SC1090  # the env files run.sh wrote
get() { have "$1" || return 0; (. "$work/$1.env"; printf '%s' "${!2}"); }

mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; }
size_mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
secs() { case $1 in timeout) echo "timed out" ;; *) echo "$1 s" ;; esac; }
mc() { echo "$1 millicores"; }
# ratio A B: A ÷ B with one decimal, or "" when either is missing or not a number.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) exit
        printf "%.1f×", a / b }'
}

# cell ID KIND VAR [VAR2]: one table cell.
cell() {
    local id=$1 kind=$2 a b
    have "$id" || { echo "—"; return; }
    a=$(get "$id" "$3")
    case $kind in
        size) size_mb "$a" ;;
        secs) secs "$a" ;;
        mem) mb "$a" ;;
        memcpu) b=$(get "$id" "$4"); echo "$(mb "$a") / $(mc "$b")" ;;
        threads) b=$(get "$id" "$4"); echo "$a / $b" ;;
    esac
}

# ratio_cell VAR [VAR2]: upstream ÷ rkubelet, for one or two figures.
ratio_cell() {
    local r1 r2
    r1=$(ratio "$(get upstream "$1")" "$(get rk "$1")")
    [ -n "$r1" ] || { echo "—"; return; }
    if [ $# -eq 2 ]; then
        r2=$(ratio "$(get upstream "$2")" "$(get rk "$2")")
        echo "$r1 / ${r2:-—}"
    else
        echo "$r1"
    fi
}

row() { # label kind var [var2]
    local label=$1; shift
    printf '| %s | %s | %s | %s |\n' "$label" "$(cell rk "$@")" "$(cell upstream "$@")" \
        "$(ratio_cell "${@:2}")"
}

commit=$(git -C "$repo" rev-parse --short=12 HEAD)
if [ -n "$(git -C "$repo" status --porcelain -- . ':!scripts/bench/results.md')" ]; then
    commit="$commit (with uncommitted changes)"
fi

cat <<EOF
# rkubelet benchmark results

Written by \`scripts/bench/run.sh\` (see \`scripts/bench/README.md\` for what each row measures).

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Commit: $commit ($(git -C "$repo" log -1 --format=%s))
- Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), cgroup $( [ -f /sys/fs/cgroup/cgroup.controllers ] && echo v2 || echo v1)
- Load average (1/5/15 min) at start: $load_start; at end: $load_end
- Pods: $pods; CPU/RSS windows: ${RK_BENCH_WINDOW:-30} s, each after ${RK_BENCH_SETTLE:-15} s of settling
EOF
[ -z "$note" ] || printf -- '- %s\n' "$note"

cat <<EOF

| figure | rkubelet | upstream kubelet v1.37.2 | upstream ÷ rkubelet |
| --- | --- | --- | --- |
EOF
row "binary size" size size
row "start to node Ready" secs ready_s
row "idle (no pods): RSS / CPU" memcpu idle_rss_kb idle_cpu_mc
row "idle: peak RSS so far (VmHWM)" mem idle_hwm_kb
row "$pods busybox pods, apply to all Running" secs run_s
row "$pods pods steady: RSS / CPU" memcpu steady_rss_kb steady_cpu_mc
row "peak RSS of the whole run (VmHWM)" mem final_hwm_kb
row "delete the $pods pods (grace 1 s) to gone from the API" secs delete_s
row "threads (idle / $pods pods)" threads idle_threads steady_threads

cat <<EOF

A ratio above 1 favours rkubelet (smaller, faster or leaner). Targets: binary size ≥ 15×,
memory (RSS) ≥ 10×.
EOF

load1=${load_start%% *}
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    cat <<EOF

**Noisy figures.** The load average was $load_start at the start on $(nproc) cores: other work
shared the machine, so timings and CPU figures are inflated and vary from run to run (the
kubelets were measured one after the other, not under the same load). Sizes and RSS are steady.
EOF
fi

echo
echo "## Details"
for id in rk upstream; do
    have "$id" || continue
    echo
    echo "### $(get "$id" label)"
    echo
    echo "- Binary: \`$(get "$id" bin)\`"
    echo "- \`kubectl apply\` returned after $(get "$id" apply_cmd_s) s, \`kubectl delete\` after $(get "$id" delete_cmd_s) s (both inside the timed figures)"
    echo "- The bench containerd's CPU in the same windows: idle $(get "$id" idle_rt_cpu_mc), steady $(get "$id" steady_rt_cpu_mc) millicores"
    echo "- /proc/PID/smaps_rollup with $pods pods (kB): $(get "$id" smaps)"
    for phase in idle steady; do
        [ -s "$work/$id-$phase-threads.txt" ] || continue
        printf -- '- Busiest threads, %s window (millicores): %s\n' "$phase" \
            "$(awk '{ n[$1]++; c[$1] += $2 } END { for (t in c) printf "%s %s %.1f\n", t, n[t], c[t] }' "$work/$id-$phase-threads.txt" \
                | sort -k3,3 -rn | head -n 10 \
                | awk '{ printf "%s%s%s %s", sep, $1, ($2 > 1 ? " (" $2 " threads)" : ""), $3; sep = ", " }')"
    done
done
