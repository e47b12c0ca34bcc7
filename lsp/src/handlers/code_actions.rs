//! Code actions: a diagnostic's "did you mean" fix, an `exclude` for an
//! Annex A control nothing implements, an `exception` for a failing entity.

use std::collections::HashMap;

use aims_lang::diag::FileId;
use aims_lang::engine::analysis::TextEdit as IdeEdit;
use aims_lang::ir::Ty;
use aims_lang::syntax::Span;
use aims_lang::Cancellable;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, TextEdit, Uri, WorkspaceEdit,
};

use crate::convert::{self, Lines};
use crate::state::Snapshot;

/// The most exceptions offered at once (one per failing entity).
const MAX_EXCEPTIONS: usize = 20;

fn overlaps(a: Span, b: Span) -> bool {
    a.start <= b.end && b.start <= a.end
}

pub fn actions(snapshot: &Snapshot, params: &CodeActionParams) -> Cancellable<Option<CodeActionResponse>> {
    if let Some(only) = &params.context.only {
        if !only.iter().any(|k| k.as_str().starts_with(CodeActionKind::QUICKFIX.as_str())) {
            return Ok(Some(Vec::new()));
        }
    }
    let uri = &params.text_document.uri;
    let Some((file, _, lines)) = snapshot.document(uri)? else { return Ok(None) };
    let range = lines.span(params.range);
    let mut out = Vec::new();
    fixes(snapshot, file, range, &mut out)?;
    excludes(snapshot, file, range, &mut out)?;
    exceptions(snapshot, file, range, &mut out)?;
    Ok(Some(out))
}

/// The edits as a workspace edit; `None` if one is in no known document.
fn workspace_edit(snapshot: &Snapshot, edits: Vec<IdeEdit>) -> Cancellable<Option<WorkspaceEdit>> {
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for edit in edits {
        let (Some(uri), Some(lines)) = (snapshot.uri(edit.file), snapshot.lines(edit.file)?) else { return Ok(None) };
        changes.entry(uri).or_default().push(TextEdit { range: lines.range(edit.span), new_text: edit.text });
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }))
}

fn quickfix(title: String, edit: WorkspaceEdit, preferred: bool) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        edit: Some(edit),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    })
}

/// The fixes of the diagnostics under the cursor.
fn fixes(snapshot: &Snapshot, file: FileId, range: Span, out: &mut Vec<CodeActionOrCommand>) -> Cancellable<()> {
    let mut lines = Lines::new(snapshot.sources(), snapshot.encoding);
    let uri_of = |f: FileId| snapshot.uri(f);
    for d in snapshot.analysis.diagnostics()? {
        let Some(fix) = &d.fix else { continue };
        if fix.at.file != file || !overlaps(fix.at.span, range) {
            continue;
        }
        let edit = IdeEdit { file, span: fix.at.span, text: fix.replacement.clone() };
        let Some(workspace_edit) = workspace_edit(snapshot, vec![edit])? else { continue };
        let diagnostic = convert::diagnostic(d, &mut lines, &uri_of).map(|(_, d)| vec![d]);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: fix.title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: diagnostic,
            edit: Some(workspace_edit),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    Ok(())
}

/// `exclude` for the Annex A controls nothing addresses: all of them on
/// `use iso42001`, one on a reference to it.
fn excludes(snapshot: &Snapshot, file: FileId, range: Span, out: &mut Vec<CodeActionOrCommand>) -> Cancellable<()> {
    let mut lines = Lines::new(snapshot.sources(), snapshot.encoding);
    let uri_of = |f: FileId| snapshot.uri(f);
    for found in snapshot.analysis.unaddressed(file, range)? {
        let Some(edit) = workspace_edit(snapshot, vec![found.edit])? else { continue };
        let warning =
            found.warning.as_ref().and_then(|d| convert::diagnostic(d, &mut lines, &uri_of)).map(|(_, d)| vec![d]);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Exclude {} ({}) with a justification", found.id, found.title),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: warning,
            edit: Some(edit),
            ..CodeAction::default()
        }));
    }
    Ok(())
}

/// An exception per failing entity of the control or audit under the cursor.
fn exceptions(snapshot: &Snapshot, file: FileId, range: Span, out: &mut Vec<CodeActionOrCommand>) -> Cancellable<()> {
    if !snapshot.evaluable()? {
        return Ok(());
    }
    let program = snapshot.analysis.program()?;
    for rule in program.rules.iter().filter(|r| r.decl.span.file == file && overlaps(r.decl.span.span, range)) {
        let Some(summary) = snapshot.analysis.rule_summary(&rule.decl.name)? else { continue };
        let what = rule.subject.as_ref().map(|s| program.ty_name(&Ty::Entity(s.entity)));
        for failing in summary.failing.iter().take(MAX_EXCEPTIONS) {
            let Some(edit) = snapshot.analysis.exception(file, &rule.decl.name, &failing.key)? else { continue };
            let Some(edit) = workspace_edit(snapshot, vec![edit])? else { continue };
            let title = match &what {
                Some(entity) => format!("Add an exception to `{}` for {entity} \"{}\"", rule.decl.name, failing.key),
                None => format!("Add an exception to `{}`", rule.decl.name),
            };
            out.push(quickfix(title, edit, false));
        }
    }
    Ok(())
}
