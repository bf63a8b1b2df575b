#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs every cargo-fuzz target of fuzz/Cargo.toml for a while and prints a table.
#
#   scripts/fuzz.sh [seconds]     seconds per target (default 60)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo +nightly fuzz`). The corpus grows in
# fuzz/corpus/<target> (kept between runs, not committed); a crash leaves its input in
# fuzz/artifacts/<target>/ and the libFuzzer log in .work/fuzz/<target>.log. The proto_decode
# corpus is seeded with the captured containerd responses of tests/golden/cri/.
# Exits 1 if any target crashed or did not build.
set -uo pipefail

RK_SCRIPT=fuzz.sh
. "$(dirname "$0")/lib/common.sh"
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SECONDS_EACH=${1:-60}
[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || rk_die "usage: scripts/fuzz.sh [seconds] (a positive number)"
LOG_DIR=$ROOT/.work/fuzz
mkdir -p "$LOG_DIR"

cargo +nightly fuzz --help >/dev/null 2>&1 \
    || rk_die "cargo-fuzz on the nightly toolchain is needed (cargo install cargo-fuzz)"

mapfile -t TARGETS < <(cd fuzz && cargo +nightly fuzz list 2>/dev/null)
[ ${#TARGETS[@]} -gt 0 ] || rk_die "no fuzz targets found in fuzz/Cargo.toml"

rk_log "building ${#TARGETS[@]} targets"
if ! (cd fuzz && cargo +nightly fuzz build >"$LOG_DIR/build.log" 2>&1); then
    tail -n 30 "$LOG_DIR/build.log" >&2
    rk_die "cargo fuzz build failed (log: $LOG_DIR/build.log)"
fi

# Each captured response, behind every selector byte proto_decode uses to pick a type.
seed_proto_decode() {
    local dir=fuzz/corpus/proto_decode f sel
    mkdir -p "$dir"
    for f in tests/golden/cri/*.bin; do
        [ -e "$f" ] || continue
        for sel in 0 1 2 3 4 5 6 7 8; do
            { printf "\\x0$sel"; cat "$f"; } >"$dir/golden-$sel-$(basename "$f")"
        done
    done
}
seed_proto_decode

declare -a ROWS=()
failed=0
for target in "${TARGETS[@]}"; do
    log=$LOG_DIR/$target.log
    rk_log "$target: ${SECONDS_EACH}s"
    mkdir -p "fuzz/corpus/$target"
    (cd fuzz && cargo +nightly fuzz run "$target" -- \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1) >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        result="CRASH (exit $rc${artifact:+, input $artifact}; log $log)"
    fi
    ROWS+=("$(printf '%-24s %12s   %s' "$target" "${runs:-?}" "$result")")
done

printf '\n%-24s %12s   %s\n' target runs "result (${SECONDS_EACH}s each)"
printf '%s\n' "${ROWS[@]}"
exit $failed
