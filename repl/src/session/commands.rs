//! The edit commands: `:set`, `:unset`, `:add` (and `fact`), `:remove`,
//! `:as-of` and typed declarations, answered with the diff they caused;
//! `:edits`, `:undo` and `:reload`, which replay the recorded edits on a
//! fresh copy of the project.
//!
//! The engine checks each edit once, as it applies it; a refused edit is
//! answered with the engine's diagnostics, placed on the typed line.

use std::fmt::Write as _;

use aims_lang::diag::{self, Code, Diagnostic, RenderOptions};
use aims_lang::engine::{EditSite, Typed};
use aims_lang::Engine;

use super::render::{printable_diagnostic, RENDERED_END, RENDERED_START};
use super::{count, declared, quote, span, timed, Edit, Session};
use crate::diff::{Diff, Snapshot};
use crate::parse::{self, Spanned, Target};

/// A part of the typed line, for the engine's diagnostics.
fn typed(part: &Spanned<String>) -> Typed<'_> {
    Typed { text: &part.value, span: span(&part.span) }
}

impl Session {
    /// Applies an edit and answers with the diff it caused, or with why it
    /// was refused (placed on `site`, the parts of `input`).
    pub(super) fn apply(&mut self, edit: Edit, input: &str, site: Option<EditSite>) -> String {
        let before = self.snapshot();
        let result = timed(&mut self.spent, || edit.apply(&mut self.engine));
        match result {
            Ok(key) => {
                let note = match (&edit, key) {
                    (Edit::Declare { text, file }, _) => format!("declared {} ({file})\n", declared(text)),
                    (Edit::Add { entity, .. }, Some(key)) => format!("added {entity} {}\n", quote(&key)),
                    _ => String::new(),
                };
                self.edits.push(edit);
                let after = self.snapshot();
                note + &Diff::between(&before, &after).render()
            }
            Err(error) => match (&edit, error, site) {
                // A refused declaration points into itself, the file `file`.
                (Edit::Declare { file, text }, aims_lang::engine::EditError::Invalid(diagnostics), _) => {
                    self.render("", &diagnostics, Some((file.as_str(), text.as_str())))
                }
                (_, error, Some(site)) => {
                    let diagnostics = self.engine.edit_diagnostics(&error, &site);
                    self.render(input, &diagnostics, None)
                }
                // No part of the line to point at: the whole line.
                (_, error, None) => {
                    let line = Typed { text: input, span: aims_lang::syntax::Span::new(0, input.trim_end().len()) };
                    let site = EditSite { file: self.repl_file(), entity: line, key: None, field: None, value: None };
                    let diagnostics = self.engine.edit_diagnostics(&error, &site);
                    self.render(input, &diagnostics, None)
                }
            },
        }
    }

    pub(super) fn set(
        &mut self,
        input: &str,
        target: Target,
        field: Spanned<String>,
        value: Spanned<String>,
    ) -> String {
        let site = EditSite {
            file: self.repl_file(),
            entity: typed(&target.entity),
            key: Some(typed(&target.key)),
            field: Some(typed(&field)),
            value: Some(typed(&value)),
        };
        let edit = Edit::Set {
            entity: target.entity.value.clone(),
            key: target.key.value.clone(),
            field: field.value.clone(),
            value: value.value.clone(),
        };
        self.apply(edit, input, Some(site))
    }

    pub(super) fn unset(&mut self, input: &str, target: Target, field: Spanned<String>) -> String {
        let site = EditSite {
            file: self.repl_file(),
            entity: typed(&target.entity),
            key: Some(typed(&target.key)),
            field: Some(typed(&field)),
            value: None,
        };
        let edit = Edit::Unset {
            entity: target.entity.value.clone(),
            key: target.key.value.clone(),
            field: field.value.clone(),
        };
        self.apply(edit, input, Some(site))
    }

    pub(super) fn add(&mut self, input: &str, entity: Spanned<String>, record: Spanned<String>) -> String {
        let site = EditSite {
            file: self.repl_file(),
            entity: typed(&entity),
            key: None,
            field: None,
            value: Some(typed(&record)),
        };
        let edit = Edit::Add { entity: entity.value.clone(), record: record.value.clone() };
        self.apply(edit, input, Some(site))
    }

    pub(super) fn remove(&mut self, input: &str, target: Target) -> String {
        let site = EditSite {
            file: self.repl_file(),
            entity: typed(&target.entity),
            key: Some(typed(&target.key)),
            field: None,
            value: None,
        };
        let edit = Edit::Remove { entity: target.entity.value.clone(), key: target.key.value.clone() };
        self.apply(edit, input, Some(site))
    }

    pub(super) fn declaration(&mut self, input: &str) -> String {
        if parse::declaration_keyword(input) == Some("fact") {
            // A fact typed at the prompt is a fact of the session's store:
            // the same as `:add`.
            return match parse::fact_parts(input) {
                Ok((entity, record)) => self.add(input, entity, record),
                Err(e) => self.parse_error(input, e),
            };
        }
        self.declarations += 1;
        let file = format!("<repl-{}>", self.declarations);
        self.apply(Edit::Declare { file, text: input.to_string() }, input, None)
    }

    pub(super) fn list_edits(&self) -> String {
        if self.edits.is_empty() {
            return "no edits\n".into();
        }
        let mut out = String::new();
        for (i, e) in self.edits.iter().enumerate() {
            let _ = writeln!(out, "{:>3}  {}", i + 1, e.describe());
        }
        out
    }

    /// A fresh copy of `base` with `edits` applied; the edits that failed
    /// (with why) are left out.
    pub(super) fn replay(&mut self, edits: &[Edit]) -> (Engine, Vec<Edit>, String) {
        replay_on(&self.base, edits, &mut self.spent)
    }

    /// Replays `edits` on a fresh copy of the project as loaded and makes
    /// the result the working engine and its edit list; says which edits
    /// could not be re-applied.
    pub(super) fn replay_as_current(&mut self, edits: &[Edit]) -> String {
        let (engine, applied, problems) = self.replay(edits);
        self.engine = engine;
        self.edits = applied;
        problems
    }

    pub(super) fn undo(&mut self) -> String {
        let Some(last) = self.edits.last().cloned() else { return "nothing to undo\n".into() };
        let before = self.snapshot();
        let keep = self.edits[..self.edits.len() - 1].to_vec();
        let problems = self.replay_as_current(&keep);
        let after = self.snapshot();
        format!("undid {}\n{problems}{}", last.describe(), Diff::between(&before, &after).render())
    }

    pub(super) fn reload(&mut self, input: &str) -> String {
        let Some((path, options)) = self.project.clone() else {
            let command = input.trim();
            let at = input.find(command).unwrap_or(0);
            let d = Diagnostic::error(
                Code::Io,
                "this session was not loaded from a project folder, so there is nothing to reload",
            )
            .at_file(self.repl_file(), aims_lang::syntax::Span::new(at, at + command.len()), "nothing to reload")
            .help("`aims repl PATH` starts a session that `:reload` reads from PATH again");
            return self.error_at(input, d);
        };
        let before = self.snapshot();
        let as_of = self.base.as_of();
        let loaded = timed(&mut self.spent, || Engine::load(&path, &options));
        match loaded {
            Err(failure) => {
                let diagnostics: Vec<Diagnostic> = failure.diagnostics.into_iter().map(printable_diagnostic).collect();
                let rendered = diag::render(&diagnostics, &failure.sources, RenderOptions { color: self.color });
                let mut out = format!("{RENDERED_START}{rendered}{RENDERED_END}");
                out.push_str("the project was not reloaded: the session goes on with the project as it was\n");
                out
            }
            Ok(mut engine) => {
                // One Ctrl-C handle for the session, whatever it reloads.
                engine.set_interrupt_handle(self.base.interrupt_handle());
                timed(&mut self.spent, || engine.set_as_of(as_of));
                // The session changes only once the answer is ready: a
                // command interrupted before leaves it as it was.
                let base_evaluation = timed(&mut self.spent, || engine.evaluation());
                let initial = Snapshot::new(engine.program(), &base_evaluation);
                let (working, applied, problems) = replay_on(&engine, &self.edits, &mut self.spent);
                let evaluation = timed(&mut self.spent, || working.evaluation());
                let after = Snapshot::new(working.program(), &evaluation);
                self.base = engine;
                self.initial = initial;
                self.engine = working;
                self.edits = applied;
                format!(
                    "reloaded {} and re-applied {}\n{problems}{}",
                    path.display(),
                    count(self.edits.len(), "edit"),
                    Diff::between(&before, &after).render()
                )
            }
        }
    }
}

/// A fresh copy of `base` with `edits` applied; the edits that failed
/// (with why) are left out.
fn replay_on(base: &Engine, edits: &[Edit], spent: &mut std::time::Duration) -> (Engine, Vec<Edit>, String) {
    let mut engine = timed(spent, || base.fresh_copy());
    let mut applied = Vec::new();
    let mut problems = String::new();
    for edit in edits {
        match timed(spent, || edit.apply(&mut engine)) {
            Ok(_) => applied.push(edit.clone()),
            Err(e) => {
                let _ = writeln!(problems, "could not re-apply `{}`: {e}", edit.describe());
            }
        }
    }
    (engine, applied, problems)
}
