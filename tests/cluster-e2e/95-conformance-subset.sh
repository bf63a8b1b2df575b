#!/usr/bin/env bash
# The upstream node e2e suite's specs listed in tests/conformance/ci-subset.txt (ones rkubelet
# passes, ~10 min) must keep passing: scripts/conformance.sh --check. It runs its own private
# control plane and node (the suite wants a cluster with one Node), on RK_E2E_PORT's block.
# Skipped (77) when e2e_node.test cannot be built or the environment is missing.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIPPED: needs root" >&2; exit 77; }
RK_E2E_PORT=${RK_E2E_PORT:-11550} RK_E2E_WORK=${RK_E2E_WORK:-/tmp/rk-e2e} \
    exec "$REPO/scripts/conformance.sh" --check "$REPO/tests/conformance/ci-subset.txt"
