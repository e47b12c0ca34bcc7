//! `aims-lang`: the engine of `aims`, an ISO/IEC 42001 AI management system as code.
//!
//! The pipeline runs one way: [`syntax`] parses `.aims` files, `sema`
//! resolves names and checks types into a [`ir::Program`], [`facts`]
//! loads and validates the organisation's facts against the program's
//! entity schemas, [`eval`] evaluates every rule as of a date, and
//! [`report`] turns the result into the views people read. [`diag`] holds
//! the one diagnostic type every stage reports with.
//!
//! Every stage runs as a salsa query in `db`, so after an edit only what
//! depends on it is recomputed; [`Engine`] is the API over the database
//! that the CLI, the REPL and embedding services use.
//!
//! This crate knows nothing of terminals, editors or JSON-RPC.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The public surface: eight modules, and the engine's main types at the
// root. Everything else is the engine's own business.
pub mod engine;
pub mod eval;
pub mod facts;
pub mod ir;
pub mod measure;
pub mod project;
pub mod report;
pub mod syntax;

/// Diagnostics: the one type every stage reports problems with (from
/// `aims-syntax`, the layer every other one reads).
pub use aims_syntax::diag;

mod analysis;
mod builtins;
mod db;
mod ide;
mod prefetch;
mod sema;
mod stdlib;
mod testing;
mod timeline;
mod whatif;

pub use analysis::{Analysis, Cancellable, Cancelled, FailingEntity, RuleSummary};
pub use engine::{Engine, LoadFailure};
pub use time::{Date, Duration};

// The lower layer's modules under the names the engine has always used.
use aims_syntax::{format, num, time};
