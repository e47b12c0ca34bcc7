//! The `LanguageServer` implementation: every handler is a thin async
//! shell around a blocking task.
//!
//! Notifications that change documents apply the change to the inbox at
//! once (no `.await` before it, so changes are applied in the order they
//! arrive), then ask for an update: updates run one at a time, and one
//! that is no longer the latest is skipped. Requests read a snapshot in a
//! blocking task; if an edit cancels it, the client is told the content
//! was modified. A panic in a task is answered as an internal error: the
//! server keeps running.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aims_lang::Cancellable;
use aims_lang::Date;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::line_index::{Encoding, LineIndex};
use crate::state::{lock, ClientFlags, Document, Shared, Snapshot, State};
use crate::{handlers, publish, watch};

/// The language server.
pub struct Backend {
    client: Client,
    shared: Arc<Shared>,
    encoding: OnceLock<Encoding>,
    flags: OnceLock<ClientFlags>,
    /// How often fact files are polled when the client cannot watch them.
    poll_every: OnceLock<Duration>,
}

/// How often fact files are polled when the client cannot watch them
/// (`initializationOptions.factsPollMilliseconds` sets another period).
const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// The error of a request whose document changed while it was answered.
fn content_modified() -> Error {
    Error { message: "the document changed while the request was answered".into(), ..Error::content_modified() }
}

/// The error of a request refused (a rename that would clash).
fn request_failed(message: String) -> Error {
    Error { code: ErrorCode::ServerError(-32803), message: message.into(), data: None }
}

impl Backend {
    /// A server for one client, with no document open and no project
    /// loaded yet (the client's `initialize` says where the project is).
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            shared: Arc::default(),
            encoding: OnceLock::new(),
            flags: OnceLock::new(),
            poll_every: OnceLock::new(),
        }
    }

    /// The state shared by the handlers.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    fn encoding(&self) -> Encoding {
        self.encoding.get().copied().unwrap_or_default()
    }

    /// Answers a request from a snapshot, in a blocking task.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Snapshot) -> Cancellable<T> + Send + 'static,
        T: Send + 'static,
    {
        let shared = self.shared.clone();
        let task = tokio::task::spawn_blocking(move || {
            let snapshot = shared.snapshot()?;
            let answer = f(&snapshot);
            drop(snapshot);
            Some(answer)
        });
        match task.await {
            Ok(Some(Ok(answer))) => Ok(answer),
            Ok(Some(Err(_cancelled))) => Err(content_modified()),
            Ok(None) => Err(Error::invalid_request()),
            Err(_panicked) => {
                self.shared.failures.fetch_add(1, Ordering::SeqCst);
                Err(Error { message: "the server failed on this request".into(), ..Error::internal_error() })
            }
        }
    }

    /// Publishes the diagnostics after change `change` (see [`crate::publish`]).
    async fn update(&self, change: u64) {
        publish::update(&self.client, &self.shared, change).await;
    }

    /// The answer to a message that was not JSON (see [`crate::transport`]).
    pub async fn parse_error(&self) -> Result<()> {
        Err(Error::parse_error())
    }

    /// The answer to JSON that was not a JSON-RPC message.
    pub async fn invalid_request(&self) -> Result<()> {
        Err(Error::invalid_request())
    }

    /// Watches the project's fact files and policy files on disk.
    async fn watch_files(&self) {
        let paths = self.shared.with_state(|state| state.fact_paths()).unwrap_or_default();
        let mut watchers: Vec<FileSystemWatcher> = paths
            .into_iter()
            .map(|path| FileSystemWatcher { glob_pattern: GlobPattern::String(path.replace('\\', "/")), kind: None })
            .collect();
        watchers.push(FileSystemWatcher { glob_pattern: GlobPattern::String("**/*.aims".into()), kind: None });
        let Ok(options) = serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers }) else { return };
        let registration = Registration {
            id: "aims-watched-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: Some(options),
        };
        if let Err(e) = self.client.register_capability(vec![registration]).await {
            self.client.log_message(MessageType::WARNING, format!("aims: cannot watch the fact files: {e}")).await;
        }
    }
}

fn flags(capabilities: &ClientCapabilities) -> ClientFlags {
    let text = capabilities.text_document.as_ref();
    let workspace = capabilities.workspace.as_ref();
    ClientFlags {
        snippets: text
            .and_then(|t| t.completion.as_ref())
            .and_then(|c| c.completion_item.as_ref())
            .and_then(|i| i.snippet_support)
            .unwrap_or(false),
        code_lens_refresh: workspace
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
        watch_files: workspace
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        hierarchical_symbols: text
            .and_then(|t| t.document_symbol.as_ref())
            .and_then(|d| d.hierarchical_document_symbol_support)
            .unwrap_or(false),
    }
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            ..TextDocumentSyncOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: handlers::semantic_tokens::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: Some(false),
                ..SemanticTokensOptions::default()
            },
        )),
        ..ServerCapabilities::default()
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let offered = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref());
        let encoding = Encoding::negotiate(offered);
        let flags = flags(&params.capabilities);
        let _ = self.encoding.set(encoding);
        let _ = self.flags.set(flags);
        self.shared.code_lens_refresh.store(flags.code_lens_refresh, Ordering::SeqCst);
        let poll = params.initialization_options.as_ref().and_then(|o| o.get("factsPollMilliseconds")?.as_u64());
        let _ = self.poll_every.set(poll.map_or(DEFAULT_POLL, |ms| Duration::from_millis(ms.max(10))));
        #[allow(deprecated)] // clients that send no workspace folders send a root URI
        let folder = params
            .workspace_folders
            .as_ref()
            .and_then(|folders| folders.first())
            .and_then(|f| crate::files::path_of(&f.uri))
            .or_else(|| params.root_uri.as_ref().and_then(crate::files::path_of));
        let shared = self.shared.clone();
        let opened = tokio::task::spawn_blocking(move || {
            shared.install(State::open(folder.as_deref(), encoding, flags, Date::today_utc()));
        })
        .await;
        if opened.is_err() {
            return Err(Error { message: "the project could not be opened".into(), ..Error::internal_error() });
        }
        Ok(InitializeResult {
            capabilities: capabilities(encoding),
            server_info: Some(ServerInfo { name: "aims".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if self.flags.get().is_some_and(|f| f.watch_files) {
            self.watch_files().await;
        } else {
            let paths: Vec<PathBuf> = self
                .shared
                .with_state(|state| state.fact_paths())
                .unwrap_or_default()
                .into_iter()
                .map(PathBuf::from)
                .collect();
            let every = self.poll_every.get().copied().unwrap_or(DEFAULT_POLL);
            watch::poll(self.client.clone(), self.shared.clone(), paths, every);
        }
        self.update(self.shared.changed()).await;
    }

    async fn shutdown(&self) -> Result<()> {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let change = {
            let mut inbox = lock(&self.shared.inbox);
            let document = Document { version: doc.version, text: doc.text, language: doc.language_id, dirty: true };
            inbox.open.insert(doc.uri, document);
            self.shared.changed()
        };
        self.update(change).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let encoding = self.encoding();
        let change = {
            let mut inbox = lock(&self.shared.inbox);
            let Some(document) = inbox.open.get_mut(&params.text_document.uri) else { return };
            for edit in params.content_changes {
                match edit.range {
                    Some(range) => {
                        let span = LineIndex::new(&document.text, encoding).span(range);
                        document.text.replace_range(span.range(), &edit.text);
                    }
                    None => document.text = edit.text,
                }
            }
            document.version = params.text_document.version;
            document.dirty = true;
            self.shared.changed()
        };
        self.update(change).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let change = {
            let mut inbox = lock(&self.shared.inbox);
            inbox.open.remove(&params.text_document.uri);
            inbox.closed.push(params.text_document.uri);
            self.shared.changed()
        };
        self.update(change).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let change = {
            let mut inbox = lock(&self.shared.inbox);
            inbox.disk.extend(params.changes.into_iter().map(|c| c.uri));
            self.shared.changed()
        };
        self.update(change).await;
        if self.flags.get().is_some_and(|f| f.code_lens_refresh) {
            let _ = self.client.code_lens_refresh().await;
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.read(move |s| handlers::hover::hover(s, &params)).await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        self.read(move |s| handlers::navigation::definition(s, &params)).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.read(move |s| handlers::navigation::references(s, &params)).await
    }

    async fn document_highlight(&self, params: DocumentHighlightParams) -> Result<Option<Vec<DocumentHighlight>>> {
        self.read(move |s| handlers::navigation::highlights(s, &params)).await
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        self.read(move |s| handlers::navigation::prepare_rename(s, &params)).await?.map_err(request_failed)
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.read(move |s| handlers::navigation::rename(s, &params)).await?.map_err(request_failed)
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        self.read(move |s| handlers::symbols::document_symbols(s, &params)).await
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        self.read(move |s| handlers::symbols::workspace_symbols(s, &params)).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.read(move |s| handlers::completion::complete(s, &params)).await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.read(move |s| handlers::formatting::format(s, &params)).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.read(move |s| handlers::code_actions::actions(s, &params)).await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.read(move |s| handlers::code_lens::lenses(s, &params)).await
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        self.read(move |s| handlers::semantic_tokens::full(s, &params)).await
    }
}
