//! End-to-end tests of the report formats of `aims check`: each validated
//! by what consumes it (the SARIF 2.1.0 schema, the project's own JSON
//! schema, a real JUnit parser), and snapshots of the readable ones.

mod common;

use common::{aims_in as aims, root};

use std::path::Path;
use std::process::Command;

fn report(format: &str) -> String {
    let out = aims(&["check", "examples/credit-scoring", "--as-of", "2026-11-01", "--format", format], root());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 report")
}

/// A schema file, compiled.
fn compile(schema_path: &str) -> jsonschema::Validator {
    let schema_text = std::fs::read_to_string(root().join(schema_path)).expect("schema file");
    // The official SARIF 2.1.0 schema has one malformed regular expression
    // (an unbalanced `]` in `run.language`, a field aims never writes); the
    // validator rejects the schema for it, so it is repaired here, leaving
    // the vendored file as published.
    let schema_text =
        schema_text.replace(r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"#, r#"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$"#);
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn validate(schema_path: &str, document: &serde_json::Value) {
    let validator = compile(schema_path);
    let errors: Vec<String> =
        validator.iter_errors(document).map(|e| format!("{} at {}", e, e.instance_path())).take(10).collect();
    assert!(errors.is_empty(), "{schema_path}: {errors:#?}");
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema_and_locates_findings_in_policy_files() {
    let sarif: serde_json::Value = serde_json::from_str(&report("sarif")).expect("SARIF is JSON");
    validate("tests/schemas/sarif-schema-2.1.0.json", &sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let json: serde_json::Value = serde_json::from_str(&report("json")).expect("JSON");
    assert_eq!(results.len(), json["findings"].as_array().map_or(0, Vec::len));
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(uri.starts_with("examples/credit-scoring/policy/") && uri.ends_with(".aims"), "{uri}");
        assert!(root().join(uri).is_file(), "{uri} resolves from the repository root");
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap_or(0) > 0);
    }
    let levels: Vec<&str> = results.iter().filter_map(|r| r["level"].as_str()).collect();
    assert!(levels.contains(&"error") && levels.contains(&"warning"), "{levels:?}");
    // A run on a broken schema must fail: the validator is not vacuous.
    let mut broken = sarif.clone();
    broken["version"] = serde_json::json!("9.9");
    assert!(!compile("tests/schemas/sarif-schema-2.1.0.json").is_valid(&broken));
}

#[test]
fn json_validates_against_the_published_report_schema() {
    let json: serde_json::Value = serde_json::from_str(&report("json")).expect("JSON");
    validate("docs/report.schema.json", &json);
    assert_eq!(json["soa"].as_array().map_or(0, Vec::len), 38, "the SoA lists every Annex A control");
    let mut extra = json.clone();
    extra["findings"][0]["surprise"] = serde_json::json!(1);
    assert!(!compile("docs/report.schema.json").is_valid(&extra), "the schema is strict");
}

/// Runs Python's `junitparser` (PyPI) on a JUnit file and returns
/// (tests, failures, skipped) as it counts them.
fn junitparser_counts(path: &Path) -> (u64, u64, u64) {
    let script = r#"
import sys, junitparser
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
tests = failures = skipped = 0
for suite in xml:
    for case in suite:
        tests += 1
        kinds = {type(r).__name__ for r in case.result}
        failures += "Failure" in kinds
        skipped += "Skipped" in kinds
print(tests, failures, skipped)
"#;
    let out = Command::new("python3").args(["-c", script]).arg(path).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "junitparser could not read the report (install it with `pip install junitparser`; .ci/run does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let n: Vec<u64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert_eq!(n.len(), 3, "{text}");
    (n[0], n[1], n[2])
}

#[test]
fn junit_is_read_by_a_real_junit_consumer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("aims.xml");
    let project = root().join("examples/credit-scoring").to_string_lossy().to_string();
    let out =
        aims(&["check", &project, "--as-of", "2026-11-01", "--format", "junit", "--output", "aims.xml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("credit_scoring_junit", std::fs::read_to_string(&path).expect("written"));
    if !common::tool_test_wanted("JUNITPARSER", "reading the JUnit report with Python's junitparser") {
        return;
    }
    let (tests, failures, skipped) = junitparser_counts(&path);
    let json: serde_json::Value = serde_json::from_str(&report("json")).expect("JSON");
    let outcomes = &json["summary"]["outcomes"];
    let rule_cases =
        ["pass", "fail", "waived", "not_applicable"].iter().map(|k| outcomes[k].as_u64().unwrap_or(0)).sum::<u64>();
    let risk_cases: u64 = json["risks"]
        .as_array()
        .map_or(0, |r| r.iter().map(|r| r["entries"].as_array().map_or(0, Vec::len) as u64).sum());
    let objective_cases = json["objectives"].as_array().map_or(0, Vec::len) as u64;
    assert_eq!(tests, rule_cases + risk_cases + objective_cases);
    assert_eq!(skipped, outcomes["waived"].as_u64().unwrap_or(0) + outcomes["not_applicable"].as_u64().unwrap_or(0));
    assert_eq!(failures, json["summary"]["findings"]["total"].as_u64().unwrap_or(0), "every finding is one failure");
}

#[test]
fn markdown_is_a_pull_request_comment() {
    let text = report("markdown");
    assert!(text.starts_with("## ❌ aims: credit-scoring as of 2026-11-01"), "{text}");
    assert!(text.contains("### Findings (8)"));
    insta::assert_snapshot!("credit_scoring_markdown", text);
}

#[test]
fn html_is_one_self_contained_page() {
    let html = report("html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for forbidden in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(forbidden), "the page must not load anything: found {forbidden}");
    }
    assert!(html.contains("id=\"finding-count\">8<"));
    assert!(html.contains("data-cell=\"inherent:likely:major\""));
    assert!(html.contains("id=\"soa-table\""));
    assert_eq!(html.matches("<tr class=\"finding\">").count(), 8);
}

#[test]
fn output_is_written_atomically_and_replaces_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.md");
    std::fs::write(&path, "old").expect("write");
    let project = root().join("examples/credit-scoring").to_string_lossy().to_string();
    let out = aims(
        &["check", &project, "--as-of", "2026-11-01", "--format", "markdown", "--output", "report.md"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_to_string(&path).expect("read").starts_with("## "));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind: {leftovers:?}");
}
