//! `aims-lsp`: the language server, `aims lsp`.
//!
//! It serves the Language Server Protocol over stdio with
//! `tower-lsp-server` on tokio. One [`aims_lang::Engine`] (one salsa
//! database) holds the project; the analyses are `aims_lang::ide`'s, and
//! this crate only turns LSP requests into them and their answers back
//! into LSP types (see `docs/editors.md` for the features).
//!
//! - [`backend`]: the `LanguageServer` implementation, async shells
//!   around blocking tasks;
//! - [`state`]: the engine behind a mutex, the documents, snapshots, and
//!   why nothing deadlocks;
//! - `files`: documents and files, opening the project;
//! - `handlers`: one module per feature;
//! - `line_index`, `convert`: positions and diagnostics in LSP terms.
//!
//! Depends only on `aims-lang` (see ARCHITECTURE.md).

pub mod backend;
mod convert;
mod files;
mod handlers;
mod line_index;
pub mod state;

use std::process::ExitCode;
use std::sync::atomic::Ordering;

pub use backend::Backend;
pub use line_index::Encoding;
use tower_lsp_server::{ClientSocket, LspService, Server};

/// The service and its client socket (for tests, and for [`serve_stdio`]).
pub fn service() -> (LspService<Backend>, ClientSocket) {
    LspService::new(Backend::new)
}

/// Serves the Language Server Protocol on stdin/stdout until the client
/// exits: exit code 0 after a `shutdown` request, 1 without one (as the
/// protocol asks), 3 if the server cannot start.
pub fn serve_stdio() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("aims lsp: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let clean = runtime.block_on(async {
        let (service, socket) = service();
        let shared = service.inner().shared();
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
        shared.shutdown.load(Ordering::SeqCst)
    });
    // Reading stdin blocks a thread that may never return: do not wait for it.
    runtime.shutdown_background();
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
