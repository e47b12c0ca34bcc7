//! The slow path's document tree, built from a JSON or YAML parser's events.
//!
//! `serde_json::Value` alone would keep the last of two equal keys and drop
//! the first without a word, so the tree is built here: a key given twice
//! in one object is recorded (with its path and which occurrence it is, so
//! that it can be located), and the records of the document are counted as
//! they are read, so that a file with more records than the `max_entities`
//! budget stops before its whole tree is in memory.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};

use super::convert::Seg;

/// The error that stops the build when the records exceed the budget.
pub(super) const TOO_MANY: &str = "\u{0}aims: too many records\u{0}";

/// A key given more than once in one object.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Duplicate {
    /// The path of the object.
    pub map: Vec<Seg>,
    pub key: String,
    /// Which occurrence of the key this is (1 for the second).
    pub nth: usize,
}

/// Where the records are: the array at `select` (an entity mapping) or
/// every array one key below it (a document of entity names).
pub(super) struct Records<'a> {
    pub select: &'a [&'a str],
    pub by_name: bool,
    /// Most records to read before giving up.
    pub budget: u64,
}

/// What building saw besides the tree.
#[derive(Debug)]
pub(super) struct Built {
    pub duplicates: Vec<Duplicate>,
    pub records: u64,
}

struct State<'a> {
    path: Vec<Seg>,
    built: Built,
    records: &'a Records<'a>,
}

impl State<'_> {
    /// Whether the current path is an array of records.
    fn at_records(&self) -> bool {
        let select = self.records.select;
        let depth = select.len() + usize::from(self.records.by_name);
        self.path.len() == depth
            && self.path.iter().zip(select).all(|(seg, key)| matches!(seg, Seg::Key(k) if k == key))
            && (!self.records.by_name || matches!(self.path.last(), Some(Seg::Key(_))))
    }
}

/// The prefix of a NaN or an infinity in the tree (no text in a fact
/// file starts with a NUL).
pub(super) const NON_FINITE: &str = "\u{0}aims:non-finite:";

/// Builds the tree of a document, with what was seen on the way.
pub(super) fn build<'de, D: Deserializer<'de>>(d: D, records: &Records) -> Result<(Json, Built), D::Error> {
    let mut state = State { path: Vec::new(), built: Built { duplicates: Vec::new(), records: 0 }, records };
    let tree = Node(&mut state).deserialize(d)?;
    Ok((tree, state.built))
}

struct Node<'s, 'a>(&'s mut State<'a>);

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = Json;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = Json;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Json, E> {
        de::Deserialize::deserialize(de::value::I128Deserializer::new(v)).map(Json::Number)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Json, E> {
        de::Deserialize::deserialize(de::value::U128Deserializer::new(v)).map(Json::Number)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        // JSON's tree has no NaN or infinity: kept as a marked text, so the
        // conversion refuses it by name instead of reading a null.
        Ok(Number::from_f64(v).map_or_else(|| Json::String(format!("{NON_FINITE}{v}")), Json::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let state = self.0;
        let records = state.at_records();
        let mut items = Vec::new();
        loop {
            state.path.push(Seg::Index(items.len()));
            let item = seq.next_element_seed(Node(&mut *state));
            state.path.pop();
            let Some(item) = item? else { break };
            if records {
                state.built.records += 1;
                if state.built.records > state.records.budget {
                    return Err(de::Error::custom(TOO_MANY));
                }
            }
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let state = self.0;
        let mut out = Map::new();
        // Occurrences of each key given more than once (rarely any).
        let mut repeated: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            state.path.push(Seg::Key(key.clone()));
            let value = map.next_value_seed(Node(&mut *state));
            state.path.pop();
            let value = value?;
            if out.contains_key(&key) {
                let nth = repeated.entry(key.clone()).or_insert(0);
                *nth += 1;
                let nth = *nth;
                state.built.duplicates.push(Duplicate { map: state.path.clone(), key, nth });
            } else {
                out.insert(key, value);
            }
        }
        Ok(Json::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str, select: &[&str], by_name: bool, budget: u64) -> Result<(Json, Built), String> {
        let records = Records { select, by_name, budget };
        let mut de = serde_json::Deserializer::from_str(text);
        build(&mut de, &records).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_given_twice_are_recorded_with_their_place() {
        let (tree, built) = json(r#"{"S": [{"a": 1, "a": 2, "a": 3}], "S": []}"#, &[], true, 10).unwrap();
        assert_eq!(tree["S"][0]["a"], 1, "the first occurrence is kept");
        let index = |i| Seg::Index(i);
        let key = |k: &str| Seg::Key(k.into());
        assert_eq!(
            built.duplicates,
            [
                Duplicate { map: vec![key("S"), index(0)], key: "a".into(), nth: 1 },
                Duplicate { map: vec![key("S"), index(0)], key: "a".into(), nth: 2 },
                Duplicate { map: vec![], key: "S".into(), nth: 1 },
            ]
        );
        let yaml = "S:\n  - a: 1\n    a: 2\n";
        let records = Records { select: &[], by_name: true, budget: 10 };
        let (_, built) = build(serde_yaml_ng::Deserializer::from_str(yaml), &records).unwrap();
        assert_eq!(built.duplicates.len(), 1);
    }

    #[test]
    fn records_are_counted_and_stop_past_the_budget() {
        let text = r#"{"x": {"S": [{}, {}, {"n": [{}, {}]}], "T": [{}]}, "y": [{}, {}]}"#;
        let (_, built) = json(text, &["x"], true, 4).unwrap();
        assert_eq!(built.records, 4, "nested records and arrays elsewhere are not facts");
        let err = json(text, &["x"], true, 3).unwrap_err();
        assert!(err.contains(TOO_MANY), "{err}");
        let (_, built) = json("[{}, {}]", &[], false, 2).unwrap();
        assert_eq!(built.records, 2);
        assert!(json("[{}, {}, {}]", &[], false, 2).is_err());
    }
}
