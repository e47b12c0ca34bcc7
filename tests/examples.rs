//! Every bundled example is a complete, clean project: it checks without a
//! warning and has findings to show (exit 1), its policy tests pass, its
//! Statement of Applicability covers all 38 Annex A controls with no gap,
//! and its report is kept as a snapshot. The stdlib's own tests pass too.

mod common;

use common::{aims, examples, name};

#[test]
fn there_are_four_example_organisations() {
    let names: Vec<String> = examples().iter().map(|d| name(d)).collect();
    assert_eq!(names, ["credit-scoring", "genai-support", "health-triage", "hr-screening"]);
}

#[test]
fn every_example_checks_cleanly_with_findings_and_a_snapshot_of_its_report() {
    for dir in examples() {
        let project = format!("examples/{}", name(&dir));
        let out = aims(&["check", &project]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{project}: {stderr}");
        assert!(stderr.is_empty(), "{project} prints warnings: {stderr}");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        insta::assert_snapshot!(format!("report_{}", name(&dir)), text);
    }
}

#[test]
fn every_example_passes_its_own_tests() {
    for dir in examples() {
        let project = format!("examples/{}", name(&dir));
        let out = aims(&["test", &project]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{project}:\n{text}");
        assert!(text.contains(" passed, 0 failed"), "{text}");
    }
}

#[test]
fn every_example_has_a_complete_statement_of_applicability() {
    for dir in examples() {
        let project = format!("examples/{}", name(&dir));
        let out = aims(&["soa", &project, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{project}: {}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let rows = json["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), 38, "{project}");
        let gaps: Vec<&str> =
            rows.iter().filter(|r| r["status"] == "not_addressed").filter_map(|r| r["id"].as_str()).collect();
        assert!(gaps.is_empty(), "{project}: not addressed: {gaps:?}");
        // Document control comes from the approved SoA record.
        let document = &json["document"];
        let recorded: &[&str] = if name(&dir) == "credit-scoring" {
            // Its own Document entity records no version, owner or approver.
            &["record", "title", "approval_date", "as_of"]
        } else {
            &["record", "title", "version", "owner", "approver", "approval_date", "as_of"]
        };
        for field in recorded {
            assert!(document[field].as_str().is_some_and(|v| !v.is_empty()), "{project}: {field} in {document}");
        }
        let own = json["organisation_controls"].as_array().expect("organisation_controls");
        for row in rows.iter().chain(own) {
            // Every row: a justification for the inclusion or the exclusion,
            // and evidence references (documents, records or the exclusion).
            assert!(row["justification"].as_str().is_some_and(|j| j.len() > 10), "{project}: {row}");
            let evidence = row["evidence"].as_array().expect("evidence");
            assert!(!evidence.is_empty(), "{project}: {}", row["id"]);
            for e in evidence {
                let ok = match e["type"].as_str() {
                    Some("document") => e["id"].is_string() && e["approved"].is_boolean(),
                    Some("record") => e["entity"].is_string() && e["key"].is_string() && e["outcome"].is_string(),
                    Some("policy") => e["location"].is_string(),
                    Some("more") => e["count"].is_u64(),
                    _ => false,
                };
                assert!(ok, "{project}: {e}");
            }
            // The implementation status is apart from the test result.
            match row["decision"].as_str() {
                Some("excluded") => assert!(row["implementation"].is_null(), "{project}: {row}"),
                Some("included") => assert!(row["implementation"].is_string(), "{project}: {row}"),
                _ => panic!("{project}: {row}"),
            }
            assert_ne!(row["status"], "not_applicable", "{project}: {row}");
        }
    }
}

#[test]
fn the_stdlib_tests_pass() {
    let out = aims(&["test", "stdlib/tests"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let passed: usize =
        text.lines().find_map(|l| l.strip_suffix(" passed, 0 failed").and_then(|n| n.parse().ok())).unwrap_or(0);
    assert!(passed >= 50, "{text}");
}

/// `use aims` loads the EU AI Act catalogue and its crosswalk (through
/// `aims.eu_ai_act`): `aims soa --framework eu-ai-act` on a project that
/// never says `use eu_ai_act` applies the crosswalk, and every article and
/// point has a rule or a mapping, so no row is "not addressed".
#[test]
fn the_eu_ai_act_statement_applies_the_crosswalk_through_use_aims_alone() {
    let sources: String = std::fs::read_dir("stdlib/tests")
        .expect("stdlib/tests")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "aims"))
        .map(|e| std::fs::read_to_string(e.path()).expect("read"))
        .collect();
    assert!(
        sources.contains("use aims\n") && !sources.contains("use eu_ai_act"),
        "the project must say only `use aims`"
    );
    let out = aims(&["soa", "stdlib/tests", "--framework", "eu-ai-act", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = json["rows"].as_array().expect("rows");
    let ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    for id in ["AIA.5.1.f", "AIA.III.1", "AIA.9", "AIA.43", "AIA.47", "AIA.48", "AIA.73"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let gaps: Vec<&str> =
        rows.iter().filter(|r| r["status"] == "not_addressed").filter_map(|r| r["id"].as_str()).collect();
    assert!(gaps.is_empty(), "not addressed: {gaps:?}");
    // AIA.9 has no rule of its own: only the crosswalk from clause 6.1 reaches it.
    let risk = rows.iter().find(|r| r["id"] == "AIA.9").expect("AIA.9");
    assert_ne!(risk["status"], "not_addressed", "{risk}");
}
