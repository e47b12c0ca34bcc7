#!/usr/bin/env sh
# Writes this example's decisions log: 1,200,000 credit decisions (or the
# number given) over the 90 days to 2026-11-01, as Parquet files under
# logs/decisions/month=YYYY-MM/. The rows come from a fixed seed: every run
# writes the same log. Run it from anywhere; it takes about a minute.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
cargo run --release --quiet -p aims-monitor --example lending_log -- "$here/logs/decisions" "${1:-1200000}"
