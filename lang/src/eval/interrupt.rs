//! Interrupting an evaluation from another thread (a person's Ctrl-C at
//! the REPL): an [`Interrupt`] handle, shared by every thread and query of
//! an engine's evaluation, and the [`Interrupted`] error of a call it
//! stopped.
//!
//! The long loops of evaluation (every few thousand expressions, every
//! chunk of facts) pass a checkpoint. A checkpoint inside
//! [`Interrupt::run`] that finds an interrupt requested unwinds the way
//! salsa cancels a query (`salsa::Cancelled`), so no half-computed result
//! is ever memoized, and `run` turns the unwinding into
//! `Err(Interrupted)`. Outside `run` a checkpoint does nothing: a front
//! end that never asks for interruption (the CLI, the language server)
//! cannot be interrupted by accident.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// The call was stopped by [`Interrupt::interrupt`] before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// A handle that stops an engine's work under way, from any thread.
///
/// `Send + Sync` and cheap to clone: every clone is the same handle. See
/// [`Engine::interrupt_handle`](crate::Engine::interrupt_handle).
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicU8>);

thread_local! {
    /// The handle of the innermost [`Interrupt::run`] on this thread.
    static CURRENT: std::cell::RefCell<Option<Interrupt>> = const { std::cell::RefCell::new(None) };
}

/// A checkpoint of the [`Interrupt::run`] under way on this thread, if
/// any: for a front end's own long loops (a REPL building a diff of
/// thousands of outcomes) that have no handle at hand.
pub fn checkpoint() {
    CURRENT.with(|current| {
        if let Some(interrupt) = &*current.borrow() {
            interrupt.checkpoint();
        }
    });
}

/// The handle of the [`Interrupt::run`] under way on this thread, if any:
/// for work handed to other threads, which have no run of their own and
/// stop when [`Interrupt::is_requested`] says so.
pub(crate) fn current() -> Option<Interrupt> {
    CURRENT.with(|current| current.borrow().clone())
}

/// An interrupt was asked for and not yet taken back.
const REQUESTED: u8 = 0b01;
/// A call inside [`Interrupt::run`] is under way: checkpoints may unwind.
const ARMED: u8 = 0b10;

impl Interrupt {
    /// A new handle, shared with nothing yet.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Asks the call running inside [`Interrupt::run`] to stop at its next
    /// checkpoint (or the next call, if none is running). Async-signal-safe:
    /// one atomic operation.
    pub fn interrupt(&self) {
        self.0.fetch_or(REQUESTED, Ordering::SeqCst);
    }

    /// Whether an interrupt was asked for and not taken back yet.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst) & REQUESTED != 0
    }

    /// Takes back an interrupt that was asked for (a Ctrl-C pressed
    /// between two commands should not stop the next one).
    pub fn clear(&self) {
        self.0.fetch_and(!REQUESTED, Ordering::SeqCst);
    }

    /// Runs `f` so that [`Interrupt::interrupt`] stops it: `Err(Interrupted)`
    /// if a checkpoint inside it found an interrupt requested (the request
    /// is then taken back). Whatever `f` changed before that stays changed:
    /// undo it if it matters.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T, Interrupted> {
        let was_armed = self.0.fetch_or(ARMED, Ordering::SeqCst) & ARMED != 0;
        let outer = CURRENT.with(|current| current.replace(Some(self.clone())));
        let result = std::panic::catch_unwind(AssertUnwindSafe(f));
        CURRENT.with(|current| *current.borrow_mut() = outer);
        let requested = if was_armed {
            // Nested: the request stays, so the outer call stops too.
            self.is_requested()
        } else {
            // A request that came while the call ran was for that call: it
            // finished or stopped, so the request is taken back with the
            // arming. A request made while nothing runs applies to the next.
            self.0.fetch_and(!(ARMED | REQUESTED), Ordering::SeqCst) & REQUESTED != 0
        };
        match result {
            Ok(value) => Ok(value),
            // Only this handle's own unwinding (or salsa's report of it from
            // a thread it stopped) becomes `Interrupted`; any other panic
            // goes on.
            Err(payload) if payload.is::<salsa::Cancelled>() && requested => Err(Interrupted),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }

    /// A checkpoint: inside [`Interrupt::run`], with an interrupt
    /// requested, unwinds to `run` (which returns `Err(Interrupted)`);
    /// otherwise returns at once. For the long loops of a front end's own
    /// work done inside `run`.
    pub fn checkpoint(&self) {
        if self.0.load(Ordering::Relaxed) == REQUESTED | ARMED {
            // The payload salsa itself unwinds with, so that a query it
            // stops is never memoized and a thread that waited on it
            // reports a cancellation too.
            std::panic::resume_unwind(Box::new(salsa::Cancelled::Local));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_unwinds_only_inside_run() {
        let interrupt = Interrupt::new();
        interrupt.interrupt();
        interrupt.checkpoint();
        assert!(interrupt.is_requested(), "outside run a checkpoint neither stops nor takes the request back");
        let mut reached = false;
        let result = interrupt.run(|| {
            interrupt.checkpoint();
            reached = true;
        });
        assert_eq!(result, Err(Interrupted));
        assert!(!reached);
        assert!(!interrupt.is_requested(), "the stopped call took the request back");
        assert_eq!(interrupt.run(|| 42), Ok(42), "the next call runs to its end");
    }

    #[test]
    fn the_free_checkpoint_answers_the_run_under_way() {
        checkpoint();
        let interrupt = Interrupt::new();
        interrupt.interrupt();
        checkpoint();
        assert_eq!(interrupt.run(checkpoint), Err(Interrupted));
        interrupt.interrupt();
        checkpoint();
        assert!(interrupt.is_requested(), "after run, the thread has no interrupt under way");
    }

    #[test]
    fn another_panic_is_not_an_interrupt() {
        let interrupt = Interrupt::new();
        interrupt.interrupt();
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| interrupt.run(|| std::panic::panic_any("a bug"))));
        assert!(caught.is_err(), "a real panic goes on through run");
        // Nor is a salsa cancellation nobody asked for.
        interrupt.clear();
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            interrupt.run(|| std::panic::resume_unwind(Box::new(salsa::Cancelled::Local)))
        }));
        assert!(caught.is_err());
    }

    #[test]
    fn an_interrupt_from_another_thread_stops_a_loop_of_checkpoints() {
        let interrupt = Interrupt::new();
        let remote = interrupt.clone();
        let (started, wait) = std::sync::mpsc::channel();
        let stopper = std::thread::spawn(move || {
            let _ = wait.recv();
            remote.interrupt();
        });
        let mut rounds = 0u64;
        let result = interrupt.run(|| loop {
            if rounds == 0 {
                let _ = started.send(());
            }
            rounds += 1;
            interrupt.checkpoint();
        });
        assert_eq!(result, Err(Interrupted));
        stopper.join().expect("the other thread ends");
        assert!(rounds > 0);
    }
}
