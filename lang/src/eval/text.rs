//! The text builtins (`lower`, `upper`, `trim`, `contains`, `starts_with`,
//! `ends_with`, `split`, `matches`): pure functions of their argument
//! values, called by the evaluator for an [`Builtin`] that [`is_text`].
//!
//! `matches` reads a regular expression that the checker has already
//! compiled with [`compile`] (a text literal, so every pattern of a
//! program is known before it runs). The `regex` crate matches in time
//! linear in the text; the limits here bound what a pattern may cost to
//! compile and hold, so a hostile pattern is refused when the policy is
//! checked instead of exhausting memory. Compiled patterns are kept per
//! thread, a few hundred at most.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::ir::{Builtin, Value};

/// The longest pattern accepted, in characters.
pub(crate) const MAX_PATTERN_CHARS: usize = 1_000;
/// The most memory one compiled pattern may take (and its lazy DFA's cache).
const MAX_PATTERN_BYTES: usize = 1 << 20;
/// How deeply groups and repetitions may nest in a pattern.
const MAX_NESTING: u32 = 64;
/// How many compiled patterns a thread keeps.
const CACHED: usize = 256;

/// Whether the builtin is one of the text functions evaluated here.
pub(crate) fn is_text(op: Builtin) -> bool {
    matches!(
        op,
        Builtin::Lower
            | Builtin::Upper
            | Builtin::Trim
            | Builtin::Contains
            | Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Split
            | Builtin::Matches
    )
}

/// A regular expression within the limits, or why it cannot be used.
pub(crate) fn compile(pattern: &str) -> Result<regex::Regex, String> {
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(format!("the pattern has {chars} characters, more than the {MAX_PATTERN_CHARS} allowed"));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(MAX_PATTERN_BYTES)
        .dfa_size_limit(MAX_PATTERN_BYTES)
        .nest_limit(MAX_NESTING)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => {
                format!("the pattern compiles to more than {} KiB", MAX_PATTERN_BYTES / 1024)
            }
            regex::Error::Syntax(message) => {
                // The crate's message draws the pattern over several lines; its last line says what is wrong.
                let last = message.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
                last.strip_prefix("error: ").unwrap_or(last).to_string()
            }
            other => other.to_string(),
        })
}

thread_local! {
    static PATTERNS: RefCell<HashMap<Arc<str>, Option<regex::Regex>>> = RefCell::new(HashMap::new());
}

/// Whether `pattern` matches in `text` (`None` for a pattern that does not
/// compile, which the checker refuses before evaluation).
fn is_match(pattern: &Arc<str>, text: &str) -> Option<bool> {
    PATTERNS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() >= CACHED {
                cache.clear();
            }
            cache.insert(pattern.clone(), compile(pattern).ok());
        }
        cache.get(pattern).and_then(Option::as_ref).map(|re| re.is_match(text))
    })
}

/// The value of a text builtin on its arguments: absent when an argument
/// is (an optional field not recorded), and for arguments of other types,
/// which the checker does not let through.
pub(crate) fn apply(op: Builtin, args: &[Value]) -> Value {
    let text = |v: &Value| match v {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    };
    let texts: Option<Vec<Arc<str>>> = args.iter().map(text).collect();
    let Some(texts) = texts else { return Value::Absent };
    match (op, texts.as_slice()) {
        (Builtin::Lower, [t]) => Value::text(&t.to_lowercase()),
        (Builtin::Upper, [t]) => Value::text(&t.to_uppercase()),
        (Builtin::Trim, [t]) => Value::text(t.trim()),
        (Builtin::Contains, [t, part]) => Value::Bool(t.contains(&**part)),
        (Builtin::StartsWith, [t, prefix]) => Value::Bool(t.starts_with(&**prefix)),
        (Builtin::EndsWith, [t, suffix]) => Value::Bool(t.ends_with(&**suffix)),
        (Builtin::Split, [t, separator]) => {
            let parts: Vec<Value> = if separator.is_empty() {
                t.chars().filter(|c| !c.is_whitespace()).map(|c| Value::text(&c.to_string())).collect()
            } else {
                t.split(&**separator).map(str::trim).filter(|p| !p.is_empty()).map(Value::text).collect()
            };
            Value::List(parts.into())
        }
        (Builtin::Matches, [t, pattern]) => is_match(pattern, t).map_or(Value::Absent, Value::Bool),
        _ => Value::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: Builtin, args: &[&str]) -> Value {
        apply(op, &args.iter().map(|a| Value::text(a)).collect::<Vec<_>>())
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|i| Value::text(i)).collect::<Vec<_>>().into())
    }

    #[test]
    fn text_functions_compute_what_their_docs_say() {
        assert_eq!(call(Builtin::Lower, &["Safety-IMPACTING ÉTÉ"]), Value::text("safety-impacting été"));
        assert_eq!(call(Builtin::Upper, &["ops"]), Value::text("OPS"));
        assert_eq!(call(Builtin::Trim, &[" Rights-Impacting\r\n"]), Value::text("Rights-Impacting"));
        assert_eq!(call(Builtin::Contains, &["Facial recognition", "recog"]), Value::Bool(true));
        assert_eq!(call(Builtin::Contains, &["Facial recognition", "Recog"]), Value::Bool(false));
        assert_eq!(call(Builtin::StartsWith, &["uc-17", "uc-"]), Value::Bool(true));
        assert_eq!(call(Builtin::EndsWith, &["uc-17", "-1"]), Value::Bool(false));
        assert_eq!(call(Builtin::Split, &["ops, legal,\n risk,", ","]), list(&["ops", "legal", "risk"]));
        assert_eq!(call(Builtin::Split, &["", ","]), list(&[]));
        assert_eq!(call(Builtin::Split, &["a b", ""]), list(&["a", "b"]));
        assert_eq!(call(Builtin::Matches, &["Camera: face match", "(?i)FACE"]), Value::Bool(true));
        assert_eq!(call(Builtin::Matches, &["uc-17", "^uc-[0-9]+$"]), Value::Bool(true));
        assert_eq!(call(Builtin::Matches, &["uc-17a", "^uc-[0-9]+$"]), Value::Bool(false));
        // An absent argument (an optional field not recorded) gives absent.
        assert_eq!(apply(Builtin::Lower, &[Value::Absent]), Value::Absent);
        assert_eq!(apply(Builtin::Contains, &[Value::text("a"), Value::Absent]), Value::Absent);
        assert!(is_text(Builtin::Split) && !is_text(Builtin::Len));
    }

    #[test]
    fn patterns_are_bounded() {
        assert!(compile("^[a-z]+-[0-9]{1,4}$").is_ok());
        let syntax = compile("(unclosed").expect_err("refused");
        assert!(syntax.contains("unclosed group"), "{syntax}");
        let long = compile(&"a".repeat(MAX_PATTERN_CHARS + 1)).expect_err("refused");
        assert!(long.contains("more than the 1000 allowed"), "{long}");
        // Counted repetitions multiply: this one would take gigabytes.
        let big = compile(r"(\w{100}){100}").expect_err("refused");
        assert!(big.contains("compiles to more than 1024 KiB"), "{big}");
        let deep = compile(&format!("{}a{}", "(".repeat(100), ")".repeat(100))).expect_err("refused");
        assert!(!deep.is_empty());
        // Backreferences and look-around are not supported at all.
        assert!(compile(r"(a)\1").is_err());
        assert!(compile(r"a(?=b)").is_err());
        // A refused pattern matches nothing, rather than panicking.
        assert_eq!(call(Builtin::Matches, &["a", "(a"]), Value::Absent);
    }
}
