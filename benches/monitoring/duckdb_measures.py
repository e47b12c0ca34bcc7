"""The six measures of examples/lending-monitoring computed by DuckDB on
the same Parquet files, as `aims` defines them (docs/monitoring.md): the
same windows as of 2026-11-01, the same groups, the same formulas. Prints
one JSON object: the query time in milliseconds (median of the runs) and
the values by measure and model, rounded to six places as `aims` rounds.

usage: duckdb_measures.py LOG_FOLDER RUNS
"""
import json
import math
import statistics
import sys
import time

import duckdb

folder, runs = sys.argv[1], int(sys.argv[2])
source = f"read_parquet('{folder}/*/*.parquet', hive_partitioning = true)"

# Windows ending on 2026-11-01, both ends included, written on the
# timestamp itself so that DuckDB skips the row groups outside them (as
# aims does); `psi` compares the 30-day window with the 30 days before it.
def days(first, end):
    """From midnight UTC of `first` to, not including, midnight of `end`."""
    return f"decided_at >= TIMESTAMPTZ '{first} 00:00:00+00' AND decided_at < TIMESTAMPTZ '{end} 00:00:00+00'"


QUERIES = {
    "decisions_30d": f"""
        SELECT model, count(*)::DOUBLE AS v FROM {source}
        WHERE {days('2026-10-02', '2026-11-02')}
        GROUP BY model""",
    "approval_rates": f"""
        SELECT model, applicant_group, avg(approved::INT) AS r FROM {source}
        WHERE {days('2026-10-02', '2026-11-02')}
        GROUP BY model, applicant_group""",
    "latency_p95": f"""
        SELECT model, quantile_cont(latency_ms, 0.95) AS v FROM {source}
        WHERE {days('2026-10-25', '2026-11-02')} AND channel = 'web'
        GROUP BY model""",
    "web_decisions_7d": f"""
        SELECT '-', count(*)::DOUBLE AS v FROM {source}
        WHERE {days('2026-10-25', '2026-11-02')} AND channel = 'web'""",
    "score_bands": f"""
        SELECT model, score_band,
               count(*) FILTER (WHERE decided_at >= TIMESTAMPTZ '2026-10-02 00:00:00+00') AS now,
               count(*) FILTER (WHERE decided_at < TIMESTAMPTZ '2026-10-02 00:00:00+00') AS before
        FROM {source}
        WHERE {days('2026-09-01', '2026-11-02')}
        GROUP BY model, score_band""",
}


def run(con):
    return {name: con.execute(sql).fetchall() for name, sql in QUERIES.items()}


def values(rows):
    out = {
        "decisions_30d": {},
        "approval_gap": {},
        "approval_ratio": {},
        "latency_p95": {},
        "score_drift": {},
        "web_decisions_7d": {},
    }
    for model, v in rows["decisions_30d"]:
        out["decisions_30d"][model] = v
    rates = {}
    for model, _group, r in rows["approval_rates"]:
        rates.setdefault(model, []).append(r)
    for model, rs in rates.items():
        if len(rs) >= 2:
            out["approval_gap"][model] = max(rs) - min(rs)
            if max(rs) > 0:
                out["approval_ratio"][model] = min(rs) / max(rs)
    for model, v in rows["latency_p95"]:
        out["latency_p95"][model] = v
    for key, v in rows["web_decisions_7d"]:
        if v:
            out["web_decisions_7d"][key] = v
    bands = {}
    for model, band, now, before in rows["score_bands"]:
        bands.setdefault(model, []).append((now, before))
    for model, counts in bands.items():
        now = sum(c[0] for c in counts)
        before = sum(c[1] for c in counts)
        if now and before:
            index = 0.0
            for x, y in counts:
                a = max(x / now, 0.0001)
                e = max(y / before, 0.0001)
                index += (a - e) * math.log(a / e)
            out["score_drift"][model] = index
    return {m: {k: round(v, 6) for k, v in sorted(by.items())} for m, by in out.items()}


con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
times = []
for _ in range(runs):
    start = time.perf_counter()
    rows = run(con)
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({"ms": statistics.median(times), "all_ms": times, "values": values(rows)}))
