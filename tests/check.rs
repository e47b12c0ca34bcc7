//! End-to-end tests of `aims check` on the bundled example.

mod common;

use common::{aims_in as aims, root};

use std::path::Path;

#[test]
fn the_example_has_findings_and_exits_1() {
    let out = aims(&["check", "examples/credit-scoring", "--as-of", "2026-11-01"], root());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("major"), "{text}");
    insta::assert_snapshot!("credit_scoring_text", text);
}

#[test]
fn the_json_report_is_stable_and_byte_identical() {
    let args = ["check", "examples/credit-scoring", "--as-of", "2026-11-01", "--format", "json"];
    let first = aims(&args, root());
    let second = aims(&args, root());
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(first.stdout, second.stdout, "two runs differ");
    let from_inside =
        aims(&["check", ".", "--as-of", "2026-11-01", "--format", "json"], &root().join("examples/credit-scoring"));
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("valid JSON");
    let inside: serde_json::Value = serde_json::from_slice(&from_inside.stdout).expect("valid JSON");
    let without_paths = |v: &serde_json::Value| {
        let mut findings = v["findings"].clone();
        for f in findings.as_array_mut().expect("findings") {
            f.as_object_mut().expect("finding").remove("location");
        }
        findings
    };
    assert_eq!(without_paths(&report), without_paths(&inside), "the working directory changes nothing but paths");
    assert_eq!(report["schema"], "aims-report/1");
    assert_eq!(report["as_of"], "2026-11-01");
    insta::assert_snapshot!("credit_scoring_json", String::from_utf8_lossy(&first.stdout));
}

#[test]
fn fail_on_major_ignores_minor_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.aims"),
        "entity S { id: Text key, ok: Bool }\ncontrol c severity minor for s: S where true { require s.ok }\nfact S { id: \"a\", ok: false }\n",
    )
    .expect("write");
    let path = dir.path().to_string_lossy().to_string();
    let minor = aims(&["check", &path, "--as-of", "2026-01-01"], root());
    assert_eq!(minor.status.code(), Some(1));
    let major_only = aims(&["check", &path, "--as-of", "2026-01-01", "--fail-on", "major"], root());
    assert_eq!(major_only.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_3() {
    assert_eq!(aims(&["check", "no/such/project"], root()).status.code(), Some(3));
    assert_eq!(aims(&["check", "examples/credit-scoring", "--as-of", "tomorrow"], root()).status.code(), Some(3));
    assert_eq!(aims(&["frobnicate"], root()).status.code(), Some(3));
}

#[test]
fn output_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("report.json");
    let project = root().join("examples/credit-scoring").to_string_lossy().to_string();
    let out =
        aims(&["check", &project, "--as-of", "2026-11-01", "--format", "json", "--output", "report.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&file).expect("report written");
    assert!(written.starts_with('{') && written.ends_with("}\n"));
}

#[test]
fn every_diagnostic_code_is_documented() {
    let errors = std::fs::read_to_string(root().join("docs/errors.md")).expect("docs/errors.md");
    for code in aims_lang::diag::Code::ALL {
        assert!(errors.contains(&format!("## {}", code.as_str())), "{} is not in docs/errors.md", code.as_str());
    }
}

#[test]
fn aims_test_runs_the_example_test_blocks() {
    let out = aims(&["test", "examples/credit-scoring"], root());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("test a missing bias test is no evidence, never a pass ... ok"), "{text}");
    assert!(text.trim_end().ends_with("8 passed, 0 failed"), "{text}");
}

#[test]
fn aims_test_reports_a_failing_expectation() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("p.aims"),
        "entity S { id: Text key, ok: Bool }\ncontrol c for s: S where true { require s.ok }\n\
         test \"wrong\" { as of 2026-01-01 given S { id: \"a\", ok: true } expect c fails for \"a\" }\n",
    )
    .expect("write");
    let out = aims(&["test", &dir.path().to_string_lossy()], root());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("`c` for \"a\": expected fail, got pass"), "{text}");
}

/// The 20 checks of the peer benchmark (`benches/peers`) find exactly what
/// the harness's hand-written `native` oracle finds on its N = 1,000 facts
/// (counts per rule from `../shared/peers/README.md`, seed 42).
#[test]
fn the_peer_checks_match_the_native_oracle() {
    let out = aims(&common::PEERS_CHECK_N1000, root());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let findings = report["findings"].as_array().expect("findings");
    let counts: Vec<usize> =
        (1..=20).map(|i| findings.iter().filter(|f| f["name"] == format!("R{i:02}").as_str()).count()).collect();
    let native = [176, 90, 194, 48, 128, 265, 34, 325, 60, 25, 30, 213, 217, 274, 113, 19, 18, 181, 43, 232];
    assert_eq!(counts, native);
    assert_eq!(findings.len(), 2685);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Same inputs, byte-identical output: whatever the working directory and
/// the order in which `aims.toml` lists the fact files.
#[test]
fn the_report_does_not_depend_on_fact_file_order_or_working_directory() {
    let args = ["check", ".", "--as-of", "2026-11-01", "--format", "json"];
    let original = aims(&args, &root().join("examples/credit-scoring"));
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("credit-scoring");
    copy_dir(&root().join("examples/credit-scoring"), &copy);
    let manifest = std::fs::read_to_string(copy.join("aims.toml")).expect("aims.toml");
    let (head, sources) = manifest.split_once("[[facts]]").expect("fact sources");
    let mut blocks: Vec<String> = sources.split("[[facts]]").map(|b| format!("[[facts]]{b}")).collect();
    blocks.reverse();
    std::fs::write(copy.join("aims.toml"), format!("{head}{}\n", blocks.join("\n"))).expect("write");
    let shuffled = aims(&args, &copy);
    assert_eq!(original.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&original.stdout),
        String::from_utf8_lossy(&shuffled.stdout),
        "fact file order changed the report"
    );
}

#[test]
fn as_of_in_aims_toml_may_be_a_toml_date() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("aims.toml"), "[project]\nas_of = 2027-01-05\n").expect("write");
    std::fs::write(
        dir.path().join("p.aims"),
        "entity S { id: Text key, d: Date }\ncontrol c for s: S where true { require s.d within 30 days }\n\
         fact S { id: \"a\", d: 2027-01-01 }\n",
    )
    .expect("write");
    let out = aims(&["check", &dir.path().to_string_lossy(), "--format", "json"], root());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(report["as_of"], "2027-01-05", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
}
