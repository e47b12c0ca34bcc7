//! Fact files watched by the server itself, for clients that cannot watch
//! files (they do not offer `workspace/didChangeWatchedFiles` dynamic
//! registration): the files' modification times and sizes are polled.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tower_lsp_server::ls_types::Uri;
use tower_lsp_server::Client;

use crate::publish;
use crate::state::{lock, Shared};

/// How a file looked when last polled.
type Stamp = Option<(Option<SystemTime>, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    std::fs::metadata(path).ok().map(|m| (m.modified().ok(), m.len()))
}

/// Polls `paths` every `every` until the server shuts down; a change is
/// handled as the client's `didChangeWatchedFiles` would be.
pub fn poll(client: Client, shared: Arc<Shared>, paths: Vec<PathBuf>, every: Duration) {
    if paths.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut seen: Vec<(PathBuf, Stamp)> = paths.into_iter().map(|p| (p.clone(), stamp(&p))).collect();
        loop {
            tokio::time::sleep(every).await;
            if shared.shutdown.load(Ordering::SeqCst) {
                break;
            }
            let mut changed: Vec<Uri> = Vec::new();
            for (path, last) in &mut seen {
                let now = stamp(path);
                if now != *last {
                    *last = now;
                    changed.extend(Uri::from_file_path(&*path));
                }
            }
            if changed.is_empty() {
                continue;
            }
            let change = {
                let mut inbox = lock(&shared.inbox);
                inbox.disk.extend(changed);
                shared.changed()
            };
            publish::update(&client, &shared, change).await;
            if shared.code_lens_refresh.load(Ordering::SeqCst) {
                let _ = client.code_lens_refresh().await;
            }
        }
    });
}
