//! End-to-end tests of the subcommands around `check`: `test` with
//! coverage, `fmt`, `explain`, `soa` and `init`.

mod common;

use common::{aims_in as aims, root, stdout};

#[test]
fn coverage_names_the_rule_and_the_require_no_test_covers() {
    let out = aims(&["test", "tests/fixtures/coverage/policy.aims", "--coverage"], root());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    // Items: 3 rules + 4 requires; covered: owned, its require, overseen, its first require.
    assert!(text.contains("coverage: 57.1% (4 of 7 items)"), "{text}");
    assert!(text.contains("not covered: control reviewed"), "{text}");
    assert!(text.contains("not covered: require reviewed #1"), "{text}");
    assert!(text.contains("not covered: require overseen #2"), "{text}");
    assert!(!text.contains("not covered: control owned"), "{text}");
    assert!(!text.contains("not covered: require overseen #1"), "{text}");
}

#[test]
fn min_coverage_fails_the_run_below_the_threshold() {
    let below = aims(&["test", "tests/fixtures/coverage/policy.aims", "--min-coverage", "80"], root());
    assert_eq!(below.status.code(), Some(1));
    assert!(stdout(&below).contains("below the minimum of 80%"));
    let above = aims(&["test", "tests/fixtures/coverage/policy.aims", "--min-coverage", "50"], root());
    assert_eq!(above.status.code(), Some(0));
    let nonsense = aims(&["test", "tests/fixtures/coverage/policy.aims", "--min-coverage", "120"], root());
    assert_eq!(nonsense.status.code(), Some(3));
}

#[test]
fn fmt_check_lists_unformatted_files_and_fmt_fixes_them_keeping_comments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("p.aims");
    let messy = "// keep me\nenum  S { a,b }\n\n\n\ncontrol c for s:S where true {\nrequire s == a // and me\n}\n";
    std::fs::write(&file, messy).expect("write");
    let check = aims(&["fmt", "--check", "."], dir.path());
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("p.aims"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), messy, "--check changes nothing");

    let fix = aims(&["fmt", "."], dir.path());
    assert_eq!(fix.status.code(), Some(0), "{}", String::from_utf8_lossy(&fix.stderr));
    let formatted = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        formatted,
        "// keep me\nenum S { a, b }\n\ncontrol c for s: S where true {\n  require s == a // and me\n}\n"
    );
    assert_eq!(aims(&["fmt", "--check", "."], dir.path()).status.code(), Some(0));
}

#[test]
fn fmt_refuses_a_file_with_syntax_errors_and_leaves_it_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.aims");
    std::fs::write(&file, "control c { require ( }\n").expect("write");
    let out = aims(&["fmt", "broken.aims"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.aims:1:"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "control c { require ( }\n");
}

#[test]
fn the_examples_and_the_stdlib_are_formatted() {
    let out = aims(&["fmt", "--check", "examples", "stdlib"], root());
    assert_eq!(out.status.code(), Some(0), "run `aims fmt examples stdlib`: {}", stdout(&out));
}

#[test]
fn explain_prints_the_trace_of_one_outcome() {
    let out = aims(
        &["explain", "bias_testing", "limit-adjuster", "--path", "examples/credit-scoring", "--as-of", "2026-11-01"],
        root(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.starts_with("bias_testing on \"limit-adjuster\": fail"), "{text}");
    assert!(text.contains("saw s.last_bias_test = 2026-02-10"), "{text}");
    let typo = aims(&["explain", "bias_tsting", "--path", "examples/credit-scoring"], root());
    assert_eq!(typo.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `bias_testing`?"));
}

#[test]
fn soa_lists_all_38_annex_a_controls_and_crosswalked_frameworks() {
    let out = aims(&["soa", "examples/credit-scoring", "--format", "json"], root());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 38);
    let a104 = rows.iter().find(|r| r["id"] == "A.10.4").expect("A.10.4");
    assert_eq!(a104["status"], "excluded");
    assert!(a104["justification"].as_str().is_some_and(|j| !j.is_empty()));
    let nist = aims(&["soa", "examples/credit-scoring", "--framework", "nist-ai-rmf", "--format", "json"], root());
    let nist: serde_json::Value = serde_json::from_slice(&nist.stdout).expect("JSON");
    assert_eq!(nist["rows"].as_array().map_or(0, Vec::len), 72);
    let reached: Vec<&serde_json::Value> = nist["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["via"].as_array().is_some_and(|v| !v.is_empty()))
        .collect();
    assert!(!reached.is_empty(), "the crosswalk carries the organisation's controls to NIST subcategories");
}

#[test]
fn init_creates_a_project_that_passes_check_and_test() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("new-aims");
    let path = project.to_string_lossy().to_string();
    let out = aims(&["init", &path], root());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let check = aims(&["check", &path], root());
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), String::from_utf8_lossy(&check.stderr));
    // A new project implements 3 Annex A controls: the SoA gaps are shown, briefly.
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(stderr.matches("[W0002]").count(), 3, "{stderr}");
    assert!(stderr.contains("aims: 31 more Annex A controls are neither implemented nor excluded"), "{stderr}");
    let test = aims(&["test", &path, "--coverage"], root());
    assert_eq!(test.status.code(), Some(0), "{}", stdout(&test));
    assert!(stdout(&test).contains("3 passed, 0 failed"));
    assert_eq!(aims(&["fmt", "--check", &path], root()).status.code(), Some(0), "the template is formatted");
    let again = aims(&["init", &path], root());
    assert_eq!(again.status.code(), Some(2), "init never overwrites a project");
}

/// `aims init` never writes through a symbolic link: a linked `policy/` or
/// `facts/` folder (or a linked file of the template) would put the
/// template outside the project.
#[cfg(unix)]
#[test]
fn init_refuses_symbolic_links_in_the_project_and_changes_nothing() {
    for linked in ["policy", "facts", "README.md", "policy/schema.aims"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let project = dir.path().join("new");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).expect("mkdir");
        let link = project.join(linked);
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        // A folder link, or a dangling file link (nothing there yet).
        let target = if linked.contains('.') { outside.join("file") } else { outside.clone() };
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let out = aims(&["init", &project.to_string_lossy()], root());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{linked}: {stderr}");
        assert!(stderr.contains("is a symbolic link") && stderr.contains("nothing was changed"), "{linked}: {stderr}");
        assert!(common::listing(&outside).is_empty(), "{linked}: written outside: {:?}", common::listing(&outside));
        assert!(!project.join("aims.toml").exists(), "{linked}: nothing is written");
    }
}

/// `aims fmt` formats a symbolic link at its target, which stays a file and
/// the link a link; a link leading outside the project is neither read nor
/// written.
#[cfg(unix)]
#[test]
fn fmt_keeps_symbolic_links_and_refuses_one_leading_outside() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    let messy = "enum  S { a,b }\n";
    common::write_files(
        &project,
        &[("aims.toml", "[project]\n"), ("shared/s.aims", messy), ("policy/p.aims", "enum T { c }\n")],
    );
    let link = project.join("policy/s.aims");
    std::os::unix::fs::symlink("../shared/s.aims", &link).expect("symlink");
    for args in [&["fmt", "policy"][..], &["fmt", "policy/s.aims"][..]] {
        std::fs::write(project.join("shared/s.aims"), messy).expect("write");
        let out = aims(args, &project);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(link.symlink_metadata().expect("meta").file_type().is_symlink(), "{args:?}: still a link");
        assert_eq!(std::fs::read_to_string(project.join("shared/s.aims")).expect("read"), "enum S { a, b }\n");
    }

    let outside = dir.path().join("outside.aims");
    std::fs::write(&outside, messy).expect("write");
    let out_link = project.join("policy/out.aims");
    std::os::unix::fs::symlink(&outside, &out_link).expect("symlink");
    for args in [&["fmt", "."][..], &["fmt", "policy/out.aims"][..], &["fmt", "--check", "."][..]] {
        let out = aims(args, &project);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("E0404") && stderr.contains("out.aims"), "{args:?}: {stderr}");
        assert_eq!(std::fs::read_to_string(&outside).expect("read"), messy, "{args:?}: the outside file is untouched");
        assert!(out_link.symlink_metadata().expect("meta").file_type().is_symlink(), "{args:?}");
    }
}

/// `aims lsp` over real pipes: bad framing (a length that is not a number,
/// a header without a length, a length too short) is answered -32700, and
/// the requests after it are answered; the server never wedges.
#[test]
fn lsp_answers_after_bad_framing() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aims"))
        .arg("lsp")
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("aims lsp starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let seen = Arc::new(Mutex::new(String::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock().expect("lock").push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.lock().expect("lock").contains(needle) {
            assert!(Instant::now() < deadline, "no `{needle}` from the server: {}", seen.lock().expect("lock"));
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let body = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let bad = [
        format!("Content-Length: abc\r\n\r\n{body}"),
        format!("Content-Type: application/json\r\n\r\n{body}"),
        format!("Content-Length: 4\r\n\r\n{body}"),
    ];
    for (i, garbage) in bad.iter().enumerate() {
        let request =
            format!(r#"{{"jsonrpc":"2.0","id":{},"method":"initialize","params":{{"capabilities":{{}}}}}}"#, i + 1);
        stdin.write_all(format!("{garbage}{}", frame(&request)).as_bytes()).expect("write");
        stdin.flush().expect("flush");
        wait_for(&format!(r#""id":{}"#, i + 1));
    }
    stdin.write_all(frame(r#"{"jsonrpc":"2.0","id":9,"method":"shutdown"}"#).as_bytes()).expect("write");
    stdin.flush().expect("flush");
    wait_for(r#""id":9"#);
    stdin.write_all(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#).as_bytes()).expect("write");
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = seen.lock().expect("lock").clone();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "the server exits after shutdown and exit: {out}");
    // (Before `initialize`, the error is -32002, "not initialized".)
    assert_eq!(out.matches(r#""id":null"#).count(), 3, "one error per bad frame: {out}");
    assert_eq!(out.matches("-32700").count(), 2, "parse errors once initialized: {out}");
    assert!(out.contains("capabilities"), "initialize is answered: {out}");
}

#[test]
fn test_explain_and_check_name_files_relative_to_the_project() {
    // Read from the repository root, the project is `examples/credit-scoring`:
    // every command names its files as the reports do, from the project folder.
    let coverage = stdout(&aims(&["test", "examples/credit-scoring", "--coverage", "--as-of", "2026-11-01"], root()));
    assert!(coverage.contains("(policy/controls.aims:"), "{coverage}");
    assert!(!coverage.contains("examples/credit-scoring/"), "{coverage}");
    let explain = stdout(&aims(
        &["explain", "bias_testing", "--path", "examples/credit-scoring", "--as-of", "2026-11-01"],
        root(),
    ));
    assert!(explain.contains(" policy/controls.aims:"), "{explain}");
    assert!(!explain.contains("examples/credit-scoring/"), "{explain}");
    let report =
        stdout(&aims(&["check", "examples/credit-scoring", "--as-of", "2026-11-01", "--format", "json"], root()));
    assert!(report.contains("\"location\": \"policy/controls.aims:"), "{report}");
}
