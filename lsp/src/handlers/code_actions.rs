//! Code actions: a diagnostic's "did you mean" fix, an `exclude` for an
//! Annex A control nothing implements, an `exception` for a failing entity.

use std::collections::HashMap;

use aims_lang::db;
use aims_lang::diag::{Code, FileId};
use aims_lang::ide::{actions, outcomes, Symbol, TextEdit as IdeEdit};
use aims_lang::ir::Ty;
use aims_lang::syntax::ast::{ItemKind, Span};
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

pub fn actions(snapshot: &Snapshot, params: &CodeActionParams) -> Option<CodeActionResponse> {
    if let Some(only) = &params.context.only {
        if !only.iter().any(|k| k.as_str().starts_with(CodeActionKind::QUICKFIX.as_str())) {
            return Some(Vec::new());
        }
    }
    let uri = &params.text_document.uri;
    let (file, text, lines) = snapshot.document(uri)?;
    let range = lines.span(params.range);
    let mut out = Vec::new();
    fixes(snapshot, file, range, &mut out);
    excludes(snapshot, file, text, range, &mut out);
    exceptions(snapshot, file, range, &mut out);
    Some(out)
}

fn workspace_edit(snapshot: &Snapshot, edits: Vec<IdeEdit>) -> Option<WorkspaceEdit> {
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for edit in edits {
        let uri = snapshot.uri(edit.file)?;
        let lines = snapshot.lines(edit.file)?;
        changes.entry(uri).or_default().push(TextEdit { range: lines.range(edit.span), new_text: edit.text });
    }
    Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() })
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
fn fixes(snapshot: &Snapshot, file: FileId, range: Span, out: &mut Vec<CodeActionOrCommand>) {
    let compiled = db::compiled(&snapshot.db, snapshot.ws);
    let mut lines = Lines::new(&snapshot.sources, snapshot.encoding);
    let uri_of = |f: FileId| snapshot.uri(f);
    for d in &compiled.diagnostics {
        let Some(fix) = &d.fix else { continue };
        if fix.at.file != file || !overlaps(fix.at.span, range) {
            continue;
        }
        let edit = IdeEdit { file, span: fix.at.span, text: fix.replacement.clone() };
        let Some(workspace_edit) = workspace_edit(snapshot, vec![edit]) else { continue };
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
}

/// `exclude` for the Annex A controls nothing addresses: all of them on
/// `use iso42001`, one on a reference to it.
fn excludes(snapshot: &Snapshot, file: FileId, text: &str, range: Span, out: &mut Vec<CodeActionOrCommand>) {
    let world = snapshot.world();
    let Some(parse) = world.parse(file) else { return };
    let on_use = parse.file.items.iter().any(|item| {
        matches!(&item.kind, ItemKind::Use(u) if (u.path == "iso42001" || u.path == "iso42001.annex_a") && overlaps(u.span, range))
    });
    let on_reference: Vec<String> = world
        .index(file)
        .map(|index| {
            index
                .references
                .iter()
                .filter(|r| overlaps(r.span, range))
                .filter_map(|r| match &r.symbol {
                    Symbol::Requirement(id) => Some(id.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if !on_use && on_reference.is_empty() {
        return;
    }
    // The W0002 warning of each control, to attach to its action.
    let compiled = db::compiled(&snapshot.db, snapshot.ws);
    let mut lines = Lines::new(&snapshot.sources, snapshot.encoding);
    let uri_of = |f: FileId| snapshot.uri(f);
    for (id, title) in actions::not_addressed(world.program(), &snapshot.sources) {
        if !on_use && !on_reference.contains(&id) {
            continue;
        }
        let edit = actions::exclude(file, text, &id, &title);
        let Some(edit) = workspace_edit(snapshot, vec![edit]) else { continue };
        let warning = compiled
            .diagnostics
            .iter()
            .find(|d| d.code == Code::UnaddressedControl && d.message.contains(&format!("control {id} (")))
            .and_then(|d| convert::diagnostic(d, &mut lines, &uri_of))
            .map(|(_, d)| vec![d]);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Exclude {id} ({title}) with a justification"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: warning,
            edit: Some(edit),
            ..CodeAction::default()
        }));
    }
}

/// An exception per failing entity of the control or audit under the cursor.
fn exceptions(snapshot: &Snapshot, file: FileId, range: Span, out: &mut Vec<CodeActionOrCommand>) {
    if !snapshot.evaluable {
        return;
    }
    let world = snapshot.world();
    let program = world.program();
    for rule in program.rules.iter().filter(|r| r.decl.span.file == file && overlaps(r.decl.span.span, range)) {
        let Some(summary) = outcomes::summary(&snapshot.db, snapshot.ws, &rule.decl.name) else { continue };
        let what = rule.subject.as_ref().map(|s| program.ty_name(&Ty::Entity(s.entity)));
        for failing in summary.failing.iter().take(MAX_EXCEPTIONS) {
            let Some(edit) = actions::exception(world, file, &rule.decl.name, &failing.key, snapshot.as_of) else {
                continue;
            };
            let Some(edit) = workspace_edit(snapshot, vec![edit]) else { continue };
            let title = match &what {
                Some(entity) => format!("Add an exception to `{}` for {entity} \"{}\"", rule.decl.name, failing.key),
                None => format!("Add an exception to `{}`", rule.decl.name),
            };
            out.push(quickfix(title, edit, false));
        }
    }
}
