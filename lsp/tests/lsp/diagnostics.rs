//! Diagnostics: the engine's codes, related information, help, recovery
//! per declaration, and evaluation results as information.

use tower_lsp_server::ls_types::*;

use crate::support::{codes, position, TestClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_is_checked_and_evaluated_on_start() {
    let client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let found = client.wait_for(&controls, |d| d.len() == 2).await;
    assert!(found.iter().all(|d| d.severity == Some(DiagnosticSeverity::INFORMATION)), "{found:#?}");
    let bias = found.iter().find(|d| d.message.starts_with("`bias_tested` fails")).expect("bias_tested fails");
    assert_eq!(bias.message.lines().next(), Some("`bias_tested` fails for 1 of 2 AISystem"));
    assert!(bias.message.contains("chatbot: no evidence: s.last_bias_test is not recorded"), "{}", bias.message);
    assert_eq!(bias.code, Some(NumberOrString::String("major".into())), "the rule's severity");
    let related = bias.related_information.as_ref().expect("the failing require");
    assert_eq!(related[0].location.range.start.line, 6, "`require s.last_bias_test ..` is on line 7");
    let schema = client.uri("policy/schema.aims");
    let warnings = client.wait_for(&schema, |d| !d.is_empty()).await;
    assert!(codes(&warnings).iter().all(|c| c == "W0002"), "Annex A controls not addressed: {warnings:#?}");
    assert!(!warnings.iter().any(|d| d.message.contains("A.6.2.4")), "bias_tested implements A.6.2.4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_codes_help_and_related_information() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let broken = text.replace("require s.human_oversight", "require s.human_oversigt");
    client.edit(&controls, 2, None, &broken).await;
    let found = client.wait_for(&controls, |d| codes(d).contains(&"E0102".to_string())).await;
    let error = found.iter().find(|d| d.severity == Some(DiagnosticSeverity::ERROR)).expect("an error");
    assert_eq!(error.range.start, position(&broken, "human_oversigt", 0, 0));
    assert!(error.message.contains("help: did you mean `human_oversight`?"), "{}", error.message);
    let related = error.related_information.as_ref().expect("where AISystem is declared");
    assert_eq!(related[0].location.uri, client.uri("policy/schema.aims"));
    assert!(!found.iter().any(|d| d.severity == Some(DiagnosticSeverity::INFORMATION)), "no evaluation with errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_broken_declaration_hides_nothing_else() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let broken = format!("control broken {{ require }}\n\n{}", text.replace("s.human_oversight", "s.nope"));
    client.edit(&controls, 2, None, &broken).await;
    let found = client.wait_for(&controls, |d| codes(d).contains(&"E0001".to_string())).await;
    assert_eq!(codes(&found), vec!["E0001".to_string(), "E0102".to_string()], "{found:#?}");
    assert_eq!(found[0].range.start.line, 0);
    assert_eq!(found[1].range.start, position(&broken, "nope", 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixing_the_text_clears_the_errors_and_brings_back_the_results() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    client.edit(&controls, 2, None, &text.replace("s.human_oversight", "s.nope")).await;
    client.wait_for(&controls, |d| codes(d).contains(&"E0102".to_string())).await;
    client.edit(&controls, 3, None, &text).await;
    let found = client.wait_for(&controls, |d| !codes(d).contains(&"E0102".to_string())).await;
    assert_eq!(found.len(), 2, "the two failing controls again: {found:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loose_file_without_a_project_is_checked_on_its_own() {
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().canonicalize().expect("canonical");
    let mut client = TestClient::start(Some(&root), crate::support::capabilities(&[])).await;
    let text = "entity S { id: Text key }\ncontrol c for s: S { require s.missing }\n";
    client.open("loose.aims", Some(text)).await;
    let uri = client.uri("loose.aims");
    let found = client.wait_for(&uri, |d| !d.is_empty()).await;
    assert_eq!(codes(&found), vec!["E0102".to_string()]);
    client
        .notify::<notification::DidCloseTextDocument>(DidCloseTextDocumentParams {
            text_document: TextDocumentIdentifier { uri: uri.clone() },
        })
        .await;
    client.wait_for(&uri, |d| d.is_empty()).await;
}

/// A path outside the project (E0404) has no place in any file; it is
/// shown at the top of aims.toml, for a policy source and for a fact file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_outside_the_project_are_reported_on_aims_toml() {
    for (what, manifest) in [
        ("a policy source", "[project]\nname = \"t\"\nsources = [\"policy\", \"../elsewhere\"]\n"),
        ("a fact file", "[project]\nname = \"t\"\nsources = [\"policy\"]\n\n[[facts]]\npath = \"../../../etc/passwd\"\nentity = \"S\"\n"),
    ] {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path().join("project");
        std::fs::create_dir_all(root.join("policy")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("elsewhere")).expect("mkdir");
        std::fs::write(root.join("aims.toml"), manifest).expect("write");
        std::fs::write(root.join("policy/p.aims"), "entity S { id: Text key }\ncontrol c { require true }\n")
            .expect("write");
        let client = TestClient::start(Some(&root), crate::support::capabilities(&[])).await;
        let toml = crate::support::uri(&root.join("aims.toml"));
        let found = client.wait_for(&toml, |d| codes(d).contains(&"E0404".to_string())).await;
        assert!(found.iter().any(|d| d.message.contains("outside the project")), "{what}: {found:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_carry_the_version_they_were_computed_for() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    client.wait_for(&controls, |d| d.len() == 2).await;
    let broken = text.replace("s.human_oversight", "s.nope");
    client.edit(&controls, 2, None, &broken).await;
    client.wait_for(&controls, |d| codes(d).contains(&"E0102".to_string())).await;
    assert_eq!(client.versions(&controls).last(), Some(&Some(2)));
    // A version whose diagnostics are those of the one before is published
    // too: its diagnostics are for the text the editor now shows.
    client.edit(&controls, 3, None, &format!("{broken}\n")).await;
    for _ in 0..1000 {
        if client.versions(&controls).last() == Some(&Some(3)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(client.versions(&controls).last(), Some(&Some(3)), "{:?}", client.versions(&controls));
    assert!(codes(&client.diagnostics(&controls)).contains(&"E0102".to_string()));
    // A file not open in the editor has no version.
    let schema = client.uri("policy/schema.aims");
    assert!(client.versions(&schema).iter().all(Option::is_none), "{:?}", client.versions(&schema));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_version_is_never_published_after_a_newer_one() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    // Edits in flight together (each sent before the diagnostics of the one
    // before arrive), each changing the diagnostics (a misspelt field, then
    // the right one, in turn).
    let mut handles = Vec::new();
    for version in 2..=40 {
        let edited = if version % 2 == 0 { text.replace("s.human_oversight", "s.nope") } else { text.clone() };
        handles.push(client.edit_in_order(&controls, version, &edited).await);
    }
    for handle in handles {
        handle.await.expect("handled");
    }
    for _ in 0..1000 {
        if client.versions(&controls).last() == Some(&Some(40)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let versions: Vec<i32> = client.versions(&controls).into_iter().flatten().collect();
    assert_eq!(versions.last(), Some(&40), "the last version is published: {versions:?}");
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "versions in order: {versions:?}");
    assert!(codes(&client.diagnostics(&controls)).contains(&"E0102".to_string()), "the diagnostics of version 40");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rules_diagnostic_follows_each_edit_of_its_rule() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let bias = |d: &[Diagnostic]| d.iter().find(|d| d.message.starts_with("`bias_tested`")).cloned();
    let before = bias(&client.wait_for(&controls, |d| d.len() == 2).await).expect("bias_tested fails");

    // Moved down two lines: its name and its failing `require` move with it.
    let moved = format!("\n\n{text}");
    client.edit(&controls, 2, None, &moved).await;
    let found = client.wait_for(&controls, |d| bias(d).is_some_and(|b| b.range.start.line == 3)).await;
    let after = bias(&found).expect("bias_tested fails");
    assert_eq!(after.range.start, position(&moved, "bias_tested", 0, 0));
    let related = after.related_information.as_ref().expect("the failing require");
    assert_eq!(related[0].location.range.start.line, 8, "the `require` moved with the rule: {after:#?}");
    assert_eq!(after.message, before.message, "the same outcomes");

    // Its severity: the code changes, the rest stays.
    let minor = moved.replace("severity major", "severity minor");
    client.edit(&controls, 3, None, &minor).await;
    let found = client.wait_for(&controls, |d| bias(d).is_some_and(|b| b.code != before.code)).await;
    let after = bias(&found).expect("bias_tested fails");
    assert_eq!(after.code, Some(NumberOrString::String("minor".into())));
    assert_eq!(after.message, before.message);

    // Its outcomes: every system in scope now fails, and the message says so.
    let stricter = minor.replace("within 180 days", "within 0 days");
    client.edit(&controls, 4, None, &stricter).await;
    let found = client.wait_for(&controls, |d| bias(d).is_some_and(|b| b.message != before.message)).await;
    let after = bias(&found).expect("bias_tested fails");
    assert_eq!(after.message.lines().next(), Some("`bias_tested` fails for 2 of 2 AISystem"), "{}", after.message);
    let overseen = found.iter().find(|d| d.message.starts_with("`overseen`")).expect("overseen still fails");
    assert_eq!(overseen.range.start, position(&stricter, "overseen", 0, 0));
}

/// A rule failing the same way for many entities says so once, naming the
/// first few; each other reason gets its own line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rules_entities_are_grouped_by_reason() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    client.wait_for(&controls, |d| d.len() == 2).await;
    let mut facts = String::from("systems:\n");
    for i in 1..=8 {
        facts.push_str(&format!("  - id: s{i}\n    name: S{i}\n    status: deployed\n"));
        if i > 6 {
            facts.push_str("    last_bias_test: 2020-01-01\n");
        }
    }
    std::fs::write(client.path("facts/systems.yaml"), facts).expect("write the facts");
    let change = FileEvent { uri: client.uri("facts/systems.yaml"), typ: FileChangeType::CHANGED };
    client.notify::<notification::DidChangeWatchedFiles>(DidChangeWatchedFilesParams { changes: vec![change] }).await;
    let found = client.wait_for(&controls, |d| d.iter().any(|d| d.message.contains("of 8 AISystem"))).await;
    let bias = found.iter().find(|d| d.message.starts_with("`bias_tested`")).expect("bias_tested fails");
    let lines: Vec<&str> = bias.message.lines().collect();
    assert_eq!(lines[0], "`bias_tested` fails for 8 of 8 AISystem", "{}", bias.message);
    assert_eq!(lines.len(), 3, "one line per reason: {}", bias.message);
    assert!(lines[1].starts_with("- s1, s2, s3, s4, s5 and 1 more: no evidence"), "{}", bias.message);
    assert!(lines[2].starts_with("- s7, s8: ") && !lines[2].contains("no evidence"), "{}", bias.message);
    let overseen = found.iter().find(|d| d.message.starts_with("`overseen`")).expect("overseen fails");
    assert_eq!(
        overseen.message,
        "`overseen` fails for 8 of 8 AISystem\n- s1, s2, s3, s4, s5 and 3 more: `s.human_oversight` does not hold"
    );
}
