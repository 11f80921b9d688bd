#!/usr/bin/env bash
# Load benchmark of the reference server: loopback only, bounded in time.
#   scripts/load.sh [CONNECTIONS] [DEADLINE_SECS]      (defaults: 10000 120)
# Builds examples/load.rs in release mode, raises the open-file limit for this shell (the
# server runs in a child process, so each process needs about CONNECTIONS + a few fds), and
# runs it under `timeout` as a second guard.
set -euo pipefail
cd "$(dirname "$0")/.."
connections="${1:-10000}"
deadline="${2:-120}"
want=$((connections + 1024))
hard="$(ulimit -Hn)"
if [[ "$hard" != unlimited && "$hard" -lt "$want" ]]; then
  echo "load.sh: hard open-file limit $hard is below $want; lower CONNECTIONS" >&2
  exit 1
fi
soft="$(ulimit -n)"
if [[ "$soft" != unlimited && "$soft" -lt "$want" ]]; then
  ulimit -n "$want"
fi
cargo build --release --example load
timeout --kill-after=5 "$((deadline + 15))" \
  target/release/examples/load --connections "$connections" --deadline-secs "$deadline"
