//! Document symbols (the outline) and workspace symbols.

use aims_lang::engine::analysis::{OutlineItem, OutlineKind};
use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{
    DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, OneOf, SymbolInformation, SymbolKind,
    WorkspaceSymbol, WorkspaceSymbolParams, WorkspaceSymbolResponse,
};

use crate::line_index::LineIndex;
use crate::state::Snapshot;

/// The most workspace symbols answered.
const WORKSPACE_LIMIT: usize = 512;

fn kind(kind: OutlineKind) -> SymbolKind {
    match kind {
        OutlineKind::Use => SymbolKind::MODULE,
        OutlineKind::Enum | OutlineKind::Scale | OutlineKind::Matrix => SymbolKind::ENUM,
        OutlineKind::Variant => SymbolKind::ENUM_MEMBER,
        OutlineKind::Record => SymbolKind::STRUCT,
        OutlineKind::Entity | OutlineKind::Extend => SymbolKind::CLASS,
        OutlineKind::Field | OutlineKind::Measure => SymbolKind::FIELD,
        OutlineKind::Fact => SymbolKind::OBJECT,
        OutlineKind::Requirement | OutlineKind::Exclude | OutlineKind::Map => SymbolKind::KEY,
        OutlineKind::Control | OutlineKind::Audit => SymbolKind::METHOD,
        OutlineKind::Appetite => SymbolKind::CONSTANT,
        OutlineKind::Risk => SymbolKind::EVENT,
        OutlineKind::Objective => SymbolKind::PROPERTY,
        OutlineKind::Exception => SymbolKind::EVENT,
        OutlineKind::Function => SymbolKind::FUNCTION,
        OutlineKind::Test => SymbolKind::NAMESPACE,
    }
}

#[allow(deprecated)] // `deprecated` is a field every LSP symbol must still carry
fn document_symbol(item: OutlineItem, lines: &LineIndex) -> DocumentSymbol {
    DocumentSymbol {
        name: if item.name.is_empty() { "?".into() } else { item.name },
        detail: item.detail,
        kind: kind(item.kind),
        tags: None,
        deprecated: None,
        range: lines.range(item.span.cover(item.name_span)),
        selection_range: lines.range(item.name_span),
        children: Some(item.children.into_iter().map(|c| document_symbol(c, lines)).collect()),
    }
}

pub fn document_symbols(
    snapshot: &Snapshot,
    params: &DocumentSymbolParams,
) -> Cancellable<Option<DocumentSymbolResponse>> {
    let Some((file, _, lines)) = snapshot.document(&params.text_document.uri)? else { return Ok(None) };
    let Some(items) = snapshot.analysis.outline(file)? else { return Ok(None) };
    if snapshot.flags.hierarchical_symbols {
        return Ok(Some(DocumentSymbolResponse::Nested(
            items.into_iter().map(|i| document_symbol(i, &lines)).collect(),
        )));
    }
    let uri = params.text_document.uri.clone();
    let mut flat = Vec::new();
    for item in items {
        for (symbol, container) in
            std::iter::once((&item, None)).chain(item.children.iter().map(|c| (c, Some(item.name.clone()))))
        {
            #[allow(deprecated)]
            flat.push(SymbolInformation {
                name: symbol.name.clone(),
                kind: kind(symbol.kind),
                tags: None,
                deprecated: None,
                location: tower_lsp_server::ls_types::Location {
                    uri: uri.clone(),
                    range: lines.range(symbol.name_span),
                },
                container_name: container,
            });
        }
    }
    Ok(Some(DocumentSymbolResponse::Flat(flat)))
}

pub fn workspace_symbols(
    snapshot: &Snapshot,
    params: &WorkspaceSymbolParams,
) -> Cancellable<Option<WorkspaceSymbolResponse>> {
    let found = snapshot.analysis.workspace_symbols(&params.query, WORKSPACE_LIMIT)?;
    let mut symbols = Vec::with_capacity(found.len());
    let mut places = crate::state::Places::new(snapshot);
    for s in found {
        let Some(location) = places.location(s.at)? else { continue };
        symbols.push(WorkspaceSymbol {
            name: s.name,
            kind: kind(s.kind),
            tags: None,
            container_name: s.container,
            location: OneOf::Left(location),
            data: None,
        });
    }
    Ok(Some(WorkspaceSymbolResponse::Nested(symbols)))
}
