#!/usr/bin/env bash
# Builds the upstream node e2e suite (e2e_node.test) and the ginkgo runner from
# the same module pins as the test control plane (tests/cluster/e2e-node/go.mod
# carries ../go.mod's replace block). Cached like rk-cluster: rebuilt only when
# the module files change. Prints two lines:
#   E2E_NODE_TEST=<path of e2e_node.test>
#   GINKGO=<path of ginkgo>
# Environment: RK_CLUSTER_CACHE (default /var/cache/rkubelet).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mod=$root/tests/cluster/e2e-node
cache=${RK_CLUSTER_CACHE:-/var/cache/rkubelet}
# As for rk-cluster: the suite compares versions, so stamp the release.
ldflags="-X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

die() { echo "e2e-node-build: $*" >&2; exit 1; }

go=$(command -v go || echo /usr/local/go/bin/go)
[ -x "$go" ] || die "no Go toolchain (go) found"

pins() { sed -n '/^replace (/,/^)/p' "$1"; }
[ "$(pins "$root/tests/cluster/go.mod")" = "$(pins "$mod/go.mod")" ] \
    || die "replace blocks of tests/cluster/go.mod and $mod/go.mod differ: copy the former into the latter"

h=$( { cat "$mod/go.mod" "$mod/go.sum"; echo "$ldflags"; "$go" version; } | sha256sum | cut -c1-16)
out=$cache/e2e-node-$h
if [ ! -x "$out/e2e_node.test" ] || [ ! -x "$out/ginkgo" ]; then
    mkdir -p "$out"
    echo "e2e-node-build: building into $out (minutes on a cold cache)" >&2
    start=$SECONDS
    if ! (cd "$mod" \
        && "$go" test -c -ldflags "$ldflags" -o "$out/e2e_node.test.tmp" k8s.io/kubernetes/test/e2e_node \
        && "$go" build -o "$out/ginkgo.tmp" github.com/onsi/ginkgo/v2/ginkgo) >"$cache/e2e-node-build.log" 2>&1; then
        tail -n 30 "$cache/e2e-node-build.log" >&2
        die "build failed (log: $cache/e2e-node-build.log)"
    fi
    mv "$out/e2e_node.test.tmp" "$out/e2e_node.test"
    mv "$out/ginkgo.tmp" "$out/ginkgo"
    echo "e2e-node-build: built in $((SECONDS - start)) s" >&2
fi
echo "E2E_NODE_TEST=$out/e2e_node.test"
echo "GINKGO=$out/ginkgo"
