//! Go to definition, find references, rename.

use std::collections::HashMap;

use aims_lang::ide::{navigate, rename};
use tower_lsp_server::ls_types::{
    GotoDefinitionParams, GotoDefinitionResponse, Location, PrepareRenameResponse, ReferenceParams, RenameParams,
    TextDocumentPositionParams, TextEdit, Uri, WorkspaceEdit,
};

use crate::state::Snapshot;

pub fn definition(snapshot: &Snapshot, params: &GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
    let at = &params.text_document_position_params;
    let (file, _, lines) = snapshot.document(&at.text_document.uri)?;
    let found = navigate::definition(snapshot.world(), file, lines.offset(at.position) as u32);
    let locations: Vec<Location> = found.into_iter().filter_map(|at| snapshot.location(at)).collect();
    (!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations))
}

pub fn references(snapshot: &Snapshot, params: &ReferenceParams) -> Option<Vec<Location>> {
    let at = &params.text_document_position;
    let (file, _, lines) = snapshot.document(&at.text_document.uri)?;
    let offset = lines.offset(at.position) as u32;
    let found = navigate::references(snapshot.world(), file, offset, params.context.include_declaration);
    Some(found.into_iter().filter_map(|at| snapshot.location(at)).collect())
}

/// The range and name to rename, or why not.
pub fn prepare_rename(
    snapshot: &Snapshot,
    params: &TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>, String> {
    let Some((file, _, lines)) = snapshot.document(&params.text_document.uri) else { return Ok(None) };
    let (span, name) =
        rename::prepare(snapshot.world(), file, lines.offset(params.position) as u32).map_err(|e| e.message)?;
    Ok(Some(PrepareRenameResponse::RangeWithPlaceholder { range: lines.range(span), placeholder: name }))
}

/// The edits of a rename across every file, or why it is refused.
pub fn rename(snapshot: &Snapshot, params: &RenameParams) -> Result<Option<WorkspaceEdit>, String> {
    let at = &params.text_document_position;
    let Some((file, _, lines)) = snapshot.document(&at.text_document.uri) else { return Ok(None) };
    let edits = rename::rename(snapshot.world(), file, lines.offset(at.position) as u32, &params.new_name)
        .map_err(|e| e.message)?;
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for edit in edits {
        let (Some(uri), Some(lines)) = (snapshot.uri(edit.file), snapshot.lines(edit.file)) else { continue };
        changes.entry(uri).or_default().push(TextEdit { range: lines.range(edit.span), new_text: edit.text });
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }))
}
