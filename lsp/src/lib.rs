//! `aims-lsp`: the language server, `aims lsp`.
//!
//! It serves the Language Server Protocol over stdio with
//! `tower-lsp-server` on tokio. One [`aims_lang::Engine`] (one salsa
//! database) holds the project; the analyses are read from an
//! [`aims_lang::Analysis`] snapshot of it, and
//! this crate only turns LSP requests into them and their answers back
//! into LSP types (see `docs/editors.md` for the features).
//!
//! - [`backend`]: the `LanguageServer` implementation, async shells
//!   around blocking tasks;
//! - [`state`]: the engine behind a mutex, the documents, snapshots, and
//!   why nothing deadlocks;
//! - `files`: documents and files, opening the project;
//! - `publish`: diagnostics after a change; `watch`: fact files polled
//!   for clients that cannot watch them;
//! - `handlers`: one module per feature;
//! - `line_index`, `convert`: positions and diagnostics in LSP terms;
//! - `stdlib_files`: the stdlib modules as files, for go to definition;
//! - [`transport`]: stdin made safe against malformed messages; `output`:
//!   one writer for the messages of `tower-lsp-server` and the
//!   diagnostics the server serializes itself.
//!
//! Depends only on `aims-lang` (see ARCHITECTURE.md).

#![warn(missing_docs)]

pub mod backend;
mod convert;
mod files;
mod handlers;
mod line_index;
mod output;
mod publish;
pub mod state;
mod stdlib_files;
pub mod transport;
mod watch;

use std::process::ExitCode;
use std::sync::atomic::Ordering;

pub use backend::Backend;
pub use line_index::Encoding;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{ClientSocket, LspService, Server};

/// The service and its client socket (for tests, and for [`serve`]).
pub fn service() -> (LspService<Backend>, ClientSocket) {
    LspService::build(Backend::new)
        .custom_method(transport::PARSE_ERROR, Backend::parse_error)
        .custom_method(transport::INVALID_REQUEST, Backend::invalid_request)
        .finish()
}

/// Serves the protocol on `input` and `output` until the client exits;
/// returns whether it asked to shut down first.
pub async fn serve<I, O>(input: I, output: O) -> bool
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
{
    let (service, socket) = service();
    let shared = service.inner().shared();
    // Malformed messages are replaced before the framed reader sees them.
    let (sanitized, pipe) = tokio::io::duplex(1 << 16);
    let sanitizer = tokio::spawn(transport::sanitize(input, sanitized));
    let (messages, server_output, writer) = output::output();
    let _ = shared.messages.set(messages.clone());
    let writing = tokio::spawn(writer.run(output));
    Server::new(pipe, server_output, socket).serve(service).await;
    sanitizer.abort();
    // What is queued goes out, unless the client stopped reading.
    let drained = async {
        messages.end().await;
        let _ = writing.await;
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drained).await;
    shared.shutdown.load(Ordering::SeqCst)
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
    let clean = runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Reading stdin blocks a thread that may never return: do not wait for it.
    runtime.shutdown_background();
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
