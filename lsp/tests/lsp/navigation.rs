//! Go to definition, references, rename, document and workspace symbols.

use tower_lsp_server::ls_types::*;

use crate::support::{position, TestClient};

fn text_of(client: &TestClient, relative: &str) -> String {
    std::fs::read_to_string(client.path(relative)).expect("the file")
}

fn word_at(text: &str, range: Range) -> String {
    let line = text.lines().nth(range.start.line as usize).unwrap_or("");
    line.chars()
        .skip(range.start.character as usize)
        .take((range.end.character - range.start.character) as usize)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_cross_files() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let at = client.position_params(&controls, position(&text, "AISystem", 0, 2));
    let params = GotoDefinitionParams {
        text_document_position_params: at,
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let Some(GotoDefinitionResponse::Array(found)) =
        client.request::<request::GotoDefinition>(params).await.expect("ok")
    else {
        panic!("a location")
    };
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uri, client.uri("policy/schema.aims"));
    assert_eq!(word_at(&text_of(&client, "policy/schema.aims"), found[0].range), "AISystem");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_of_a_variant_and_a_field() {
    let mut client = TestClient::fixture().await;
    let schema = client.uri("policy/schema.aims");
    let text = client.open("policy/schema.aims", None).await;
    let references = |position| ReferenceParams {
        text_document_position: TextDocumentPositionParams {
            text_document: TextDocumentIdentifier { uri: schema.clone() },
            position,
        },
        context: ReferenceContext { include_declaration: true },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let found = client
        .request::<request::References>(references(position(&text, "deployed", 0, 1)))
        .await
        .expect("ok")
        .expect("some");
    assert_eq!(found.len(), 2, "declared in schema, used in bias_tested: {found:#?}");
    let found = client
        .request::<request::References>(references(position(&text, "status:", 0, 1)))
        .await
        .expect("ok")
        .expect("some");
    assert_eq!(found.len(), 3, "the field and two `s.status`: {found:#?}");
    assert!(found.iter().filter(|l| l.uri == client.uri("policy/controls.aims")).count() == 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_reaches_every_file_and_refuses_a_clash() {
    let mut client = TestClient::fixture().await;
    let schema = client.uri("policy/schema.aims");
    let text = client.open("policy/schema.aims", None).await;
    let at = position(&text, "AISystem", 0, 0);
    let prepared =
        client.request::<request::PrepareRenameRequest>(client.position_params(&schema, at)).await.expect("ok");
    assert!(
        matches!(prepared, Some(PrepareRenameResponse::RangeWithPlaceholder { ref placeholder, .. }) if placeholder == "AISystem")
    );
    let rename = |new_name: &str, at| RenameParams {
        text_document_position: TextDocumentPositionParams {
            text_document: TextDocumentIdentifier { uri: schema.clone() },
            position: at,
        },
        new_name: new_name.into(),
        work_done_progress_params: Default::default(),
    };
    let edit = client.request::<request::Rename>(rename("System", at)).await.expect("ok").expect("an edit");
    let changes = edit.changes.expect("changes");
    assert_eq!(changes[&schema].len(), 1);
    assert_eq!(changes[&client.uri("policy/controls.aims")].len(), 2);
    assert!(changes.values().flatten().all(|e| e.new_text == "System"));

    let refused = client.request::<request::Rename>(rename("Status", at)).await.expect_err("Status is a type");
    assert!(refused.message.contains("already exists"), "{}", refused.message);
    let keyword = client.request::<request::Rename>(rename("where", at)).await.expect_err("a keyword");
    assert!(keyword.message.contains("not a name"), "{}", keyword.message);
    let nothing = client.position_params(&schema, position(&text, "entity", 0, 1));
    assert!(client.request::<request::PrepareRenameRequest>(nothing).await.is_err(), "a keyword cannot be renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symbols_of_a_document_survive_a_broken_declaration() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    client.edit(&controls, 2, None, &format!("control broken {{ require }}\n{text}")).await;
    let params = DocumentSymbolParams {
        text_document: TextDocumentIdentifier { uri: controls.clone() },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let Some(DocumentSymbolResponse::Nested(found)) =
        client.request::<request::DocumentSymbolRequest>(params).await.expect("ok")
    else {
        panic!("nested symbols")
    };
    let names: Vec<(&str, SymbolKind)> = found.iter().map(|s| (s.name.as_str(), s.kind)).collect();
    assert_eq!(names, vec![("bias_tested", SymbolKind::METHOD), ("overseen", SymbolKind::METHOD)]);
    assert_eq!(found[0].detail.as_deref(), Some("Bias is tested every six months"));
    assert_eq!(found[0].selection_range.start.line, 2, "moved down a line by the broken control");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_symbols_match_across_files() {
    let mut client = TestClient::fixture().await;
    let params = WorkspaceSymbolParams {
        query: "bias".into(),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    // A list of `WorkspaceSymbol`s reads back as `SymbolInformation`s: the same JSON.
    let found: Vec<(String, Option<String>, Uri)> =
        match client.request::<request::WorkspaceSymbolRequest>(params).await.expect("ok") {
            Some(WorkspaceSymbolResponse::Flat(found)) => {
                found.into_iter().map(|s| (s.name, s.container_name, s.location.uri)).collect()
            }
            Some(WorkspaceSymbolResponse::Nested(found)) => found
                .into_iter()
                .map(|s| match s.location {
                    OneOf::Left(l) => (s.name, s.container_name, l.uri),
                    OneOf::Right(l) => (s.name, s.container_name, l.uri),
                })
                .collect(),
            None => panic!("symbols"),
        };
    let names: Vec<&str> = found.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"bias_tested") && names.contains(&"last_bias_test"), "{names:?}");
    let field = found.iter().find(|s| s.0 == "last_bias_test").expect("the field");
    assert_eq!(field.1.as_deref(), Some("AISystem"));
    assert_eq!(field.2, client.uri("policy/schema.aims"));
}

async fn definition_at(client: &mut TestClient, uri: &Uri, position: Position) -> Vec<Location> {
    let params = GotoDefinitionParams {
        text_document_position_params: client.position_params(uri, position),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    match client.request::<request::GotoDefinition>(params).await.expect("ok") {
        Some(GotoDefinitionResponse::Array(found)) => found,
        other => panic!("locations: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirement_identifiers_lead_into_the_stdlib_source() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let edited =
        format!("{text}\naudit reviewed clause 9.2.1 {{ require true }}\nexclude A.10.3 because \"no suppliers\"\n");
    client.edit(&controls, 2, None, &edited).await;
    for (id, module) in
        [("A.6.2.4", "iso42001/annex_a.aims"), ("9.2.1", "iso42001/clauses.aims"), ("A.10.3", "iso42001/annex_a.aims")]
    {
        let found = definition_at(&mut client, &controls, position(&edited, &format!(" {id}"), 0, 2)).await;
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        let path = found[0].uri.to_file_path().expect("a file").into_owned();
        assert!(path.ends_with(module), "{id}: {}", path.display());
        let source = std::fs::read_to_string(&path).expect("a file the editor can open");
        assert_eq!(word_at(&source, found[0].range), id);
        assert!(source.lines().nth(found[0].range.start.line as usize).expect("a line").starts_with("requirement "));
        assert!(std::fs::metadata(&path).expect("meta").permissions().readonly(), "opened read-only");
    }

    // The editor opens the module: it is not a policy file of the program
    // (which would declare every requirement twice).
    let found = definition_at(&mut client, &controls, position(&edited, "A.6.2.4", 0, 2)).await;
    let module = found[0].uri.clone();
    let source = std::fs::read_to_string(module.to_file_path().expect("a file")).expect("the module");
    let item = TextDocumentItem { uri: module.clone(), language_id: "aims".into(), version: 1, text: source };
    client.notify::<notification::DidOpenTextDocument>(DidOpenTextDocumentParams { text_document: item }).await;
    client.edit(&controls, 3, None, &format!("{edited}\n")).await;
    for _ in 0..1000 {
        if client.versions(&controls).last() == Some(&Some(3)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let errors: Vec<Diagnostic> = client
        .diagnostics(&controls)
        .into_iter()
        .chain(client.diagnostics(&module))
        .filter(|d| d.severity == Some(DiagnosticSeverity::ERROR))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let again = definition_at(&mut client, &controls, position(&edited, "A.6.2.4", 0, 2)).await;
    assert_eq!(again, found, "still declared once, in the stdlib");

    // References of the identifier: its uses, and its declaration when asked.
    let params = ReferenceParams {
        text_document_position: client.position_params(&controls, position(&edited, "A.6.2.4", 0, 2)),
        context: ReferenceContext { include_declaration: true },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let all = client.request::<request::References>(params).await.expect("ok").expect("some");
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[0], found[0], "the declaration first");
    assert_eq!(all[1].uri, controls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn occurrences_of_a_requirement_identifier_are_highlighted_in_the_document() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let edited = format!("{text}\naudit reviewed implements A.6.2.4, A.9.2 {{ require true }}\n");
    client.edit(&controls, 2, None, &edited).await;
    let params = DocumentHighlightParams {
        text_document_position_params: client.position_params(&controls, position(&edited, "A.6.2.4", 1, 1)),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let found = client.request::<request::DocumentHighlightRequest>(params).await.expect("ok").expect("some");
    let ranges: Vec<Range> = found.iter().map(|h| h.range).collect();
    let expected: Vec<Range> = (0..2)
        .map(|nth| {
            let start = position(&edited, "A.6.2.4", nth, 0);
            Range { start, end: Position { line: start.line, character: start.character + 7 } }
        })
        .collect();
    assert_eq!(ranges, expected, "both uses here, not the declaration in the stdlib");
}
