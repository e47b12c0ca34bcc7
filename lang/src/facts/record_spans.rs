//! Where the records of a JSON array begin and end, found without a parser.
//!
//! A long array of records is typed on every core at once, each thread
//! from a place of its own in the text ([`super::stream`]). A thread finds
//! each record's end by counting brackets outside strings ([`value_end`]),
//! and the parser then reads exactly that text, checking its syntax; a
//! thread other than the first begins at a guess ([`guess_record_start`]),
//! which the thread before it confirms by reaching that very place. None of
//! this checks syntax: what it gets wrong, the parser or the confirmation
//! finds.

/// JSON's whitespace.
fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// The first place at or after `at` that is not whitespace.
pub(super) fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    while text.get(at).copied().is_some_and(is_whitespace) {
        at += 1;
    }
    at
}

/// One past the quote that closes the string whose text begins at `at`
/// (after its opening quote); `None` when the text ends first.
fn string_end(text: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let found = at + memchr::memchr2(b'"', b'\\', text.get(at..)?)?;
        if text[found] == b'"' {
            return Some(found + 1);
        }
        // A backslash: the byte after it is escaped, whatever it is.
        at = found + 2;
    }
}

/// One past the bracket that closes the object or array opening at
/// `start`, counting brackets outside strings; `None` when `start` opens
/// neither or the text ends first. Brackets of the wrong kind are counted
/// all the same: the parser reading the text between finds them.
pub(super) fn value_end(text: &[u8], start: usize) -> Option<usize> {
    if !matches!(text.get(start), Some(b'{' | b'[')) {
        return None;
    }
    let mut depth = 0usize;
    let mut at = start;
    while let Some(&byte) = text.get(at) {
        match byte {
            b'"' => {
                at = string_end(text, at + 1)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// How the record at `start` opens: its text up to the end of its first
/// key (`{"id"`), which the records of one array mostly share. `None`
/// for anything but an object with a key.
pub(super) fn opening(text: &[u8], start: usize) -> Option<&[u8]> {
    if text.get(start) != Some(&b'{') {
        return None;
    }
    let key = skip_whitespace(text, start + 1);
    if text.get(key) != Some(&b'"') {
        return None;
    }
    text.get(start..string_end(text, key + 1)?)
}

/// The first place in `from..before` where a record seems to begin: the
/// text `opening` right after a `,` that follows a `}`, whitespace aside.
/// Only a guess: it may be in a list within a record (and, in malformed
/// text, anywhere; in valid JSON never inside a string, since `opening`
/// holds a quote that a string would have escaped).
pub(super) fn guess_record_start(text: &[u8], from: usize, before: usize, opening: &[u8]) -> Option<usize> {
    let window = text.get(from..before.min(text.len()))?;
    memchr::memmem::find_iter(window, opening).map(|found| from + found).find(|&at| {
        let mut back = text[..at].iter().rev().copied().filter(|&b| !is_whitespace(b));
        back.next() == Some(b',') && back.next() == Some(b'}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_ends_at_its_closing_bracket_whatever_its_strings_hold() {
        let text = br#"{"a": "}]\"{", "b": [1, {"c": "\\"}], "d": {}} , {"#;
        let end = value_end(text, 0);
        assert_eq!(end, Some(text.len() - 4), "{:?}", end.map(|e| String::from_utf8_lossy(&text[..e])));
        assert_eq!(value_end(b"[[], [[]]]x", 0), Some(10));
        assert_eq!(value_end(b"{\"a\": [1, 2}", 0), None, "the text ends first");
        assert_eq!(value_end(b"{\"a\": \"}", 0), None, "inside a string");
        assert_eq!(value_end(b"{\"a\\", 0), None, "an escape at the end");
        assert_eq!(value_end(b"1, {}", 0), None, "not an object or array");
    }

    #[test]
    fn a_record_opens_with_its_first_key() {
        assert_eq!(opening(br#"{ "id": 1}"#, 0), Some(&br#"{ "id""#[..]));
        assert_eq!(opening(br#"{"i\"d": 1}"#, 0), Some(&br#"{"i\"d""#[..]));
        assert_eq!(opening(b"{}", 0), None);
        assert_eq!(opening(b"[1]", 0), None);
    }

    #[test]
    fn a_guess_is_an_opening_after_a_record_and_a_comma() {
        let text = br#"[{"id": "x, {\"id\": 1"}, {"id": [{"id": 2}]},
            {"id": 3}]"#;
        let opening = br#"{"id""#;
        let at = |needle: &[u8]| text.windows(needle.len()).position(|w| w == needle);
        // Not inside the string, nor the first element of a nested list.
        let first = at(br#"{"id": ["#);
        assert_eq!(guess_record_start(text, 2, text.len(), opening), first);
        let after = first.map_or(0, |f| f + 1);
        let second = at(br#"{"id": 3"#);
        assert_eq!(guess_record_start(text, after, text.len(), opening), second, "across a line break");
        let before = second.map_or(0, |s| s + 2);
        assert_eq!(guess_record_start(text, after, before, opening), None, "no whole opening before `before`");
        assert_eq!(skip_whitespace(b" \t\r\nx", 0), 4);
    }
}
