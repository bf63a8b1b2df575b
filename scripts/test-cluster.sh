#!/usr/bin/env bash
# The test control plane (tests/cluster, `rk-cluster`): build it once, run one
# instance in the background, reuse it. Every command is idempotent.
#
#   scripts/test-cluster.sh up           build if needed, start if needed, wait until ready,
#                                        print KUBECONFIG=, KUBELET_KUBECONFIG=, BOOTSTRAP_KUBECONFIG=,
#                                        KUBECTL=, API_SERVER=, E2E_TOKEN= lines
#   scripts/test-cluster.sh env          print those lines for the running instance
#   scripts/test-cluster.sh status       say whether it runs and is ready (exit 1 if not ready)
#   scripts/test-cluster.sh kubectl ...  the built-in kubectl with the admin kubeconfig
#   scripts/test-cluster.sh down [--purge]  stop it (--purge also deletes its directory)
#   scripts/test-cluster.sh build        only build; print the binary's path
#
# Environment: RK_CLUSTER_DIR (default /var/lib/rk-cluster), RK_NODE_NAME (default
# hostname), RK_CLUSTER_CACHE (where binaries are kept, default /var/cache/rkubelet),
# RK_CLUSTER_ARGS (extra `rk-cluster up` flags, e.g. "--secure-port 16443").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/tests/cluster
dir=${RK_CLUSTER_DIR:-/var/lib/rk-cluster}
node=${RK_NODE_NAME:-$(hostname)}
cache=${RK_CLUSTER_CACHE:-/var/cache/rkubelet}
pidfile=$dir/rk-cluster.pid
# kubectl refuses the version Go gives a module build; stamp the release.
ldflags="-X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

die() { echo "test-cluster: $*" >&2; exit 1; }

go_bin() {
    if command -v go >/dev/null 2>&1; then command -v go
    elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
    else die "no Go toolchain (go) found"; fi
}

# The binary is named after a hash of everything that goes into it.
binary_path() {
    local h
    h=$( { cd "$src" && cat go.mod go.sum ./*.go; echo "$ldflags"; "$(go_bin)" version; } \
        | sha256sum | cut -c1-16)
    echo "$cache/rk-cluster-$h"
}

build() {
    local bin
    bin=$(binary_path)
    if [ -x "$bin" ]; then echo "$bin"; return; fi
    mkdir -p "$cache"
    echo "test-cluster: building $bin (the first build takes minutes)" >&2
    local start=$SECONDS
    if ! (cd "$src" && "$(go_bin)" build -ldflags "$ldflags" -o "$bin.tmp.$$" .) >"$cache/build.log" 2>&1; then
        tail -n 30 "$cache/build.log" >&2
        rm -f "$bin.tmp.$$"
        die "build failed (log: $cache/build.log)"
    fi
    mv "$bin.tmp.$$" "$bin"
    echo "test-cluster: built in $((SECONDS - start)) s" >&2
    echo "$bin"
}

pid() { if [ -f "$pidfile" ]; then cat "$pidfile"; fi; }

is_ours() { kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "rk-cluster.* up --dir $dir "; }

running() {
    local p
    p=$(pid)
    [ -n "$p" ] && is_ours "$p" && return 0
    # A stale pid file: look for the instance of this directory before concluding it is down.
    p=$(pgrep -f "rk-cluster.* up --dir $dir " | head -n 1 || true)
    [ -n "$p" ] && is_ours "$p" && { echo "$p" >"$pidfile"; return 0; }
    return 1
}

ready() {
    running && [ -f "$dir/env" ] && [ -x "$dir/kubectl" ] \
        && [ "$("$dir/kubectl" get --raw /readyz 2>/dev/null)" = ok ]
}

# The lines tests read; the kubelet kubeconfig is made for $node on demand.
print_env() {
    local bin=$1 kubelet
    kubelet=$("$bin" kubelet-kubeconfig --dir "$dir" --node-name "$node")
    grep -v '^KUBELET_KUBECONFIG=' "$dir/env" | sed "1a KUBELET_KUBECONFIG=$kubelet"
    # Tests make kubeconfigs for node names of their own with it.
    echo "RK_CLUSTER_BIN=$bin"
    echo "RK_CLUSTER_DIR=$dir"
}

start() {
    local bin=$1
    mkdir -p "$dir"
    rm -f "$dir/env"
    # setsid: the cluster outlives this script and the caller's terminal.
    # shellcheck disable=SC2086
    setsid "$bin" up --dir "$dir" --node-name "$node" ${RK_CLUSTER_ARGS:-} \
        >"$dir/up.out" 2>>"$dir/cluster.log" </dev/null &
    echo $! >"$pidfile"
    local deadline=$((SECONDS + 300))
    until ready; do
        if ! running; then
            tail -n 20 "$dir/cluster.log" >&2
            die "rk-cluster exited during start (log: $dir/cluster.log)"
        fi
        [ $SECONDS -lt $deadline ] || die "not ready after 300 s (log: $dir/cluster.log)"
        sleep 0.2
    done
}

stop() {
    running || { rm -f "$pidfile"; return 0; }
    local p
    p=$(pid)
    kill -TERM "$p"
    for _ in $(seq 100); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p"
    rm -f "$pidfile"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
build) build ;;
up)
    bin=$(build)
    if running; then
        until ready; do
            running || die "rk-cluster exited (log: $dir/cluster.log)"
            sleep 0.2
        done
    else
        start "$bin"
    fi
    print_env "$bin"
    ;;
env)
    ready || die "not running or not ready; run: $0 up"
    print_env "$(build)"
    ;;
status)
    if ready; then echo "running (pid $(pid)), ready, dir $dir"
    elif running; then echo "running (pid $(pid)), not ready, dir $dir"; exit 1
    else echo "not running, dir $dir"; exit 1; fi
    ;;
kubectl)
    bin=$(build)
    exec "$bin" kubectl --kubeconfig="$dir/admin.kubeconfig" "$@"
    ;;
down)
    stop
    if [ "${1:-}" = --purge ]; then rm -rf "$dir"; fi
    ;;
*)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
