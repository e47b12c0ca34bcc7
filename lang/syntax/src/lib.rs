//! `aims-syntax`: the lowest layer of the `aims` engine, in a crate of its
//! own so that the compiler enforces the layering.
//!
//! It holds what every later stage reads and nothing that reads them:
//! [`diag`], the one diagnostic type (and [`bytes`], the word-at-a-time
//! tests its scans share); [`syntax`], the grammar, the parser
//! and the syntax tree; [`format`], the formatter; [`num`], exact decimal
//! numbers; and [`time`], calendar dates and durations. It knows nothing of
//! names, types, facts, evaluation, salsa, terminals or editors; `aims-lang`
//! re-exports what its users need, so front ends never depend on this crate
//! directly.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bytes;
pub mod diag;
pub mod format;
pub mod num;
pub mod syntax;
pub mod time;

/// Every module of the standard library (`stdlib/**/*.aims`), read from
/// the repository: the tests of the parser and the formatter run on them.
#[cfg(test)]
fn stdlib_texts() -> Vec<(String, String)> {
    fn visit(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).expect("the stdlib folder").flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "aims") {
                let text = std::fs::read_to_string(&path).expect("a stdlib module");
                found.push((path.display().to_string(), text));
            }
        }
    }
    let mut found = Vec::new();
    visit(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib"), &mut found);
    assert!(found.len() >= 4, "the stdlib was read: {found:?}");
    found
}
