//! `aims-repl`: reserved for the what-if REPL (issue 3).
//!
//! The crate exists so the workspace has its final shape; it depends only on
//! `aims-lang` and must stay that way (see ARCHITECTURE.md).
