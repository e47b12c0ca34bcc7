//! The edit commands: `:set`, `:unset`, `:add` (and `fact`), `:remove`,
//! `:as-of` and typed declarations, answered with the diff they caused;
//! `:edits`, `:undo` (the engine's inputs restored to the checkpoint taken
//! before the last edit) and `:reload`, which re-applies the recorded edits.
//!
//! The engine checks each edit once, as it applies it; a refused edit is
//! answered with the engine's diagnostics, placed on the typed line.

use std::fmt::Write as _;
use std::time::Duration;

use aims_lang::diag::{self, Code, Diagnostic, RenderOptions};
use aims_lang::engine::{Checkpoint, EditSite, Typed};
use aims_lang::Engine;

use super::render::{printable_diagnostic, RENDERED_END, RENDERED_START};
use super::{count, declared, quote, span, timed, Edit, Evaluated, Session};
use crate::diff::{Diff, Outline};
use crate::parse::{self, Spanned, Target};

/// A part of the typed line, for the engine's diagnostics.
fn typed(part: &Spanned<String>) -> Typed<'_> {
    Typed { text: &part.value, span: span(&part.span) }
}

impl Session {
    /// Applies an edit and answers with the diff it caused, or with why it
    /// was refused (placed on `site`, the parts of `input`).
    pub(super) fn apply(&mut self, edit: Edit, input: &str, site: Option<EditSite>) -> String {
        let before = self.evaluated();
        let checkpoint = timed(&mut self.spent, || self.engine.checkpoint());
        let result = timed(&mut self.spent, || edit.apply(&mut self.engine));
        match result {
            Ok(key) => {
                let note = match (&edit, key) {
                    (Edit::Declare { text, file }, _) => format!("declared {} ({file})\n", declared(text)),
                    (Edit::Add { entity, .. }, Some(key)) => format!("added {entity} {}\n", quote(&key)),
                    _ => String::new(),
                };
                self.edits.push(edit);
                self.undo.push(checkpoint);
                let after = self.evaluated();
                self.answer(note, Diff::between(before.side(), after.side()))
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

    /// `:set MEASURE = VALUE`, `:unset MEASURE`: a measure of the organisation.
    pub(super) fn set_measure(&mut self, input: &str, name: Spanned<String>, value: Option<Spanned<String>>) -> String {
        let site = EditSite {
            file: self.repl_file(),
            entity: typed(&name),
            key: None,
            field: None,
            value: value.as_ref().map(typed),
        };
        let edit = Edit::Measure { name: name.value.clone(), value: value.as_ref().map(|v| v.value.clone()) };
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

    /// Restores the engine's inputs as loaded and applies `edits` (those
    /// that fail, with why, are left out): the working engine and its edit
    /// list. Says which edits could not be re-applied.
    pub(super) fn replay_as_current(&mut self, edits: &[Edit]) -> String {
        timed(&mut self.spent, || self.engine.restore(&self.origin));
        let (applied, undo, problems) = replay_on(&mut self.engine, edits, &mut self.spent);
        self.edits = applied;
        self.undo = undo;
        problems
    }

    pub(super) fn undo(&mut self) -> String {
        let (Some(last), Some(checkpoint)) = (self.edits.pop(), self.undo.pop()) else {
            return "nothing to undo\n".into();
        };
        let before = self.evaluated();
        timed(&mut self.spent, || self.engine.restore(&checkpoint));
        let after = self.evaluated();
        self.answer(format!("undid {}\n", last.describe()), Diff::between(before.side(), after.side()))
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
        let before = self.evaluated();
        let as_of = self.initial().evaluation.as_of;
        let loaded = timed(&mut self.spent, || Engine::load(&path, &options));
        match loaded {
            Err(failure) => {
                let diagnostics: Vec<Diagnostic> = failure.diagnostics.into_iter().map(printable_diagnostic).collect();
                not_reloaded(&diagnostics, &failure.sources, self.color)
            }
            Ok(mut engine) => {
                // One Ctrl-C handle for the session, whatever it reloads.
                engine.set_interrupt_handle(self.engine.interrupt_handle());
                timed(&mut self.spent, || engine.set_as_of(as_of));
                if !engine.measure_errors().is_empty() {
                    let diagnostics: Vec<Diagnostic> =
                        engine.measure_errors().iter().cloned().map(printable_diagnostic).collect();
                    return not_reloaded(&diagnostics, engine.sources(), self.color);
                }
                // The session changes only once the answer is ready: a
                // command interrupted before leaves it as it was.
                let origin = engine.checkpoint();
                let evaluation = timed(&mut self.spent, || engine.evaluation());
                let initial = Evaluated { outline: Outline::of(engine.program()), evaluation };
                let (applied, undo, problems) = replay_on(&mut engine, &self.edits, &mut self.spent);
                let evaluation = timed(&mut self.spent, || engine.evaluation());
                let after = Evaluated { outline: Outline::of(engine.program()), evaluation };
                self.origin = origin;
                self.initial = Some(initial);
                self.engine = engine;
                self.edits = applied;
                self.undo = undo;
                let head = format!(
                    "reloaded {} and re-applied {}\n{problems}",
                    path.display(),
                    count(self.edits.len(), "edit"),
                );
                self.answer(head, Diff::between(before.side(), after.side()))
            }
        }
    }
}

/// Why a `:reload` failed; the session goes on as it was.
fn not_reloaded(diagnostics: &[Diagnostic], sources: &aims_lang::diag::Sources, color: bool) -> String {
    let rendered = diag::render(diagnostics, sources, RenderOptions { color });
    let mut out = format!("{RENDERED_START}{rendered}{RENDERED_END}");
    out.push_str("the project was not reloaded: the session goes on with the project as it was\n");
    out
}

/// Applies `edits` to `engine` in order: the edits applied, the engine's
/// inputs before each (for `:undo`), and why the others failed.
fn replay_on(engine: &mut Engine, edits: &[Edit], spent: &mut Duration) -> (Vec<Edit>, Vec<Checkpoint>, String) {
    let mut applied = Vec::new();
    let mut undo = Vec::new();
    let mut problems = String::new();
    for edit in edits {
        let checkpoint = timed(spent, || engine.checkpoint());
        match timed(spent, || edit.apply(engine)) {
            Ok(_) => {
                applied.push(edit.clone());
                undo.push(checkpoint);
            }
            Err(e) => {
                let _ = writeln!(problems, "could not re-apply `{}`: {e}", edit.describe());
            }
        }
    }
    (applied, undo, problems)
}
