//! Fact files are watched: an edit on disk updates lenses and diagnostics.

use tower_lsp_server::ls_types::*;

use crate::support::{codes, TestClient};

async fn lenses(client: &mut TestClient, relative: &str) -> Vec<(String, String)> {
    let uri = client.uri(relative);
    let text = std::fs::read_to_string(client.path(relative)).expect("the file");
    let params = CodeLensParams {
        text_document: TextDocumentIdentifier { uri },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let found = client.request::<request::CodeLensRequest>(params).await.expect("lenses").unwrap_or_default();
    found
        .into_iter()
        .map(|lens| {
            let line = text.lines().nth(lens.range.start.line as usize).unwrap_or("");
            let start = lens.range.start.character as usize;
            let end = lens.range.end.character as usize;
            (line[start..end].to_string(), lens.command.map(|c| c.title).unwrap_or_default())
        })
        .collect()
}

async fn facts_changed(client: &mut TestClient, text: &str) {
    std::fs::write(client.path("facts/systems.yaml"), text).expect("write the facts");
    let change = FileEvent { uri: client.uri("facts/systems.yaml"), typ: FileChangeType::CHANGED };
    client.notify::<notification::DidChangeWatchedFiles>(DidChangeWatchedFilesParams { changes: vec![change] }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_control_has_a_lens_with_its_outcomes() {
    let mut client = TestClient::fixture().await;
    let found = lenses(&mut client, "policy/controls.aims").await;
    assert_eq!(
        found,
        vec![
            ("bias_tested".to_string(), "1 pass · 1 fail · 1 n/a".to_string()),
            ("overseen".to_string(), "1 pass · 1 fail · 1 n/a".to_string()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_facts_on_disk_updates_lenses_and_diagnostics() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    client.wait_for(&controls, |d| d.len() == 2).await;
    {
        let inbox = client.inbox.lock().expect("inbox");
        let (_, registration) = inbox
            .requests
            .iter()
            .find(|(method, _)| method == "client/registerCapability")
            .expect("the server asks to watch files");
        assert!(registration.to_string().contains("facts/systems.yaml"), "{registration}");
    }
    let original = std::fs::read_to_string(client.path("facts/systems.yaml")).expect("facts");
    let tested = original.replace(
        "    status: deployed\n  - id: legacy",
        "    status: deployed\n    last_bias_test: 2026-10-01\n  - id: legacy",
    );
    assert_ne!(tested, original);
    facts_changed(&mut client, &tested).await;
    let found = client.wait_for(&controls, |d| d.len() == 1).await;
    assert!(found[0].message.starts_with("`overseen` fails"), "bias_tested passes now: {found:#?}");
    let lens = lenses(&mut client, "policy/controls.aims").await;
    assert_eq!(lens[0].1, "2 pass · 0 fail · 1 n/a");
    let refreshed = client.inbox.lock().expect("inbox").requests.iter().any(|(m, _)| m == "workspace/codeLens/refresh");
    assert!(refreshed, "the client is asked to refresh its lenses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_that_do_not_load_are_reported_and_the_last_good_ones_kept() {
    let mut client = TestClient::fixture().await;
    let facts = client.uri("facts/systems.yaml");
    facts_changed(&mut client, "systems:\n  - id: broken\n    status: deployed\n").await;
    let found = client.wait_for(&facts, |d| !d.is_empty()).await;
    assert_eq!(codes(&found), vec!["E0304".to_string()], "the name is missing: {found:#?}");
    let lens = lenses(&mut client, "policy/controls.aims").await;
    assert_eq!(lens[0].1, "1 pass · 1 fail · 1 n/a", "the facts that loaded before");
    let original = std::fs::read_to_string(crate::support::fixture().path().join("facts/systems.yaml")).expect("facts");
    facts_changed(&mut client, &original).await;
    client.wait_for(&facts, |d| d.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_watching_client_the_server_polls_the_fact_files() {
    let folder = crate::support::fixture();
    let root = folder.path().canonicalize().expect("canonical");
    let capabilities = crate::support::capabilities(&[]);
    let mut capabilities = capabilities;
    capabilities.workspace = None; // no file watching, no lens refresh
    let options = serde_json::json!({ "factsPollMilliseconds": 50 });
    let client = TestClient::start_with(Some(&root), capabilities, Some(options)).await;
    let controls = client.uri("policy/controls.aims");
    client.wait_for(&controls, |d| d.len() == 2).await;
    assert!(client.inbox.lock().expect("inbox").requests.is_empty(), "nothing registered with the client");
    let original = std::fs::read_to_string(client.path("facts/systems.yaml")).expect("facts");
    // A different size, so the change shows even within the same second.
    let overseen = original.replace(
        "    status: deployed\n  - id: legacy",
        "    status: deployed\n    human_oversight: true\n  - id: legacy",
    );
    std::fs::write(client.path("facts/systems.yaml"), overseen).expect("write");
    let found = client.wait_for(&controls, |d| d.len() == 1).await;
    assert!(found[0].message.starts_with("`bias_tested` fails"), "overseen passes now: {found:#?}");
}
