//! What a name in a policy stands for.
//!
//! A [`Symbol`] identifies a declaration by its namespace and name, so
//! that occurrences in different files (and in successive versions of a
//! file) compare equal. Local variables are the exception: they are
//! identified by the place that binds them.

use crate::diag::FileId;
use crate::ir::Ty;
use crate::syntax::ast::Span;

/// A declared thing a name can refer to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// An `enum`, `record`, `entity`, `scale` or `matrix`.
    Type(String),
    /// A variant of an enum, a value of a scale or a level of a matrix.
    Variant { owner: String, name: String },
    /// A field of a record or an entity.
    Field { owner: String, name: String },
    /// A `control`, `audit`, `risk` or `objective` (they share one namespace).
    Rule(String),
    /// A `fn`.
    Function(String),
    /// An `exception`.
    Exception(String),
    /// A requirement identifier such as `A.6.2.4`.
    Requirement(String),
    /// A variable: a `for` or quantifier binding, a `let`, a parameter;
    /// identified by where it is bound.
    Local { file: FileId, at: Span, name: String },
}

impl Symbol {
    /// The name as written in the source.
    pub fn name(&self) -> &str {
        match self {
            Symbol::Type(n) | Symbol::Rule(n) | Symbol::Function(n) | Symbol::Exception(n) | Symbol::Requirement(n) => {
                n
            }
            Symbol::Variant { name, .. } | Symbol::Field { name, .. } | Symbol::Local { name, .. } => name,
        }
    }
}

/// One occurrence of a symbol in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The span of the name (for a requirement, of its identifier).
    pub span: Span,
    pub symbol: Symbol,
    /// Whether this occurrence declares the symbol.
    pub is_definition: bool,
}

/// How a variable came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
    /// `for s: Entity` of a rule.
    Subject,
    /// A quantifier, aggregate or `history` binding.
    Binder,
    /// `let`.
    Let,
    /// A parameter of a `fn`.
    Parameter,
}

/// A variable bound in a file, with its type where it is known.
#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    pub name: String,
    /// The span of the binding name.
    pub at: Span,
    pub kind: LocalKind,
    pub ty: Option<Ty>,
    /// The text where the variable can be used.
    pub scope: Span,
}

/// A `base.field` access, with the type of `base` where it is known (what
/// completion offers after a dot).
#[derive(Clone, Debug, PartialEq)]
pub struct MemberAccess {
    /// The span of the field name.
    pub field: Span,
    pub base: Option<Ty>,
}

/// A bare name in an expression, with the type its context expects (what
/// completion offers where a value is written).
#[derive(Clone, Debug, PartialEq)]
pub struct NameSite {
    pub span: Span,
    pub expected: Option<Ty>,
}
