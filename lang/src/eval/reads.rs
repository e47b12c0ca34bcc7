//! Which facts a rule may read besides the row it is evaluated for: the
//! static analysis that lets a what-if look only where an edit can matter.
//!
//! Conservative by construction: a rule reads every entity it quantifies or
//! aggregates over, and every entity reachable through reference fields
//! from its subject or from those. An entity not in the result cannot
//! change the rule's outcome for another row.

use std::collections::BTreeSet;

use crate::ir::*;

/// The entities an expression ranges over, and the functions it calls
/// (whose bodies count too, each once). Walked with an explicit stack, so
/// neither a deep tree nor a long chain of calls grows the thread's stack.
fn sources<'p>(program: &'p Program, ex: &'p Ex, out: &mut BTreeSet<EntityId>, fns: &mut BTreeSet<FnId>) {
    let mut stack = vec![ex];
    while let Some(ex) = stack.pop() {
        match ex {
            Ex::Quantifier { source: Source::Entities(e), .. } | Ex::Aggregate { source: Source::Entities(e), .. } => {
                out.insert(*e);
            }
            Ex::Call { func, .. } if fns.insert(*func) => stack.extend(program.fns.get(func.index()).map(|d| &d.body)),
            _ => {}
        }
        stack.extend(ex.children());
    }
}

/// Entities and records a type mentions.
fn mentioned(ty: &Ty, entities: &mut Vec<EntityId>, records: &mut Vec<RecordId>) {
    match ty {
        Ty::Entity(e) => entities.push(*e),
        Ty::Record(r) => records.push(*r),
        Ty::List(inner) | Ty::Opt(inner) => mentioned(inner, entities, records),
        _ => {}
    }
}

/// The entities whose rows `exprs`, evaluated for one row of `subject`,
/// may read other than that row.
pub fn rows_read<'e>(
    program: &Program,
    subject: Option<EntityId>,
    exprs: impl IntoIterator<Item = &'e Ex>,
) -> BTreeSet<EntityId> {
    let mut quantified = BTreeSet::new();
    let mut fns = BTreeSet::new();
    for ex in exprs {
        sources(program, ex, &mut quantified, &mut fns);
    }
    let mut read: BTreeSet<EntityId> = BTreeSet::new();
    let mut entities: Vec<EntityId> = quantified.into_iter().collect();
    let mut records: Vec<RecordId> = Vec::new();
    // The subject row itself is not "another row", but what it refers to is.
    if let Some(s) = subject {
        for field in &program.entity(s).fields {
            mentioned(&field.ty, &mut entities, &mut records);
        }
    }
    let mut seen_records = BTreeSet::new();
    let mut expanded = BTreeSet::new();
    while !entities.is_empty() || !records.is_empty() {
        if let Some(e) = entities.pop() {
            read.insert(e);
            if expanded.insert(e) {
                for field in &program.entity(e).fields {
                    mentioned(&field.ty, &mut entities, &mut records);
                }
            }
        } else if let Some(r) = records.pop() {
            if seen_records.insert(r) {
                for field in &program.records[r.index()].fields {
                    mentioned(&field.ty, &mut entities, &mut records);
                }
            }
        }
    }
    read
}

/// Everything a rule evaluates.
pub fn rule_exprs(rule: &RuleDef) -> Vec<&Ex> {
    let mut out: Vec<&Ex> = rule.subject.iter().filter_map(|s| s.filter.as_deref()).collect();
    for step in rule.steps.iter() {
        match step {
            Step::Let { value, .. } => out.push(value),
            Step::Require(r) => out.push(&r.cond),
        }
    }
    out
}

/// Everything a risk evaluates (its treating rules are looked at separately).
pub fn risk_exprs(risk: &RiskDef) -> Vec<&Ex> {
    let mut out: Vec<&Ex> = risk.subject.iter().filter_map(|s| s.filter.as_deref()).collect();
    out.extend(risk.lets.iter().map(|(_, e)| e));
    out.extend(risk.axes.iter());
    out.extend(risk.residual.iter().flatten());
    out
}
