//! End-to-end tests of how `aims check` reads fact files that are not what
//! they seem: FIFOs and devices (which would block or never end) and files
//! whose reported size is not what they hold.

#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const POLICY: &str = "entity S { id: Text key }\ncontrol c for s: S { require s.id != \"\" }\n";

/// `aims check DIR --facts FACTS` (standard error, exit code), killed
/// after 20 s: a read that blocks must fail the test, not hang it.
fn check(dir: &Path, facts: &str) -> (String, Option<i32>) {
    aims_check(dir, &["--facts", facts])
}

fn project(limits: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("p.aims"), POLICY).expect("write");
    std::fs::write(dir.path().join("aims.toml"), format!("[project]\nname = \"t\"\n{limits}")).expect("write");
    dir
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = project("");
    let made = Command::new("mkfifo").arg(dir.path().join("pipe.json")).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo here: skipped");
        return;
    }
    let (stderr, code) = check(dir.path(), "pipe.json");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("cannot read `pipe.json`: it is a FIFO (named pipe), not a regular file"), "{stderr}");
}

#[test]
fn a_device_is_refused_without_reading_it() {
    let dir = project("");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.json")).expect("symlink");
    let (stderr, code) = check(dir.path(), "zero.json");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("cannot read `zero.json`: it is a device, not a regular file"), "{stderr}");
}

/// A file that reports a size of 0 (as `/proc` files do) is still read no
/// further than the limit.
#[cfg(target_os = "linux")]
#[test]
fn the_size_limit_bounds_the_read_not_the_reported_size() {
    let dir = project("[limits]\nmax_fact_bytes = 16\n");
    std::os::unix::fs::symlink("/proc/self/maps", dir.path().join("maps.json")).expect("symlink");
    let (stderr, code) = check(dir.path(), "maps.json");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("[E0308]") && stderr.contains("`maps.json` is too large"), "{stderr}");
    assert!(stderr.contains("more than the limit of 16 bytes was read from it"), "{stderr}");
}

/// `aims check DIR` (standard error, exit code), killed after 20 s.
fn check_project(dir: &Path) -> (String, Option<i32>) {
    aims_check(dir, &[])
}

/// `aims check . --as-of 2026-01-01 EXTRA` in `dir` (standard error, exit
/// code), killed after 20 s: a read that blocks must fail the test, not
/// hang it.
fn aims_check(dir: &Path, extra: &[&str]) -> (String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["check", ".", "--as-of", "2026-01-01"])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("aims runs");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            return (String::from_utf8_lossy(&out.stderr).into_owned(), out.status.code());
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("aims check {extra:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) -> bool {
    let made = Command::new("mkfifo").arg(path).status().is_ok_and(|s| s.success());
    if !made {
        eprintln!("no mkfifo here: skipped");
    }
    made
}

/// Every kind of input path, not only `--facts FILE`: a FIFO or a device
/// found in a source folder, in a fact folder, or as `aims.toml` is
/// refused by name, never skipped without a word (facts or rules would
/// disappear) and never read.
#[test]
fn a_fifo_or_device_anywhere_in_a_project_is_refused_by_name() {
    // In the source folder (the project folder itself).
    let dir = project("");
    if !mkfifo(&dir.path().join("more.aims")) {
        return;
    }
    let (stderr, code) = check_project(dir.path());
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("cannot read `more.aims`: it is a FIFO (named pipe)"), "{stderr}");
    // A link to a device in the source folder: it leads outside the project.
    let dir = project("");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.aims")).expect("symlink");
    let (stderr, code) = check_project(dir.path());
    assert!(matches!(code, Some(2 | 3)), "{stderr}");
    assert!(stderr.contains("`zero.aims` leads outside the project folder"), "{stderr}");
    // In a fact folder given with --facts.
    let dir = project("");
    std::fs::create_dir(dir.path().join("facts")).expect("mkdir");
    std::fs::write(dir.path().join("facts/s.json"), r#"{"S": [{"id": "a"}]}"#).expect("write");
    assert!(mkfifo(&dir.path().join("facts/pipe.json")));
    let (stderr, code) = check(dir.path(), "facts");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("cannot read `facts/pipe.json`: it is a FIFO (named pipe)"), "{stderr}");
    // aims.toml itself.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("p.aims"), POLICY).expect("write");
    assert!(mkfifo(&dir.path().join("aims.toml")));
    let (stderr, code) = check_project(dir.path());
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("cannot read `aims.toml`: it is a FIFO (named pipe)"), "{stderr}");
}

/// A YAML file is held whole in memory by its parser before its records
/// are counted, so it has a size limit of its own; the same records as
/// JSON are read.
#[test]
fn a_yaml_file_has_a_size_limit_of_its_own() {
    let dir = project("[limits]\nmax_yaml_bytes = 200\n");
    let rows: Vec<String> = (0..20).map(|i| format!("  - {{ id: s{i} }}")).collect();
    std::fs::write(dir.path().join("s.yaml"), format!("S:\n{}\n", rows.join("\n"))).expect("write");
    let (stderr, code) = check(dir.path(), "s.yaml");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("[E0308]") && stderr.contains("`s.yaml` is too large"), "{stderr}");
    assert!(stderr.contains("the limit is 200 bytes") && stderr.contains("export a large inventory as JSON or CSV"));
    let rows: Vec<String> = (0..20).map(|i| format!("{{\"id\": \"s{i}\"}}")).collect();
    std::fs::write(dir.path().join("s.json"), format!("{{\"S\": [{}]}}", rows.join(", "))).expect("write");
    let (stderr, code) = check(dir.path(), "s.json");
    assert!(!stderr.contains("too large"), "{code:?} {stderr}");
}
