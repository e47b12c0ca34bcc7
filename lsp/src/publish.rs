//! Publishing diagnostics after a change.
//!
//! Updates run one at a time, in the order they were asked for; one that
//! is no longer for the latest change is skipped (the latest will run).
//! The diagnostics are computed on a snapshot in a blocking task, so a
//! later edit cancels the work (evaluation checks for it as it goes, see
//! `aims_lang::facts::Facts::check_cancelled`); only the documents whose
//! diagnostics changed, or that have a new version, are published.
//!
//! Each open document's diagnostics carry the version of the text they
//! were computed from (the version the engine took with that text, read
//! from the same snapshot). Since updates run in order on snapshots that
//! only move forward, a document's versions are published in increasing
//! order: never a stale version after a newer one.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tower_lsp_server::ls_types::MessageType;
use tower_lsp_server::Client;

use crate::handlers;
use crate::state::{lock, Shared};

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
            let mut published = lock(&shared.published);
            let mut changed = Vec::new();
            for (uri, diagnostics) in computed {
                let version = snapshot_versions.get(&uri).copied();
                let now = (version, diagnostics);
                if published.get(&uri) != Some(&now) {
                    published.insert(uri.clone(), now.clone());
                    changed.push((uri, now));
                }
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
    for (uri, (version, diagnostics)) in changed {
        client.publish_diagnostics(uri, diagnostics, version).await;
    }
}
