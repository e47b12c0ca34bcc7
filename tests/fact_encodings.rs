//! End-to-end tests of the text encodings of fact files: UTF-8 with or
//! without a byte order mark, UTF-16 with one, an `encoding` declared in
//! aims.toml, and the diagnostic of an undeclared one, in every format.

mod common;

use std::path::Path;

use common::{aims_in, stderr, stdout};

/// A name with characters outside ASCII that windows-1252 can write.
const NAME: &str = "Café – “smart” scorer";

fn policy() -> String {
    format!(
        "entity S {{ id: Text key, name: Text, n: Int = 0 }}\n\
         control named \"Named\" for s: S {{ require s.name == \"{NAME}\" }}\n"
    )
}

/// The same facts in each format: (file name, text, entity line of aims.toml).
fn documents() -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("s.json", format!("[\n{{\"id\": \"a\",\n \"name\": \"{NAME}\"}}\n]\n"), "entity = \"S\"\n"),
        ("s.yaml", format!("- id: a\n  name: \"{NAME}\"\n"), "entity = \"S\"\n"),
        ("s.toml", format!("[[S]]\nid = \"a\"\nname = \"{NAME}\"\n"), ""),
        ("s.csv", format!("id,name\r\na,\"{NAME}\"\r\n"), "entity = \"S\"\n"),
    ]
}

/// The encodings of the text: (how, bytes, `encoding` line of aims.toml).
fn encodings(text: &str) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let utf16 = |big: bool| {
        let mut bytes = Vec::new();
        for unit in "\u{feff}".encode_utf16().chain(text.encode_utf16()) {
            bytes.extend(if big { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    };
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend(text.as_bytes());
    let (cp1252, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!lossy);
    vec![
        ("UTF-8", text.as_bytes().to_vec(), ""),
        ("UTF-8 with a mark", bom, ""),
        ("UTF-16LE with a mark", utf16(false), ""),
        ("UTF-16BE with a mark", utf16(true), ""),
        ("windows-1252 declared", cp1252.into_owned(), "encoding = \"windows-1252\"\n"),
        ("latin1 declared", encoding_rs::WINDOWS_1252.encode(text).0.into_owned(), "encoding = \" Latin1 \"\n"),
    ]
}

fn project(file: &str, bytes: &[u8], mapping: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("p.aims"), policy()).expect("write");
    std::fs::write(dir.path().join(file), bytes).expect("write");
    let manifest = format!("[project]\nname = \"t\"\n\n[[facts]]\npath = \"{file}\"\n{mapping}");
    std::fs::write(dir.path().join("aims.toml"), manifest).expect("write");
    dir
}

fn check(dir: &Path) -> (String, String, Option<i32>) {
    let out = aims_in(&["check", ".", "--as-of", "2026-01-01"], dir);
    (stdout(&out), stderr(&out), out.status.code())
}

#[test]
fn every_format_loads_in_every_encoding() {
    for (file, text, entity) in documents() {
        for (how, bytes, encoding) in encodings(&text) {
            let dir = project(file, &bytes, &format!("{entity}{encoding}"));
            let (out, err, code) = check(dir.path());
            // The control compares the name exactly: it passes only if the
            // text was decoded right.
            assert_eq!(code, Some(0), "{file} in {how}: {out}{err}");
        }
    }
}

#[test]
fn positions_are_lines_and_columns_of_the_decoded_text() {
    for (file, text, entity) in documents() {
        // `n` is an Int: give it a text on the third line of the record.
        let (bad, line) = match file {
            "s.json" => (text.replace("\"id\": \"a\",\n", "\"id\": \"a\",\n \"n\": \"x\",\n"), ":3:"),
            "s.yaml" => (text.replace("- id: a\n", "- id: a\n  n: x\n"), ":2:"),
            "s.toml" => (text.replace("id = \"a\"\n", "id = \"a\"\nn = \"x\"\n"), ":3:"),
            _ => (format!("id,name,n\r\na,\"{NAME}\r\nsecond line\",x\r\n"), ":3:"),
        };
        let mut expected = None;
        for (how, bytes, encoding) in encodings(&bad) {
            let dir = project(file, &bytes, &format!("{entity}{encoding}"));
            let (_, err, code) = check(dir.path());
            assert_eq!(code, Some(2), "{file} in {how}: {err}");
            let at = err.lines().find(|l| l.contains(&format!("─[ {file}:"))).map(str::to_string);
            assert!(at.is_some(), "{file} in {how}: {err}");
            // The same line and column whatever the encoding.
            match &expected {
                None => expected = at,
                Some(first) => assert_eq!(Some(first), at.as_ref(), "{file} in {how}: {err}"),
            }
        }
        let expected = expected.unwrap_or_default();
        assert!(expected.contains(line), "{file}: {expected}");
    }
}

#[test]
fn an_undeclared_encoding_is_named_with_the_fix() {
    let text = format!("id,name\na,{NAME} from the café in the région\n");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    let dir = project("s.csv", &bytes, "entity = \"S\"\n");
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[E0308]"), "{err}");
    assert!(err.contains("`s.csv` is not valid UTF-8 text; it looks like windows-1252"), "{err}");
    assert!(err.contains("─[ s.csv:2:6 ]"), "{err}");
    assert!(err.contains("`encoding = \"windows-1252\"`"), "{err}");

    // UTF-16 without a mark.
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let dir = project("s.csv", &bytes, "entity = \"S\"\n");
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("it looks like UTF-16LE") && err.contains("`encoding = \"UTF-16LE\"`"), "{err}");
    // Declared, the same file loads.
    let dir = project("s.csv", &bytes, "entity = \"S\"\nencoding = \"utf-16le\"\n");
    let (out, err, code) = check(dir.path());
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("saw s.name = \"Café – “smart” scorer from the café in the région\""), "{out}");
}

#[test]
fn an_unknown_encoding_label_is_refused() {
    let dir = project("s.csv", b"id,name\na,b\n", "entity = \"S\"\nencoding = \"windows-1252x\"\n");
    let (_, err, code) = check(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[E0401]") && err.contains("`encoding = \"windows-1252x\"` of fact source `s.csv`"), "{err}");
    assert!(err.contains("aims.toml:7:"), "{err}");
}
