//! The typed syntax tree of one `.aims` file.
//!
//! Built from pest pairs in exactly one place (`build.rs`); every node
//! carries the byte span it came from, relative to the start of its
//! declaration ([`Item::offset`]; [`Item::absolute`] converts).
//! The tree is plain data: no names are resolved and no types are known
//! here (that is `sema`'s job).

use crate::time::{Date, Duration};

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }
    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
    /// This span moved `by` bytes to the right.
    pub fn shifted(self, by: u32) -> Span {
        Span { start: self.start + by, end: self.end + by }
    }
    /// A span relative to a declaration that starts `offset` bytes into its
    /// file, as a range of the file. The empty default span the builder
    /// gives a part that is missing stays as it is (nothing to point at).
    pub fn at(self, offset: u32) -> Span {
        if self == Span::default() {
            self
        } else {
            self.shifted(offset)
        }
    }
    /// The span as a `usize` range, for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A text literal after escape processing.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    pub value: String,
    pub span: Span,
}

/// A requirement identifier such as `A.6.2.4` or `9.3`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReqRef {
    pub id: String,
    pub span: Span,
}

/// A parsed file: its declarations in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceFile {
    pub items: Vec<Item>,
}

/// One top-level declaration with its doc comment.
///
/// Every span inside an item (its own `span` included) is relative to
/// `offset`, where the declaration starts in its file: moving a
/// declaration changes its offset and nothing else, so the tree of a
/// declaration that only moved compares equal. [`Item::absolute`] is the
/// one place a span becomes an offset into the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The `///` lines above the declaration, joined with newlines.
    pub docs: Option<String>,
    /// Where the declaration starts in its file, in bytes.
    pub offset: u32,
    pub span: Span,
    pub kind: ItemKind,
}

impl Item {
    /// A span of this declaration as a range of its file.
    pub fn absolute(&self, span: Span) -> Span {
        span.at(self.offset)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Use(UseDecl),
    Enum(EnumDecl),
    Record(StructDecl),
    Entity(StructDecl),
    Extend(ExtendDecl),
    Fact(FactDecl),
    Requirement(RequirementDecl),
    Control(RuleDecl),
    Audit(RuleDecl),
    Scale(ScaleDecl),
    Matrix(MatrixDecl),
    Appetite(AppetiteDecl),
    Risk(RiskDecl),
    Objective(ObjectiveDecl),
    Exception(ExceptionDecl),
    Exclude(ExcludeDecl),
    Map(MapDecl),
    Fn(FnDecl),
    Test(TestDecl),
    Measure(MeasureDecl),
}

/// `use iso42001.annex_a`
#[derive(Clone, Debug, PartialEq)]
pub struct UseDecl {
    pub path: String,
    pub span: Span,
}

/// `enum RiskTier { minimal, limited, high }`
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    pub name: Ident,
    pub variants: Vec<Variant>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub docs: Option<String>,
    pub name: Ident,
}

/// `entity` and `record` share their shape.
#[derive(Clone, Debug, PartialEq)]
pub struct StructDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
}

/// `extend AISystem { domain: Domain }`: fields added to an entity or
/// record, or variants added to an enum, declared elsewhere.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtendDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    pub variants: Vec<Variant>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub docs: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub is_key: bool,
    pub default: Option<Expr>,
}

/// A type as written: `Text`, `Date?`, `[Dataset]`.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    Named { name: Ident, optional: bool, span: Span },
    List { element: Box<TypeExpr>, optional: bool, span: Span },
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named { span, .. } | TypeExpr::List { span, .. } => *span,
        }
    }
}

/// `measure approval_gap for s: AISystem = parity_difference(d.approved,
/// d.group) over d: Decision where d.system == s.id and d.at within 30 days`:
/// a value of each fact of an entity, computed over the rows of a log.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureDecl {
    pub name: Ident,
    /// The variable of the entity measured and the entity (`s`,
    /// `AISystem`); `None`: one value for the organisation.
    pub subject: Option<(Ident, Ident)>,
    /// The metric: a call of one of the metrics (`rate(d.approved)`).
    pub value: Expr,
    /// The variable of a row of the log (`d`).
    pub row: Ident,
    /// The record type of the log's rows (`Decision`).
    pub record: Ident,
    /// Which rows count: the join on the entity's key, a window, filters.
    pub filter: Option<Expr>,
}

/// `fact AISystem { id: "x", ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct FactDecl {
    pub entity: Ident,
    pub fields: Vec<FieldInit>,
    pub body_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    pub name: Ident,
    pub value: Expr,
}

/// `requirement A.6.2.4 "Verification and validation" in A.6`
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementDecl {
    pub id: ReqRef,
    pub title: Text,
    pub parent: Option<ReqRef>,
}

/// Severity of a finding, as an auditor grades it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A major nonconformity.
    Major,
    /// A minor nonconformity.
    Minor,
    /// An observation (an opportunity for improvement).
    Observation,
}

impl Severity {
    /// The word the language and the reports use for it (`major`, `minor`,
    /// `observation`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Major => "major",
            Severity::Minor => "minor",
            Severity::Observation => "observation",
        }
    }

    /// The severity a word names, or `None` when it names none.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "major" => Some(Severity::Major),
            "minor" => Some(Severity::Minor),
            "observation" => Some(Severity::Observation),
            _ => None,
        }
    }
}

/// The header clauses shared by controls, audits, risks and objectives.
/// Which clauses a declaration may carry is checked in `sema`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleHeader {
    pub implements: Vec<ReqRef>,
    pub clauses: Vec<ReqRef>,
    pub severity: Option<(Severity, Span)>,
    pub owner: Option<Text>,
    pub subject: Option<Subject>,
    /// Spans of the header clauses, keyword first, to point at misplaced ones.
    pub clause_spans: Vec<(&'static str, Span)>,
}

/// `for s: AISystem where <filter>`
#[derive(Clone, Debug, PartialEq)]
pub struct Subject {
    pub var: Ident,
    pub entity: Ident,
    pub filter: Option<Expr>,
}

/// `control` and `audit`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    pub name: Ident,
    pub title: Option<Text>,
    pub header: RuleHeader,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Let { name: Ident, value: Expr, span: Span },
    Require { cond: Expr, because: Option<Text>, span: Span },
}

/// `scale Likelihood { rare: 1, ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleDecl {
    pub name: Ident,
    pub values: Vec<(Ident, i64)>,
}

/// `matrix RiskLevel = Likelihood * Impact { low: 1..4, ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixDecl {
    pub name: Ident,
    pub axes: Vec<Ident>,
    pub levels: Vec<LevelDecl>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LevelDecl {
    pub name: Ident,
    pub low: i64,
    pub high: i64,
    pub span: Span,
}

/// `appetite medium` or `appetite RiskLevel.medium`
#[derive(Clone, Debug, PartialEq)]
pub struct AppetiteDecl {
    pub matrix: Option<Ident>,
    pub level: Ident,
}

/// `risk name "title" for s: T where .. { likelihood: .., treated by .. }`
#[derive(Clone, Debug, PartialEq)]
pub struct RiskDecl {
    pub name: Ident,
    pub title: Option<Text>,
    pub header: RuleHeader,
    pub lets: Vec<Stmt>,
    pub axes: Vec<(Ident, Expr)>,
    pub residual: Vec<(Ident, Expr)>,
    pub treated_by: Vec<Ident>,
}

/// `objective name "title" { measure .. baseline .. target .. }`
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveDecl {
    pub name: Ident,
    pub title: Option<Text>,
    pub header: RuleHeader,
    pub measures: Vec<Expr>,
    pub baselines: Vec<(Expr, Date, Span)>,
    pub targets: Vec<Target>,
    pub histories: Vec<History>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub op: CmpOp,
    pub value: Expr,
    pub deadline: Date,
    pub span: Span,
}

/// `history m.value at m.date for m: Measurement where ..`
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    pub value: Expr,
    pub date: Expr,
    pub binder: Binder,
    pub filter: Option<Expr>,
    pub span: Span,
}

/// `exception name waives control for Entity "key" until .. approved by .. because ..`
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionDecl {
    pub name: Ident,
    pub waives: Option<Ident>,
    pub target: Option<(Ident, Text)>,
    pub until: Option<(Date, Span)>,
    pub approved_by: Option<Text>,
    pub because: Option<Text>,
}

/// `exclude A.10.4 because ".."`
#[derive(Clone, Debug, PartialEq)]
pub struct ExcludeDecl {
    pub requirements: Vec<ReqRef>,
    pub because: Option<Text>,
}

/// `map A.5.2 to MAP-1.1, GOVERN-4.1`: a crosswalk entry.
#[derive(Clone, Debug, PartialEq)]
pub struct MapDecl {
    pub from: ReqRef,
    pub to: Vec<ReqRef>,
}

/// `fn name(p: T, ..) = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<(Ident, TypeExpr)>,
    pub body: Expr,
}

/// `test "name" { as of .. given .. expect .. }`
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: Text,
    pub as_of: Option<(Date, Span)>,
    pub given: Vec<FactDecl>,
    pub expects: Vec<Expectation>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    Outcome { rule: Ident, outcome: Ident, entity: Option<Text>, span: Span },
    Risk { risk: Ident, entity: Option<Text>, level: Ident, span: Span },
    Objective { objective: Ident, status: Ident, span: Span },
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// The expressions directly inside this one, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = Vec::new();
        fn binder(b: &Binder) -> Option<&Expr> {
            match &b.source {
                BinderSource::List(e) => Some(e),
                BinderSource::Entity(_) => None,
            }
        }
        match &self.kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Number(_)
            | ExprKind::Percent(_)
            | ExprKind::Text(_)
            | ExprKind::Date(_)
            | ExprKind::Duration(_)
            | ExprKind::Today
            | ExprKind::Name(_) => {}
            ExprKind::Field(e, _) | ExprKind::Unary(_, e) | ExprKind::Paren(e) | ExprKind::Is { value: e, .. } => {
                out.push(e)
            }
            ExprKind::Call(_, args) | ExprKind::List(args) => out.extend(args),
            ExprKind::Record(fields) => out.extend(fields.iter().map(|f| &f.value)),
            ExprKind::Aggregate { value, binder: b, filter, .. } => {
                out.push(value);
                out.extend(binder(b));
                out.extend(filter.as_deref());
            }
            ExprKind::Binary(_, l, r)
            | ExprKind::Compare(_, l, r)
            | ExprKind::Within(l, r)
            | ExprKind::In { value: l, collection: r, .. } => {
                out.push(l);
                out.push(r);
            }
            ExprKind::If { branches, otherwise } => {
                for (c, t) in branches {
                    out.push(c);
                    out.push(t);
                }
                out.push(otherwise);
            }
            ExprKind::Exists { binder: b, filter } => {
                out.extend(binder(b));
                out.extend(filter.as_deref());
            }
            ExprKind::All { binder: b, filter, body } => {
                out.extend(binder(b));
                out.extend(filter.as_deref());
                out.push(body);
            }
        }
        out
    }

    /// Every expression of the tree, this one first, in source order
    /// (pre-order). Walked with an explicit stack, so a tree of any depth
    /// does not grow the thread's stack.
    pub fn walk(&self) -> impl Iterator<Item = &Expr> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let e = stack.pop()?;
            stack.extend(e.children().into_iter().rev());
            Some(e)
        })
    }

    /// Drops a tree of any depth without recursion (the derived drop
    /// recurses once per level).
    pub fn dismantle(self) {
        let mut stack = vec![self];
        let binder = |b: Binder, stack: &mut Vec<Expr>| {
            if let BinderSource::List(e) = b.source {
                stack.push(*e);
            }
        };
        while let Some(mut e) = stack.pop() {
            match std::mem::replace(&mut e.kind, ExprKind::Today) {
                ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Number(_)
                | ExprKind::Percent(_)
                | ExprKind::Text(_)
                | ExprKind::Date(_)
                | ExprKind::Duration(_)
                | ExprKind::Today
                | ExprKind::Name(_) => {}
                ExprKind::Field(x, _) | ExprKind::Unary(_, x) | ExprKind::Paren(x) | ExprKind::Is { value: x, .. } => {
                    stack.push(*x)
                }
                ExprKind::Call(_, args) | ExprKind::List(args) => stack.extend(args),
                ExprKind::Record(fields) => stack.extend(fields.into_iter().map(|f| f.value)),
                ExprKind::Aggregate { value, binder: b, filter, .. } => {
                    stack.push(*value);
                    binder(b, &mut stack);
                    stack.extend(filter.map(|f| *f));
                }
                ExprKind::Binary(_, l, r)
                | ExprKind::Compare(_, l, r)
                | ExprKind::Within(l, r)
                | ExprKind::In { value: l, collection: r, .. } => {
                    stack.push(*l);
                    stack.push(*r);
                }
                ExprKind::If { branches, otherwise } => {
                    for (c, t) in branches {
                        stack.push(c);
                        stack.push(t);
                    }
                    stack.push(*otherwise);
                }
                ExprKind::Exists { binder: b, filter } => {
                    binder(b, &mut stack);
                    stack.extend(filter.map(|f| *f));
                }
                ExprKind::All { binder: b, filter, body } => {
                    binder(b, &mut stack);
                    stack.extend(filter.map(|f| *f));
                    stack.push(*body);
                }
            }
        }
    }

    /// How many expressions deep the tree is (a literal is 1), and the
    /// span of a deepest one. Measured without recursion: it is what keeps
    /// every recursive walk of the tree (clone, drop, comparison, lowering,
    /// evaluation, printing) within a known depth.
    pub fn depth(&self) -> (usize, Span) {
        let mut deepest = (0, self.span);
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            if d > deepest.0 {
                deepest = (d, e.span);
            }
            stack.extend(e.children().into_iter().map(|c| (c, d + 1)));
        }
        deepest
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Bool(bool),
    Int(i64),
    /// A decimal written with a point, exact.
    Number(crate::num::Decimal),
    /// `5%`, stored as the exact fraction 0.05.
    Percent(crate::num::Decimal),
    Text(String),
    Date(Date),
    Duration(Duration),
    /// The evaluation date.
    Today,
    Name(Ident),
    Field(Box<Expr>, Ident),
    Call(Ident, Vec<Expr>),
    Aggregate {
        func: Ident,
        value: Box<Expr>,
        binder: Binder,
        filter: Option<Box<Expr>>,
    },
    List(Vec<Expr>),
    Record(Vec<FieldInit>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    In {
        value: Box<Expr>,
        collection: Box<Expr>,
        negated: bool,
    },
    Within(Box<Expr>, Box<Expr>),
    Is {
        value: Box<Expr>,
        some: bool,
    },
    If {
        branches: Vec<(Expr, Expr)>,
        otherwise: Box<Expr>,
    },
    Exists {
        binder: Binder,
        filter: Option<Box<Expr>>,
    },
    All {
        binder: Binder,
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    Paren(Box<Expr>),
}

/// `x: Entity` (every entity of a type) or `x in list`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binder {
    pub var: Ident,
    pub source: BinderSource,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BinderSource {
    Entity(Ident),
    List(Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
    Coalesce,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Coalesce => "??",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
    pub fn parse(s: &str) -> Option<CmpOp> {
        Some(match s {
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            _ => return None,
        })
    }
    /// Whether `ordering` (of left against right) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }
}
