//! Compiled evaluation: a rule over a block of its subject's facts at once.
//!
//! The interpreter ([`Env::eval`]) walks a rule's expressions once per
//! entity; at 100,000 entities most of its time went to walking, not to
//! deciding. Here a rule is evaluated for up to [`BLOCK_ROWS`] entities
//! together: each expression yields a column (a value per row), `and`,
//! `or`, `not` and comparisons work on bit masks of rows, and a field of
//! the subject is read in place. The result is the interpreter's, outcome
//! for outcome, including which unknown a failure names, the values it
//! observed, and the budget each outcome spent: the interpreter remains
//! the reference (`Evaluator::Interpreted`), and a property test and the
//! `eval` fuzz target hold the two equal on generated programs and facts.

mod column;
mod ints;
mod nodes;
mod quantifier;

use std::borrow::Cow;
use std::sync::Arc;

use self::column::{rows, BlockRows, Col, Mask, BLOCK_ROWS};
use self::nodes::Block;
use super::observe::{detach, Observer};
use super::{Env, FailReason, Failure, Observed, OutcomeChunk};
use crate::ir::*;

/// How rules are evaluated: compiled (the default), or by the
/// interpreter that defines the semantics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Evaluator {
    /// A rule over a block of entities at once.
    #[default]
    Compiled,
    /// A rule for one entity at a time, expression by expression.
    Interpreted,
}

/// The outcomes of a rule over `count` rows of its subject from `start`
/// (exceptions not applied); `keys` holds those rows' keys, in order.
pub(crate) fn chunk_outcomes(
    env: &Env,
    rule: &RuleDef,
    subject: &SubjectDef,
    start: u32,
    count: u32,
    keys: &Arc<[Arc<str>]>,
) -> OutcomeChunk {
    let mut out = OutcomeChunk::new(Some(start), keys.clone());
    // What each requirement's failures read, found at its first failure
    // and kept for the following blocks.
    let requirements = rule.steps.iter().filter(|s| matches!(s, Step::Require(_))).count();
    let mut observers: Vec<Option<Observer>> = (0..requirements).map(|_| None).collect();
    let mut offset = 0;
    while offset < count {
        let len = (count - offset).min(BLOCK_ROWS as u32);
        block_outcomes(env, rule, subject, start + offset, len as usize, &mut observers, &mut out);
        offset += len;
    }
    out
}

/// The outcomes of one block of rows, appended to `out`.
fn block_outcomes<'e>(
    env: &Env<'e>,
    rule: &'e RuleDef,
    subject: &SubjectDef,
    start: u32,
    len: usize,
    observers: &mut [Option<Observer<'e>>],
    out: &mut OutcomeChunk,
) {
    env.checkpoint();
    let values = match env.facts.run(subject.entity, start, len as u32) {
        Some(run) => run.iter().map(|row| &*row.values).collect(),
        None => (0..len as u32).map(|i| env.facts.values(subject.entity, start + i).unwrap_or(&[])).collect(),
    };
    let columns = env.facts.columns(subject.entity, start, len as u32);
    let block = Block::new(env, BlockRows { values, items: Vec::new(), records: true, columns }, len);
    let all = block.all();
    let mut slots = vec![Col::Splat(Value::Absent); rule.slots.max(1) as usize];
    slots[0] = Col::Rows(subject.entity, start);
    // Only failing rows have failures: (row, failure) in the order they
    // are found, requirement by requirement, grouped by row at the end.
    let mut failures: Vec<(u32, Failure)> = Vec::new();
    let mut applicable = all;
    let mut not_applicable = 0;
    if let Some(filter) = &subject.filter {
        let selected = block.eval(filter, &slots, all);
        let selected = selected.bools(&block.rows, all);
        not_applicable = selected.f;
        applicable &= !selected.f;
        // A `where` the budget stopped decided nothing: the outcome is
        // stopped (E0501), never "applicable and passing". Any other
        // unknown counts as applicable (a dangling reference).
        for (i, value) in &selected.other {
            if let Value::Unknown(u) = value {
                if u.stops_evaluation() {
                    let reason = FailReason::NoEvidence(u.clone());
                    failures.push((*i, Failure { index: Failure::OF_WHERE, reason, values: Default::default() }));
                    applicable &= !(1 << i);
                }
            }
        }
    }
    let mut index = 0;
    // A call's value in the rule's own frame is kept for the failures'
    // observation (`Block::recall`).
    block.keep_calls(Some(&slots));
    for (at, step) in rule.steps.iter().enumerate() {
        match step {
            Step::Let { slot, value } => {
                let value = block.eval(value, &slots, applicable).into_owned();
                if let Some(slot) = slots.get_mut(*slot as usize) {
                    *slot = value;
                }
            }
            Step::Require(req) => {
                let cond = block.eval(&req.cond, &slots, applicable);
                let cond = cond.bools(&block.rows, applicable);
                let failing = applicable & !cond.t;
                let observer = match observers.get_mut(index) {
                    Some(kept) if failing != 0 => Some(&*kept.get_or_insert_with(|| Observer::new(env.program, req))),
                    _ => None,
                }
                .filter(|observer| !observer.is_empty());
                block.keep_calls(None);
                let observed = observer.map(|observer| observed_columns(&block, observer, &slots, failing));
                block.keep_calls(Some(&slots));
                // Every failing row's values, row after row, in one list
                // their failures share.
                let columns = observed.as_deref().unwrap_or_default();
                let mut values = Vec::with_capacity(columns.len() * failing.count_ones() as usize);
                for i in rows(failing) {
                    values.extend(columns.iter().map(|col| match &**col {
                        // A field of the subject is a stored fact, which
                        // names an entity by its key, never by an
                        // evaluation's row: nothing to detach (and a
                        // list's elements are not walked to check). An
                        // element's field may be a record the rule made.
                        Col::Field(..) => col.get(&block.rows, i).into_owned(),
                        _ => detach(env, col.get(&block.rows, i).into_owned()),
                    }));
                }
                let values = (!values.is_empty()).then(|| Arc::new(values));
                let failure = |(k, i): (usize, usize)| {
                    let reason = match cond.other_at(i) {
                        Some(Value::Unknown(u)) => FailReason::NoEvidence(u.clone()),
                        _ => FailReason::Violated,
                    };
                    let values = match &values {
                        Some(values) => Observed::shared(values, k * columns.len(), columns.len()),
                        None => Observed::default(),
                    };
                    (i as u32, Failure { index, reason, values })
                };
                let last = !rule.steps[at + 1..].iter().any(|s| matches!(s, Step::Require(_)));
                if last && failures.is_empty() {
                    // The only failures are this requirement's, in row
                    // order already: written once, where they are kept.
                    out.push_rows(len, not_applicable, rows(failing).enumerate().map(failure));
                    return;
                }
                failures.extend(rows(failing).enumerate().map(failure));
                index += 1;
            }
        }
    }
    // A stable sort: each row's failures stay in requirement order.
    failures.sort_by_key(|(row, _)| *row);
    out.push_rows(len, not_applicable, failures);
}

/// What the failing rows of a requirement read, one column per value a
/// failure shows, each evaluated once over those rows: a value in a
/// function's body in the frame of its call's arguments, made at the
/// first such value as the interpreter's observation makes it, so every
/// row gets the values, and spends the budget steps, of observing it alone.
fn observed_columns<'s, 'a>(
    block: &Block<'_, 'a>,
    observer: &Observer<'a>,
    slots: &'s [Col<'a>],
    failing: Mask,
) -> Vec<Cow<'s, Col<'a>>> {
    let mut callees: Vec<(&Ex, Vec<Col<'a>>)> = Vec::new();
    observer
        .reads()
        .map(|(ex, call)| {
            let Some(call) = call else {
                return match ex {
                    Ex::Call { .. } => block.recall(ex, slots, failing),
                    _ => block.eval(ex, slots, failing),
                };
            };
            let at = match callees.iter().position(|(c, _)| std::ptr::eq(*c, call)) {
                Some(at) => at,
                None => {
                    let frame = match call {
                        Ex::Call { func, args } => block.callee_slots(*func, args, slots, failing),
                        _ => Vec::new(),
                    };
                    callees.push((call, frame));
                    callees.len() - 1
                }
            };
            Cow::Owned(block.eval(ex, &callees[at].1, failing).into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests;
