//! Formatting: the formatter of `aims fmt`, as one edit of the lines that
//! change (the lines before and after that the formatter leaves alone are
//! not sent back, so the editor keeps its marks and folds there); nothing
//! while the document has a syntax error.

use aims_lang::syntax::Span;
use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{DocumentFormattingParams, TextEdit};

use crate::state::Snapshot;

pub fn format(snapshot: &Snapshot, params: &DocumentFormattingParams) -> Cancellable<Option<Vec<TextEdit>>> {
    let Some((file, text, lines)) = snapshot.document(&params.text_document.uri)? else { return Ok(None) };
    let Some(formatted) = snapshot.analysis.formatted(file)? else { return Ok(None) };
    Ok(Some(
        changed_lines(text, &formatted)
            .map(|(span, new_text)| TextEdit { range: lines.range(span), new_text: new_text.to_string() })
            .into_iter()
            .collect(),
    ))
}

/// The whole lines of `old` that differ from `new`, and what replaces
/// them; `None` when the texts are equal.
fn changed_lines<'n>(old: &str, new: &'n str) -> Option<(Span, &'n str)> {
    if old == new {
        return None;
    }
    // Lines equal at the start, then at the end (not overlapping those).
    let mut prefix = 0;
    for (a, b) in old.split_inclusive('\n').zip(new.split_inclusive('\n')) {
        if a != b || !a.ends_with('\n') {
            break;
        }
        prefix += a.len();
    }
    let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
    let mut suffix = 0;
    for (a, b) in old_rest.split_inclusive('\n').rev().zip(new_rest.split_inclusive('\n').rev()) {
        // The last line without a break is not a whole line of the other.
        if a != b || suffix + a.len() > old_rest.len().min(new_rest.len()) {
            break;
        }
        let before = old_rest.len() - suffix - a.len();
        if before > 0 && !old_rest[..before].ends_with('\n') {
            break;
        }
        suffix += a.len();
    }
    let span = Span::new(prefix, old.len() - suffix);
    Some((span, &new[prefix..new.len() - suffix]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(old: &str, new: &str) -> String {
        match changed_lines(old, new) {
            Some((span, text)) => format!("{}{text}{}", &old[..span.start as usize], &old[span.end as usize..]),
            None => old.to_string(),
        }
    }

    #[test]
    fn only_the_changed_lines_are_replaced() {
        let old = "a\nb\n  c  \nd\ne\n";
        let new = "a\nb\nc\nd\ne\n";
        let (span, text) = changed_lines(old, new).expect("a change");
        assert_eq!((&old[span.start as usize..span.end as usize], text), ("  c  \n", "c\n"));
        assert_eq!(changed_lines(new, new), None);
    }

    #[test]
    fn applying_the_edit_gives_the_new_text() {
        let cases = [
            ("a\n\n\n\nb\n", "a\n\nb\n"),
            ("a\nb", "a\nb\n"),
            ("x\n", "y\n"),
            ("", "a\n"),
            ("a\n", ""),
            ("a\na\na\n", "a\na\n"),
            ("a\r\nb\r\n", "a\nb\n"),
            ("  a\nb\nb\n", "a\nb\nb\n"),
            ("b\nb\n  a\n", "b\nb\na\n"),
            ("a\nb\n", "a\nb\nc\n"),
        ];
        for (old, new) in cases {
            assert_eq!(apply(old, new), new, "{old:?} -> {new:?}");
            if let Some((span, _)) = changed_lines(old, new) {
                let starts_line = span.start == 0 || old.as_bytes()[span.start as usize - 1] == b'\n';
                assert!(starts_line, "whole lines: {old:?} -> {new:?}");
            }
        }
    }
}
