//! Properties of the formatter, over the stdlib, the example policies and
//! the corpus, each with its whitespace scrambled at random:
//! formatting keeps every token (so never changes meaning or loses a
//! comment), its output parses, and formatting twice equals formatting once.

use std::path::Path;

use aims_lang::syntax::format;
use aims_lang::syntax::tokens::{tokens, Token, TokenKind};
use aims_lang::syntax::{parse, DECLARATION_KEYWORDS};
use proptest::prelude::*;

fn policy_texts() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        aims_lang::project::STDLIB_MODULES.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![root.join("examples"), root.join("tests/corpus"), root.join("benches/peers")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "aims") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if parse(&text).errors.is_empty() {
                    out.push((path.display().to_string(), text));
                }
            }
        }
    }
    out.sort();
    out
}

/// The token texts, comments trimmed as the formatter trims them.
fn token_texts(text: &str) -> Vec<(TokenKind, String)> {
    tokens(text).into_iter().map(|t| (t.kind, t.text(text).trim_end().to_string())).collect()
}

fn is_word(s: &str) -> bool {
    s.chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"')
}

/// `text` with the whitespace between its tokens replaced from `choices`:
/// line breaks stay line breaks (a line that started in column 1 still
/// does, since that starts a declaration), new ones appear where the
/// grammar allows, and spaces vary where words need none between them.
fn scramble(text: &str, choices: &[u8]) -> String {
    let toks: Vec<Token> = tokens(text);
    let mut out = String::new();
    let mut pick = choices.iter().cycle().copied();
    let mut previous: Option<Token> = None;
    for &t in &toks {
        let mut n = pick.next().unwrap_or(0);
        if let Some(p) = previous {
            let gap = &text[p.span.end as usize..t.span.start as usize];
            let (a, b) = (p.text(text), t.text(text));
            let after_comment = matches!(p.kind, TokenKind::Comment | TokenKind::DocComment);
            let column_one = gap.rsplit('\n').next().is_some_and(str::is_empty) && gap.contains('\n');
            let in_duration = p.kind == TokenKind::Number
                && ["day", "days", "week", "weeks", "month", "months", "year", "years"].contains(&b);
            let could_start_decl = DECLARATION_KEYWORDS.contains(&b) || b.starts_with("///");
            if gap.contains('\n') || after_comment {
                for _ in 0..1 + n % 2 {
                    out.push('\n');
                }
                if !column_one {
                    out.push_str(&" ".repeat(1 + (n as usize / 2) % 7));
                }
            } else if n % 5 == 0 && !in_duration && !could_start_decl {
                out.push('\n');
                out.push_str(&" ".repeat(1 + (n as usize) % 5));
            } else {
                n /= 5;
                let needs_space = (is_word(a) && is_word(b)) || in_duration;
                out.push_str(&" ".repeat(usize::from(needs_space) + (n as usize) % 3));
            }
        }
        out.push_str(t.text(text));
        previous = Some(t);
    }
    out.push('\n');
    out
}

#[test]
fn formatting_the_sources_keeps_tokens_and_is_idempotent() {
    let texts = policy_texts();
    assert!(texts.len() > 20, "expected the stdlib, examples and corpus, found {}", texts.len());
    for (name, text) in texts {
        let once = format(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(token_texts(&once), token_texts(&text), "{name}: tokens changed");
        assert_eq!(format(&once).ok().as_deref(), Some(once.as_str()), "{name}: not idempotent");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn formatting_scrambled_sources_keeps_tokens_and_is_idempotent(
        index in 0usize..1000,
        choices in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let texts = policy_texts();
        let (name, text) = &texts[index % texts.len()];
        let scrambled = scramble(text, &choices);
        let errors = parse(&scrambled).errors;
        prop_assert!(errors.is_empty(), "{}: the scrambled text does not parse: {:?}\n{}", name, errors, scrambled);
        let once = format(&scrambled).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(token_texts(&once), token_texts(&scrambled));
        prop_assert_eq!(format(&once).ok(), Some(once.clone()));
        prop_assert!(parse(&once).errors.is_empty());
    }
}
