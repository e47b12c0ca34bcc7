//! The messages of failed requirements, with their conditions on one
//! line.

use super::{FailReason, Failure};
use crate::ir::*;

/// A condition written over several lines, on one: each line break and the
/// indentation around it become one space, and `//` comments between the
/// lines go (other spacing, such as inside a text literal, stays as
/// written).
pub fn single_line(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains(['\n', '\r']) {
        return std::borrow::Cow::Borrowed(source);
    }
    // A line up to its comment: `//` outside a text literal.
    let code = |line: &'_ str| -> usize {
        let (mut in_text, mut escaped) = (false, false);
        for (i, c) in line.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_text => escaped = true,
                '"' => in_text = !in_text,
                '/' if !in_text && line[i..].starts_with("//") => return i,
                _ => {}
            }
        }
        line.len()
    };
    let mut out = String::with_capacity(source.len());
    let lines = source.split(['\n', '\r']).map(|l| l[..code(l)].trim()).filter(|l| !l.is_empty());
    for (i, line) in lines.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line);
    }
    std::borrow::Cow::Owned(out)
}

/// The message of a failed requirement.
pub fn failure_message(requirement: Option<&Requirement>, failure: &Failure) -> String {
    match &failure.reason {
        FailReason::NoEvidence(why) => match &**why {
            Unknown::NotRecorded(path) => format!("no evidence: {path} is not recorded"),
            why if !why.is_missing_evidence() => format!("cannot be decided: {why}"),
            other => format!("no evidence: {other}"),
        },
        FailReason::Violated => violation_message(requirement),
    }
}

/// The message of a requirement found false.
pub fn violation_message(requirement: Option<&Requirement>) -> String {
    match requirement {
        Some(r) => match &r.because {
            Some(because) => format!("{because} (`{}`)", single_line(&r.source)),
            None => format!("`{}` does not hold", single_line(&r.source)),
        },
        None => "a requirement does not hold".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_shown_on_one_line_without_their_comments() {
        assert_eq!(single_line("a and b"), "a and b");
        assert_eq!(
            single_line("s.x  == \"a  b\"\n    and s.y // why\r\n\n    or s.z"),
            "s.x  == \"a  b\" and s.y or s.z"
        );
        assert_eq!(single_line("s.url == \"http://x\" and\n  s.y"), "s.url == \"http://x\" and s.y");
        assert_eq!(single_line("s.t == \"a\\\"//\" and\n  s.y"), "s.t == \"a\\\"//\" and s.y");
    }
}
