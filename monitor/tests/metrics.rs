//! Every metric of the stdlib computed by DataFusion over a small
//! decisions log, against values worked out by hand (below, per row), in
//! each log format: CSV, NDJSON and Parquet give the same values. The
//! project is loaded as the CLI loads it, so the whole path runs: aims.toml,
//! the schema check, the queries (all the counting measures of the log in
//! one), the fields filled.

mod common;

use aims_lang::diag::Code;
use aims_lang::ir::Value;
use aims_lang::{Date, Engine};
use common::{assert_worked_out_by_hand, csv, find, measured, ndjson, options, parquet, project, POLICY};

#[test]
fn every_metric_gives_the_value_worked_out_by_hand() {
    assert_worked_out_by_hand(&measured(&project("csv", "decisions.csv", csv(), POLICY)));
}

#[test]
fn csv_ndjson_and_parquet_logs_give_the_same_values() {
    let from_csv = measured(&project("same_csv", "decisions.csv", csv(), POLICY));
    let from_ndjson = measured(&project("same_ndjson", "decisions.ndjson", ndjson(), POLICY));
    let from_parquet = measured(&project("same_parquet", "decisions.parquet", parquet(), POLICY));
    assert_eq!(from_csv, from_ndjson);
    assert_eq!(from_csv, from_parquet);
}

#[test]
fn each_measure_alone_gives_the_value_it_gives_among_the_others_of_its_log() {
    // The counting measures of a log share one query (grouped by every
    // dimension any of them needs): alone, each must give the same values.
    let together = measured(&project("together", "decisions.csv", csv(), POLICY));
    let body = POLICY.split("\ncontrol ").next().unwrap_or(POLICY);
    let mut blocks = body.split("\nmeasure ");
    let head = blocks.next().unwrap_or_default();
    let mut checked = 0;
    for (i, block) in blocks.enumerate() {
        let declaration: String = block.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n");
        let policy =
            format!("{head}\nmeasure {declaration}\ncontrol listed for s: AISystem {{ require s.id != \"\" }}\n");
        let alone = measured(&project(&format!("alone_{i}"), "decisions.csv", csv(), &policy));
        assert!(!alone.is_empty(), "measure {block}");
        for (measure, key, value) in &alone {
            assert_eq!(value, find(&together, measure, key), "{measure} of {key}, alone and together");
            checked += 1;
        }
    }
    assert_eq!(checked, together.len(), "every measure of every system, and of the organisation");
}

#[test]
fn a_log_without_a_declared_column_or_of_the_wrong_type_is_refused_before_any_value() {
    let policy = POLICY.replace("latency_ms: Int\n", "latency_ms: Int, score: Number\n");
    let mut engine = Engine::load(&project("missing", "decisions.csv", csv(), &policy), &options()).unwrap();
    engine.set_as_of(Date::parse("2026-11-01").unwrap());
    let errors = engine.measure_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, Code::LogSchema);
    assert_eq!(errors[0].message, "log `logs` has no column `score` (field `Decision.score`)");
    // Nothing half-applied: every measured field says why it has no value.
    assert!(engine.measured_values().iter().all(|(_, _, v)| matches!(v, Value::Unknown(_))));

    // A declared type the column cannot hold (the measures that read it as a number read other things).
    let wrong = POLICY
        .replace("latency_ms: Int\n", "latency_ms: Date\n")
        .replace("mean(d.latency_ms)", "count()")
        .replace("percentile(d.latency_ms, 95)", "count()")
        .replace("psi(d.latency_ms, [250, 650])", "count()");
    let mut engine = Engine::load(&project("wrong_type", "decisions.csv", csv(), &wrong), &options()).unwrap();
    engine.set_as_of(Date::parse("2026-11-01").unwrap());
    let errors = engine.measure_errors();
    assert_eq!(errors[0].code, Code::LogSchema);
    assert_eq!(
        errors[0].message,
        "column `latency_ms` of log `logs` is `Int64`, which cannot hold a `Date` (a date, timestamp or YYYY-MM-DD string column) (field `Decision.latency_ms`)"
    );
}

#[test]
fn a_file_that_is_not_what_it_says_is_a_read_error_naming_the_log() {
    let mut engine =
        Engine::load(&project("corrupt", "decisions.parquet", b"PAR1 not really".to_vec(), POLICY), &options())
            .unwrap();
    engine.set_as_of(Date::parse("2026-11-01").unwrap());
    let errors = engine.measure_errors();
    assert_eq!(errors[0].code, Code::LogRead);
    assert!(errors[0].message.starts_with("cannot read log `logs`"), "{}", errors[0].message);
}

#[test]
fn a_finding_on_a_measured_value_traces_its_rows_window_and_log() {
    let policy = format!(
        "{POLICY}\ncontrol busy_web {{ require web_volume >= 100 }}\n\
         control approved_often for s: AISystem {{ require s.approval >= 60% }}\n"
    );
    let mut engine = Engine::load(&project("trace", "decisions.csv", csv(), &policy), &options()).unwrap();
    let as_of = Date::parse("2026-11-01").unwrap();
    engine.set_as_of(as_of);
    let evaluation = engine.evaluate(as_of);
    let report = aims_lang::report::Report::build(
        engine.name(),
        engine.program(),
        &engine.facts(),
        engine.sources(),
        &evaluation,
    )
    .with_measurements(engine.measurements());
    let mut text = Vec::new();
    report.write_text(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    // The organisation's measure: every web row in the window.
    assert!(text.contains("saw web_volume = 11"), "{text}");
    assert!(
        text.contains("measured: web_volume is count() over 11 rows from 2026-10-02 to 2026-11-01 in logs (1 file)"),
        "{text}"
    );
    // A measured field of the rule's subject: m1's 8 rows.
    assert!(
        text.contains(
            "measured: s.approval is rate(approved) over 8 rows from 2026-10-02 to 2026-11-01 in logs (1 file)"
        ),
        "{text}"
    );
    // The JSON report carries every value with its rows.
    let mut json = Vec::new();
    report.write_json(&mut json).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let volume = json["measurements"].as_array().unwrap().iter().find(|m| m["measure"] == "web_volume").unwrap();
    assert_eq!(volume["values"][0]["key"], "-");
    assert_eq!(volume["values"][0]["rows"], 11);
    assert_eq!(volume["files"][0], "logs/decisions.csv");
    assert_eq!(volume["window"]["from"], "2026-10-02");
}
