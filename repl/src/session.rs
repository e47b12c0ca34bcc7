//! The REPL without a terminal: a [`Session`] takes what was typed and
//! returns a [`Reply`] (the text to print, and whether to quit).
//!
//! A session holds two engines: the project as loaded (`base`, never
//! edited) and the working engine that the what-if edits change
//! incrementally. Every applied edit is recorded, so that `:undo`,
//! `:reset`, `:reload` and scenarios rebuild the working engine from a
//! fresh copy of `base` and replay the edits. (A cloned [`Engine`] shares
//! its salsa storage with the original, and salsa blocks a write while
//! another handle is alive, so copies are always [`Engine::fresh_copy`].)
//!
//! Errors typed at the prompt are rendered like errors in files, with the
//! typed line as a source file named `<repl>`; they never end the session.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aims_lang::diag::{
    self, terminal_safe, terminal_safe_line, Code, Diagnostic, FileId, FileSpan, Quote, RenderOptions, Sources,
};
use aims_lang::engine::EditError;
use aims_lang::eval::{self, Env, Evaluation};
use aims_lang::facts::Facts;
use aims_lang::ir::{EntityId, Program, Ty, Value};
use aims_lang::project::LoadOptions;
use aims_lang::report::count as plural;
use aims_lang::syntax::{self, ast::Span};
use aims_lang::time::Date;
use aims_lang::{Engine, LoadFailure};

use crate::complete::Vocabulary;
use crate::diff::{one_line, Diff, Snapshot};
use crate::explain::View;
use crate::parse::{self, Input, ParseError, Spanned, Target, COMMANDS};

/// What the session answers to one entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// The text to print (empty, or ending with a newline).
    pub text: String,
    /// Whether the session is over.
    pub quit: bool,
}

impl Reply {
    fn text(text: String) -> Reply {
        Reply { text, quit: false }
    }
}

/// A what-if edit, as recorded for undo, reload and scenarios.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    Set {
        entity: String,
        key: String,
        field: String,
        value: String,
    },
    Unset {
        entity: String,
        key: String,
        field: String,
    },
    Add {
        entity: String,
        record: String,
    },
    Remove {
        entity: String,
        key: String,
    },
    AsOf(Date),
    /// Declarations typed at the prompt, added as the policy file `file`.
    Declare {
        file: String,
        text: String,
    },
}

/// Why an edit could not be applied.
#[derive(Clone, Debug)]
enum EditFailure {
    Edit(EditError),
    /// Diagnostics of a declaration, which is the policy file `file`.
    Policy {
        file: String,
        text: String,
        diagnostics: Vec<Diagnostic>,
    },
}

fn quote(key: &str) -> String {
    format!("{key:?}")
}

impl Edit {
    /// Applies the edit; for `Add`, returns the key of the new fact.
    fn apply(&self, engine: &mut Engine) -> Result<Option<String>, EditFailure> {
        match self {
            Edit::Set { entity, key, field, value } => engine.set_field(entity, key, field, value).map(|()| None),
            Edit::Unset { entity, key, field } => engine.unset_field(entity, key, field).map(|()| None),
            Edit::Add { entity, record } => engine.add_fact(entity, record).map(Some),
            Edit::Remove { entity, key } => engine.remove_fact(entity, key).map(|()| None),
            Edit::AsOf(date) => {
                engine.set_as_of(*date);
                Ok(None)
            }
            Edit::Declare { file, text } => {
                return engine.add_policy(file, text).map(|_| None).map_err(|diagnostics| EditFailure::Policy {
                    file: file.clone(),
                    text: text.clone(),
                    diagnostics,
                })
            }
        }
        .map_err(EditFailure::Edit)
    }

    /// The edit as it would be typed.
    pub fn describe(&self) -> String {
        match self {
            Edit::Set { entity, key, field, value } => format!(":set {entity} {}.{field} = {value}", quote(key)),
            Edit::Unset { entity, key, field } => format!(":unset {entity} {}.{field}", quote(key)),
            Edit::Add { entity, record } => format!(":add {entity} {}", one_line(record)),
            Edit::Remove { entity, key } => format!(":remove {entity} {}", quote(key)),
            Edit::AsOf(date) => format!(":as-of {date}"),
            Edit::Declare { file, text } => format!("{} ({file})", declared(text)),
        }
    }
}

/// `control foo`: the keyword and name of the first declaration in a text.
fn declared(text: &str) -> String {
    let body = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("///")).unwrap_or("");
    let mut words = body.split_whitespace();
    let keyword = words.next().unwrap_or("declaration");
    match words.next() {
        Some(name) => {
            let name: String = name.chars().take_while(|c| c.is_alphanumeric() || "_.-\"".contains(*c)).collect();
            format!("{keyword} {name}")
        }
        None => keyword.to_string(),
    }
}

/// Runs `f`, adding the time it took to `spent`.
fn timed<T>(spent: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    *spent += start.elapsed();
    out
}

/// The name of a type as written in the language.
fn ty_name(program: &Program, ty: &Ty) -> String {
    program.ty_name(ty)
}

/// The file the engine's `sema::constant` reports into (no real file).
const NO_FILE: FileId = FileId(u32::MAX);

/// [`relocate`], and a diagnostic with no place of its own points at the
/// whole piece with `label`.
fn placed(diagnostics: Vec<Diagnostic>, file: FileId, piece: &std::ops::Range<usize>, label: &str) -> Vec<Diagnostic> {
    relocate(diagnostics, file, piece.start)
        .into_iter()
        .map(|d| if d.primary.is_none() { d.at(file, span(piece), label) } else { d })
        .collect()
}

/// Points diagnostics reported on a piece of the typed line (in no file,
/// relative to the piece) at the line itself, in `file`.
fn relocate(mut diagnostics: Vec<Diagnostic>, file: FileId, offset: usize) -> Vec<Diagnostic> {
    let shift = |span: &mut FileSpan| {
        if span.file == NO_FILE {
            span.file = file;
            span.span = Span::new(span.span.start as usize + offset, span.span.end as usize + offset);
        }
    };
    for d in &mut diagnostics {
        if let Some(p) = &mut d.primary {
            shift(&mut p.at);
        }
        for l in &mut d.secondary {
            shift(&mut l.at);
        }
        if let Some(f) = &mut d.fix {
            shift(&mut f.at);
        }
    }
    diagnostics
}

fn syntax_diagnostics(errors: Vec<syntax::SyntaxError>, file: FileId, offset: usize) -> Vec<Diagnostic> {
    errors
        .into_iter()
        .map(|e| {
            let span = Span::new(e.span.start as usize + offset, e.span.end as usize + offset);
            Diagnostic::from_syntax(file, &syntax::SyntaxError { span, ..e })
        })
        .collect()
}

/// A project and its what-if edits, answering what is typed at the prompt.
pub struct Session {
    /// The project as loaded, as of the starting date: never edited.
    base: Engine,
    /// The project with the edits applied.
    engine: Engine,
    /// The evaluation as loaded, reduced for `:diff`.
    initial: Snapshot,
    /// The edits applied to `engine`, in order.
    edits: Vec<Edit>,
    scenarios: BTreeMap<String, Vec<Edit>>,
    /// Where the project was read from, for `:reload`.
    project: Option<(PathBuf, LoadOptions)>,
    /// How many declarations were typed (names `<repl-N>`).
    declarations: usize,
    timing: bool,
    color: bool,
    /// Engine time of the current command.
    spent: Duration,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("edits", &self.edits).finish_non_exhaustive()
    }
}

impl Session {
    /// A session on a loaded engine, evaluated as of `as_of`.
    pub fn new(mut engine: Engine, as_of: Date) -> Session {
        engine.set_as_of(as_of);
        let base = engine.fresh_copy();
        let initial = Snapshot::new(engine.program(), &engine.evaluation());
        Session {
            base,
            engine,
            initial,
            edits: Vec::new(),
            scenarios: BTreeMap::new(),
            project: None,
            declarations: 0,
            timing: false,
            color: false,
            spent: Duration::ZERO,
        }
    }

    /// Loads a project folder (or `.aims` file); `:reload` reads it again.
    /// Without a date, the session uses `aims.toml`'s `as_of`, else today.
    pub fn load(path: &Path, options: LoadOptions, as_of: Option<Date>) -> Result<Session, LoadFailure> {
        let engine = Engine::load(path, &options)?;
        let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(Date::today_utc);
        let mut session = Session::new(engine, as_of);
        session.project = Some((path.to_path_buf(), options));
        Ok(session)
    }

    /// Whether diagnostics are rendered with ANSI colours.
    pub fn set_color(&mut self, color: bool) {
        self.color = color;
    }

    /// The working engine (with the edits applied).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The edits applied, in order.
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// Whether a multi-line entry needs more lines (see [`parse::needs_more`]).
    pub fn needs_more(&self, buffer: &str) -> bool {
        parse::needs_more(buffer)
    }

    /// One line about the project, for the start of a terminal session.
    pub fn banner(&self) -> String {
        let program = self.engine.program();
        let evaluation = self.engine.evaluation();
        format!(
            "{} as of {}: {}, {}, {}, {}\n",
            terminal_safe_line(self.engine.name()),
            evaluation.as_of,
            plural(program.rules.len(), "control or audit", "controls and audits"),
            plural(program.risks.len(), "risk", "risks"),
            plural(program.objectives.len(), "objective", "objectives"),
            plural(evaluation.findings.len(), "finding", "findings")
        )
    }

    /// The names completion may offer.
    pub fn vocabulary(&self) -> Vocabulary {
        let program = self.engine.program();
        let facts = self.engine.facts();
        let names = |decls: Vec<&String>| decls.into_iter().cloned().collect::<Vec<_>>();
        let entities = program
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let id = EntityId(i as u32);
                let keys = (0..facts.len(id)).map(|r| facts.key_of(program, id, r).to_string()).collect();
                (e.decl.name.clone(), e.fields.iter().map(|f| f.name.clone()).collect(), keys)
            })
            .collect();
        let mut value_types: Vec<(String, Vec<String>)> =
            program.enums.iter().map(|e| (e.decl.name.clone(), e.variants.clone())).collect();
        value_types.extend(
            program.scales.iter().map(|s| (s.decl.name.clone(), s.values.iter().map(|(n, _)| n.clone()).collect())),
        );
        value_types.extend(
            program.matrices.iter().map(|m| (m.decl.name.clone(), m.levels.iter().map(|l| l.name.clone()).collect())),
        );
        Vocabulary {
            rules: program
                .rules
                .iter()
                .map(|r| (r.decl.name.clone(), r.subject.as_ref().map(|s| program.entity(s.entity).decl.name.clone())))
                .collect(),
            risks: names(program.risks.iter().map(|r| &r.decl.name).collect()),
            objectives: names(program.objectives.iter().map(|o| &o.decl.name).collect()),
            functions: names(program.fns.iter().map(|f| &f.decl.name).collect()),
            entities,
            records: program
                .records
                .iter()
                .map(|r| (r.decl.name.clone(), r.fields.iter().map(|f| f.name.clone()).collect()))
                .collect(),
            value_types,
            scenarios: self.scenarios.keys().cloned().collect(),
        }
    }

    /// Answers one entry (a line, or the lines of a multi-line entry).
    pub fn run(&mut self, input: &str) -> Reply {
        self.spent = Duration::ZERO;
        let mut reply = match parse::parse(input) {
            Ok(parsed) => self.dispatch(input, parsed),
            Err(e) => Reply::text(self.parse_error(input, e)),
        };
        reply.text = printable_reply(&reply.text);
        if self.timing && !reply.quit {
            let _ = writeln!(reply.text, "engine time: {:.2} ms", self.spent.as_secs_f64() * 1000.0);
        }
        reply
    }

    fn dispatch(&mut self, input: &str, parsed: Input) -> Reply {
        let text = match parsed {
            Input::Empty => String::new(),
            Input::Quit => return Reply { text: String::new(), quit: true },
            Input::Help => help(),
            Input::Set { target, field, value } => self.set(input, target, field, value),
            Input::Unset { target, field } => self.unset(input, target, field),
            Input::Add { entity, record } => self.add(input, entity, record),
            Input::Remove { target } => self.remove(input, target),
            Input::AsOf(None) => format!("as of {}\n", self.engine.as_of()),
            Input::AsOf(Some(date)) => match Date::parse(&date.value) {
                Some(d) => self.apply(Edit::AsOf(d)),
                None => self.error_at(
                    input,
                    Diagnostic::error(Code::BadLiteral, format!("`{}` is not a date", date.value)).at(
                        self.repl_file(),
                        span(&date.span),
                        "expected a date: YYYY-MM-DD",
                    ),
                ),
            },
            Input::Why { rule, key } => self.why(input, rule, key),
            Input::Diff => {
                let now = self.snapshot();
                let mut out = format!("since the project was loaded ({}):\n", count(self.edits.len(), "edit"));
                out.push_str(&Diff::between(&self.initial, &now).render());
                out
            }
            Input::Edits => self.list_edits(),
            Input::Undo => self.undo(),
            Input::Reset => {
                let before = self.snapshot();
                let n = self.edits.len();
                self.engine = timed(&mut self.spent, || self.base.fresh_copy());
                self.edits.clear();
                let after = self.snapshot();
                format!("took back {}\n{}", count(n, "edit"), Diff::between(&before, &after).render())
            }
            Input::Reload => self.reload(),
            Input::ScenarioSave(name) => self.scenario_save(input, name),
            Input::ScenarioLoad(name) => self.scenario_load(input, name),
            Input::ScenarioCompare(a, b) => self.scenario_compare(input, a, b),
            Input::ScenarioList => self.scenario_list(),
            Input::Timing(on) => {
                self.timing = on.unwrap_or(!self.timing);
                format!("timing {}\n", if self.timing { "on" } else { "off" })
            }
            Input::Declaration => self.declaration(input),
            Input::Named { name, key } => self.named(input, name, key),
            Input::Expression => self.expression(input),
        };
        Reply::text(text)
    }

    // ------------------------------------------------------------ evaluation

    fn snapshot(&mut self) -> Snapshot {
        let evaluation = timed(&mut self.spent, || self.engine.evaluation());
        Snapshot::new(self.engine.program(), &evaluation)
    }

    fn evaluation(&mut self) -> Arc<Evaluation> {
        timed(&mut self.spent, || self.engine.evaluation())
    }

    // ------------------------------------------------------------ diagnostics

    /// The id the typed line gets as the file `<repl>` when rendering.
    fn repl_file(&self) -> FileId {
        FileId(self.engine.sources().len() as u32)
    }

    /// Renders diagnostics; `<repl>` is the typed line, `extra` a file that
    /// a refused declaration may point into.
    fn render(&self, input: &str, diagnostics: &[Diagnostic], extra: Option<(&str, &str)>) -> String {
        let mut sources: Sources = self.engine.sources().clone();
        if let Some((name, text)) = extra {
            // The engine keeps the text of a refused declaration today; if
            // it ever stops, the diagnostics point at the next free id.
            if !sources.iter().any(|(_, f)| f.name == name) {
                sources.add(name, text);
            }
        }
        sources.add("<repl>", input);
        // Never index a file the table does not have.
        let known = |at: &FileSpan| (at.file.0 as usize) < sources.len();
        let shown: Vec<Diagnostic> = diagnostics
            .iter()
            .cloned()
            .map(|mut d| {
                if d.primary.as_ref().is_some_and(|p| !known(&p.at)) {
                    d.primary = None;
                }
                d.secondary.retain(|l| known(&l.at));
                if d.fix.as_ref().is_some_and(|f| !known(&f.at)) {
                    d.fix = None;
                }
                d
            })
            .collect();
        let shown: Vec<Diagnostic> = shown.into_iter().map(printable_diagnostic).collect();
        let text = diag::render(&shown, &sources, RenderOptions { color: self.color });
        format!("{RENDERED_START}{text}{RENDERED_END}")
    }

    fn error_at(&self, input: &str, diagnostic: Diagnostic) -> String {
        self.render(input, &[diagnostic], None)
    }

    fn parse_error(&self, input: &str, e: ParseError) -> String {
        let mut d = Diagnostic::error(Code::Syntax, e.message).at(self.repl_file(), span(&e.span), e.label);
        d.help = e.help;
        self.error_at(input, d)
    }

    fn failure(&self, failure: EditFailure) -> String {
        match failure {
            EditFailure::Edit(e) => format!("error: {e}\n"),
            EditFailure::Policy { file, text, diagnostics } => {
                self.render("", &diagnostics, Some((file.as_str(), text.as_str())))
            }
        }
    }

    // ------------------------------------------------------------ names

    fn entity(&self, input: &str, name: &Spanned<String>) -> Result<EntityId, String> {
        let program = self.engine.program();
        program.entity_by_name(&name.value).ok_or_else(|| {
            let mut d = Diagnostic::error(Code::UnknownType, format!("unknown entity `{}`", name.value)).at(
                self.repl_file(),
                span(&name.span),
                "not an entity",
            );
            d.set_suggestion(&name.value, program.entities.iter().map(|e| e.decl.name.as_str()), Quote::Code);
            self.error_at(input, d)
        })
    }

    fn keys(&self, entity: EntityId) -> Vec<String> {
        let program = self.engine.program();
        let facts = self.engine.facts();
        (0..facts.len(entity)).map(|r| facts.key_of(program, entity, r).to_string()).collect()
    }

    fn unknown_key(&self, input: &str, what: &str, key: &Spanned<String>, keys: &[String]) -> String {
        let mut d = Diagnostic::error(
            Code::UnknownName,
            format!("{what} has no fact with the key {}", quote(&key.value)),
        )
        .at(self.repl_file(), span(&key.span), "no such key");
        d.set_suggestion(&key.value, keys.iter().map(String::as_str), Quote::Literal);
        self.error_at(input, d)
    }

    /// The entity and the row of an edit's target.
    fn target(&self, input: &str, target: &Target) -> Result<EntityId, String> {
        let entity = self.entity(input, &target.entity)?;
        if self.engine.facts().find(entity, &target.key.value).is_none() {
            let keys = self.keys(entity);
            return Err(self.unknown_key(input, &format!("`{}`", target.entity.value), &target.key, &keys));
        }
        Ok(entity)
    }

    /// A field of an entity: its index and type.
    fn field(&self, input: &str, entity: EntityId, field: &Spanned<String>) -> Result<(u32, Ty), String> {
        let program = self.engine.program();
        let def = program.entity(entity);
        match def.field(&field.value) {
            Some((i, f)) => Ok((i, f.ty.clone())),
            None => {
                let mut d = Diagnostic::error(
                    Code::UnknownField,
                    format!("`{}` has no field `{}`", def.decl.name, field.value),
                )
                .at(self.repl_file(), span(&field.span), "no such field");
                d.set_suggestion(&field.value, def.fields.iter().map(|f| f.name.as_str()), Quote::Code);
                Err(self.error_at(input, d))
            }
        }
    }

    // ------------------------------------------------------------ edits

    /// Applies an edit and answers with the diff it caused.
    fn apply(&mut self, edit: Edit) -> String {
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
            Err(failure) => self.failure(failure),
        }
    }

    fn set(&mut self, input: &str, target: Target, field: Spanned<String>, value: Spanned<String>) -> String {
        let checked = (|| {
            let entity = self.target(input, &target)?;
            let (index, ty) = self.field(input, entity, &field)?;
            let program = self.engine.program();
            let def = program.entity(entity);
            let file = self.repl_file();
            if def.key == Some(index) {
                let d = Diagnostic::error(
                    Code::TypeMismatch,
                    format!("`{}` is the key of `{}`", field.value, def.decl.name),
                )
                .at(file, span(&field.span), "the key cannot be set")
                .help("`:remove` the fact and `:add` it with another key");
                return Err(self.error_at(input, d));
            }
            if let Err(diagnostics) = aims_lang::sema::constant(program, &ty, &value.value) {
                let label = format!("expected a `{}`", ty_name(program, &ty));
                let diagnostics = placed(diagnostics, file, &value.span, &label);
                return Err(self.render(input, &diagnostics, None));
            }
            Ok(())
        })();
        match checked {
            Err(text) => text,
            Ok(()) => self.apply(Edit::Set {
                entity: target.entity.value,
                key: target.key.value,
                field: field.value,
                value: value.value,
            }),
        }
    }

    fn unset(&mut self, input: &str, target: Target, field: Spanned<String>) -> String {
        let checked = (|| {
            let entity = self.target(input, &target)?;
            let (_, ty) = self.field(input, entity, &field)?;
            if !ty.is_optional() {
                let program = self.engine.program();
                let d = Diagnostic::error(
                    Code::TypeMismatch,
                    format!("`{}` is not optional, so it cannot be unset", field.value),
                )
                .at(self.repl_file(), span(&field.span), format!("this field is a `{}`", ty_name(program, &ty)))
                .help("`:set` it to another value instead");
                return Err(self.error_at(input, d));
            }
            Ok(())
        })();
        match checked {
            Err(text) => text,
            Ok(()) => {
                self.apply(Edit::Unset { entity: target.entity.value, key: target.key.value, field: field.value })
            }
        }
    }

    fn add(&mut self, input: &str, entity: Spanned<String>, record: Spanned<String>) -> String {
        let checked = (|| {
            let id = self.entity(input, &entity)?;
            let file = self.repl_file();
            if let Err(errors) = syntax::parse_expr(&record.value) {
                return Err(self.render(input, &syntax_diagnostics(errors, file, record.span.start), None));
            }
            let program = self.engine.program();
            if let Err(diagnostics) = aims_lang::sema::fact_record(program, id, &record.value) {
                let diagnostics = placed(diagnostics, file, &record.span, "in this fact");
                return Err(self.render(input, &diagnostics, None));
            }
            Ok(())
        })();
        match checked {
            Err(text) => text,
            Ok(()) => self.apply(Edit::Add { entity: entity.value, record: record.value }),
        }
    }

    fn remove(&mut self, input: &str, target: Target) -> String {
        match self.target(input, &target) {
            Err(text) => text,
            Ok(_) => self.apply(Edit::Remove { entity: target.entity.value, key: target.key.value }),
        }
    }

    fn declaration(&mut self, input: &str) -> String {
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
        self.apply(Edit::Declare { file, text: input.to_string() })
    }

    fn list_edits(&self) -> String {
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
    fn replay(&mut self, edits: &[Edit]) -> (Engine, Vec<Edit>, String) {
        let mut engine = timed(&mut self.spent, || self.base.fresh_copy());
        let mut applied = Vec::new();
        let mut problems = String::new();
        for edit in edits {
            match timed(&mut self.spent, || edit.apply(&mut engine)) {
                Ok(_) => applied.push(edit.clone()),
                Err(failure) => {
                    let _ = write!(problems, "could not re-apply `{}`: ", edit.describe());
                    let text = match failure {
                        EditFailure::Edit(e) => format!("{e}\n"),
                        EditFailure::Policy { diagnostics, .. } => {
                            let messages: Vec<String> = diagnostics.iter().map(|d| d.message.clone()).collect();
                            format!("{}\n", messages.join("; "))
                        }
                    };
                    problems.push_str(&text);
                }
            }
        }
        (engine, applied, problems)
    }

    fn undo(&mut self) -> String {
        let Some(last) = self.edits.last().cloned() else { return "nothing to undo\n".into() };
        let before = self.snapshot();
        let keep = self.edits[..self.edits.len() - 1].to_vec();
        let (engine, applied, problems) = self.replay(&keep);
        self.engine = engine;
        self.edits = applied;
        let after = self.snapshot();
        format!("undid {}\n{problems}{}", last.describe(), Diff::between(&before, &after).render())
    }

    fn reload(&mut self) -> String {
        let Some((path, options)) = self.project.clone() else {
            return "error: this session was not loaded from a project folder, so there is nothing to reload\n".into();
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
                timed(&mut self.spent, || engine.set_as_of(as_of));
                self.base = engine;
                let base_evaluation = timed(&mut self.spent, || self.base.evaluation());
                self.initial = Snapshot::new(self.base.program(), &base_evaluation);
                let edits = std::mem::take(&mut self.edits);
                let (engine, applied, problems) = self.replay(&edits);
                self.engine = engine;
                self.edits = applied;
                let after = self.snapshot();
                format!(
                    "reloaded {} and re-applied {}\n{problems}{}",
                    path.display(),
                    count(self.edits.len(), "edit"),
                    Diff::between(&before, &after).render()
                )
            }
        }
    }

    // ------------------------------------------------------------ scenarios

    /// The edits of a scenario: `initial` (none), `current`, or a saved one.
    fn scenario(&self, input: &str, name: &Spanned<String>) -> Result<Vec<Edit>, String> {
        match (self.scenarios.get(&name.value), name.value.as_str()) {
            (Some(edits), _) => Ok(edits.clone()),
            (None, "initial") => Ok(Vec::new()),
            (None, "current") => Ok(self.edits.clone()),
            (None, other) => {
                let mut d = Diagnostic::error(Code::UnknownName, format!("no scenario is named `{other}`"))
                    .at(self.repl_file(), span(&name.span), "not saved")
                    .note("`initial` is the project as loaded and `current` the edits applied now");
                d = d.suggest_or(
                    other,
                    self.scenarios.keys().map(String::as_str),
                    Quote::Code,
                    "save one with `:scenario save NAME`",
                );
                Err(self.error_at(input, d))
            }
        }
    }

    fn scenario_save(&mut self, input: &str, name: Spanned<String>) -> String {
        if name.value == "initial" || name.value == "current" {
            let d = Diagnostic::error(Code::Duplicate, format!("`{}` is a reserved scenario name", name.value))
                .at(self.repl_file(), span(&name.span), "reserved")
                .note("`initial` is the project as loaded and `current` the edits applied now");
            return self.error_at(input, d);
        }
        let replaced = self.scenarios.insert(name.value.clone(), self.edits.clone()).is_some();
        format!(
            "{} scenario {} ({})\n",
            if replaced { "replaced" } else { "saved" },
            name.value,
            count(self.edits.len(), "edit")
        )
    }

    fn scenario_load(&mut self, input: &str, name: Spanned<String>) -> String {
        let edits = match self.scenario(input, &name) {
            Ok(edits) => edits,
            Err(text) => return text,
        };
        let before = self.snapshot();
        let (engine, applied, problems) = self.replay(&edits);
        self.engine = engine;
        self.edits = applied;
        let after = self.snapshot();
        format!(
            "loaded scenario {} ({})\n{problems}{}",
            name.value,
            count(self.edits.len(), "edit"),
            Diff::between(&before, &after).render()
        )
    }

    fn scenario_compare(&mut self, input: &str, a: Spanned<String>, b: Spanned<String>) -> String {
        let (edits_a, edits_b) = match (self.scenario(input, &a), self.scenario(input, &b)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(text), _) | (_, Err(text)) => return text,
        };
        let (first, problems_a) = self.snapshot_of(&edits_a);
        let (second, problems_b) = self.snapshot_of(&edits_b);
        format!(
            "scenario {} ({}) → scenario {} ({})\n{problems_a}{problems_b}{}",
            a.value,
            count(edits_a.len(), "edit"),
            b.value,
            count(edits_b.len(), "edit"),
            Diff::between(&first, &second).render()
        )
    }

    /// The evaluation of the project with some edits, and the edits that failed.
    fn snapshot_of(&mut self, edits: &[Edit]) -> (Snapshot, String) {
        let (engine, _, problems) = self.replay(edits);
        let evaluation = timed(&mut self.spent, || engine.evaluation());
        (Snapshot::new(engine.program(), &evaluation), problems)
    }

    fn scenario_list(&self) -> String {
        if self.scenarios.is_empty() {
            return "no saved scenarios (`:scenario save NAME` saves the current edits)\n".into();
        }
        let mut out = String::new();
        for (name, edits) in &self.scenarios {
            let _ = writeln!(out, "{name}  ({})", count(edits.len(), "edit"));
            for e in edits {
                let _ = writeln!(out, "    {}", e.describe());
            }
        }
        out
    }

    // ------------------------------------------------------------ queries

    fn why(&mut self, input: &str, rule: Spanned<String>, key: Option<Spanned<String>>) -> String {
        let evaluation = self.evaluation();
        let program = self.engine.program();
        let Some(id) = program.rule_by_name(&rule.value) else {
            return self.unknown_rule(input, &rule, ":why explains controls and audits");
        };
        let view = View { program, sources: self.engine.sources(), evaluation: &evaluation };
        let def = program.rule(id);
        let key_text = match (&def.subject, &key) {
            (None, _) => "-".to_string(),
            (Some(_), Some(k)) => k.value.clone(),
            (Some(subject), None) => {
                let at = input.trim_end().len();
                let entity = &program.entity(subject.entity).decl.name;
                let d =
                    Diagnostic::error(Code::Syntax, format!("`{}` is checked per `{entity}`: which one?", rule.value))
                        .at(self.repl_file(), Span::new(at, at), format!("expected the key of a `{entity}` here"))
                        .help(format!(
                            "for instance `:why {} {}`",
                            rule.value,
                            view.keys(id).first().map_or("KEY", |k| k)
                        ));
                return self.error_at(input, d);
            }
        };
        match view.find(id, &key_text) {
            Some(outcome) => view.why(id, outcome),
            None => {
                let keys = view.keys(id);
                let key = key.unwrap_or(Spanned { value: key_text, span: 0..0 });
                self.unknown_key(input, &format!("`{}`", rule.value), &key, &keys)
            }
        }
    }

    fn unknown_rule(&self, input: &str, name: &Spanned<String>, note: &str) -> String {
        let program = self.engine.program();
        let mut d = Diagnostic::error(Code::UnknownRule, format!("no control or audit is named `{}`", name.value))
            .at(self.repl_file(), span(&name.span), "not a control or audit")
            .note(note);
        d.set_suggestion(&name.value, program.rules.iter().map(|r| r.decl.name.as_str()), Quote::Code);
        self.error_at(input, d)
    }

    fn named(&mut self, input: &str, name: Spanned<String>, key: Option<Spanned<String>>) -> String {
        let evaluation = self.evaluation();
        let program = self.engine.program();
        let view = View { program, sources: self.engine.sources(), evaluation: &evaluation };
        if let Some(id) = program.rule_by_name(&name.value) {
            let Some(key) = key else { return view.rule(id) };
            return match view.find(id, &key.value) {
                Some(outcome) => view.one(id, outcome),
                None => self.unknown_key(input, &format!("`{}`", name.value), &key, &view.keys(id)),
            };
        }
        if let Some(i) = program.risks.iter().position(|r| r.decl.name == name.value) {
            let id = aims_lang::ir::RiskId(i as u32);
            if let Some(k) = &key {
                let keys: Vec<String> = evaluation
                    .risks
                    .get(i)
                    .map(|r| r.entries.iter().map(|e| e.key.to_string()).collect())
                    .unwrap_or_default();
                if !keys.contains(&k.value) {
                    return self.unknown_key(input, &format!("risk `{}`", name.value), k, &keys);
                }
            }
            return view.risk(id, key.as_ref().map(|k| k.value.as_str()));
        }
        if let Some(i) = program.objectives.iter().position(|o| o.decl.name == name.value) {
            if key.is_none() {
                return view.objective(aims_lang::ir::ObjectiveId(i as u32));
            }
        }
        if key.is_some() {
            return self.unknown_rule(input, &name, "`NAME on KEY` shows one outcome of a control, audit or risk");
        }
        self.expression(input)
    }

    fn expression(&mut self, input: &str) -> String {
        let file = self.repl_file();
        let checked = timed(&mut self.spent, || aims_lang::sema::expression(self.engine.program(), file, input, None));
        match checked {
            Err(diagnostics) => self.render(input, &diagnostics, None),
            Ok(expression) => {
                let engine = &self.engine;
                let facts = engine.facts();
                let env =
                    Env::new(engine.program(), &facts, engine.as_of()).with_budget(engine.budget(), Default::default());
                let mut frame = vec![Value::Absent; expression.slots.max(1) as usize];
                let start = Instant::now();
                let value = env.eval(&expression.ex, &mut frame);
                let elapsed = start.elapsed();
                let shown = eval::show(&env, &value);
                self.spent += elapsed;
                format!("{shown}\n")
            }
        }
    }
}

/// Marks the text of rendered diagnostics inside a reply: the renderer
/// already made the sources printable and may colour them, so
/// [`printable_reply`] leaves it alone.
const RENDERED_START: char = '\u{E000}';
const RENDERED_END: char = '\u{E001}';

/// Text made [`terminal_safe`]: control characters (which could drive the
/// terminal) become visible escapes such as `\u{1b}`.
fn printable(text: &str) -> String {
    terminal_safe(text).into_owned()
}

fn printable_diagnostic(mut d: Diagnostic) -> Diagnostic {
    d.message = printable(&d.message);
    if let Some(p) = &mut d.primary {
        p.message = printable(&p.message);
    }
    for l in &mut d.secondary {
        l.message = printable(&l.message);
    }
    d.notes = d.notes.iter().map(|n| printable(n)).collect();
    d.help = d.help.as_deref().map(printable);
    d
}

/// The reply as it may reach a terminal: text outside rendered diagnostics
/// made [`terminal_safe`], and the markers gone.
fn printable_reply(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let (plain, after) = rest.split_once(RENDERED_START).unwrap_or((rest, ""));
        out.push_str(&terminal_safe(plain));
        let (rendered, after) = after.split_once(RENDERED_END).unwrap_or((after, ""));
        out.push_str(rendered);
        rest = after;
    }
    out
}

fn span(range: &std::ops::Range<usize>) -> Span {
    Span::new(range.start, range.end)
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn help() -> String {
    const WIDTH: usize = 30;
    let mut out = String::new();
    let mut row = |form: &str, what: &str| {
        if form.chars().count() > WIDTH {
            let _ = writeln!(out, "  {form}\n  {:WIDTH$}  {what}", "");
        } else {
            let _ = writeln!(out, "  {form:<WIDTH$}  {what}");
        }
    };
    row("EXPRESSION", "evaluate it: count(s for s: AISystem where s.risk_tier == high)");
    row("RULE", "the outcomes of a control or audit per entity, with the failures");
    row("RULE on \"KEY\"", "one outcome, with its failures and the values they saw");
    row("RISK [on \"KEY\"]", "a risk's inherent and residual levels per entity");
    row("OBJECTIVE", "where an objective stands");
    row("control NAME ... { ... }", "a declaration (control, audit, fn, risk, exception, ...) joins the session");
    row("fact ENTITY { ... }", "the same as :add");
    for (command, args, what) in COMMANDS {
        let form = if args.is_empty() { command.to_string() } else { format!("{command} {args}") };
        row(&form, what);
    }
    out.push_str("Every edit answers with what it changed: outcomes, residual risks, objectives and findings.\n");
    out
}
