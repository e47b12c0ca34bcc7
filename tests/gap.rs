//! `aims gap`: readiness checked against a hand computation on a small
//! fixture, the timeline's due day at its boundary, and snapshots of the
//! gap analysis of every example (every clause and all 38 Annex A
//! controls appear).

mod common;

use common::{aims, examples};

fn gap_json(project: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["gap", project, "--format", "json"];
    args.extend_from_slice(extra);
    let out = aims(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn group<'v>(json: &'v serde_json::Value, name: &str) -> &'v serde_json::Value {
    json["gap"]["groups"].as_array().and_then(|g| g.iter().find(|g| g["group"] == name)).expect("group")
}

fn row<'v>(json: &'v serde_json::Value, list: &str, id: &str) -> &'v serde_json::Value {
    json["gap"][list].as_array().and_then(|r| r.iter().find(|r| r["id"] == id)).expect("row")
}

#[test]
fn readiness_matches_the_hand_computation() {
    let json = gap_json("tests/fixtures/gap", &[]);
    // 32 clause rows (the leaves 4.1 .. 10.2) and 38 Annex A rows, two of them
    // excluded: 68 count. Passing: 4.3, 9.2.1 and 9.2.2 (`audited` cites 9.2,
    // so both sub-clauses), A.3.2: 4 of 68 = 5.882..% → 5.9%.
    assert_eq!(json["gap"]["clauses"].as_array().map_or(0, Vec::len), 32);
    assert_eq!(json["gap"]["controls"].as_array().map_or(0, Vec::len), 38);
    let overall = &json["gap"]["overall"];
    assert_eq!((overall["passing"].as_u64(), overall["applicable"].as_u64()), (Some(4), Some(68)));
    assert_eq!(overall["percent"].as_f64(), Some(5.9));
    assert_eq!(group(&json, "4")["percent"].as_f64(), Some(25.0), "1 of 4");
    assert_eq!(group(&json, "9")["percent"].as_f64(), Some(33.3), "2 of 6");
    assert_eq!(group(&json, "A.10")["applicable"].as_u64(), Some(1), "two of three excluded");
    assert_eq!(row(&json, "clauses", "5.2")["status"], "failing");
    assert_eq!(row(&json, "controls", "A.7.4")["status"], "no_evidence");
    assert_eq!(row(&json, "controls", "A.10.4")["status"], "excluded");
    assert_eq!(row(&json, "clauses", "6.3")["status"], "not_addressed");
}

#[test]
fn the_timeline_names_the_first_day_a_rule_fails() {
    // The internal audit of 2025-06-15 counts through 2026-06-15.
    let json = gap_json("tests/fixtures/gap", &["--timeline", "--window", "30"]);
    let due = json["timeline"]["due"].as_array().expect("due");
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["date"], "2026-06-16");
    assert_eq!(due[0]["name"], "audited");
    let short = gap_json("tests/fixtures/gap", &["--timeline", "--window", "14"]);
    assert_eq!(short["timeline"]["due"].as_array().map_or(1, Vec::len), 0, "2026-06-16 is 15 days away");
    let exact = gap_json("tests/fixtures/gap", &["--timeline", "--window", "15"]);
    assert_eq!(exact["timeline"]["due"].as_array().map_or(0, Vec::len), 1, "the last day of the window counts");
}

#[test]
fn every_example_has_a_complete_gap_analysis() {
    for name in examples().iter().map(|d| common::name(d)) {
        let project = format!("examples/{name}");
        let json = gap_json(&project, &[]);
        assert_eq!(json["gap"]["clauses"].as_array().map_or(0, Vec::len), 32, "{name}");
        assert_eq!(json["gap"]["controls"].as_array().map_or(0, Vec::len), 38, "{name}");
        let out = aims(&["gap", &project, "--timeline"]);
        assert_eq!(out.status.code(), Some(0));
        insta::assert_snapshot!(format!("gap_{name}"), String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn a_project_without_the_catalogue_is_told_how_to_load_it() {
    let out = aims(&["gap", "tests/fixtures/coverage/policy.aims"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use iso42001"));
}
