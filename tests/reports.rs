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

/// A project in a temporary folder: `aims.toml` (named `name`, reading
/// `facts.json`), `policy.aims` and `facts.json`.
fn project(name: &str, policy: &str, facts: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = format!("[project]\nname = {name}\nas_of = \"2026-11-01\"\n\n[[facts]]\npath = \"facts.json\"\n");
    std::fs::write(dir.path().join("aims.toml"), toml).expect("aims.toml");
    std::fs::write(dir.path().join("policy.aims"), policy).expect("policy");
    std::fs::write(dir.path().join("facts.json"), facts).expect("facts");
    dir
}

/// `aims check DIR ARGS` from the folder itself: (exit code, stdout, stderr).
fn check_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["check", "."];
    all.extend_from_slice(args);
    let out = aims(&all, dir);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Systems keyed by `Int`: three live ones without an owner (one waived),
/// one draft the control does not apply to, with an exception on it.
const INT_KEYED: &str = r#"enum Status { draft, live }

entity System {
  id: Int key,
  name: Text,
  status: Status,
  owner: Text?,
}

control owned "Live systems have an owner"
  severity minor
  for s: System where s.status == live
{
  require s.owner is some // someone answers for it
      and
      s.name != ""
    because "a live system needs someone to answer for it"
}

audit inventory_kept "The inventory lists the systems"
{
  require count(s for s: System) > 0
}

exception pilot waives owned for System "1" until 2027-01-01 approved by "CRO"
exception draft_only waives owned for System "3" until 2027-01-01 approved by "CRO"
"#;

const INT_KEYED_FACTS: &str = r#"{ "System": [
  { "id": 10, "name": "Ten", "status": "live" },
  { "id": 2, "name": "Two", "status": "live" },
  { "id": 3, "name": "Three", "status": "draft" },
  { "id": 1, "name": "One", "status": "live" }
] }"#;

#[test]
fn the_text_report_agrees_in_number_lists_waivers_and_keeps_each_finding_on_one_line() {
    let dir = project("\"ints\"", INT_KEYED, INT_KEYED_FACTS);
    let (code, text, stderr) = check_in(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    insta::assert_snapshot!("int_keyed_text", text);
    assert!(text.contains("  1 control, 1 audit rule: "), "{text}");
    assert!(text.contains("  3 findings: 0 major, 2 minor, 1 observation\n"), "{text}");
    assert!(text.contains("    pilot waives owned for 1 until 2027-01-01 (active)\n"), "{text}");
    assert!(text.contains("(`s.owner is some and s.name != \"\"`)"), "the condition on one line: {text}");
    let two = text.find("  minor       2: ").expect("finding for 2");
    let ten = text.find("  minor       10: ").expect("finding for 10");
    assert!(two < ten, "Int keys in numeric order: {text}");
    assert!(text.contains("waives nothing: `owned` does not apply to `3`"), "{text}");
    assert!(!text.contains("`owned` passes"), "{text}");
}

#[test]
fn int_keys_order_as_numbers_in_every_report() {
    let dir = project("\"ints\"", INT_KEYED, INT_KEYED_FACTS);
    let (_, json, stderr) = check_in(dir.path(), &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let keys = |list: &serde_json::Value| -> Vec<String> {
        list.as_array().into_iter().flatten().filter_map(|v| v["entity"].as_str().map(String::from)).collect()
    };
    let owned = json["rules"].as_array().and_then(|r| r.iter().find(|r| r["name"] == "owned")).expect("owned");
    assert_eq!(keys(&owned["outcomes"]), ["1", "2", "3", "10"]);
    let findings: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["name"] == "owned")
        .filter_map(|f| f["entity"].as_str().map(String::from))
        .collect();
    assert_eq!(findings, ["2", "10"]);
    let (_, junit, _) = check_in(dir.path(), &["--format", "junit"]);
    let cases: Vec<&str> = junit
        .lines()
        .filter(|l| l.contains("classname=\"control.owned\""))
        .filter_map(|l| l.split("name=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(cases, ["1", "2", "3", "10"]);
}

#[test]
fn explain_traces_int_keys_in_numeric_order_too() {
    let dir = project("\"ints\"", INT_KEYED, INT_KEYED_FACTS);
    let out = aims(&["explain", "owned"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    let two = text.find("owned on \"2\"").expect("a trace for 2");
    let ten = text.find("owned on \"10\"").expect("a trace for 10");
    assert!(two < ten, "traces of Int keys in numeric order: {text}");
}

#[test]
fn junit_failures_state_the_condition_once() {
    let dir = project("\"ints\"", INT_KEYED, INT_KEYED_FACTS);
    let (_, junit, _) = check_in(dir.path(), &["--format", "junit"]);
    let body = junit.split("type=\"finding\">").nth(1).and_then(|b| b.split("</failure>").next()).expect("a failure");
    assert_eq!(body.matches("s.owner is some").count(), 1, "{body}");
    assert!(body.starts_with("policy.aims:"), "{body}");
    // The credit-scoring example too: no failure names its condition twice.
    for failure in report("junit").split("type=\"finding\">").skip(1) {
        let body = failure.split("</failure>").next().unwrap_or_default();
        for line in body.lines().filter(|l| !l.starts_with("  saw")) {
            let quoted: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
            for q in &quoted {
                assert_eq!(line.matches(q).count(), 1, "`{q}` repeated in {line}");
            }
        }
    }
}

/// Facts that try to drive a terminal: escape sequences, a window title,
/// a bell, a carriage return, a line break and a bidi override.
const HOSTILE_POLICY: &str = r#"entity System {
  id: Text key,
  owner: Text?,
  score: Number,
}

control owned "Systems have an owner"
  severity major
  for s: System
{
  require s.owner is some and s.owner != "x" and s.score < 2
}
"#;

const HOSTILE_FACTS: &str = r#"{ "System": [
  { "id": "evil\u001b]0;pwned\u0007\r\n  major       forged: all clear\u202e", "score": 1 },
  { "id": "@security-team", "owner": "\u001b[2J", "score": 2 }
] }"#;

fn assert_inert(what: &str, text: &str) {
    for c in ['\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{9b}'] {
        assert!(!text.contains(c), "{what} carries {c:?}: {text:?}");
    }
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("major       forged")),
        "{what} has a forged line: {text}"
    );
}

#[test]
fn terminal_escapes_from_facts_and_the_project_name_are_neutralised() {
    let dir = project("\"proj\\u001b]0;title\\u0007\"", HOSTILE_POLICY, HOSTILE_FACTS);
    let (code, text, stderr) = check_in(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_inert("the text report", &text);
    assert!(text.starts_with("proj\\u{1b}]0;title\\u{7} as of"), "{text}");
    assert!(text.contains("evil\\u{1b}]0;pwned\\u{7}\\r\\n  major       forged: all clear\\u{202e}: "), "{text}");
    let explain = aims(&["explain", "owned", "--path", "."], dir.path());
    let explain = String::from_utf8_lossy(&explain.stdout).into_owned();
    assert!(explain.contains("evil"), "{explain}");
    assert_inert("aims explain", &explain);
    let (_, markdown, _) = check_in(dir.path(), &["--format", "markdown"]);
    assert_inert("the Markdown report", &markdown);
    assert!(markdown.contains("@\u{2060}security-team"), "{markdown}");
    assert!(!markdown.contains("@security-team"), "a live mention: {markdown}");
    // JUnit and HTML: the escapes are visible, neither dropped (a key
    // silently altered) nor raw (a bidi override reorders a CI page).
    for format in ["junit", "html"] {
        let (_, report, _) = check_in(dir.path(), &["--format", format]);
        for c in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
            assert!(!report.contains(c), "the {format} report carries {c:?}: {report:?}");
        }
        assert!(report.contains("evil\\u{1b}]0;pwned\\u{7}\\r"), "the {format} report: {report}");
    }
    // A fact file's error quotes the value: the diagnostic must not carry it raw.
    std::fs::write(dir.path().join("facts.json"), r#"{ "System": [ { "id": "a", "score": "\u001b]0;x\u0007" } ] }"#)
        .expect("facts");
    let (code, _, stderr) = check_in(dir.path(), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_inert("the diagnostics", &stderr);
}

/// A project with a risk but no appetite: it loads with warning W0001.
const NO_APPETITE: &str = r#"scale Likelihood { rare: 1, likely: 4 }
scale Impact { minor: 2, major: 4 }

matrix RiskLevel = Likelihood * Impact {
  low: 1..4
  high: 5..16
}

entity System {
  id: Text key,
  owner: Text?,
}

control owned "Every system has an owner" for s: System where true {
  require s.owner is some
}

risk unowned "A system nobody answers for" for s: System where true {
  likelihood: likely
  impact: major
}
"#;

const NO_APPETITE_FACTS: &str = r#"{ "System": [ { "id": "a", "owner": "Ann" }, { "id": "b" } ] }"#;

#[test]
fn the_json_report_carries_the_warnings_aims_check_printed() {
    let dir = project("\"warned\"", NO_APPETITE, NO_APPETITE_FACTS);
    let (code, out, err) = check_in(dir.path(), &["--format", "json"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("[W0001] Warning"), "the warning is printed: {err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    validate("docs/report.schema.json", &json);
    insta::assert_snapshot!(
        "no_appetite_json_diagnostics",
        serde_json::to_string_pretty(&json["diagnostics"]).expect("JSON")
    );
    // Without warnings there is no `diagnostics` field: reports of clean
    // projects are as they were.
    let clean: serde_json::Value = serde_json::from_str(&report("json")).expect("JSON");
    assert!(clean.get("diagnostics").is_none(), "{:?}", clean.get("diagnostics"));
}

#[test]
fn the_sarif_report_carries_the_warnings_as_results_with_their_code() {
    let dir = project("\"warned\"", NO_APPETITE, NO_APPETITE_FACTS);
    let (code, out, err) = check_in(dir.path(), &["--format", "sarif"]);
    assert_eq!(code, Some(1), "{err}");
    let sarif: serde_json::Value = serde_json::from_str(&out).expect("SARIF is JSON");
    validate("tests/schemas/sarif-schema-2.1.0.json", &sarif);
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().expect("results");
    let warning = results.iter().find(|r| r["ruleId"] == "W0001").expect("a result for W0001");
    insta::assert_snapshot!("no_appetite_sarif_result", serde_json::to_string_pretty(warning).expect("JSON"));
    let index = warning["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "W0001");
    // The finding is still there, before the diagnostics.
    assert_eq!(results[0]["ruleId"], "owned");
}

#[test]
fn locations_are_relative_to_the_project_wherever_it_is_read_from() {
    let dir = project("\"warned\"", NO_APPETITE, NO_APPETITE_FACTS);
    let path = dir.path().to_string_lossy().into_owned();
    let from_inside = check_in(dir.path(), &["--format", "json"]).1;
    let from_outside = aims(&["check", &path, "--format", "json"], root());
    assert_eq!(from_inside, String::from_utf8_lossy(&from_outside.stdout), "the report does not depend on the folder");
    assert!(from_inside.contains("\"file\": \"policy.aims\""), "{from_inside}");
    assert!(from_inside.contains("\"location\":\"policy.aims:15:3\""), "a finding's line: {from_inside}");
}

#[test]
fn a_project_that_does_not_load_still_gets_a_json_and_sarif_report_of_its_errors() {
    let dir = project("\"broken\"", "entity System { id: Text key, status: Text }\ncontrol c for s: System where true { require s.staus == \"x\" }\n", "{}");
    let (code, out, err) = check_in(dir.path(), &["--format", "json"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[E0102] Error"), "the error is printed: {err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    validate("docs/report.schema.json", &json);
    assert_eq!(json["summary"]["controls"], 0, "nothing is evaluated");
    let diagnostic = &json["diagnostics"][0];
    assert_eq!(diagnostic["code"], "E0102");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["location"], serde_json::json!({ "file": "policy.aims", "line": 2, "column": 48 }));
    assert_eq!(diagnostic["help"], "did you mean `status`?");

    let (code, out, err) = check_in(dir.path(), &["--format", "sarif"]);
    assert_eq!(code, Some(2), "{err}");
    let sarif: serde_json::Value = serde_json::from_str(&out).expect("SARIF is JSON");
    validate("tests/schemas/sarif-schema-2.1.0.json", &sarif);
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "E0102");
    assert_eq!(result["level"], "error");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    assert_eq!(result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"], 1);

    // The text report is still only on standard error.
    let (code, out, _) = check_in(dir.path(), &[]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
}

#[test]
fn the_json_report_lists_every_w0002_the_terminal_summarises() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(aims(&["init", "."], dir.path()).status.code(), Some(0));
    let (_, out, err) = check_in(dir.path(), &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    validate("docs/report.schema.json", &json);
    let w0002: Vec<&serde_json::Value> =
        json["diagnostics"].as_array().expect("diagnostics").iter().filter(|d| d["code"] == "W0002").collect();
    let shown = err.matches("[W0002] Warning").count();
    let more: usize = err
        .split("aims: ")
        .find_map(|rest| {
            rest.strip_suffix(
                " more Annex A controls are neither implemented nor excluded (W0002); `aims soa` lists them all\n",
            )
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert_eq!((shown, w0002.len()), (3, 3 + more), "{err}");
    assert!(w0002.iter().all(|d| d["location"]["file"] == "policy/controls.aims"), "at the `use iso42001`");
}

#[test]
fn an_evaluation_stopped_by_its_budget_reports_why_in_json_and_sarif() {
    let project = "tests/corpus/limit-eval-steps-risk";
    let json = aims(&["check", project, "--as-of", "2026-11-01", "--format", "json"], root());
    assert_eq!(json.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    validate("docs/report.schema.json", &json);
    assert_eq!(json["diagnostics"][0]["code"], "E0501");
    assert_eq!(json["risks"], serde_json::json!([]), "an incomplete evaluation is not reported");
    let sarif = aims(&["check", project, "--as-of", "2026-11-01", "--format", "sarif"], root());
    assert_eq!(sarif.status.code(), Some(2));
    let sarif: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    validate("tests/schemas/sarif-schema-2.1.0.json", &sarif);
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "E0501");
}
