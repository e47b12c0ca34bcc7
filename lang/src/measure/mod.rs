//! Measures: a value of each fact of an entity computed over the rows of a
//! log (decisions, predictions, requests), declared with `measure` and read
//! by rules as a field of the entity.
//!
//! The checker lowers each `measure` to a [`MeasurePlan`]: the record whose
//! log is read, the column that holds the entity's key, the window, the
//! filters and the metric, all by column name. A [`MeasureRunner`] computes
//! every plan for every entity at once (the `aims-monitor` crate runs them
//! on Apache DataFusion: one query per log, grouped by the key column);
//! the engine writes the values into the measured fields
//! ([`crate::Engine::measure`]). This crate runs no query itself: it knows
//! plans and log files, not query engines.

pub mod cluster;
pub mod logs;
pub mod metrics;

use std::fmt;

use crate::diag::Diagnostic;
use crate::time::{Date, Duration};

/// Exact decimals, as measures give their values.
pub use crate::num::Decimal;
/// A comparison of a column with a value.
pub use crate::syntax::ast::CmpOp;

pub use cluster::Cluster;
pub use logs::{LogFile, LogFormat, LogSource};
pub use metrics::{MetricKind, MetricResult};

/// What `aims.toml` says about measuring: the logs (`[[logs]]`) and the
/// cluster that reads them (`[cluster]`).
#[derive(Clone, Debug, Default)]
pub struct Monitoring {
    /// The logs that measures read.
    pub logs: Vec<LogSource>,
    /// Why `[[logs]]` tables could not be resolved to files (a missing
    /// folder, a link out of the project): reported when measuring, so a
    /// project whose log is missing still loads.
    pub problems: Vec<Diagnostic>,
    /// The Ballista cluster measures run on (`None`: in process).
    pub cluster: Option<Cluster>,
}

/// The key under which a runner gives the value of a measure of the
/// organisation (the key of the organisation's outcomes).
pub const ORGANISATION: &str = "-";

/// Why a measure of the organisation has no value before any measuring
/// (shown as `not measured: the logs have not been read`).
pub const NOT_YET_MEASURED: &str = "the logs have not been read";

/// The value of the measure of the organisation `index` among `values`
/// (the workspace's `measured` input), unmeasured when none was set.
pub(crate) fn organisation_value(values: &[crate::ir::Value], index: usize) -> crate::ir::Value {
    values.get(index).cloned().unwrap_or_else(|| {
        crate::ir::Value::Unknown(std::sync::Arc::new(crate::ir::Unknown::Unmeasured(std::sync::Arc::from(
            NOT_YET_MEASURED,
        ))))
    })
}

/// A `measure` as a query: what to read, which rows, and what to compute.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MeasurePlan {
    /// The measure's name (the field it fills).
    pub measure: String,
    /// The entity measured (`None`: the organisation).
    pub entity: Option<String>,
    /// The record type of the log's rows; `[[logs]]` in aims.toml names
    /// its files.
    pub record: String,
    /// The log's column holding the key of the entity a row belongs to
    /// (`None`: the organisation's measure counts every row, under the key
    /// [`ORGANISATION`]).
    pub key_column: Option<String>,
    /// The rows' date column and how far back from `as_of` rows count.
    pub window: Option<Window>,
    /// Conditions every row counted meets (all of them).
    pub filters: Vec<Filter>,
    /// What is computed over the rows of each entity.
    pub metric: MetricKind,
    /// The metric's column arguments, in the order of its parameters.
    pub columns: Vec<String>,
    /// `percentile`'s rank, from 0 to 100.
    pub rank: Option<Decimal>,
    /// `psi`'s bin edges for a numeric column, increasing (empty: the
    /// column's values are the categories).
    pub edges: Vec<Decimal>,
}

impl MeasurePlan {
    /// The metric as a call of its columns: `percentile(latency_ms, 95)`.
    pub fn metric_text(&self) -> String {
        let name = metrics::of_kind(self.metric).name;
        let mut args: Vec<String> = self.columns.clone();
        args.extend(self.rank.map(|r| r.to_string()));
        if !self.edges.is_empty() {
            args.push(format!("[{}]", self.edges.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")));
        }
        format!("{name}({})", args.join(", "))
    }

    /// The type of the measure's value.
    pub fn result(&self) -> MetricResult {
        metrics::of_kind(self.metric).result
    }

    /// Every column the plan reads: key, window, filters, metric.
    pub fn read_columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.key_column.iter().map(String::as_str).collect();
        out.extend(self.window.as_ref().map(|w| w.column.as_str()));
        out.extend(self.filters.iter().map(Filter::column));
        out.extend(self.columns.iter().map(String::as_str));
        let mut seen = std::collections::HashSet::new();
        out.retain(|c| seen.insert(*c));
        out
    }
}

/// `d.decided_at within 30 days`: the rows whose date lies in the window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// The date (or timestamp) column.
    pub column: String,
    /// How far back from `as_of`.
    pub duration: Duration,
}

impl Window {
    /// The first and last day of the window as of `as_of`, both included
    /// (the language's `within`: not after `as_of`, not before `as_of`
    /// minus the duration).
    pub fn days(&self, as_of: Date) -> (Date, Date) {
        (as_of.minus(self.duration), as_of)
    }

    /// The period of the same number of days just before the window (what
    /// `psi` compares the window with).
    pub fn previous_days(&self, as_of: Date) -> (Date, Date) {
        let (first, last) = self.days(as_of);
        let length = last.days_since(first) + 1;
        (first.add_days(-length), first.add_days(-1))
    }
}

/// A condition on one column of a row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Filter {
    /// `d.channel == "online"`, `d.score >= 600`.
    Compare {
        /// The column.
        column: String,
        /// The comparison, column first.
        op: CmpOp,
        /// The value written in the policy.
        value: Literal,
    },
    /// `d.region in ["eu", "uk"]`, `not in`.
    OneOf {
        /// The column.
        column: String,
        /// The values written in the policy.
        values: Vec<Literal>,
        /// `not in`.
        negated: bool,
    },
    /// `d.automated` (true) or `not d.automated` (false).
    Flag {
        /// The `Bool` column.
        column: String,
        /// The value it must have.
        value: bool,
    },
    /// `d.label is some` / `is none`.
    Recorded {
        /// The column.
        column: String,
        /// `is some`.
        some: bool,
    },
}

impl Filter {
    /// The column the condition reads.
    pub fn column(&self) -> &str {
        match self {
            Filter::Compare { column, .. }
            | Filter::OneOf { column, .. }
            | Filter::Flag { column, .. }
            | Filter::Recorded { column, .. } => column,
        }
    }
}

/// A value written in a measure's policy, as the log stores it (an enum's
/// variant is its name, as text).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Literal {
    /// `true`, `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number or a percentage (as a fraction).
    Number(Decimal),
    /// A text, or an enum's variant.
    Text(String),
    /// A date.
    Date(Date),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Number(n) => f.write_str(&crate::num::format(*n)),
            Literal::Text(t) => f.write_str(&crate::syntax::quote(t)),
            Literal::Date(d) => write!(f, "{d}"),
        }
    }
}

/// The value of one measure for one fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasureValue {
    /// The value, or why the rows give none (`"fewer than two groups"`).
    pub value: Result<Decimal, String>,
    /// How many rows were counted (in the window, past the filters).
    pub rows: u64,
}

/// Where the values of one measure came from, as the report traces them:
/// the log, its files, the window and, for each fact, the value and the
/// rows it was computed over.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Measurement {
    /// The measure's name (the field it fills).
    pub measure: String,
    /// The entity measured (absent: the organisation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The metric and the columns it reads (`parity_difference(approved, applicant_group)`).
    pub metric: String,
    /// The log, as `aims.toml` names it.
    pub log: String,
    /// Every file of the log, relative to the project folder.
    pub files: Vec<String>,
    /// The first and last day of the window, when the measure has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<MeasuredWindow>,
    /// Each fact that has rows in the window, in key order: a fact without
    /// one is not listed (its field says so).
    pub values: Vec<MeasuredValue>,
}

/// The days a measure counted rows from, both included.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MeasuredWindow {
    /// The first day.
    pub from: String,
    /// The last day (the evaluation date).
    pub to: String,
}

/// One fact's measured value and the rows behind it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MeasuredValue {
    /// The fact's key.
    pub key: String,
    /// The value as the report shows it, or why the rows give none.
    pub value: String,
    /// Whether the rows gave a value.
    pub known: bool,
    /// How many rows were counted (in the window, past the filters).
    pub rows: u64,
}

impl Measurement {
    /// The trace of `key`'s value, one line: `parity_difference(approved,
    /// applicant_group) over 412345 rows from
    /// 2026-10-02 to 2026-11-01 in logs/decisions (3 files)`; `None` when
    /// the fact had no row.
    pub fn trace(&self, key: &str) -> Option<String> {
        let at = self.values.binary_search_by(|v| v.key.as_str().cmp(key)).ok()?;
        let rows = self.values[at].rows;
        let window = self.window.as_ref().map(|w| format!(" from {} to {}", w.from, w.to)).unwrap_or_default();
        Some(format!(
            "{} over {}{window} in {} ({})",
            self.metric,
            crate::report::count(rows as usize, "row", "rows"),
            self.log,
            crate::report::count(self.files.len(), "file", "files")
        ))
    }
}

/// The trace of a measured value a failure read as `path`, for the fact
/// `key` of a rule whose subject is `var: entity`: `s.approval_gap is
/// parity_difference(…) over 412345 rows from … in logs/decisions (3
/// files)`. `path` is a measured field of the subject itself (the value of
/// another fact, `s.parent.gap`, is not the one `key` traces) or the name
/// of a measure of the organisation.
pub fn trace(measurements: &[Measurement], subject: Option<(&str, &str)>, key: &str, path: &str) -> Option<String> {
    let (measurement, key) = match path.split_once('.') {
        None => (measurements.iter().find(|m| m.measure == path && m.entity.is_none())?, ORGANISATION),
        Some((var, field)) => {
            let (_, entity) = subject.filter(|(v, _)| *v == var)?;
            (measurements.iter().find(|m| m.measure == field && m.entity.as_deref() == Some(entity))?, key)
        }
    };
    measurement.trace(key).map(|trace| format!("{path} is {trace}"))
}

/// What a runner computed for one plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeasureOutput {
    /// The value of each key that has rows, in key order. A key with no
    /// row is not listed: its fact has no evidence.
    pub values: Vec<(String, MeasureValue)>,
}

/// The type of a record's field, as a log's column must hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// `Bool`: a boolean column.
    Bool,
    /// `Int`: an integer column.
    Int,
    /// `Number`: any numeric column.
    Number,
    /// `Percent`: any numeric column, a fraction (0.12 is 12%).
    Percent,
    /// `Text` (or a reference): a string column.
    Text,
    /// `Date`: a date or timestamp column (a timestamp's day, in UTC).
    Date,
    /// An enum: a string column holding the variants' names.
    Enum(Vec<String>),
    /// A type no log column holds (a list, a record): named.
    Other(String),
}

/// A field of a record read from a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogColumn {
    /// The field's (and the column's) name.
    pub name: String,
    /// What the column must hold.
    pub kind: ColumnKind,
    /// `T?`: the column may be missing from the files or hold nulls.
    pub optional: bool,
}

/// A record type whose rows a log holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// The record's name.
    pub name: String,
    /// Its fields.
    pub columns: Vec<LogColumn>,
}

/// Everything a runner needs: the date, the logs, the plans and the
/// records their schemas are checked against.
#[derive(Clone, Copy, Debug)]
pub struct MeasureRequest<'a> {
    /// The evaluation date windows end on.
    pub as_of: Date,
    /// Every log of the project.
    pub sources: &'a [LogSource],
    /// The measures to compute.
    pub plans: &'a [MeasurePlan],
    /// The record types the plans read.
    pub records: &'a [LogRecord],
    /// The cluster to run the plans on (`None`: in process).
    pub cluster: Option<&'a Cluster>,
}

impl MeasureRequest<'_> {
    /// The log holding a record's rows.
    pub fn source_of(&self, record: &str) -> Option<&LogSource> {
        self.sources.iter().find(|s| s.record == record)
    }

    /// The declared columns of a record.
    pub fn record(&self, name: &str) -> Option<&LogRecord> {
        self.records.iter().find(|r| r.name == name)
    }
}

/// Computes measures over log sources.
pub trait MeasureRunner {
    /// Every plan's values, in the order of the request's plans. A problem
    /// with a log (a column missing or of the wrong type, a file that
    /// cannot be read) is a diagnostic that names the file and the column;
    /// then no value is given.
    fn run(&self, request: &MeasureRequest) -> Result<Vec<MeasureOutput>, Vec<Diagnostic>>;
}
