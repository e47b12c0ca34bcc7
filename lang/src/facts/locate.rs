//! Finding where a value sits in a JSON, YAML or TOML document.
//!
//! serde deserializers know their position but tell it only in errors, so
//! the locator walks the document along a path and fails on purpose at the
//! target; the position of that error is the answer. Each call reads the
//! document once, so it runs only for the problems that are shown (at most
//! [`super::MAX_PROBLEMS_PER_FILE`] per file): loading pays nothing for it,
//! and thousands of problems cost no more than fifty.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::convert::Seg;
use super::Format;
use crate::diag::offset_of;
use crate::syntax::ast::Span;

const FOUND: &str = "\u{0}aims-located\u{0}";

/// What to find at the end of the path: the value there, or a key of the
/// object there (its `nth` occurrence, counting from 0).
#[derive(Clone, Copy)]
enum Target<'k> {
    Value,
    Key(&'k str, usize),
}

struct Locate<'p>(&'p [Seg], Target<'p>);

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! found_on_scalar {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name<E: de::Error>(self, _: $ty) -> Result<(), E> {
            if self.0.is_empty() && matches!(self.1, Target::Value) { Err(E::custom(FOUND)) } else { Ok(()) }
        }
    )*};
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    found_on_scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        if self.0.is_empty() && matches!(self.1, Target::Value) {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.0.split_first() else { return Err(de::Error::custom(FOUND)) };
        let mut i = 0;
        loop {
            let more = if *first == Seg::Index(i) {
                seq.next_element_seed(Locate(rest, self.1))?.is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.0.split_first() else {
            let Target::Key(wanted, nth) = self.1 else { return Err(de::Error::custom(FOUND)) };
            let mut seen = 0;
            while map.next_key_seed(KeySeed { wanted, nth, seen: &mut seen })?.is_some() {
                map.next_value::<IgnoredAny>()?;
            }
            return Ok(());
        };
        while let Some(key) = map.next_key::<String>()? {
            if *first == Seg::Key(key) {
                map.next_value_seed(Locate(rest, self.1))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Fails at the `nth` occurrence of a key.
struct KeySeed<'k, 's> {
    wanted: &'k str,
    nth: usize,
    seen: &'s mut usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<(), E> {
        if key == self.wanted {
            if *self.seen == self.nth {
                return Err(E::custom(FOUND));
            }
            *self.seen += 1;
        }
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The span of the value at `path`, if the document parses that far.
pub(crate) fn locate(format: Format, text: &str, path: &[Seg]) -> Option<Span> {
    find(format, text, path, Target::Value)
}

/// The span of the `nth` occurrence (from 0) of `key` in the object at `map`.
pub(crate) fn locate_key(format: Format, text: &str, map: &[Seg], key: &str, nth: usize) -> Option<Span> {
    find(format, text, map, Target::Key(key, nth))
}

/// The text a JSON parser reads: without a byte order mark, which the JSON
/// grammar does not allow but many Windows tools write. Offsets in the
/// rest are shifted by the second value.
pub(crate) fn json_body(text: &str) -> (&str, usize) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, text.len() - rest.len()),
        None => (text, 0),
    }
}

fn find(format: Format, text: &str, path: &[Seg], target: Target) -> Option<Span> {
    let point = |offset: usize| {
        let offset = offset.min(text.len());
        let end = text[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
        Span::new(offset, end)
    };
    match format {
        Format::Json => {
            let (body, shift) = json_body(text);
            let mut de = serde_json::Deserializer::from_str(body);
            match Locate(path, target).deserialize(&mut de) {
                Err(e) if e.to_string().contains(FOUND) => {
                    // serde_json reports the column of the last character read.
                    let end = offset_of(body, e.line(), e.column());
                    let span = value_span_ending(body, end);
                    Some(Span::new(span.start as usize + shift, span.end as usize + shift))
                }
                _ => None,
            }
        }
        Format::Yaml => {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            match Locate(path, target).deserialize(de) {
                Err(e) if e.to_string().contains(FOUND) => e.location().map(|l| match target {
                    // A plain key: the whole of it.
                    Target::Key(key, _) if text[l.index().min(text.len())..].starts_with(key) && !key.is_empty() => {
                        Span::new(l.index(), l.index() + key.len())
                    }
                    _ => point(l.index()),
                }),
                _ => None,
            }
        }
        Format::Toml => {
            let de = toml::Deserializer::parse(text).ok()?;
            match Locate(path, target).deserialize(de) {
                Err(e) if e.message().contains(FOUND) => e.span().map(|r| Span::new(r.start, r.end.max(r.start))),
                _ => None,
            }
        }
        Format::Csv | Format::Spreadsheet | Format::Sqlite | Format::Postgres => None,
    }
}

/// From the offset of a value's last character, the span of the value
/// (a scalar: back to its start on the same line).
fn value_span_ending(text: &str, last: usize) -> Span {
    let last = last.min(text.len().saturating_sub(1));
    let bytes = text.as_bytes();
    let end = (last + 1).min(text.len());
    let mut start = last;
    if bytes.get(last) == Some(&b'"') {
        // A string: back to its opening quote.
        let mut i = last;
        while i > 0 {
            i -= 1;
            if bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
                start = i;
                break;
            }
        }
    } else {
        while start > 0 && !matches!(bytes[start - 1], b' ' | b'\t' | b'\n' | b':' | b',' | b'[' | b'{') {
            start -= 1;
        }
    }
    Span::new(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'a>(format: Format, text: &'a str, path: &[Seg]) -> &'a str {
        let span = locate(format, text, path).expect("located");
        &text[span.range()]
    }

    #[test]
    fn finds_values_in_each_format() {
        let path = [Seg::Key("systems".into()), Seg::Index(1), Seg::Key("owner".into())];
        let json = "{\"systems\": [{\"owner\": \"a\"}, {\"owner\": \"bob\"}]}";
        assert_eq!(at(Format::Json, json, &path), "\"bob\"");
        let yaml = "systems:\n  - owner: a\n  - owner: bob\n";
        assert_eq!(at(Format::Yaml, yaml, &path)[..1], *"b");
        let toml = "[[systems]]\nowner = \"a\"\n[[systems]]\nowner = \"bob\"\n";
        assert_eq!(at(Format::Toml, toml, &path), "\"bob\"");
    }

    #[test]
    fn finds_numbers_wherever_they_end() {
        let path = |i| [Seg::Index(i), Seg::Key("n".into())];
        let json = "[{\"n\": 7\n},\n {\"n\": 12, \"m\": 1},\n {\"n\": -3}]";
        assert_eq!(at(Format::Json, json, &path(0)), "7");
        assert_eq!(at(Format::Json, json, &path(1)), "12");
        assert_eq!(at(Format::Json, json, &path(2)), "-3");
        let span = locate(Format::Json, json, &path(0)).expect("located");
        assert_eq!(crate::diag::line_col(json, span.start as usize).0, 1);
    }

    #[test]
    fn finds_the_nth_occurrence_of_a_key() {
        let json = "{\"S\": [{\"a\": 1,\n \"a\": 2,\n \"a\": 3}]}";
        let map = [Seg::Key("S".into()), Seg::Index(0)];
        for nth in 0..3 {
            let span = locate_key(Format::Json, json, &map, "a", nth).expect("located");
            assert_eq!((&json[span.range()], crate::diag::line_col(json, span.start as usize).0), ("\"a\"", nth + 1));
        }
        assert_eq!(locate_key(Format::Json, json, &map, "a", 3), None);
        let yaml = "S:\n  - a: 1\n    b: 2\n    a: 3\n";
        let span = locate_key(Format::Yaml, yaml, &map, "a", 1).expect("located");
        assert_eq!((&yaml[span.range()], crate::diag::line_col(yaml, span.start as usize).0), ("a", 4));
        let bom = "\u{feff}{\"a\": 1, \"a\": 2}";
        assert_eq!(&bom[locate_key(Format::Json, bom, &[], "a", 1).expect("located").range()], "\"a\"");
    }
}
