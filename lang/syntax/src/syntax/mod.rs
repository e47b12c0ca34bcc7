//! Syntax: from the text of one `.aims` file to its `ast::SourceFile`.
//!
//! pest has no error recovery, so the file is cut into chunks, one per
//! top-level declaration (a line that starts, in column 1, with a
//! declaration keyword or `///`), and each chunk is parsed on its own: one
//! broken declaration yields one error and hides nothing else. Nesting is
//! measured before pest runs, so hostile input cannot exhaust the stack.

// The tree is the checker's input, not part of the API: outside the crate
// only the span and the severity it carries are used.
// The tree is public for one reader, `aims-lang`, which keeps it out of its
// own API. Its node types mirror grammar.pest rule by rule, and what each
// construct means is documented once, in docs/language.md; so only the
// nodes whose shape is not obvious from the grammar carry doc comments.
#[allow(missing_docs)]
pub mod ast;
mod build;
pub mod keywords;
pub mod tokens;

use pest::Parser as _;

use self::ast::SourceFile;
pub use self::ast::{Severity, Span};
pub use self::keywords::{KeywordKind, CLAUSE_KEYWORDS, DECLARATION_KEYWORDS, KEYWORDS, RESERVED_WORDS};
pub use crate::format::format;

// In a module of its own because pest generates a public `Rule` enum: the
// grammar's rules are the parser's business, not the API's.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "syntax/grammar.pest"]
    pub(crate) struct Grammar;
}
pub(crate) use self::grammar::{Grammar, Rule};

/// The default of [`ParseLimits::max_depth`].
pub const MAX_DEPTH: usize = 256;

/// Limits applied while parsing.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// Deepest nesting of brackets allowed in one declaration.
    pub max_nesting: usize,
    /// Most `if`, `exists` and `all` in one declaration: they nest without
    /// brackets, so their count bounds their depth.
    pub max_nesting_keywords: usize,
    /// Most operands in one chain of `and`, `or`, `+`, `??`...
    pub max_chain: usize,
    /// Deepest expression tree: every operator, `not`, `-`, bracket, `if`,
    /// quantifier, call and field access is a level. Every recursive walk
    /// of a tree (clone, drop, comparison, lowering, evaluation, printing)
    /// goes at most this deep.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_nesting: 64, max_nesting_keywords: 256, max_chain: MAX_DEPTH, max_depth: MAX_DEPTH }
    }
}

/// A syntax error: where, what, and what was expected there.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// The diagnostic code (a generic syntax error, or a limit exceeded).
    pub code: crate::diag::Code,
    /// The bytes the error points at, absolute in the file's text.
    pub span: Span,
    /// The one-line message, in the style of every diagnostic.
    pub message: String,
    /// The short label printed under the span (what is wrong there).
    pub label: String,
    /// A hint on how to fix it, when there is one.
    pub help: Option<String>,
}

/// The result of parsing one file: a tree of every declaration that parsed,
/// and an error for every one that did not.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Parse {
    /// Every declaration that parsed, in source order.
    pub file: SourceFile,
    /// One error for every declaration that did not parse, in source order.
    pub errors: Vec<SyntaxError>,
}

impl Parse {
    /// This parse of a declaration's text, for the declaration starting
    /// `offset` bytes into its file: the items' trees stay as they are
    /// (their spans are relative to the item), only where each starts
    /// moves; errors, which are ranges of the file, move with it.
    pub fn placed_at(mut self, offset: u32) -> Parse {
        if offset != 0 {
            self.file.items.iter_mut().for_each(|item| item.offset += offset);
            self.errors.iter_mut().for_each(|error| error.span = error.span.shifted(offset));
        }
        self
    }

    /// The nesting depth of the deepest function body that parsed (0 when
    /// the file has no function); the fuzzer holds it to [`MAX_DEPTH`].
    pub fn deepest_function_body(&self) -> usize {
        self.file
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ast::ItemKind::Fn(f) => Some(f.body.depth().0),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// A text literal that reads back as `text`: quoted, with the escapes of
/// the language (`\n`, `\r`, `\t`, `\"` and `\\`), on one line. Everything
/// that writes a literal into a policy (code actions, generated
/// declarations) goes through here.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parses a file with the default limits.
pub fn parse(text: &str) -> Parse {
    parse_with(text, ParseLimits::default())
}

/// Parses a file.
pub fn parse_with(text: &str, limits: ParseLimits) -> Parse {
    let mut parse = Parse::default();
    for (start, end) in chunks(text) {
        let chunk = &text[start..end];
        if chunk.trim().is_empty() {
            continue;
        }
        if let Some(at) = too_deep(chunk, limits) {
            parse.errors.push(SyntaxError {
                code: crate::diag::Code::TooDeep,
                span: Span::new(start + at, start + at + 1),
                message: format!(
                    "expression nested too deeply: more than {} brackets or {} `if`/`exists`/`all` in one declaration",
                    limits.max_nesting, limits.max_nesting_keywords
                ),
                label: "too deeply nested".into(),
                help: Some("split the expression with `let` or a `fn`".into()),
            });
            continue;
        }
        match parse_chunk(chunk, start as u32, limits) {
            Ok(mut items) => {
                parse.file.items.append(&mut items.items);
                parse.errors.append(&mut items.errors);
            }
            Err(error) => {
                // Junk between declarations would take the declaration
                // before it down too: parse the lines that start in column 1
                // apart, and keep whatever parses.
                let pieces = sub_chunks(chunk);
                let mut salvaged = false;
                if pieces.len() > 1 {
                    let results: Vec<_> = pieces
                        .iter()
                        .map(|&(s, e)| (s, parse_chunk(&chunk[s..e], (start + s) as u32, limits)))
                        .collect();
                    if results.iter().any(|(_, r)| r.is_ok()) {
                        salvaged = true;
                        for (offset, result) in results {
                            match result {
                                Ok(mut items) => {
                                    parse.file.items.append(&mut items.items);
                                    parse.errors.append(&mut items.errors);
                                }
                                Err(e) => {
                                    let mut e = *e;
                                    e.span = e.span.shifted((start + offset) as u32);
                                    parse.errors.push(e);
                                }
                            }
                        }
                    }
                }
                if !salvaged {
                    let mut error = *error;
                    error.span = error.span.shifted(start as u32);
                    parse.errors.push(error);
                }
            }
        }
    }
    parse
}

/// The syntax errors of an expression on its own (a REPL query, a what-if
/// value): empty when it parses. The tree itself stays inside the crate.
pub fn expr_errors(text: &str) -> Vec<SyntaxError> {
    parse_expr(text).err().unwrap_or_default()
}

/// Parses an expression on its own (a REPL query, a what-if value).
pub fn parse_expr(text: &str) -> Result<ast::Expr, Vec<SyntaxError>> {
    if let Some(at) = too_deep(text, ParseLimits::default()) {
        return Err(vec![SyntaxError {
            code: crate::diag::Code::TooDeep,
            span: Span::new(at, at + 1),
            message: format!("expression nested deeper than {} levels", ParseLimits::default().max_nesting),
            label: "too deeply nested".into(),
            help: None,
        }]);
    }
    stacker::maybe_grow(256 * 1024, 16 * 1024 * 1024, || {
        let mut pairs = run_pest(Rule::expr_only, text).map_err(|e| vec![convert_error(text, e)])?;
        let mut builder = build::Builder::new(0, ParseLimits::default());
        let Some(expr) = pairs.next().and_then(|p| p.into_inner().next()) else {
            return Err(vec![SyntaxError {
                code: crate::diag::Code::Syntax,
                span: Span::default(),
                message: "expected an expression".into(),
                label: "here".into(),
                help: None,
            }]);
        };
        let expr = builder.expr(expr);
        if builder.errors.is_empty() {
            Ok(expr)
        } else {
            Err(builder.errors)
        }
    })
}

/// Runs pest. pest stops with "stack limit reached" when less than 64 KiB
/// of stack is left, which a thread with a small stack reaches within the
/// bracket limit: the parse is then run again on a stack of its own, so
/// that what parses does not depend on the thread.
pub(crate) fn run_pest(rule: Rule, text: &str) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    match Grammar::parse(rule, text) {
        Err(pest::error::Error { variant: pest::error::ErrorVariant::CustomError { .. }, .. }) => {
            stacker::grow(64 * 1024 * 1024, || Grammar::parse(rule, text))
        }
        result => result,
    }
}

/// Items and the literal errors found while building them.
struct ChunkItems {
    items: Vec<ast::Item>,
    errors: Vec<SyntaxError>,
}

fn parse_chunk(chunk: &str, base: u32, limits: ParseLimits) -> Result<ChunkItems, Box<SyntaxError>> {
    // The nesting was bounded above; this only guards the remaining
    // recursion of pest and of the tree builder on small stacks.
    stacker::maybe_grow(256 * 1024, 16 * 1024 * 1024, || {
        let pairs = run_pest(Rule::chunk, chunk).map_err(|e| Box::new(convert_error(chunk, e)))?;
        let mut builder = build::Builder::new(base, limits);
        let items = builder.chunk(pairs);
        // Errors are reported against the file, not kept in a tree: they
        // leave the chunk as ranges of the file.
        let errors = builder.errors.into_iter().map(|e| SyntaxError { span: e.span.shifted(base), ..e }).collect();
        Ok(ChunkItems { items, errors })
    })
}

/// Byte ranges of the declarations of a file, as the parser cuts it: each
/// parses on its own, and `parse` of a range, [`Parse::placed_at`] its
/// start, is that range's share of `parse` of the whole file.
pub fn declaration_ranges(text: &str) -> Vec<(usize, usize)> {
    chunks(text)
}

/// Byte ranges of the chunks of a file.
fn chunks(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut offset = 0;
    let mut previous_was_doc = false;
    for line in crate::diag::split_lines_inclusive(text) {
        let is_doc = line.starts_with("///");
        // Every keyword starts with a lowercase letter: most lines (indented
        // bodies, comments, braces) are settled by their first byte.
        let starts_decl = line.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && DECLARATION_KEYWORDS.iter().any(|kw| {
                line.strip_prefix(kw)
                    .is_some_and(|rest| rest.chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')))
            });
        if (is_doc || starts_decl) && !previous_was_doc && offset > 0 {
            starts.push(offset);
        }
        // A doc block runs on through blank lines and plain comments to its declaration.
        let trimmed = line.trim_start();
        let continues_doc = previous_was_doc && (trimmed.is_empty() || trimmed.starts_with("//"));
        previous_was_doc = is_doc || continues_doc;
        offset += line.len();
    }
    let mut ranges = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        ranges.push((start, end));
    }
    ranges
}

/// A failed chunk cut at lines that start in column 1 with something other
/// than whitespace, a bracket or a comment.
fn sub_chunks(chunk: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut offset = 0;
    for line in crate::diag::split_lines_inclusive(chunk) {
        let first = line.chars().next();
        let continues = first.is_none_or(|c| c.is_whitespace() || "{}()[]/".contains(c));
        if !continues && offset > 0 {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts.iter().enumerate().map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(chunk.len()))).collect()
}

/// Offset of the first bracket that opens deeper than the limit, or of the
/// nesting keyword one past its limit, skipping text literals and comments.
fn too_deep(chunk: &str, limits: ParseLimits) -> Option<usize> {
    let max = limits.max_nesting;
    let bytes = chunk.as_bytes();
    let mut depth = 0usize;
    let mut keywords = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if matches!(&bytes[start..i], b"if" | b"exists" | b"all") {
                    keywords += 1;
                    if keywords > limits.max_nesting_keywords {
                        return Some(start);
                    }
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn convert_error(chunk: &str, error: pest::error::Error<Rule>) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let offset = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = describe_found(chunk, offset);
    let end = offset + found.1.max(if offset < chunk.len() { 1 } else { 0 });
    let mut expected: Vec<&'static str> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().filter_map(|r| describe_rule(*r)).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let label = match expected.as_slice() {
        [] => "unexpected here".to_string(),
        [one] => format!("expected {one}"),
        many => {
            let (last, rest) = many.split_last().map(|(l, r)| (*l, r)).unwrap_or(("", &[]));
            format!("expected {} or {last}", rest.join(", "))
        }
    };
    let help = hint(chunk, offset, &found.0);
    SyntaxError {
        code: crate::diag::Code::Syntax,
        span: Span::new(offset, end.min(chunk.len().max(offset))),
        message: format!("unexpected {}", found.0),
        label,
        help,
    }
}

/// What stands at `offset`, for the message, and its length in bytes.
fn describe_found(chunk: &str, offset: usize) -> (String, usize) {
    let rest = chunk.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("end of file".into(), 0);
    };
    if first.is_alphanumeric() || first == '_' {
        let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
        let len = word.len();
        return (format!("`{word}`"), len);
    }
    if first == '\n' || first == '\r' {
        return ("end of line".into(), 1);
    }
    if first.is_control() {
        return (format!("character `{}`", first.escape_unicode()), first.len_utf8());
    }
    (format!("`{first}`"), first.len_utf8())
}

fn hint(chunk: &str, offset: usize, found: &str) -> Option<String> {
    let rest = chunk.get(offset..).unwrap_or("");
    if rest.starts_with('=') && !rest.starts_with("==") {
        return Some("compare with `==`; a single `=` only gives a default or a definition".into());
    }
    if rest.starts_with('\'') {
        return Some("text is written in double quotes: \"like this\"".into());
    }
    if rest.starts_with("&&") || rest.starts_with("||") {
        return Some("write `and` and `or`".into());
    }
    if rest.starts_with('!') && !rest.starts_with("!=") {
        return Some("write `not` to negate".into());
    }
    if found == "end of file" {
        return Some("a bracket or a block may be left open".into());
    }
    let word = found.trim_matches('`');
    if RESERVED_WORDS.contains(&word) {
        return Some(format!("`{word}` is a keyword and cannot be used as a name"));
    }
    None
}

/// A readable description of what a grammar rule expects, or `None` for
/// rules too internal to mention.
fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::item | Rule::decl | Rule::docs | Rule::doc_comment => "a declaration",
        Rule::ident | Rule::name => "a name",
        Rule::field_name => "a field name",
        Rule::string => "a text in double quotes",
        Rule::req_ref | Rule::req_id => "a requirement identifier",
        Rule::type_expr | Rule::named_type | Rule::list_type => "a type",
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::coalesce_expr
        | Rule::add_expr
        | Rule::mul_expr
        | Rule::unary_expr
        | Rule::postfix_expr
        | Rule::paren_expr
        | Rule::list_lit
        | Rule::record_lit
        | Rule::call
        | Rule::if_expr
        | Rule::exists_expr
        | Rule::all_expr
        | Rule::number
        | Rule::percent
        | Rule::duration
        | Rule::kw_true
        | Rule::kw_false
        | Rule::kw_today => "an expression",
        Rule::date => "a date (YYYY-MM-DD)",
        Rule::integer => "a whole number",
        Rule::duration_unit => "`days`, `weeks`, `months` or `years`",
        Rule::cmp_op | Rule::compare_tail => "a comparison",
        Rule::add_op | Rule::mul_op => "an operator",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_in | Rule::in_tail => "`in`",
        Rule::kw_is | Rule::is_tail => "`is`",
        Rule::kw_within | Rule::within_tail => "`within`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_for | Rule::for_clause | Rule::agg_tail => "`for`",
        Rule::kw_where => "`where`",
        Rule::kw_some => "`some`",
        Rule::kw_none => "`none`",
        Rule::kw_because | Rule::because_clause => "`because`",
        Rule::kw_require | Rule::require_stmt => "`require`",
        Rule::kw_let | Rule::let_stmt => "`let`",
        Rule::block => "a block `{ .. }`",
        Rule::field_decl => "a field declaration `name: Type`",
        Rule::field_init => "a field `name: value`",
        Rule::variant => "a variant name",
        Rule::implements_clause | Rule::kw_implements => "`implements`",
        Rule::severity_clause | Rule::kw_severity => "`severity`",
        Rule::severity => "`major`, `minor` or `observation`",
        Rule::clause_clause | Rule::kw_clause => "`clause`",
        Rule::owner_clause | Rule::kw_owner => "`owner`",
        Rule::scale_value => "a scale value `name: number`",
        Rule::level => "a level `name: low..high`",
        Rule::treated_stmt | Rule::residual_stmt | Rule::axis_stmt => "a risk statement",
        Rule::measure_stmt | Rule::baseline_stmt | Rule::target_stmt | Rule::history_stmt => {
            "`measure`, `baseline`, `target` or `history`"
        }
        Rule::waives_clause | Rule::until_clause | Rule::approved_clause => {
            "`waives`, `until`, `approved by` or `because`"
        }
        Rule::as_of_stmt | Rule::given_stmt | Rule::expect_stmt => "`as of`, `given` or `expect`",
        Rule::outcome_word => "`passes`, `fails`, `waived` or `not_applicable`",
        Rule::param => "a parameter `name: Type`",
        Rule::binder | Rule::entity_source | Rule::list_source => "a binding `x: Entity` or `x in list`",
        Rule::optional_mark => "`?`",
        Rule::key_mark => "`key`",
        Rule::module_path => "a module path",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_visits_every_expression_in_source_order() {
        let e = parse_expr("f(a, g(b)) and exists x in l(1) where h(x.y)").expect("parses");
        let calls: Vec<&str> = e
            .walk()
            .filter_map(|x| match &x.kind {
                ast::ExprKind::Call(f, _) => Some(f.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(calls, ["f", "g", "l", "h"]);
        assert_eq!(e.walk().count(), 11, "and, f, a, g, b, exists, l, 1, h, x.y, x");
    }

    #[test]
    fn one_broken_declaration_hides_nothing_else() {
        let text = "enum A { x, y }\ncontrol broken { require }\nenum B { z }\ncontrol also_broken for s: { }\n";
        let parse = parse(text);
        assert_eq!(parse.file.items.len(), 2, "{:?}", parse.errors);
        assert_eq!(parse.errors.len(), 2);
        let first = &text[parse.errors[0].span.range()];
        assert_eq!(first, "}");
    }

    #[test]
    fn a_comment_between_doc_and_declaration_keeps_them_together() {
        let parse = parse("enum A { x }\n/// The B enum.\n// (a note)\n\nenum B { y }\n");
        assert!(parse.errors.is_empty(), "{:?}", parse.errors);
        assert_eq!(parse.file.items[1].docs.as_deref(), Some("The B enum."));
    }

    #[test]
    fn junk_after_a_declaration_does_not_hide_it() {
        let parse = parse("entity System {\n  id: Text key\n}\n@@ junk ##\ncontrol c for s: System { require true }\n");
        assert_eq!(parse.errors.len(), 1, "{:?}", parse.errors);
        assert_eq!(parse.file.items.len(), 2);
        assert_eq!(parse.errors[0].span.start, 33, "the error points at the junk");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("fn f() = {}1{}\n", "(".repeat(10_000), ")".repeat(10_000));
        let parse = parse(&text);
        assert_eq!(parse.errors.len(), 1);
        assert_eq!(parse.errors[0].code, crate::diag::Code::TooDeep);
    }

    #[test]
    fn nesting_without_brackets_is_bounded_too() {
        let text = format!("fn f() = {}1{}\n", "if true then ".repeat(2000), " else 0".repeat(2000));
        let parse = parse(&text);
        assert_eq!(parse.errors.len(), 1);
        assert_eq!(parse.errors[0].code, crate::diag::Code::TooDeep);
    }

    #[test]
    fn very_long_chains_are_an_error_not_a_crash() {
        let text = format!("fn f() = {}\n", vec!["true"; 100_000].join(" and "));
        let result = parse(&text);
        assert_eq!(result.errors.len(), 1, "{:?}", result.errors);
        assert_eq!(result.errors[0].code, crate::diag::Code::TooDeep);
        let sums = format!("fn g() = {}\n", vec!["1"; MAX_DEPTH - 1].join(" + "));
        assert!(parse(&sums).errors.is_empty(), "a chain within the limit is fine");
    }

    /// Runs `f` on a thread with a small stack: a walk whose depth follows
    /// the input's overflows it.
    fn on_small_stack<T: Send + 'static>(kib: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
        let thread = std::thread::Builder::new().stack_size(kib * 1024).spawn(f).expect("spawn a thread");
        thread.join().expect("no panic")
    }

    /// Every derived walk over the tree: clone, comparison, printing, drop.
    fn walk_everything(parse: Parse) -> Parse {
        let copy = parse.clone();
        assert!(copy == parse);
        assert!(!format!("{copy:?}").is_empty());
        drop(copy);
        parse
    }

    /// Deep trees within every bracket, keyword and chain limit: a chain of
    /// `-`, `not` or operators inside each of many brackets.
    fn deep_variants() -> Vec<(&'static str, String)> {
        let nest = |open: &str, inner: &str, close: &str, times: usize, leaf: &str| {
            format!("{}{leaf}{}", format!("{open}{inner}").repeat(times), close.repeat(times))
        };
        vec![
            ("the report: 17 brackets of 1,023 `-`", {
                let chain = "-".repeat(1023);
                format!("{}x{}", vec![chain.as_str(); 17].join("("), ")".repeat(16))
            }),
            ("`not`", nest("(", &"not ".repeat(1000), ")", 17, "true")),
            ("`-` and `not` mixed", nest("(", &format!("{}{}", "not ".repeat(500), "-".repeat(500)), ")", 17, "x")),
            ("nested `if`", nest("(if true then ", &"-".repeat(500), " else 0)", 30, "x")),
            ("nested lists", nest("[", &"-".repeat(900), "]", 40, "x")),
            ("`and` chains", nest("(", &"true and ".repeat(200), ")", 60, "true")),
            ("`+` chains", nest("(", &"1 + ".repeat(200), ")", 60, "x")),
            ("field chains", nest("(", "", ").a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a", 60, "x")),
            ("`exists`", nest("(exists y: T where ", &"not ".repeat(100), ")", 60, "true")),
            ("calls", nest("f(", &"-".repeat(200), ")", 60, "x")),
        ]
    }

    #[test]
    fn deep_trees_are_refused_before_any_walk_can_overflow() {
        for (what, expr) in deep_variants() {
            let text = format!("fn f(x: Int) = {expr}\ncontrol after {{ require true }}\n");
            let parse = on_small_stack(256, move || walk_everything(parse(&text)));
            assert_eq!(parse.errors.len(), 1, "{what}: {:?}", parse.errors);
            assert_eq!(parse.errors[0].code, crate::diag::Code::TooDeep, "{what}");
            assert_eq!(parse.file.items.len(), 2, "{what}: the declarations are kept");
            let text = format!("fn f(x: Int) = {expr}\n");
            let formatted = on_small_stack(256, move || crate::format::format(&text));
            assert!(formatted.is_err(), "{what}: a file with errors is not formatted");
        }
    }

    /// The deepest expression the limit allows.
    fn deepest_allowed() -> String {
        // `-` ×100, `(` ×60, `-` ×95 and `x`: 256 levels.
        let e = format!("{}{}{}x{}", "-".repeat(100), "(".repeat(60), "-".repeat(95), ")".repeat(60));
        assert_eq!(MAX_DEPTH, 100 + 60 + 95 + 1);
        e
    }

    #[test]
    fn the_deepest_allowed_tree_is_walked_on_a_small_stack() {
        let expr = deepest_allowed();
        let text = format!("fn f(x: Int) = {expr}\n");
        // A quarter of the 2 MiB of a spawned thread or a tokio worker.
        let parse = on_small_stack(512, move || walk_everything(parse(&text)));
        assert!(parse.errors.is_empty(), "{:?}", parse.errors);
        let ast::ItemKind::Fn(f) = &parse.file.items[0].kind else { panic!("a fn") };
        assert_eq!(f.body.depth().0, MAX_DEPTH);
        let one_more = format!("fn f(x: Int) = -{expr}\n");
        let errors = parse_with(&one_more, ParseLimits::default()).errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("257 levels"), "{}", errors[0].message);
    }

    #[test]
    fn a_lone_cr_ends_a_comment_and_a_line() {
        for text in [
            "// note\rcontrol hidden { require true }\n",
            "// note\r\ncontrol hidden { require true }\n",
            "enum A { x }\rcontrol hidden { require true }\r",
        ] {
            let parse = parse(text);
            assert!(parse.errors.is_empty(), "{text:?}: {:?}", parse.errors);
            let names: Vec<&str> = parse
                .file
                .items
                .iter()
                .filter_map(|i| match &i.kind {
                    ast::ItemKind::Control(r) => Some(r.name.name.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(names, ["hidden"], "{text:?}");
        }
        let parse = parse("/// The doc.\rcontrol c { require true }\n");
        assert_eq!(parse.file.items[0].docs.as_deref(), Some("The doc."));
        // A text cannot run over a line break, a lone `\r` included.
        assert!(!super::parse("fn f() = \"a\rb\"\n").errors.is_empty());
        assert_eq!(declaration_ranges("enum A { x }\renum B { y }"), [(0, 13), (13, 25)]);
        // Junk is cut at a lone `\r` too, and hides nothing after it.
        let parse = super::parse("enum A { x }\n@@ junk\renum B { y }\n");
        assert_eq!((parse.errors.len(), parse.file.items.len()), (1, 2), "{:?}", parse.errors);
        let formatted =
            crate::format::format("control a { require true }\rcontrol b { require true }\r").expect("formats");
        assert_eq!(formatted, "control a { require true }\ncontrol b { require true }\n");
    }

    #[test]
    fn keywords_are_not_names() {
        let parse = parse("fn if(x: Int) = x\n");
        assert_eq!(parse.errors.len(), 1);
        assert!(parse.errors[0].help.as_deref().unwrap_or("").contains("keyword"));
    }

    #[test]
    fn spans_are_relative_to_their_declaration() {
        let text = "enum A { x }\n\nenum B { y }\n";
        let parsed = parse(text);
        let item = &parsed.file.items[1];
        let ast::ItemKind::Enum(b) = &item.kind else { panic!() };
        assert_eq!(&text[item.absolute(b.name.span).range()], "B");
        // Moved down by blank lines, the declaration's tree is the same:
        // only where it starts differs.
        let moved = parse("enum A { x }\n\n\n\n\nenum B { y }\n");
        let moved_item = &moved.file.items[1];
        assert_eq!(moved_item.offset, item.offset + 3);
        assert_eq!(ast::Item { offset: item.offset, ..moved_item.clone() }, *item);
    }

    /// Parsing declaration by declaration and placing each where it starts
    /// gives what parsing the whole file gives (what `db::parse_file` does).
    fn assert_same(text: &str) {
        let whole = parse(text);
        let mut pieces = Parse::default();
        for (start, end) in declaration_ranges(text) {
            let mut piece = parse(&text[start..end]).placed_at(start as u32);
            pieces.file.items.append(&mut piece.file.items);
            pieces.errors.append(&mut piece.errors);
        }
        assert_eq!(whole, pieces, "{text}");
    }

    #[test]
    fn declarations_parsed_apart_equal_the_whole_file() {
        for (_, text) in crate::stdlib_texts() {
            assert_same(&text);
        }
        assert_same(
            "// head\nuse iso42001\n/// Doc.\nenum A { x, y }\nentity S { id: Text key, a: A = x, d: Date? }\n\
             control c \"t\" implements A.6.2.4 severity major for s: S where s.a == x {\n  let n = count(t for t: S where t.d is some)\n  require n > 0 because \"why\"\n}\n\
             exception e waives c for S \"k\" until 2026-01-01 approved by \"me\"\n\
             test \"t\" { as of 2026-01-01 given S { id: \"k\", a: y } expect c fails for \"k\" }\n",
        );
    }

    #[test]
    fn every_policy_in_the_repository_parses_the_same_apart() {
        fn visit(dir: &std::path::Path, count: &mut usize) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    visit(&path, count);
                } else if path.extension().is_some_and(|e| e == "aims") {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        assert_same(&text);
                        *count += 1;
                    }
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut count = 0;
        visit(&root.join("examples"), &mut count);
        visit(&root.join("tests").join("corpus"), &mut count);
        assert!(count > 10, "the examples and the broken-input corpus were read: {count}");
    }

    #[test]
    fn broken_declarations_parsed_apart_equal_the_whole_file() {
        assert_same("enum A { x, y }\ncontrol broken { require }\nenum B { z }\ncontrol also_broken for s: { }\n");
        assert_same("entity System {\n  id: Text key\n}\n@@ junk ##\ncontrol c for s: System { require true }\n");
        assert_same("requirement R \"t\"\nexclude R\nfact S { d: 2026-02-30, t: \"\\q\" }\n");
        assert_same(&format!("enum A {{ x }}\nfn f() = {}1{}\n", "(".repeat(100), ")".repeat(100)));
    }
}
