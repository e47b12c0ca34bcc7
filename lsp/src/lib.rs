//! `aims-lsp`: reserved for the language server (issue 4).
//!
//! The crate exists so the workspace has its final shape; it depends only on
//! `aims-lang` and must stay that way (see ARCHITECTURE.md).
