//! Formatting: the formatter of `aims fmt`, as one edit of the whole
//! document; nothing while the document has a syntax error.

use aims_lang::format;
use tower_lsp_server::ls_types::{DocumentFormattingParams, Position, Range, TextEdit};

use crate::state::Snapshot;

pub fn format(snapshot: &Snapshot, params: &DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    let (_, text, lines) = snapshot.document(&params.text_document.uri)?;
    let formatted = format::format(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let range = Range { start: Position { line: 0, character: 0 }, end: lines.end() };
    Some(vec![TextEdit { range, new_text: formatted }])
}
