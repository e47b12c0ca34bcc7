//! A client for the in-process tests: drives the `LspService` through its
//! socket, answers the server's requests, and collects what it publishes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aims_lsp::Backend;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tower::{Service, ServiceExt};
use tower_lsp_server::jsonrpc::{self, Id, Request, Response};
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::request::Request as LspRequest;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::LspService;

/// What the server sent the client.
#[derive(Default)]
pub struct Inbox {
    /// The latest diagnostics of each document.
    pub diagnostics: HashMap<Uri, Vec<Diagnostic>>,
    /// How many times diagnostics were published.
    pub publications: usize,
    /// The version of every publication of each document, in order.
    pub versions: HashMap<Uri, Vec<Option<i32>>>,
    /// Methods of the requests the server made (register_capability...).
    pub requests: Vec<(String, Value)>,
}

pub struct TestClient {
    service: LspService<Backend>,
    next_id: i64,
    pub inbox: Arc<Mutex<Inbox>>,
    pub root: PathBuf,
    _folder: Option<tempfile::TempDir>,
}

/// A copy of the fixture project in a temporary folder.
pub fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture"), dir.path());
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

pub fn uri(path: &Path) -> Uri {
    Uri::from_file_path(path).expect("an absolute path")
}

/// Client capabilities like an editor's: UTF-16 unless told otherwise,
/// snippets, hierarchical symbols, watched files, code lens refresh.
pub fn capabilities(encodings: &[&'static str]) -> ClientCapabilities {
    serde_json::from_value(json!({
        "general": { "positionEncodings": encodings },
        "textDocument": {
            "completion": { "completionItem": { "snippetSupport": true } },
            "documentSymbol": { "hierarchicalDocumentSymbolSupport": true },
        },
        "workspace": {
            "didChangeWatchedFiles": { "dynamicRegistration": true },
            "codeLens": { "refreshSupport": true },
        },
    }))
    .expect("capabilities")
}

impl TestClient {
    /// A server on a copy of the fixture project, initialized.
    pub async fn fixture() -> TestClient {
        let folder = fixture();
        let root = folder.path().canonicalize().expect("canonical");
        let mut client = TestClient::start(Some(&root), capabilities(&["utf-16"])).await;
        client._folder = Some(folder);
        client
    }

    /// A server on `root` (or no folder), initialized with `capabilities`.
    pub async fn start(root: Option<&Path>, capabilities: ClientCapabilities) -> TestClient {
        TestClient::start_with(root, capabilities, None).await
    }

    /// [`TestClient::start`] with initialization options.
    pub async fn start_with(
        root: Option<&Path>,
        capabilities: ClientCapabilities,
        options: Option<Value>,
    ) -> TestClient {
        let (service, socket) = aims_lsp::service();
        let inbox: Arc<Mutex<Inbox>> = Arc::default();
        let (mut requests, mut responses) = socket.split();
        let sink = inbox.clone();
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                let (method, id, params) = request.into_parts();
                {
                    let mut inbox = sink.lock().expect("inbox");
                    if method == "textDocument/publishDiagnostics" {
                        if let Ok(p) = serde_json::from_value::<PublishDiagnosticsParams>(params.unwrap_or_default()) {
                            inbox.versions.entry(p.uri.clone()).or_default().push(p.version);
                            inbox.diagnostics.insert(p.uri, p.diagnostics);
                            inbox.publications += 1;
                        }
                    } else {
                        inbox.requests.push((method.to_string(), params.unwrap_or_default()));
                    }
                }
                if let Some(id) = id {
                    let _ = responses.send(Response::from_ok(id, Value::Null)).await;
                }
            }
        });
        let mut client = TestClient {
            service,
            next_id: 0,
            inbox,
            root: root.map(Path::to_path_buf).unwrap_or_default(),
            _folder: None,
        };
        let folders = root.map(|r| vec![WorkspaceFolder { uri: uri(r), name: "test".into() }]);
        #[allow(deprecated)]
        let params = InitializeParams {
            capabilities,
            workspace_folders: folders,
            initialization_options: options,
            ..InitializeParams::default()
        };
        let result: InitializeResult = client.request::<request::Initialize>(params).await.expect("initialize");
        assert!(result.capabilities.hover_provider.is_some());
        client.notify::<notification::Initialized>(InitializedParams {}).await;
        client
    }

    /// Sends a raw JSON-RPC message and returns the response, if any.
    pub async fn raw(&mut self, request: Request) -> Option<Response> {
        let service = self.service.ready().await.expect("the service is ready");
        service.call(request).await.expect("the service answers")
    }

    /// A request, its result deserialized.
    pub async fn request<R: LspRequest>(&mut self, params: R::Params) -> Result<R::Result, jsonrpc::Error> {
        self.next_id += 1;
        let request =
            Request::build(R::METHOD).id(self.next_id).params(serde_json::to_value(params).expect("params")).finish();
        let response = self.raw(request).await.expect("a response to a request");
        let (id, body) = response.into_parts();
        assert_eq!(id, Id::Number(self.next_id));
        body.map(|value| serde_json::from_value(value).expect("a well-formed result"))
    }

    pub async fn notify<N: Notification>(&mut self, params: N::Params) {
        let request = Request::build(N::METHOD).params(serde_json::to_value(params).expect("params")).finish();
        assert!(self.raw(request).await.is_none(), "a notification has no response");
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn uri(&self, relative: &str) -> Uri {
        uri(&self.path(relative))
    }

    /// Opens a document with the text on disk, or `text`.
    pub async fn open(&mut self, relative: &str, text: Option<&str>) -> String {
        let text = match text {
            Some(t) => t.to_string(),
            None => std::fs::read_to_string(self.path(relative)).expect("the file"),
        };
        let item =
            TextDocumentItem { uri: self.uri(relative), language_id: "aims".into(), version: 1, text: text.clone() };
        self.notify::<notification::DidOpenTextDocument>(DidOpenTextDocumentParams { text_document: item }).await;
        text
    }

    /// Replaces a range of a document (an incremental change).
    pub async fn edit(&mut self, uri: &Uri, version: i32, range: Option<Range>, text: &str) {
        let params = DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier { uri: uri.clone(), version },
            content_changes: vec![TextDocumentContentChangeEvent { range, range_length: None, text: text.into() }],
        };
        self.notify::<notification::DidChangeTextDocument>(params).await;
    }

    /// Sends a change without waiting for the server to handle it (as a
    /// real client does, while the server handles messages concurrently).
    pub async fn edit_in_background(&mut self, uri: &Uri, version: i32, text: &str) -> tokio::task::JoinHandle<()> {
        let params = DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier { uri: uri.clone(), version },
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text.into(),
            }],
        };
        let request = Request::build(<notification::DidChangeTextDocument as Notification>::METHOD)
            .params(serde_json::to_value(params).expect("params"))
            .finish();
        let service = self.service.ready().await.expect("the service is ready");
        let handled = service.call(request);
        tokio::spawn(async move {
            let _ = handled.await;
        })
    }

    /// Sends a whole-text change without waiting for its diagnostics, but
    /// after the server has taken it: changes sent one after another are
    /// applied in that order, as from a real client's stream (the handler
    /// applies a change before its first `.await`, so one poll is enough).
    pub async fn edit_in_order(&mut self, uri: &Uri, version: i32, text: &str) -> tokio::task::JoinHandle<()> {
        let params = DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier { uri: uri.clone(), version },
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text.into(),
            }],
        };
        let request = Request::build(<notification::DidChangeTextDocument as Notification>::METHOD)
            .params(serde_json::to_value(params).expect("params"))
            .finish();
        let service = self.service.ready().await.expect("the service is ready");
        let mut handled = Box::pin(service.call(request));
        let done = futures::poll!(handled.as_mut()).is_ready();
        tokio::spawn(async move {
            if !done {
                let _ = handled.await;
            }
        })
    }

    /// The versions of a document's publications, in order.
    pub fn versions(&self, uri: &Uri) -> Vec<Option<i32>> {
        self.inbox.lock().expect("inbox").versions.get(uri).cloned().unwrap_or_default()
    }

    /// The latest diagnostics of a document.
    pub fn diagnostics(&self, uri: &Uri) -> Vec<Diagnostic> {
        self.inbox.lock().expect("inbox").diagnostics.get(uri).cloned().unwrap_or_default()
    }

    /// Waits (up to ten seconds) until the diagnostics of a document satisfy `ready`.
    pub async fn wait_for(&self, uri: &Uri, ready: impl Fn(&[Diagnostic]) -> bool) -> Vec<Diagnostic> {
        for _ in 0..1000 {
            let found = self.diagnostics(uri);
            if ready(&found) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("diagnostics of {} never got ready: {:#?}", uri.as_str(), self.diagnostics(uri));
    }

    pub fn position_params(&self, uri: &Uri, position: Position) -> TextDocumentPositionParams {
        TextDocumentPositionParams { text_document: TextDocumentIdentifier { uri: uri.clone() }, position }
    }
}

/// The position of the `nth` occurrence of `needle` in `text`, plus `within`
/// characters, in UTF-16 units.
pub fn position(text: &str, needle: &str, nth: usize, within: usize) -> Position {
    let at = text.match_indices(needle).nth(nth).map(|(i, _)| i).expect("needle in text");
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let mut character: u32 = text[line_start..at].chars().map(|c| c.len_utf16() as u32).sum();
    character += needle.chars().take(within).map(|c| c.len_utf16() as u32).sum::<u32>();
    Position { line, character }
}

/// Codes of diagnostics.
pub fn codes(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .filter_map(|d| match &d.code {
            Some(NumberOrString::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

impl TestClient {
    /// The service, to send messages without waiting for their answers.
    pub fn service_mut(&mut self) -> &mut LspService<Backend> {
        &mut self.service
    }

    /// How many of the server's tasks panicked.
    pub fn failures(&self) -> u64 {
        self.service.inner().shared().failures.load(std::sync::atomic::Ordering::SeqCst)
    }
}
