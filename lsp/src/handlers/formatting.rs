//! Formatting: the formatter of `aims fmt`, as one edit of the whole
//! document; nothing while the document has a syntax error.

use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{DocumentFormattingParams, Position, Range, TextEdit};

use crate::state::Snapshot;

pub fn format(snapshot: &Snapshot, params: &DocumentFormattingParams) -> Cancellable<Option<Vec<TextEdit>>> {
    let Some((file, text, lines)) = snapshot.document(&params.text_document.uri)? else { return Ok(None) };
    let Some(formatted) = snapshot.analysis.formatted(file)? else { return Ok(None) };
    if formatted == text {
        return Ok(Some(Vec::new()));
    }
    let range = Range { start: Position { line: 0, character: 0 }, end: lines.end() };
    Ok(Some(vec![TextEdit { range, new_text: formatted }]))
}
