//! What the end-to-end tests share: running the built `aims` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `aims ARGS` in `dir`, without colour.
pub fn aims_in(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("aims runs")
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

/// The bundled example projects (folders of `examples/` with an
/// `aims.toml`), sorted.
pub fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("aims.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// A folder's name.
pub fn name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
