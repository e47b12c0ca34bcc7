//! Code lenses: above every control and audit, its outcomes
//! ("3 pass · 1 fail · 2 n/a").

use aims_lang::ide::outcomes;
use tower_lsp_server::ls_types::{CodeLens, CodeLensParams, Command};

use crate::state::Snapshot;

pub fn lenses(snapshot: &Snapshot, params: &CodeLensParams) -> Option<Vec<CodeLens>> {
    let (file, _, lines) = snapshot.document(&params.text_document.uri)?;
    let program = snapshot.world().program();
    let lenses = program
        .rules
        .iter()
        .filter(|rule| rule.decl.name_span.file == file)
        .map(|rule| {
            let title = if snapshot.evaluable {
                outcomes::summary(&snapshot.db, snapshot.ws, &rule.decl.name)
                    .map_or_else(|| "not evaluated".to_string(), |s| s.label())
            } else {
                "not evaluated: the policy has errors, or the facts do not load".to_string()
            };
            CodeLens {
                range: lines.range(rule.decl.name_span.span),
                // An empty command: a label, nothing to run.
                command: Some(Command { title, command: String::new(), arguments: None }),
                data: None,
            }
        })
        .collect();
    Some(lenses)
}
