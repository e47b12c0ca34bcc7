//! What the end-to-end tests share: running the built `aims` binary.

#![allow(dead_code)]

use std::path::Path;
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

/// Runs `aims ARGS` from the repository root.
pub fn aims(args: &[&str]) -> Output {
    aims_in(args, root())
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
