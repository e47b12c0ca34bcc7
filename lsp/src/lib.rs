//! `aims-lsp`: the language server, `aims lsp` (issue 4).
//!
//! Depends only on `aims-lang` (see ARCHITECTURE.md).

/// Serves the Language Server Protocol on stdin/stdout until the client exits.
pub fn serve_stdio() -> std::process::ExitCode {
    eprintln!("aims: the language server is not built yet");
    std::process::ExitCode::from(3)
}
