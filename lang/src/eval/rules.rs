//! The outcomes of rules: one rule for one entity, exceptions applied, and
//! the whole evaluation derived from them.

use std::sync::Arc;

use super::findings::findings;
use super::observe::observe;
use super::risks::risk_result;
use super::*;
use crate::facts::Facts;
use crate::ir::*;
use crate::time::Date;

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
    let risks: Vec<RiskResult> =
        (0..env.program.risks.len()).map(|i| risk_result(env, RiskId(i as u32), &rules)).collect();
    derive_with(env, rules, risks, objectives, super::findings::Made::Here)
}

/// [`derive`] with the risks and objectives already computed, and the
/// rules' findings made as `made` says.
pub(crate) fn derive_with(
    env: &Env,
    rules: Vec<RuleResult>,
    risks: Vec<RiskResult>,
    objectives: Vec<ObjectiveResult>,
    made: super::findings::Made<'_>,
) -> Evaluation {
    let program = env.program;
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
    let findings = findings(env, &rules, made, &risks, &objectives, &exceptions);
    Evaluation { as_of: env.as_of, rules, risks, objectives, exceptions, findings }
}

/// The outcomes of one rule for every entity of its subject, exceptions applied.
pub fn rule_outcomes(env: &Env, id: RuleId) -> OutcomeChunk {
    let rule = env.program.rule(id);
    match &rule.subject {
        None => OutcomeChunk::single(rule_outcome(env, id, None)),
        Some(subject) => {
            let count = env.facts.len(subject.entity);
            let keys: Arc<[Arc<str>]> =
                (0..count).map(|r| env.facts.key_of(env.program, subject.entity, r)).collect::<Vec<_>>().into();
            let mut outcomes = outcomes_of_rows(env, rule, 0, count, &keys);
            outcomes.waive_where(|key| waiver(env.program, id, key, env.as_of));
            outcomes
        }
    }
}

/// The outcomes of a rule with a subject for `count` of its rows from
/// `start`, before exceptions, compiled or interpreted as the environment
/// says; `keys` holds those rows' keys, in order.
pub(crate) fn outcomes_of_rows(
    env: &Env,
    rule: &RuleDef,
    start: u32,
    count: u32,
    keys: &Arc<[Arc<str>]>,
) -> OutcomeChunk {
    match (env.evaluator(), &rule.subject) {
        (super::Evaluator::Compiled, Some(subject)) => {
            super::compiled::chunk_outcomes(env, rule, subject, start, count, keys)
        }
        _ => {
            let mut chunk = OutcomeChunk::new(Some(start), keys.clone());
            for r in start..start + count {
                let o = raw_outcome(env, rule, Some(r), Key::of(keys, r - start));
                chunk.push(o.kind, o.failures, o.waived_by);
            }
            chunk
        }
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
pub fn waiver(program: &Program, id: RuleId, key: &str, as_of: Date) -> Option<u32> {
    let position = program.exceptions.iter().position(|e| {
        e.rule == id
            && as_of <= e.until
            && match &e.target {
                Some((_, k, _)) => k == key,
                None => true,
            }
    });
    // A program's exceptions are declarations: far fewer than `u32::MAX`.
    position.and_then(|i| u32::try_from(i).ok())
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
        match env.eval(filter, &mut frame) {
            Value::Bool(false) => {
                return Outcome {
                    row,
                    key,
                    kind: OutcomeKind::NotApplicable,
                    failures: Failures::default(),
                    waived_by: None,
                }
            }
            // A `where` the budget stopped decided nothing: the outcome is
            // stopped too (E0501), never "applicable and passing".
            Value::Unknown(u) if u.stops_evaluation() => {
                let reason = FailReason::NoEvidence(u);
                let failure = Failure { index: Failure::OF_WHERE, reason, values: Default::default() };
                return Outcome { row, key, kind: OutcomeKind::Fail, failures: vec![failure].into(), waived_by: None };
            }
            _ => {}
        }
    }
    let mut failures = Vec::new();
    let mut index = 0;
    for step in rule.steps.iter() {
        match step {
            Step::Let { slot, value } => {
                frame[*slot as usize] = env.eval(value, &mut frame);
            }
            Step::Require(req) => {
                let reason = match env.eval(&req.cond, &mut frame) {
                    Value::Bool(true) => None,
                    Value::Unknown(u) => Some(FailReason::NoEvidence(u)),
                    _ => Some(FailReason::Violated),
                };
                if let Some(reason) = reason {
                    let values = observe(env, req, &mut frame);
                    failures.push(Failure { index, reason, values });
                }
                index += 1;
            }
        }
    }
    let kind = if failures.is_empty() { OutcomeKind::Pass } else { OutcomeKind::Fail };
    Outcome { row, key, kind, failures: failures.into(), waived_by: None }
}
