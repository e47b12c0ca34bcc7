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

/// The copy of `examples/inventory` in `dir`.
fn copy_inventory(dir: &std::path::Path) {
    copy_example("inventory", dir);
}

/// The files of `examples/NAME` (its folder, `facts/` and `policy/`) copied into `dir`.
fn copy_example(name: &str, dir: &std::path::Path) {
    let from = common::root().join("examples").join(name);
    for sub in ["", "facts", "policy"] {
        std::fs::create_dir_all(dir.join(sub)).expect("folder");
        for entry in std::fs::read_dir(from.join(sub)).expect("read").flatten() {
            if entry.path().is_file() {
                std::fs::copy(entry.path(), dir.join(sub).join(entry.file_name())).expect("copy");
            }
        }
    }
}

/// The entity keys of a project's findings, from its JSON report.
fn finding_keys(project: &str) -> Vec<String> {
    let out = aims(&["check", project, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = json["findings"].as_array().expect("findings");
    findings.iter().map(|f| format!("{} {}", f["name"], f["entity"])).collect()
}

/// Fails unless `json` is a report of the shape docs/report.schema.json publishes.
fn assert_published_shape(json: &serde_json::Value) {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::root().join("docs/report.schema.json")).expect("schema"))
            .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(json).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_inventory_example_reads_a_messy_export_and_lists_its_bad_cells() {
    let out = aims(&["check", "examples/inventory"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The bad cells and the repeated review are said, not dropped.
    assert!(stderr.contains("[W0031]") && stderr.contains("2 cells could not be read"), "{stderr}");
    assert!(stderr.contains("[W0030] Warning: two `Review` facts are identical"), "{stderr}");
    insta::assert_snapshot!("report_inventory", String::from_utf8_lossy(&out.stdout));

    let out = aims(&["check", "examples/inventory", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_published_shape(&json);
    let columns = json["data_quality"]["columns"].as_array().expect("data_quality");
    let cells: Vec<String> = columns
        .iter()
        .flat_map(|c| {
            c["cells"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |cell| format!("{} {} {} {}", c["column"], cell["record"], cell["line"], cell["value"]))
        })
        .collect();
    assert_eq!(
        cells,
        ["\"Impact Assessment\" 6 9 \"maybe\"", "\"Last Review\" 6 9 \"13/1/2026\""],
        "record 6 starts on line 9: two cells before it hold line breaks"
    );
    // Markdown lists the bad cells too.
    let out = aims(&["check", "examples/inventory", "--format", "markdown"]);
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(markdown.contains("### Data quality (2 unreadable cells)"), "{markdown}");
    assert!(markdown.contains("| facts/use-cases.csv | Last Review | record 6, line 9 | 13/1/2026 |"), "{markdown}");
    // The composite key names both chatbots apart; the keyless reviews
    // have identities of their own.
    let keys = finding_keys("examples/inventory");
    assert!(keys.contains(&"\"impact_assessed\" \"Benefits / Fraud triage\"".to_string()), "{keys:?}");
    assert_eq!(
        keys.iter().filter(|k| k.starts_with("\"review_signed_off\" \"#")).count(),
        2,
        "one of three waived: {keys:?}"
    );
    // A review's label names it beside its hash.
    let labels: Vec<&str> =
        json["findings"].as_array().into_iter().flatten().filter_map(|f| f["label"].as_str()).collect();
    assert!(labels.contains(&"Benefits / Chatbot, 2025-11-02, M. Silva"), "{labels:?}");
    // The workbook and the database are read like the CSV files.
    assert!(keys.contains(&"\"dataset_owned\" \"Claims 2019-2025\"".to_string()), "{keys:?}");
    assert!(keys.contains(&"\"assessment_not_rejected\" \"IA-2026-002\"".to_string()), "{keys:?}");
    assert!(labels.contains(&"Facilities / Forklift routing, 2026-01-12"), "{labels:?}");
}

#[test]
fn identities_in_the_inventory_do_not_move_when_rows_are_inserted() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_inventory(dir.path());
    let project = dir.path().to_string_lossy().into_owned();
    let before = finding_keys(&project);
    let sarif = |project: &str| {
        let out = aims(&["check", project, "--format", "sarif"]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF");
        let results = json["runs"][0]["results"].as_array().cloned().unwrap_or_default();
        results.iter().map(|r| r["partialFingerprints"].to_string()).collect::<Vec<String>>()
    };
    let junit = |project: &str| {
        let out = aims(&["check", project, "--format", "junit"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().filter(|l| l.contains("<testcase")).map(str::to_string).collect::<Vec<String>>()
    };
    let (fingerprints, cases) = (sarif(&project), junit(&project));
    // A review and a use case inserted before every other row.
    let reviews = dir.path().join("facts/reviews.csv");
    let text = std::fs::read_to_string(&reviews).expect("reviews");
    let (header, rest) = text.split_once('\n').expect("header");
    let inserted = "HR / Chatbot,2/2/2026,A. Byrne,No\n";
    std::fs::write(&reviews, format!("{header}\n{inserted}{rest}")).expect("write");
    let uses = dir.path().join("facts/use-cases.csv");
    let bytes = std::fs::read(&uses).expect("use cases");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let (header, rest) = text.split_once("\r\n").expect("header");
    let inserted = "Parks,Tree survey,Safety-Impacting,Deployed,No,2/2/2026,Parks,,\r\n";
    std::fs::write(&uses, format!("{header}\r\n{inserted}{rest}")).expect("write");
    let after = finding_keys(&project);
    // The exceptions still waive what they named: a composite key and a review's hash.
    let out = aims(&["check", &project, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["summary"]["outcomes"]["waived"], 2, "{}", json["summary"]);
    let new: Vec<&String> = after.iter().filter(|k| !before.contains(k)).collect();
    assert_eq!(new.len(), 2, "only the inserted rows' findings are new: {new:?}");
    assert!(before.iter().all(|k| after.contains(k)), "{before:?} -> {after:?}");
    let (fingerprints_after, cases_after) = (sarif(&project), junit(&project));
    assert!(fingerprints.iter().all(|f| fingerprints_after.contains(f)), "SARIF fingerprints moved");
    assert!(cases.iter().all(|c| cases_after.contains(c)), "JUnit test cases moved");
    assert_eq!(cases_after.len(), cases.len() + 4, "one more use case in each of three rules, one more review");
}

/// `examples/lending-monitoring` copied into a fresh folder, its decisions
/// log written there by the example's generator (1,200,000 rows, fixed seed).
fn lending_monitoring() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lending-monitoring");
    let _ = std::fs::remove_dir_all(&dir);
    copy_example("lending-monitoring", &dir);
    let months = aims_monitor::sample::write_lending_log(&dir.join("logs/decisions"), 1_200_000).expect("the log");
    assert_eq!(months.iter().map(|(_, n)| n).sum::<usize>(), 1_200_000);
    dir
}

#[test]
fn the_monitoring_example_finds_what_its_decisions_log_shows() {
    let dir = lending_monitoring();
    let out = aims(&["check", dir.to_str().expect("a path"), "--as-of", "2026-11-01"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    // Every finding rests on a measured number or on a system with no rows.
    for expected in [
        "credit-scoring-v3: the credit policy accepts at most 10 points",
        "fraud-screen-v1: the service level of the online application is 800 ms",
        "credit-limit-v2: a population stability index of 0.25 or more",
        "collections-prio-v1: no evidence: not measured: no `Decision` row of `collections-prio-v1` from 2026-10-02 to 2026-11-01 in logs/decisions",
        // The trace of a measured value: the metric, the rows, the window, the log.
        "measured: s.approval_gap is parity_difference(approved, applicant_group) over 206525 rows \
         from 2026-10-02 to 2026-11-01 in logs/decisions (4 files)",
    ] {
        assert!(report.contains(expected), "{expected}\n{report}");
    }
    insta::assert_snapshot!("report_lending_monitoring", report);

    // The README shows this report: the block after its marker is it.
    let readme = std::fs::read_to_string(common::root().join("examples/lending-monitoring/README.md")).expect("README");
    let marker = "<!-- not output: the report of a copy with its log written, checked by tests/examples.rs -->";
    let block = readme.split(marker).nth(1).expect("the report's marker").split("```").nth(1).expect("a block");
    let shown = block.trim_start_matches("text").trim_matches('\n');
    assert_eq!(shown, report.trim_end_matches('\n'), "examples/lending-monitoring/README.md shows another report");

    // The JSON report carries every measured value with its rows, in the
    // published shape.
    let out = aims(&["check", dir.to_str().expect("a path"), "--as-of", "2026-11-01", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_published_shape(&json);
    let measurements = json["measurements"].as_array().expect("measurements");
    assert_eq!(measurements.len(), 6, "five measures of each system, one of the organisation");
    let organisation = measurements.iter().find(|m| m["measure"] == "web_decisions_7d").expect("the organisation's");
    assert!(organisation.get("entity").is_none());
    assert_eq!(organisation["values"][0]["key"], "-");
    assert_eq!(organisation["files"].as_array().map(Vec::len), Some(4));
}
