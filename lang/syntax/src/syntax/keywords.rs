//! Every keyword of the language, in one list, with its kind.
//!
//! The parser's chunking, the formatter, the tokenizer (for highlighting),
//! the editor's completion and identifier check, and the REPL's completion
//! all read [`KEYWORDS`]; the slices [`DECLARATION_KEYWORDS`],
//! [`CLAUSE_KEYWORDS`] and [`RESERVED_WORDS`] are computed from it at
//! compile time. A test (`keywords_match_the_grammar` below) holds the list
//! to `grammar.pest`: a keyword added to one and not the other fails it.

/// What a keyword does in the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeywordKind {
    /// Starts a top-level declaration (`control`, `fn`, ...); a line that
    /// starts with one starts a chunk.
    Declaration,
    /// A word of a clause or statement inside a declaration (`owner`,
    /// `require`, `baseline`, ...).
    Clause,
    /// An operator or a word of an expression form (`and`, `if`, `exists`).
    Expression,
    /// A literal value (`true`, `false`, `today`).
    Literal,
}

/// One keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyword {
    /// The word as written.
    pub word: &'static str,
    /// What it does.
    pub kind: KeywordKind,
    /// Whether it can never be a name (the grammar's `keyword` rule); the
    /// other keywords are only keywords where the grammar expects them.
    pub reserved: bool,
}

const fn kw(word: &'static str, kind: KeywordKind, reserved: bool) -> Keyword {
    Keyword { word, kind, reserved }
}

use KeywordKind::{Clause, Declaration, Expression, Literal};

/// Every keyword: the declarations first, then the words inside
/// declarations (the order completion lists them in).
pub const KEYWORDS: &[Keyword] = &[
    kw("use", Declaration, false),
    kw("enum", Declaration, false),
    kw("record", Declaration, false),
    kw("entity", Declaration, false),
    kw("extend", Declaration, false),
    kw("fact", Declaration, false),
    kw("requirement", Declaration, false),
    kw("control", Declaration, false),
    kw("audit", Declaration, false),
    kw("scale", Declaration, false),
    kw("matrix", Declaration, false),
    kw("appetite", Declaration, false),
    kw("risk", Declaration, false),
    kw("objective", Declaration, false),
    kw("exception", Declaration, false),
    kw("exclude", Declaration, false),
    kw("map", Declaration, false),
    kw("fn", Declaration, false),
    kw("test", Declaration, false),
    kw("measure", Declaration, false),
    kw("and", Expression, true),
    kw("or", Expression, true),
    kw("not", Expression, true),
    kw("in", Expression, true),
    kw("if", Expression, true),
    kw("then", Expression, true),
    kw("else", Expression, true),
    kw("exists", Expression, true),
    kw("all", Expression, true),
    kw("for", Expression, true),
    kw("where", Expression, true),
    kw("is", Expression, true),
    kw("some", Expression, true),
    kw("none", Expression, true),
    kw("true", Literal, true),
    kw("false", Literal, true),
    kw("within", Expression, true),
    kw("today", Literal, true),
    kw("because", Clause, true),
    kw("require", Clause, true),
    kw("let", Clause, true),
    kw("implements", Clause, false),
    kw("clause", Clause, false),
    kw("severity", Clause, false),
    kw("owner", Clause, false),
    kw("treated", Clause, false),
    kw("by", Clause, false),
    kw("residual", Clause, false),
    kw("to", Clause, false),
    kw("on", Clause, false),
    kw("at", Clause, false),
    kw("baseline", Clause, false),
    kw("target", Clause, false),
    kw("history", Clause, false),
    kw("waives", Clause, false),
    kw("until", Clause, false),
    kw("approved", Clause, false),
    kw("given", Clause, false),
    kw("expect", Clause, false),
    kw("as", Clause, false),
    kw("of", Clause, false),
    kw("key", Clause, false),
    kw("over", Clause, false),
];

/// Which keywords a derived slice holds.
#[derive(Clone, Copy)]
enum Select {
    Declarations,
    InsideDeclarations,
    Reserved,
}

const fn selected(k: &Keyword, select: Select) -> bool {
    let declaration = matches!(k.kind, Declaration);
    match select {
        Select::Declarations => declaration,
        Select::InsideDeclarations => !declaration,
        Select::Reserved => k.reserved,
    }
}

const fn count(select: Select) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < KEYWORDS.len() {
        if selected(&KEYWORDS[i], select) {
            n += 1;
        }
        i += 1;
    }
    n
}

const fn words<const N: usize>(select: Select) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut j) = (0, 0);
    while i < KEYWORDS.len() {
        if selected(&KEYWORDS[i], select) {
            out[j] = KEYWORDS[i].word;
            j += 1;
        }
        i += 1;
    }
    out
}

const DECLARATIONS: [&str; count(Select::Declarations)] = words(Select::Declarations);
const INSIDE: [&str; count(Select::InsideDeclarations)] = words(Select::InsideDeclarations);
const RESERVED: [&str; count(Select::Reserved)] = words(Select::Reserved);

/// Keywords that start a declaration; a line starting with one starts a chunk.
pub const DECLARATION_KEYWORDS: &[&str] = &DECLARATIONS;

/// Words the grammar spells out inside declarations: operators,
/// quantifiers, literals and the words of clauses and statements.
pub const CLAUSE_KEYWORDS: &[&str] = &INSIDE;

/// The words that can never be names.
pub const RESERVED_WORDS: &[&str] = &RESERVED;

/// The keywords of one kind, in list order.
pub fn of_kind(kind: KeywordKind) -> impl Iterator<Item = &'static str> {
    KEYWORDS.iter().filter(move |k| k.kind == kind).map(|k| k.word)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Rules whose words are values, not keywords: a severity, an expected
    /// outcome, a duration's unit.
    const VALUE_RULES: &[&str] = &["severity", "outcome_word", "duration_unit"];

    /// The grammar's rules as (name, body), comments removed.
    fn rules(grammar: &str) -> Vec<(String, String)> {
        let text: String = grammar
            .lines()
            .map(|l| if l.trim_start().starts_with("//") { "" } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = Vec::new();
        let mut rest = text.as_str();
        while let Some(eq) = rest.find('=') {
            let name = rest[..eq].split_whitespace().last().unwrap_or("").to_string();
            let Some(open) = rest[eq..].find('{') else { break };
            let body_start = eq + open + 1;
            // Rule bodies hold no braces except inside quotes.
            let mut end = body_start;
            let mut quoted = false;
            let bytes = rest.as_bytes();
            while end < bytes.len() {
                match bytes[end] {
                    b'\\' if quoted => end += 1,
                    b'"' => quoted = !quoted,
                    b'}' if !quoted => break,
                    _ => {}
                }
                end += 1;
            }
            out.push((name, rest[body_start..end].to_string()));
            rest = &rest[(end + 1).min(rest.len())..];
        }
        out
    }

    /// The alphabetic words quoted in a rule body.
    fn quoted_words(body: &str) -> Vec<String> {
        body.split('"')
            .skip(1)
            .step_by(2)
            .filter(|w| {
                w.starts_with(|c: char| c.is_ascii_lowercase()) && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            })
            .map(String::from)
            .collect()
    }

    #[test]
    fn declaration_keywords_start_with_a_lowercase_letter() {
        // The parser's cutting of a file into declarations relies on it.
        for keyword in DECLARATION_KEYWORDS {
            assert!(keyword.as_bytes().first().is_some_and(u8::is_ascii_lowercase), "{keyword}");
        }
    }

    #[test]
    fn keywords_match_the_grammar() {
        let grammar = include_str!("grammar.pest");
        let rules = rules(grammar);
        assert!(rules.len() > 50, "the grammar's rules were not read ({} found)", rules.len());
        let mut matched = BTreeSet::new();
        let mut reserved = BTreeSet::new();
        for (name, body) in &rules {
            if VALUE_RULES.contains(&name.as_str()) {
                continue;
            }
            let words = quoted_words(body);
            if name == "keyword" {
                reserved.extend(words.iter().cloned());
            }
            matched.extend(words);
        }
        let listed: BTreeSet<String> = KEYWORDS.iter().map(|k| k.word.to_string()).collect();
        let unmatched: Vec<&String> = listed.difference(&matched).collect();
        let unlisted: Vec<&String> = matched.difference(&listed).collect();
        assert!(
            unmatched.is_empty() && unlisted.is_empty(),
            "KEYWORDS and grammar.pest differ: listed but not in the grammar {unmatched:?}, in the grammar but not listed {unlisted:?}"
        );
        let listed_reserved: BTreeSet<String> = RESERVED_WORDS.iter().map(|w| w.to_string()).collect();
        assert_eq!(listed_reserved, reserved, "the reserved keywords and the grammar's `keyword` rule differ");
        for (name, body) in &rules {
            if let Some(word) = name.strip_prefix("kw_") {
                assert!(quoted_words(body) == [word], "rule {name} matches {body}, not `{word}`");
            }
        }
    }

    #[test]
    fn each_keyword_is_listed_once_and_the_slices_cover_it() {
        for (i, k) in KEYWORDS.iter().enumerate() {
            assert!(KEYWORDS[..i].iter().all(|o| o.word != k.word), "`{}` is listed twice", k.word);
        }
        assert_eq!(DECLARATION_KEYWORDS.len() + CLAUSE_KEYWORDS.len(), KEYWORDS.len());
        assert!(DECLARATION_KEYWORDS.contains(&"control") && !CLAUSE_KEYWORDS.contains(&"control"));
        assert_eq!(of_kind(KeywordKind::Literal).collect::<Vec<_>>(), ["true", "false", "today"]);
    }
}
