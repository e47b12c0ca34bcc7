//! The long parts of a report made on several threads and written in
//! their order.
//!
//! A report of 100,000 systems is tens to hundreds of megabytes, made from
//! parts that do not depend on each other (one rule's findings, one rule's
//! outcomes). Threads make the parts, a few ahead of the one being written,
//! while the calling thread writes them in order: the bytes are those the
//! parts would give made one after the other, and at most
//! `threads * AHEAD_PER_THREAD` parts are held at once.

use std::io::{self, Write};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Parts made ahead of the one being written, per thread: enough that a
/// write the kernel is slow to take does not leave the threads idle (two
/// left a fifth of the cores' time unused while a report of 100,000
/// systems was written); a part is a few hundred kilobytes at most.
const AHEAD_PER_THREAD: usize = 8;

/// Where the threads stand.
struct State {
    /// The parts made and not yet written, by position.
    made: Vec<Option<Vec<u8>>>,
    /// The next part to hand out.
    next: usize,
    /// The parts written so far.
    written: usize,
    /// Set when the writing stopped early (an error, a panic of a thread).
    stop: bool,
    /// What a thread that panicked panicked with, raised again by the caller.
    panic: Option<Box<dyn std::any::Any + Send>>,
}

/// Writes to `sink`, in order, the bytes `make` gives for each of `parts`,
/// made on `threads` threads (on the calling thread alone when one).
pub(super) fn write_ordered<P: Sync>(
    sink: &mut dyn Write,
    threads: usize,
    parts: &[P],
    make: impl Fn(&P) -> io::Result<Vec<u8>> + Sync,
) -> io::Result<()> {
    if threads <= 1 || parts.len() <= 1 {
        for part in parts {
            sink.write_all(&make(part)?)?;
        }
        return Ok(());
    }
    let ahead = threads * AHEAD_PER_THREAD;
    let state =
        Mutex::new(State { made: parts.iter().map(|_| None).collect(), next: 0, written: 0, stop: false, panic: None });
    let changed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    let worker = || loop {
        let i = {
            let mut s = lock();
            while !s.stop && s.next < parts.len() && s.next >= s.written + ahead {
                s = wait(&changed, s);
            }
            if s.stop || s.next >= parts.len() {
                return;
            }
            s.next += 1;
            s.next - 1
        };
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| make(&parts[i])));
        let mut s = lock();
        match made {
            Ok(Ok(bytes)) => s.made[i] = Some(bytes),
            Ok(Err(e)) => {
                // Raised by the caller once the threads have stopped.
                s.stop = true;
                s.panic.get_or_insert(Box::new(e));
            }
            Err(panic) => {
                s.stop = true;
                s.panic.get_or_insert(panic);
            }
        }
        changed.notify_all();
    };
    let written = std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(worker);
        }
        let mut written = Ok(());
        for i in 0..parts.len() {
            let bytes = {
                let mut s = lock();
                loop {
                    if s.stop {
                        break None;
                    }
                    if let Some(bytes) = s.made[i].take() {
                        break Some(bytes);
                    }
                    s = wait(&changed, s);
                }
            };
            let Some(bytes) = bytes else { break };
            written = sink.write_all(&bytes);
            let mut s = lock();
            s.written = i + 1;
            s.stop |= written.is_err();
            changed.notify_all();
            if written.is_err() {
                break;
            }
        }
        written
    });
    match state.into_inner().unwrap_or_else(PoisonError::into_inner).panic {
        Some(payload) => match payload.downcast::<io::Error>() {
            Ok(error) => Err(*error),
            Err(panic) => std::panic::resume_unwind(panic),
        },
        None => written,
    }
}

/// Waits on `changed`, the lock given back held.
fn wait<'a>(changed: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    changed.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(i: &u32) -> io::Result<Vec<u8>> {
        Ok(format!("{i},").repeat(*i as usize % 7).into_bytes())
    }

    #[test]
    fn the_parts_are_written_in_order_whatever_the_threads() {
        let parts: Vec<u32> = (0..500).collect();
        let mut one = Vec::new();
        write_ordered(&mut one, 1, &parts, part).unwrap();
        let expected: Vec<u8> = parts.iter().flat_map(|i| part(i).unwrap()).collect();
        assert_eq!(one, expected);
        for threads in [2, 3, 8] {
            let mut many = Vec::new();
            write_ordered(&mut many, threads, &parts, part).unwrap();
            assert_eq!(many, expected, "{threads} threads");
        }
    }

    #[test]
    fn a_part_that_fails_stops_the_writing_with_its_error() {
        let parts: Vec<u32> = (0..100).collect();
        let failing = |i: &u32| if *i == 40 { Err(io::Error::other("part 40")) } else { part(i) };
        let mut out = Vec::new();
        let error = write_ordered(&mut out, 2, &parts, failing).unwrap_err();
        assert_eq!(error.to_string(), "part 40");
        let before: Vec<u8> = parts[..40].iter().flat_map(|i| part(i).unwrap()).collect();
        assert!(out.len() <= before.len() && before.starts_with(&out), "only parts before the failing one are written");
    }

    #[test]
    fn a_sink_that_fails_stops_the_threads() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk full"));
                }
                self.0 -= 1;
                Ok(bytes.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let parts: Vec<u32> = (1..1000).collect();
        let error = write_ordered(&mut Full(3), 2, &parts, part).unwrap_err();
        assert_eq!(error.to_string(), "disk full");
    }

    #[test]
    #[should_panic(expected = "part 7 panicked")]
    fn a_thread_that_panics_panics_the_caller() {
        let parts: Vec<u32> = (0..20).collect();
        let _ =
            write_ordered(&mut Vec::new(), 2, &parts, |i| if *i == 7 { panic!("part 7 panicked") } else { part(i) });
    }
}
