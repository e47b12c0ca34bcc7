//! Hover, completion, formatting, code actions, semantic tokens, and
//! positions in UTF-16 (and UTF-8) with non-ASCII text.

use tower_lsp_server::ls_types::*;

use crate::support::{capabilities, codes, position, TestClient};

async fn hover(client: &mut TestClient, uri: &Uri, at: Position) -> String {
    let params = HoverParams {
        text_document_position_params: client.position_params(uri, at),
        work_done_progress_params: Default::default(),
    };
    match client.request::<request::HoverRequest>(params).await.expect("ok") {
        Some(Hover { contents: HoverContents::Markup(m), .. }) => m.value,
        other => panic!("markdown expected: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_shows_types_docs_titles_and_outcomes() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let field = hover(&mut client, &controls, position(&text, "last_bias_test", 0, 3)).await;
    assert!(
        field.contains("AISystem.last_bias_test: Date?") && field.contains("When bias was last tested."),
        "{field}"
    );
    let requirement = hover(&mut client, &controls, position(&text, "A.6.2.4", 0, 2)).await;
    assert!(requirement.contains("A.6.2.4") && requirement.contains("**"), "{requirement}");
    let variable = hover(&mut client, &controls, position(&text, "s.status", 0, 0)).await;
    assert!(variable.contains("s: AISystem"), "{variable}");
    let control = hover(&mut client, &controls, position(&text, "bias_tested", 0, 1)).await;
    assert!(control.contains("Live systems are tested for bias every six months."), "{control}");
    assert!(control.contains("**Outcomes as of 2026-11-01:** 1 pass · 1 fail · 1 n/a"), "{control}");
    assert!(control.contains("fails for `chatbot`: no evidence"), "{control}");
}

async fn complete(client: &mut TestClient, uri: &Uri, at: Position) -> Vec<CompletionItem> {
    let params = CompletionParams {
        text_document_position: client.position_params(uri, at),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
        context: None,
    };
    match client.request::<request::Completion>(params).await.expect("ok") {
        Some(CompletionResponse::Array(items)) => items,
        other => panic!("items expected: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_knows_fields_requirements_and_snippets() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let typing = text.replace("require s.human_oversight\n", "require s.\n");
    client.edit(&controls, 2, None, &typing).await;
    let after_dot = position(&typing, "require s.\n", 0, 10);
    let fields = complete(&mut client, &controls, after_dot).await;
    let labels: Vec<&str> = fields.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, vec!["human_oversight", "id", "last_bias_test", "name", "status"]);
    assert!(fields.iter().all(|i| i.kind == Some(CompletionItemKind::FIELD)));

    let ids = complete(&mut client, &controls, position(&typing, "A.9.2", 0, 4)).await;
    let replace = match &ids[0].text_edit {
        Some(CompletionTextEdit::Edit(e)) => e.range,
        other => panic!("{other:?}"),
    };
    assert_eq!(replace.end.character - replace.start.character, 4, "`A.9.` is replaced");
    assert!(ids.iter().any(|i| i.label == "A.9.2" && i.detail.is_some()));

    let end = Position { line: typing.lines().count() as u32, character: 0 };
    let snippets = complete(&mut client, &controls, end).await;
    let control = snippets
        .iter()
        .find(|i| i.label == "control" && i.kind == Some(CompletionItemKind::SNIPPET))
        .expect("a snippet");
    assert_eq!(control.insert_text_format, Some(InsertTextFormat::SNIPPET));
    assert!(snippets.iter().any(|i| i.label == "risk") && snippets.iter().any(|i| i.label == "objective"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formatting_uses_the_formatter_and_skips_broken_text() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let messy = text.replace("  require s.human_oversight", "        require    s.human_oversight");
    client.edit(&controls, 2, None, &messy).await;
    let params = DocumentFormattingParams {
        text_document: TextDocumentIdentifier { uri: controls.clone() },
        options: FormattingOptions { tab_size: 2, insert_spaces: true, ..FormattingOptions::default() },
        work_done_progress_params: Default::default(),
    };
    let edits = client.request::<request::Formatting>(params.clone()).await.expect("ok").expect("edits");
    assert_eq!(edits.len(), 1);
    // One edit, of the one line out of shape: the rest of the file is left alone.
    let line = position(&messy, "        require    s.human_oversight", 0, 0).line;
    assert_eq!(edits[0].range, Range { start: Position::new(line, 0), end: Position::new(line + 1, 0) });
    assert_eq!(edits[0].new_text, "  require s.human_oversight\n");
    let mut lines: Vec<String> = messy.split_inclusive('\n').map(str::to_string).collect();
    lines[line as usize] = edits[0].new_text.clone();
    assert_eq!(lines.concat(), aims_lang::syntax::format(&messy).expect("formats"));
    assert_eq!(lines.concat(), text, "the fixture is formatted");
    client.edit(&controls, 3, None, &text).await;
    let none = client.request::<request::Formatting>(params.clone()).await.expect("ok").expect("an answer");
    assert!(none.is_empty(), "nothing to do on a formatted text");
    client.edit(&controls, 4, None, &format!("{messy}\ncontrol broken {{ require }}\n")).await;
    let none = client.request::<request::Formatting>(params).await.expect("ok");
    assert!(none.is_none(), "no edits while the text has a syntax error");
}

async fn actions(client: &mut TestClient, uri: &Uri, range: Range) -> Vec<CodeAction> {
    let params = CodeActionParams {
        text_document: TextDocumentIdentifier { uri: uri.clone() },
        range,
        context: CodeActionContext::default(),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    client
        .request::<request::CodeActionRequest>(params)
        .await
        .expect("ok")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| match a {
            CodeActionOrCommand::CodeAction(a) => Some(a),
            CodeActionOrCommand::Command(_) => None,
        })
        .collect()
}

/// Applies the edits of an action to one document's text.
fn apply(text: &str, action: &CodeAction, uri: &Uri) -> String {
    let edits =
        action.edit.as_ref().and_then(|e| e.changes.as_ref()).and_then(|c| c.get(uri)).expect("edits of the document");
    let mut out = text.to_string();
    let mut sorted = edits.clone();
    sorted.sort_by_key(|e| std::cmp::Reverse((e.range.start.line, e.range.start.character)));
    for edit in sorted {
        let offset = |p: Position| {
            let line_start: usize = out.split_inclusive('\n').take(p.line as usize).map(str::len).sum();
            line_start + out[line_start..].chars().take(p.character as usize).map(char::len_utf8).sum::<usize>()
        };
        let (start, end) = (offset(edit.range.start), offset(edit.range.end));
        out.replace_range(start..end, &edit.new_text);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_did_you_mean_fix_is_offered_and_applies() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let broken = text.replace("s.human_oversight", "s.human_oversigt");
    client.edit(&controls, 2, None, &broken).await;
    let at = position(&broken, "human_oversigt", 0, 3);
    let found = actions(&mut client, &controls, Range { start: at, end: at }).await;
    let fix = found.iter().find(|a| a.title == "replace with `human_oversight`").expect("the fix");
    assert_eq!(fix.is_preferred, Some(true));
    assert_eq!(codes(fix.diagnostics.as_deref().unwrap_or_default()), vec!["E0102".to_string()]);
    assert_eq!(apply(&broken, fix, &controls), text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unaddressed_annex_a_control_can_be_excluded() {
    let mut client = TestClient::fixture().await;
    let schema = client.uri("policy/schema.aims");
    let text = client.open("policy/schema.aims", None).await;
    client.wait_for(&schema, |d| d.iter().any(|d| d.message.contains("A.2.2 "))).await;
    let at = position(&text, "iso42001", 0, 2);
    let found = actions(&mut client, &schema, Range { start: at, end: at }).await;
    let exclude = found.iter().find(|a| a.title.starts_with("Exclude A.2.2 ")).expect("an exclude for A.2.2");
    assert!(!found.iter().any(|a| a.title.starts_with("Exclude A.6.2.4 ")), "A.6.2.4 is implemented");
    assert_eq!(codes(exclude.diagnostics.as_deref().unwrap_or_default()), vec!["W0002".to_string()]);
    let excluded = apply(&text, exclude, &schema);
    assert!(excluded.contains("exclude A.2.2\n  because \"TODO"), "{excluded}");
    client.edit(&schema, 2, None, &excluded).await;
    let after = client.wait_for(&schema, |d| !d.iter().any(|d| d.message.contains("A.2.2 "))).await;
    assert!(codes(&after).iter().all(|c| c == "W0002"), "no new error: {after:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_can_be_added_for_a_failing_entity() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    client.wait_for(&controls, |d| d.len() == 2).await;
    let at = position(&text, "require s.last_bias_test", 0, 2);
    let found = actions(&mut client, &controls, Range { start: at, end: at }).await;
    let titles: Vec<&str> = found.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, vec!["Add an exception to `bias_tested` for AISystem \"chatbot\""]);
    let waived = apply(&text, &found[0], &controls);
    assert!(
        waived.contains(
            "exception bias_tested_chatbot\n  waives bias_tested for AISystem \"chatbot\"\n  until 2027-01-30\n"
        ),
        "{waived}"
    );
    client.edit(&controls, 2, None, &waived).await;
    let after = client.wait_for(&controls, |d| d.len() == 1).await;
    assert!(after[0].message.starts_with("`overseen`"), "bias_tested is waived for chatbot: {after:#?}");
}

fn decode(data: &[SemanticToken]) -> Vec<(u32, u32, u32, u32, u32)> {
    let (mut line, mut start) = (0, 0);
    data.iter()
        .map(|t| {
            if t.delta_line > 0 {
                line += t.delta_line;
                start = t.delta_start;
            } else {
                start += t.delta_start;
            }
            (line, start, t.length, t.token_type, t.token_modifiers_bitset)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_tokens_classify_names_and_count_utf16() {
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let edited = text.replace("\"A person can intervene\"", "\"A person 😀 can intervene\" // é😀");
    client.edit(&controls, 2, None, &edited).await;
    let params = SemanticTokensParams {
        text_document: TextDocumentIdentifier { uri: controls.clone() },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let Some(SemanticTokensResult::Tokens(tokens)) =
        client.request::<request::SemanticTokensFullRequest>(params).await.expect("ok")
    else {
        panic!("tokens")
    };
    let tokens = decode(&tokens.data);
    let at = |needle: &str, nth: usize| {
        let p = position(&edited, needle, nth, 0);
        tokens
            .iter()
            .find(|t| t.0 == p.line && t.1 == p.character)
            .copied()
            .unwrap_or_else(|| panic!("a token at {needle}"))
    };
    let (class, strukt, member, string, comment, keyword) = (7, 1, 4, 12, 14, 0);
    assert_eq!(at("bias_tested", 0).3, class);
    assert_eq!(at("bias_tested", 0).4 & 1, 1, "a declaration");
    assert_eq!(at("AISystem", 0).3, strukt);
    assert_eq!(at("deployed", 0).3, member);
    assert_eq!(at("control", 0).3, keyword);
    assert_eq!(at("///", 0).4 & 2, 2, "a doc comment");
    let title = at("\"A person 😀", 0);
    assert_eq!((title.2, title.3), (27, string), "the emoji is two UTF-16 units");
    let note = at("// é😀", 0);
    assert_eq!((note.2, note.3), (6, comment));
    assert_eq!(at("overseen", 0).1, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_after_non_ascii_text_are_right_in_utf16_and_utf8() {
    let line = "control oversee \"é 😀 ü\" for s: AISystem where s.status != retired { require s.human_oversigt }\n";
    let mut client = TestClient::fixture().await;
    let controls = client.uri("policy/controls.aims");
    let text = client.open("policy/controls.aims", None).await;
    let edited = format!("{text}\n{line}");
    client.edit(&controls, 2, None, &edited).await;
    let found = client.wait_for(&controls, |d| codes(d).contains(&"E0102".to_string())).await;
    let utf16 = position(&edited, "human_oversigt", 0, 0);
    assert_eq!(found[0].range.start, utf16);
    let status = hover(&mut client, &controls, position(&edited, "status !=", 1, 2)).await;
    assert!(status.contains("AISystem.status: Status"), "{status}");

    // The same in UTF-8, where a column counts bytes.
    let folder = crate::support::fixture();
    let root = folder.path().canonicalize().expect("canonical");
    let mut utf8 = TestClient::start(Some(&root), capabilities(&["utf-8", "utf-16"])).await;
    let controls = utf8.uri("policy/controls.aims");
    utf8.open("policy/controls.aims", Some(&edited)).await;
    let found = utf8.wait_for(&controls, |d| codes(d).contains(&"E0102".to_string())).await;
    let line_start = edited.rfind("control oversee").expect("the line");
    let byte_column = edited.find("human_oversigt").expect("the error") - line_start;
    assert_eq!(found[0].range.start, Position { line: utf16.line, character: byte_column as u32 });
    assert_ne!(byte_column as u32, utf16.character, "the line has multibyte characters");
}
