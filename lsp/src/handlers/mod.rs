//! One module per LSP feature: each turns a request into the `lang::ide`
//! analysis it needs, on a [`crate::state::Snapshot`], and converts the
//! answer. Nothing here locks, awaits or writes.

pub mod code_actions;
pub mod code_lens;
pub mod completion;
pub mod diagnostics;
pub mod formatting;
pub mod hover;
pub mod navigation;
pub mod semantic_tokens;
pub mod symbols;
