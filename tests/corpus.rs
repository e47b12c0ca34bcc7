//! The corpus of broken inputs: every folder under `tests/corpus/` is a tiny
//! project that `aims check` must reject with exit code 2 and a diagnostic,
//! never with a panic, a hang or another exit code.
//!
//! Each folder holds one or two `.aims` files, the fact files it needs with
//! an `aims.toml`, and a file `expected` with the diagnostic code the case is
//! about (e.g. `E0102`). The rendered diagnostics (standard error) of every
//! case are snapshotted in `tests/snapshots/corpus/<case>.snap`; review them
//! with `cargo insta review` or rewrite them with
//! `INSTA_UPDATE=always cargo test --test corpus`.
//!
//! Cases that are too big to store (a 10,000-deep expression) are generated
//! into a temporary folder by the tests below.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The longest one `aims check` may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The evaluation date every case is checked at.
const AS_OF: &str = "2026-11-01";
/// The corpus must not shrink below this.
const MIN_CASES: usize = 45;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    repo_root().join("tests").join("corpus")
}

/// The stored cases, sorted by name.
fn stored_cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .map(|entry| entry.expect("readable corpus entry"))
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .map(|entry| entry.file_name().into_string().expect("case names are UTF-8"))
        .collect();
    cases.sort();
    cases
}

/// What one run of `aims check` did.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs `aims check <target> --as-of AS_OF` in `cwd` without colours, killing
/// it after [`TIMEOUT`]. The pipes are drained on their own threads so that a
/// long report cannot block the child while it is polled.
fn aims_check(cwd: &Path, target: &str) -> Result<Run, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["check", target, "--as-of", AS_OF])
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start aims: {e}"))?;
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`aims check {target}` did not finish within {} s", TIMEOUT.as_secs()));
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("cannot wait for aims: {e}")),
        }
    };
    let stdout = String::from_utf8_lossy(&stdout.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned();
    Ok(Run { status, stdout, stderr })
}

/// Control characters other than newlines and tabs, shown escaped so that a
/// snapshot never holds raw NUL or terminal escape bytes.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks one case: exit code 2, no panic, a diagnostic with the expected
/// code on standard error, and the snapshot of standard error. Returns the
/// problems found instead of panicking, so that every case is checked.
fn check_case(case: &str, cwd: &Path, target: &str, expected_code: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let run = match aims_check(cwd, target) {
        Ok(run) => run,
        Err(problem) => return vec![format!("{case}: {problem}")],
    };
    if run.status.code() != Some(2) {
        problems.push(format!("{case}: exit status {} instead of 2\n{}", run.status, run.stderr));
    }
    if run.stderr.contains("panicked") {
        problems.push(format!("{case}: aims panicked\n{}", run.stderr));
    }
    if !run.stdout.is_empty() {
        problems.push(format!("{case}: a rejected project printed a report on standard output\n{}", run.stdout));
    }
    match expected_code {
        Some(code) => {
            if !run.stderr.contains(&format!("[{code}]")) {
                problems.push(format!("{case}: no `{code}` diagnostic on standard error\n{}", run.stderr));
            }
        }
        None => problems.push(format!("{case}: the case has no `expected` file naming its diagnostic code")),
    }
    let stderr = printable(&run.stderr);
    let snapshot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        insta::with_settings!({
            snapshot_path => "snapshots/corpus",
            prepend_module_to_snapshot => false,
            description => format!("aims check {target} --as-of {AS_OF}"),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(case, stderr);
        });
    }));
    if snapshot.is_err() {
        problems.push(format!("{case}: standard error differs from its snapshot (see above)"));
    }
    problems
}

fn expected_code(case_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(case_dir.join("expected")).ok()?;
    let code = text.trim();
    (!code.is_empty()).then(|| code.to_string())
}

#[test]
fn every_broken_project_is_rejected_with_a_diagnostic() {
    let cases = stored_cases();
    assert!(cases.len() >= MIN_CASES, "the corpus has {} cases, fewer than {MIN_CASES}", cases.len());
    let root = repo_root();
    let mut problems = Vec::new();
    for case in &cases {
        let expected = expected_code(&corpus_dir().join(case));
        let target = format!("tests/corpus/{case}");
        problems.extend(check_case(case, &root, &target, expected.as_deref()));
    }
    assert!(problems.is_empty(), "{} problem(s) in the corpus:\n\n{}", problems.len(), problems.join("\n\n"));
}

/// A small schema and one control, for the generated cases.
const SCHEMA: &str = "entity System {\n  id: Text key,\n  score: Number = 0,\n}\n";

/// Writes `tests/corpus`-style case `name` with one policy file into `dir`.
fn write_case(dir: &Path, name: &str, policy: &str) {
    let case = dir.join(name);
    std::fs::create_dir_all(&case).expect("create the case folder");
    std::fs::write(case.join("policy.aims"), policy).expect("write the policy");
}

fn control(require: &str) -> String {
    format!("{SCHEMA}\ncontrol positive \"Scores are positive\"\n  for s: System\n{{\n  require {require}\n}}\n")
}

#[test]
fn a_10000_deep_expression_is_rejected_not_overflowed() {
    // 10,000 nested brackets, 100 to a line so that the snapshot stays short.
    let depth = 10_000;
    let mut expr = String::new();
    for line in 0..depth / 100 {
        if line > 0 {
            expr.push_str("\n    ");
        }
        expr.push_str(&"(".repeat(100));
    }
    expr.push_str("s.score");
    expr.push_str(&")".repeat(depth));
    expr.push_str(" > 0");
    let temp = tempfile::tempdir().expect("a temporary folder");
    write_case(temp.path(), "syntax-10000-deep-nesting", &control(&expr));
    let problems = check_case("syntax-10000-deep-nesting", temp.path(), "syntax-10000-deep-nesting", Some("E0003"));
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Deep nesting without brackets (`if .. then if ..`, `exists .. where
/// exists ..`) and very long operator chains once overflowed the stack;
/// they must give E0003, never a crash.
#[test]
fn unbracketed_nesting_and_long_chains_do_not_crash() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let cases = [
        ("nested-if-500", format!("{}true{}", "if true then ".repeat(500), " else false".repeat(500))),
        ("nested-exists-500", format!("{}true", "exists a: System where ".repeat(500))),
        ("and-chain-100000", vec!["true"; 100_000].join(" and ")),
        ("plus-chain-100000", format!("{} > 0", vec!["s.score"; 100_000].join(" + "))),
        ("coalesce-chain-100000", format!("{} > 0", vec!["s.score"; 100_000].join(" ?? "))),
    ];
    let mut problems = Vec::new();
    for (name, expr) in &cases {
        write_case(temp.path(), name, &control(expr));
        match aims_check(temp.path(), name) {
            Ok(run) if run.status.code().is_some_and(|c| c <= 2) && !run.stderr.contains("panicked") => {}
            Ok(run) => problems.push(format!("{name}: {} {}", run.status, run.stderr.lines().last().unwrap_or(""))),
            Err(problem) => problems.push(format!("{name}: {problem}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Trees deeper than the expression limit but within every other limit
/// (17 brackets of 1,023 `-` once overflowed the stack in the derived
/// `Clone` of the syntax tree): E0003, exit 2, never a crash.
#[test]
fn deep_trees_within_the_other_limits_are_refused_not_overflowed() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let nest = |open: &str, inner: &str, close: &str, times: usize, leaf: &str| {
        format!("{}{leaf}{}", format!("{open}{inner}").repeat(times), close.repeat(times))
    };
    let cases = [
        ("minus-17x1023", format!("{}s.score{} > 0", vec!["-".repeat(1023); 17].join("("), ")".repeat(16))),
        ("not-17x1000", nest("(", &"not ".repeat(1000), ")", 17, "true")),
        ("lists-40x900", format!("{} == []", nest("[", &"-".repeat(900), "]", 40, "s.score"))),
        ("and-chains-60x200", nest("(", &"true and ".repeat(200), ")", 60, "true")),
        ("if-30x500", format!("{} > 0", nest("(if true then ", &"-".repeat(500), " else 0)", 30, "s.score"))),
    ];
    let mut problems = Vec::new();
    for (name, expr) in &cases {
        write_case(temp.path(), name, &control(expr));
        match aims_check(temp.path(), name) {
            Ok(run) if run.status.code() == Some(2) && run.stderr.contains("[E0003]") => {}
            Ok(run) => problems.push(format!("{name}: {} {}", run.status, run.stderr.lines().last().unwrap_or(""))),
            Err(problem) => problems.push(format!("{name}: {problem}")),
        }
        // `aims fmt` refuses the file with the same error, and does not crash.
        let fmt = Command::new(env!("CARGO_BIN_EXE_aims"))
            .args(["fmt", "--check", &format!("{name}/policy.aims")])
            .current_dir(temp.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("aims fmt runs");
        let stderr = String::from_utf8_lossy(&fmt.stderr);
        if fmt.status.code() != Some(2) || !stderr.contains("[E0003]") {
            problems.push(format!("{name}: aims fmt: {} {}", fmt.status, stderr.lines().last().unwrap_or("")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A diagnostic on a very long line shows the line cut around its label:
/// a 4 MiB one-line policy gives a few hundred bytes of standard error,
/// not the whole line (once 50 MB for an 8 MiB line).
#[test]
fn a_diagnostic_on_a_huge_line_shows_only_its_surroundings() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let policy = format!("fn f(x: Int) = x{} + = 1\n", " ".repeat(4 << 20));
    write_case(temp.path(), "huge-line", &policy);
    let run = aims_check(temp.path(), "huge-line").expect("aims check runs");
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("[E0001]") && run.stderr.contains('…'), "{}", run.stderr);
    assert!(run.stderr.len() < 2_000, "{} bytes of standard error", run.stderr.len());
    assert!(
        run.stderr.contains(&format!("policy.aims:1:{}", policy.find(" = 1").expect("the error") + 2)),
        "{}",
        run.stderr
    );
}

/// A lone carriage return ends a line, as in every editor: the control
/// after `// note\r` is a control, not part of the comment.
#[test]
fn a_lone_cr_does_not_hide_a_control_in_a_comment() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    write_case(temp.path(), "lone-cr", "// note\rcontrol hidden { require false }\n");
    let run = aims_check(temp.path(), "lone-cr").expect("aims check runs");
    assert_eq!(run.status.code(), Some(1), "the hidden control fails: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("hidden"), "{}", run.stdout);
}

/// A fact file and a policy folder that are symbolic links to places
/// outside the project are refused (E0404), not read.
#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_project_are_refused() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let outside = temp.path().join("outside");
    std::fs::create_dir_all(&outside).expect("outside folder");
    std::fs::write(outside.join("secret.json"), "{\"System\": [{\"id\": \"x\"}]}").expect("secret");
    std::fs::write(outside.join("stolen.aims"), "audit stolen { require true }\n").expect("policy");
    let case = temp.path().join("project");
    std::fs::create_dir_all(&case).expect("project");
    std::fs::write(case.join("policy.aims"), control("s.score >= 0")).expect("policy");
    std::os::unix::fs::symlink(outside.join("secret.json"), case.join("facts.json")).expect("symlink");
    std::fs::write(case.join("aims.toml"), "[project]\nsources = [\".\"]\n\n[[facts]]\npath = \"facts.json\"\n")
        .expect("manifest");
    let run = aims_check(temp.path(), "project").expect("runs");
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("[E0404]"), "{}", run.stderr);

    std::fs::remove_file(case.join("facts.json")).expect("unlink");
    std::fs::write(case.join("aims.toml"), "[project]\nsources = [\".\", \"linked\"]\n").expect("manifest");
    std::os::unix::fs::symlink(&outside, case.join("linked")).expect("symlink");
    let run = aims_check(temp.path(), "project").expect("runs");
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("[E0404]"), "{}", run.stderr);
}
