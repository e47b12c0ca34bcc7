//! Interrupting an engine from another thread: the interrupted call
//! returns `Err(Interrupted)`, and the engine then answers as a fresh one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::engine::Interrupted;
use crate::facts::{Format, Mapping};
use crate::Date;
use crate::Engine;

/// A rule that compares every system with every other one, but only once
/// a system is due: cheap as of 2026-01-01, quadratic after 2026-06-01.
const POLICY: &str = r#"
entity S { id: Text key, v: Int, due: Date }
control rare "Few systems share a value" severity minor
  for s: S where s.due < today
{
  require count(t for t: S where t.v == s.v) < 3 because "a shared value is suspicious"
}
"#;

fn engine(n: usize) -> Engine {
    let rows: Vec<String> =
        (0..n).map(|i| format!(r#"{{"id": "s{i}", "v": {}, "due": "2026-06-01"}}"#, i % (n / 4).max(1))).collect();
    let facts = format!(r#"{{"S": [{}]}}"#, rows.join(","));
    Engine::from_texts("policy.aims", POLICY, &[("facts.json", Format::Json, Mapping::default(), &facts)])
        .unwrap_or_else(|f| panic!("{:?}", f.diagnostics))
}

fn date(text: &str) -> Date {
    Date::parse(text).expect("a date")
}

/// Interrupts `engine`'s handle from another thread as soon as its
/// evaluation has spent steps, until `done` is set.
fn interrupter(engine: &Engine, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let handle = engine.interrupt_handle();
    let spent = engine.ws.spent(&engine.db).clone();
    std::thread::spawn(move || {
        while !done.load(Ordering::SeqCst) {
            if spent.steps() > 0 {
                handle.interrupt();
            }
            std::thread::yield_now();
        }
    })
}

#[test]
fn an_interrupt_from_another_thread_stops_an_evaluation_and_the_next_one_is_right() {
    let mut engine = engine(800);
    engine.set_as_of(date("2026-01-01"));
    let cheap = engine.evaluation();
    assert_eq!(cheap.findings.len(), 0, "nothing is due yet");

    engine.set_as_of(date("2027-01-01"));
    let done = Arc::new(AtomicBool::new(false));
    let thread = interrupter(&engine, done.clone());
    let interrupted = engine.interruptible(|e| e.evaluation());
    done.store(true, Ordering::SeqCst);
    thread.join().expect("the interrupting thread ends");
    // The interrupter may have asked again after the call ended, while
    // nothing ran: such a request is for the next call, and this test's
    // next call is meant to run.
    engine.interrupt_handle().clear();
    assert_eq!(interrupted.map(|_| ()), Err(Interrupted));
    let spent = engine.ws.spent(&engine.db).steps();
    assert!(spent < 800 * 800, "stopped before the end: {spent} steps of {}", 800 * 800);

    // The next call runs to its end, and nothing half-computed was kept.
    let after = engine.interruptible(|e| e.evaluation()).expect("not interrupted again");
    let fresh = engine.fresh_copy().evaluation();
    assert_eq!(*after, *fresh);
    assert_eq!(after.findings.len(), 800, "four systems share each value");
}

#[test]
fn an_interrupt_stops_an_expression_and_the_engine_goes_on() {
    let engine = engine(800);
    let file = crate::diag::FileId(99);
    let heavy = "count(s for s: S where count(t for t: S where t.v == s.v) > 1)";
    let done = Arc::new(AtomicBool::new(false));
    let handle = engine.interrupt_handle();
    let stopper = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                handle.interrupt();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
    };
    let interrupted = engine.interruptible(|e| e.eval_expression(file, heavy));
    done.store(true, Ordering::SeqCst);
    stopper.join().expect("the interrupting thread ends");
    assert_eq!(interrupted.map(|_| ()), Err(Interrupted));
    engine.interrupt_handle().clear();
    let value = engine.interruptible(|e| e.eval_expression(file, "40 + 2")).expect("not interrupted");
    assert_eq!(value.map(|v| v.shown), Ok("42".to_string()));
}

#[test]
fn outside_interruptible_an_interrupt_changes_nothing() {
    let mut engine = engine(64);
    engine.set_as_of(date("2027-01-01"));
    let handle = engine.interrupt_handle();
    handle.interrupt();
    // The CLI never asks to be interrupted: its evaluation runs to the end.
    let evaluation = engine.evaluation();
    assert_eq!(*evaluation, *engine.fresh_copy().evaluation());
    assert!(handle.is_requested(), "the request waits for an interruptible call");
    assert!(engine.interruptible(|e| e.as_of()).is_ok(), "a call that evaluates nothing is not stopped");
}

#[test]
fn fresh_copies_share_the_handle_and_it_can_be_replaced() {
    let mut engine = engine(64);
    let handle = engine.interrupt_handle();
    let copy = engine.fresh_copy();
    copy.interrupt_handle().interrupt();
    assert!(handle.is_requested(), "a fresh copy answers the same handle");
    handle.clear();
    let other = crate::engine::Interrupt::new();
    engine.set_interrupt_handle(other.clone());
    other.interrupt();
    assert!(engine.interrupt_handle().is_requested());
    assert!(!handle.is_requested());
}
