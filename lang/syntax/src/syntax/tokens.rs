//! Tokens: every piece of a policy file's text, comments included, in order.
//!
//! The grammar has no separate lexer, so tokens are read off pest's tree:
//! its leaves are the identifiers, literals, keywords and operators, and
//! the text between two leaves holds only whitespace, comments and
//! punctuation. A declaration that does not parse is cut into tokens by a
//! plain scan instead, so an editor still gets tokens for a broken file.
//! The formatter and the language server's semantic tokens both read this.

use pest::iterators::Pair;

use super::ast::Span;
use super::{chunks, too_deep, ParseLimits, Rule, CLAUSE_KEYWORDS, DECLARATION_KEYWORDS};

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A reserved word, or a word the grammar spells out (`by`, `until`).
    Keyword,
    /// A declared or bound name.
    Ident,
    /// A field name after `.`.
    Field,
    /// A requirement identifier such as `A.6.2.4` (after `implements`...).
    RequirementId,
    /// A module path after `use`.
    Module,
    /// A number literal (`3`, `0.25`).
    Number,
    /// A percentage literal (`5%`).
    Percent,
    /// A date literal (`2026-01-31`).
    Date,
    /// A text literal (`"…"`).
    String,
    /// An operator: `==`, `+`, unary `-`...
    Operator,
    /// Brackets, `,`, `:`, `.`, `..`, `=`, `?`.
    Punct,
    /// `// ...`
    Comment,
    /// `/// ...`
    DocComment,
}

/// One token of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// The token's bytes in the file.
    pub span: Span,
    /// A `-` that negates (no space after it when formatted).
    pub unary: bool,
}

impl Token {
    /// The token's text in `source`.
    pub fn text(self, source: &str) -> &str {
        &source[self.span.range()]
    }
}

/// Every token of `text`, in order. Never fails: a declaration that does
/// not parse is scanned word by word.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for (start, end) in chunks(text) {
        let chunk = &text[start..end];
        let parsed = if too_deep(chunk, ParseLimits::default()).is_some() {
            None
        } else {
            stacker::maybe_grow(256 * 1024, 16 * 1024 * 1024, || super::run_pest(Rule::chunk, chunk).ok())
        };
        match parsed {
            Some(pairs) => {
                let mut leaves = Vec::new();
                for pair in pairs {
                    collect_leaves(pair, &mut leaves);
                }
                let mut at = 0;
                for (kind, span, unary) in leaves {
                    scan(chunk, at, span.start as usize, start, &mut out);
                    out.push(Token { kind, span: span.shifted(start as u32), unary });
                    at = span.end as usize;
                }
                scan(chunk, at, chunk.len(), start, &mut out);
            }
            None => scan(chunk, 0, chunk.len(), start, &mut out),
        }
    }
    out
}

fn collect_leaves(pair: Pair<'_, Rule>, out: &mut Vec<(TokenKind, Span, bool)>) {
    let rule = pair.as_rule();
    let span = Span::new(pair.as_span().start(), pair.as_span().end());
    let leaf_kind = match rule {
        Rule::string => Some(TokenKind::String),
        Rule::doc_comment => Some(TokenKind::DocComment),
        Rule::req_id => Some(TokenKind::RequirementId),
        Rule::module_path => Some(TokenKind::Module),
        Rule::date => Some(TokenKind::Date),
        Rule::percent => Some(TokenKind::Percent),
        Rule::number | Rule::integer => Some(TokenKind::Number),
        _ => None,
    };
    if let Some(kind) = leaf_kind {
        out.push((kind, span, false));
        return;
    }
    let mut inner = pair.clone().into_inner().peekable();
    if inner.peek().is_some() {
        for child in inner {
            collect_leaves(child, out);
        }
        return;
    }
    if span.start == span.end {
        return;
    }
    let kind = match rule {
        Rule::ident => TokenKind::Ident,
        Rule::field_name => TokenKind::Field,
        Rule::cmp_op | Rule::add_op | Rule::mul_op | Rule::neg => TokenKind::Operator,
        Rule::optional_mark => TokenKind::Punct,
        _ => TokenKind::Keyword,
    };
    out.push((kind, span, rule == Rule::neg));
}

/// Cuts `chunk[from..to]` (text between leaves, or a chunk that did not
/// parse) into comments, words, strings and punctuation.
fn scan(chunk: &str, from: usize, to: usize, base: usize, out: &mut Vec<Token>) {
    let bytes = chunk.as_bytes();
    let mut i = from;
    let push = |out: &mut Vec<Token>, kind, s: usize, e: usize| {
        out.push(Token { kind, span: Span::new(base + s, base + e), unary: false });
    };
    while i < to {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if chunk[i..to].starts_with("//") {
            let end = chunk[i..to].find(['\n', '\r']).map_or(to, |n| i + n);
            let kind = if chunk[i..end].starts_with("///") { TokenKind::DocComment } else { TokenKind::Comment };
            push(out, kind, start, end);
            i = end;
        } else if c == b'"' {
            i += 1;
            while i < to && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(to);
            push(out, TokenKind::String, start, i);
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            while i < to && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &chunk[start..i];
            let kind = if c.is_ascii_digit() {
                TokenKind::Number
            } else if is_keyword(word) {
                TokenKind::Keyword
            } else {
                TokenKind::Ident
            };
            push(out, kind, start, i);
        } else if chunk[i..to].starts_with("..") || chunk[i..to].starts_with("??") {
            i += 2;
            push(out, TokenKind::Punct, start, i);
        } else {
            // One character, whole (the text may hold any UTF-8).
            i += chunk[i..].chars().next().map_or(1, char::len_utf8);
            push(out, TokenKind::Punct, start, i.min(to));
        }
    }
}

/// Words the language reserves or spells out, for scanning broken text.
fn is_keyword(word: &str) -> bool {
    DECLARATION_KEYWORDS.contains(&word) || CLAUSE_KEYWORDS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        tokens(text).into_iter().map(|t| (t.kind, t.text(text))).collect()
    }

    #[test]
    fn tokens_cover_every_non_blank_byte_in_order() {
        let text = "// head\ncontrol c \"t\" implements A.6.2.4 for s: S where -s.x >= 1..2 { require s.y ?? 3% }\n";
        let toks = tokens(text);
        let mut rebuilt = String::new();
        for t in &toks {
            rebuilt.push_str(t.text(text));
        }
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(rebuilt.replace(' ', ""), squeezed);
        assert!(toks.windows(2).all(|w| w[0].span.end <= w[1].span.start));
    }

    #[test]
    fn leaves_are_classified_by_the_grammar() {
        let text = "control c for s: S { require -s.x - 1 > 0 and s.when within 3 days }";
        let got = kinds(text);
        assert!(got.contains(&(TokenKind::Keyword, "control")));
        assert!(got.contains(&(TokenKind::Field, "x")));
        assert!(got.contains(&(TokenKind::Number, "3")));
        assert!(got.contains(&(TokenKind::Keyword, "days")));
        let minus: Vec<Token> = tokens(text).into_iter().filter(|t| t.text(text) == "-").collect();
        assert_eq!(minus.iter().map(|t| t.unary).collect::<Vec<_>>(), vec![true, false]);
        let ids = kinds("requirement GOVERN-1.1 \"x\" in GOVERN");
        assert!(ids.contains(&(TokenKind::RequirementId, "GOVERN-1.1")));
    }

    #[test]
    fn a_broken_declaration_is_still_scanned() {
        let text = "control c { require ( \"é\" }\nenum E { a }\n";
        let got = kinds(text);
        assert!(got.contains(&(TokenKind::String, "\"é\"")));
        assert!(got.contains(&(TokenKind::Keyword, "enum")));
    }
}
