#!/usr/bin/env bash
# The measures of examples/lending-monitoring on a large decisions log,
# computed by aims (DataFusion, in process) and by DuckDB on the same
# Parquet files: the time of each and whether the values agree.
#
#   benches/monitoring/compare.sh [ROWS] [RUNS]     (50,000,000 rows, 3 runs)
#
# Writes the log once per row count under target/bench-monitoring/ (about
# 300 MB at 50,000,000 rows), installs DuckDB from PyPI in a virtualenv of
# its own there (only this benchmark uses it), and prints one table.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${1:-50000000}
runs=${2:-3}
work=$PWD/target/bench-monitoring
project=$work/project-$rows

cargo build --release --locked --quiet -p aims-monitor --example lending_log --example measure_bench
bin=$PWD/target/release/examples

if [ ! -f "$project/.complete" ]; then
  rm -rf "$project"
  mkdir -p "$project"
  cp -r examples/lending-monitoring/policy examples/lending-monitoring/facts examples/lending-monitoring/aims.toml "$project/"
  echo "writing $rows decisions"
  "$bin/lending_log" "$project/logs/decisions" "$rows"
  touch "$project/.complete"
fi

venv=$work/venv
[ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
"$venv/bin/python3" -c "import duckdb" 2>/dev/null ||
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check duckdb

aims_json=$("$bin/measure_bench" "$project" 2026-11-01 "$runs")
duck_json=$("$venv/bin/python3" benches/monitoring/duckdb_measures.py "$project/logs/decisions" "$runs")

"$venv/bin/python3" - "$rows" "$aims_json" "$duck_json" <<'PY'
import json, sys
rows, aims, duck = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"{rows:,} decisions, {len(duck['values'])} measures, median of {len(aims['all_ms'])} runs")
print(f"  aims (DataFusion): {aims['ms']:9.1f} ms   runs {aims['all_ms']}")
print(f"  DuckDB:            {duck['ms']:9.1f} ms   runs {[round(t, 1) for t in duck['all_ms']]}")
print(f"  aims / DuckDB:     {aims['ms'] / duck['ms']:9.2f}")
disagree = []
for measure, by_model in duck["values"].items():
    for model, expected in by_model.items():
        got = aims["values"].get(measure, {}).get(model)
        if got is None or abs(got - expected) > 2e-6 * max(1.0, abs(expected)):
            disagree.append((measure, model, got, expected))
    extra = set(aims["values"].get(measure, {})) - set(by_model)
    disagree.extend((measure, model, aims["values"][measure][model], None) for model in sorted(extra))
if disagree:
    print("values differ (measure, model, aims, DuckDB):")
    for d in disagree:
        print("  ", d)
    sys.exit(1)
print(f"  values: the same ({sum(len(v) for v in duck['values'].values())} values)")
PY
