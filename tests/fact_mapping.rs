//! End-to-end tests of the mapping options of a `[[facts]]` source in
//! aims.toml (docs/facts.md): how the columns of a file are chosen and how
//! its values are read.

mod common;

use std::path::Path;

use common::{aims_in, stderr, stdout, write_files};

/// A project of `policy`, one fact file and its `[[facts]]` source.
fn project(policy: &str, file: &str, text: &str, source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = format!("[project]\nname = \"t\"\n\n[[facts]]\npath = \"{file}\"\n{source}");
    write_files(dir.path(), &[("p.aims", policy), (file, text), ("aims.toml", &manifest)]);
    dir
}

/// `aims check` at a fixed date: (standard output, standard error, exit code).
fn check(dir: &Path) -> (String, String, Option<i32>) {
    let out = aims_in(&["check", ".", "--as-of", "2026-01-01"], dir);
    (stdout(&out), stderr(&out), out.status.code())
}

const SYSTEMS: &str = "entity System { id: Text key, owner: Text }\n\
    control named \"Owned\" for s: System { require s.owner != \"\" }\n";

#[test]
fn rename_and_ignore_entries_are_trimmed_like_headers() {
    let csv = "Use Case ID , Owner Name,Notes\na,Ann,x\n";
    let source = "entity = \" System \"\nignore = [\" Notes\"]\n\
        [facts.rename]\n\" id \" = \"Use Case ID \"\nowner = \" Owner Name\"\n";
    let dir = project(SYSTEMS, "s.csv", csv, source);
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
}

#[test]
fn other_columns_are_ignored_when_asked() {
    // 62 columns of a real inventory, two of them repeated: only the ones
    // the entity declares are read.
    let csv = "id,Agency,owner,Comments,Comments\r\na,X,Ann,,\r\n";
    let dir = project(SYSTEMS, "s.csv", csv, "entity = \"System\"\n");
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[E0302]") && err.contains("has no field `Agency`"), "{err}");
    let dir = project(SYSTEMS, "s.csv", csv, "entity = \"System\"\nignore_other_columns = true\n");
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    // The same for the keys of a JSON record.
    let json = "[{\"id\": \"a\", \"agency\": \"X\", \"owner\": \"Ann\"}]";
    let dir = project(SYSTEMS, "s.json", json, "entity = \"System\"\nignore_other_columns = true\n");
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
}
