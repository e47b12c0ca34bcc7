//! A small thread pool: the items of a large evaluation shared out among
//! threads, the results kept in order.

/// How many threads a large evaluation uses: `option` (the engine's
/// option, at least one), or every core.
pub fn threads(option: Option<usize>) -> usize {
    // Asked once: the standard library reads the process's cgroup files
    // at every call, 7 % of a what-if.
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    option.unwrap_or_else(|| *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))).max(1)
}

/// `f` over every item, in order, the items shared out among `threads`
/// threads.
pub(crate) fn parallel_map<T: Sync, R: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len()).max(1);
    parallel_map_with(vec![(); threads], items, |(), item| f(item))
}

/// [`parallel_map`] with one thread per state, each reading its own (a
/// database handle: salsa reads on several threads each need one).
pub(crate) fn parallel_map_with<T: Sync, S: Send, R: Send>(
    states: Vec<S>,
    items: &[T],
    f: impl Fn(&S, &T) -> R + Sync,
) -> Vec<R> {
    let mut states = states.into_iter();
    let Some(first) = states.next() else { return Vec::new() };
    if states.len() == 0 || items.len() <= 1 {
        return items.iter().map(|item| f(&first, item)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = |state: S| {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            done.push((i, f(&state, item)));
        }
        done
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = states.map(|state| scope.spawn(move || work(state))).collect();
        let mut all = work(first);
        for helper in helpers {
            match helper.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_the_order_of_its_items() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = parallel_map(4, &items, |x| x * 2);
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(parallel_map(4, &[] as &[u32], |x| *x).is_empty());
    }
}
