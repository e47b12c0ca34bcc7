//! Hover: the declaration, type and docs of a name; for a control or an
//! audit, its outcomes as of the evaluation date.

use std::fmt::Write as _;

use aims_lang::engine::analysis::Symbol;
use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use crate::state::Snapshot;

/// How many failing entities a hover lists.
const FAILURES_SHOWN: usize = 10;

pub fn hover(snapshot: &Snapshot, params: &HoverParams) -> Cancellable<Option<Hover>> {
    let at = &params.text_document_position_params;
    let Some((file, _, lines)) = snapshot.document(&at.text_document.uri)? else { return Ok(None) };
    let offset = lines.offset(at.position) as u32;
    let Some(found) = snapshot.analysis.hover(file, offset)? else { return Ok(None) };
    let mut value = found.markdown;
    if let Some(Symbol::Rule(name)) = &found.symbol {
        if snapshot.analysis.program()?.rule_by_name(name).is_some() {
            value.push_str("\n\n---\n\n");
            value.push_str(&outcomes_text(snapshot, name)?);
        }
    }
    Ok(Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }),
        range: Some(lines.range(found.span)),
    }))
}

/// The outcomes of a rule, as Markdown.
fn outcomes_text(snapshot: &Snapshot, rule: &str) -> Cancellable<String> {
    if !snapshot.evaluable()? {
        return Ok("_Not evaluated: the policy has errors, or the facts do not load._".into());
    }
    let Some(summary) = snapshot.analysis.rule_summary(rule)? else { return Ok(String::new()) };
    let mut text = format!("**Outcomes as of {}:** {}", snapshot.as_of, summary.label());
    for failing in summary.failing.iter().take(FAILURES_SHOWN) {
        let reasons: Vec<&str> = failing.failures.iter().map(|(_, m)| m.as_str()).collect();
        let _ = write!(text, "\n- fails for `{}`: {}", failing.key, reasons.join("; "));
    }
    if summary.fail as usize > FAILURES_SHOWN {
        let _ = write!(text, "\n- and {} more", summary.fail as usize - FAILURES_SHOWN);
    }
    Ok(text)
}
