//! Completion: keywords, names in scope, fields after a dot, variants,
//! requirement identifiers, snippets for new declarations.

use aims_lang::engine::analysis::{Completion, CompletionKind};
use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, CompletionTextEdit, Documentation,
    InsertTextFormat, MarkupContent, MarkupKind, TextEdit,
};

use crate::line_index::LineIndex;
use crate::state::Snapshot;

pub fn complete(snapshot: &Snapshot, params: &CompletionParams) -> Cancellable<Option<CompletionResponse>> {
    let at = &params.text_document_position;
    let Some((file, _, lines)) = snapshot.document(&at.text_document.uri)? else { return Ok(None) };
    let found = snapshot.analysis.completions(file, lines.offset(at.position) as u32)?;
    let items = found.into_iter().map(|c| item(c, &lines, snapshot.flags.snippets)).collect();
    Ok(Some(CompletionResponse::Array(items)))
}

fn item(c: Completion, lines: &LineIndex, snippets: bool) -> CompletionItem {
    let kind = match c.kind {
        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        CompletionKind::Snippet => CompletionItemKind::SNIPPET,
        CompletionKind::Type => CompletionItemKind::CLASS,
        CompletionKind::Variant => CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Field => CompletionItemKind::FIELD,
        CompletionKind::Rule => CompletionItemKind::METHOD,
        CompletionKind::Function => CompletionItemKind::FUNCTION,
        CompletionKind::Variable => CompletionItemKind::VARIABLE,
        CompletionKind::Requirement => CompletionItemKind::REFERENCE,
        CompletionKind::Module => CompletionItemKind::MODULE,
    };
    let (new_text, format) = if c.snippet && snippets {
        (c.insert, InsertTextFormat::SNIPPET)
    } else if c.snippet {
        (plain(&c.insert), InsertTextFormat::PLAIN_TEXT)
    } else {
        (c.insert, InsertTextFormat::PLAIN_TEXT)
    };
    CompletionItem {
        sort_text: Some(format!("{}{}", if c.preferred { '0' } else { '1' }, c.label)),
        filter_text: Some(c.label.clone()),
        label: c.label,
        kind: Some(kind),
        detail: c.detail,
        documentation: c
            .documentation
            .map(|value| Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value })),
        insert_text_format: Some(format),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit { range: lines.range(c.replace), new_text })),
        ..CompletionItem::default()
    }
}

/// A snippet as plain text: `${1:name}` is `name`, `${2|a,b|}` is `a`, `$1` is nothing.
pub fn plain(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len());
    let mut rest = snippet;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(body) = rest.strip_prefix('{') {
            let end = body.find('}').unwrap_or(body.len());
            let inner = &body[..end];
            let shown = match inner.split_once(':') {
                Some((_, default)) => default,
                None => inner.split_once('|').map_or("", |(_, choices)| choices.split([',', '|']).next().unwrap_or("")),
            };
            out.push_str(shown);
            rest = body.get(end + 1..).unwrap_or("");
        } else {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn snippets_become_plain_text() {
        assert_eq!(plain("f($1)"), "f()");
        assert_eq!(
            plain("control ${1:name} \"${2:t}\"\n  severity ${4|major,minor|}"),
            "control name \"t\"\n  severity major"
        );
    }
}
