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

#[test]
fn rows_say_what_is_expected_what_was_found_and_the_grade() {
    let json = gap_json("tests/fixtures/gap", &[]);
    // Not addressed: the catalogue's paraphrase, nothing found, graded major.
    let changes = row(&json, "clauses", "6.3");
    assert_eq!(changes["expects"], "Plan changes to the AIMS and carry them out in a planned way.");
    assert!(changes["found"].as_str().is_some_and(|f| f.starts_with("nothing checks it")), "{changes}");
    assert_eq!(changes["grade"], "major");
    // Failing: the worst severity of the failing rules (`policy_exists` has the default, minor).
    let policy = row(&json, "clauses", "5.2");
    assert_eq!(policy["grade"], "minor");
    assert_eq!(policy["found"], "fails for policy_exists");
    // No evidence: minor, and what is missing.
    let quality = row(&json, "controls", "A.7.4");
    assert_eq!(quality["grade"], "minor");
    assert!(quality["found"].as_str().is_some_and(|f| f.contains("quality_checked")), "{quality}");
    // Passing and excluded rows carry no grade; every row says what it expects.
    assert!(row(&json, "clauses", "4.3").get("grade").is_none());
    assert!(row(&json, "controls", "A.10.4").get("grade").is_none());
    for list in ["clauses", "controls"] {
        for r in json["gap"][list].as_array().expect("rows") {
            let expects = r["expects"].as_str().unwrap_or_default();
            assert!(expects.len() > r["title"].as_str().unwrap_or_default().len(), "{} paraphrased", r["id"]);
            assert!(!r["found"].as_str().unwrap_or_default().is_empty(), "{}", r["id"]);
        }
    }
}

#[test]
fn risks_and_objectives_count_for_the_clauses_they_cite() {
    let json = gap_json("tests/fixtures/gap-clauses", &[]);
    let risks = row(&json, "clauses", "6.1.2");
    assert_eq!(risks["status"], "passing", "{risks}");
    assert_eq!(risks["evidenced_by"], serde_json::json!(["risk misuse"]));
    let objectives = row(&json, "clauses", "6.2");
    assert_eq!(objectives["status"], "passing", "{objectives}");
    assert_eq!(objectives["evidenced_by"], serde_json::json!(["objective stated_uses"]));
    // A clause nothing cites stays not addressed.
    assert_eq!(row(&json, "clauses", "6.1.3")["status"], "not_addressed");
}

#[test]
fn remediation_is_the_open_action_plan_with_its_owner_and_due_date() {
    let json = gap_json("tests/fixtures/gap-clauses", &[]);
    let changes = &row(&json, "clauses", "6.3")["remediation"];
    assert_eq!(changes["action"], "ap-changes");
    assert_eq!(changes["owner"], "kim");
    assert_eq!((changes["due"].as_str(), changes["overdue"].as_bool()), (Some("2026-05-31"), Some(true)));
    let awareness = &row(&json, "clauses", "7.3")["remediation"];
    assert_eq!((awareness["due"].as_str(), awareness["overdue"].as_bool()), (Some("2026-09-30"), Some(false)));
    assert!(row(&json, "clauses", "7.4").get("remediation").is_none(), "a completed action is not open");
    let text = String::from_utf8_lossy(&aims(&["gap", "tests/fixtures/gap-clauses"]).stdout).to_string();
    assert!(text.contains("remediation: action ap-changes, owner kim, due 2026-05-31 (overdue)"), "{text}");
}

#[test]
fn stage_verdicts_name_what_blocks_them() {
    let json = gap_json("tests/fixtures/gap", &[]);
    let stage1 = &json["gap"]["stage1"];
    assert_eq!(stage1["ready"], false);
    let blockers: Vec<&str> =
        stage1["blockers"].as_array().expect("blockers").iter().filter_map(|b| b["id"].as_str()).collect();
    // 5.2 fails and 6.1.1 is not addressed; 4.3, 9.2.1 and 9.2.2 pass; 6.3 is not reviewed at stage 1.
    assert!(blockers.contains(&"5.2") && blockers.contains(&"6.1.1"), "{blockers:?}");
    assert!(!blockers.contains(&"4.3") && !blockers.contains(&"9.2.1") && !blockers.contains(&"6.3"), "{blockers:?}");
    // Annex A controls neither included nor excluded block stage 1; excluded ones do not.
    assert!(blockers.contains(&"A.2.2") && !blockers.contains(&"A.10.4"), "{blockers:?}");
    let stage2 = &json["gap"]["stage2"];
    assert_eq!(stage2["ready"], false);
    assert_eq!(stage2["blockers"][0]["id"], "stage 1");
    let text = String::from_utf8_lossy(&aims(&["gap", "tests/fixtures/gap"]).stdout).to_string();
    assert!(text.contains("  stage 1: not ready\n") && text.contains("    blocked by 5.2: failing"), "{text}");
}

#[test]
fn a_baseline_gives_the_change_since_then() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut before = gap_json("tests/fixtures/gap", &[]);
    // Pretend 4.3 failed then and 5.2 passed, at another readiness.
    for r in before["gap"]["clauses"].as_array_mut().expect("rows") {
        match r["id"].as_str() {
            Some("4.3") => r["status"] = "failing".into(),
            Some("5.2") => r["status"] = "passing".into(),
            _ => {}
        }
    }
    before["as_of"] = "2026-01-01".into();
    before["gap"]["overall"]["percent"] = 2.9.into();
    let path = dir.path().join("before.json");
    std::fs::write(&path, serde_json::to_string(&before).expect("json")).expect("write");
    let baseline = path.to_str().expect("path");
    let json = gap_json("tests/fixtures/gap", &["--baseline", baseline]);
    let change = &json["change"];
    assert_eq!(change["baseline_as_of"], "2026-01-01");
    assert_eq!((change["readiness_was"].as_f64(), change["readiness_now"].as_f64()), (Some(2.9), Some(5.9)));
    let rows = change["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((&rows[0]["id"], &rows[0]["direction"]), (&"4.3".into(), &"improved".into()));
    assert_eq!(
        (&rows[1]["id"], &rows[1]["was"], &rows[1]["now"]),
        (&"5.2".into(), &"passing".into(), &"failing".into())
    );
    let text =
        String::from_utf8_lossy(&aims(&["gap", "tests/fixtures/gap", "--baseline", baseline]).stdout).to_string();
    assert!(text.contains("Since the baseline of 2026-01-01\n  readiness 2.9% -> 5.9%"), "{text}");
    // Unchanged against itself.
    let same = dir.path().join("same.json");
    std::fs::write(&same, serde_json::to_string(&gap_json("tests/fixtures/gap", &[])).expect("json")).expect("write");
    let again = gap_json("tests/fixtures/gap", &["--baseline", same.to_str().expect("path")]);
    assert_eq!(again["change"]["rows"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_baseline_of_another_format_is_refused_before_any_fact_is_loaded() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A project whose facts cannot be read: loading them would fail.
    std::fs::write(dir.path().join("aims.toml"), "[project]\nname = \"broken\"\n\n[[facts]]\npath = \"facts.json\"\n")
        .expect("write");
    std::fs::write(dir.path().join("policy.aims"), "use iso42001\naudit a clause 4.3 { require true }\n")
        .expect("write");
    std::fs::write(dir.path().join("facts.json"), "{ not json").expect("write");
    let project = dir.path().to_str().expect("path");
    let loaded = aims(&["gap", project]);
    assert!(String::from_utf8_lossy(&loaded.stderr).contains("facts.json"), "the facts are read without a baseline");
    let soa = dir.path().join("soa.json");
    let out = aims(&["soa", "examples/hr-screening", "--format", "json"]);
    std::fs::write(&soa, &out.stdout).expect("write");
    let text = dir.path().join("gap.txt");
    std::fs::write(&text, aims(&["gap", "tests/fixtures/gap"]).stdout).expect("write");
    for (file, says) in [(&soa, "it is `aims-soa/2`, not `aims-gap/2`"), (&text, "it is not JSON")] {
        let out = aims(&["gap", project, "--baseline", file.to_str().expect("path")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "a usage error: {stderr}");
        assert!(stderr.contains("is refused") && stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("facts.json"), "refused before the facts are loaded: {stderr}");
    }
}
