//! Identities of facts: the key a fact is named by in findings, exceptions,
//! SARIF fingerprints and JUnit test names.
//!
//! - An entity with a key field is named by it. A `[[facts]]` source may
//!   build that field from several columns (`key = ["agency", "name"]`):
//!   the parts' values joined by [`KEY_SEPARATOR`] ([`composite`]).
//! - A fact of an entity without a key field is named by a hash of its
//!   values ([`content_id`]): `#` and 12 hexadecimal digits. It does not
//!   move when rows are inserted, removed or reordered, and changes only
//!   when the fact's own values change. Facts with the same values get the
//!   same hash; the second and later are told apart by their order
//!   (`#…-2`, `#…-3`) and reported (W0030).

use std::sync::Arc;

use crate::ir::{Program, StructDef, Value};

/// What joins the parts of a composite key: `HR / Résumé screening`.
pub const KEY_SEPARATOR: &str = " / ";

/// The identity of a fact without a key field: `#` and the first 12
/// hexadecimal digits of the FNV-1a hash of its values as the language
/// writes them (the same on every machine and in every run).
pub fn content_id(program: &Program, values: &[Value]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for value in values {
        feed(program.display(value).as_bytes());
        feed(&[0x1f]);
    }
    format!("#{:012x}", hash >> 16)
}

/// `base`, or `base-2`, `base-3`… : the first that `taken` does not hold.
pub fn disambiguated(base: String, taken: impl Fn(&str) -> bool) -> (String, u32) {
    disambiguated_from(base, 1, taken)
}

/// As [`disambiguated`], knowing that `base` up to `base-{last}` are taken
/// (`last` 1: only `base` may be), so that numbering N identical facts
/// checks N names, not N² / 2.
pub fn disambiguated_from(base: String, last: u32, taken: impl Fn(&str) -> bool) -> (String, u32) {
    if last <= 1 && !taken(&base) {
        return (base, 1);
    }
    let mut n = last.max(1) + 1;
    loop {
        let id = format!("{base}-{n}");
        if !taken(&id) {
            return (id, n);
        }
        n += 1;
    }
}

/// A composite key: the values of the fields `parts` joined by
/// [`KEY_SEPARATOR`], or the index of the first part that is not recorded
/// (absent, empty or unreadable).
pub fn composite(program: &Program, parts: &[u32], values: &[Value]) -> Result<Arc<str>, u32> {
    let mut key = String::new();
    for (i, &part) in parts.iter().enumerate() {
        let text = match values.get(part as usize) {
            Some(Value::Text(t)) if !t.trim().is_empty() => t.to_string(),
            Some(Value::Absent | Value::Unknown(_) | Value::Text(_)) | None => return Err(part),
            Some(other) => program.display(other),
        };
        if i > 0 {
            key.push_str(KEY_SEPARATOR);
        }
        key.push_str(&text);
    }
    Ok(Arc::from(key))
}

/// The fields named by a `key` option, by index, or the first name that is
/// no field of the entity.
pub fn key_parts<'a>(def: &StructDef, names: &'a [String]) -> Result<Vec<u32>, &'a str> {
    names
        .iter()
        .map(|name| def.fields.iter().position(|f| f.name == *name).map(|i| i as u32).ok_or(name.as_str()))
        .collect()
}

/// A `label` of a `[[facts]]` source: how findings name a fact besides
/// its key. A field's name (`"name"`) or a template of fields in braces
/// (`"{name} ({agency})"`; `{{` and `}}` are braces).
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Text, and fields by index, in order.
    parts: Vec<LabelPart>,
}

#[derive(Clone, Debug, PartialEq)]
enum LabelPart {
    Text(String),
    Field(u32),
}

impl Label {
    /// Compiles a label against an entity; the name that is no field.
    pub fn parse(def: &StructDef, template: &str) -> Result<Label, String> {
        let field = |name: &str| {
            let name = name.trim();
            def.fields.iter().position(|f| f.name == name).map(|i| LabelPart::Field(i as u32)).ok_or(name.to_string())
        };
        if !template.contains(['{', '}']) {
            return Ok(Label { parts: vec![field(template)?] });
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = template;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("{{") || rest.starts_with("}}") {
                text.push(c);
                rest = &rest[2..];
            } else if c == '{' {
                let Some(end) = rest.find('}') else { return Err(rest.to_string()) };
                if !text.is_empty() {
                    parts.push(LabelPart::Text(std::mem::take(&mut text)));
                }
                parts.push(field(&rest[1..end])?);
                rest = &rest[end + 1..];
            } else {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !text.is_empty() {
            parts.push(LabelPart::Text(text));
        }
        Ok(Label { parts })
    }

    /// The label of a fact: each field as a person reads it (a text
    /// without quotes; nothing for a value not recorded).
    pub fn render(&self, program: &Program, values: &[Value]) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                LabelPart::Text(t) => out.push_str(t),
                LabelPart::Field(f) => match values.get(*f as usize) {
                    Some(Value::Text(t)) => out.push_str(t),
                    Some(Value::Ref(_, key)) => out.push_str(key),
                    Some(Value::Absent | Value::Unknown(_)) | None => {}
                    Some(other) => out.push_str(&program.display(other)),
                },
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        let engine = crate::Engine::from_texts(
            "p.aims",
            "enum T { a, b }\nentity S { name: Text, t: T, n: Int }\ncontrol c for s: S { require s.n > 0 }\n",
            &[],
        )
        .unwrap_or_else(|_| panic!("policy"));
        engine.program().clone()
    }

    #[test]
    fn a_content_id_depends_on_the_values_only() {
        let p = program();
        let row = |name: &str, n| [Value::text(name), Value::Enum(crate::ir::EnumId(0), 1), Value::Int(n)];
        let a = content_id(&p, &row("x", 1));
        assert_eq!(a, content_id(&p, &row("x", 1)));
        assert_ne!(a, content_id(&p, &row("x", 2)));
        assert_ne!(a, content_id(&p, &row("x1", 1)), "field boundaries count");
        assert_eq!((a.len(), a.starts_with('#')), (13, true));
        // The same on every machine: a fixed value, not a random seed.
        assert_eq!(content_id(&p, &[]), "#cbf29ce48422");
    }

    #[test]
    fn repeated_ids_are_numbered_in_order() {
        let taken = ["#a".to_string(), "#a-2".to_string()];
        assert_eq!(disambiguated("#b".into(), |k| taken.iter().any(|t| t == k)), ("#b".into(), 1));
        assert_eq!(disambiguated("#a".into(), |k| taken.iter().any(|t| t == k)), ("#a-3".into(), 3));
        // Starting after the last number given skips the names before it.
        assert_eq!(disambiguated_from("#a".into(), 2, |k| taken.iter().any(|t| t == k)), ("#a-3".into(), 3));
        assert_eq!(disambiguated_from("#b".into(), 1, |k| taken.iter().any(|t| t == k)), ("#b".into(), 1));
    }

    #[test]
    fn a_composite_key_joins_its_parts_and_refuses_an_empty_one() {
        let p = program();
        let values = [Value::text("HR"), Value::Enum(crate::ir::EnumId(0), 0), Value::Int(7)];
        assert_eq!(composite(&p, &[0, 1, 2], &values).as_deref(), Ok("HR / a / 7"));
        let empty = [Value::text(" "), Value::Absent, Value::Int(7)];
        assert_eq!(composite(&p, &[2, 0], &empty), Err(0));
        assert_eq!(composite(&p, &[1], &empty), Err(1));
    }

    #[test]
    fn a_label_is_a_field_or_a_template_of_fields() {
        let p = program();
        let def = &p.entities[0];
        let values = [Value::text("Chatbot"), Value::Enum(crate::ir::EnumId(0), 1), Value::Int(7)];
        let label = |t: &str| Label::parse(def, t).map(|l| l.render(&p, &values));
        assert_eq!(label("name").as_deref(), Ok("Chatbot"));
        assert_eq!(label("{name} ({ t }, {{n}} = {n})").as_deref(), Ok("Chatbot (b, {n} = 7)"));
        assert_eq!(label("{nam}"), Err("nam".to_string()));
        assert_eq!(label("{name"), Err("{name".to_string()));
        assert_eq!(label("title"), Err("title".to_string()));
    }
}
