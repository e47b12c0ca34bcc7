//! Risks: each axis from its expression (the worst value when evidence
//! is missing), the inherent and residual levels, and the appetite.

use std::sync::Arc;

use super::{Env, RiskEntry, RiskResult, RuleResult};
use crate::ir::*;

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

pub(crate) fn risk_result(env: &Env, id: RiskId, rules: &[RuleResult]) -> RiskResult {
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
    let mut missing = Vec::new();
    if let Some(filter) = risk.subject.as_ref().and_then(|s| s.filter.as_ref()) {
        match env.eval(filter, &mut frame) {
            Value::Bool(false) => return None,
            // A `where` the budget stopped decided nothing: the entry is
            // reported as stopped (E0501), never assessed as applicable.
            Value::Unknown(u) if u.stops_evaluation() => missing.push((*u).clone()),
            _ => {}
        }
    }
    for (slot, value) in &risk.lets {
        frame[*slot as usize] = env.eval(value, &mut frame);
    }
    let matrix = &env.program.matrices[risk.matrix.index()];
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
                                missing.push((**u).clone());
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
