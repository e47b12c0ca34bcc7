//! What the end-to-end tests share: running the built `aims` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether a test that needs a tool besides Rust (headless Chromium,
/// Python's junitparser) is asked for: `AIMS_TEST_<TOOL>=1`, or
/// `AIMS_CI_TOOLS=1` for all of them (.ci/run sets it after installing
/// them). When asked for, the test runs and fails if the tool is missing;
/// otherwise it is skipped with a note on stderr, so `cargo test
/// --workspace` passes on a machine with only Rust and a bare `python3`.
pub fn tool_test_wanted(tool: &str, what: &str) -> bool {
    let asked = |var: &str| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0");
    let var = format!("AIMS_TEST_{tool}");
    if asked(&var) || asked("AIMS_CI_TOOLS") {
        return true;
    }
    // Written to the stream itself: the test harness captures `eprintln!`
    // of a passing test, and this note is meant to be seen.
    use std::io::Write;
    let _ =
        writeln!(std::io::stderr(), "note: skipped {what}; set {var}=1 (or AIMS_CI_TOOLS=1) to run it (.ci/run does)");
    false
}

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `aims ARGS` in `dir`, without colour, to be run.
pub fn aims_command(args: &[&str], dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aims"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    command
}

/// Runs `aims ARGS` in `dir`, without colour.
pub fn aims_in(args: &[&str], dir: &Path) -> Output {
    aims_command(args, dir).output().expect("aims runs")
}

/// Writes files (path relative to `dir`, text), making their folders.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The names in a folder, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `aims check` of the peer benchmark on the harness's N = 1,000 facts
/// (seed 42), as a JSON report.
pub const PEERS_CHECK_N1000: [&str; 8] = [
    "check",
    "benches/peers",
    "--facts",
    "tests/fixtures/peers-facts-n1000-seed42.json",
    "--as-of",
    "2026-01-01",
    "--format",
    "json",
];

/// Runs `aims ARGS` from the repository root.
pub fn aims(args: &[&str]) -> Output {
    aims_in(args, root())
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The bundled example organisations (folders of `examples/` with an
/// `aims.toml`, but `inventory`), sorted.
pub fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("aims.toml").is_file())
        // `examples/inventory` shows how fact files are read and
        // `examples/lending-monitoring` how measures read logs, not whole
        // management systems: tests/examples.rs checks each on its own.
        .filter(|p| !p.ends_with("inventory") && !p.ends_with("lending-monitoring"))
        .collect();
    dirs.sort();
    dirs
}

/// A folder's name.
pub fn name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
