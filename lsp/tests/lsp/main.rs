//! In-process tests of the language server: each drives `LspService`
//! through its client socket, as an editor would.

mod support;

mod diagnostics;
mod editing;
mod editors;
mod facts;
mod navigation;
mod robustness;
mod wire;
