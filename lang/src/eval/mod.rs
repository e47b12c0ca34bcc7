//! Evaluation: every rule, risk and objective of a program over a fact
//! store, as of a date.
//!
//! The unit of work is one rule for one entity (`rule_outcome`): a pure
//! function of the program, that entity's facts, the facts it reaches and
//! the date. Everything else (risks, objectives, exceptions, findings) is
//! derived from those outcomes. Time is only ever `as_of`.
//!
//! One file per responsibility: `rules` (outcomes and the whole
//! evaluation), `risks`, `objectives`, `findings`, `observe` (what a failed
//! condition read), `messages` (how a failure reads), `parallel` (a small
//! thread pool for large evaluations), `results` (the types they produce),
//! `budget` (the limits of an evaluation).

pub mod budget;
mod compiled;
mod expr;
mod finding_list;
mod findings;
pub(crate) mod interrupt;
mod messages;
mod objectives;
mod observe;
mod outcomes;
mod parallel;
pub(crate) mod reads;
mod results;
mod risks;
mod rules;
pub(crate) mod text;

// The public surface is the results and the key order the front ends sort
// by; the evaluator itself is driven through the engine.
pub use outcomes::{
    cmp_keys, int_keyed, ChunkIter, FailingCursor, Failures, Key, KeyRef, OutcomeChunk, OutcomeRef, Outcomes,
};
pub use results::{
    Evaluation, ExceptionResult, FailReason, Failure, Finding, FindingSource, ObjectiveResult, Outcome, RiskEntry,
    RiskResult, RuleResult,
};

pub use compiled::Evaluator;
pub(crate) use expr::{Env, Partial};
pub use finding_list::Findings;
pub use findings::KeyOrder;
pub(crate) use findings::{rule_findings, Made};
pub(crate) use messages::{failure_message, single_line, violation_message};
pub(crate) use objectives::{objective_result, objective_result_with};
pub use observe::Observed;
pub(crate) use observe::{observed_paths, show, show_observed, write_observed};
pub(crate) use parallel::{parallel_map, parallel_map_with, threads};
pub(crate) use risks::{risk_entry, risk_result};
pub(crate) use rules::{derive_with, evaluate_within, outcomes_of_rows, raw_outcome, waiver};

/// The variables of one evaluation: on the stack for the usual few, so an
/// outcome or a function call allocates nothing for them.
pub(crate) type Frame = smallvec::SmallVec<[Value; 8]>;

/// A frame of `slots` variables (at least one), all absent.
pub(crate) fn new_frame(slots: u32) -> Frame {
    smallvec::smallvec![Value::Absent; slots.max(1) as usize]
}

use crate::ir::Value;

/// Facts per chunk: the unit of re-evaluation after a fact changes (the
/// incremental engine stores facts in chunks of this size, and memoizes
/// each rule's outcomes per chunk). Four of the compiled evaluation's
/// 64-row blocks: a first evaluation of 100,000 facts makes a quarter as
/// many per-chunk queries as with chunks of one block (salsa's bookkeeping
/// of each was still a tenth of it with chunks of two), and a what-if
/// re-evaluates 256 facts per rule, its rules shared out among the cores
/// (`db::prewarm_chunk`).
pub const CHUNK_ROWS: usize = 256;

/// Chunks per block of partial aggregates (2,048 facts): after an edit
/// one chunk, one block and the blocks are recombined, not every chunk.
pub const CHUNKS_PER_BLOCK: usize = 16;
