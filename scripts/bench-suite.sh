#!/usr/bin/env bash
# Wall time of the whole example suite under `cargo nextest run` on a warm build.
# Usage: scripts/bench-suite.sh [runs]   (loopback only; bounded by the suite's own deadlines)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo nextest run --test scenarios --no-run >/dev/null 2>&1   # warm the build
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  cargo nextest run --test scenarios --status-level none --final-status-level none >/dev/null 2>&1
  end=$(date +%s.%N)
  times+=("$(echo "$end - $start" | bc)")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "example suite, %d runs: min %.2fs median %.2fs max %.2fs\n", NR, a[1], a[int((NR+1)/2)], a[NR]}'
