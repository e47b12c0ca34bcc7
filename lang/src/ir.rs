//! The checked program: every declaration resolved, every expression typed
//! and lowered to `Ex`, the compact form the evaluator runs.
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
        pub struct $name(
            /// The position in its list of the [`Program`].
            pub u32,
        );
        impl $name {
            /// The position in its list of the [`Program`], as an index.
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
    /// A `measure`.
    MeasureId;
}

/// A static type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `Bool`: true or false.
    Bool,
    /// `Int`: a 64-bit whole number.
    Int,
    /// `Number`: an exact decimal.
    Number,
    /// `Percent`: a fraction written as a percentage (`5%`).
    Percent,
    /// `Text`: a string.
    Text,
    /// `Date`: a calendar day.
    Date,
    /// `Duration`: months and days (`90 days`, `1 year`).
    Duration,
    /// A declared `enum`.
    Enum(EnumId),
    /// A declared `scale`: ordered values with numbers.
    Scale(ScaleId),
    /// A level of a declared `matrix`.
    Level(MatrixId),
    /// A declared `record`: a value with fields, without identity.
    Record(RecordId),
    /// A reference to an entity (by key in facts, by row while evaluating).
    Entity(EntityId),
    /// `[T]`: a list.
    List(Box<Ty>),
    /// `T?`: a value that may be absent.
    Opt(Box<Ty>),
    /// `[]`: a list whose element type is not known yet.
    EmptyList,
    /// The type of an expression that already has an error: never reported again.
    Error,
}

impl Ty {
    /// Whether the type is `T?`.
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
    /// Whether the type is `Int`, `Number` or `Percent`.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Number | Ty::Percent)
    }
}

/// A run-time value. Facts hold `Unknown` only for a cell that could not
/// be read in data-quality mode ([`Unknown::Unreadable`]); evaluation
/// produces it when it reads an absent optional fact.
#[derive(Clone, Debug)]
pub enum Value {
    /// An optional fact that is not recorded.
    Absent,
    /// A value that cannot be known, with the reason.
    Unknown(Arc<Unknown>),
    /// A `Bool`.
    Bool(bool),
    /// An `Int`.
    Int(i64),
    /// An exact decimal (see `crate::num`).
    Number(Decimal),
    /// A fraction, exact: `5%` is 0.05.
    Percent(Decimal),
    /// A `Text`.
    Text(Arc<str>),
    /// A `Date`.
    Date(Date),
    /// A `Duration`.
    Duration(Duration),
    /// An enum variant: the enum and the variant's index in [`EnumDef::variants`].
    Enum(EnumId, u32),
    /// A scale value: the scale and the value's index in [`ScaleDef::values`].
    Scale(ScaleId, u32),
    /// A matrix level: the matrix and the level's index in [`MatrixDef::levels`].
    Level(MatrixId, u32),
    /// A reference to an entity by its key, as facts hold it.
    Ref(EntityId, Arc<str>),
    /// An entity bound while evaluating: its row in the fact store.
    Row(EntityId, u32),
    /// A list's elements, in order.
    List(Arc<[Value]>),
    /// A record's field values, in the record's field order.
    Record(Arc<[Value]>),
}

impl PartialEq for Value {
    /// As derived, but a list or record compared with itself (the same
    /// allocation) is equal without reading it: salsa compares a chunk's
    /// new outcomes with its last ones after every edit, and a failure
    /// observes its fact's lists as they are kept in the fact. (`Arc`'s
    /// own equality does so only for an `Eq` content, as texts are, and
    /// `Value` is not `Eq`.)
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (List(a), List(b)) | (Record(a), Record(b)) => Arc::ptr_eq(a, b) || a[..] == b[..],
            (Text(a), Text(b)) => a == b,
            (Absent, Absent) => true,
            (Unknown(a), Unknown(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Number(a), Number(b)) | (Percent(a), Percent(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (Duration(a), Duration(b)) => a == b,
            (Enum(e, a), Enum(f, b)) => e == f && a == b,
            (Scale(e, a), Scale(f, b)) => e == f && a == b,
            (Level(e, a), Level(f, b)) => e == f && a == b,
            (Ref(e, a), Ref(f, b)) => e == f && a == b,
            (Row(e, a), Row(f, b)) => e == f && a == b,
            // Values of two kinds differ (listed above: every kind equals
            // only itself).
            _ => false,
        }
    }
}

/// Why a value is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// An optional fact is not recorded: the path as written.
    NotRecorded(Arc<str>),
    /// An aggregate with no value to aggregate (`avg` of nothing).
    EmptyAggregate(&'static str),
    /// A reference to an entity that is not in the facts.
    MissingEntity {
        /// The entity type's name.
        entity: Arc<str>,
        /// The key that has no fact.
        key: Arc<str>,
    },
    /// Division by zero.
    DivisionByZero,
    /// The evaluation of one outcome took more steps than the project allows.
    BudgetExceeded(u64),
    /// The whole evaluation took more steps than the project allows.
    TotalBudgetExceeded(u64),
    /// A result outside the range of its type: what overflowed.
    OutOfRange(&'static str),
    /// A cell of a fact file that could not be read as its field's type,
    /// in a source read with `bad_values = "unknown"`: the value, what is
    /// wrong, and where (`` `maybe` is not a Bool, record 17, line 18,
    /// column `reviewed` ``).
    Unreadable(Arc<str>),
    /// A measure has no value for a fact: why, with the log and the window
    /// (`` no `Decision` row of `s1` from 2026-10-02 to 2026-11-01 in logs/decisions ``).
    Unmeasured(Arc<str>),
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
        matches!(
            self,
            Unknown::NotRecorded(_)
                | Unknown::EmptyAggregate(_)
                | Unknown::MissingEntity { .. }
                | Unknown::Unreadable(_)
                | Unknown::Unmeasured(_)
        )
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
            Unknown::Unreadable(what) => write!(f, "unreadable: {what}"),
            Unknown::Unmeasured(why) => write!(f, "not measured: {why}"),
            Unknown::TotalBudgetExceeded(limit) => write!(
                f,
                "the whole evaluation stopped after {limit} steps (the `eval_total_steps` limit of aims.toml)"
            ),
        }
    }
}

impl Value {
    /// A `Text` value of a string.
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }
    /// Whether the value is unknown (of any reason).
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
    /// The value of an organisation measure (`measure NAME = …` without
    /// `for`), read by its name.
    Measure(MeasureId),
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
    ///
    /// Most expressions have at most three, held inline: walks run at
    /// every block of an evaluation, and a vector per node was 1.5 % of it.
    pub fn children(&self) -> smallvec::SmallVec<[&Ex; 3]> {
        let mut out: smallvec::SmallVec<[&Ex; 3]> = smallvec::SmallVec::new();
        match self {
            Ex::Const(_) | Ex::Today | Ex::Local(..) | Ex::Measure(_) => {}
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// `lower(t)`
    Lower,
    /// `upper(t)`
    Upper,
    /// `trim(t)`
    Trim,
    /// `contains(t, part)`
    Contains,
    /// `starts_with(t, prefix)`
    StartsWith,
    /// `ends_with(t, suffix)`
    EndsWith,
    /// `split(t, separator)`
    Split,
    /// `matches(t, pattern)`: the pattern is a checked text literal
    Matches,
}

/// Where a declaration is and what it says about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// The declared name.
    pub name: String,
    /// The span of the whole declaration.
    pub span: FileSpan,
    /// The span of the name alone.
    pub name_span: FileSpan,
    /// Its `///` doc comment, without the markers, when it has one.
    pub docs: Option<String>,
}

/// An `enum`: a closed set of named variants.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    /// The enum's name, place and docs.
    pub decl: Decl,
    /// The variants' names, in declaration order (a [`Value::Enum`] holds the index).
    pub variants: Vec<String>,
}

/// A `scale`: ordered named values, each with the number a risk matrix scores.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleDef {
    /// The scale's name, place and docs.
    pub decl: Decl,
    /// Each value's name and number, in declaration order (a [`Value::Scale`] holds the index).
    pub values: Vec<(String, i64)>,
}

/// A risk `matrix`: axes (scales) whose numbers multiply to a score, and levels over score ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixDef {
    /// The matrix's name, place and docs.
    pub decl: Decl,
    /// The scales scored, in the order the matrix names them.
    pub axes: Vec<ScaleId>,
    /// Levels in ascending order of score.
    pub levels: Vec<LevelDef>,
    /// Index of the appetite level, if declared.
    pub appetite: Option<u32>,
}

/// One level of a matrix: a name for an inclusive range of scores.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelDef {
    /// The level's name (`low`, `high`, …).
    pub name: String,
    /// The lowest score in the level, inclusive.
    pub low: i64,
    /// The highest score in the level, inclusive.
    pub high: i64,
}

impl MatrixDef {
    /// The level a score falls in.
    pub fn level_of(&self, score: i64) -> Option<u32> {
        self.levels.iter().position(|l| l.low <= score && score <= l.high).map(|i| i as u32)
    }
}

/// One field of a record or an entity.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    /// The field's name.
    pub name: String,
    /// The field's type (`T?` when it may be absent from the facts).
    pub ty: Ty,
    /// The value used when a fact leaves the field out, when the schema declares one.
    pub default: Option<Value>,
    /// Where the field is declared.
    pub span: FileSpan,
    /// Its `///` doc comment, when it has one.
    pub docs: Option<String>,
    /// The `measure` that computes it from a log, when it is measured (fact
    /// files cannot give it; the engine fills it, see [`crate::Engine::measure`]).
    pub measure: Option<MeasureId>,
}

/// A `record` or an `entity`.
#[derive(Clone, Debug, PartialEq)]
pub struct StructDef {
    /// The record's or entity's name, place and docs.
    pub decl: Decl,
    /// Its fields, in declaration order (a field access holds the index).
    pub fields: Vec<FieldDef>,
    /// The key field (entities only).
    pub key: Option<u32>,
}

impl StructDef {
    /// The field of that name and its index.
    pub fn field(&self, name: &str) -> Option<(u32, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name).map(|(i, f)| (i as u32, f))
    }
}

/// A `measure`: a field of an entity computed from a log.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureDef {
    /// The measure's name (the field's), place and docs.
    pub decl: Decl,
    /// What it fills: a field of each fact of an entity, or one value for
    /// the organisation.
    pub target: MeasureTarget,
    /// The record type of the log's rows.
    pub record: Option<RecordId>,
    /// The query, once the declaration checked without error.
    pub plan: Option<crate::measure::MeasurePlan>,
}

/// What a measure fills.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasureTarget {
    /// A field of every fact of an entity (`measure NAME for s: ENTITY`).
    Field {
        /// The entity measured.
        entity: EntityId,
        /// The field it fills.
        field: u32,
    },
    /// One value for the organisation as a whole (`measure NAME = …`),
    /// read by the measure's name.
    Organisation {
        /// The value's type: the metric's, optional.
        ty: Ty,
    },
}

impl MeasureDef {
    /// The entity and field it fills, for a measure of each fact.
    pub fn field(&self) -> Option<(EntityId, u32)> {
        match self.target {
            MeasureTarget::Field { entity, field } => Some((entity, field)),
            MeasureTarget::Organisation { .. } => None,
        }
    }
}

/// `map FROM to TO, ..`: requirement `from` covers each of `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct MapDef {
    /// The requirement that covers the others.
    pub from: String,
    /// The requirements, usually of other frameworks, it covers.
    pub to: Vec<String>,
    /// Where the `map` is.
    pub span: FileSpan,
}

/// A `requirement` of a standard: an identifier, a title and its place in the standard's tree.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementDef {
    /// The identifier (`A.6.2.4`).
    pub id: String,
    /// The title as the standard words it.
    pub title: String,
    /// The requirement it is part of (`in A.6`), when it has one.
    pub parent: Option<String>,
    /// Where the requirement is declared.
    pub span: FileSpan,
    /// Its `///` doc comment, when it has one.
    pub docs: Option<String>,
}

/// Whether a rule is a `control` or an `audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A `control`: a rule the organisation operates.
    Control,
    /// An `audit`: a rule that checks the management system itself.
    Audit,
}

/// A control or an audit rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDef {
    /// The rule's name, place and docs.
    pub decl: Decl,
    /// Control or audit.
    pub kind: RuleKind,
    /// The title written after the name, when it has one.
    pub title: Option<String>,
    /// The severity of the findings its failures raise (`severity`).
    pub severity: Severity,
    /// The requirements it implements (`implements A.6.2.4, …`).
    pub implements: Vec<String>,
    /// The management-system clauses it evidences (`clause 9.2, …`).
    pub clauses: Vec<String>,
    /// Who is accountable for it (`owner "…"`), when named.
    pub owner: Option<String>,
    /// The entities it applies to (`for x: Entity where …`); `None`: once, for the organisation.
    pub subject: Option<SubjectDef>,
    /// Its `let`s and `require`s, in order: shared with the rule's own
    /// check (`db::placed_rules`), so that assembling the program after an
    /// edit copies no body of the rules it left alone.
    pub(crate) steps: Arc<[Step]>,
    /// Frame size: variables and `let`s.
    pub(crate) slots: u32,
}

impl RuleDef {
    /// The rule with the places of its `require`s blanked: what its
    /// evaluation depends on (see `db::rule_logic`).
    pub(crate) fn without_requirement_spans(mut self) -> RuleDef {
        self.steps = self
            .steps
            .iter()
            .map(|step| match step {
                Step::Require(r) => Step::Require(Requirement { span: Default::default(), ..r.clone() }),
                other => other.clone(),
            })
            .collect();
        self
    }

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
    /// The variable's name as written.
    pub var: String,
    /// The entity type ranged over.
    pub entity: EntityId,
    pub(crate) filter: Option<Arc<Ex>>,
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
    /// The `let`s bound before it (slot, value): a failure read through a
    /// `let` also lists what the `let` read.
    pub(crate) lets: Arc<[(u32, Ex)]>,
    /// The `because` text shown when the condition fails, when written.
    pub because: Option<String>,
    /// The condition as written.
    pub source: String,
    /// Where the `require` is.
    pub span: FileSpan,
}

/// A `risk`: scored on a matrix for each entity, before and after its treating controls.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskDef {
    /// The risk's name, place and docs.
    pub decl: Decl,
    /// The title written after the name, when it has one.
    pub title: Option<String>,
    /// The severity of the finding it raises when above appetite.
    pub severity: Severity,
    /// Who is accountable for it (`owner "…"`), when named.
    pub owner: Option<String>,
    /// The management-system clauses it evidences (`clause 6.1.2`).
    pub clauses: Vec<String>,
    /// The entities it is assessed for; `None`: once, for the organisation.
    pub subject: Option<SubjectDef>,
    pub(crate) lets: Vec<(u32, Ex)>,
    /// The matrix that scores it.
    pub matrix: MatrixId,
    /// One expression per matrix axis, in the matrix's order.
    pub(crate) axes: Vec<Ex>,
    /// Residual values per axis; `None` keeps the inherent value.
    pub(crate) residual: Vec<Option<Ex>>,
    /// The controls that treat it (`treated_by`): the residual values apply only when all of them pass.
    pub treated_by: Vec<RuleId>,
    pub(crate) slots: u32,
}

/// An `objective`: a measure, a target to reach by a date, and optionally a baseline and a history for the trend.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveDef {
    /// The objective's name, place and docs.
    pub decl: Decl,
    /// The title written after the name, when it has one.
    pub title: Option<String>,
    /// The severity of the finding it raises when missed.
    pub severity: Severity,
    /// Who is accountable for it (`owner "…"`), when named.
    pub owner: Option<String>,
    /// The management-system clauses it evidences.
    pub clauses: Vec<String>,
    pub(crate) measure: Ex,
    /// The measure's starting value and its date, when declared.
    pub baseline: Option<(Decimal, Date)>,
    /// The target: the comparison, the value, and the deadline.
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

/// An `exception`: a waiver of a rule for one entity (or the organisation) until a date.
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionDef {
    /// The exception's name, place and docs.
    pub decl: Decl,
    /// The rule it waives.
    pub rule: RuleId,
    /// The entity type and key waived; `None` for a rule without subject.
    pub target: Option<(EntityId, String, FileSpan)>,
    /// The last day it waives the rule.
    pub until: Date,
    /// Who approved it, when recorded.
    pub approved_by: Option<String>,
    /// Why it was granted, when written.
    pub because: Option<String>,
}

/// `exclude A.x because "…"`: a requirement declared not applicable, for the Statement of Applicability.
#[derive(Clone, Debug, PartialEq)]
pub struct ExcludeDef {
    /// The requirement excluded.
    pub requirement: String,
    /// Why it does not apply.
    pub because: String,
    /// Where the `exclude` is.
    pub span: FileSpan,
}

/// A `fn`: a named expression with typed parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    /// The function's name, place and docs.
    pub decl: Decl,
    /// Each parameter's name and type, in order.
    pub params: Vec<(String, Ty)>,
    /// The type of the result.
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
    /// The entity type the fact belongs to.
    pub entity: EntityId,
    /// Values for every field in declaration order (defaults applied).
    pub values: Vec<Value>,
    /// Where the fact is written.
    pub span: FileSpan,
}

/// A `test`: facts given, an evaluation date, and the outcomes expected (`aims test`).
#[derive(Clone, Debug, PartialEq)]
pub struct TestDef {
    /// The test's name.
    pub name: String,
    /// Where the test is.
    pub span: FileSpan,
    /// The evaluation date (`as of`), when given.
    pub as_of: Option<Date>,
    /// The facts the test evaluates against (`given`), instead of the project's.
    pub given: Vec<FactDef>,
    /// What it expects (`expect`), in order.
    pub expects: Vec<ExpectDef>,
}

/// One `expect` of a test.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectDef {
    /// `expect RULE is OUTCOME for "KEY"`: a rule's outcome for an entity.
    Outcome {
        /// The control or audit.
        rule: RuleId,
        /// The outcome expected.
        outcome: OutcomeKind,
        /// The entity's key; `None` for a rule without subject.
        entity: Option<String>,
        /// Where the `expect` is.
        span: FileSpan,
    },
    /// `expect risk RISK for "KEY" is LEVEL`: a risk's residual level for an entity.
    Risk {
        /// The risk.
        risk: RiskId,
        /// The entity's key; `None` for a risk without subject.
        entity: Option<String>,
        /// The residual level expected: an index into the matrix's [`MatrixDef::levels`].
        level: u32,
        /// Where the `expect` is.
        span: FileSpan,
    },
    /// `expect objective OBJECTIVE is STATUS`: where an objective stands.
    Objective {
        /// The objective.
        objective: ObjectiveId,
        /// The status expected.
        status: ObjectiveStatus,
        /// Where the `expect` is.
        span: FileSpan,
    },
}

/// The outcome of a rule for one entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Every `require` held.
    Pass,
    /// A `require` failed, or could not be decided for lack of evidence.
    Fail,
    /// It failed, but an active exception waives it.
    Waived,
    /// The rule's `where` filter leaves the entity out.
    NotApplicable,
}

impl OutcomeKind {
    /// The word reports and the language use (`pass`, `fail`, `waived`, `not_applicable`).
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
    /// The current value meets the target.
    Met,
    /// Not met yet, but the trend reaches the target by the deadline.
    OnTrack,
    /// Not met, the deadline not passed, and no trend that reaches the target by it.
    AtRisk,
    /// The deadline has passed without the target being met.
    Missed,
    /// The measure has no value to compare.
    NoData,
}

impl ObjectiveStatus {
    /// The word reports and tests use (`met`, `on_track`, `at_risk`, `missed`, `no_data`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectiveStatus::Met => "met",
            ObjectiveStatus::OnTrack => "on_track",
            ObjectiveStatus::AtRisk => "at_risk",
            ObjectiveStatus::Missed => "missed",
            ObjectiveStatus::NoData => "no_data",
        }
    }
    /// The status a word names, or `None` when it names none.
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
    /// The enums, in declaration order ([`EnumId`] indexes it).
    pub enums: Vec<EnumDef>,
    /// The records, in declaration order ([`RecordId`] indexes it).
    pub records: Vec<StructDef>,
    /// The entities (the fact schema), in declaration order ([`EntityId`] indexes it).
    pub entities: Vec<StructDef>,
    /// The scales ([`ScaleId`] indexes it).
    pub scales: Vec<ScaleDef>,
    /// The risk matrices ([`MatrixId`] indexes it).
    pub matrices: Vec<MatrixDef>,
    /// The requirements of every standard loaded (the stdlib's catalogues included).
    pub requirements: Vec<RequirementDef>,
    /// The controls and audits ([`RuleId`] indexes it).
    pub rules: Vec<RuleDef>,
    /// The risks ([`RiskId`] indexes it).
    pub risks: Vec<RiskDef>,
    /// The objectives ([`ObjectiveId`] indexes it).
    pub objectives: Vec<ObjectiveDef>,
    /// The exceptions.
    pub exceptions: Vec<ExceptionDef>,
    /// The requirements declared not applicable.
    pub excludes: Vec<ExcludeDef>,
    /// Crosswalk entries: a requirement and what it covers in other frameworks.
    pub maps: Vec<MapDef>,
    /// The functions ([`FnId`] indexes it).
    pub fns: Vec<FnDef>,
    /// The facts written in the policies (`fact`), loaded before the fact files.
    pub facts: Vec<FactDef>,
    /// The `test`s.
    pub tests: Vec<TestDef>,
    /// The measures ([`MeasureId`] indexes it).
    pub measures: Vec<MeasureDef>,
}

impl Program {
    /// The entity of an id.
    pub fn entity(&self, id: EntityId) -> &StructDef {
        &self.entities[id.index()]
    }
    /// The entity of that name.
    pub fn entity_by_name(&self, name: &str) -> Option<EntityId> {
        self.entities.iter().position(|e| e.decl.name == name).map(|i| EntityId(i as u32))
    }
    /// The control or audit of an id.
    pub fn rule(&self, id: RuleId) -> &RuleDef {
        &self.rules[id.index()]
    }
    /// The control or audit of that name.
    pub fn rule_by_name(&self, name: &str) -> Option<RuleId> {
        self.rules.iter().position(|r| r.decl.name == name).map(|i| RuleId(i as u32))
    }
    /// The requirement with that identifier (`A.6.2.4`).
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

    /// [`Program::display`] appended to `out`.
    pub(crate) fn write_value(&self, out: &mut String, value: &Value) {
        use std::fmt::Write as _;
        match value {
            Value::Absent => out.push_str("none"),
            Value::Unknown(u) => {
                let _ = write!(out, "unknown ({u})");
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => out.push_str(itoa::Buffer::new().format(*n)),
            Value::Number(n) => out.push_str(&num::format(*n)),
            Value::Percent(p) => {
                let _ = write!(out, "{}%", num::format_percent(*p));
            }
            Value::Text(t) => write_quoted(out, t),
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
            Value::Ref(_, key) => write_quoted(out, key),
            Value::Row(e, row) => {
                let _ = write!(out, "{}#{row}", self.entities.get(e.index()).map_or("?", |e| e.decl.name.as_str()));
            }
            Value::List(items) => {
                // Each element and what it holds is an allocation of its
                // own: asked for ahead, the waits for memory overlap (a
                // failure's observed list of records is the longest text a
                // report of 100,000 systems makes per outcome).
                out.push('[');
                for (i, item) in crate::prefetch::ahead(items.iter(), |item| crate::prefetch::value(item)).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    // The next element's own parts (a record's texts),
                    // now that the element itself has come.
                    if let Some(Value::List(next) | Value::Record(next)) = items.get(i + 1) {
                        next.iter().take(crate::prefetch::AHEAD).for_each(crate::prefetch::value);
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

/// `text` quoted as Rust's `Debug` quotes it (`"a\"b"`), without the
/// formatting machinery for the common case: a report of 100,000 systems
/// quotes hundreds of thousands of observed texts, nearly all plain ASCII.
fn write_quoted(out: &mut String, text: &str) {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        use std::fmt::Write as _;
        let _ = write!(out, "{text:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_equal_by_content_whether_or_not_they_share_an_allocation() {
        let record = |id: &str, ok: bool| Value::Record(Arc::from([Value::text(id), Value::Bool(ok)]));
        let list: Arc<[Value]> = Arc::from([record("a", true), record("b", false)]);
        let shared = Value::List(list.clone());
        assert_eq!(shared, Value::List(list));
        // Another allocation with the same content.
        assert_eq!(shared, Value::List(Arc::from([record("a", true), record("b", false)])));
        assert_ne!(shared, Value::List(Arc::from([record("a", true), record("b", true)])));
        assert_ne!(shared, Value::List(Arc::from([record("a", true)])));
        // A list and a record of the same elements are different values.
        assert_ne!(Value::Record(Arc::from([Value::Int(1)])), Value::List(Arc::from([Value::Int(1)])));
        let text: Arc<str> = Arc::from("x");
        assert_eq!(Value::Text(text.clone()), Value::Text(text));
        assert_eq!(Value::text("x"), Value::text("x"));
        assert_ne!(Value::text("x"), Value::text("y"));
        let half = crate::num::Decimal::new(5, 1);
        assert_eq!(Value::Number(half), Value::Number(crate::num::Decimal::new(50, 2)));
        assert_ne!(Value::Number(half), Value::Percent(half));
        assert_ne!(Value::Int(0), Value::Bool(false));
        assert_ne!(Value::Enum(EnumId(0), 1), Value::Scale(ScaleId(0), 1));
        assert_ne!(Value::Enum(EnumId(0), 1), Value::Enum(EnumId(1), 1));
        assert_eq!(Value::Absent, Value::Absent);
        assert_ne!(Value::Absent, Value::Unknown(Arc::new(Unknown::DivisionByZero)));
        assert_eq!(
            Value::Unknown(Arc::new(Unknown::DivisionByZero)),
            Value::Unknown(Arc::new(Unknown::DivisionByZero))
        );
    }

    #[test]
    fn a_text_is_quoted_as_debug_quotes_it() {
        let specials = [
            "",
            "plain ASCII ~",
            "a\"b",
            "back\\slash",
            "tab\t",
            "nl\n",
            "\u{7f}",
            "\u{1b}[31m",
            "é",
            "\u{202e}",
            "\u{301}x",
            "\0",
        ];
        for a in specials {
            for b in specials {
                let text = format!("{a}{b}");
                let mut out = String::new();
                write_quoted(&mut out, &text);
                assert_eq!(out, format!("{text:?}"), "{text:?}");
            }
        }
    }

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
        assert_eq!(aggregate.children().as_slice(), [&Ex::Today, &Ex::Const(Value::Bool(true)), &local()]);
        let over_entities =
            Ex::Quantifier { all: true, slot: 0, source: Source::Entities(EntityId(0)), filter: None, body: None };
        assert!(over_entities.children().is_empty());
        let call = Ex::Call { func: FnId(0), args: vec![local(), Ex::Today] };
        assert_eq!(call.children().as_slice(), [&local(), &Ex::Today]);
    }
}
