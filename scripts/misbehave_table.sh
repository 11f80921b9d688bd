#!/usr/bin/env bash
# Peak RSS per misbehaving-server mode: runs each `misbehave::` test of the integration binary
# in its own process under `/usr/bin/time -v` and prints a markdown table (mode, first line,
# time, peak RSS). Loopback only; each test is bounded by its own deadlines, and `timeout` is a
# second guard.
#   scripts/misbehave_table.sh [FILTER]      (default: every misbehave:: test)
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-misbehave::}"
bin="$(cargo test --test integration --no-run --message-format=json 2>/dev/null |
  jq -r 'select(.executable != null and .target.name == "integration") | .executable' | tail -1)"
[[ -x "$bin" ]] || { echo "misbehave_table.sh: no integration test binary" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "| test | mode | first line | time | peak RSS |"
echo "|---|---|---|---|---|"
"$bin" --list 2>/dev/null | sed -n 's/: test$//p' | grep -F "$filter" | head -200 |
  while read -r name; do
    status=ok
    timeout 60 /usr/bin/time -v "$bin" "$name" --exact --nocapture --test-threads 1 \
      >"$tmp/out" 2>"$tmp/err" </dev/null || status=FAILED
    # The test prints `mode | first line | time` on stderr.
    row="$(grep -E '^[a-z0-9-]+ \| .* \| [0-9.]+m?s$' "$tmp/err" | tail -1 || true)"
    mode="${row%% | *}"
    rest="${row#* | }"
    line="${rest% | *}"
    took="${rest##* | }"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/err")"
    line="${line//|/\\|}"
    [[ "$status" == ok ]] || line="**$status** ${line}"
    printf '| %s | %s | `%s` | %s | %s MiB |\n' "${name#misbehave::}" "$mode" "$line" "$took" \
      "$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')"
  done
