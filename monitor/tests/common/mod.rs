//! The small decisions log whose metrics were worked out by hand, in
//! each format, and a project around it loaded as the CLI loads it.

#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aims_lang::ir::{Unknown, Value};
use aims_lang::measure::Decimal;
use aims_lang::project::{LoadOptions, RunnerHandle};
use aims_lang::{Date, Engine};
use aims_monitor::DataFusionRunner;

/// system, decided_at, approved, repaid, group, channel, latency_ms. As of
/// 2026-11-01, `within 30 days` is 2026-10-02 to 2026-11-01; the period
/// before it (for `psi`) is 2026-09-01 to 2026-10-01.
const ROWS: &[(&str, &str, bool, bool, &str, &str, i64)] = &[
    // m1 in the window: group a approved 3 of 4, group b 1 of 4.
    ("m1", "2026-10-05", true, true, "a", "web", 100),
    ("m1", "2026-10-06", true, true, "a", "web", 200),
    ("m1", "2026-10-07", true, false, "a", "web", 300),
    ("m1", "2026-10-08", false, true, "a", "web", 400),
    ("m1", "2026-10-09", true, true, "b", "web", 500),
    ("m1", "2026-10-10", false, true, "b", "web", 600),
    ("m1", "2026-10-11", false, false, "b", "web", 700),
    ("m1", "2026-11-01", false, false, "b", "web", 800),
    // m1 before the window: group a 4 rows, group b 1.
    ("m1", "2026-09-15", false, false, "a", "web", 50),
    ("m1", "2026-09-16", false, false, "a", "web", 50),
    ("m1", "2026-09-17", false, false, "a", "web", 50),
    ("m1", "2026-09-01", false, false, "a", "web", 50),
    ("m1", "2026-09-20", true, true, "b", "web", 50),
    // m1 after as_of, and through another channel: never counted.
    ("m1", "2026-11-02", true, true, "a", "web", 9999),
    ("m1", "2026-10-12", true, true, "a", "branch", 10),
    // m2: one group only, nothing before the window.
    ("m2", "2026-10-20", true, true, "a", "web", 100),
    ("m2", "2026-10-21", true, false, "a", "web", 100),
    ("m2", "2026-10-22", false, true, "a", "web", 300),
];

pub const POLICY: &str = r#"
enum Channel { web, branch }
entity AISystem { id: Text key }
record Decision {
  system: Text, decided_at: Date, approved: Bool, repaid: Bool?, group: Text, channel: Channel, latency_ms: Int
}

measure volume for s: AISystem = count()
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure approval for s: AISystem = rate(d.approved)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure latency_mean for s: AISystem = mean(d.latency_ms)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure latency_p95 for s: AISystem = percentile(d.latency_ms, 95)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure parity for s: AISystem = parity_difference(d.approved, d.group)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure impact for s: AISystem = impact_ratio(d.approved, d.group)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure opportunity for s: AISystem = opportunity_difference(d.approved, d.repaid, d.group)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure errors for s: AISystem = error_rate(d.approved, d.repaid)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure errors_gap for s: AISystem = error_rate_difference(d.approved, d.repaid, d.group)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure drift for s: AISystem = psi(d.group)
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web
measure latency_drift for s: AISystem = psi(d.latency_ms, [250, 650])
  over d: Decision where d.system == s.id and d.decided_at within 30 days and d.channel == web


// The organisation as a whole: every web row in the window, whatever its system.
measure web_volume = count()
  over d: Decision where d.decided_at within 30 days and d.channel == web
measure web_approval = rate(d.approved)
  over d: Decision where d.decided_at within 30 days and d.channel == web
measure web_latency_p95 = percentile(d.latency_ms, 95)
  over d: Decision where d.decided_at within 30 days and d.channel == web
measure branch_volume = count()
  over d: Decision where d.decided_at within 7 days and d.channel == branch

control fair for s: AISystem { require s.parity <= 10% }
control enough_volume { require web_volume >= 10 }
"#;

pub fn csv() -> Vec<u8> {
    let mut out = String::from("system,decided_at,approved,repaid,group,channel,latency_ms\n");
    for (s, d, a, r, g, c, l) in ROWS {
        out.push_str(&format!("{s},{d},{a},{r},{g},{c},{l}\n"));
    }
    out.into_bytes()
}

pub fn ndjson() -> Vec<u8> {
    let mut out = String::new();
    for (s, d, a, r, g, c, l) in ROWS {
        out.push_str(&format!(
            "{{\"system\":\"{s}\",\"decided_at\":\"{d}\",\"approved\":{a},\"repaid\":{r},\"group\":\"{g}\",\"channel\":\"{c}\",\"latency_ms\":{l}}}\n"
        ));
    }
    out.into_bytes()
}

pub fn parquet() -> Vec<u8> {
    use datafusion::arrow::array::{ArrayRef, BooleanArray, Date32Array, Int64Array, StringArray};
    use datafusion::arrow::record_batch::RecordBatch;
    let day = |d: &str| Date::parse(d).unwrap().days_since(Date::UNIX_EPOCH) as i32;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("system", Arc::new(StringArray::from_iter_values(ROWS.iter().map(|r| r.0)))),
        ("decided_at", Arc::new(Date32Array::from_iter_values(ROWS.iter().map(|r| day(r.1))))),
        ("approved", Arc::new(BooleanArray::from_iter(ROWS.iter().map(|r| Some(r.2))))),
        ("repaid", Arc::new(BooleanArray::from_iter(ROWS.iter().map(|r| Some(r.3))))),
        ("group", Arc::new(StringArray::from_iter_values(ROWS.iter().map(|r| r.4)))),
        ("channel", Arc::new(StringArray::from_iter_values(ROWS.iter().map(|r| r.5)))),
        ("latency_ms", Arc::new(Int64Array::from_iter_values(ROWS.iter().map(|r| r.6)))),
    ];
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut out = Vec::new();
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

pub fn project(name: &str, log: &str, bytes: Vec<u8>, policy: &str) -> PathBuf {
    project_with(name, log, bytes, policy, "")
}

/// A project whose aims.toml ends with `manifest` (a `[cluster]` table).
pub fn project_with(name: &str, log: &str, bytes: Vec<u8>, policy: &str, manifest: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("monitor").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("policy.aims"), policy).unwrap();
    std::fs::write(dir.join("systems.json"), r#"{"AISystem": [{"id": "m1"}, {"id": "m2"}, {"id": "m3"}]}"#).unwrap();
    std::fs::write(dir.join("logs").join(log), bytes).unwrap();
    std::fs::write(
        dir.join("aims.toml"),
        format!("[[facts]]\npath = \"systems.json\"\n\n[[logs]]\nrecord = \"Decision\"\npath = \"logs\"\n{manifest}"),
    )
    .unwrap();
    dir
}

pub fn options() -> LoadOptions {
    LoadOptions { measure_runner: Some(RunnerHandle(Arc::new(DataFusionRunner::default()))), ..Default::default() }
}

/// Every measured field of every system, as the policy reads it.
pub fn measured(dir: &Path) -> Vec<(String, String, Value)> {
    let mut engine = Engine::load(dir, &options())
        .unwrap_or_else(|f| panic!("{}", aims_lang::diag::render(&f.diagnostics, &f.sources, Default::default())));
    engine.set_as_of(Date::parse("2026-11-01").unwrap());
    assert!(engine.measure_errors().is_empty(), "{:?}", engine.measure_errors());
    engine.measured_values()
}

pub fn find<'a>(all: &'a [(String, String, Value)], measure: &str, key: &str) -> &'a Value {
    &all.iter().find(|(m, k, _)| m == measure && k == key).unwrap_or_else(|| panic!("{measure} {key}")).2
}

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn why(v: &Value) -> String {
    match v {
        Value::Unknown(u) => match &**u {
            Unknown::Unmeasured(why) => why.to_string(),
            other => panic!("{other:?}"),
        },
        other => panic!("known: {other:?}"),
    }
}

/// The values worked out by hand for [`POLICY`] over the rows above.
pub fn assert_worked_out_by_hand(all: &[(String, String, Value)]) {
    assert_eq!(find(all, "volume", "m1"), &Value::Int(8));
    assert_eq!(find(all, "approval", "m1"), &Value::Percent(dec("0.5")), "rows 1, 2, 3, 5 of 8");
    assert_eq!(find(all, "latency_mean", "m1"), &Value::Number(dec("450")));
    assert_eq!(find(all, "latency_p95", "m1"), &Value::Number(dec("765")), "700 + 0.65 × 100 at rank 6.65");
    assert_eq!(find(all, "parity", "m1"), &Value::Percent(dec("0.5")), "75% − 25%");
    assert_eq!(find(all, "impact", "m1"), &Value::Number(dec("0.333333")), "25% / 75%, six places");
    assert_eq!(
        find(all, "opportunity", "m1"),
        &Value::Percent(dec("0.166667")),
        "repaid: a approved 2 of 3, b 1 of 2: 2/3 − 1/2, six places"
    );
    assert_eq!(find(all, "errors", "m1"), &Value::Percent(dec("0.375")), "rows 3, 4, 6 of 8");
    assert_eq!(find(all, "errors_gap", "m1"), &Value::Percent(dec("0.25")), "a 2 of 4, b 1 of 4");
    // (0.5 − 0.8)·ln(0.5/0.8) + (0.5 − 0.2)·ln(0.5/0.2)
    assert_eq!(find(all, "drift", "m1"), &Value::Number(dec("0.415888")));
    // bins now 2/4/2 of 8, before 5/0/0 of 5 (0 counts as 0.0001)
    assert_eq!(find(all, "latency_drift", "m1"), &Value::Number(dec("7.252695")));

    assert_eq!(find(all, "volume", "m2"), &Value::Int(3));
    assert_eq!(find(all, "approval", "m2"), &Value::Percent(dec("0.666667")));
    // Tied values: sorted 100, 100, 300; rank 0.95 × 2 = 1.9: 100 + 0.9 × 200.
    assert_eq!(find(all, "latency_p95", "m2"), &Value::Number(dec("280")));
    assert_eq!(find(all, "latency_mean", "m2"), &Value::Number(dec("166.666667")));
    assert_eq!(
        why(find(all, "parity", "m2")),
        "fewer than two groups of `group` have a recorded `approved` (3 rows of `m2` from 2026-10-02 to 2026-11-01 in logs)"
    );
    assert_eq!(
        why(find(all, "drift", "m2")),
        "no row in the period before the window records `group` (3 rows of `m2` from 2026-10-02 to 2026-11-01 in logs)"
    );
    // The organisation: m1's 8 rows and m2's 3 in the window.
    assert_eq!(find(all, "web_volume", "-"), &Value::Int(11));
    assert_eq!(find(all, "web_approval", "-"), &Value::Percent(dec("0.545455")), "m1 4 + m2 2 of 11");
    // Sorted: 100 100 100 200 300 300 400 500 600 700 800; rank 0.95 × 10 = 9.5.
    assert_eq!(find(all, "web_latency_p95", "-"), &Value::Number(dec("750")), "700 + 0.5 × 100");
    // The one branch row (2026-10-12) is before the 7-day window: no rows, no value.
    assert_eq!(why(find(all, "branch_volume", "-")), "no `Decision` row from 2026-10-25 to 2026-11-01 in logs");

    for measure in ["volume", "approval", "parity", "drift"] {
        assert_eq!(
            why(find(all, measure, "m3")),
            "no `Decision` row of `m3` from 2026-10-02 to 2026-11-01 in logs",
            "{measure}"
        );
    }
}
