//! Evaluation: every rule, risk and objective of a program over a fact
//! store, as of a date.
//!
//! The unit of work is one rule for one entity ([`rule_outcome`]): a pure
//! function of the program, that entity's facts, the facts it reaches and
//! the date. Everything else (risks, objectives, exceptions, findings) is
//! derived from those outcomes. Time is only ever `as_of`.

pub mod budget;
mod expr;
mod outcomes;
pub mod reads;

use std::sync::Arc;

pub use expr::{Env, Partial};
pub use outcomes::{cmp_keys, int_keyed, Failures, Key, Outcomes};

/// The variables of one evaluation: on the stack for the usual few, so an
/// outcome or a function call allocates nothing for them.
pub(crate) type Frame = smallvec::SmallVec<[Value; 8]>;

/// A frame of `slots` variables (at least one), all absent.
pub(crate) fn new_frame(slots: u32) -> Frame {
    smallvec::smallvec![Value::Absent; slots.max(1) as usize]
}

use crate::facts::Facts;
use crate::ir::*;
use crate::num::{self, Decimal};
use crate::syntax::ast::Severity;
use crate::time::Date;

/// Facts per chunk: the unit of re-evaluation after a fact changes (the
/// incremental engine stores facts in chunks of this size).
pub const CHUNK_ROWS: usize = 64;

/// Chunks per block of partial aggregates: after an edit one chunk, one
/// block and the blocks are recombined, not every chunk.
pub const CHUNKS_PER_BLOCK: usize = 32;

/// Outcomes from which an evaluation's findings are made on every core.
const PARALLEL_OUTCOMES: usize = 50_000;

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

/// Evaluates everything, within the default budget.
pub fn evaluate(program: &Program, facts: &dyn Facts, as_of: Date) -> Evaluation {
    evaluate_within(program, facts, as_of, budget::Budget::default())
}

/// Evaluates everything within a budget.
pub fn evaluate_within(program: &Program, facts: &dyn Facts, as_of: Date, budget: budget::Budget) -> Evaluation {
    let env = Env::new(program, facts, as_of).with_budget(budget, budget::Spent::default());
    let rules: Vec<RuleResult> = (0..program.rules.len())
        .map(|i| {
            let id = RuleId(i as u32);
            RuleResult { rule: id, outcomes: rule_outcomes(&env, id).into() }
        })
        .collect();
    derive(&env, rules)
}

/// Everything derived from the rules' outcomes: risks, objectives,
/// exceptions and findings.
pub fn derive(env: &Env, rules: Vec<RuleResult>) -> Evaluation {
    let objectives: Vec<ObjectiveResult> =
        (0..env.program.objectives.len()).map(|i| objective_result(env, ObjectiveId(i as u32))).collect();
    derive_with(env, rules, objectives)
}

/// [`derive`] with the objectives already computed.
pub fn derive_with(env: &Env, rules: Vec<RuleResult>, objectives: Vec<ObjectiveResult>) -> Evaluation {
    let program = env.program;
    let risks: Vec<RiskResult> = (0..program.risks.len()).map(|i| risk_result(env, RiskId(i as u32), &rules)).collect();
    let exceptions: Vec<ExceptionResult> = program
        .exceptions
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let key = e.target.as_ref().map(|(_, k, _)| k.as_str()).unwrap_or("-");
            let target_fails = rules[e.rule.index()]
                .outcomes
                .iter()
                .any(|o| &*o.key == key && matches!(o.kind, OutcomeKind::Fail | OutcomeKind::Waived));
            ExceptionResult { exception: i, active: env.as_of <= e.until, target_fails }
        })
        .collect();
    let findings = findings(env, &rules, &risks, &objectives, &exceptions);
    Evaluation { as_of: env.as_of, rules, risks, objectives, exceptions, findings: Arc::new(findings) }
}

/// The outcomes of one rule for every entity of its subject.
pub fn rule_outcomes(env: &Env, id: RuleId) -> Vec<Outcome> {
    let rule = env.program.rule(id);
    match &rule.subject {
        None => vec![rule_outcome(env, id, None)],
        Some(subject) => (0..env.facts.len(subject.entity)).map(|r| rule_outcome(env, id, Some(r))).collect(),
    }
}

/// The key of an outcome for a row of a rule's (or risk's) subject.
fn key_for(env: &Env, subject: Option<&SubjectDef>, row: Option<u32>) -> Key {
    match (subject, row) {
        (Some(s), Some(r)) => Key::single(env.facts.key_of(env.program, s.entity, r)),
        _ => Key::single(Arc::from("-")),
    }
}

/// The outcome of one rule for one entity row (`None`: the organisation),
/// exceptions applied.
pub fn rule_outcome(env: &Env, id: RuleId, row: Option<u32>) -> Outcome {
    let rule = env.program.rule(id);
    let mut outcome = raw_outcome(env, rule, row, key_for(env, rule.subject.as_ref(), row));
    if outcome.kind == OutcomeKind::Fail {
        outcome.waived_by = waiver(env.program, id, &outcome.key, env.as_of);
        if outcome.waived_by.is_some() {
            outcome.kind = OutcomeKind::Waived;
        }
    }
    outcome
}

/// The exception that waives a failing rule for an entity key, if any is active.
pub fn waiver(program: &Program, id: RuleId, key: &str, as_of: Date) -> Option<usize> {
    program.exceptions.iter().position(|e| {
        e.rule == id
            && as_of <= e.until
            && match &e.target {
                Some((_, k, _)) => k == key,
                None => true,
            }
    })
}

/// The outcome of a rule for one entity row, before exceptions; `key` is
/// that row's key.
pub fn raw_outcome(env: &Env, rule: &RuleDef, row: Option<u32>, key: Key) -> Outcome {
    env.reset_steps();
    let mut frame = new_frame(rule.slots);
    if let (Some(subject), Some(r)) = (&rule.subject, row) {
        frame[0] = Value::Row(subject.entity, r);
    }
    if let Some(filter) = rule.subject.as_ref().and_then(|s| s.filter.as_ref()) {
        // An unknown applicability (a dangling reference) counts as applicable.
        if env.eval(filter, &mut frame) == Value::Bool(false) {
            return Outcome {
                row,
                key,
                kind: OutcomeKind::NotApplicable,
                failures: Failures::default(),
                waived_by: None,
            };
        }
    }
    let mut failures = Vec::new();
    let mut index = 0;
    for step in &rule.steps {
        match step {
            Step::Let { slot, value } => {
                frame[*slot as usize] = env.eval(value, &mut frame);
            }
            Step::Require(req) => {
                let reason = match env.eval(&req.cond, &mut frame) {
                    Value::Bool(true) => None,
                    Value::Unknown(u) => Some(FailReason::NoEvidence((*u).clone())),
                    _ => Some(FailReason::Violated),
                };
                if let Some(reason) = reason {
                    let values = observe(env, &req.cond, &mut frame);
                    failures.push(Failure { index, reason, values });
                }
                index += 1;
            }
        }
    }
    let kind = if failures.is_empty() { OutcomeKind::Pass } else { OutcomeKind::Fail };
    Outcome { row, key, kind, failures: failures.into(), waived_by: None }
}

/// The values a failed condition read, for the explanation: entity rows
/// become references (keys), so that they show without the facts.
fn observe(env: &Env, cond: &Ex, frame: &mut [Value]) -> Vec<Value> {
    let mut paths: Vec<(&str, &Ex)> = Vec::new();
    collect_paths(env.program, cond, &mut paths);
    let mut seen: Vec<&str> = Vec::with_capacity(paths.len());
    let mut out = Vec::with_capacity(paths.len());
    for (path, ex) in paths {
        if seen.contains(&path) {
            continue;
        }
        seen.push(path);
        let value = env.eval(ex, frame);
        out.push(detach(env, value));
    }
    out
}

/// The paths whose values a failure of this condition records, in order.
pub fn observed_paths<'e>(program: &'e Program, cond: &'e Ex) -> Vec<&'e str> {
    let mut paths: Vec<(&str, &Ex)> = Vec::new();
    collect_paths(program, cond, &mut paths);
    let mut out: Vec<&str> = Vec::with_capacity(paths.len());
    for (path, _) in paths {
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// A value with its entity rows replaced by references, as [`show`]
/// would name them.
fn detach(env: &Env, value: Value) -> Value {
    match value {
        Value::Row(e, r) => Value::Ref(e, env.facts.key_of(env.program, e, r)),
        Value::List(items) if items.iter().any(|v| matches!(v, Value::Row(..))) => {
            Value::List(items.iter().map(|v| detach(env, v.clone())).collect::<Vec<_>>().into())
        }
        other => other,
    }
}

/// An observed value as the report shows it (see [`show`]).
pub fn show_observed(program: &Program, value: &Value) -> String {
    match value {
        Value::Unknown(u) => match &**u {
            Unknown::NotRecorded(_) => "not recorded".into(),
            other => format!("unknown ({other})"),
        },
        other => program.display(other),
    }
}

/// A value as the report shows it.
pub fn show(env: &Env, value: &Value) -> String {
    show_observed(env.program, &detach(env, value.clone()))
}

/// Field paths read by an expression outside quantifiers (whose variables
/// are bound per element and cannot be shown as one value), the `let`
/// variables it reads and the functions it calls (by name: what they
/// returned), so a failure read through a `let` or a function still shows
/// what decided it.
fn collect_paths<'e>(program: &'e Program, ex: &'e Ex, out: &mut Vec<(&'e str, &'e Ex)>) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || collect_paths_inner(program, ex, out))
}

fn collect_paths_inner<'e>(program: &'e Program, ex: &'e Ex, out: &mut Vec<(&'e str, &'e Ex)>) {
    let collect_paths = |ex: &'e Ex, out: &mut Vec<(&'e str, &'e Ex)>| collect_paths(program, ex, out);
    match ex {
        Ex::Field { path, .. } => out.push((path, ex)),
        Ex::Local(_, name) => out.push((name, ex)),
        Ex::Not(a) | Ex::Neg(a) | Ex::Is { value: a, .. } => collect_paths(a, out),
        Ex::And(a, b)
        | Ex::Or(a, b)
        | Ex::Arith(_, a, b)
        | Ex::Cmp(_, a, b)
        | Ex::Within(a, b)
        | Ex::Coalesce(a, b) => {
            collect_paths(a, out);
            collect_paths(b, out);
        }
        Ex::In { value, list, .. } => {
            collect_paths(value, out);
            collect_paths(list, out);
        }
        Ex::If { branches, otherwise } => {
            for (c, t) in branches {
                collect_paths(c, out);
                collect_paths(t, out);
            }
            collect_paths(otherwise, out);
        }
        Ex::List(items) | Ex::Record(items) | Ex::Builtin(_, items) => items.iter().for_each(|i| collect_paths(i, out)),
        Ex::Call { func, args } => {
            args.iter().for_each(|i| collect_paths(i, out));
            if let Some(def) = program.fns.get(func.index()) {
                out.push((def.decl.name.as_str(), ex));
            }
        }
        Ex::Quantifier { source: Source::List(l), .. } | Ex::Aggregate { source: Source::List(l), .. } => {
            collect_paths(l, out)
        }
        Ex::Quantifier { .. } | Ex::Aggregate { .. } | Ex::Const(_) | Ex::Today => {}
    }
}

fn scale_value(scale: ScaleId, value: &Value) -> Option<u32> {
    match value {
        Value::Scale(s, v) if *s == scale => Some(*v),
        _ => None,
    }
}

/// The highest value of a scale: what an unknown axis counts as.
fn worst(env: &Env, scale: ScaleId) -> u32 {
    let values = &env.program.scales[scale.index()].values;
    values.iter().enumerate().max_by_key(|(_, (_, v))| *v).map_or(0, |(i, _)| i as u32)
}

fn score(env: &Env, matrix: &MatrixDef, axes: &[u32]) -> i64 {
    matrix
        .axes
        .iter()
        .zip(axes)
        .map(|(s, &v)| env.program.scales[s.index()].values.get(v as usize).map_or(0, |(_, n)| *n))
        .fold(1i64, |acc, n| acc.saturating_mul(n))
}

fn risk_result(env: &Env, id: RiskId, rules: &[RuleResult]) -> RiskResult {
    let risk = &env.program.risks[id.index()];
    let rows: Vec<Option<u32>> = match &risk.subject {
        None => vec![None],
        Some(s) => (0..env.facts.len(s.entity)).map(Some).collect(),
    };
    let passes = |rule: RuleId, row: Option<u32>| {
        let outcomes = &rules[rule.index()].outcomes;
        if env.program.rule(rule).subject.is_none() {
            return outcomes.iter().all(|o| o.kind == OutcomeKind::Pass);
        }
        // Outcomes of a rule with a subject are in row order.
        let found = match row {
            Some(r) => match outcomes.get(r as usize) {
                Some(o) if o.row == row => Some(o),
                _ => outcomes.iter().find(|o| o.row == row),
            },
            None => None,
        };
        found.is_some_and(|o| o.kind == OutcomeKind::Pass)
    };
    let entries = rows.into_iter().filter_map(|row| risk_entry(env, risk, row, &passes)).collect();
    RiskResult { risk: id, entries }
}

/// A risk for one entity row (`None`: the organisation), if it applies;
/// `passes(rule, row)` says whether a treating rule passes for that row.
pub fn risk_entry(
    env: &Env,
    risk: &RiskDef,
    row: Option<u32>,
    passes: &dyn Fn(RuleId, Option<u32>) -> bool,
) -> Option<RiskEntry> {
    env.reset_steps();
    let mut frame = vec![Value::Absent; risk.slots.max(1) as usize];
    let key: Arc<str> = match (&risk.subject, row) {
        (Some(s), Some(r)) => {
            frame[0] = Value::Row(s.entity, r);
            env.facts.key_of(env.program, s.entity, r)
        }
        _ => Arc::from("-"),
    };
    if let Some(filter) = risk.subject.as_ref().and_then(|s| s.filter.as_ref()) {
        if env.eval(filter, &mut frame) == Value::Bool(false) {
            return None;
        }
    }
    for (slot, value) in &risk.lets {
        frame[*slot as usize] = env.eval(value, &mut frame);
    }
    let matrix = &env.program.matrices[risk.matrix.index()];
    let mut missing = Vec::new();
    let mut axis_values = |exprs: Vec<Option<&Ex>>, fallback: &[u32], frame: &mut Vec<Value>| -> Vec<u32> {
        exprs
            .iter()
            .enumerate()
            .map(|(i, ex)| match ex {
                None => fallback.get(i).copied().unwrap_or(0),
                Some(ex) => {
                    let v = env.eval(ex, frame);
                    match scale_value(matrix.axes[i], &v) {
                        Some(n) => n,
                        None => {
                            if let Value::Unknown(u) = &v {
                                missing.push(u.to_string());
                            }
                            worst(env, matrix.axes[i])
                        }
                    }
                }
            })
            .collect()
    };
    let inherent_axes = axis_values(risk.axes.iter().map(Some).collect(), &[], &mut frame);
    let treatment_effective = !risk.treated_by.is_empty() && risk.treated_by.iter().all(|rule| passes(*rule, row));
    let residual_axes = if treatment_effective {
        axis_values(risk.residual.iter().map(Option::as_ref).collect(), &inherent_axes, &mut frame)
    } else {
        inherent_axes.clone()
    };
    let inherent_score = score(env, matrix, &inherent_axes);
    let residual_score = score(env, matrix, &residual_axes);
    let residual_level = matrix.level_of(residual_score);
    let above_appetite = match (matrix.appetite, residual_level) {
        (Some(a), Some(l)) => l > a,
        _ => false,
    };
    Some(RiskEntry {
        key,
        inherent_level: matrix.level_of(inherent_score),
        inherent_axes,
        inherent_score,
        treatment_effective,
        residual_axes,
        residual_score,
        residual_level,
        above_appetite,
        missing,
    })
}

/// Where one objective stands.
pub fn objective_result(env: &Env, id: ObjectiveId) -> ObjectiveResult {
    env.reset_steps();
    let objective = &env.program.objectives[id.index()];
    let mut frame = vec![Value::Absent; objective.slots.max(1) as usize];
    let measured = env.eval(&objective.measure, &mut frame);
    objective_result_with(env, id, measured)
}

/// Where one objective stands, given the value of its measure (computed
/// elsewhere, for instance from per-chunk partial aggregates).
pub fn objective_result_with(env: &Env, id: ObjectiveId, measured: Value) -> ObjectiveResult {
    let objective = &env.program.objectives[id.index()];
    let mut frame = vec![Value::Absent; objective.slots.max(1) as usize];
    let (current, unknown) = match &measured {
        Value::Unknown(u) => (None, Some(u.to_string())),
        v => (v.as_decimal(), None),
    };
    let (op, target, deadline) = objective.target;
    let holds = |value: Decimal| op.holds(value.cmp(&target));
    let mut points: Vec<(Date, Decimal)> = Vec::new();
    if let Some((value, date)) = objective.baseline {
        if date <= env.as_of {
            points.push((date, value));
        }
    }
    if let Some(history) = &objective.history {
        let elements: Vec<Value> = match &history.source {
            Source::Entities(e) => (0..env.facts.len(*e)).map(|r| Value::Row(*e, r)).collect(),
            Source::List(list) => match env.eval(list, &mut frame) {
                Value::List(items) => items.to_vec(),
                _ => Vec::new(),
            },
        };
        let slot = history.slot as usize;
        for element in elements {
            frame[slot] = element;
            if let Some(filter) = &history.filter {
                if env.eval(filter, &mut frame) != Value::Bool(true) {
                    continue;
                }
            }
            if let (Some(v), Value::Date(d)) =
                (env.eval(&history.value, &mut frame).as_decimal(), env.eval(&history.date, &mut frame))
            {
                if d <= env.as_of {
                    points.push((d, v));
                }
            }
        }
    }
    points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let projected = projection(&points, deadline);
    let status = match current {
        None => ObjectiveStatus::NoData,
        Some(v) if holds(v) => ObjectiveStatus::Met,
        Some(_) if env.as_of > deadline => ObjectiveStatus::Missed,
        Some(_) => match projected {
            Some(p) if holds(p) => ObjectiveStatus::OnTrack,
            _ => ObjectiveStatus::AtRisk,
        },
    };
    ObjectiveResult { objective: id, current, unknown, status, projected, points }
}

/// Where the least-squares line over (day, value) stands on `day`, if at
/// least two distinct days are known, rounded to
/// [`num::TREND_DECIMALS`] places.
///
/// Computed exactly, with one division at the end: with days counted
/// from the first point, n points, `Sx = Σx`, `Sy = Σy`,
/// `Cxx = n·Σx² − Sx²` and `Cxy = n·Σxy − Sx·Sy`, the line's value at `d`
/// is `(Sy·Cxx + Cxy·(n·d − Sx)) / (n·Cxx)`. So measurements on a straight
/// line project exactly onto it, and a target reached exactly is met.
fn projection(points: &[(Date, Decimal)], day: Date) -> Option<Decimal> {
    let first = points.first()?.0;
    if points.iter().all(|(d, _)| *d == first) {
        return None;
    }
    let exact = || -> Option<Decimal> {
        let x = |d: Date| num::from_int(d.days_since(first));
        let n = num::from_int(i64::try_from(points.len()).ok()?);
        let (mut sx, mut sy, mut sxx, mut sxy) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for (d, v) in points {
            let xi = x(*d);
            sx = sx.checked_add(xi)?;
            sy = sy.checked_add(*v)?;
            sxx = sxx.checked_add(xi.checked_mul(xi)?)?;
            sxy = sxy.checked_add(xi.checked_mul(*v)?)?;
        }
        let cxx = n.checked_mul(sxx)?.checked_sub(sx.checked_mul(sx)?)?;
        let cxy = n.checked_mul(sxy)?.checked_sub(sx.checked_mul(sy)?)?;
        let along = n.checked_mul(x(day))?.checked_sub(sx)?;
        let numerator = sy.checked_mul(cxx)?.checked_add(cxy.checked_mul(along)?)?;
        numerator.checked_div(n.checked_mul(cxx)?)
    };
    // Beyond the decimal range (huge values or spans), the same line in
    // floating point: still a projection, rounded like the exact one.
    let approximate = || -> Option<Decimal> {
        let x = |d: Date| d.days_since(first) as f64;
        let n = points.len() as f64;
        let mean_x = points.iter().map(|(d, _)| x(*d)).sum::<f64>() / n;
        let mean_y = points.iter().map(|(_, v)| num::to_f64(*v)).sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (d, v) in points {
            let dx = x(*d) - mean_x;
            sxy += dx * (num::to_f64(*v) - mean_y);
            sxx += dx * dx;
        }
        num::from_f64(mean_y + sxy / sxx * (x(day) - mean_x))
    };
    exact().or_else(approximate).map(num::round_trend)
}

fn findings(
    env: &Env,
    rules: &[RuleResult],
    risks: &[RiskResult],
    objectives: &[ObjectiveResult],
    exceptions: &[ExceptionResult],
) -> Vec<Finding> {
    let program = env.program;
    // One group per declaration, each in entity order: concatenated in
    // (severity, name) order they are already sorted, and the final sort
    // only confirms it (in linear time) instead of comparing names and
    // keys n log n times.
    // Rules are independent: a large evaluation's findings are made on
    // every core (threads cost more than they save on a small one).
    let outcomes: usize = rules.iter().map(|r| r.outcomes.len()).sum();
    let mut groups: Vec<Vec<Finding>> = if outcomes >= PARALLEL_OUTCOMES {
        parallel_map(env.threads(), rules, |result| rule_findings(program, result))
    } else {
        rules.iter().map(|result| rule_findings(program, result)).collect()
    };
    let mut out = Vec::new();
    for result in risks {
        let risk = &program.risks[result.risk.index()];
        let matrix = &program.matrices[risk.matrix.index()];
        for entry in &result.entries {
            if !entry.above_appetite {
                continue;
            }
            let level =
                entry.residual_level.and_then(|l| matrix.levels.get(l as usize)).map_or("?", |l| l.name.as_str());
            let message = if entry.treatment_effective {
                format!("residual risk above appetite: {level} (score {})", entry.residual_score)
            } else if risk.treated_by.is_empty() {
                format!("risk above appetite and untreated: {level} (score {})", entry.residual_score)
            } else {
                format!("risk above appetite without effective treatment: {level} (score {})", entry.residual_score)
            };
            out.push(Finding {
                severity: risk.severity,
                source: FindingSource::Risk,
                name: risk.decl.name.clone(),
                entity: risk.subject.as_ref().map(|_| Key::single(entry.key.clone())),
                message,
            });
        }
    }
    for result in objectives {
        let objective = &program.objectives[result.objective.index()];
        let (op, target, deadline) = objective.target;
        let goal = format!("{} {} by {deadline}", op.as_str(), num::format(target));
        let (severity, message) = match result.status {
            ObjectiveStatus::Missed => (
                objective.severity,
                format!(
                    "objective missed: {} against a target of {goal}",
                    result.current.map_or("?".into(), num::format)
                ),
            ),
            ObjectiveStatus::AtRisk => (
                Severity::Observation,
                format!(
                    "objective at risk: {} now, the trend does not reach {goal}",
                    result.current.map_or("?".into(), num::format)
                ),
            ),
            ObjectiveStatus::NoData => (
                Severity::Observation,
                format!("objective has no data: {}", result.unknown.as_deref().unwrap_or("the measure is unknown")),
            ),
            _ => continue,
        };
        out.push(Finding {
            severity,
            source: FindingSource::Objective,
            name: objective.decl.name.clone(),
            entity: None,
            message,
        });
    }
    for result in exceptions {
        let exception = &program.exceptions[result.exception];
        let entity = exception.target.as_ref().map(|(_, k, _)| Key::single(Arc::from(k.as_str())));
        let rule = &program.rule(exception.rule).decl.name;
        let (severity, message) = match (result.active, result.target_fails) {
            (false, true) => (
                Severity::Minor,
                format!("exception `{}` expired on {}; `{rule}` fails again", exception.decl.name, exception.until),
            ),
            (false, false) => {
                (Severity::Observation, format!("expired exception `{}` can be removed", exception.decl.name))
            }
            (true, false) => {
                // "Passes" would be wrong where the rule's `where` leaves the entity out.
                let key = exception.target.as_ref().map_or("-", |(_, k, _)| k.as_str());
                let applies = rules[exception.rule.index()]
                    .outcomes
                    .iter()
                    .any(|o| &*o.key == key && o.kind != OutcomeKind::NotApplicable);
                let why = match (&exception.target, applies) {
                    (_, true) => format!("`{rule}` passes"),
                    (Some((_, k, _)), false) => format!("`{rule}` does not apply to `{k}`"),
                    (None, false) => format!("`{rule}` does not apply"),
                };
                (Severity::Observation, format!("exception `{}` waives nothing: {why}", exception.decl.name))
            }
            (true, true) => continue,
        };
        out.push(Finding {
            severity,
            source: FindingSource::Exception,
            name: exception.decl.name.clone(),
            entity,
            message,
        });
    }
    groups.push(out);
    // Keys of an `Int`-keyed subject order as numbers (2 before 10).
    let numeric: std::collections::HashSet<&str> = program
        .rules
        .iter()
        .filter(|r| r.subject.as_ref().is_some_and(|s| outcomes::int_keyed(program, s.entity)))
        .map(|r| r.decl.name.as_str())
        .chain(
            program
                .risks
                .iter()
                .filter(|r| r.subject.as_ref().is_some_and(|s| outcomes::int_keyed(program, s.entity)))
                .map(|r| r.decl.name.as_str()),
        )
        .chain(
            program
                .exceptions
                .iter()
                .filter(|e| e.target.as_ref().is_some_and(|(entity, _, _)| outcomes::int_keyed(program, *entity)))
                .map(|e| e.decl.name.as_str()),
        )
        .collect();
    let order = |a: &Finding, b: &Finding| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| match (&a.entity, &b.entity) {
                (Some(x), Some(y)) => outcomes::cmp_keys(numeric.contains(a.name.as_str()), x, y),
                (x, y) => x.cmp(y),
            })
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.message.cmp(&b.message))
    };
    for group in &mut groups {
        group.sort_by(order);
    }
    groups.retain(|g| !g.is_empty());
    groups.sort_by(|a, b| order(&a[0], &b[0]));
    let mut all: Vec<Finding> = groups.into_iter().flatten().collect();
    all.sort_by(order);
    all
}

/// The findings of one rule's failing outcomes, in outcome order.
fn rule_findings(program: &Program, result: &RuleResult) -> Vec<Finding> {
    let rule = program.rule(result.rule);
    let source = if rule.kind == RuleKind::Control { FindingSource::Control } else { FindingSource::Audit };
    let requirements = rule.requirements();
    // A violated requirement reads the same for every entity.
    let mut violated: Vec<Option<String>> = vec![None; requirements.len()];
    let mut message_of = |f: &Failure| -> String {
        let requirement = requirements.get(f.index).copied();
        match (&f.reason, violated.get_mut(f.index)) {
            (FailReason::Violated, Some(cached)) => {
                cached.get_or_insert_with(|| failure_message(requirement, f)).clone()
            }
            _ => failure_message(requirement, f),
        }
    };
    let mut group = Vec::new();
    for outcome in result.outcomes.iter() {
        if outcome.kind != OutcomeKind::Fail {
            continue;
        }
        let message = match outcome.failures.as_slice() {
            [one] => message_of(one),
            many => many.iter().map(&mut message_of).collect::<Vec<_>>().join("; "),
        };
        group.push(Finding {
            severity: rule.severity,
            source,
            name: rule.decl.name.clone(),
            entity: rule.subject.as_ref().map(|_| outcome.key.clone()),
            message,
        });
    }
    group
}

/// How many threads a large evaluation uses: `option` (the engine's
/// option, at least one), or every core.
pub fn threads(option: Option<usize>) -> usize {
    option.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

/// `f` over every item, in order, the items shared out among `threads`
/// threads.
fn parallel_map<T: Sync, R: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            done.push((i, f(item)));
        }
        done
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// A condition written over several lines, on one: each line break and the
/// indentation around it become one space, and `//` comments between the
/// lines go (other spacing, such as inside a text literal, stays as
/// written).
pub fn single_line(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains(['\n', '\r']) {
        return std::borrow::Cow::Borrowed(source);
    }
    // A line up to its comment: `//` outside a text literal.
    let code = |line: &'_ str| -> usize {
        let (mut in_text, mut escaped) = (false, false);
        for (i, c) in line.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_text => escaped = true,
                '"' => in_text = !in_text,
                '/' if !in_text && line[i..].starts_with("//") => return i,
                _ => {}
            }
        }
        line.len()
    };
    let mut out = String::with_capacity(source.len());
    let lines = source.split(['\n', '\r']).map(|l| l[..code(l)].trim()).filter(|l| !l.is_empty());
    for (i, line) in lines.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line);
    }
    std::borrow::Cow::Owned(out)
}

/// The message of a failed requirement.
pub fn failure_message(requirement: Option<&Requirement>, failure: &Failure) -> String {
    match &failure.reason {
        FailReason::NoEvidence(Unknown::NotRecorded(path)) => format!("no evidence: {path} is not recorded"),
        FailReason::NoEvidence(why) if !why.is_missing_evidence() => format!("cannot be decided: {why}"),
        FailReason::NoEvidence(other) => format!("no evidence: {other}"),
        FailReason::Violated => match requirement {
            Some(r) => match &r.because {
                Some(because) => format!("{because} (`{}`)", single_line(&r.source)),
                None => format!("`{}` does not hold", single_line(&r.source)),
            },
            None => "a requirement does not hold".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_shown_on_one_line_without_their_comments() {
        assert_eq!(single_line("a and b"), "a and b");
        assert_eq!(
            single_line("s.x  == \"a  b\"\n    and s.y // why\r\n\n    or s.z"),
            "s.x  == \"a  b\" and s.y or s.z"
        );
        assert_eq!(single_line("s.url == \"http://x\" and\n  s.y"), "s.url == \"http://x\" and s.y");
        assert_eq!(single_line("s.t == \"a\\\"//\" and\n  s.y"), "s.t == \"a\\\"//\" and s.y");
    }

    #[test]
    fn parallel_map_keeps_the_order_of_its_items() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = parallel_map(4, &items, |x| x * 2);
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(parallel_map(4, &[] as &[u32], |x| *x).is_empty());
    }
}
