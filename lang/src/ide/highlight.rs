//! Semantic highlighting: every token of a file classified, names by what
//! they refer to (a type, a variant, a field, a variable...).
//!
//! Tokens are read per declaration, as parsing is, and memoized by the
//! declaration's text (`ide::tokens`): after an edit only the edited
//! declaration is read again.

use crate::diag::FileId;
use crate::ir::Ty;
use crate::syntax::ast::Span;
use crate::syntax::tokens::TokenKind;

use super::types::Types;
use super::{LocalKind, Symbol, World};

/// What a token is, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HighlightKind {
    /// A keyword of the language.
    Keyword,
    /// A record or an entity.
    Struct,
    /// An enum, a scale or a matrix.
    Enum,
    /// A builtin type or a type that is not declared.
    Type,
    /// An enum variant, a scale value or a matrix level.
    EnumMember,
    /// A field after `.` or in a declaration.
    Property,
    /// A `fn` of the policy or a builtin.
    Function,
    /// A control, audit, risk, objective or exception.
    Rule,
    /// A variable bound by `for`, `let` or a quantifier.
    Variable,
    /// A parameter of a `fn`.
    Parameter,
    /// A requirement identifier (`A.6.2.4`).
    Requirement,
    /// A module path after `use`.
    Module,
    /// A text literal.
    String,
    /// A number, a percentage or a date literal.
    Number,
    /// A comment or a doc comment.
    Comment,
    /// An operator (`==`, `+`, unary `-`, …).
    Operator,
}

/// One classified token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Highlight {
    /// The token's bytes in the file.
    pub span: Span,
    /// What the token is.
    pub kind: HighlightKind,
    /// The token declares the name.
    pub declaration: bool,
    /// A doc comment.
    pub documentation: bool,
}

/// Every token of a policy file (punctuation left out), classified.
pub fn highlights(world: World, file: FileId) -> Vec<Highlight> {
    let Some(source) = world.file(file) else { return Vec::new() };
    let text = source.text(world.db);
    let index = world.index(file);
    let types = Types::new(world.program());
    let mut out = Vec::new();
    for token in super::tokens::file_tokens(world.db, source) {
        let span = token.span;
        let (kind, declaration) = match token.kind {
            TokenKind::Punct => continue,
            TokenKind::Keyword => (HighlightKind::Keyword, false),
            TokenKind::Ident | TokenKind::Field => {
                let found = index.and_then(|i| i.reference_at(span.start)).filter(|r| r.span == span);
                match found {
                    Some(r) => (name_kind(world, &types, &r.symbol), r.is_definition),
                    None if token.kind == TokenKind::Field => (HighlightKind::Property, false),
                    None if text[span.range()].starts_with(|c: char| c.is_ascii_uppercase()) => {
                        (HighlightKind::Type, false)
                    }
                    None => (HighlightKind::Variable, false),
                }
            }
            TokenKind::RequirementId => (HighlightKind::Requirement, false),
            TokenKind::Module => (HighlightKind::Module, false),
            TokenKind::Number | TokenKind::Percent | TokenKind::Date => (HighlightKind::Number, false),
            TokenKind::String => (HighlightKind::String, false),
            TokenKind::Operator => (HighlightKind::Operator, false),
            TokenKind::Comment => (HighlightKind::Comment, false),
            TokenKind::DocComment => {
                out.push(Highlight { span, kind: HighlightKind::Comment, declaration: false, documentation: true });
                continue;
            }
        };
        out.push(Highlight { span, kind, declaration, documentation: false });
    }
    debug_assert!(out.windows(2).all(|w| w[0].span.end <= w[1].span.start));
    out
}

fn name_kind(world: World, types: &Types, symbol: &Symbol) -> HighlightKind {
    match symbol {
        Symbol::Type(name) => match types.named(name) {
            Some(Ty::Record(_) | Ty::Entity(_)) => HighlightKind::Struct,
            Some(_) => HighlightKind::Enum,
            None => HighlightKind::Type,
        },
        Symbol::Variant { .. } => HighlightKind::EnumMember,
        Symbol::Field { .. } | Symbol::Measure(_) => HighlightKind::Property,
        Symbol::Rule(_) | Symbol::Exception(_) => HighlightKind::Rule,
        Symbol::Function(_) => HighlightKind::Function,
        Symbol::Requirement(_) => HighlightKind::Requirement,
        Symbol::Local { file, at, .. } => match world.index(*file).and_then(|i| i.local(*at)) {
            Some(local) if local.kind == LocalKind::Parameter => HighlightKind::Parameter,
            _ => HighlightKind::Variable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::engine;

    #[test]
    fn names_are_classified_by_what_they_refer_to() {
        let text = "/// Doc é.\nenum Status { live }\nentity S { id: Text key, status: Status }\n\
fn f(x: S) = x.status == live // note 😀\ncontrol c \"ü\" implements A.1 for s: S { require f(s) }\n";
        let (engine, ids) = engine(&[("p.aims", text)]);
        let found = highlights(World::new(engine.db(), engine.workspace()), ids[0]);
        let kind_of = |word: &str, nth: usize| {
            let at = text.match_indices(word).nth(nth).map(|(i, _)| i as u32).expect("word");
            found.iter().find(|h| h.span.start == at).map(|h| (h.kind, h.declaration))
        };
        assert_eq!(kind_of("/// Doc", 0).map(|k| k.0), Some(HighlightKind::Comment));
        assert_eq!(kind_of("Status", 0), Some((HighlightKind::Enum, true)));
        assert_eq!(kind_of("Status", 1), Some((HighlightKind::Enum, false)));
        assert_eq!(kind_of("live", 1), Some((HighlightKind::EnumMember, false)));
        assert_eq!(kind_of("x.", 0), Some((HighlightKind::Parameter, false)));
        assert_eq!(kind_of("status ==", 0), Some((HighlightKind::Property, false)));
        assert_eq!(kind_of("f(s)", 0), Some((HighlightKind::Function, false)));
        assert_eq!(kind_of("c \"", 0), Some((HighlightKind::Rule, true)));
        assert_eq!(kind_of("A.1", 0).map(|k| k.0), Some(HighlightKind::Requirement));
        assert_eq!(kind_of("\"ü\"", 0).map(|k| k.0), Some(HighlightKind::String));
        assert_eq!(kind_of("// note", 0).map(|k| k.0), Some(HighlightKind::Comment));
        assert_eq!(kind_of("Text", 0).map(|k| k.0), Some(HighlightKind::Type), "a builtin type");
    }
}
