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

/// A project of `n` systems with a rule that compares every due system
/// with every other one: nothing is due as of 2026-11-01, so the session
/// starts at once; as of 2028-01-01 the rule is quadratic (4 × 10⁸ steps
/// for 20,000 systems: minutes in a debug build, seconds in a release one).
fn heavy_project(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = "entity S { id: Text key, v: Int, due: Date, flag: Bool }\n\
                  control rare \"Few systems share a value\" severity minor\n  for s: S where s.due < today\n\
                  { require count(t for t: S where t.v == s.v) < 3 because \"a shared value is suspicious\" }\n\
                  control flagged \"Systems are flagged\" severity minor for s: S { require s.flag }\n";
    std::fs::create_dir(dir.path().join("policy")).expect("policy folder");
    std::fs::write(dir.path().join("policy").join("policy.aims"), policy).expect("policy");
    let rows: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id": "s{i}", "v": {}, "due": "2027-06-01", "flag": false}}"#, i % (n / 4).max(1)))
        .collect();
    std::fs::write(dir.path().join("facts.json"), format!(r#"{{"S": [{}]}}"#, rows.join(",\n"))).expect("facts");
    let toml = "[project]\nname = \"heavy\"\nsources = [\"policy\"]\n\n[[facts]]\npath = \"facts.json\"\n";
    std::fs::write(dir.path().join("aims.toml"), toml).expect("aims.toml");
    dir
}

/// Sends Ctrl-C once the command just typed runs: after rustyline has
/// echoed it and left raw mode (until then Ctrl-C is a key, not SIGINT).
fn interrupt_command(repl: &mut rexpect::session::PtySession, command: &str) -> Result<(), rexpect::error::Error> {
    repl.send_line(command)?;
    repl.exp_string(command)?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    repl.send_control('c')?;
    repl.exp_string("interrupted: the session is as it was before this command")?;
    repl.exp_string("aims> ")?;
    Ok(())
}

#[test]
fn ctrl_c_interrupts_the_running_command_and_the_session_goes_on() -> Result<(), Box<dyn std::error::Error>> {
    let project = heavy_project(20_000);
    let state = tempfile::tempdir()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_aims"));
    command
        .args(["repl", ".", "--as-of", "2026-11-01"])
        .current_dir(project.path())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state.path());
    let mut repl = spawn_command(command, Some(60_000))?;
    // More than 10,000 facts: the prompt comes before the evaluation, whose
    // findings are printed (before or above the prompt) when they are known.
    repl.exp_string(
        "heavy as of 2026-11-01: 2 controls and audits, 0 risks, 0 objectives; evaluating 20000 facts (a command",
    )?;
    repl.exp_string("evaluated: 20000 findings")?;
    repl.exp_string("aims> ")?;
    repl.send_line(":set S \"s7\".flag = true")?;
    repl.exp_string(&bytes("flagged × s7  fail → pass"))?;
    repl.exp_string("aims> ")?;

    // An edit stopped while its answer is computed, a declaration, and an
    // expression: each is interrupted, and nothing of it stays.
    interrupt_command(&mut repl, ":as-of 2028-01-01")?;
    interrupt_command(&mut repl, "control twice for s: S { require count(t for t: S where t.v == s.v) < 9 }")?;
    interrupt_command(&mut repl, "count(s for s: S where count(t for t: S where t.v == s.v) > 1)")?;

    repl.send_line("40 + 2")?;
    repl.exp_string("42")?;
    repl.exp_string("aims> ")?;
    repl.send_line(":as-of")?;
    repl.exp_string("as of 2026-11-01")?;
    repl.exp_string("aims> ")?;
    repl.send_line("count(s for s: S where s.flag)")?;
    repl.exp_string("\r\n1\r\n")?;
    repl.exp_string("aims> ")?;
    repl.send_line(":edits")?;
    let listed = repl.exp_string("aims> ")?;
    assert!(listed.contains("  1  :set S \"s7\".flag = true\r\n"), "{listed:?}");
    assert!(!listed.contains("  2  "), "only the earlier edit is recorded: {listed:?}");

    // At the prompt: Ctrl-C clears the line being typed...
    repl.send("abc")?;
    repl.flush()?;
    repl.exp_string("abc")?;
    repl.send_control('c')?;
    repl.exp_string("aims> ")?;
    repl.send_line("1 + 1")?;
    repl.exp_string("\r\n2\r\n")?;
    repl.exp_string("aims> ")?;
    // ... at an empty prompt it says how to leave; a second one in a row leaves.
    repl.send_control('c')?;
    repl.exp_string("(to leave, press Ctrl-C again, or Ctrl-D, or type :quit)")?;
    repl.send_control('c')?;
    repl.exp_eof()?;
    Ok(())
}
