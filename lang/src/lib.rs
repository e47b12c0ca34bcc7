//! `aims-lang`: the engine of `aims`, an ISO/IEC 42001 AI management system as code.
//!
//! The pipeline runs one way: [`syntax`] parses `.aims` files, [`sema`]
//! resolves names and checks types into a [`sema::Program`], [`facts`]
//! loads and validates the organisation's facts against the program's
//! entity schemas, [`eval`] evaluates every rule as of a date, and
//! [`report`] turns the result into the views people read. [`diag`] holds
//! the one diagnostic type every stage reports with.
//!
//! This crate knows nothing of terminals, editors or JSON-RPC.

pub mod diag;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod ir;
pub mod project;
pub mod sema;
pub mod stdlib;
pub mod syntax;
pub mod time;

pub use engine::{Engine, LoadFailure};
pub mod db;
pub mod report;
pub mod testing;
pub mod whatif;
