#!/usr/bin/env bash
# The whole test suite: the README's test command and what .ci/run calls.
#
#   scripts/test.sh            everything (needs root: containerd, the control plane)
#   scripts/test.sh unit       cargo tests only (no root needed; runtime tests skip loudly)
#   scripts/test.sh smoke      standalone smoke tests against real containerd
#   scripts/test.sh cluster    API-server tests against the real test control plane
#
# Installs what it needs (scripts/containerd.sh, scripts/images.sh, scripts/test-cluster.sh),
# idempotently. Prints a table of phases at the end; exits non-zero if any phase failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export RK_TEST_LOG_DIR=${RK_TEST_LOG_DIR:-$ROOT/.work/test-logs}
mkdir -p "$RK_TEST_LOG_DIR"

declare -a RESULTS=()
failed=0

note() { printf '\n==> %s\n' "$*" >&2; }
record() { RESULTS+=("$(printf '%-28s %s' "$1" "$2")"); case "$2" in FAIL*) failed=1 ;; esac; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: $1 needs root (containerd, mounts, cgroups)" >&2
    record "$1" "SKIPPED (not root)"
    return 1
  fi
}

# Test-only tools (jq for the shell tests, curl for the endpoints), installed when missing.
test_tools() {
  [ "$(id -u)" -eq 0 ] || return 0
  # shellcheck source=scripts/lib/common.sh
  . scripts/lib/common.sh
  rk_apt_ensure jq curl
}

phase_deps() {
  note "dependency budget"
  if scripts/check-deps.sh; then record deps PASS; else record deps FAIL; fi
}

phase_build() {
  note "build (debug and release)"
  if cargo build --all-targets && cargo build --release; then record build PASS; else record build FAIL; return 1; fi
}

runtime_up() {
  [ -n "${CONTAINER_RUNTIME_ENDPOINT:-}" ] && return 0
  local line
  line=$(scripts/containerd.sh up) || return 1
  export "$line"
  scripts/images.sh build >&2 && scripts/images.sh import >&2
}

# Starts (or finds) the test control plane and exports its KUBECONFIG=, KUBECTL= ... lines.
cluster_up() {
  local lines l
  lines=$(scripts/test-cluster.sh up) || return 1
  while IFS= read -r l; do case "$l" in *=*) export "${l?}" ;; esac; done <<<"$lines"
}

phase_unit() {
  note "cargo test (unit and integration; runtime tests use CONTAINER_RUNTIME_ENDPOINT when set)"
  if [ "$(id -u)" -eq 0 ]; then
    runtime_up || { record "runtime up" FAIL; }
    # The API-server integration tests skip without a control plane; as root they must run.
    cluster_up || { record "control plane up" FAIL; }
  else
    echo "SKIPPED: not root, so no containerd: runtime integration tests will print SKIPPED" >&2
  fi
  # --no-fail-fast: one failing test binary must not hide the results of the others.
  if cargo test --all-targets --no-fail-fast 2>&1 | tee "$RK_TEST_LOG_DIR/cargo-test.log"; then
    local skipped
    skipped=$(grep -c '^SKIPPED' "$RK_TEST_LOG_DIR/cargo-test.log" || true)
    record "cargo test" "PASS (${skipped} skipped tests printed SKIPPED)"
  else
    record "cargo test" FAIL
  fi
}

run_shell_tests() { # phase-name dir
  local phase=$1 dir=$2 t name pass=0 fail=0 skip=0 rc
  for t in "$dir"/[0-9]*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    note "$phase: $name"
    bash "$t" > >(tee "$RK_TEST_LOG_DIR/$phase-$name.log") 2>&1
    rc=$?
    case $rc in
      0) pass=$((pass + 1)); record "  $name" PASS ;;
      77) skip=$((skip + 1)); record "  $name" "SKIPPED" ;;
      *) fail=$((fail + 1)); record "  $name" "FAIL (log: $RK_TEST_LOG_DIR/$phase-$name.log)" ;;
    esac
  done
  record "$phase" "$pass passed, $fail failed, $skip skipped"
}

phase_smoke() {
  need_root smoke || return 0
  runtime_up || { record smoke "FAIL (containerd did not come up)"; return 1; }
  cargo build --release || { record smoke "FAIL (build)"; return 1; }
  export RKUBELET="$ROOT/target/release/rkubelet"
  run_shell_tests smoke tests/smoke
}

phase_cluster() {
  need_root cluster || return 0
  [ -d tests/cluster-e2e ] || { record cluster "SKIPPED (no cluster tests yet)"; return 0; }
  runtime_up || { record cluster "FAIL (containerd did not come up)"; return 1; }
  cluster_up || { record cluster "FAIL (control plane did not come up)"; return 1; }
  cargo build --release || { record cluster "FAIL (build)"; return 1; }
  export RKUBELET="$ROOT/target/release/rkubelet"
  run_shell_tests cluster tests/cluster-e2e
}

what=${1:-all}
case $what in
  unit) phase_deps; phase_unit ;;
  smoke) test_tools; phase_smoke ;;
  cluster) test_tools; phase_cluster ;;
  all) test_tools; phase_deps; phase_build && { phase_unit; phase_smoke; phase_cluster; } ;;
  *) echo "usage: $0 [all|unit|smoke|cluster]" >&2; exit 2 ;;
esac

printf '\n%-28s %s\n' phase result
printf '%s\n' "${RESULTS[@]}"
exit $failed
