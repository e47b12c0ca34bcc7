//! The server survives what clients and users throw at it: malformed
//! JSON-RPC, unknown documents, positions out of range, and a thousand
//! random edits, answering every time.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower_lsp_server::jsonrpc::{ErrorCode, Request};
use tower_lsp_server::ls_types::*;

use crate::support::{codes, position, TestClient};

fn frame(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// Reads framed messages until one contains `needle`.
async fn read_until(stream: &mut tokio::io::DuplexStream, seen: &mut String, needle: &str) {
    let mut buffer = [0u8; 4096];
    while !seen.contains(needle) {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("the server answers in time")
            .expect("read");
        assert!(n > 0, "the server closed the stream; so far: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_rpc_is_answered_and_the_server_goes_on() {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let (input, output) = tokio::io::split(server);
    let serving = tokio::spawn(aims_lsp::serve(input, output));
    let mut seen = String::new();
    // Before initialization: an error, and the server still initializes.
    client.write_all(frame("][").as_bytes()).await.expect("write");
    read_until(&mut client, &mut seen, r#""id":null"#).await;
    client
        .write_all(frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#).as_bytes())
        .await
        .expect("write");
    read_until(&mut client, &mut seen, r#""id":1"#).await;
    assert!(seen.contains("positionEncoding"), "{seen}");
    client.write_all(frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#).as_bytes()).await.expect("write");
    seen.clear();
    client.write_all(frame("{ this is not json").as_bytes()).await.expect("write");
    read_until(&mut client, &mut seen, "-32700").await;
    client.write_all(frame(r#"{"jsonrpc":"2.0","id":5,"params":{}}"#).as_bytes()).await.expect("write");
    read_until(&mut client, &mut seen, "-32600").await;
    assert!(seen.contains(r#""id":5"#), "the invalid request's id is kept: {seen}");
    client.write_all(b"Content-Type: garbage\r\n\r\n").await.expect("write");
    client
        .write_all(
            frame(r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"nonsense":true}}"#).as_bytes(),
        )
        .await
        .expect("write");
    read_until(&mut client, &mut seen, r#""id":2"#).await;
    assert!(seen.contains("-32602"), "invalid params: {seen}");
    client.write_all(frame(r#"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#).as_bytes()).await.expect("write");
    read_until(&mut client, &mut seen, r#""id":3"#).await;
    client.write_all(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#).as_bytes()).await.expect("write");
    let clean = tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops on exit")
        .expect("no panic");
    assert!(clean, "shutdown came before exit");
}

/// Bad framing (a length that is not a number, a header without one, a
/// length too short or too long) gets a parse error, and the next message
/// is answered: the stream resynchronises instead of wedging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_framing_never_wedges_the_server() {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let (input, output) = tokio::io::split(server);
    let serving = tokio::spawn(aims_lsp::serve(input, output));
    let mut seen = String::new();
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
    client.write_all(frame(initialize).as_bytes()).await.expect("write");
    read_until(&mut client, &mut seen, r#""id":1"#).await;
    let body = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let bad = [
        format!("Content-Length: abc\r\n\r\n{body}"),
        format!("Content-Type: application/json\r\n\r\n{body}"),
        format!("Content-Length: 3\r\n\r\n{body}"),
        format!("Content-Length: {}\r\n\r\n{body}", body.len() + 200),
        format!("Content-Length: 99999999999\r\n\r\n{body}"),
    ];
    for (i, garbage) in bad.iter().enumerate() {
        seen.clear();
        let id = 100 + i;
        client.write_all(garbage.as_bytes()).await.expect("write");
        let shutdown_like =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"textDocument/hover","params":{{"nonsense":true}}}}"#);
        client.write_all(frame(&shutdown_like).as_bytes()).await.expect("write");
        read_until(&mut client, &mut seen, &format!(r#""id":{id}"#)).await;
        assert!(seen.contains("-32700"), "{garbage:?}: a parse error first: {seen}");
    }
    client.write_all(frame(r#"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#).as_bytes()).await.expect("write");
    read_until(&mut client, &mut seen, r#""id":3"#).await;
    client.write_all(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#).as_bytes()).await.expect("write");
    let clean = tokio::time::timeout(Duration::from_secs(10), serving).await.expect("stops on exit").expect("no panic");
    assert!(clean);
}

/// Expressions nested as deep as the limits allow, and deeper, sent as
/// edits: the server answers E0003 or the checked result, and never
/// overflows its stack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_expressions_in_edits_do_not_overflow() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let reported = format!("{}x{}", vec!["-".repeat(1023); 17].join("("), ")".repeat(16));
    let nots = format!("{}true{}", format!("({}", "not ".repeat(1000)).repeat(17), ")".repeat(17));
    let chains = format!("{}true{}", format!("({}", "true and ".repeat(200)).repeat(60), ")".repeat(60));
    for (version, expr) in [reported, nots, chains].iter().enumerate() {
        let edited = format!("{text}\nfn deep(x: Int) = {expr}\n");
        client.edit(&controls, 2 + version as i32, None, &edited).await;
        client.wait_for(&controls, |d| codes(d).contains(&"E0003".to_string())).await;
    }
    let allowed = format!("{}{}{}1{}", "-".repeat(100), "(".repeat(60), "-".repeat(95), ")".repeat(60));
    let edited = format!("{text}\nfn deep() = {allowed}\ncontrol deep_ok {{ require deep() < 0 }}\n");
    client.edit(&controls, 10, None, &edited).await;
    client.wait_for(&controls, |d| !codes(d).contains(&"E0003".to_string())).await;
    assert_eq!(client.failures(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_documents_and_methods_get_empty_answers_or_errors() {
    let mut client = TestClient::fixture().await;
    let nowhere = client.uri("nowhere.aims");
    let at = client.position_params(&nowhere, Position { line: 0, character: 0 });
    let params =
        HoverParams { text_document_position_params: at.clone(), work_done_progress_params: Default::default() };
    assert_eq!(client.request::<request::HoverRequest>(params).await.expect("ok"), None);
    client.edit(&nowhere, 7, None, "control c { require true }").await;
    let symbols = DocumentSymbolParams {
        text_document: TextDocumentIdentifier { uri: nowhere.clone() },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    assert_eq!(client.request::<request::DocumentSymbolRequest>(symbols).await.expect("ok"), None);
    let unknown = Request::build("aims/nonsense").id(99).params(json!({})).finish();
    let response = client.raw(unknown).await.expect("a response");
    let (_, body) = response.into_parts();
    assert_eq!(body.expect_err("unknown method").code, ErrorCode::MethodNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_out_of_range_are_clamped() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let far = Position { line: 10_000, character: 10_000 };
    let params = HoverParams {
        text_document_position_params: client.position_params(&controls, far),
        work_done_progress_params: Default::default(),
    };
    assert!(client.request::<request::HoverRequest>(params).await.is_ok());
    let completion = CompletionParams {
        text_document_position: client.position_params(&controls, Position { line: 3, character: u32::MAX }),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
        context: None,
    };
    assert!(client.request::<request::Completion>(completion).await.is_ok());
    // An edit whose range runs past the end appends.
    client.edit(&controls, 2, Some(Range { start: far, end: far }), "\ncontrol extra { require nope }\n").await;
    let found = client.wait_for(&controls, |d| codes(d).contains(&"E0101".to_string())).await;
    let line = text.lines().count() as u32 + 1;
    assert_eq!(found[0].range.start.line, line, "{found:#?}");
}

/// An evaluation that would run for hours (41 functions, each calling the
/// one before twice) does not hold the server: the next version of the
/// document cancels it, and the fixed document's diagnostics arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_document_supersedes_an_endless_evaluation() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    client.wait_for(&controls, |d| !d.is_empty()).await;
    let mut slow = format!("{text}\nfn f0(x: Int) = x\n");
    for n in 1..=41 {
        slow.push_str(&format!("fn f{n}(x: Int) = f{m}(x) + f{m}(x)\n", m = n - 1));
    }
    slow.push_str("control slow { require f41(1) > 0 }\n");
    let slow_handled = client.edit_in_background(&controls, 2, &slow).await;
    // Let the evaluation start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fixed = format!("{text}\ncontrol fixed {{ require nope }}\n");
    client.edit(&controls, 3, None, &fixed).await;
    tokio::time::timeout(Duration::from_secs(60), slow_handled)
        .await
        .expect("the stale update gives way")
        .expect("no panic");
    let found = client.wait_for(&controls, |d| codes(d).contains(&"E0101".to_string())).await;
    assert!(found.iter().any(|d| d.message.contains("nope")), "{found:#?}");
    // And the server goes on answering.
    let params = HoverParams {
        text_document_position_params: client.position_params(&controls, position(&fixed, "nope", 0, 0)),
        work_done_progress_params: Default::default(),
    };
    assert!(client.request::<request::HoverRequest>(params).await.is_ok());
}

/// A small deterministic random number generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const PIECES: &[&str] = &[
    "é",
    "😀",
    "ü",
    "\u{0}",
    "\u{7f}",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\\",
    ".",
    ":",
    "control ",
    "require ",
    "s.",
    "AISystem",
    "deployed",
    " and ",
    "//",
    "///",
    "\u{2028}",
    "\u{feff}",
    "ⅷ",
    "𝕏",
    "implements A.",
    "exists x: ",
    "1_000",
    "12%",
    "2026-02-30",
    " within 3 days",
    "fn f(x: Int) = x\n",
    "entity ",
];

fn random_text(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..1 + rng.below(4) {
        if rng.below(4) == 0 {
            // Any character, multibyte or not.
            let c = char::from_u32(rng.below(0x2_0000) as u32).unwrap_or('\u{fffd}');
            out.push(c);
        } else {
            out.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
        }
    }
    out
}

fn random_position(rng: &mut Rng, lines: u32) -> Position {
    Position { line: rng.below(lines as u64 + 2) as u32, character: rng.below(90) as u32 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_random_edits_leave_the_server_answering() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut lines = text.lines().count() as u32;
    let mut version = 1;
    for round in 0..1000 {
        version += 1;
        let start = random_position(&mut rng, lines);
        let end = if rng.below(2) == 0 { start } else { random_position(&mut rng, lines) };
        let (start, end) =
            if (end.line, end.character) < (start.line, start.character) { (end, start) } else { (start, end) };
        let inserted = if rng.below(3) == 0 { String::new() } else { random_text(&mut rng) };
        lines += inserted.matches('\n').count() as u32;
        client.edit(&controls, version, Some(Range { start, end }), &inserted).await;
        let at = random_position(&mut rng, lines);
        let answered = match round % 7 {
            0 => client
                .request::<request::HoverRequest>(HoverParams {
                    text_document_position_params: client.position_params(&controls, at),
                    work_done_progress_params: Default::default(),
                })
                .await
                .map(|_| ()),
            1 => client
                .request::<request::Completion>(CompletionParams {
                    text_document_position: client.position_params(&controls, at),
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                    context: None,
                })
                .await
                .map(|_| ()),
            2 => client
                .request::<request::SemanticTokensFullRequest>(SemanticTokensParams {
                    text_document: TextDocumentIdentifier { uri: controls.clone() },
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await
                .map(|_| ()),
            3 => client
                .request::<request::DocumentSymbolRequest>(DocumentSymbolParams {
                    text_document: TextDocumentIdentifier { uri: controls.clone() },
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await
                .map(|_| ()),
            4 => client
                .request::<request::Formatting>(DocumentFormattingParams {
                    text_document: TextDocumentIdentifier { uri: controls.clone() },
                    options: FormattingOptions::default(),
                    work_done_progress_params: Default::default(),
                })
                .await
                .map(|_| ()),
            5 => client
                .request::<request::CodeActionRequest>(CodeActionParams {
                    text_document: TextDocumentIdentifier { uri: controls.clone() },
                    range: Range { start: at, end: at },
                    context: CodeActionContext::default(),
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await
                .map(|_| ()),
            _ => client
                .request::<request::GotoDefinition>(GotoDefinitionParams {
                    text_document_position_params: client.position_params(&controls, at),
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await
                .map(|_| ()),
        };
        if let Err(e) = answered {
            assert_eq!(e.code, ErrorCode::ContentModified, "round {round}: only a cancelled read may fail: {e:?}");
        }
    }
    // After all that, a clean text checks clean again.
    client.edit(&controls, version + 1, None, &text).await;
    let found =
        client.wait_for(&controls, |d| d.len() == 2 && codes(d).iter().all(|c| c == "major" || c == "minor")).await;
    assert_eq!(found.len(), 2);
    let hover = HoverParams {
        text_document_position_params: client.position_params(&controls, position(&text, "AISystem", 0, 1)),
        work_done_progress_params: Default::default(),
    };
    assert!(client.request::<request::HoverRequest>(hover).await.expect("ok").is_some());
    assert_eq!(client.failures(), 0, "no task panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_reads_in_flight_together_settle_on_the_last_text() {
    use futures::future::join_all;
    use tower::{Service, ServiceExt};
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    // Many changes and reads sent without waiting for each other.
    let mut pending = Vec::new();
    let (service, _) = (&mut client, ());
    for version in 2..60 {
        let body = if version % 2 == 0 { text.replace("s.human_oversight", "s.nope") } else { text.clone() };
        let change = json!({
            "textDocument": { "uri": controls.as_str(), "version": version },
            "contentChanges": [ { "text": body } ],
        });
        let hover = json!({ "textDocument": { "uri": controls.as_str() }, "position": { "line": 6, "character": 14 } });
        for (method, params, id) in
            [("textDocument/didChange", change, None), ("textDocument/hover", hover, Some(1000 + version))]
        {
            let mut builder = Request::build(method).params(params);
            if let Some(id) = id {
                builder = builder.id(id);
            }
            let ready = service.service_mut().ready().await.expect("ready");
            pending.push(ready.call(builder.finish()));
        }
    }
    for response in join_all(pending).await {
        let response = response.expect("served");
        if let Some(response) = response {
            if let Err(e) = response.into_parts().1 {
                assert_eq!(e.code, ErrorCode::ContentModified, "{e:?}");
            }
        }
    }
    // The last change (59, odd) restored the text: no errors in the end.
    let found = client.wait_for(&controls, |d| d.len() == 2 && !codes(d).contains(&"E0102".to_string())).await;
    assert_eq!(found.len(), 2);
    assert_eq!(client.failures(), 0, "no task panicked");
}
