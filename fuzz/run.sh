#!/usr/bin/env bash
# Bounded fuzzing of every target: `fuzz/run.sh [SECONDS]` (default 60 per
# target). Needs cargo-fuzz (`cargo install cargo-fuzz`); the machine's
# stable toolchain is enough: RUSTC_BOOTSTRAP lets it take the sanitizer
# flags cargo-fuzz passes. A crash leaves its input in fuzz/artifacts/ and
# fails the run.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
for target in parse check facts eval deep framing; do
  mkdir -p "corpus/$target"
  # Work on a copy, so a CI run does not grow the committed corpus.
  work=$(mktemp -d)
  cp -r "corpus/$target/." "$work/"
  echo "fuzzing $target for ${seconds}s"
  cargo fuzz run -O "$target" "$work" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 \
    | grep -E "^(Done|stat::number_of_executed_units)|panicked|ERROR|SUMMARY" || true
  if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz target $target crashed: see fuzz/artifacts/$target" >&2
    exit 1
  fi
  rm -rf "$work"
done
