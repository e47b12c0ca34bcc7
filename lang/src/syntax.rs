//! The policy language's syntax, as the engine's users see it: parsing,
//! the formatter, keywords and tokens for editors. The parser and the tree
//! live in `aims-syntax`; the tree itself stays the engine's business.

pub(crate) use aims_syntax::syntax::{ast, parse_expr};
pub use aims_syntax::syntax::{
    declaration_ranges, expr_errors, format, keywords, parse, parse_with, quote, tokens, KeywordKind, Parse,
    ParseLimits, Severity, Span, SyntaxError, CLAUSE_KEYWORDS, DECLARATION_KEYWORDS, KEYWORDS, MAX_DEPTH,
    RESERVED_WORDS,
};
