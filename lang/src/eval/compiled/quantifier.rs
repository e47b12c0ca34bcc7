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

/// What the elements said, as sets of elements (bit `k` of word `k / 64`
/// is element `k` of the block's lists, in order).
struct Verdicts {
    /// Elements that decide the quantifier: the body (or, without one,
    /// the filter) true for `exists`, false for `all`.
    decisive: Vec<u64>,
    /// Elements whose filter or body gave an unknown (or absent) value.
    undecided: Vec<u64>,
    /// The values of the undecided elements, by ascending element.
    values: Vec<(u32, Value)>,
}

impl Verdicts {
    /// The first element of `range` in `set`.
    fn first_in(set: &[u64], range: std::ops::Range<usize>) -> Option<usize> {
        let mut k = range.start;
        while k < range.end {
            let word = set[k / 64] >> (k % 64);
            if word != 0 {
                let found = k + word.trailing_zeros() as usize;
                return (found < range.end).then_some(found);
            }
            k = (k / 64 + 1) * 64;
        }
        None
    }

    /// The value of an undecided element.
    fn value_of(&self, k: usize) -> Value {
        match self.values.binary_search_by_key(&(k as u32), |(at, _)| *at) {
            Ok(at) => self.values[at].1.clone(),
            Err(_) => Value::Absent,
        }
    }
}

/// Whether evaluating `ex` takes budget steps (calls, quantifiers, aggregates).
pub fn takes_steps(ex: &Ex) -> bool {
    match ex {
        Ex::Call { .. } | Ex::Quantifier { .. } | Ex::Aggregate { .. } => true,
        _ => ex.children().into_iter().any(takes_steps),
    }
}

impl<'a> Block<'_, 'a> {
    /// A quantifier over a list whose source, filter and body take no
    /// steps of their own ([`takes_steps`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn list_quantifier(
        &self,
        all: bool,
        slot: u32,
        list: &'a Ex,
        filter: Option<&'a Ex>,
        body: Option<&'a Ex>,
        slots: &[Col<'a>],
        live: Mask,
    ) -> Col<'a> {
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
                // Each list is an allocation of its own, read first by
                // the elements' layout: asked for ahead, all of them.
                crate::prefetch::slice(items);
                elements.extend(items.iter().map(|item| (*i, item)));
            }
        }
        // Only the variables the filter and body read are laid out per
        // element (the subject, bound in every rule, seldom is).
        let mut read = vec![false; slots.len()];
        filter.into_iter().chain(body).for_each(|ex| locals_read(ex, &mut read));
        let words = elements.len().div_ceil(BLOCK_ROWS);
        let mut verdicts =
            Verdicts { decisive: Vec::with_capacity(words), undecided: Vec::with_capacity(words), values: Vec::new() };
        for part in elements.chunks(BLOCK_ROWS) {
            self.element_verdicts(all, slot, part, filter, body, slots, &read, &mut verdicts);
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
            // The walk visits each element, one step each, until the
            // first that decides; the first undecided one before it names
            // the unknown when none decides.
            let decisive = Verdicts::first_in(&verdicts.decisive, mine.clone());
            let visited = decisive.map_or(mine.end, |k| k + 1) - mine.start;
            let value = self.on_row(i, || {
                if env.affords(visited as u64) {
                    env.advance(visited as u64);
                } else {
                    // The budget runs out on the way: at the element the
                    // interpreter's would.
                    for _ in 0..visited {
                        if !env.tick() {
                            return env.over_budget();
                        }
                    }
                }
                if decisive.is_some() {
                    return Value::Bool(!all);
                }
                match Verdicts::first_in(&verdicts.undecided, mine) {
                    Some(k) => env.for_element(verdicts.value_of(k), elements[k].1),
                    None => Value::Bool(all),
                }
            });
            out.push(i, value);
        }
        Col::Bools(out)
    }

    /// The verdicts of up to [`BLOCK_ROWS`] elements, the next word of
    /// each set.
    #[allow(clippy::too_many_arguments)]
    fn element_verdicts(
        &self,
        all: bool,
        slot: u32,
        part: &[(usize, &Value)],
        filter: Option<&'a Ex>,
        body: Option<&'a Ex>,
        slots: &[Col<'a>],
        read: &[bool],
        verdicts: &mut Verdicts,
    ) {
        // Each element sees its row's variables: the row's facts, and every
        // slot's value on that row.
        let element_rows = BlockRows {
            values: part.iter().map(|(i, _)| self.rows.values[*i]).collect(),
            items: part.iter().map(|(_, item)| *item).collect(),
            // Each record's fields are an allocation of their own, read
            // first by the filter: asked for ahead, all of the part's.
            records: part.iter().all(|(_, item)| match item {
                Value::Record(fields) => {
                    crate::prefetch::slice(fields);
                    true
                }
                _ => false,
            }),
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
        let every = first(part.len());
        // Left out by the filter: its false rows, and its unknowns (which
        // are undecided).
        let filtered = filter.map(|filter| block.eval(filter, &inner, every).bools(&block.rows, every).into_owned());
        let selected = filtered.as_ref().map_or(every, |f| f.t & every);
        let decided = body.map(|b| block.eval(b, &inner, selected).bools(&block.rows, selected).into_owned());
        let (decisive, undecided_by_body) = match &decided {
            // Without a body, a selected element is true.
            None => (if all { 0 } else { selected }, 0),
            Some(b) => {
                let (t, f) = (b.t & selected, b.f & selected);
                (if all { f } else { t }, selected & !(t | f))
            }
        };
        let undecided_by_filter = filtered
            .as_ref()
            .map_or(0, |f| f.other.iter().fold(0, |set, (j, _)| set | 1 << j) & every & !selected & !f.f);
        let base = verdicts.decisive.len() * BLOCK_ROWS;
        for j in rows(undecided_by_filter | undecided_by_body) {
            let value = if selected & 1 << j != 0 {
                decided.as_ref().and_then(|b| b.other_at(j))
            } else {
                filtered.as_ref().and_then(|f| f.other_at(j))
            };
            verdicts.values.push(((base + j) as u32, value.cloned().unwrap_or(Value::Absent)));
        }
        verdicts.decisive.push(decisive);
        verdicts.undecided.push(undecided_by_filter | undecided_by_body);
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
fn gather<'a>(col: &Col<'a>, rows: &BlockRows, part: &[(usize, &Value)]) -> Col<'a> {
    match col {
        // The elements' block reads its rows' facts, gathered the same way.
        Col::Splat(_) | Col::Field(..) => col.clone(),
        other => Col::Vals(part.iter().map(|(i, _)| other.get(rows, *i).into_owned()).collect()),
    }
}
