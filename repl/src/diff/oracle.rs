//! The old way of answering an edit, kept as the tests' oracle: each of two
//! full evaluations reduced to a [`Snapshot`] of every outcome keyed by
//! names, and the two snapshots compared. Too slow for a large inventory
//! (a map of every outcome per edit), but obviously right, so the
//! incremental answers of [`super::Diff::between`] are checked against it.

use std::collections::BTreeMap;

use aims_lang::eval::{self, Evaluation};
use aims_lang::ir::{ObjectiveStatus, OutcomeKind, Program, RuleKind};
use aims_lang::Date;

use super::compare::minus;
use super::{Diff, FindingKey, RiskState};

#[derive(Clone, Debug, PartialEq)]
struct RuleSnapshot {
    kind: RuleKind,
    outcomes: BTreeMap<String, OutcomeKind>,
}

/// An evaluation keyed by names, independent of the program it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    as_of: Date,
    rules: BTreeMap<String, RuleSnapshot>,
    risks: BTreeMap<(String, String), RiskState>,
    objectives: BTreeMap<String, ObjectiveStatus>,
    findings: BTreeMap<FindingKey, usize>,
    finding_count: usize,
    /// The rules, risks and exceptions whose entities have `Int` keys
    /// (listed in numeric key order).
    numeric: std::collections::BTreeSet<String>,
}

impl Snapshot {
    /// Reduces an evaluation of `program`.
    pub fn new(program: &Program, evaluation: &Evaluation) -> Snapshot {
        let mut rules = BTreeMap::new();
        for result in &evaluation.rules {
            let Some(rule) = program.rules.get(result.rule.index()) else { continue };
            let outcomes = result.outcomes.iter().map(|o| (o.key.to_string(), o.kind)).collect();
            rules.insert(rule.decl.name.clone(), RuleSnapshot { kind: rule.kind, outcomes });
        }
        let mut risks = BTreeMap::new();
        for result in &evaluation.risks {
            let Some(risk) = program.risks.get(result.risk.index()) else { continue };
            let levels = program.matrices.get(risk.matrix.index()).map(|m| m.levels.as_slice()).unwrap_or_default();
            for entry in &result.entries {
                let level = entry
                    .residual_level
                    .and_then(|l| levels.get(l as usize))
                    .map_or("?".to_string(), |l| l.name.clone());
                risks.insert(
                    (risk.decl.name.clone(), entry.key.to_string()),
                    RiskState { level, above_appetite: entry.above_appetite },
                );
            }
        }
        let objectives = evaluation
            .objectives
            .iter()
            .filter_map(|o| Some((program.objectives.get(o.objective.index())?.decl.name.clone(), o.status)))
            .collect();
        let mut findings = BTreeMap::new();
        for f in evaluation.findings.iter() {
            let key = (
                f.severity,
                f.source,
                f.name.to_string(),
                f.entity.as_ref().map(|e| e.to_string()),
                f.message.to_string(),
            );
            *findings.entry(key).or_insert(0) += 1;
        }
        let numeric = super::compare::int_keyed_names(program);
        Snapshot {
            as_of: evaluation.as_of,
            rules,
            risks,
            objectives,
            findings,
            finding_count: evaluation.findings.len(),
            numeric,
        }
    }
}

fn counts(outcomes: &BTreeMap<String, OutcomeKind>) -> [usize; 4] {
    let mut c = [0; 4];
    for kind in outcomes.values() {
        c[match kind {
            OutcomeKind::Pass => 0,
            OutcomeKind::Fail => 1,
            OutcomeKind::Waived => 2,
            OutcomeKind::NotApplicable => 3,
        }] += 1;
    }
    c
}

/// What changed from `before` to `after`.
pub fn between(before: &Snapshot, after: &Snapshot) -> Diff {
    let mut diff = Diff {
        as_of: (before.as_of != after.as_of).then_some((before.as_of, after.as_of)),
        finding_count: (before.finding_count, after.finding_count),
        ..Diff::default()
    };
    for (name, b) in &before.rules {
        match after.rules.get(name) {
            None => diff.removed_rules.push((name.clone(), b.kind)),
            Some(a) => {
                for (key, kind) in &b.outcomes {
                    let now = a.outcomes.get(key).copied();
                    if now != Some(*kind) {
                        diff.outcomes.push((name.clone(), key.clone(), Some(*kind), now));
                    }
                }
                for (key, kind) in &a.outcomes {
                    if !b.outcomes.contains_key(key) {
                        diff.outcomes.push((name.clone(), key.clone(), None, Some(*kind)));
                    }
                }
            }
        }
    }
    let numeric = |name: &str| after.numeric.contains(name) || before.numeric.contains(name);
    let by_key = |name: &str, a: &str, b: &str| eval::cmp_keys(numeric(name), a, b);
    diff.outcomes
        .sort_by(|x, y| x.0.cmp(&y.0).then_with(|| by_key(&x.0, &x.1, &y.1)).then_with(|| (x.2, x.3).cmp(&(y.2, y.3))));
    for (name, a) in &after.rules {
        if !before.rules.contains_key(name) {
            diff.new_rules.push((name.clone(), a.kind, counts(&a.outcomes)));
        }
    }
    for (key, b) in &before.risks {
        match after.risks.get(key) {
            Some(a) if a.level == b.level => {}
            a => diff.risks.push((key.0.clone(), key.1.clone(), Some(b.clone()), a.cloned())),
        }
    }
    for (key, a) in &after.risks {
        if !before.risks.contains_key(key) {
            diff.risks.push((key.0.clone(), key.1.clone(), None, Some(a.clone())));
        }
    }
    diff.risks.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| by_key(&x.0, &x.1, &y.1)));
    for (name, b) in &before.objectives {
        let a = after.objectives.get(name).copied();
        if a != Some(*b) {
            diff.objectives.push((name.clone(), Some(*b), a));
        }
    }
    for (name, a) in &after.objectives {
        if !before.objectives.contains_key(name) {
            diff.objectives.push((name.clone(), None, Some(*a)));
        }
    }
    diff.objectives.sort_by(|x, y| x.0.cmp(&y.0));
    let findings = |x: &FindingKey, y: &FindingKey| {
        (x.0, x.1, &x.2)
            .cmp(&(y.0, y.1, &y.2))
            .then_with(|| match (&x.3, &y.3) {
                (Some(a), Some(b)) => by_key(&x.2, a, b),
                (a, b) => a.cmp(b),
            })
            .then_with(|| x.4.cmp(&y.4))
    };
    diff.added = minus(&after.findings, &before.findings);
    diff.added.sort_by(findings);
    diff.removed = minus(&before.findings, &after.findings);
    diff.removed.sort_by(findings);
    diff
}
