#!/usr/bin/env bash
# The upstream kubelet v1.37.2, rkubelet's yardstick: built from scripts/bench/upstream-kubelet/
# (our main.go + a go.mod derived from tests/cluster/go.mod, so it uses the same Go modules as
# the test control plane), CGO_ENABLED=0, -s -w and the release version stamp. Idempotent.
#
#   scripts/bench/upstream-kubelet.sh [build]  build if needed; print the binary's path
#   scripts/bench/upstream-kubelet.sh path     print the path if it is built (exit 1 if not)
#   scripts/bench/upstream-kubelet.sh sync     re-derive go.mod/go.sum from tests/cluster/go.mod
#
# The binary is $RK_CLUSTER_CACHE/kubelet-v1.37.2 (default /var/cache/rkubelet); a file next
# to it holds a hash of its inputs, and a change of inputs rebuilds it.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
mod=$root/scripts/bench/upstream-kubelet
cluster_mod=$root/tests/cluster
cache=${RK_CLUSTER_CACHE:-/var/cache/rkubelet}
bin=$cache/kubelet-v1.37.2
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

die() { echo "upstream-kubelet: $*" >&2; exit 1; }
go=$(command -v go || echo /usr/local/go/bin/go)

pins() { sed -n '/^replace (/,/^)/p' "$1"; }

# go.mod = our module line + the control plane's go directive, requirements and replace block;
# `go mod tidy` then drops what the kubelet does not need and keeps the versions of the rest.
sync() {
    [ -x "$go" ] || die "no Go toolchain (go) found"
    {
        echo "module rkubelet.test/bench/upstream-kubelet"
        sed -n '/^module /!p' "$cluster_mod/go.mod"
    } >"$mod/go.mod"
    cp "$cluster_mod/go.sum" "$mod/go.sum"
    (cd "$mod" && "$go" mod tidy) >&2 || die "go mod tidy failed in $mod"
    [ "$(pins "$cluster_mod/go.mod")" = "$(pins "$mod/go.mod")" ] || die "go mod tidy changed the replace block"
    grep -q '^	k8s.io/kubernetes v1.37.2$' "$mod/go.mod" || die "go.mod does not require k8s.io/kubernetes v1.37.2"
    echo "upstream-kubelet: derived $mod/go.mod and go.sum from $cluster_mod/go.mod" >&2
}

inputs_hash() {
    { cat "$mod/go.mod" "$mod/go.sum" "$mod"/*.go; echo "$ldflags"; "$go" version; } | sha256sum | cut -c1-16
}

build() {
    [ -x "$go" ] || die "no Go toolchain (go) found"
    if [ ! -f "$mod/go.mod" ] || [ "$(pins "$cluster_mod/go.mod")" != "$(pins "$mod/go.mod")" ]; then
        sync
    fi
    local h
    h=$(inputs_hash)
    if [ -x "$bin" ] && [ "$(cat "$bin.inputs" 2>/dev/null)" = "$h" ]; then echo "$bin"; return; fi
    mkdir -p "$cache"
    echo "upstream-kubelet: building $bin (minutes on a cold cache)" >&2
    local start=$SECONDS
    if ! (cd "$mod" && CGO_ENABLED=0 "$go" build -ldflags "$ldflags" -o "$bin.tmp.$$" .) \
        >"$cache/kubelet-build.log" 2>&1; then
        tail -n 30 "$cache/kubelet-build.log" >&2
        rm -f "$bin.tmp.$$"
        die "build failed (log: $cache/kubelet-build.log)"
    fi
    mv "$bin.tmp.$$" "$bin"
    echo "$h" >"$bin.inputs"
    echo "upstream-kubelet: built in $((SECONDS - start)) s" >&2
    echo "$bin"
}

case ${1:-build} in
build) build ;;
path) [ -x "$bin" ] || exit 1; echo "$bin" ;;
sync) sync ;;
*) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
