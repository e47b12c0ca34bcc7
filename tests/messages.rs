//! End to end: what the commands say about what they did, in context.

mod common;

use common::aims_in;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn fmt_says_what_it_formatted() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.aims"), "control c   for s: S {\nrequire   s.x\n}\n").expect("a.aims");
    std::fs::write(dir.path().join("b.aims"), "entity S { id: Text key, x: Bool }\n").expect("b.aims");
    let out = aims_in(&["fmt", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "aims: formatted 1 file (1 already formatted)\n");
    let out = aims_in(&["fmt", "."], dir.path());
    assert_eq!(stderr(&out), "aims: 2 files already formatted\n");
    let out = aims_in(&["fmt", "--check", "."], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "aims: 2 files already formatted\n");
}

#[test]
fn soa_does_not_tell_you_to_run_soa() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = aims_in(&["init", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let soa = aims_in(&["soa", "."], dir.path());
    assert_eq!(soa.status.code(), Some(0), "{}", stderr(&soa));
    let said = stderr(&soa);
    assert!(said.contains("(W0002); the statement lists them\n"), "{said}");
    assert!(!said.contains("aims soa"), "{said}");
    let check = aims_in(&["check", "."], dir.path());
    assert!(stderr(&check).contains("(W0002); `aims soa` lists them all"), "{}", stderr(&check));
}
