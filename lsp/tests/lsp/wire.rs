//! The server over a byte stream, as `aims lsp` runs it: diagnostics are
//! written by the server's own output (not through `tower-lsp-server`'s
//! client), framed, with the document's version, between the other
//! messages.

use std::time::Duration;

use aims_lsp::transport::{Frame, Framer};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tower_lsp_server::ls_types::*;

use crate::support::{fixture, uri};

async fn send(stream: &mut DuplexStream, message: Value) {
    let body = message.to_string();
    let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(frame.as_bytes()).await.expect("write");
}

/// Reads messages until `wanted` holds for one, which it returns.
async fn read_until(stream: &mut DuplexStream, framer: &mut Framer, wanted: impl Fn(&Value) -> bool) -> Value {
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        while let Some(frame) = framer.next_frame() {
            let Frame::Message(body) = frame else { panic!("the server framed a message badly") };
            let message: Value = serde_json::from_slice(&body).expect("every message is JSON");
            if wanted(&message) {
                return message;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buffer))
            .await
            .expect("the server answers in time")
            .expect("read");
        assert!(n > 0, "the server closed the stream");
        framer.push(&buffer[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_go_out_framed_with_their_version() {
    let folder = fixture();
    let root = folder.path().canonicalize().expect("the fixture");
    let controls = uri(&root.join("policy/controls.aims"));
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let (input, output) = tokio::io::split(server);
    let serving = tokio::spawn(aims_lsp::serve(input, output));
    let mut framer = Framer::default();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "rootUri": uri(&root).as_str(), "capabilities": {}}});
    send(&mut client, initialize).await;
    read_until(&mut client, &mut framer, |m| m["id"] == 1).await;
    send(&mut client, json!({"jsonrpc": "2.0", "method": "initialized", "params": {}})).await;
    let text = std::fs::read_to_string(root.join("policy/controls.aims")).expect("the policy");
    let open = json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": controls.as_str(), "languageId": "aims", "version": 7, "text": text}}});
    send(&mut client, open).await;
    let is_published = |m: &Value, version: i64| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == controls.as_str()
            && m["params"]["version"] == version
    };
    let published = read_until(&mut client, &mut framer, |m| is_published(m, 7)).await;
    let params: PublishDiagnosticsParams = serde_json::from_value(published["params"].clone()).expect("the params");
    assert_eq!(params.diagnostics.len(), 2, "{params:#?}");
    let bias = params.diagnostics.iter().find(|d| d.message.starts_with("`bias_tested`")).expect("bias_tested fails");
    assert_eq!(
        bias.message,
        "`bias_tested` fails for 1 of 2 AISystem\n- chatbot: no evidence: s.last_bias_test is not recorded"
    );
    assert_eq!(bias.related_information.as_ref().map(Vec::len), Some(1), "{bias:#?}");

    // An edit that fixes nothing still gets the diagnostics of its version;
    // a request in between is answered.
    let change = json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": controls.as_str(), "version": 8},
        "contentChanges": [{"text": format!("{text}\n")}]}});
    send(&mut client, change).await;
    let hover = json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": controls.as_str()}, "position": {"line": 1, "character": 10}}});
    send(&mut client, hover).await;
    let answered = std::cell::Cell::new(false);
    let again = read_until(&mut client, &mut framer, |m| {
        answered.set(answered.get() || m["id"] == 2);
        is_published(m, 8)
    })
    .await;
    assert_eq!(again["params"]["diagnostics"], published["params"]["diagnostics"]);
    if !answered.get() {
        read_until(&mut client, &mut framer, |m| m["id"] == 2).await;
    }

    send(&mut client, json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})).await;
    read_until(&mut client, &mut framer, |m| m["id"] == 3).await;
    send(&mut client, json!({"jsonrpc": "2.0", "method": "exit"})).await;
    let clean = tokio::time::timeout(Duration::from_secs(10), serving).await.expect("stops on exit").expect("no panic");
    assert!(clean);
}
