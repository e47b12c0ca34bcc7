//! The formatter behind `aims fmt` and the language server's formatting.
//!
//! It changes whitespace only, so it can never change what a policy means
//! or lose a comment: the tokens of the output are the tokens of the input.
//! Line breaks are the author's (runs of blank lines become one); the
//! indentation, the spaces inside a line and the end of the file are
//! canonical. Indentation is two spaces per open bracket, plus one level
//! for a line that continues the one before (a clause under a declaration's
//! header, `then`/`else`, an operator at either end of the break). Because
//! every decision reads tokens and line breaks only, formatting twice gives
//! what formatting once gave.
//!
//! A file with a syntax error is not formatted: its tokens are not known.

use crate::syntax::tokens::{tokens, Token, TokenKind};
use crate::syntax::{self, SyntaxError, DECLARATION_KEYWORDS};

const INDENT: &str = "  ";

/// Formats a policy file, or returns its syntax errors.
pub fn format(text: &str) -> Result<String, Vec<SyntaxError>> {
    let parse = syntax::parse(text);
    if !parse.errors.is_empty() {
        return Err(parse.errors);
    }
    Ok(layout(text, &tokens(text)))
}

/// One output line: its tokens, and whether a blank line precedes it.
struct Line {
    tokens: Vec<Token>,
    blank_before: bool,
}

fn split_lines(text: &str, toks: &[Token]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut previous_end = 0usize;
    for &t in toks {
        let gap = &text[previous_end..t.span.start as usize];
        let breaks = crate::diag::LineIndex::new(gap).starts().len() - 1;
        match lines.last_mut() {
            Some(line) if breaks == 0 => line.tokens.push(t),
            _ => lines.push(Line { tokens: vec![t], blank_before: breaks >= 2 && !lines.is_empty() }),
        }
        previous_end = t.span.end as usize;
    }
    lines
}

/// Lays out a file that parses, given its tokens (all of them, in order).
pub fn layout(text: &str, toks: &[Token]) -> String {
    let lines = split_lines(text, toks);
    let is_comment = |t: &Token| matches!(t.kind, TokenKind::Comment | TokenKind::DocComment);
    // Indentation of each line; comment lines are settled afterwards, from
    // the code around them.
    let mut indents: Vec<Option<usize>> = Vec::with_capacity(lines.len());
    let mut comment_floor: Vec<usize> = Vec::with_capacity(lines.len());
    let mut depth = 0usize;
    let mut previous_code_last: Option<Token> = None;
    for line in &lines {
        let first = line.tokens[0];
        let first_text = first.text(text);
        let leading_closers = line.tokens.iter().take_while(|t| is_closer(t.text(text))).count();
        let line_depth = depth.saturating_sub(leading_closers);
        if is_comment(&first) && line.tokens.len() == 1 {
            indents.push(None);
            comment_floor.push(depth);
        } else {
            let continues = if line_depth == 0 {
                let starts_declaration = first.kind == TokenKind::Keyword && DECLARATION_KEYWORDS.contains(&first_text);
                !(starts_declaration || first_text == "{" || leading_closers > 0)
            } else {
                leading_closers == 0
                    && (starts_continuation(first, text)
                        || previous_code_last.is_some_and(|last| ends_incomplete(last, text)))
            };
            indents.push(Some(line_depth + usize::from(continues)));
            comment_floor.push(line_depth);
            previous_code_last = line.tokens.iter().rev().find(|t| !is_comment(t)).copied();
        }
        for t in &line.tokens {
            let s = t.text(text);
            if is_opener(s) {
                depth += 1;
            } else if is_closer(s) {
                depth = depth.saturating_sub(1);
            }
        }
    }
    // A comment line takes the indentation of the code after it, but never
    // less than the depth it sits at.
    let mut next_indent = 0usize;
    for i in (0..lines.len()).rev() {
        match indents[i] {
            Some(n) => next_indent = n,
            None => indents[i] = Some(next_indent.max(comment_floor[i])),
        }
    }

    let mut out = String::with_capacity(text.len());
    let mut previous_line_last: Option<&str> = None;
    for (line, indent) in lines.iter().zip(indents) {
        let first = line.tokens[0].text(text);
        let after_opener = previous_line_last.is_some_and(is_opener);
        if line.blank_before && !after_opener && !is_closer(first) {
            out.push('\n');
        }
        for _ in 0..indent.unwrap_or(0) {
            out.push_str(INDENT);
        }
        let mut previous: Option<Token> = None;
        for &t in &line.tokens {
            if let Some(p) = previous {
                if space_between(p, t, text) {
                    out.push(' ');
                }
            }
            out.push_str(token_text(t, text));
            previous = Some(t);
        }
        out.push('\n');
        previous_line_last = line.tokens.last().map(|t| t.text(text));
    }
    out
}

fn token_text(t: Token, text: &str) -> &str {
    match t.kind {
        TokenKind::Comment | TokenKind::DocComment => t.text(text).trim_end(),
        _ => t.text(text),
    }
}

fn is_opener(s: &str) -> bool {
    matches!(s, "{" | "(" | "[")
}

fn is_closer(s: &str) -> bool {
    matches!(s, "}" | ")" | "]")
}

/// A line that starts with one of these continues the expression above.
fn starts_continuation(t: Token, text: &str) -> bool {
    let s = t.text(text);
    matches!(s, "then" | "else" | "and" | "or" | "where" | "." | "??" | "within" | "because")
        || (t.kind == TokenKind::Operator && !t.unary)
}

/// A line that ends with one of these is continued by the next.
fn ends_incomplete(t: Token, text: &str) -> bool {
    let s = t.text(text);
    matches!(s, "then" | "else" | "if" | "and" | "or" | "not" | "where" | "=" | ":" | "??" | "within" | "in" | "is")
        || t.kind == TokenKind::Operator
}

fn space_between(a: Token, b: Token, text: &str) -> bool {
    let (sa, sb) = (a.text(text), b.text(text));
    if b.kind == TokenKind::Comment {
        return true;
    }
    if matches!(sa, "(" | "[") || matches!(sb, ")" | "]" | "," | ":" | "?") {
        return false;
    }
    if matches!(sa, "." | "..") || matches!(sb, "." | "..") {
        return false;
    }
    if sb == "(" && a.kind == TokenKind::Ident {
        return false;
    }
    if a.unary {
        return false;
    }
    !(sa == "{" && sb == "}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        format(text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn spacing_and_indentation_are_canonical() {
        let text = "control  c \"t\"\nimplements A.6.2.4,A.6.2.5\nfor s :AISystem where s.x>=1\n{\n      require count( d for d : D where d.y )>0 because \"why\"\n}\n";
        assert_eq!(
            fmt(text),
            "control c \"t\"\n  implements A.6.2.4, A.6.2.5\n  for s: AISystem where s.x >= 1\n{\n  require count(d for d: D where d.y) > 0 because \"why\"\n}\n"
        );
    }

    #[test]
    fn continuation_lines_are_indented_one_level() {
        let text = "risk r {\nlikelihood: if a\nthen b\nelse c\nimpact: d\n}\n";
        assert_eq!(fmt(text), "risk r {\n  likelihood: if a\n    then b\n    else c\n  impact: d\n}\n");
    }

    #[test]
    fn comments_are_kept_and_aligned_with_the_code_they_precede() {
        let text = "// head   \n\n\n\nenum E {\n// first\na, // trailing\n   /// doc\nb\n    // last\n}\n";
        assert_eq!(fmt(text), "// head\n\nenum E {\n  // first\n  a, // trailing\n  /// doc\n  b\n  // last\n}\n");
    }

    #[test]
    fn unary_minus_ranges_and_fields_have_no_inner_spaces() {
        let text = "matrix M = A*B { low: 1 .. 4 }\nfn f(x: Int) = - x - 1 + g( x ) . y\n";
        assert_eq!(fmt(text), "matrix M = A * B { low: 1..4 }\nfn f(x: Int) = -x - 1 + g(x).y\n");
    }

    #[test]
    fn blank_lines_after_an_opening_brace_are_dropped() {
        assert_eq!(fmt("enum E {\n\n\n  a\n\n}\n"), "enum E {\n  a\n}\n");
    }

    #[test]
    fn a_file_with_a_syntax_error_is_refused() {
        assert!(format("control c { require ( }").is_err());
    }

    #[test]
    fn formatting_is_idempotent_on_the_examples_and_stdlib() {
        for (name, text) in crate::stdlib_texts() {
            let once = fmt(&text);
            assert_eq!(fmt(&once), once, "{name}");
        }
    }
}
