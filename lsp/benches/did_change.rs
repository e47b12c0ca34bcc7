//! From a `didChange` to the published diagnostics, on a policy of 10,000
//! lines, after a one-character edit inside one control.
//!
//! The project: one policy file of about 910 controls (10,000 lines) over
//! 256 systems. Each iteration changes one digit of one control's `let`,
//! which changes how many systems it fails for, so the server publishes
//! new diagnostics every time; the time is measured until the client
//! receives them. The diagnostics hold an information diagnostic per
//! failing control, so the figure covers parsing, checking, evaluating,
//! converting, serializing and writing. The server runs as `aims lsp`
//! runs it (`aims_lsp::serve`), over an in-memory byte stream; the bench
//! client counts a publication's diagnostics once its last byte is read,
//! without decoding them. Two policies: one control in ten failing
//! (about 90 diagnostics), and every control failing (about 910).
//!
//! On the same project (one control in ten failing), two requests:
//! formatting the 10,000-line document (with one line out of shape, so the
//! answer is an edit), and the references of the entity `System` (its
//! declaration and its 910 uses).
//!
//! Run: `cargo bench -p aims-lsp --bench did_change`.

use std::path::Path;
use std::time::{Duration, Instant};

use aims_lsp::transport::{Frame, Framer};
use criterion::{criterion_group, criterion_main, Criterion};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::ls_types::Uri;

// The allocator of the `aims` binary, which runs the server, with the
// options it sets before mimalloc starts (freed memory kept a second, no
// arena committed up front), so that the figures are the server's: the
// same file, not a copy.
#[path = "../../src/allocator.rs"]
mod allocator;

/// About 10,000 lines: a schema and ~910 controls of 11 lines; one
/// control in `failing_every` fails for some systems, the others pass.
fn policy(failing_every: usize) -> String {
    let mut text = String::from(
        "/// A system of the inventory.\nentity System {\n  id: Text key\n  tier: Int\n  owner: Text?\n}\n\n",
    );
    let mut i = 0;
    while text.lines().count() < 10_000 {
        text.push_str(&format!(
            "/// Control {i}.\ncontrol c{i} \"Control {i}\"\n  severity minor\n  for s: System where s.tier >= {low}\n{{\n  let limit = {limit}\n  require s.owner is some\n    because \"every system has an owner\"\n  require s.tier < limit\n}}\n\n",
            low = i % 3,
            limit = if i % failing_every == 0 { 5 } else { 7 },
        ));
        i += 1;
    }
    text
}

/// 256 systems with tiers 0 to 6, every one with an owner.
fn systems() -> String {
    let rows: Vec<Value> =
        (0..256).map(|i| json!({ "id": format!("s{i:03}"), "tier": i % 7, "owner": "someone" })).collect();
    json!({ "System": rows }).to_string()
}

fn project(dir: &Path, failing_every: usize) -> String {
    std::fs::create_dir_all(dir.join("policy")).expect("mkdir");
    std::fs::create_dir_all(dir.join("facts")).expect("mkdir");
    std::fs::write(
        dir.join("aims.toml"),
        "[project]\nname = \"bench\"\nsources = [\"policy\"]\nas_of = \"2026-11-01\"\n\n[[facts]]\npath = \"facts/systems.json\"\n",
    )
    .expect("write");
    let text = policy(failing_every);
    std::fs::write(dir.join("policy/policy.aims"), &text).expect("write");
    std::fs::write(dir.join("facts/systems.json"), systems()).expect("write");
    text
}

/// A client over a byte stream, as `aims lsp` is served: messages are
/// framed and read back as JSON, and a publication counts as received
/// when its last byte is (its diagnostics are counted, not decoded).
struct Client {
    /// Message bodies, for the task that frames and writes them.
    outgoing: mpsc::UnboundedSender<String>,
    /// The number of diagnostics of each publication for the policy file.
    published: mpsc::UnboundedReceiver<usize>,
    /// The result of each answered request, by id.
    answers: mpsc::UnboundedReceiver<(i64, Value)>,
    id: i64,
}

/// What the bench reads of a message from the server.
#[derive(Deserialize)]
struct Incoming {
    id: Option<Value>,
    method: Option<String>,
    #[serde(default)]
    params: Params,
    #[serde(default)]
    result: Value,
}

#[derive(Default, Deserialize)]
struct Params {
    uri: Option<String>,
    diagnostics: Option<Vec<IgnoredAny>>,
}

impl Client {
    async fn send(&mut self, method: &str, params: Value, request: bool) -> Option<i64> {
        let mut message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        let id = request.then(|| {
            self.id += 1;
            message["id"] = json!(self.id);
            self.id
        });
        self.outgoing.send(message.to_string()).expect("the writer runs");
        id
    }

    /// A request's result (`null` for an error).
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, true).await.expect("a request");
        loop {
            let (answered, result) = tokio::time::timeout(Duration::from_secs(60), self.answers.recv())
                .await
                .expect("an answer in time")
                .expect("the server is running");
            if answered == id {
                return result;
            }
        }
    }

    /// Waits for the next publication of diagnostics; returns how many there were.
    async fn published(&mut self) -> usize {
        tokio::time::timeout(Duration::from_secs(60), self.published.recv())
            .await
            .expect("diagnostics in time")
            .expect("the server is running")
    }
}

async fn start(root: &Path, uri: &Uri, text: &str) -> Client {
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (input, output) = tokio::io::split(server_end);
    tokio::spawn(aims_lsp::serve(input, output));
    let (mut reader, mut writer) = tokio::io::split(client_end);
    let (outgoing, mut bodies) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(body) = bodies.recv().await {
            let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
            if writer.write_all(frame.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let (published_tx, published) = mpsc::unbounded_channel();
    let (answers_tx, answers) = mpsc::unbounded_channel();
    let replies = outgoing.clone();
    let policy = uri.as_str().to_string();
    tokio::spawn(async move {
        let mut framer = Framer::default();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            while let Some(Frame::Message(body)) = framer.next_frame() {
                let Ok(message) = serde_json::from_slice::<Incoming>(&body) else { continue };
                match (message.id, message.method) {
                    (_, Some(method)) if method == "textDocument/publishDiagnostics" => {
                        if message.params.uri.as_deref() == Some(policy.as_str()) {
                            let _ = published_tx.send(message.params.diagnostics.map_or(0, |d| d.len()));
                        }
                    }
                    // The server's requests (to watch files, to refresh lenses) are answered `null`.
                    (Some(id), Some(_)) => {
                        let _ = replies.send(json!({ "jsonrpc": "2.0", "id": id, "result": null }).to_string());
                    }
                    (Some(id), None) => {
                        let _ = answers_tx.send((id.as_i64().unwrap_or(-1), message.result));
                    }
                    (None, _) => {}
                }
            }
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => framer.push(&buffer[..n]),
            }
        }
    });
    let mut client = Client { outgoing, published, answers, id: 0 };
    let root_uri = Uri::from_file_path(root).expect("uri");
    let init = json!({ "capabilities": {}, "workspaceFolders": [ { "uri": root_uri.as_str(), "name": "bench" } ] });
    client.request("initialize", init).await;
    client.send("initialized", json!({}), false).await;
    let open = json!({ "textDocument": { "uri": uri.as_str(), "languageId": "aims", "version": 1, "text": text } });
    client.send("textDocument/didOpen", open, false).await;
    client
}

/// Measures edits of one digit of control 501's `let` (to `2` and back:
/// it fails for more systems, then as before) until the diagnostics arrive.
fn scenario(c: &mut Criterion, name: &str, failing_every: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().canonicalize().expect("canonical");
    let text = project(&root, failing_every);
    let uri = Uri::from_file_path(root.join("policy/policy.aims")).expect("uri");
    let control = text.find("control c501 ").expect("control 501");
    let digit = control + text[control..].find("let limit = ").expect("its let") + "let limit = ".len();
    let line = text[..digit].matches('\n').count();
    let character = digit - text[..digit].rfind('\n').map_or(0, |i| i + 1);
    let original = text.as_bytes()[digit] as char;

    let started = Instant::now();
    let (mut client, diagnostics) = runtime.block_on(async {
        let mut client = start(&root, &uri, &text).await;
        let mut diagnostics = client.published().await;
        // Let the publications of opening settle.
        tokio::time::sleep(Duration::from_millis(500)).await;
        while let Ok(count) = client.published.try_recv() {
            diagnostics = count;
        }
        (client, diagnostics)
    });
    eprintln!(
        "{name}: {} lines, {} bytes, {diagnostics} diagnostics; opened, checked and evaluated in {:?}",
        text.lines().count(),
        text.len(),
        started.elapsed()
    );

    let mut version = 1;
    let mut current = original;
    c.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    version += 1;
                    current = if current == original { '2' } else { original };
                    let change = json!({
                        "textDocument": { "uri": uri.as_str(), "version": version },
                        "contentChanges": [ {
                            "range": { "start": { "line": line, "character": character }, "end": { "line": line, "character": character + 1 } },
                            "text": current.to_string(),
                        } ],
                    });
                    let start = Instant::now();
                    client.send("textDocument/didChange", change, false).await;
                    client.published().await;
                    total += start.elapsed();
                }
                total
            })
        })
    });
}

/// Formatting and references on the 10,000-line policy.
fn requests(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().canonicalize().expect("canonical");
    let text = project(&root, 10);
    let uri = Uri::from_file_path(root.join("policy/policy.aims")).expect("uri");
    // One line out of shape: `let limit = 7` of control 501 indented by six.
    let control = text.find("control c501 ").expect("control 501");
    let at = control + text[control..].find("  let limit").expect("its let");
    let line = text[..at].matches('\n').count();
    let mut client = runtime.block_on(async {
        let mut client = start(&root, &uri, &text).await;
        client.published().await;
        let change = json!({
            "textDocument": { "uri": uri.as_str(), "version": 2 },
            "contentChanges": [ {
                "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
                "text": "    ",
            } ],
        });
        client.send("textDocument/didChange", change, false).await;
        client.published().await; // every new version is published
        tokio::time::sleep(Duration::from_millis(500)).await;
        while client.published.try_recv().is_ok() {}
        client
    });
    let document = json!({ "uri": uri.as_str() });

    let format = json!({ "textDocument": document, "options": { "tabSize": 2, "insertSpaces": true } });
    let edits = runtime.block_on(client.request("textDocument/formatting", format.clone()));
    let edited = edits.as_array().map_or(0, Vec::len);
    assert!(edited > 0, "the line out of shape is formatted: {edits}");
    c.bench_function("formatting, 10,000 lines", |b| {
        b.iter(|| runtime.block_on(client.request("textDocument/formatting", format.clone())))
    });

    let references = json!({
        "textDocument": document,
        "position": { "line": 1, "character": 8 },
        "context": { "includeDeclaration": true },
    });
    let found = runtime.block_on(client.request("textDocument/references", references.clone()));
    let count = found.as_array().map_or(0, Vec::len);
    assert!(count > 900, "`System` is used by every control: {count}");
    eprintln!("formatting: {edited} edits; references of `System`: {count} locations");
    c.bench_function("references of an entity used 910 times, 10,000 lines", |b| {
        b.iter(|| runtime.block_on(client.request("textDocument/references", references.clone())))
    });
}

fn bench(c: &mut Criterion) {
    scenario(c, "didChange to diagnostics, 10,000 lines, 1 control in 10 failing", 10);
    scenario(c, "didChange to diagnostics, 10,000 lines, every control failing", 1);
    requests(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(10));
    targets = bench
}
criterion_main!(benches);
