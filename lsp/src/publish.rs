//! Publishing diagnostics after a change.
//!
//! Updates run one at a time, in the order they were asked for; one that
//! is no longer for the latest change is skipped (the latest will run).
//! The diagnostics are computed on a snapshot in a blocking task, so a
//! later edit cancels the work (evaluation checks for it as it goes, see
//! `aims_lang::facts::Facts::check_cancelled`); only the documents whose
//! diagnostics changed, or that have a new version, are published.
//!
//! Served on stdio (`crate::serve`), the notification is written here,
//! not by `tower-lsp-server`: its body joins the JSON each diagnostic keeps
//! (see `crate::output`). A server without that output (the in-process
//! tests) publishes through the client as usual; both send the same JSON.
//!
//! Each open document's diagnostics carry the version of the text they
//! were computed from (the version the engine took with that text, read
//! from the same snapshot). Since updates run in order on snapshots that
//! only move forward, a document's versions are published in increasing
//! order: never a stale version after a newer one.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tower_lsp_server::ls_types::notification::{Notification, PublishDiagnostics};
use tower_lsp_server::ls_types::{MessageType, Uri};
use tower_lsp_server::Client;

use crate::handlers;
use crate::handlers::diagnostics::Shown;
use crate::state::{lock, Shared};

/// A document's diagnostics, ready to go out.
enum Outgoing {
    /// The notification's body, for the server's own output.
    Body(Vec<u8>),
    /// The diagnostics, for the client of `tower-lsp-server`.
    Diagnostics(Vec<tower_lsp_server::ls_types::Diagnostic>),
}

/// Computes the diagnostics after change `change` and publishes those
/// that changed, unless a later change has come in.
pub async fn update(client: &Client, shared: &Arc<Shared>, change: u64) {
    // The engine takes the change at once, before waiting for the turn: its
    // setters cancel the work still running on snapshots of older versions
    // (an evaluation that would run for hours stops at its next check),
    // which would otherwise keep the turn, and this document's diagnostics,
    // waiting.
    if change >= shared.latest_change() {
        let shared = shared.clone();
        let _ = tokio::task::spawn_blocking(move || shared.with_state(|_| ())).await;
    }
    let _turn = shared.updates.lock().await;
    if change < shared.latest_change() {
        return;
    }
    let task = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || {
            let mut snapshot = shared.snapshot()?;
            let computed = handlers::diagnostics::compute(&snapshot, &mut lock(&shared.failing));
            let snapshot_versions = std::mem::take(&mut snapshot.versions);
            drop(snapshot);
            let computed = computed.ok()?;
            let own_output = shared.messages.get().is_some();
            let mut published = lock(&shared.published);
            let mut changed = Vec::new();
            for (uri, diagnostics) in computed {
                let version = snapshot_versions.get(&uri).copied();
                if published.get(&uri).is_some_and(|(v, before)| *v == version && same(before, &diagnostics)) {
                    continue;
                }
                let outgoing = if own_output {
                    Outgoing::Body(notification(&uri, version, &diagnostics))
                } else {
                    Outgoing::Diagnostics(diagnostics.iter().map(|shown| shown.diagnostic.clone()).collect())
                };
                published.insert(uri.clone(), (version, diagnostics));
                changed.push((uri, version, outgoing));
            }
            Some(changed)
        })
    };
    let changed = match task.await {
        Ok(Some(changed)) => changed,
        Ok(None) => return, // cancelled by a later change, or not initialized
        Err(_panicked) => {
            shared.failures.fetch_add(1, Ordering::SeqCst);
            client.log_message(MessageType::ERROR, "aims: checking the documents failed").await;
            return;
        }
    };
    for (uri, version, outgoing) in changed {
        match (outgoing, shared.messages.get()) {
            (Outgoing::Body(body), Some(messages)) => messages.send(body).await,
            (Outgoing::Diagnostics(diagnostics), _) => client.publish_diagnostics(uri, diagnostics, version).await,
            (Outgoing::Body(_), None) => {} // not built without the output
        }
    }
}

/// Whether two lists of diagnostics say the same: those kept from the
/// last update are the same allocation.
fn same(before: &[Arc<Shown>], now: &[Arc<Shown>]) -> bool {
    before.len() == now.len() && before.iter().zip(now).all(|(a, b)| Arc::ptr_eq(a, b) || a.json == b.json)
}

/// The body of a `publishDiagnostics` notification, the JSON
/// `tower-lsp-server` would send, joined from each diagnostic's.
fn notification(uri: &Uri, version: Option<i32>, diagnostics: &[Arc<Shown>]) -> Vec<u8> {
    let length: usize = diagnostics.iter().map(|shown| shown.json.len() + 1).sum();
    let mut body = Vec::with_capacity(length + 256);
    body.extend_from_slice(br#"{"jsonrpc":"2.0","method":""#);
    body.extend_from_slice(PublishDiagnostics::METHOD.as_bytes());
    body.extend_from_slice(br#"","params":{"uri":"#);
    // A URI is text: serializing it cannot fail.
    let _ = serde_json::to_writer(&mut body, uri);
    body.extend_from_slice(br#","diagnostics":["#);
    for (i, shown) in diagnostics.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(shown.json.as_bytes());
    }
    body.push(b']');
    if let Some(version) = version {
        body.extend_from_slice(format!(r#","version":{version}"#).as_bytes());
    }
    body.extend_from_slice(b"}}");
    body
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use tower_lsp_server::ls_types::*;

    use super::*;

    fn diagnostic(message: &str, related: bool) -> Arc<Shown> {
        let range = Range::new(Position::new(3, 1), Position::new(3, 9));
        let uri: Uri = "file:///p/policy/a%20b.aims".parse().expect("a URI");
        let diagnostic = Diagnostic {
            range,
            severity: Some(DiagnosticSeverity::INFORMATION),
            code: Some(NumberOrString::String("major".into())),
            source: Some("aims".into()),
            message: message.into(),
            related_information: related
                .then(|| vec![DiagnosticRelatedInformation { location: Location { uri, range }, message: "x".into() }]),
            ..Diagnostic::default()
        };
        let json = serde_json::to_string(&diagnostic).expect("serializes");
        Arc::new(Shown { diagnostic, json })
    }

    /// The body written is the notification `tower-lsp-server` would send,
    /// with and without a version, with no diagnostic, one or several.
    #[test]
    fn the_body_is_the_notification_of_the_client() {
        let uri: Uri = "file:///p/policy/caf%C3%A9.aims".parse().expect("a URI");
        let lists = [
            vec![],
            vec![diagnostic("one \"quoted\"\nline", true)],
            vec![diagnostic("a", false), diagnostic("b", true)],
        ];
        for diagnostics in lists {
            for version in [None, Some(0), Some(42)] {
                let body = notification(&uri, version, &diagnostics);
                let params = PublishDiagnosticsParams {
                    uri: uri.clone(),
                    diagnostics: diagnostics.iter().map(|shown| shown.diagnostic.clone()).collect(),
                    version,
                };
                let expected = serde_json::json!({
                    "jsonrpc": "2.0",
                    "method": "textDocument/publishDiagnostics",
                    "params": serde_json::to_value(params).expect("serializes"),
                });
                let written: Value = serde_json::from_slice(&body).expect("the body is JSON");
                assert_eq!(written, expected);
            }
        }
    }

    #[test]
    fn lists_are_the_same_when_their_json_is() {
        let (a, b) = (diagnostic("a", true), diagnostic("b", true));
        assert!(same(&[a.clone(), b.clone()], &[a.clone(), diagnostic("b", true)]));
        assert!(!same(&[a.clone(), b.clone()], std::slice::from_ref(&a)));
        assert!(!same(&[a.clone(), b], &[a.clone(), diagnostic("c", true)]));
    }
}
