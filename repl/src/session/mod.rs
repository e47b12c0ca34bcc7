//! The REPL without a terminal: a [`Session`] takes what was typed and
//! returns a [`Reply`] (the text to print, and whether to quit).
//!
//! A session holds one engine, which the what-if edits change
//! incrementally, and answers every edit with the [`Diff`] between the
//! evaluations before and after it: both share every memoized chunk the
//! edit did not touch, so the answer costs what the edit changed. Each
//! applied edit is recorded with an engine [`Checkpoint`] of the inputs
//! before it (handles and shared row lists, no evaluation): `:undo`
//! restores the last one, `:reset` the one taken at load, and `:reload`
//! and scenarios restore that and re-apply edits. The evaluation as loaded
//! is kept for `:diff`.
//!
//! Errors typed at the prompt are rendered like errors in files, with the
//! typed line as a source file named `<repl>`; they never end the session.
//!
//! The session's parts: `edit` (the recorded edits), `commands` (the edit
//! commands, undo and reload), `scenarios`, `queries` (expressions and
//! outcomes), `answers` (large answers cut, written to files, timing),
//! `render` (diagnostics and terminal-safe text), `help`, and `interrupt`
//! (a command stopped by Ctrl-C leaves the session as it was).

mod answers;
mod commands;
mod edit;
mod help;
mod interrupt;
mod queries;
mod render;
mod scenarios;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aims_lang::diag::{terminal_safe_line, Code, Diagnostic};
use aims_lang::engine::Checkpoint;
use aims_lang::eval::Evaluation;
use aims_lang::ir::EntityId;
use aims_lang::project::LoadOptions;
use aims_lang::report::count as plural;
use aims_lang::syntax::Span;
use aims_lang::Date;
use aims_lang::{Engine, LoadFailure};

pub use answers::Timing;
pub use edit::Edit;
pub use interrupt::INTERRUPTED;

use crate::complete::Vocabulary;
use crate::diff::{Diff, Outline, Side};
use crate::parse::{self, Input};
use render::printable_reply;

/// What the session answers to one entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// The text to print (empty, or ending with a newline).
    pub text: String,
    /// Whether the session is over.
    pub quit: bool,
    /// Where the time went, when `:timing` is on (the text does not
    /// include it: the front end adds the time it took to print).
    pub timing: Option<Timing>,
}

impl Reply {
    fn text(text: String) -> Reply {
        Reply { text, quit: false, timing: None }
    }
}

/// A key as the REPL writes it: quoted, with escapes.
fn quote(key: &str) -> String {
    format!("{key:?}")
}

/// `control foo`: the keyword and name of the first declaration in a text.
pub(super) fn declared(text: &str) -> String {
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

/// A project and its what-if edits, answering what is typed at the prompt.
pub struct Session {
    /// The project with the edits applied.
    engine: Engine,
    /// The engine's inputs as loaded, as of the starting date.
    origin: Checkpoint,
    /// The evaluation as loaded, for `:diff` (see [`Session::initial`]).
    initial: Option<Evaluated>,
    /// The evaluation as loaded while another thread computes it (see
    /// [`Session::evaluate_in_background`]).
    pending: Option<std::thread::JoinHandle<Option<Arc<Evaluation>>>>,
    /// The edits applied to `engine`, in order.
    edits: Vec<Edit>,
    /// The engine's inputs before each edit of `edits`, for `:undo`.
    undo: Vec<Checkpoint>,
    /// How many lines of changes an answer shows before it is cut.
    limit: Option<usize>,
    /// The last answer that was a diff, in full, for `:save`.
    last: Option<(String, Diff)>,
    scenarios: BTreeMap<String, Vec<Edit>>,
    /// Where the project was read from, for `:reload`.
    project: Option<(PathBuf, LoadOptions)>,
    /// How many declarations were typed (names `<repl-N>`).
    declarations: usize,
    timing: bool,
    color: bool,
    /// Counts the commands that may have changed the names completion
    /// offers (see [`Session::names_version`]).
    names: u64,
    /// Engine time of the current command.
    spent: Duration,
}

/// An evaluation with the outline of its program, one side of a [`Diff`].
#[derive(Clone, Debug)]
pub(crate) struct Evaluated {
    outline: Outline,
    evaluation: Arc<Evaluation>,
}

impl Evaluated {
    fn side(&self) -> Side<'_> {
        Side { outline: &self.outline, evaluation: &self.evaluation }
    }
}

/// Lines of changes an answer shows before it is cut, unless `:limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 50;

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("edits", &self.edits).finish_non_exhaustive()
    }
}

impl Session {
    /// A session on a loaded engine, evaluated as of `as_of`.
    pub fn new(engine: Engine, as_of: Date) -> Session {
        let mut session = Session::unevaluated(engine, as_of);
        session.initial();
        session
    }

    /// A session on a loaded engine as of `as_of`, not yet evaluated: the
    /// evaluation as loaded is made by the first command, or by
    /// [`Session::evaluate_in_background`].
    pub fn unevaluated(mut engine: Engine, as_of: Date) -> Session {
        engine.set_as_of(as_of);
        let origin = engine.checkpoint();
        Session {
            engine,
            origin,
            initial: None,
            pending: None,
            edits: Vec::new(),
            undo: Vec::new(),
            limit: Some(DEFAULT_LIMIT),
            last: None,
            scenarios: BTreeMap::new(),
            project: None,
            declarations: 0,
            timing: false,
            color: false,
            names: 0,
            spent: Duration::ZERO,
        }
    }

    /// Loads a project folder (or `.aims` file); `:reload` reads it again.
    /// Without a date, the session uses `aims.toml`'s `as_of`, else today.
    pub fn load(path: &Path, options: LoadOptions, as_of: Option<Date>) -> Result<Session, LoadFailure> {
        let mut session = Session::load_unevaluated(path, options, as_of)?;
        session.initial();
        Ok(session)
    }

    /// [`Session::load`] without the evaluation (see [`Session::unevaluated`]).
    pub fn load_unevaluated(path: &Path, options: LoadOptions, as_of: Option<Date>) -> Result<Session, LoadFailure> {
        let engine = Engine::load(path, &options)?;
        let as_of = as_of.or(engine.default_as_of()).unwrap_or_else(Date::today_utc);
        let mut session = Session::unevaluated(engine, as_of);
        // Logs that cannot be read refuse the session, as fact files do.
        if !session.engine.measure_errors().is_empty() {
            let diagnostics = session.engine.measure_errors().to_vec();
            return Err(LoadFailure { sources: session.engine.sources().clone(), diagnostics });
        }
        session.project = Some((path.to_path_buf(), options));
        Ok(session)
    }

    /// Starts the evaluation as loaded on another thread, if it is not made
    /// yet; `done` is called there with it. The next command waits for it
    /// (and for nothing else: until then the session only reads its
    /// inputs), so every answer is as if it had been made at load.
    pub fn evaluate_in_background(&mut self, done: impl FnOnce(&Evaluation) + Send + 'static) {
        if self.initial.is_some() || self.pending.is_some() {
            return;
        }
        let evaluate = self.engine.evaluation_elsewhere();
        self.pending = Some(std::thread::spawn(move || {
            let evaluation = evaluate();
            if let Some(evaluation) = &evaluation {
                done(evaluation);
            }
            evaluation
        }));
    }

    /// Whether the evaluation as loaded is made (not still under way).
    pub fn is_evaluated(&self) -> bool {
        self.initial.is_some()
    }

    /// The evaluation as loaded: made now, or taken from the thread of
    /// [`Session::evaluate_in_background`] (waiting for it). Every command
    /// calls it before it changes anything.
    fn initial(&mut self) -> &Evaluated {
        let pending = self.pending.take();
        let engine = &self.engine;
        self.initial.get_or_insert_with(|| {
            // A thread that was cancelled or failed leaves it to be made here.
            let evaluation = pending.and_then(|p| p.join().ok().flatten()).unwrap_or_else(|| engine.evaluation());
            Evaluated { outline: Outline::of(engine.program()), evaluation }
        })
    }

    /// How many facts the project has, of every entity.
    pub fn facts_count(&self) -> u64 {
        let facts = self.engine.facts();
        (0..self.engine.program().entities.len())
            .map(|e| u64::from(aims_lang::facts::Facts::len(&facts, EntityId(e as u32))))
            .sum()
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
        let evaluation = self.engine.evaluation();
        format!("{}, {}\n", self.banner_head(), plural(evaluation.findings.len(), "finding", "findings"))
    }

    /// The banner without the number of findings, which needs the
    /// evaluation: `peers as of 2026-01-01: 20 controls and audits, 0 risks, 0 objectives`.
    pub fn banner_head(&self) -> String {
        let program = self.engine.program();
        format!(
            "{} as of {}: {}, {}, {}",
            terminal_safe_line(self.engine.name()),
            self.engine.as_of(),
            plural(program.rules.len(), "control or audit", "controls and audits"),
            plural(program.risks.len(), "risk", "risks"),
            plural(program.objectives.len(), "objective", "objectives"),
        )
    }

    /// The names completion may offer.
    pub fn vocabulary(&self) -> Vocabulary {
        let program = self.engine.program();
        let names = |decls: Vec<&String>| decls.into_iter().cloned().collect::<Vec<_>>();
        let entities = program
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let id = EntityId(i as u32);
                let keys = self.engine.keys(id);
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

    /// Changes whenever a command may have changed the names of
    /// [`Session::vocabulary`] (facts added or removed, declarations, undo,
    /// scenarios, reload): a front end rebuilds its completion only then,
    /// since listing every key of a large inventory is not free.
    pub fn names_version(&self) -> u64 {
        self.names
    }

    /// Answers one entry (a line, or the lines of a multi-line entry).
    pub fn run(&mut self, input: &str) -> Reply {
        let start = Instant::now();
        self.spent = Duration::ZERO;
        let parsed = parse::parse(input);
        let parse = start.elapsed();
        // Made (or waited for) before anything changes: engine time. Not
        // for leaving or help, which need no evaluation.
        if !matches!(parsed, Ok(Input::Quit | Input::Empty | Input::Help)) {
            let waiting = Instant::now();
            self.initial();
            self.spent += waiting.elapsed();
        }
        let mut reply = match parsed {
            Ok(parsed) => self.dispatch_interruptible(input, parsed),
            Err(e) => Reply::text(self.parse_error(input, e)),
        };
        reply.text = printable_reply(&reply.text);
        if self.timing && !reply.quit {
            let total = start.elapsed();
            let render = total.saturating_sub(parse).saturating_sub(self.spent);
            reply.timing = Some(Timing { parse, engine: self.spent, render });
        }
        reply
    }

    fn dispatch(&mut self, input: &str, parsed: Input) -> Reply {
        let same_names = matches!(
            parsed,
            Input::Empty
                | Input::Quit
                | Input::Help
                | Input::Set { .. }
                | Input::Unset { .. }
                | Input::SetMeasure { .. }
                | Input::AsOf(_)
                | Input::Why { .. }
                | Input::Diff(_)
                | Input::Limit(_)
                | Input::Save(_)
                | Input::Edits
                | Input::ScenarioList
                | Input::ScenarioCompare(..)
                | Input::Timing(_)
                | Input::Named { .. }
                | Input::Expression
        );
        if !same_names {
            self.names += 1;
        }
        let text = match parsed {
            Input::Empty => String::new(),
            Input::Quit => return Reply { text: String::new(), quit: true, timing: None },
            Input::Help => help::help(),
            Input::Set { target, field, value } => self.set(input, target, field, value),
            Input::Unset { target, field } => self.unset(input, target, field),
            Input::SetMeasure { name, value } => self.set_measure(input, name, value),
            Input::Add { entity, record } => self.add(input, entity, record),
            Input::Remove { target } => self.remove(input, target),
            Input::AsOf(None) => format!("as of {}\n", self.engine.as_of()),
            Input::AsOf(Some(date)) => match Date::parse(&date.value) {
                Some(d) => self.apply(Edit::AsOf(d), input, None),
                None => self.error_at(
                    input,
                    Diagnostic::error(Code::BadLiteral, format!("`{}` is not a date", date.value)).at_file(
                        self.repl_file(),
                        span(&date.span),
                        "expected a date: YYYY-MM-DD",
                    ),
                ),
            },
            Input::Why { rule, key } => self.why(input, rule, key),
            Input::Diff(to) => {
                let now = self.evaluated();
                let diff = Diff::between(self.initial().side(), now.side());
                let head = format!("since the project was loaded ({}):\n", count(self.edits.len(), "edit"));
                match to {
                    None => self.answer(head, diff),
                    Some(path) => self.write_answer(input, &path, &(head + &diff.render())),
                }
            }
            Input::Limit(limit) => self.set_limit(limit),
            Input::Save(path) => self.save(input, &path),
            Input::Edits => self.list_edits(),
            Input::Undo => self.undo(),
            Input::Reset => {
                let before = self.evaluated();
                let n = self.edits.len();
                timed(&mut self.spent, || self.engine.restore(&self.origin));
                self.edits.clear();
                self.undo.clear();
                let after = self.evaluated();
                self.answer(format!("took back {}\n", count(n, "edit")), Diff::between(before.side(), after.side()))
            }
            Input::Reload => self.reload(input),
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

    /// The working engine's evaluation (incremental) with its program's outline.
    fn evaluated(&mut self) -> Evaluated {
        let evaluation = timed(&mut self.spent, || self.engine.evaluation());
        Evaluated { outline: Outline::of(self.engine.program()), evaluation }
    }

    fn evaluation(&mut self) -> Arc<Evaluation> {
        timed(&mut self.spent, || self.engine.evaluation())
    }
}

fn span(range: &std::ops::Range<usize>) -> Span {
    Span::new(range.start, range.end)
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
