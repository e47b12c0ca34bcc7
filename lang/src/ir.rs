//! The checked program: every declaration resolved, every expression typed
//! and lowered to [`Ex`], the compact form the evaluator runs.
//!
//! Names are gone here: variables are frame slots, fields are indices,
//! enum variants are numbers. What remains as text is what a person must
//! read back (paths for "no evidence" reasons, the source of a `require`).

use std::sync::Arc;

use crate::diag::FileSpan;
use crate::num::{self, Decimal};
use crate::syntax::ast::{CmpOp, Severity};
use crate::time::{Date, Duration};

pub use crate::num::format as format_number;

/// The builtin functions and types: the one table the checker, the editor
/// and the REPL read. Outside the crate only the names, the types and the
/// generated reference are needed; the table's entries lower to the
/// crate-private evaluator.
pub mod builtins {
    pub use crate::builtins::{markdown, names, BuiltinType, TYPES};
}

macro_rules! id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

id! {
    /// An `enum`.
    EnumId;
    /// A `record`.
    RecordId;
    /// An `entity`.
    EntityId;
    /// A `scale`.
    ScaleId;
    /// A `matrix`.
    MatrixId;
    /// A `control` or an `audit`.
    RuleId;
    /// A `risk`.
    RiskId;
    /// An `objective`.
    ObjectiveId;
    /// A `fn`.
    FnId;
}

/// A static type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int,
    Number,
    Percent,
    Text,
    Date,
    Duration,
    Enum(EnumId),
    Scale(ScaleId),
    Level(MatrixId),
    Record(RecordId),
    /// A reference to an entity (by key in facts, by row while evaluating).
    Entity(EntityId),
    List(Box<Ty>),
    Opt(Box<Ty>),
    /// `[]`: a list whose element type is not known yet.
    EmptyList,
    /// The type of an expression that already has an error: never reported again.
    Error,
}

impl Ty {
    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Opt(_))
    }
    /// The type without its optional marker.
    pub fn definite(&self) -> &Ty {
        match self {
            Ty::Opt(inner) => inner,
            other => other,
        }
    }
    /// This type made optional (once).
    pub fn optional(self) -> Ty {
        match self {
            Ty::Opt(_) | Ty::Error => self,
            other => Ty::Opt(Box::new(other)),
        }
    }
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Number | Ty::Percent)
    }
}

/// A run-time value. Facts never hold `Unknown`; evaluation produces it
/// when it reads an absent optional fact.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An optional fact that is not recorded.
    Absent,
    /// A value that cannot be known, with the reason.
    Unknown(Arc<Unknown>),
    Bool(bool),
    Int(i64),
    /// An exact decimal (see [`crate::num`]).
    Number(Decimal),
    /// A fraction, exact: `5%` is 0.05.
    Percent(Decimal),
    Text(Arc<str>),
    Date(Date),
    Duration(Duration),
    Enum(EnumId, u32),
    Scale(ScaleId, u32),
    Level(MatrixId, u32),
    /// A reference to an entity by its key, as facts hold it.
    Ref(EntityId, Arc<str>),
    /// An entity bound while evaluating: its row in the fact store.
    Row(EntityId, u32),
    List(Arc<[Value]>),
    Record(Arc<[Value]>),
}

/// Why a value is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// An optional fact is not recorded: the path as written.
    NotRecorded(Arc<str>),
    /// An aggregate with no value to aggregate (`avg` of nothing).
    EmptyAggregate(&'static str),
    /// A reference to an entity that is not in the facts.
    MissingEntity { entity: Arc<str>, key: Arc<str> },
    /// Division by zero.
    DivisionByZero,
    /// The evaluation of one outcome took more steps than the project allows.
    BudgetExceeded(u64),
    /// The whole evaluation took more steps than the project allows.
    TotalBudgetExceeded(u64),
    /// A result outside the range of its type: what overflowed.
    OutOfRange(&'static str),
}

impl Unknown {
    /// Whether the value is unknown because the evaluation budget ran out
    /// (the evaluation stopped; nothing was decided).
    pub fn stops_evaluation(&self) -> bool {
        matches!(self, Unknown::BudgetExceeded(_) | Unknown::TotalBudgetExceeded(_))
    }

    /// Whether the reason is missing evidence (a fact not recorded, a
    /// reference to no fact, nothing to aggregate), as opposed to a result
    /// the language cannot give (out of range, division by zero, budget).
    pub fn is_missing_evidence(&self) -> bool {
        matches!(self, Unknown::NotRecorded(_) | Unknown::EmptyAggregate(_) | Unknown::MissingEntity { .. })
    }
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unknown::NotRecorded(path) => write!(f, "{path} is not recorded"),
            Unknown::EmptyAggregate(func) => write!(f, "{func} over no values"),
            Unknown::BudgetExceeded(limit) => {
                write!(f, "evaluation stopped after {limit} steps (the `eval_steps` limit of aims.toml)")
            }
            Unknown::MissingEntity { entity, key } => write!(f, "no {entity} with key \"{key}\""),
            Unknown::DivisionByZero => write!(f, "division by zero"),
            Unknown::OutOfRange(what) => write!(f, "{what} is out of range"),
            Unknown::TotalBudgetExceeded(limit) => write!(
                f,
                "the whole evaluation stopped after {limit} steps (the `eval_total_steps` limit of aims.toml)"
            ),
        }
    }
}

impl Value {
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }
    /// The number in a numeric value, exactly.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Int(n) => Some(num::from_int(*n)),
            Value::Number(n) | Value::Percent(n) => Some(*n),
            _ => None,
        }
    }
}

/// A lowered expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ex {
    Const(Value),
    /// The evaluation date.
    Today,
    /// A variable: a slot of the current frame.
    Local(u32, Arc<str>),
    /// A field of an entity or record; `path` is the source text (`s.owner.name`).
    Field {
        base: Box<Ex>,
        field: u32,
        path: Arc<str>,
    },
    Not(Box<Ex>),
    Neg(Box<Ex>),
    And(Box<Ex>, Box<Ex>),
    Or(Box<Ex>, Box<Ex>),
    Arith(Arith, Box<Ex>, Box<Ex>),
    Cmp(CmpOp, Box<Ex>, Box<Ex>),
    In {
        value: Box<Ex>,
        list: Box<Ex>,
        negated: bool,
    },
    Within(Box<Ex>, Box<Ex>),
    Is {
        value: Box<Ex>,
        some: bool,
    },
    Coalesce(Box<Ex>, Box<Ex>),
    If {
        branches: Vec<(Ex, Ex)>,
        otherwise: Box<Ex>,
    },
    List(Vec<Ex>),
    Record(Vec<Ex>),
    Quantifier {
        all: bool,
        slot: u32,
        source: Source,
        filter: Option<Box<Ex>>,
        body: Option<Box<Ex>>,
    },
    Aggregate {
        func: AggFn,
        slot: u32,
        source: Source,
        filter: Option<Box<Ex>>,
        value: Box<Ex>,
    },
    Call {
        func: FnId,
        args: Vec<Ex>,
    },
    Builtin(Builtin, Vec<Ex>),
}

impl Ex {
    /// The expressions directly inside this one, in evaluation order: a
    /// quantifier's or an aggregate's list source comes before its filter
    /// and body. A walker that only recurses calls this instead of matching
    /// every kind; a recursive walk stays within the parser's depth limit
    /// (`ParseLimits::max_depth`), since lowering keeps the tree's shape.
    pub fn children(&self) -> Vec<&Ex> {
        let mut out: Vec<&Ex> = Vec::new();
        match self {
            Ex::Const(_) | Ex::Today | Ex::Local(..) => {}
            Ex::Field { base: a, .. } | Ex::Not(a) | Ex::Neg(a) | Ex::Is { value: a, .. } => out.push(a),
            Ex::And(a, b)
            | Ex::Or(a, b)
            | Ex::Arith(_, a, b)
            | Ex::Cmp(_, a, b)
            | Ex::Within(a, b)
            | Ex::Coalesce(a, b)
            | Ex::In { value: a, list: b, .. } => {
                out.push(a);
                out.push(b);
            }
            Ex::If { branches, otherwise } => {
                for (c, t) in branches {
                    out.push(c);
                    out.push(t);
                }
                out.push(otherwise);
            }
            Ex::List(items) | Ex::Record(items) | Ex::Builtin(_, items) | Ex::Call { args: items, .. } => {
                out.extend(items)
            }
            Ex::Quantifier { source, filter, body, .. } => {
                out.extend(source.list());
                out.extend(filter.as_deref());
                out.extend(body.as_deref());
            }
            Ex::Aggregate { source, filter, value, .. } => {
                out.extend(source.list());
                out.extend(filter.as_deref());
                out.push(value);
            }
        }
        out
    }
}

/// What a quantifier or an aggregate ranges over.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Source {
    /// Every entity of a type in the facts.
    Entities(EntityId),
    /// The elements of a list.
    List(Box<Ex>),
}

impl Source {
    /// The list expression ranged over, if it is one.
    pub fn list(&self) -> Option<&Ex> {
        match self {
            Source::List(l) => Some(l),
            Source::Entities(_) => None,
        }
    }
}

/// An arithmetic operator, resolved by the checker to its operand types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    /// `date + duration`
    DatePlus,
    /// `date - duration`
    DateMinus,
    /// `date - date`, in days
    DateDiff,
}

/// An aggregate function over a source (`count`, `sum`, `avg`, `min`, `max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggFn {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggFn {
    /// The aggregate's name, from the table of builtins.
    pub fn as_str(self) -> &'static str {
        crate::builtins::BUILTINS.iter().find(|b| b.aggregate.is_some_and(|a| a.op == self)).map_or("", |b| b.name)
    }
}

/// Functions built into the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// `len(list)`
    Len,
    /// `days_since(date)`: days from the date to the evaluation date
    DaysSince,
    /// `abs(number)`
    Abs,
    /// `min(a, b)`
    Min2,
    /// `max(a, b)`
    Max2,
}

/// Where a declaration is and what it says about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub name: String,
    pub span: FileSpan,
    /// The span of the name alone.
    pub name_span: FileSpan,
    pub docs: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    pub decl: Decl,
    pub variants: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScaleDef {
    pub decl: Decl,
    pub values: Vec<(String, i64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatrixDef {
    pub decl: Decl,
    pub axes: Vec<ScaleId>,
    /// Levels in ascending order of score.
    pub levels: Vec<LevelDef>,
    /// Index of the appetite level, if declared.
    pub appetite: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LevelDef {
    pub name: String,
    pub low: i64,
    pub high: i64,
}

impl MatrixDef {
    /// The level a score falls in.
    pub fn level_of(&self, score: i64) -> Option<u32> {
        self.levels.iter().position(|l| l.low <= score && score <= l.high).map(|i| i as u32)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
    pub default: Option<Value>,
    pub span: FileSpan,
    pub docs: Option<String>,
}

/// A `record` or an `entity`.
#[derive(Clone, Debug, PartialEq)]
pub struct StructDef {
    pub decl: Decl,
    pub fields: Vec<FieldDef>,
    /// The key field (entities only).
    pub key: Option<u32>,
}

impl StructDef {
    pub fn field(&self, name: &str) -> Option<(u32, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name).map(|(i, f)| (i as u32, f))
    }
}

/// `map FROM to TO, ..`: requirement `from` covers each of `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct MapDef {
    pub from: String,
    pub to: Vec<String>,
    pub span: FileSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequirementDef {
    pub id: String,
    pub title: String,
    pub parent: Option<String>,
    pub span: FileSpan,
    pub docs: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Control,
    Audit,
}

/// A control or an audit rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDef {
    pub decl: Decl,
    pub kind: RuleKind,
    pub title: Option<String>,
    pub severity: Severity,
    pub implements: Vec<String>,
    pub clauses: Vec<String>,
    pub owner: Option<String>,
    pub subject: Option<SubjectDef>,
    pub(crate) steps: Vec<Step>,
    /// Frame size: variables and `let`s.
    pub(crate) slots: u32,
}

impl RuleDef {
    /// The rule's `require`s, in order (a failure's `index` points here).
    pub fn requirements(&self) -> Vec<&Requirement> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Require(r) => Some(r),
                Step::Let { .. } => None,
            })
            .collect()
    }
}

/// `for x: Entity where filter` (the variable is slot 0).
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectDef {
    pub var: String,
    pub entity: EntityId,
    pub(crate) filter: Option<Ex>,
}

/// One step of a rule's body, run in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    Let { slot: u32, value: Ex },
    Require(Requirement),
}

/// One `require` of a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    pub(crate) cond: Ex,
    pub because: Option<String>,
    /// The condition as written.
    pub source: String,
    pub span: FileSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RiskDef {
    pub decl: Decl,
    pub title: Option<String>,
    pub severity: Severity,
    pub owner: Option<String>,
    pub subject: Option<SubjectDef>,
    pub(crate) lets: Vec<(u32, Ex)>,
    pub matrix: MatrixId,
    /// One expression per matrix axis, in the matrix's order.
    pub(crate) axes: Vec<Ex>,
    /// Residual values per axis; `None` keeps the inherent value.
    pub(crate) residual: Vec<Option<Ex>>,
    pub treated_by: Vec<RuleId>,
    pub(crate) slots: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveDef {
    pub decl: Decl,
    pub title: Option<String>,
    pub severity: Severity,
    pub owner: Option<String>,
    pub clauses: Vec<String>,
    pub(crate) measure: Ex,
    pub baseline: Option<(Decimal, Date)>,
    pub target: (CmpOp, Decimal, Date),
    pub(crate) history: Option<HistoryDef>,
    pub(crate) slots: u32,
}

/// Recorded measurements of an objective (`slot` holds the variable).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HistoryDef {
    pub slot: u32,
    pub source: Source,
    pub filter: Option<Ex>,
    pub value: Ex,
    pub date: Ex,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionDef {
    pub decl: Decl,
    pub rule: RuleId,
    /// The entity type and key waived; `None` for a rule without subject.
    pub target: Option<(EntityId, String, FileSpan)>,
    pub until: Date,
    pub approved_by: Option<String>,
    pub because: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExcludeDef {
    pub requirement: String,
    pub because: String,
    pub span: FileSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    pub decl: Decl,
    pub params: Vec<(String, Ty)>,
    pub ret: Ty,
    pub(crate) body: Ex,
    pub(crate) slots: u32,
    /// What the body decides on without a word when it is absent (an
    /// `if` condition that may be unknown): such a function may not be
    /// called in a `where`.
    pub decides_on_absent: Option<String>,
}

/// A fact written in the language (`fact` or a test's `given`).
#[derive(Clone, Debug, PartialEq)]
pub struct FactDef {
    pub entity: EntityId,
    /// Values for every field in declaration order (defaults applied).
    pub values: Vec<Value>,
    pub span: FileSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TestDef {
    pub name: String,
    pub span: FileSpan,
    pub as_of: Option<Date>,
    pub given: Vec<FactDef>,
    pub expects: Vec<ExpectDef>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExpectDef {
    Outcome { rule: RuleId, outcome: OutcomeKind, entity: Option<String>, span: FileSpan },
    Risk { risk: RiskId, entity: Option<String>, level: u32, span: FileSpan },
    Objective { objective: ObjectiveId, status: ObjectiveStatus, span: FileSpan },
}

/// The outcome of a rule for one entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Pass,
    Fail,
    Waived,
    NotApplicable,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Pass => "pass",
            OutcomeKind::Fail => "fail",
            OutcomeKind::Waived => "waived",
            OutcomeKind::NotApplicable => "not_applicable",
        }
    }
}

/// Where an objective stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    Met,
    OnTrack,
    AtRisk,
    Missed,
    NoData,
}

impl ObjectiveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectiveStatus::Met => "met",
            ObjectiveStatus::OnTrack => "on_track",
            ObjectiveStatus::AtRisk => "at_risk",
            ObjectiveStatus::Missed => "missed",
            ObjectiveStatus::NoData => "no_data",
        }
    }
    pub fn parse(s: &str) -> Option<ObjectiveStatus> {
        Some(match s {
            "met" => ObjectiveStatus::Met,
            "on_track" => ObjectiveStatus::OnTrack,
            "at_risk" => ObjectiveStatus::AtRisk,
            "missed" => ObjectiveStatus::Missed,
            "no_data" => ObjectiveStatus::NoData,
            _ => return None,
        })
    }
}

/// The whole checked program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub enums: Vec<EnumDef>,
    pub records: Vec<StructDef>,
    pub entities: Vec<StructDef>,
    pub scales: Vec<ScaleDef>,
    pub matrices: Vec<MatrixDef>,
    pub requirements: Vec<RequirementDef>,
    pub rules: Vec<RuleDef>,
    pub risks: Vec<RiskDef>,
    pub objectives: Vec<ObjectiveDef>,
    pub exceptions: Vec<ExceptionDef>,
    pub excludes: Vec<ExcludeDef>,
    /// Crosswalk entries: a requirement and what it covers in other frameworks.
    pub maps: Vec<MapDef>,
    pub fns: Vec<FnDef>,
    pub facts: Vec<FactDef>,
    pub tests: Vec<TestDef>,
}

impl Program {
    pub fn entity(&self, id: EntityId) -> &StructDef {
        &self.entities[id.index()]
    }
    pub fn entity_by_name(&self, name: &str) -> Option<EntityId> {
        self.entities.iter().position(|e| e.decl.name == name).map(|i| EntityId(i as u32))
    }
    pub fn rule(&self, id: RuleId) -> &RuleDef {
        &self.rules[id.index()]
    }
    pub fn rule_by_name(&self, name: &str) -> Option<RuleId> {
        self.rules.iter().position(|r| r.decl.name == name).map(|i| RuleId(i as u32))
    }
    pub fn requirement(&self, id: &str) -> Option<&RequirementDef> {
        self.requirements.iter().find(|r| r.id == id)
    }

    /// A type as written in the language (`Date?`, `[Dataset]`).
    pub fn ty_name(&self, ty: &Ty) -> String {
        let name = |d: Option<&Decl>| d.map_or_else(|| "?".to_string(), |d| d.name.clone());
        match ty {
            Ty::Bool | Ty::Int | Ty::Number | Ty::Percent | Ty::Text | Ty::Date | Ty::Duration => {
                crate::builtins::type_name(ty).unwrap_or("?").into()
            }
            Ty::Enum(id) => name(self.enums.get(id.index()).map(|d| &d.decl)),
            Ty::Scale(id) => name(self.scales.get(id.index()).map(|d| &d.decl)),
            Ty::Level(id) => name(self.matrices.get(id.index()).map(|d| &d.decl)),
            Ty::Record(id) => name(self.records.get(id.index()).map(|d| &d.decl)),
            Ty::Entity(id) => name(self.entities.get(id.index()).map(|d| &d.decl)),
            Ty::List(el) => format!("[{}]", self.ty_name(el)),
            Ty::Opt(inner) => format!("{}?", self.ty_name(inner)),
            Ty::EmptyList => "[]".into(),
            Ty::Error => "{error}".into(),
        }
    }

    /// A value as a person reads it, given its static knowledge of names.
    pub fn display(&self, value: &Value) -> String {
        let mut out = String::new();
        self.write_value(&mut out, value);
        out
    }

    fn write_value(&self, out: &mut String, value: &Value) {
        use std::fmt::Write as _;
        match value {
            Value::Absent => out.push_str("none"),
            Value::Unknown(u) => {
                let _ = write!(out, "unknown ({u})");
            }
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Number(n) => out.push_str(&num::format(*n)),
            Value::Percent(p) => {
                let _ = write!(out, "{}%", num::format_percent(*p));
            }
            Value::Text(t) => {
                let _ = write!(out, "{t:?}");
            }
            Value::Date(d) => {
                let _ = write!(out, "{d}");
            }
            Value::Duration(d) => {
                let _ = write!(out, "{d}");
            }
            Value::Enum(e, v) => out.push_str(
                self.enums.get(e.index()).and_then(|e| e.variants.get(*v as usize)).map_or("?", |s| s.as_str()),
            ),
            Value::Scale(s, v) => out.push_str(
                self.scales.get(s.index()).and_then(|s| s.values.get(*v as usize)).map_or("?", |(n, _)| n.as_str()),
            ),
            Value::Level(m, l) => out.push_str(
                self.matrices.get(m.index()).and_then(|m| m.levels.get(*l as usize)).map_or("?", |l| l.name.as_str()),
            ),
            Value::Ref(_, key) => {
                let _ = write!(out, "{key:?}");
            }
            Value::Row(e, row) => {
                let _ = write!(out, "{}#{row}", self.entities.get(e.index()).map_or("?", |e| e.decl.name.as_str()));
            }
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_value(out, item);
                }
                out.push(']');
            }
            Value::Record(fields) => {
                out.push('{');
                for (i, item) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_value(out, item);
                }
                out.push('}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_the_direct_subexpressions_in_evaluation_order() {
        let local = || Ex::Local(0, Arc::from("x"));
        let aggregate = Ex::Aggregate {
            func: AggFn::Sum,
            slot: 0,
            source: Source::List(Box::new(Ex::Today)),
            filter: Some(Box::new(Ex::Const(Value::Bool(true)))),
            value: Box::new(local()),
        };
        assert_eq!(aggregate.children(), [&Ex::Today, &Ex::Const(Value::Bool(true)), &local()]);
        let over_entities =
            Ex::Quantifier { all: true, slot: 0, source: Source::Entities(EntityId(0)), filter: None, body: None };
        assert!(over_entities.children().is_empty());
        let call = Ex::Call { func: FnId(0), args: vec![local(), Ex::Today] };
        assert_eq!(call.children(), [&local(), &Ex::Today]);
    }
}
