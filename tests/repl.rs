//! End to end: `aims repl` driven through a pseudo-terminal, as a person
//! would use it (prompt, a what-if edit, tab completion, quitting).

use std::process::Command;

use rexpect::session::spawn_command;

const TIMEOUT_MS: u64 = 10_000;

/// rexpect reads the terminal byte by byte, one `char` per byte: a needle
/// with non-ASCII text (`×`, `→`) must be spelt the same way.
fn bytes(text: &str) -> String {
    text.bytes().map(char::from).collect()
}

#[test]
fn repl_answers_edits_completes_commands_and_quits() -> Result<(), Box<dyn std::error::Error>> {
    let state = tempfile::tempdir()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_aims"));
    command
        .args(["repl", "examples/credit-scoring", "--as-of", "2026-11-01"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state.path());
    let mut repl = spawn_command(command, Some(TIMEOUT_MS))?;
    repl.exp_string("credit-scoring as of 2026-11-01")?;
    repl.exp_string("aims> ")?;

    // A what-if edit answers with the diff it caused.
    repl.send_line(":set AISystem \"credit-scorer\".human_oversight = false")?;
    repl.exp_string(&bytes("human_review × credit-scorer  pass → fail"))?;
    repl.exp_string(&bytes("unreviewed_decisions × credit-scorer  residual low → high"))?;
    repl.exp_string(&bytes("findings (8 → 10)"))?;
    repl.exp_string("aims> ")?;

    // `:wh<TAB>` completes to `:why `; the completed command runs.
    repl.send(":wh")?;
    repl.send("\t")?;
    repl.flush()?;
    repl.exp_string(":why")?;
    repl.send_line("bias_testing limit-adjuster")?;
    repl.exp_string("bias_testing on \"limit-adjuster\": fail")?;
    repl.exp_string("require 1  s.last_bias_test within 180 days")?;
    repl.exp_string("aims> ")?;

    repl.send_line(":quit")?;
    repl.exp_eof()?;
    assert!(state.path().join("aims").join("history").exists(), "the history is saved");
    Ok(())
}

/// Runs `aims repl examples/credit-scoring` with `input` piped in:
/// (exit code, stdout, stderr).
fn piped(input: &[u8]) -> (Option<i32>, String, String) {
    piped_in("examples/credit-scoring", env!("CARGO_MANIFEST_DIR").as_ref(), input)
}

/// Runs `aims repl PROJECT --as-of 2026-11-01` in `dir` with `input` piped in.
fn piped_in(project: &str, dir: &std::path::Path, input: &[u8]) -> (Option<i32>, String, String) {
    use std::io::Write;
    let state = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["repl", project, "--as-of", "2026-11-01"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("aims repl runs");
    child.stdin.take().expect("stdin").write_all(input).expect("input written");
    let out = child.wait_with_output().expect("aims repl ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn piped_input_that_is_not_utf8_is_reported_by_line_and_the_session_goes_on() {
    let mut input = b"count(s for s: AISystem)\n".to_vec();
    input.extend_from_slice(b":set AISystem \"credit-scorer\".name = \"caf\xe9\"\n");
    input.extend_from_slice(b"count(s for s: AISystem\n  where s.name != \"\xff\")\n");
    input.extend_from_slice(b"1 + 1\n");
    let (code, stdout, stderr) = piped(&input);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("aims: input line 2 is not valid UTF-8 (byte 42)"), "{stderr}");
    assert!(stderr.contains("input line 4 is not valid UTF-8 (byte 20)"), "{stderr}");
    assert!(stderr.contains("skipped with the entry it continues"), "{stderr}");
    let answers: Vec<&str> = stdout.lines().skip(2).collect();
    assert_eq!(answers, ["7", "2"], "the session answered before and after the bad lines: {stdout}");
}

#[test]
fn int_keys_are_listed_and_diffed_in_numeric_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = "entity System { id: Int key, reviewed: Date }\n\
                  control checked \"Reviewed this month\" severity minor for s: System { require s.reviewed within 30 days }\n";
    std::fs::write(dir.path().join("policy.aims"), policy).expect("policy");
    let facts: String =
        [10, 2, 3, 1].iter().map(|k| format!("fact System {{ id: {k}, reviewed: 2026-10-20 }}\n")).collect();
    std::fs::write(dir.path().join("facts.aims"), facts).expect("facts");
    let (code, stdout, stderr) = piped_in(".", dir.path(), b"checked\n:as-of 2027-01-01\n");
    assert_eq!(code, Some(0), "{stderr}");
    let order = |prefix: &str| -> Vec<String> {
        stdout
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix(prefix))
            .filter_map(|rest| rest.split([' ', ':']).next().map(String::from))
            .collect()
    };
    let listed: Vec<String> = stdout
        .lines()
        .filter(|l| l.ends_with("  pass") && l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(listed, ["1", "2", "3", "10"], "{stdout}");
    assert_eq!(order("checked × "), ["1", "2", "3", "10"], "{stdout}");
    assert_eq!(order("+ minor       control checked "), ["1", "2", "3", "10"], "{stdout}");
}
