#!/usr/bin/env bash
# Side-by-side: aims against the peer harness's hand-written `native` floor
# and regorus's bytecode VM (`regorus-rvm`), on one facts file, in one run,
# interleaved, a fresh process each time.
#
#   benches/peers/compare.sh N [ROUNDS]        (from the repository root)
#
# PEERS_DIR points at the harness (default ../shared/peers). It prints the
# medians and the ratios aims / native and regorus-rvm / aims for loading
# the facts, the first full evaluation, one what-if (one attribute of one
# system changed, every finding updated) and peak memory of the whole
# process (/usr/bin/time -v; for aims, `aims check` on the same file).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:?usage: compare.sh N [ROUNDS]}
rounds=${2:-3}
peers=${PEERS_DIR:-../shared/peers}
out=${AIMS_COMPARE_OUT:-target/compare}
mkdir -p "$out"

cargo build --release --quiet --bin aims
cargo build --release --quiet -p aims-lang --example peers_timing
(cd "$peers" && cargo build --release --quiet)
harness="$peers/target/release/peers-bench"
facts="$out/facts-n$n.json"
[ -f "$facts" ] || "$harness" --n "$n" --write-facts "$facts" > /dev/null

raw="$out/raw-n$n.jsonl"
: > "$raw"
timed() { # label, command...: appends the command's JSON lines and its peak RSS
  local label=$1; shift
  local time_log
  time_log=$(mktemp)
  /usr/bin/time -v "$@" 2> "$time_log" | grep '^{"engine"' >> "$raw" || true
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$time_log")
  echo "{\"engine\":\"$label\",\"metric\":\"peak_rss_kb\",\"value\":$rss}" >> "$raw"
  rm -f "$time_log"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds (N = $n)" >&2
  timed native "$harness" --facts "$facts" --engine native --run "$round"
  timed aims ./target/release/examples/peers_timing "$facts" "$round"
  timed aims-check ./target/release/aims check benches/peers --facts "$facts" --as-of 2026-01-01 --format json
  timed regorus-rvm "$harness" --facts "$facts" --engine regorus-rvm --run "$round"
done

python3 - "$raw" "$n" <<'PY'
import json, statistics, sys
raw, n = sys.argv[1], sys.argv[2]
values = {}
for line in open(raw):
    line = line.strip()
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    values.setdefault((d["engine"], d["metric"]), []).append(float(d["value"]))
def med(engine, metric):
    v = values.get((engine, metric))
    return statistics.median(v) if v else None
rows = [
    ("load facts (ms)", med("aims", "load_facts_ms"), med("native", "load_facts_ms"), med("regorus-rvm", "load_facts_ms")),
    ("full evaluation, first (ms)", med("aims", "eval_full_first_ms"), med("native", "eval_full_first_ms"), med("regorus-rvm", "eval_full_first_ms")),
    ("one what-if, all findings (ms)", med("aims", "whatif_ms"), med("native", "reeval_full_ms"), med("regorus-rvm", "reeval_full_ms")),
    ("peak memory, whole process (MiB)", (med("aims-check", "peak_rss_kb") or 0) / 1024, (med("native", "peak_rss_kb") or 0) / 1024, (med("regorus-rvm", "peak_rss_kb") or 0) / 1024),
    ("peak memory, engine only (MiB)", (med("aims", "peak_rss_kb") or 0) / 1024, (med("native", "peak_rss_kb") or 0) / 1024, (med("regorus-rvm", "peak_rss_kb") or 0) / 1024),
]
def fmt(x):
    return "n/a" if x is None else (f"{x:,.3f}" if x < 10 else f"{x:,.1f}")
def ratio(a, b):
    return "n/a" if not a or not b else f"{a / b:,.2f}"
print(f"N = {n}, medians of {len(values.get(('aims', 'whatif_ms'), []))} rounds")
print(f"| metric | aims | native | regorus-rvm | aims / native | regorus-rvm / aims |")
print(f"|---|---:|---:|---:|---:|---:|")
for name, a, nat, rvm in rows:
    print(f"| {name} | {fmt(a)} | {fmt(nat)} | {fmt(rvm)} | {ratio(a, nat)} | {ratio(rvm, a)} |")
print()
print("native's 'what-if' is its full re-evaluation after the edit (reeval_full_ms);")
print("aims's is Engine::what_if_field: the changed outcomes and findings only.")
print("'whole process' is `aims check --format json` (report included); 'engine only' the timing example.")
PY
