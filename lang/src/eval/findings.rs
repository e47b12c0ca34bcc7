//! Findings: what an auditor would write down, made from the outcomes,
//! risks, objectives and exceptions, in a stable order.

use std::sync::Arc;

use super::outcomes::{self, OutcomeRef};
use super::parallel::parallel_map;
use super::*;
use crate::ir::*;
use crate::num;
use crate::syntax::ast::Severity;

/// Outcomes from which an evaluation's findings are made on every core.
const PARALLEL_OUTCOMES: usize = 50_000;

pub(super) fn findings(
    env: &Env,
    rules: &[RuleResult],
    made: Made<'_>,
    risks: &[RiskResult],
    objectives: &[ObjectiveResult],
    exceptions: &[ExceptionResult],
) -> Findings {
    let program = env.program;
    // One group per declaration, each in entity order: concatenated in
    // (severity, name) order they are sorted, so only the places where
    // groups meet are compared, not every name and key.
    // Rules are independent: a large evaluation's findings are made on
    // every core (threads cost more than they save on a small one).
    let outcomes: usize = rules.iter().map(|r| r.outcomes.len()).sum();
    // Memoized lists are read in place and copied once, into the result.
    let made_here: Vec<Arc<Vec<Finding>>>;
    let rule_groups: &[Arc<Vec<Finding>>] = match made {
        Made::Memoized(groups) if groups.len() == rules.len() => groups,
        Made::Here if outcomes >= PARALLEL_OUTCOMES => {
            made_here = parallel_map(env.threads(), rules, |result| {
                Arc::new(rule_findings(program, result, &KeyOrder::Unknown))
            });
            &made_here
        }
        Made::Here | Made::Memoized(_) => {
            made_here =
                rules.iter().map(|result| Arc::new(rule_findings(program, result, &KeyOrder::Unknown))).collect();
            &made_here
        }
    };
    let mut out = Vec::new();
    for result in risks {
        let risk = &program.risks[result.risk.index()];
        let matrix = &program.matrices[risk.matrix.index()];
        let name: Arc<str> = Arc::from(risk.decl.name.as_str());
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
                name: name.clone(),
                entity: risk.subject.as_ref().map(|_| Key::single(entry.key.clone())),
                message: message.into(),
                require: None,
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
                match &result.unknown {
                    Some(why) => format!("objective has no data: {why}"),
                    None => "objective has no data: the measure is unknown".to_string(),
                },
            ),
            _ => continue,
        };
        out.push(Finding {
            severity,
            source: FindingSource::Objective,
            name: Arc::from(objective.decl.name.as_str()),
            entity: None,
            message: message.into(),
            require: None,
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
            name: Arc::from(exception.decl.name.as_str()),
            entity,
            message: message.into(),
            require: None,
        });
    }
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
            .then_with(|| if Arc::ptr_eq(&a.name, &b.name) { std::cmp::Ordering::Equal } else { a.name.cmp(&b.name) })
            .then_with(|| match (&a.entity, &b.entity) {
                (Some(x), Some(y)) => outcomes::cmp_keys(numeric.contains(&*a.name), x, y),
                (x, y) => x.cmp(y),
            })
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.message.cmp(&b.message))
    };
    // A rule's group is in key order already (`rule_findings`); only the
    // group of risks, objectives and exceptions may need sorting.
    if !out.is_sorted_by(|a, b| order(a, b) != std::cmp::Ordering::Greater) {
        out.sort_by(order);
    }
    let mut groups: Vec<Arc<Vec<Finding>>> = rule_groups.to_vec();
    groups.push(Arc::new(out));
    groups.retain(|g| !g.is_empty());
    groups.sort_by(|a, b| order(&a[0], &b[0]));
    // Groups of different declarations do not interleave, so their
    // concatenation is sorted and checking where they meet is enough;
    // sorting it would compare every finding's key again (a cache miss
    // per finding at 100,000 systems), and copying them into one list
    // would write every finding again.
    let meet_in_order = groups.windows(2).all(|pair| match (pair[0].last(), pair[1].first()) {
        (Some(last), Some(first)) => order(last, first) != std::cmp::Ordering::Greater,
        _ => true,
    });
    let all = if meet_in_order {
        Findings::from_groups(groups)
    } else {
        let mut all: Vec<Finding> = groups.iter().flat_map(|g| g.iter().cloned()).collect();
        all.sort_by(order);
        Findings::from(all)
    };
    debug_assert!(all.iter().is_sorted_by(|a, b| order(a, b) != std::cmp::Ordering::Greater));
    all
}

/// How the findings of the rules are had.
#[derive(Clone, Copy)]
pub(crate) enum Made<'a> {
    /// Made here, each rule's in fact order, then sorted.
    Here,
    /// Made already, one list per rule (memoized per rule by the database:
    /// an edit remakes only the lists of the rules whose outcomes changed).
    Memoized(&'a [Arc<Vec<Finding>>]),
}

/// The rows of an entity type in the order findings list them (as
/// `crate::db::key_order` finds it once per entity type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    /// The rows are in key order already, every key distinct (facts
    /// usually come so).
    Rows,
    /// The positions of the rows in key order, every key distinct.
    Positions(Arc<[u32]>),
    /// Not known, or two rows share a key: a rule's findings are sorted,
    /// their messages breaking a tie.
    Unknown,
}

/// The findings of one rule's failing outcomes, in key order: made in
/// `key_order` when it is known, else in outcome order and sorted.
pub(crate) fn rule_findings(program: &Program, result: &RuleResult, key_order: &KeyOrder) -> Vec<Finding> {
    let rule = program.rule(result.rule);
    let source = if rule.kind == RuleKind::Control { FindingSource::Control } else { FindingSource::Audit };
    let requirements = rule.requirements();
    // Every finding of the rule shares its name, and a violated
    // requirement reads the same for every entity: one allocation each,
    // not one per finding.
    let name: Arc<str> = Arc::from(rule.decl.name.as_str());
    let mut violated: Vec<Option<Arc<str>>> = vec![None; requirements.len()];
    // The message of requirement `index` failing: found false when no
    // failure is given (a plain violation, known from its record).
    let mut message_of = |index: usize, failure: Option<&Failure>| -> Arc<str> {
        let requirement = requirements.get(index).copied();
        match (failure, violated.get_mut(index)) {
            (Some(f @ Failure { reason: FailReason::NoEvidence(_), .. }), _) => failure_message(requirement, f).into(),
            (_, Some(cached)) => cached.get_or_insert_with(|| violation_message(requirement).into()).clone(),
            (_, None) => violation_message(requirement).into(),
        }
    };
    let positions = match key_order {
        KeyOrder::Positions(order) if order.len() == result.outcomes.len() => Some(order),
        _ => None,
    };
    let sorted_already = positions.is_some() || *key_order == KeyOrder::Rows;
    // In key order already: only the failure records are read, chunk by
    // chunk, never the passing outcomes.
    let in_order: Box<dyn Iterator<Item = OutcomeRef<'_>>> = match positions {
        Some(order) => Box::new(order.iter().filter_map(|&i| result.outcomes.get(i as usize))),
        None => Box::new(result.outcomes.failing()),
    };
    let mut group: Vec<Finding> = Vec::with_capacity(result.outcomes.failed_count());
    for outcome in in_order {
        if outcome.kind != OutcomeKind::Fail {
            continue;
        }
        // Most findings are one requirement found false: made from the
        // outcome's record alone, without reading its failure.
        let (message, require) = match (outcome.plain_violation, outcome.failures) {
            (Some(index), _) => (message_of(index as usize, None), Some(index)),
            (None, [one]) => (message_of(one.index, Some(one)), Some(one.index as u32)),
            (None, many) => (
                many.iter().map(|f| message_of(f.index, Some(f))).collect::<Vec<_>>().join("; ").into(),
                many.first().map(|f| f.index as u32),
            ),
        };
        group.push(Finding {
            severity: rule.severity,
            source,
            name: name.clone(),
            entity: rule.subject.as_ref().map(|_| outcome.key.to_key()),
            message,
            require,
        });
    }
    if !sorted_already && group.len() > 1 {
        let numeric = rule.subject.as_ref().is_some_and(|s| outcomes::int_keyed(program, s.entity));
        // As `findings` orders them: the name and source are the rule's.
        group.sort_by(|a, b| {
            match (&a.entity, &b.entity) {
                (Some(x), Some(y)) => outcomes::cmp_keys(numeric, x, y),
                (x, y) => x.cmp(y),
            }
            .then_with(|| a.message.cmp(&b.message))
        });
    }
    group
}
