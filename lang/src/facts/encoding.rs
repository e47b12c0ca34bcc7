//! The text encodings of fact files: a byte order mark (UTF-8, UTF-16 LE or
//! BE) decides first, then the `encoding` declared on the file's `[[facts]]`
//! source (any WHATWG label), else the file must be UTF-8. A file that is
//! not gets a guess at what it is, so the diagnostic can name the fix.
//!
//! The mark is removed: positions in diagnostics are lines and columns of
//! the decoded text, where the mark is no character.

use encoding_rs::Encoding;

/// Why the bytes of a fact file are not text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecodable {
    /// The text with its bad bytes replaced, to show where they are.
    pub lossy: String,
    /// The byte offset in `lossy` of the first bad byte.
    pub at: usize,
    /// The encoding the bytes were read in (a mark's, the declared one, or
    /// UTF-8).
    pub encoding: &'static str,
    /// Whether that encoding was declared in aims.toml.
    pub declared: bool,
    /// What the bytes look like, when it is not the encoding tried.
    pub guess: Option<&'static str>,
}

/// The encoding a label names (`"windows-1252"`, `"latin1"`, `"utf-16le"`…),
/// as WHATWG defines the labels.
pub fn named(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

/// Decodes a fact file: by its byte order mark, else in the `declared`
/// encoding, else as UTF-8. UTF-8 (the common case) takes the bytes over
/// without copying them, so a large file is never held twice.
pub fn decode(bytes: impl Into<Vec<u8>>, declared: Option<&'static Encoding>) -> Result<String, Undecodable> {
    let mut bytes = bytes.into();
    let (encoding, mark, by_declaration) = match Encoding::for_bom(&bytes) {
        Some((encoding, mark)) => (encoding, mark, false),
        None => match declared {
            Some(encoding) => (encoding, 0, true),
            None => (encoding_rs::UTF_8, 0, false),
        },
    };
    if encoding == encoding_rs::UTF_8 {
        bytes.drain(..mark);
        return String::from_utf8(bytes).map_err(|e| undecodable(encoding, e.as_bytes(), by_declaration));
    }
    let body = &bytes[mark..];
    match encoding.decode_without_bom_handling_and_without_replacement(body) {
        Some(text) => Ok(text.into_owned()),
        None => Err(undecodable(encoding, body, by_declaration)),
    }
}

/// Why `body` is not text in `encoding`: where, and what it may be instead.
fn undecodable(encoding: &'static Encoding, body: &[u8], declared: bool) -> Undecodable {
    let (lossy, _) = encoding.decode_without_bom_handling(body);
    let lossy = lossy.into_owned();
    let at = lossy.find('\u{fffd}').unwrap_or(0);
    let guess = guess(body).filter(|g| !g.eq_ignore_ascii_case(encoding.name()));
    Undecodable { lossy, at, encoding: encoding.name(), declared, guess }
}

/// What encoding bytes that are not UTF-8 probably are: UTF-16 without a
/// mark when every other byte is mostly zero (text in Latin script), else
/// what `chardetng` (Firefox's detector) says.
fn guess(bytes: &[u8]) -> Option<&'static str> {
    let pairs = bytes.len() / 2;
    if pairs >= 2 {
        let zeros = |parity: usize| bytes.iter().skip(parity).step_by(2).filter(|&&b| b == 0).count();
        // More than a third of one half zero, almost none of the other.
        let (even, odd) = (zeros(0), zeros(1));
        if odd * 3 > pairs && even * 20 < pairs {
            return Some(encoding_rs::UTF_16LE.name());
        }
        if even * 3 > pairs && odd * 20 < pairs {
            return Some(encoding_rs::UTF_16BE.name());
        }
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guessed = detector.guess(None, chardetng::Utf8Detection::Deny);
    (guessed != encoding_rs::UTF_8).then(|| guessed.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool, mark: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        for unit in (if mark { "\u{feff}" } else { "" }).encode_utf16().chain(text.encode_utf16()) {
            bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    }

    #[test]
    fn a_byte_order_mark_decides_and_is_removed() {
        let text = "id,name\nscorer,Café – “smart”\n";
        let mut utf8 = b"\xef\xbb\xbf".to_vec();
        utf8.extend(text.as_bytes());
        assert_eq!(decode(utf8.as_slice(), None).as_deref(), Ok(text));
        assert_eq!(decode(text.as_bytes(), None).as_deref(), Ok(text));
        assert_eq!(decode(utf16(text, false, true), None).as_deref(), Ok(text));
        assert_eq!(decode(utf16(text, true, true), None).as_deref(), Ok(text));
        // The mark wins over a declaration that disagrees.
        assert_eq!(decode(utf16(text, true, true), named("windows-1252")).as_deref(), Ok(text));
    }

    #[test]
    fn a_declared_encoding_is_used() {
        let bytes = b"id,name\nscorer,Caf\xe9 \x96 \x93smart\x94\n";
        assert_eq!(decode(bytes, named(" Windows-1252 ")).as_deref(), Ok("id,name\nscorer,Café – “smart”\n"));
        assert_eq!(decode(bytes, named("latin1")).as_deref(), Ok("id,name\nscorer,Café – “smart”\n"));
        let shift_jis = b"id,name\nscorer,\x83e\x83X\x83g\n";
        assert_eq!(decode(shift_jis, named("shift_jis")).as_deref(), Ok("id,name\nscorer,テスト\n"));
        assert_eq!(decode(utf16("a,b\n", false, false), named("utf-16le")).as_deref(), Ok("a,b\n"));
        assert!(named("windows-1253x").is_none());
    }

    #[test]
    fn an_undeclared_encoding_is_guessed() {
        let latin = "id,name\nscorer,Caf\u{e9} scorer is the best caf\u{e9} in the r\u{e9}gion, d\u{e9}j\u{e0} vu\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(latin);
        let problem = decode(bytes.as_ref(), None).expect_err("not UTF-8");
        assert_eq!((problem.encoding, problem.declared, problem.guess), ("UTF-8", false, Some("windows-1252")));
        assert_eq!(&problem.lossy[problem.at..problem.at + 3], "\u{fffd}");
        assert!(problem.lossy[..problem.at].ends_with("scorer,Caf"));
        let problem = decode(utf16(latin, false, false), None).expect_err("not UTF-8");
        assert_eq!(problem.guess, Some("UTF-16LE"));
        let problem = decode(utf16(latin, true, false), None).expect_err("not UTF-8");
        assert_eq!(problem.guess, Some("UTF-16BE"));
        // Bytes invalid in the declared encoding.
        let problem = decode(b"id\n\xff\xfe\xfd\n", named("shift_jis")).expect_err("not Shift_JIS");
        assert_eq!((problem.encoding, problem.declared), ("Shift_JIS", true));
    }
}
