//! Go to definition, find references, highlight the occurrences in a
//! document, rename.

use std::collections::HashMap;

use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{
    DocumentHighlight, DocumentHighlightKind, DocumentHighlightParams, GotoDefinitionParams, GotoDefinitionResponse,
    Location, PrepareRenameResponse, ReferenceParams, RenameParams, TextDocumentPositionParams, TextEdit, Uri,
    WorkspaceEdit,
};

use crate::state::{Places, Snapshot};

pub fn definition(snapshot: &Snapshot, params: &GotoDefinitionParams) -> Cancellable<Option<GotoDefinitionResponse>> {
    let at = &params.text_document_position_params;
    let Some((file, _, lines)) = snapshot.document(&at.text_document.uri)? else { return Ok(None) };
    let found = snapshot.analysis.definition(file, lines.offset(at.position) as u32)?;
    let locations = snapshot.locations(&found)?;
    Ok((!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations)))
}

pub fn references(snapshot: &Snapshot, params: &ReferenceParams) -> Cancellable<Option<Vec<Location>>> {
    let at = &params.text_document_position;
    let Some((file, _, lines)) = snapshot.document(&at.text_document.uri)? else { return Ok(None) };
    let offset = lines.offset(at.position) as u32;
    let found = snapshot.analysis.references(file, offset, params.context.include_declaration)?;
    Ok(Some(snapshot.locations(&found)?))
}

/// The occurrences in this document of the name at the position (a
/// requirement identifier's too: they are references).
pub fn highlights(
    snapshot: &Snapshot,
    params: &DocumentHighlightParams,
) -> Cancellable<Option<Vec<DocumentHighlight>>> {
    let at = &params.text_document_position_params;
    let Some((file, _, lines)) = snapshot.document(&at.text_document.uri)? else { return Ok(None) };
    let found = snapshot.analysis.references(file, lines.offset(at.position) as u32, true)?;
    let here = found.into_iter().filter(|s| s.file == file);
    Ok(Some(
        here.map(|s| DocumentHighlight { range: lines.range(s.span), kind: Some(DocumentHighlightKind::TEXT) })
            .collect(),
    ))
}

/// The range and name to rename, or why not.
pub fn prepare_rename(
    snapshot: &Snapshot,
    params: &TextDocumentPositionParams,
) -> Cancellable<Result<Option<PrepareRenameResponse>, String>> {
    let Some((file, _, lines)) = snapshot.document(&params.text_document.uri)? else { return Ok(Ok(None)) };
    Ok(match snapshot.analysis.prepare_rename(file, lines.offset(params.position) as u32)? {
        Ok((span, name)) => {
            Ok(Some(PrepareRenameResponse::RangeWithPlaceholder { range: lines.range(span), placeholder: name }))
        }
        Err(e) => Err(e.message),
    })
}

/// The edits of a rename across every file, or why it is refused.
pub fn rename(snapshot: &Snapshot, params: &RenameParams) -> Cancellable<Result<Option<WorkspaceEdit>, String>> {
    let at = &params.text_document_position;
    let Some((file, _, lines)) = snapshot.document(&at.text_document.uri)? else { return Ok(Ok(None)) };
    let edits = match snapshot.analysis.rename(file, lines.offset(at.position) as u32, &params.new_name)? {
        Ok(edits) => edits,
        Err(e) => return Ok(Err(e.message)),
    };
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    let mut places = Places::new(snapshot);
    for edit in edits {
        // Only policy files are renamed in (a stdlib module is read-only).
        if snapshot.uri(edit.file).is_none() {
            continue;
        }
        let Some((uri, lines)) = places.file(edit.file)? else { continue };
        changes.entry(uri.clone()).or_default().push(TextEdit { range: lines.range(edit.span), new_text: edit.text });
    }
    Ok(Ok(Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() })))
}
