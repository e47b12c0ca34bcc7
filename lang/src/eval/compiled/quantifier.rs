//! `exists x in LIST where ...` and `all x in LIST: ...` over a block:
//! every element of every row's list evaluated as one column.
//!
//! The elements of the block's lists are laid out in sub-blocks of up to
//! [`BLOCK_ROWS`] elements, each element with its row's variables, and the
//! filter and the body are evaluated over them as columns. Then each row
//! walks its own elements in order, as the interpreter does: one budget
//! step per element visited, the first element that decides ends the walk,
//! and the first undecided one names the unknown. Only a source, filter
//! and body that take no steps of their own (no call, quantifier or
//! aggregate: [`takes_steps`]) are evaluated this way, so evaluating an
//! element the interpreter would not have reached changes nothing; the
//! others stay with the interpreter.

use super::column::{first, rows, BlockRows, Bools, Col, Mask, BLOCK_ROWS};
use super::nodes::Block;
use crate::ir::*;

/// What one element said.
enum Verdict {
    /// The filter left it out.
    Skipped,
    /// The filter (or the body) gave a Boolean.
    Bool(bool),
    /// The filter or the body gave an unknown (or absent) value.
    Other(Value),
}

/// Whether evaluating `ex` takes budget steps (calls, quantifiers, aggregates).
pub fn takes_steps(ex: &Ex) -> bool {
    match ex {
        Ex::Call { .. } | Ex::Quantifier { .. } | Ex::Aggregate { .. } => true,
        _ => ex.children().into_iter().any(takes_steps),
    }
}

impl Block<'_, '_> {
    /// A quantifier over a list whose source, filter and body take no
    /// steps of their own ([`takes_steps`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn list_quantifier(
        &self,
        all: bool,
        slot: u32,
        list: &Ex,
        filter: Option<&Ex>,
        body: Option<&Ex>,
        slots: &[Col],
        live: Mask,
    ) -> Col {
        let env = self.env;
        let lists = self.eval(list, slots, live);
        let row_lists: Vec<(usize, std::borrow::Cow<Value>)> =
            rows(live).map(|i| (i, lists.get(&self.rows, i))).collect();
        let count: usize =
            row_lists.iter().map(|(_, l)| if let Value::List(items) = &**l { items.len() } else { 0 }).sum();
        // (row, element) for every element of every live row's list, not
        // copied.
        let mut elements: Vec<(usize, &Value)> = Vec::with_capacity(count);
        for (i, list) in &row_lists {
            if let Value::List(items) = &**list {
                elements.extend(items.iter().map(|item| (*i, item)));
            }
        }
        // Only the variables the filter and body read are laid out per
        // element (the subject, bound in every rule, seldom is).
        let mut read = vec![false; slots.len()];
        filter.into_iter().chain(body).for_each(|ex| locals_read(ex, &mut read));
        let mut verdicts: Vec<Verdict> = Vec::with_capacity(elements.len());
        for part in elements.chunks(BLOCK_ROWS) {
            self.element_verdicts(slot, part, filter, body, slots, &read, &mut verdicts);
        }
        // Each row's value, in row order: its list's unknown, or the walk
        // of its elements' verdicts.
        let mut out = Bools::default();
        let mut at = 0;
        for (i, list) in &row_lists {
            let i = *i;
            let mine = match &**list {
                Value::List(items) => at..at + items.len(),
                unknown @ Value::Unknown(_) => {
                    out.other.push((i as u32, unknown.clone()));
                    continue;
                }
                // Not a list: nothing to range over.
                _ => at..at,
            };
            at = mine.end;
            let value = self.on_row(i, || {
                let mut pending: Option<Value> = None;
                for k in mine {
                    if !env.tick() {
                        return env.over_budget();
                    }
                    match &verdicts[k] {
                        Verdict::Skipped => {}
                        Verdict::Bool(b) if *b != all => return Value::Bool(!all),
                        Verdict::Bool(_) => {}
                        Verdict::Other(v) => {
                            if pending.is_none() {
                                pending = Some(env.for_element(v.clone(), elements[k].1));
                            }
                        }
                    }
                }
                pending.unwrap_or(Value::Bool(all))
            });
            out.push(i, value);
        }
        Col::Bools(out)
    }

    /// The verdicts of up to [`BLOCK_ROWS`] elements, appended in order.
    #[allow(clippy::too_many_arguments)]
    fn element_verdicts(
        &self,
        slot: u32,
        part: &[(usize, &Value)],
        filter: Option<&Ex>,
        body: Option<&Ex>,
        slots: &[Col],
        read: &[bool],
        verdicts: &mut Vec<Verdict>,
    ) {
        // Each element sees its row's variables: the row's facts, and every
        // slot's value on that row.
        let element_rows = BlockRows {
            values: part.iter().map(|(i, _)| self.rows.values[*i]).collect(),
            items: part.iter().map(|(_, item)| *item).collect(),
            records: part.iter().all(|(_, item)| matches!(item, Value::Record(_))),
            // The elements' rows are not a chunk's.
            columns: None,
        };
        let mut inner: Vec<Col> = slots
            .iter()
            .zip(read)
            .map(|(col, read)| if *read { gather(col, &self.rows, part) } else { Col::Splat(Value::Absent) })
            .collect();
        if inner.len() <= slot as usize {
            inner.resize(slot as usize + 1, Col::Splat(Value::Absent));
        }
        inner[slot as usize] = Col::Items;
        let block = Block::new(self.env, element_rows, part.len());
        let all = first(part.len());
        let (selected, filtered) = match filter {
            Some(filter) => {
                let f = block.eval(filter, &inner, all);
                let f = f.bools(&block.rows, all).into_owned();
                (f.t, Some(f))
            }
            None => (all, None),
        };
        let decided = body.map(|b| block.eval(b, &inner, selected).bools(&block.rows, selected).into_owned());
        for j in 0..part.len() {
            let bit = 1 << j;
            let verdict = if selected & bit == 0 {
                // Left out by the filter, or the filter's own unknown.
                match filtered.as_ref().filter(|f| f.f & bit == 0).and_then(|f| f.other_at(j)) {
                    Some(v) => Verdict::Other(v.clone()),
                    None => Verdict::Skipped,
                }
            } else {
                match &decided {
                    None => Verdict::Bool(true),
                    Some(b) if b.t & bit != 0 => Verdict::Bool(true),
                    Some(b) if b.f & bit != 0 => Verdict::Bool(false),
                    Some(b) => Verdict::Other(b.other_at(j).cloned().unwrap_or(Value::Absent)),
                }
            };
            verdicts.push(verdict);
        }
    }
}

/// Marks the variables (slots) `ex` reads in `read`.
fn locals_read(ex: &Ex, read: &mut [bool]) {
    if let Ex::Local(slot, _) = ex {
        if let Some(read) = read.get_mut(*slot as usize) {
            *read = true;
        }
    }
    // A deeply nested condition must not overflow the stack.
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || {
        ex.children().into_iter().for_each(|child| locals_read(child, read))
    });
}

/// A column of the block's rows as a column of elements: each element
/// takes its row's value.
fn gather(col: &Col, rows: &BlockRows, part: &[(usize, &Value)]) -> Col {
    match col {
        // The elements' block reads its rows' facts, gathered the same way.
        Col::Splat(_) | Col::Field(..) => col.clone(),
        other => Col::Vals(part.iter().map(|(i, _)| other.get(rows, *i).into_owned()).collect()),
    }
}
