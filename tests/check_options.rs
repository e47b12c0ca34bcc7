//! `aims check`'s report options end to end: `--outcomes failing`, and
//! every refusal (output path, conflicting options) made before the facts
//! are read, so it comes first even when the facts would not load.

mod common;

use common::{aims_in as aims, root};

fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).expect("valid JSON")
}

#[test]
fn outcomes_failing_writes_only_the_failing_outcomes() {
    let args = ["check", "examples/credit-scoring", "--as-of", "2026-11-01", "--format", "json"];
    let all = aims(&args, root());
    let failing = aims(&[&args[..], &["--outcomes", "failing"]].concat(), root());
    assert_eq!(all.status.code(), Some(1));
    assert_eq!(failing.status.code(), Some(1), "{}", String::from_utf8_lossy(&failing.stderr));
    let (mut all, failing) = (json(&all.stdout), json(&failing.stdout));
    let statuses = |report: &serde_json::Value| -> Vec<String> {
        let rules = report["rules"].as_array().expect("rules");
        rules
            .iter()
            .flat_map(|r| r["outcomes"].as_array().expect("outcomes"))
            .map(|o| o["status"].to_string())
            .collect()
    };
    assert!(statuses(&all).iter().any(|s| s != "\"fail\""), "the default keeps every outcome");
    assert!(statuses(&failing).iter().all(|s| s == "\"fail\""));
    assert_eq!(statuses(&failing).len(), all["summary"]["outcomes"]["fail"].as_u64().expect("count") as usize);
    // Nothing else changes: counts, findings and the rest are whole.
    for rule in all["rules"].as_array_mut().expect("rules") {
        rule["outcomes"].as_array_mut().expect("outcomes").retain(|o| o["status"] == "fail");
    }
    assert_eq!(all, failing);
}

#[test]
fn outcomes_failing_keeps_only_failing_junit_cases() {
    let args = ["check", "examples/credit-scoring", "--as-of", "2026-11-01", "--format", "junit"];
    let all = String::from_utf8_lossy(&aims(&args, root()).stdout).into_owned();
    let failing =
        String::from_utf8_lossy(&aims(&[&args[..], &["--outcomes", "failing"]].concat(), root()).stdout).into_owned();
    let cases = |xml: &str| xml.matches("<testcase ").count();
    let failures = |xml: &str| xml.matches("<failure ").count();
    assert!(cases(&failing) < cases(&all), "{failing}");
    assert_eq!(failures(&failing), failures(&all), "every failure is still there");
    assert!(!failing.contains("<skipped"), "{failing}");
}

#[test]
fn outcomes_failing_with_a_format_that_lists_no_outcomes_is_refused() {
    for format in ["text", "sarif", "markdown", "html"] {
        let out = aims(
            &["check", "examples/credit-scoring", "--as-of", "2026-11-01", "--format", format, "--outcomes", "failing"],
            root(),
        );
        assert_eq!(out.status.code(), Some(3), "{format}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("`--outcomes failing` applies to `--format json`"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// A fact file that cannot load: broken JSON (E-codes on stderr if it were read).
fn broken_facts(dir: &std::path::Path) -> String {
    let path = dir.join("systems.json");
    std::fs::write(&path, "{\"systems\": [ {\"id\": \"sys-1\", ").expect("write");
    path.to_string_lossy().into_owned()
}

#[test]
fn every_refusal_comes_before_the_facts_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let facts = broken_facts(dir.path());
    let check = |extra: &[&str]| {
        let base = ["check", "benches/peers", "--facts", &facts, "--as-of", "2026-01-01"];
        aims(&[&base[..], extra].concat(), root())
    };
    // The facts alone: they do not load (exit 2, a diagnostic with a code).
    let alone = check(&[]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("systems.json"));
    let folder = dir.path().to_string_lossy().into_owned();
    let missing = dir.path().join("no/such/folder/report.json").to_string_lossy().into_owned();
    let refused: [(&[&str], &str); 4] = [
        (&["--output", &folder], "is a folder"),
        (&["--output", &missing], "no such file or folder"),
        (&["--format", "text", "--outcomes", "failing"], "`--outcomes failing` applies to"),
        (&["--format", "json", "--output", &facts], "would replace the input"),
    ];
    for (extra, why) in refused {
        let out = check(extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{extra:?}: {stderr}");
        assert!(stderr.contains(why), "{extra:?}: {stderr}");
        assert!(!stderr.contains("[E0"), "the facts were not read: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one refusal, nothing else: {stderr}");
    }
    assert!(std::fs::read_to_string(&facts).is_ok_and(|t| t.starts_with("{\"systems\"")), "the input is untouched");
}

#[cfg(unix)]
#[test]
fn an_unwritable_output_folder_is_refused_before_the_facts_are_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let facts = broken_facts(dir.path());
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).expect("chmod");
    // Root writes anywhere: then there is nothing to refuse.
    if std::fs::write(locked.join("probe"), "x").is_ok() {
        eprintln!("note: running as root, an unwritable folder cannot be made; skipped");
        return;
    }
    let output = locked.join("report.json").to_string_lossy().into_owned();
    let out = aims(
        &[
            "check",
            "benches/peers",
            "--facts",
            &facts,
            "--as-of",
            "2026-01-01",
            "--format",
            "json",
            "--output",
            &output,
        ],
        root(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(!stderr.contains("systems.json"), "the facts were not read: {stderr}");
}
