//! `aims-repl`: the what-if REPL, `aims repl [PATH]`.
//!
//! Load a project once, then ask questions and try edits: evaluate
//! expressions, look at a control's outcomes, change a fact or the date and
//! see exactly what changed (outcomes, residual risks, objectives,
//! findings), undo, save and compare scenarios. The engine is incremental,
//! so an edit re-evaluates only what it touches.
//!
//! [`session::Session`] is the REPL without a terminal (what the tests
//! drive); [`run`] puts it behind a rustyline prompt with completion and
//! history. This crate depends on `aims-lang` only.

#![warn(missing_docs)]

pub mod complete;
pub mod diff;
pub mod parse;
pub mod session;
mod terminal;

pub use session::{Edit, Reply, Session};
pub use terminal::run;

#[cfg(test)]
mod agreement_tests;
#[cfg(test)]
mod tests;
