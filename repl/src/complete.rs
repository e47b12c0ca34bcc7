//! Tab completion, without a terminal: given the names a session knows
//! ([`Vocabulary`]) and the line typed so far, which words could come next.
//!
//! Commands complete after `:`; entity keys inside an open `"` (the keys of
//! the entity named just before, or of the rule's subject after `on`);
//! field names after `.` (the fields of the edited entity after
//! `ENTITY "KEY".`, the variants after an enum, scale or matrix name, every
//! field otherwise); the arguments of commands; and otherwise every declared
//! name, builtin and keyword.

use aims_lang::syntax::{self, KeywordKind};

use crate::parse::COMMANDS;

/// Everything completion may offer, read from a session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vocabulary {
    /// Controls and audits, with the entity of their subject.
    pub rules: Vec<(String, Option<String>)>,
    /// Risks, by name.
    pub risks: Vec<String>,
    /// Objectives, by name.
    pub objectives: Vec<String>,
    /// The program's functions, by name.
    pub functions: Vec<String>,
    /// Entities: name, field names, keys of their facts.
    pub entities: Vec<(String, Vec<String>, Vec<String>)>,
    /// Records: name, field names.
    pub records: Vec<(String, Vec<String>)>,
    /// Enums, scales and matrices: name, values.
    pub value_types: Vec<(String, Vec<String>)>,
    /// Saved scenarios, by name (for `:scenario load` and `compare`).
    pub scenarios: Vec<String>,
}

/// Words of the REPL's own syntax (`RULE on "KEY"`) completed beside the
/// language's expression keywords.
const SESSION_WORDS: &[&str] = &["on"];

impl Vocabulary {
    fn entity(&self, name: &str) -> Option<&(String, Vec<String>, Vec<String>)> {
        self.entities.iter().find(|(n, _, _)| n == name)
    }

    fn rule_entity(&self, name: &str) -> Option<&str> {
        self.rules.iter().find(|(n, _)| n == name).and_then(|(_, e)| e.as_deref())
    }

    /// The keys of an entity, or of every entity.
    fn keys(&self, entity: Option<&str>) -> Vec<String> {
        match entity.and_then(|e| self.entity(e)) {
            Some((_, _, keys)) => keys.clone(),
            None => self.entities.iter().flat_map(|(_, _, k)| k.iter().cloned()).collect(),
        }
    }

    fn all_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        names.extend(self.rules.iter().map(|(n, _)| n.clone()));
        names.extend(self.risks.iter().cloned());
        names.extend(self.objectives.iter().cloned());
        names.extend(self.functions.iter().cloned());
        names.extend(self.entities.iter().map(|(n, _, _)| n.clone()));
        names.extend(self.records.iter().map(|(n, _)| n.clone()));
        for (name, values) in &self.value_types {
            names.push(name.clone());
            names.extend(values.iter().cloned());
        }
        names.extend(aims_lang::ir::builtins::names().map(String::from));
        // Expression keywords and literals: what a line typed at the prompt starts with.
        let keywords = [KeywordKind::Expression, KeywordKind::Literal].into_iter().flat_map(syntax::keywords::of_kind);
        names.extend(keywords.chain(SESSION_WORDS.iter().copied()).map(String::from));
        names
    }
}

/// The byte offset of a `"` that is still open at the end of the text.
fn open_quote(text: &str) -> Option<usize> {
    let mut open = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if open.is_some() => {
                chars.next();
            }
            '"' => open = if open.is_some() { None } else { Some(i) },
            _ => {}
        }
    }
    open
}

fn quoted(key: &str) -> String {
    key.replace('\\', "\\\\").replace('"', "\\\"")
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-'
}

/// Keeps the candidates that start with `prefix`, sorted, without repeats.
fn matching(prefix: &str, candidates: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = candidates.into_iter().filter(|c| c.starts_with(prefix)).collect();
    out.sort();
    out.dedup();
    out
}

/// Where the word being completed starts, and what can replace it.
pub fn complete(vocab: &Vocabulary, line: &str, pos: usize) -> (usize, Vec<String>) {
    let pos = pos.min(line.len());
    let Some(before) = line.get(..pos) else { return (pos, Vec::new()) };

    // A key inside an open quote.
    if let Some(q) = open_quote(before) {
        let context: Vec<&str> = before[..q].split_whitespace().collect();
        let entity = match context.as_slice() {
            [.., rule, "on"] => vocab.rule_entity(rule),
            [":why", rule] => vocab.rule_entity(rule),
            [.., last] if vocab.entity(last).is_some() => Some(*last),
            _ => None,
        };
        let prefix = &before[q + 1..];
        let keys =
            vocab.keys(entity).into_iter().filter(|k| k.starts_with(prefix)).map(|k| format!("{}\"", quoted(&k)));
        return (q + 1, matching("", keys));
    }

    let start = before.char_indices().rev().find(|(_, c)| !is_word_char(*c)).map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let head = &before[..start];

    if word.starts_with(':') && head.trim().is_empty() {
        let commands =
            COMMANDS.iter().map(|(c, args, _)| if args.is_empty() { c.to_string() } else { format!("{c} ") });
        return (start, matching(word, commands));
    }

    if let Some(object) = head.strip_suffix('.') {
        let tokens: Vec<&str> = object.split_whitespace().collect();
        let fields: Vec<String> = if object.ends_with('"') {
            // `:set ENTITY "KEY".` — the fields of that entity.
            match tokens.as_slice() {
                [":set" | ":unset", entity, ..] => vocab.entity(entity).map(|(_, f, _)| f.clone()).unwrap_or_default(),
                _ => Vec::new(),
            }
        } else {
            let base = object.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
            match vocab.value_types.iter().find(|(n, _)| n == base) {
                Some((_, values)) => values.clone(),
                None => match tokens.as_slice() {
                    [":set" | ":unset", entity, _] if !object.ends_with('"') => {
                        vocab.entity(entity).map(|(_, f, _)| f.clone()).unwrap_or_default()
                    }
                    _ => vocab
                        .entities
                        .iter()
                        .flat_map(|(_, f, _)| f.iter().cloned())
                        .chain(vocab.records.iter().flat_map(|(_, f)| f.iter().cloned()))
                        .collect(),
                },
            }
        };
        return (start, matching(word, fields));
    }

    let tokens: Vec<&str> = head.split_whitespace().collect();
    let entities = || vocab.entities.iter().map(|(n, _, _)| format!("{n} "));
    let quoted_keys = |entity: Option<&str>| vocab.keys(entity).into_iter().map(|k| format!("\"{}\"", quoted(&k)));
    let candidates: Vec<String> = match tokens.as_slice() {
        [":set" | ":unset" | ":add" | ":remove"] => entities().collect(),
        [":set" | ":unset" | ":remove", entity] => quoted_keys(Some(entity)).collect(),
        [":why"] => vocab.rules.iter().map(|(n, _)| format!("{n} ")).collect(),
        [":why", rule] => vocab.keys(vocab.rule_entity(rule)).into_iter().filter(|k| !k.contains(' ')).collect(),
        [":scenario"] => ["save ", "load ", "compare ", "list"].map(String::from).to_vec(),
        [":scenario", "load" | "compare"] | [":scenario", "compare", _] => vocab.scenarios.clone(),
        [":timing"] => ["on", "off"].map(String::from).to_vec(),
        [":limit"] => ["off"].map(String::from).to_vec(),
        [":as-of" | ":diff" | ":undo" | ":reset" | ":reload" | ":help" | ":quit" | ":edits" | ":limit" | ":save", ..] => {
            Vec::new()
        }
        [.., rule, "on"] if vocab.rule_entity(rule).is_some() => quoted_keys(vocab.rule_entity(rule)).collect(),
        [.., risk, "on"] if vocab.risks.iter().any(|r| r == risk) => quoted_keys(None).collect(),
        _ => vocab.all_names(),
    };
    (start, matching(word, candidates))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary {
            rules: vec![("bias_testing".into(), Some("AISystem".into())), ("internal_audit_done".into(), None)],
            risks: vec!["unfair_credit".into()],
            objectives: vec!["fairer_credit".into()],
            functions: vec!["high_stakes".into()],
            entities: vec![(
                "AISystem".into(),
                vec!["id".into(), "human_oversight".into(), "last_bias_test".into()],
                vec!["credit-scorer".into(), "limit-adjuster".into()],
            )],
            records: vec![("Evidence".into(), vec!["kind".into(), "approved".into()])],
            value_types: vec![("RiskTier".into(), vec!["limited".into(), "high".into()])],
            scenarios: vec!["strict".into()],
        }
    }

    #[test]
    fn commands() {
        assert_eq!(complete(&vocab(), ":wh", 3), (0, vec![":why ".to_string()]));
        assert_eq!(complete(&vocab(), ":u", 2).1, vec![":undo", ":unset "]);
    }

    #[test]
    fn keys_inside_quotes() {
        let line = ":set AISystem \"cr";
        assert_eq!(complete(&vocab(), line, line.len()), (15, vec!["credit-scorer\"".to_string()]));
        let line = "bias_testing on \"l";
        assert_eq!(complete(&vocab(), line, line.len()).1, vec!["limit-adjuster\""]);
        let line = "bias_testing on ";
        assert_eq!(complete(&vocab(), line, line.len()).1, vec!["\"credit-scorer\"", "\"limit-adjuster\""]);
    }

    #[test]
    fn fields_after_a_dot() {
        let line = ":set AISystem \"credit-scorer\".hu";
        assert_eq!(complete(&vocab(), line, line.len()), (30, vec!["human_oversight".to_string()]));
        let line = "RiskTier.h";
        assert_eq!(complete(&vocab(), line, line.len()).1, vec!["high"]);
        let line = "exists e in s.evidence where e.ap";
        assert_eq!(complete(&vocab(), line, line.len()).1, vec!["approved"]);
    }

    #[test]
    fn arguments_and_names() {
        assert_eq!(complete(&vocab(), ":why b", 6).1, vec!["bias_testing "]);
        assert_eq!(complete(&vocab(), ":why bias_testing l", 19).1, vec!["limit-adjuster"]);
        assert_eq!(complete(&vocab(), ":set A", 6).1, vec!["AISystem "]);
        assert_eq!(complete(&vocab(), "count(s for s: AIS", 18).1, vec!["AISystem"]);
        assert_eq!(complete(&vocab(), "unf", 3).1, vec!["unfair_credit"]);
        assert_eq!(complete(&vocab(), ":scenario compare s", 19).1, vec!["strict"]);
    }
}
