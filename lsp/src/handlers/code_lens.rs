//! Code lenses: above every control and audit, its outcomes
//! ("3 pass · 1 fail · 2 n/a").

use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{CodeLens, CodeLensParams, Command};

use crate::state::Snapshot;

pub fn lenses(snapshot: &Snapshot, params: &CodeLensParams) -> Cancellable<Option<Vec<CodeLens>>> {
    let Some((file, _, lines)) = snapshot.document(&params.text_document.uri)? else { return Ok(None) };
    let program = snapshot.analysis.program()?;
    let evaluable = snapshot.evaluable()?;
    let mut lenses = Vec::new();
    for rule in program.rules.iter().filter(|rule| rule.decl.name_span.file == file) {
        let title = if evaluable {
            snapshot.analysis.rule_summary(&rule.decl.name)?.map_or_else(|| "not evaluated".to_string(), |s| s.label())
        } else {
            "not evaluated: the policy has errors, or the facts do not load".to_string()
        };
        lenses.push(CodeLens {
            range: lines.range(rule.decl.name_span.span),
            // An empty command: a label, nothing to run.
            command: Some(Command { title, command: String::new(), arguments: None }),
            data: None,
        });
    }
    Ok(Some(lenses))
}
