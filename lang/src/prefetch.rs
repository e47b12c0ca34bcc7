//! Asking the processor for memory before it is read.
//!
//! Facts are many small allocations (each fact's values, each list, each
//! record, each key's text), read once each by the evaluation and by the
//! reports, one after the other. At 100,000 facts most of that time was
//! waiting for memory, not reading it: asking for the next few items while
//! the current one is read overlaps the waits.

use crate::ir::Value;

/// How many items ahead of the one being read [`ahead`] asks for: far
/// enough that a wait for memory ends before the item is reached, near
/// enough that what was asked for is still in the cache then.
pub(crate) const AHEAD: usize = 8;

/// `items` in order, asking (with `ask`) for each item [`AHEAD`] places
/// before it is yielded; the first [`AHEAD`] are asked for with the first.
pub(crate) fn ahead<I, F>(items: I, ask: F) -> Ahead<I, F>
where
    I: Iterator + Clone,
    F: FnMut(&I::Item),
{
    Ahead { lead: items.clone(), items, ask, started: false }
}

/// The iterator [`ahead`] makes.
pub(crate) struct Ahead<I, F> {
    items: I,
    /// `items`, [`AHEAD`] items further on once started.
    lead: I,
    ask: F,
    started: bool,
}

impl<I, F> Iterator for Ahead<I, F>
where
    I: Iterator,
    F: FnMut(&I::Item),
{
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let asked = if self.started { 1 } else { AHEAD + 1 };
        self.started = true;
        for _ in 0..asked {
            if let Some(item) = self.lead.next() {
                (self.ask)(&item);
            }
        }
        self.items.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// Asks the processor to bring `items` into its cache.
pub(crate) fn slice<T>(items: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = items.as_ptr().cast::<i8>();
        for offset in (0..std::mem::size_of_val(items)).step_by(LINE) {
            // SAFETY: SSE, which the instruction needs, is part of every
            // x86-64 processor; a prefetch reads nothing the program sees
            // and never faults, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = items;
}

/// Asks for what `value` points to (a text's bytes, a list's elements, a
/// record's fields): nothing for a value held inline.
pub(crate) fn value(value: &Value) {
    match value {
        Value::Text(text) | Value::Ref(_, text) => slice(text.as_bytes()),
        Value::List(items) | Value::Record(items) => slice(items),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_item_is_asked_for_ahead_of_its_turn_and_once() {
        let items: Vec<usize> = (0..20).collect();
        let asked = std::cell::RefCell::new(Vec::new());
        let mut yielded = Vec::new();
        for item in ahead(items.iter(), |item| asked.borrow_mut().push(**item)) {
            // Every item up to AHEAD past this one has been asked for.
            assert_eq!(asked.borrow().len(), (*item + AHEAD + 1).min(items.len()), "at {item}");
            yielded.push(*item);
        }
        assert_eq!(yielded, items);
        assert_eq!(asked.into_inner(), items);
    }

    #[test]
    fn fewer_items_than_ahead_are_all_asked_for_first() {
        let mut asked = 0;
        let yielded: Vec<_> = ahead([1, 2, 3].into_iter(), |_| asked += 1).collect();
        assert_eq!(yielded, [1, 2, 3]);
        assert_eq!(asked, 3);
    }
}
