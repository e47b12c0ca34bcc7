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
# system changed, every finding updated), peak memory of the whole
# process (/usr/bin/time -v; for aims, `aims check` on the same file), and
# the whole `aims check` process with `--format json` and `--format text`
# (wall time, its phases from AIMS_PHASE_TIMING, peak memory) against the
# hand-written load plus evaluation (native load_facts_ms + eval_full_first_ms).
# The report goes to a file under $out (standard output redirected, as
# `aims check ... > report.json` in a CI job): sent down a pipe, the time
# would be partly the reader's (a `grep` reading 263 MB of JSON on the same
# two cores). `--output FILE` also waits for the disk (it syncs the file
# before renaming it into place), which this does not measure. Before each
# command the disk is synced and the facts file read once, so that no
# command pays for the one before (the writing back of a 269 MB report)
# or for a facts file the kernel dropped from its cache in between: each
# reads the facts from memory and starts with nothing left to write.
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
timed() { # label, command...: appends the command's JSON lines, its peak RSS and wall time
  local label=$1; shift
  local time_log
  time_log=$(mktemp)
  sync
  cat "$facts" > /dev/null
  if [ -n "${report_to:-}" ]; then
    AIMS_PHASE_TIMING=1 /usr/bin/time -v "$@" 2> "$time_log" > "$report_to" || true
  else
    AIMS_PHASE_TIMING=1 /usr/bin/time -v "$@" 2> "$time_log" | grep '^{"engine"' >> "$raw" || true
  fi
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$time_log")
  echo "{\"engine\":\"$label\",\"metric\":\"peak_rss_kb\",\"value\":$rss}" >> "$raw"
  # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:05.34" in milliseconds.
  wall=$(awk '/Elapsed \(wall clock\)/ {n = split($NF, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s * 1000}' "$time_log")
  echo "{\"engine\":\"$label\",\"metric\":\"wall_ms\",\"value\":$wall}" >> "$raw"
  # `aims check` says how long each phase took (AIMS_PHASE_TIMING).
  { grep '^aims: phases:' "$time_log" || true; } | sed 's/^aims: phases: //; s/, /\n/g' | while read -r phase; do
    phase=${phase% ms}
    echo "{\"engine\":\"$label\",\"metric\":\"phase ${phase% *}\",\"value\":${phase##* }}" >> "$raw"
  done
  rm -f "$time_log"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds (N = $n)" >&2
  timed native "$harness" --facts "$facts" --engine native --run "$round"
  timed aims ./target/release/examples/peers_timing "$facts" "$round"
  report_to="$out/report-n$n.json" timed aims-check ./target/release/aims check benches/peers --facts "$facts" --as-of 2026-01-01 --format json
  report_to="$out/report-n$n.txt" timed aims-check-text ./target/release/aims check benches/peers --facts "$facts" --as-of 2026-01-01 --format text
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
native_whole = None
if med("native", "load_facts_ms") is not None and med("native", "eval_full_first_ms") is not None:
    native_whole = med("native", "load_facts_ms") + med("native", "eval_full_first_ms")
print()
print("The whole `aims check` process against the hand-written load + evaluation (native load_facts_ms + eval_full_first_ms):")
print("| `aims check` | wall (ms) | load | evaluate | build report | write | native load + evaluation (ms) | aims / native | peak memory (MiB) | aims / native |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
native_rss = (med("native", "peak_rss_kb") or 0) / 1024
for label, name in (("aims-check", "--format json"), ("aims-check-text", "--format text")):
    wall = med(label, "wall_ms")
    rss = (med(label, "peak_rss_kb") or 0) / 1024
    phases = [fmt(med(label, "phase " + p)) for p in ("load", "evaluate", "build report", "write")]
    print(f"| {name} | {fmt(wall)} | {' | '.join(phases)} | {fmt(native_whole)} | {ratio(wall, native_whole)} | {fmt(rss)} | {ratio(rss, native_rss)} |")
print()
print("native's 'what-if' is its full re-evaluation after the edit (reeval_full_ms);")
print("aims's is Engine::what_if_field: the changed outcomes and findings only.")
print("'whole process' is `aims check --format json` (report included); 'engine only' the timing example;")
print("the phases are those `aims check` reports with AIMS_PHASE_TIMING=1 (docs/cli.md).")
PY
