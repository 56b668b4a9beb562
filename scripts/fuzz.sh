#!/usr/bin/env bash
# Fuzzes every parser that sees outside bytes (fuzz/fuzz_targets), each for FUZZ_SECONDS, and
# prints executions and crashes per target. Installs cargo-fuzz (crates.io, pinned) if missing.
# cargo fuzz runs on the stable toolchain with `-s none` (no sanitizer needs nightly).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
if [ "$(cargo install --list | sed -n 's/^cargo-fuzz v\([0-9.]*\):$/\1/p')" != 0.13.1 ]; then
  cargo install --locked cargo-fuzz --version 0.13.1
fi
cargo fuzz build -s none
status=0
for target in $(cargo fuzz list); do
  mkdir -p "fuzz/corpus/$target"
  log="fuzz/$target.log"
  if cargo fuzz run -s none "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then result=ok; else result=CRASH; status=1; fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  crashes=$(ls "fuzz/artifacts/$target" 2>/dev/null | grep -c '^crash-' || true)
  printf '[fuzz] %-16s %s: %s executions in %s s, %s crash file(s)\n' "$target" "$result" "${runs:-?}" "$seconds" "$crashes"
done
exit $status
