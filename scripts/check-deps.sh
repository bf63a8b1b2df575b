#!/usr/bin/env bash
# The dependency budget, written down and checked: at most 70 crates compiled for Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=70
n=$(cargo tree -e normal,build --prefix none --target x86_64-unknown-linux-gnu 2>/dev/null \
    | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l)
echo "crates compiled for Linux: $n (budget $budget)"
[ "$n" -le "$budget" ] || { echo "over the dependency budget" >&2; exit 1; }
