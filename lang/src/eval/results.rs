//! What an evaluation produces: outcomes and their failures, risk
//! entries, objective statuses, exceptions and findings.

use std::sync::Arc;

use super::{observed_paths, show_observed, Failures, Key, Outcomes};
use crate::ir::*;
use crate::num::Decimal;
use crate::syntax::ast::Severity;
use crate::time::Date;

/// Why a `require` failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FailReason {
    /// The condition was false.
    Violated,
    /// The condition could not be decided: evidence is missing.
    NoEvidence(Unknown),
}

/// One failed `require`.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Index of the requirement among the rule's `require`s.
    pub index: usize,
    pub reason: FailReason,
    /// The values the condition read, one per path of
    /// [`observed_paths`] of its condition. Kept as values and rendered
    /// only when shown ([`Failure::observed`]): formatting them for every
    /// failure of a large evaluation cost a fifth of it.
    pub values: Vec<Value>,
}

impl Failure {
    /// The values the condition read: (path as written, value as shown).
    pub fn observed(&self, program: &Program, requirement: Option<&Requirement>) -> Vec<(String, String)> {
        let Some(requirement) = requirement else { return Vec::new() };
        observed_paths(program, &requirement.cond)
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
    pub kind: OutcomeKind,
    pub failures: Failures,
    /// The exception that waived the failure.
    pub waived_by: Option<usize>,
}

/// All outcomes of a rule, in fact order (shared with the incremental
/// database's memos, not copied out of them).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleResult {
    pub rule: RuleId,
    pub outcomes: Outcomes,
}

/// A risk for one entity.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskEntry {
    pub key: Arc<str>,
    /// The axis values, in the matrix's order.
    pub inherent_axes: Vec<u32>,
    pub inherent_score: i64,
    pub inherent_level: Option<u32>,
    pub treatment_effective: bool,
    pub residual_axes: Vec<u32>,
    pub residual_score: i64,
    pub residual_level: Option<u32>,
    pub above_appetite: bool,
    /// Facts that were missing, which made an axis take its worst value.
    pub missing: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RiskResult {
    pub risk: RiskId,
    pub entries: Vec<RiskEntry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveResult {
    pub objective: ObjectiveId,
    pub current: Option<Decimal>,
    /// Why the current value is unknown.
    pub unknown: Option<String>,
    pub status: ObjectiveStatus,
    /// The value the trend reaches at the deadline, if a trend exists.
    /// Rounded to [`num::TREND_DECIMALS`] places.
    pub projected: Option<Decimal>,
    /// The points of the trend (baseline and history), by date.
    pub points: Vec<(Date, Decimal)>,
}

/// Where an exception stands.
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionResult {
    pub exception: usize,
    pub active: bool,
    /// Whether the waived rule fails for the target (waived or not).
    pub target_fails: bool,
}

/// What produced a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSource {
    Control,
    Audit,
    Risk,
    Objective,
    Exception,
}

/// Something an auditor would write down.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub source: FindingSource,
    /// The control, audit, risk, objective or exception.
    pub name: String,
    /// The entity's key (sharing its chunk's key list, see [`Key`]).
    pub entity: Option<Key>,
    pub message: String,
}

/// The whole result of evaluating a program as of a date.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub as_of: Date,
    pub rules: Vec<RuleResult>,
    pub risks: Vec<RiskResult>,
    pub objectives: Vec<ObjectiveResult>,
    pub exceptions: Vec<ExceptionResult>,
    /// Ordered by severity, then name, then entity key.
    /// Shared with the reports made of the evaluation.
    pub findings: Arc<Vec<Finding>>,
}
