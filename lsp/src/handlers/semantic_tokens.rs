//! Semantic tokens (the whole document): the engine's tokens, names
//! classified by what they refer to, positions in the negotiated encoding.

use aims_lang::engine::analysis::HighlightKind;
use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensLegend,
    SemanticTokensParams, SemanticTokensResult,
};

use crate::state::Snapshot;

/// The token types, in the order of their indices.
const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::STRUCT,
    SemanticTokenType::ENUM,
    SemanticTokenType::TYPE,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::CLASS,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::DECORATOR,
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
];

/// The modifiers, in the order of their bits.
const MODIFIERS: &[SemanticTokenModifier] = &[SemanticTokenModifier::DECLARATION, SemanticTokenModifier::DOCUMENTATION];

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend { token_types: TYPES.to_vec(), token_modifiers: MODIFIERS.to_vec() }
}

fn type_index(kind: HighlightKind) -> u32 {
    match kind {
        HighlightKind::Keyword => 0,
        HighlightKind::Struct => 1,
        HighlightKind::Enum => 2,
        HighlightKind::Type => 3,
        HighlightKind::EnumMember => 4,
        HighlightKind::Property => 5,
        HighlightKind::Function => 6,
        HighlightKind::Rule => 7,
        HighlightKind::Variable => 8,
        HighlightKind::Parameter => 9,
        HighlightKind::Requirement => 10,
        HighlightKind::Module => 11,
        HighlightKind::String => 12,
        HighlightKind::Number => 13,
        HighlightKind::Comment => 14,
        HighlightKind::Operator => 15,
    }
}

pub fn full(snapshot: &Snapshot, params: &SemanticTokensParams) -> Cancellable<Option<SemanticTokensResult>> {
    let Some((file, text, lines)) = snapshot.document(&params.text_document.uri)? else { return Ok(None) };
    let mut data = Vec::new();
    let (mut line, mut column) = (0u32, 0u32);
    for h in snapshot.analysis.highlights(file)? {
        let start = lines.position(h.span.start as usize);
        // A token never spans lines; if one did, only its first line is coloured.
        let end_offset = text[h.span.start as usize..h.span.end as usize]
            .find(['\n', '\r'])
            .map_or(h.span.end as usize, |i| h.span.start as usize + i);
        let length = snapshot.encoding.len(&text[h.span.start as usize..end_offset]);
        if length == 0 {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 { start.character - column } else { start.character };
        let modifiers = u32::from(h.declaration) | (u32::from(h.documentation) << 1);
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: type_index(h.kind),
            token_modifiers_bitset: modifiers,
        });
        (line, column) = (start.line, start.character);
    }
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })))
}
