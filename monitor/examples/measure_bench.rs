//! Times the measures of a project, as `aims check` computes them, for the
//! DuckDB comparison of `benches/monitoring/compare.sh`:
//! `cargo run --release -p aims-monitor --example measure_bench -- PROJECT AS_OF RUNS`.
//! Each run loads the project afresh and times `Engine::measure` alone;
//! prints one JSON object: the median and every run's milliseconds, and
//! every measured value by measure and key.

use std::collections::BTreeMap;
use std::time::Instant;

use aims_lang::ir::Value;
use aims_lang::project::LoadOptions;
use aims_lang::{Date, Engine};
use aims_monitor::DataFusionRunner;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: measure_bench PROJECT AS_OF RUNS";
    let project = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let as_of = Date::parse(&args.next().ok_or(usage)?).ok_or("AS_OF is not a date")?;
    let runs: usize = args.next().ok_or(usage)?.parse()?;
    let runner = DataFusionRunner::default();
    let mut times = Vec::new();
    let mut values: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for _ in 0..runs {
        let mut engine = Engine::load(&project, &LoadOptions::default()).map_err(|f| format!("{:?}", f.diagnostics))?;
        let start = Instant::now();
        engine.measure(&runner, as_of).map_err(|d| format!("{d:?}"))?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        values.clear();
        for (measure, key, value) in engine.measured_values() {
            if !matches!(value, Value::Unknown(_)) {
                values.entry(measure).or_default().insert(key, number(&value));
            }
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let json =
        |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect::<Vec<_>>().join(", ");
    let by_measure: Vec<String> = values.iter().map(|(m, by)| format!("\"{m}\": {{{}}}", json(by))).collect();
    let all: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!("{{\"ms\": {median:.1}, \"all_ms\": [{}], \"values\": {{{}}}}}", all.join(", "), by_measure.join(", "));
    Ok(())
}

/// A measured value as a JSON number (a percent as its fraction).
fn number(value: &Value) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::Number(d) | Value::Percent(d) => d.to_string(),
        other => format!("\"{other:?}\""),
    }
}
