//! Determinism: `aims check --format json` on every example gives the same
//! bytes run twice, from different working folders, through a relative or
//! an absolute path, and with the fact sources of `aims.toml` in another
//! order.

mod common;

use std::path::Path;
use std::process::Command;

use common::{examples, root};

fn check_json(project: &str, cwd: &Path) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["check", project, "--format", "json"])
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("aims runs");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{project}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("read").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `aims.toml` with its `[[facts]]` tables in reverse order.
fn reverse_fact_sources(manifest: &str) -> String {
    let mut parts: Vec<&str> = manifest.split("\n[[facts]]").collect();
    let head = parts.remove(0);
    parts.reverse();
    let mut out = head.to_string();
    for part in parts {
        out.push_str("\n[[facts]]");
        out.push_str(part.trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

#[test]
fn every_example_gives_byte_identical_json_wherever_and_however_it_is_run() {
    let examples = examples();
    assert!(!examples.is_empty());
    for dir in examples {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let relative = format!("examples/{name}");
        let first = check_json(&relative, root());
        assert!(!first.is_empty());
        assert_eq!(first, check_json(&relative, root()), "{name}: a second run differs");
        assert_eq!(first, check_json(".", &dir), "{name}: run from inside the project");
        assert_eq!(first, check_json(&dir.to_string_lossy(), Path::new("/")), "{name}: absolute path from /");

        let temp = tempfile::tempdir().expect("temp dir");
        let copy = temp.path().join(&name);
        copy_dir(&dir, &copy);
        let manifest = std::fs::read_to_string(copy.join("aims.toml")).expect("aims.toml");
        let reversed = reverse_fact_sources(&manifest);
        if manifest.matches("[[facts]]").count() > 1 {
            assert_ne!(reversed, manifest, "{name}: the fact sources were reordered");
        }
        std::fs::write(copy.join("aims.toml"), reversed).expect("write");
        assert_eq!(first, check_json(&name, temp.path()), "{name}: fact sources in another order");
    }
}

#[test]
fn reversing_fact_sources_keeps_every_table() {
    let manifest = "[project]\nname = \"x\"\n\n[[facts]]\npath = \"a\"\n\n[[facts]]\npath = \"b\"\n";
    let reversed = reverse_fact_sources(manifest);
    assert!(reversed.find("\"b\"") < reversed.find("\"a\""));
    assert_eq!(reversed.matches("[[facts]]").count(), 2);
}

/// The first evaluation runs on every core: the report is the same bytes
/// on one thread and on several (1,000 systems: 4 chunks of 256, shared
/// out among the threads).
#[test]
fn one_thread_or_several_give_the_same_report() {
    let run = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_aims"))
            .args(common::PEERS_CHECK_N1000)
            .current_dir(root())
            .env("AIMS_EVAL_THREADS", threads)
            .output()
            .expect("aims runs");
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let one = run("1");
    assert!(one.len() > 100_000, "a report of 1,000 systems");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("3"));
}
