//! What an evaluation produces: outcomes and their failures, risk
//! entries, objective statuses, exceptions and findings.

use std::sync::Arc;

use super::{observed_paths, show_observed, Failures, Findings, Key, Observed, Outcomes};
use crate::ir::*;
use crate::num::Decimal;
use crate::syntax::ast::Severity;
use crate::time::Date;

/// Why a `require` failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FailReason {
    /// The condition was false.
    Violated,
    /// The condition could not be decided: evidence is missing. (Shared
    /// with the unknown value it comes from, as [`Value::Unknown`] holds
    /// it: a failure is then half the size.)
    NoEvidence(Arc<Unknown>),
}

/// One failed `require`.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Index of the requirement among the rule's `require`s.
    pub index: usize,
    /// Whether the condition was false or undecided.
    pub reason: FailReason,
    /// The values the condition read, one per path of
    /// `observed_paths` of its condition. Kept as values and rendered
    /// only when shown ([`Failure::observed`]): formatting them for every
    /// failure of a large evaluation cost a fifth of it.
    pub values: Observed,
}

impl Failure {
    /// The `index` of a failure of the rule's `for ... where` rather than of
    /// a `require`: its applicability could not be decided (the evaluation
    /// budget ran out there), so no `require` was checked.
    pub const OF_WHERE: usize = usize::MAX;

    /// The values the condition read: (path as written, value as shown).
    pub fn observed(&self, program: &Program, requirement: Option<&Requirement>) -> Vec<(String, String)> {
        let Some(requirement) = requirement else { return Vec::new() };
        observed_paths(program, requirement)
            .into_iter()
            .zip(&self.values)
            .map(|(path, value)| (path.to_string(), show_observed(program, value)))
            .collect()
    }
}

/// The outcome of one rule for one entity (or for the organisation).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The entity's row, for rules with a subject.
    pub row: Option<u32>,
    /// The entity's key ("-" for the organisation).
    pub key: Key,
    /// Pass, fail, waived or not applicable.
    pub kind: OutcomeKind,
    /// The `require`s that failed, in the rule's order.
    pub failures: Failures,
    /// The exception that waived the failure: an index into [`Program::exceptions`].
    pub waived_by: Option<u32>,
}

/// All outcomes of a rule, in fact order (shared with the incremental
/// database's memos, not copied out of them).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleResult {
    /// The rule evaluated.
    pub rule: RuleId,
    /// One outcome per entity of the rule's subject (one for the organisation without a subject), in fact order.
    pub outcomes: Outcomes,
}

/// A risk for one entity.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskEntry {
    /// The entity's key (`-` for the organisation).
    pub key: Arc<str>,
    /// The value on each axis before treatment: an index into the axis scale's values, in the matrix's order.
    pub inherent_axes: Vec<u32>,
    /// The score before treatment: the product of the axis values' numbers.
    pub inherent_score: i64,
    /// The matrix level the inherent score falls in (an index into [`MatrixDef::levels`]), `None` when it falls in none.
    pub inherent_level: Option<u32>,
    /// Whether the risk names treating controls and every one of them passes (or is waived) for the entity.
    pub treatment_effective: bool,
    /// The value on each axis after treatment; the inherent values when the treatment is not effective.
    pub residual_axes: Vec<u32>,
    /// The score after treatment.
    pub residual_score: i64,
    /// The matrix level the residual score falls in, `None` when it falls in none.
    pub residual_level: Option<u32>,
    /// Whether the residual level is above the matrix's appetite (false without an appetite).
    pub above_appetite: bool,
    /// Facts that were missing, which made an axis take its worst value.
    pub missing: Vec<crate::ir::Unknown>,
}

/// The result of one risk: an entry per entity.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskResult {
    /// The risk evaluated.
    pub risk: RiskId,
    /// One entry per entity of the risk's subject (one for the organisation without a subject).
    pub entries: Vec<RiskEntry>,
}

/// Where one objective stands on the evaluation date.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveResult {
    /// The objective evaluated.
    pub objective: ObjectiveId,
    /// The measure's value on the evaluation date; `None` when unknown.
    pub current: Option<Decimal>,
    /// Why the current value is unknown.
    pub unknown: Option<crate::ir::Unknown>,
    /// Met, on track, at risk, missed or no data.
    pub status: ObjectiveStatus,
    /// The value the trend reaches at the deadline, if a trend exists.
    /// Rounded to `num::TREND_DECIMALS` places.
    pub projected: Option<Decimal>,
    /// The points of the trend (baseline and history), by date.
    pub points: Vec<(Date, Decimal)>,
}

/// Where an exception stands.
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionResult {
    /// The exception: an index into [`Program::exceptions`].
    pub exception: usize,
    /// Whether it is in force: the evaluation date is on or before its `until` date.
    pub active: bool,
    /// Whether the waived rule fails for the target (waived or not).
    pub target_fails: bool,
}

/// What produced a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSource {
    /// A failing control.
    Control,
    /// A failing audit.
    Audit,
    /// A risk above appetite.
    Risk,
    /// An objective missed, at risk, or without data.
    Objective,
    /// An exception that expired, or that waives nothing.
    Exception,
}

/// Something an auditor would write down.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// How an auditor would grade it.
    pub severity: Severity,
    /// The kind of declaration that produced it.
    pub source: FindingSource,
    /// The control, audit, risk, objective or exception (shared by all
    /// of its findings).
    pub name: Arc<str>,
    /// The entity's key (sharing its chunk's key list, see [`Key`]).
    pub entity: Option<Key>,
    /// What is wrong, in one line (shared by the findings a failure
    /// reads the same for).
    pub message: Arc<str>,
    /// For a control's or audit's finding, the `require` that failed first
    /// (its index among the rule's requirements): where the finding
    /// points, known without finding its outcome again. `None` for the
    /// other findings.
    pub require: Option<u32>,
}

/// The whole result of evaluating a program as of a date.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The evaluation date.
    pub as_of: Date,
    /// One result per control and audit, in declaration order.
    pub rules: Vec<RuleResult>,
    /// One result per risk, in declaration order.
    pub risks: Vec<RiskResult>,
    /// One result per objective, in declaration order.
    pub objectives: Vec<ObjectiveResult>,
    /// One result per exception, in declaration order.
    pub exceptions: Vec<ExceptionResult>,
    /// Ordered by severity, then name, then entity key.
    /// Shared with the reports made of the evaluation.
    pub findings: Findings,
}
