//! Asking the processor for memory before it is read.
//!
//! Facts are many small allocations (each fact's values, each list, each
//! record, each key's text), read once each by the evaluation and by the
//! reports, one after the other. At 100,000 facts most of that time was
//! waiting for memory, not reading it: asking for the next few items while
//! the current one is read overlaps the waits.

use crate::ir::Value;

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
