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
