#!/usr/bin/env bash
# The comparison benchmark of issue 13 (benches/compare.rs): sockspec test, cargo nextest run
# (release and dev) of a generated harness, a bare tokio-tungstenite + jsonwebtoken client and
# the Python stack, on generated corpora of N = 200 and 1000 scenarios against one
# `sockspec serve`. Arguments go to the bench (e.g. `n=200 runs=3`, `jobs=1,2,4,8,16`,
# `threads=2,4,8,16`, `no-python`, `smoke`); see the bench's header.
#
#   scripts/compare.sh                 # full run (minutes: 5 runs of every leg, N = 200, 1000)
#   scripts/compare.sh smoke           # N = 10, one run, no cargo legs (what CI runs, in dev)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SOCKSPEC_COMPARE_VENV:-/tmp/bench-venv}"
SETUP="${SOCKSPEC_COMPARE_SUITE:-../shared/bench/pytest_suite}/../setup_python.sh"
case " $* " in
  *" smoke "*|*" no-python "*) ;;
  *)
    if [ ! -x "$VENV/bin/pytest" ] && [ -f "$SETUP" ]; then
      echo "== creating the Python venv $VENV (pytest, websockets, PyJWT; from PyPI)"
      bash "$SETUP" "$VENV" || echo "no Python stack: its row will be skipped"
    fi
    ;;
esac
export SOCKSPEC_COMPARE_VENV="$VENV"

case " $* " in
  *" smoke "*) exec cargo bench --profile dev --bench compare -- "$@" ;;
  *) exec cargo bench --bench compare -- "$@" ;;
esac
