//! The embeddable engine: load a project, check it, load its facts,
//! evaluate it as of a date, and explore what-if edits incrementally.
//!
//! One engine for every front end: `aims check`, the REPL and the language
//! server all run on the salsa database in `crate::db`.
//!
//! ```
//! use aims_lang::{facts::{Format, Mapping}, Date, Engine};
//!
//! let policy = r#"
//!     entity System { id: Text key, human_oversight: Bool }
//!     control oversight "A person can intervene" severity major
//!       for s: System where true
//!     { require s.human_oversight because "automated decisions need a human in the loop" }
//! "#;
//! let facts = r#"{ "System": [ { "id": "scorer", "human_oversight": false } ] }"#;
//! let mut engine = Engine::from_texts("policy.aims", policy, &[("facts.json", Format::Json, Mapping::default(), facts)])
//!     .expect("valid policy and facts");
//! let result = engine.evaluate(Date::parse("2026-11-01").unwrap());
//! assert_eq!(result.findings.len(), 1);
//! assert_eq!(result.findings[0].entity.as_deref(), Some("scorer"));
//!
//! // What if the scorer gets human oversight?
//! engine.set_field("System", "scorer", "human_oversight", "true").expect("a valid edit");
//! assert!(engine.evaluate(Date::parse("2026-11-01").unwrap()).findings.is_empty());
//! ```

mod checkpoint;
mod editor;
mod edits;
mod measures;
mod schema;

#[cfg(test)]
mod incremental_tests;
#[cfg(test)]
mod interrupt_tests;

pub use crate::eval::interrupt::{checkpoint, Interrupt, Interrupted};
pub use checkpoint::Checkpoint;
pub use edits::{EditSite, Evaluated, Typed};
pub use schema::Schema;

/// Read-only snapshots of an engine for the editor features
/// ([`Analysis`](crate::Analysis)), with the result types they return.
pub mod analysis {
    pub use crate::analysis::*;
}

/// `aims test`: the policy's own `test` blocks, run against their facts.
pub mod testing {
    pub use crate::testing::*;
}

/// What one edit changed: the outcomes and findings of a what-if.
pub mod whatif {
    pub use crate::whatif::*;
}

use std::path::Path;
use std::sync::Arc;

use salsa::Setter;

use crate::db::{self, Chunk, Database, DbFacts, SourceFile, Table, Workspace, CHUNK_ROWS};
use crate::diag::{Code, Diagnostic, FileId, Sources};
use crate::eval::Evaluation;
use crate::facts::{self, Ascending, FactInput, FactStore, Format, Mapping, Origin, Row};
use crate::ir::{EntityId, Program, Ty, Value};
use crate::project::{self, LoadOptions, ProjectFiles};
use crate::time::Date;

/// Why a project could not be loaded: every diagnostic, and the files they point into.
#[derive(Clone, Debug)]
pub struct LoadFailure {
    /// The files the diagnostics point into.
    pub sources: Sources,
    /// Every error and warning found, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

/// The result of checking policy files: the program and every diagnostic.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Compiled {
    /// The checked program.
    pub program: Program,
    /// Every error and warning of the policy files.
    pub diagnostics: Vec<Diagnostic>,
    /// What each name of the policy files resolved to (the editor reads it).
    pub model: crate::sema::SemanticModel,
}

/// Why a what-if edit was refused. [`Engine::edit_diagnostics`] turns it
/// into diagnostics placed on what was typed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EditError {
    /// No entity type has that name.
    #[error("unknown entity `{0}`")]
    UnknownEntity(String),
    /// No fact of the entity type has that key.
    #[error("no `{entity}` has the key \"{key}\"")]
    UnknownKey {
        /// The entity type.
        entity: String,
        /// The key that has no fact.
        key: String,
    },
    /// The entity type has no field of that name.
    #[error("`{entity}` has no field `{field}`")]
    UnknownField {
        /// The entity type.
        entity: String,
        /// The field name that it does not have.
        field: String,
    },
    /// The field may not be unset because its type is not optional: its name.
    #[error("`{0}` is not optional, so it cannot be unset")]
    NotOptional(String),
    /// The field is the entity's key and may not be changed: its name.
    #[error("`{0}` is the key; remove the fact and add another instead")]
    KeyField(String),
    /// A reference in the value or record names a fact that does not
    /// exist (refused, as loading a fact file would refuse it).
    #[error("no `{entity}` has the key \"{key}\"")]
    MissingReference {
        /// The entity type referred to.
        entity: String,
        /// The key that has no fact.
        key: String,
        /// Where the reference is, in the value's or record's text.
        span: crate::syntax::ast::Span,
    },
    /// An added fact has the key of a fact already there.
    #[error("a `{entity}` with the key \"{key}\" already exists")]
    DuplicateKey {
        /// The entity type.
        entity: String,
        /// The key already taken.
        key: String,
    },
    /// No measure of the organisation has that name.
    #[error("unknown measure `{0}`: a measure of the organisation is one declared without `for`")]
    UnknownMeasure(String),
    /// The value or record does not check: its diagnostics, with spans
    /// relative to the value's text (in no file until placed).
    #[error("{}", messages(.0))]
    Invalid(Vec<Diagnostic>),
}

/// The messages of diagnostics on one line.
fn messages(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(|d| d.message.as_str()).collect::<Vec<_>>().join("; ")
}

/// A checked program with its facts, ready to evaluate.
///
/// Not `Clone`: a clone would share the salsa storage, and a setter waits
/// until every other handle is dropped. Use [`Engine::fresh_copy`].
pub struct Engine {
    name: String,
    sources: Sources,
    policy: Vec<FileId>,
    fact_inputs: Vec<FactInput>,
    default_as_of: Option<Date>,
    warnings: Vec<Diagnostic>,
    /// The cells read as unknown in data-quality mode, by file and column.
    data_quality: Arc<facts::quality::DataQuality>,
    /// The `max_entities` limit, checked whenever facts are loaded.
    max_entities: u64,
    db: Database,
    ws: Workspace,
    /// The revision whose per-chunk queries [`db::prewarm`] last ran.
    prewarmed: std::sync::Mutex<Option<salsa::Revision>>,
    /// The schema the loaded facts were loaded for; `None`: no facts yet.
    facts_for: Option<Schema>,
    /// The logs, the runner and what the measured fields were computed from.
    measures: measures::MeasureState,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Puts facts into chunk inputs.
fn tables_from(db: &mut Database, program: &Program, store: FactStore) -> Vec<Table> {
    let mut tables = store.into_tables().into_iter();
    program
        .entities
        .iter()
        .enumerate()
        .map(|(e, def)| {
            let (rows, keys) = tables.next().map(|t| t.into_rows_and_keys()).unwrap_or_default();
            let len = rows.len() as u32;
            let mut rows = rows.into_iter();
            // The keys the store kept, moved rather than read from the rows again.
            let mut keys = keys.map(|k| (k.keys.into_iter(), k.order));
            let mut chunks = Vec::with_capacity((len as usize).div_ceil(CHUNK_ROWS));
            loop {
                let chunk: Arc<[Row]> = rows.by_ref().take(CHUNK_ROWS).collect();
                if chunk.is_empty() {
                    break;
                }
                let start = (chunks.len() * CHUNK_ROWS) as u32;
                chunks.push(match keys.as_mut() {
                    Some((keys, table_order)) => {
                        let keys: Arc<[Arc<str>]> = keys.by_ref().take(chunk.len()).collect();
                        // Keys in order throughout are in order in every
                        // chunk; otherwise each chunk's are compared.
                        let order =
                            if *table_order == Ascending::default() { *table_order } else { Ascending::of(&keys) };
                        db::new_chunk_with_keys(db, e as u32, start, def.key, chunk, keys, order)
                    }
                    None => db::new_chunk(db, e as u32, start, def.key, chunk),
                });
            }
            db::new_table(db, e as u32, def.key, len, chunks)
        })
        .collect()
}

impl Engine {
    /// Loads a project folder (or a single `.aims` file) from disk.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Engine, LoadFailure> {
        let db = if options.log_queries { Database::with_log() } else { Database::default() };
        Engine::load_with(path, options, db)
    }

    /// Loads a project into a given database (for instance one that logs queries).
    pub(crate) fn load_with(path: &Path, options: &LoadOptions, db: Database) -> Result<Engine, LoadFailure> {
        let files = project::read_project(path, options)
            .map_err(|(sources, diagnostics)| LoadFailure { sources, diagnostics })?;
        let mut engine = Engine::from_project_with(files, db)?;
        engine.set_eval_threads(options.eval_threads);
        engine.measures.runner = options.measure_runner.clone();
        Ok(engine)
    }

    /// Builds an engine from files already read.
    pub fn from_project(files: ProjectFiles) -> Result<Engine, LoadFailure> {
        Engine::from_project_with(files, Database::default())
    }

    /// Builds an engine from files already read, in a given database.
    pub(crate) fn from_project_with(files: ProjectFiles, mut db: Database) -> Result<Engine, LoadFailure> {
        let ProjectFiles { name, mut sources, policy, facts: fact_inputs, as_of, limits, monitoring, .. } = files;
        let ws = new_workspace(&db, &mut sources, &policy, as_of, limits.budget());
        let compiled = db::compiled(&db, ws);
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
            compiled.diagnostics.iter().cloned().partition(Diagnostic::is_error);
        if !errors.is_empty() {
            return Err(LoadFailure { sources, diagnostics: errors });
        }
        let program = compiled.program.clone();
        if program.rules.is_empty() && program.risks.is_empty() && program.objectives.is_empty() {
            let d = Diagnostic::error(Code::EmptyProject, format!("project `{name}` has nothing to evaluate"))
                .note(format!("{} policy file(s) were read", policy.len()))
                .help("declare at least one control, audit, risk or objective in a `.aims` file");
            return Err(LoadFailure { sources, diagnostics: vec![d] });
        }
        let store = match facts::load_within(&program, &sources, &fact_inputs, limits.max_entities) {
            Ok(store) => store,
            Err(diagnostics) => return Err(LoadFailure { sources, diagnostics }),
        };
        let given = measures::measured_fields_given(&program, &store);
        if !given.is_empty() {
            return Err(LoadFailure { sources, diagnostics: given });
        }
        let mut warnings = warnings;
        let mut store = store;
        warnings.append(&mut store.warnings);
        let data_quality = Arc::new(std::mem::take(&mut store.quality));
        warnings.extend(facts::unmatched::unmatched_literals(&program, &sources, &store));
        let tables = tables_from(&mut db, &program, store);
        ws.set_tables(&mut db).to(tables);
        let facts_for = Some(Schema(db::eval_program(&db, ws)));
        Ok(Engine {
            name,
            sources,
            policy,
            fact_inputs,
            default_as_of: as_of,
            warnings,
            data_quality,
            max_entities: limits.max_entities,
            db,
            ws,
            prewarmed: Default::default(),
            facts_for,
            measures: measures::MeasureState::new(monitoring),
        })
    }

    /// Builds an engine from one policy text and fact texts (for embedding and tests).
    pub fn from_texts(
        policy_name: &str,
        policy: &str,
        facts: &[(&str, Format, Mapping, &str)],
    ) -> Result<Engine, LoadFailure> {
        Engine::from_texts_with(policy_name, policy, facts, Database::default())
    }

    /// [`Engine::from_texts`] in a given database (for instance one that logs queries).
    pub(crate) fn from_texts_with(
        policy_name: &str,
        policy: &str,
        facts: &[(&str, Format, Mapping, &str)],
        db: Database,
    ) -> Result<Engine, LoadFailure> {
        let mut sources = Sources::new();
        let policy_file = sources.add(policy_name, policy);
        let fact_inputs = facts
            .iter()
            .map(|(name, format, mapping, text)| FactInput {
                file: sources.add(*name, *text),
                format: *format,
                mapping: mapping.clone(),
            })
            .collect();
        let files = ProjectFiles {
            name: policy_name.trim_end_matches(".aims").to_string(),
            root: Default::default(),
            sources,
            policy: vec![policy_file],
            facts: fact_inputs,
            as_of: None,
            limits: Default::default(),
            monitoring: Default::default(),
        };
        Engine::from_project_with(files, db)
    }

    /// The limits every evaluation of this engine runs within (from the
    /// `[limits]` table of aims.toml, or the defaults).
    pub fn budget(&self) -> crate::eval::budget::Budget {
        self.ws.budget(&self.db)
    }

    /// Sets the limits of the evaluations that follow: what ran within
    /// the old ones is evaluated again.
    pub fn set_budget(&mut self, budget: crate::eval::budget::Budget) {
        if self.ws.budget(&self.db) != budget {
            self.ws.set_budget(&mut self.db).to(budget);
        }
    }

    /// How many threads a large evaluation uses (`None`, the default: every
    /// core). Results never depend on it.
    pub fn set_eval_threads(&mut self, threads: Option<usize>) {
        let threads = threads.map(|n| n.max(1));
        if self.ws.threads(&self.db) != threads {
            self.ws.set_threads(&mut self.db).to(threads);
        }
    }

    /// Evaluates rules compiled (the default) or with the reference
    /// interpreter. Results never depend on it; the interpreter is there
    /// to check the compiled evaluation against.
    pub fn set_evaluator(&mut self, evaluator: crate::eval::Evaluator) {
        if self.ws.evaluator(&self.db) != evaluator {
            self.ws.set_evaluator(&mut self.db).to(evaluator);
        }
    }

    /// Sets the evaluation date, and measures again over the logs (with the
    /// runner of [`LoadOptions::measure_runner`]) if the measured fields
    /// were computed for another date or the logs changed.
    pub fn set_as_of(&mut self, as_of: Date) {
        if self.ws.as_of(&self.db) != as_of {
            self.ws.set_as_of(&mut self.db).to(as_of);
        }
        self.remeasure(as_of);
    }

    /// The evaluation date in force.
    pub fn as_of(&self) -> Date {
        self.ws.as_of(&self.db)
    }

    /// The handle that interrupts this engine's evaluations from another
    /// thread (and those of its [`Engine::fresh_copy`]s): a call made
    /// inside [`Engine::interruptible`] then returns `Err(Interrupted)`.
    /// Calls made outside it are never interrupted.
    ///
    /// ```
    /// # use aims_lang::{facts::{Format, Mapping}, Engine};
    /// # let policy = "entity S { id: Text key, ok: Bool }\ncontrol c for s: S { require s.ok }\n";
    /// # let facts = r#"{ "S": [ { "id": "a", "ok": false } ] }"#;
    /// # let engine = Engine::from_texts("p.aims", policy, &[("f.json", Format::Json, Mapping::default(), facts)]).unwrap();
    /// let handle = engine.interrupt_handle();
    /// // On another thread, or in a Ctrl-C handler: `handle.interrupt()`.
    /// # handle.clear();
    /// match engine.interruptible(|e| e.evaluation()) {
    ///     Ok(evaluation) => assert_eq!(evaluation.findings.len(), 1),
    ///     Err(aims_lang::engine::Interrupted) => println!("interrupted"),
    /// }
    /// ```
    pub fn interrupt_handle(&self) -> Interrupt {
        self.ws.spent(&self.db).interrupt().clone()
    }

    /// Makes `interrupt` the handle that interrupts this engine, so that
    /// one handle serves several engines (a reloaded project and the one it
    /// replaces). The handle is an input of every evaluation: set it before
    /// evaluating, or what was evaluated is evaluated again.
    pub fn set_interrupt_handle(&mut self, interrupt: Interrupt) {
        self.ws.set_spent(&mut self.db).to(crate::eval::budget::Spent::with_interrupt(interrupt));
    }

    /// Runs `f` on this engine so that its [`Engine::interrupt_handle`]
    /// stops it: evaluation checks for an interrupt every few thousand
    /// expressions and every chunk of facts, and unwinds without keeping a
    /// half-computed result. After `Err(Interrupted)` the engine answers
    /// the next call as a fresh engine would.
    pub fn interruptible<T>(&self, f: impl FnOnce(&Engine) -> T) -> Result<T, Interrupted> {
        self.interrupt_handle().run(|| f(self))
    }

    /// [`Engine::interruptible`] for calls that change the engine. An
    /// edit that `f` made before it was interrupted stays made (a what-if
    /// is interrupted while its answer is computed, after the edit).
    pub fn interruptible_mut<T>(&mut self, f: impl FnOnce(&mut Engine) -> T) -> Result<T, Interrupted> {
        let interrupt = self.interrupt_handle();
        interrupt.run(|| f(self))
    }

    /// Evaluates every rule, risk and objective as of a date.
    pub fn evaluate(&mut self, as_of: Date) -> Arc<Evaluation> {
        self.set_as_of(as_of);
        self.evaluation()
    }

    /// The evaluation as of the current date (incremental: only what
    /// changed since the last call is recomputed).
    pub fn evaluation(&self) -> Arc<Evaluation> {
        // Once per revision: after that every per-chunk memo is current,
        // or was recomputed by the evaluation itself.
        self.ws.spent(&self.db).reset();
        let revision = salsa::plumbing::current_revision(&self.db);
        let mut prewarmed = self.prewarmed.lock().unwrap_or_else(|p| p.into_inner());
        if *prewarmed != Some(revision) {
            db::prewarm(&self.db, self.ws);
            *prewarmed = Some(revision);
        }
        drop(prewarmed);
        db::evaluation(&self.db, self.ws)
    }

    /// [`Engine::evaluation`] of the engine as it is now, to run on another
    /// thread (a front end that shows its prompt while a large project is
    /// evaluated). The closure works on its own handle to this engine's
    /// database, so what it computes is memoized here: `evaluation()`
    /// afterwards returns the same evaluation without computing it again.
    ///
    /// Change nothing in this engine while the closure runs: a change
    /// cancels it (it returns `None`) and waits for it to stop. It is not
    /// stopped by the engine's interrupt handle.
    ///
    /// ```
    /// # use aims_lang::{facts::{Format, Mapping}, Engine};
    /// # let policy = "entity S { id: Text key, ok: Bool }\ncontrol c for s: S { require s.ok }\n";
    /// # let facts = r#"{ "S": [ { "id": "a", "ok": false } ] }"#;
    /// # let engine = Engine::from_texts("p.aims", policy, &[("f.json", Format::Json, Mapping::default(), facts)]).unwrap();
    /// let evaluating = std::thread::spawn(engine.evaluation_elsewhere());
    /// let evaluation = evaluating.join().unwrap().expect("not cancelled");
    /// assert!(std::sync::Arc::ptr_eq(&evaluation, &engine.evaluation()));
    /// ```
    pub fn evaluation_elsewhere(&self) -> impl FnOnce() -> Option<Arc<Evaluation>> + Send + 'static {
        let db = self.db.clone();
        let ws = self.ws;
        move || {
            salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| {
                ws.spent(&db).reset();
                db::prewarm(&db, ws);
                db::evaluation(&db, ws)
            }))
            .ok()
        }
    }

    /// Adds a fact file, or replaces the one with the same name. On error
    /// the engine keeps its previous facts. The engine keeps the text (for
    /// diagnostics): a `String` is kept as it is, a `&str` copied.
    pub fn set_facts(
        &mut self,
        name: &str,
        format: Format,
        mapping: Mapping,
        text: impl Into<String>,
    ) -> Result<(), LoadFailure> {
        let mut sources = self.sources.clone();
        let mut inputs = self.fact_inputs.clone();
        match inputs.iter().position(|i| sources.name(i.file) == name) {
            Some(i) => {
                sources.set_text(inputs[i].file, text);
                inputs[i].format = format;
                inputs[i].mapping = mapping;
            }
            None => {
                let file = sources.add(name, text);
                inputs.push(FactInput { file, format, mapping });
            }
        }
        let program = self.program().clone();
        let loaded = facts::load_within(&program, &sources, &inputs, self.max_entities);
        match loaded {
            Ok(mut store) => {
                self.data_quality = Arc::new(std::mem::take(&mut store.quality));
                self.sources = sources;
                self.fact_inputs = inputs;
                let tables = tables_from(&mut self.db, &program, store);
                self.ws.set_tables(&mut self.db).to(tables);
                self.measures.stamp = None;
                self.facts_for = Some(self.schema());
                Ok(())
            }
            Err(diagnostics) => Err(LoadFailure { sources, diagnostics }),
        }
    }

    /// Replaces the text of a policy file. On error the engine keeps the
    /// previous text and returns the diagnostics.
    pub fn set_policy_text(&mut self, file: FileId, text: &str) -> Result<(), Vec<Diagnostic>> {
        let Some(index) = self.policy.iter().position(|f| *f == file) else {
            return Err(vec![Diagnostic::error(Code::Io, "not a policy file of this project")]);
        };
        let input = self.ws.files(&self.db)[index];
        let previous = input.text(&self.db).clone();
        input.set_text(&mut self.db).to(text.to_string());
        let errors: Vec<Diagnostic> =
            db::compiled(&self.db, self.ws).diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        if errors.is_empty() && self.facts_fit() {
            self.sources.set_text(file, text);
            Ok(())
        } else {
            let mut shown = self.sources.clone();
            shown.set_text(file, text);
            input.set_text(&mut self.db).to(previous);
            let errors = if errors.is_empty() {
                vec![Diagnostic::error(Code::Io, "changing entities or records needs a reload of the facts")]
            } else {
                errors
            };
            self.sources = shown;
            Err(errors)
        }
    }

    /// Adds a policy file (for instance declarations typed in the REPL).
    pub fn add_policy(&mut self, name: &str, text: &str) -> Result<FileId, Vec<Diagnostic>> {
        let id = self.sources.add(name, text);
        let input = db::new_source_file(&self.db, id.0, text.to_string());
        let mut files = self.ws.files(&self.db).clone();
        files.push(input);
        self.ws.set_files(&mut self.db).to(files.clone());
        let errors: Vec<Diagnostic> =
            db::compiled(&self.db, self.ws).diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        if errors.is_empty() && self.facts_fit() {
            self.policy.push(id);
            Ok(id)
        } else {
            files.pop();
            self.ws.set_files(&mut self.db).to(files);
            let errors = if errors.is_empty() {
                vec![Diagnostic::error(Code::Io, "new entities or records cannot be declared while facts are loaded")]
            } else {
                errors
            };
            Err(errors)
        }
    }

    /// The types of the program as the texts stand, without spans.
    pub fn schema(&self) -> Schema {
        Schema(db::eval_program(&self.db, self.ws))
    }

    /// Whether the loaded facts fit the program as it stands (see
    /// [`Schema::fits`]); `false` before any facts are loaded.
    pub fn facts_fit(&self) -> bool {
        self.facts_for.as_ref().is_some_and(|loaded| loaded.fits(&self.schema()))
    }

    fn entity_id(&self, entity: &str) -> Result<EntityId, EditError> {
        self.program().entity_by_name(entity).ok_or_else(|| EditError::UnknownEntity(entity.to_string()))
    }

    fn locate_row(&self, entity: EntityId, key: &str) -> Result<u32, EditError> {
        let facts = self.facts();
        crate::facts::Facts::find(&facts, entity, key).ok_or_else(|| EditError::UnknownKey {
            entity: self.program().entity(entity).decl.name.clone(),
            key: key.to_string(),
        })
    }

    /// Parses a value written in the language for a field's type.
    pub fn parse_value(&self, ty: &Ty, text: &str) -> Result<Value, EditError> {
        crate::sema::constant(self.program(), ty, text).map(|c| c.value).map_err(EditError::Invalid)
    }

    /// Refuses a value that refers to a fact that does not exist, as
    /// loading a fact file would: the first such reference, and where it
    /// was written.
    fn check_references(&self, constant: &crate::sema::Constant) -> Result<(), EditError> {
        let facts = self.facts();
        let missing = constant
            .references
            .iter()
            .find(|(_, entity, key)| crate::facts::Facts::find(&facts, *entity, key).is_none());
        match missing {
            Some((span, entity, key)) => Err(EditError::MissingReference {
                entity: self.program().entity(*entity).decl.name.clone(),
                key: key.to_string(),
                span: *span,
            }),
            None => Ok(()),
        }
    }

    fn replace_row(&mut self, entity: EntityId, row: u32, values: Arc<[Value]>) {
        let table = self.ws.tables(&self.db)[entity.index()];
        let chunk = table.chunks(&self.db)[row as usize / CHUNK_ROWS];
        let mut rows: Vec<Row> = chunk.rows(&self.db).to_vec();
        rows[row as usize % CHUNK_ROWS].values = values;
        db::set_chunk_rows(&mut self.db, chunk, Arc::from(rows));
    }

    /// What if a fact's field had another value? `value` is written in the
    /// language (`false`, `2026-01-01`, `"text"`, `high`).
    pub fn set_field(&mut self, entity: &str, key: &str, field: &str, value: &str) -> Result<(), EditError> {
        let id = self.entity_id(entity)?;
        let row = self.locate_row(id, key)?;
        let def = self.program().entity(id).clone();
        let (index, field_def) =
            def.field(field).ok_or_else(|| EditError::UnknownField { entity: entity.into(), field: field.into() })?;
        if def.key == Some(index) {
            return Err(EditError::KeyField(field.to_string()));
        }
        let constant = crate::sema::constant(self.program(), &field_def.ty, value).map_err(EditError::Invalid)?;
        self.check_references(&constant)?;
        self.set_value(id, row, index, constant.value);
        Ok(())
    }

    /// What if a fact's field had another value (`Some`) or were not
    /// recorded (`None`)? Answered with the changes it causes, computed from
    /// the edited chunk and whatever reads it, not from the whole inventory.
    /// The edit stays applied.
    pub fn what_if_field(
        &mut self,
        entity: &str,
        key: &str,
        field: &str,
        value: Option<&str>,
    ) -> Result<crate::whatif::WhatIf, EditError> {
        let id = self.entity_id(entity)?;
        let row = self.locate_row(id, key)?;
        self.ws.spent(&self.db).reset();
        let before = crate::whatif::view(&self.db, self.ws, crate::whatif::Edited::Row(id, row));
        match value {
            Some(v) => self.set_field(entity, key, field, v)?,
            None => self.unset_field(entity, key, field)?,
        }
        // The edited chunk's queries, shared out among the cores: the view
        // then reads them.
        db::prewarm_chunk(&self.db, self.ws, id, row as usize / CHUNK_ROWS);
        let after = crate::whatif::view(&self.db, self.ws, crate::whatif::Edited::Row(id, row));
        Ok(crate::whatif::diff(self.program(), self.as_of(), &before, &after))
    }

    /// What if a fact's optional field were not recorded?
    pub fn unset_field(&mut self, entity: &str, key: &str, field: &str) -> Result<(), EditError> {
        let id = self.entity_id(entity)?;
        let row = self.locate_row(id, key)?;
        let def = self.program().entity(id).clone();
        let (index, field_def) =
            def.field(field).ok_or_else(|| EditError::UnknownField { entity: entity.into(), field: field.into() })?;
        if !field_def.ty.is_optional() {
            return Err(EditError::NotOptional(field.to_string()));
        }
        self.set_value(id, row, index, Value::Absent);
        Ok(())
    }

    fn set_value(&mut self, entity: EntityId, row: u32, field: u32, value: Value) {
        let facts = self.facts();
        let Some(values) = crate::facts::Facts::values(&facts, entity, row) else { return };
        let mut values = values.to_vec();
        values[field as usize] = value;
        self.replace_row(entity, row, Arc::from(values));
    }

    /// What if this fact existed? `record` is written as in a `fact`
    /// declaration: `{ id: "x", domain: credit, .. }`.
    pub fn add_fact(&mut self, entity: &str, record: &str) -> Result<String, EditError> {
        let id = self.entity_id(entity)?;
        // Syntax errors first, with their places in the record's text.
        crate::syntax::parse_expr(record).map_err(|errors| {
            EditError::Invalid(errors.iter().map(|e| Diagnostic::from_syntax(edits::NO_FILE, e)).collect())
        })?;
        let parsed = crate::sema::fact_record(self.program(), id, record).map_err(EditError::Invalid)?;
        self.check_references(&parsed)?;
        let values = match parsed.value {
            Value::Record(values) => values,
            _ => {
                let d = Diagnostic::error(Code::TypeMismatch, "expected a record `{ field: value, .. }`");
                return Err(EditError::Invalid(vec![d]));
            }
        };
        let def = self.program().entity(id).clone();
        let mut row = Row::new(values, Origin::Policy(Default::default()));
        if def.key.is_none() {
            // Named by its values, as a loaded fact is (`#…-2` when an
            // identical one is there).
            let facts = self.facts();
            let program = self.program();
            let taken: hashbrown::HashSet<Arc<str>> =
                (0..self.facts_len(id)).map(|r| crate::facts::Facts::key_of(&facts, program, id, r)).collect();
            let base = crate::facts::identity::content_id(program, &row.values);
            row.id = Some(Arc::from(crate::facts::identity::disambiguated(base, |k| taken.contains(k)).0));
        }
        let key = crate::facts::key_text(def.key, &row, self.facts_len(id)).to_string();
        if def.key.is_some() && self.locate_row(id, &key).is_ok() {
            return Err(EditError::DuplicateKey { entity: entity.into(), key });
        }
        let table = self.ws.tables(&self.db)[id.index()];
        let len = table.len(&self.db);
        let mut chunks = table.chunks(&self.db).clone();
        match chunks.last() {
            Some(last) if last.rows(&self.db).len() < CHUNK_ROWS => {
                let mut rows = last.rows(&self.db).to_vec();
                rows.push(row);
                db::set_chunk_rows(&mut self.db, *last, Arc::from(rows));
            }
            _ => {
                chunks.push(db::new_chunk(&self.db, id.0, len, table.key_field(&self.db), Arc::from(vec![row])));
                table.set_chunks(&mut self.db).to(chunks);
            }
        }
        table.set_len(&mut self.db).to(len + 1);
        Ok(key)
    }

    fn facts_len(&self, entity: EntityId) -> u32 {
        self.ws.tables(&self.db)[entity.index()].len(&self.db)
    }

    /// What if this fact did not exist?
    pub fn remove_fact(&mut self, entity: &str, key: &str) -> Result<(), EditError> {
        let id = self.entity_id(entity)?;
        let row = self.locate_row(id, key)?;
        let table = self.ws.tables(&self.db)[id.index()];
        let mut rows: Vec<Row> = table.chunks(&self.db).iter().flat_map(|c| c.rows(&self.db).to_vec()).collect();
        rows.remove(row as usize);
        // Rows after the removed one move: rebuild the chunks from it on,
        // and keep the chunks before it (and their memos) as they are.
        let keep = row as usize / CHUNK_ROWS;
        let mut chunks: Vec<Chunk> = table.chunks(&self.db)[..keep].to_vec();
        for (i, c) in rows[keep * CHUNK_ROWS..].chunks(CHUNK_ROWS).enumerate() {
            chunks.push(db::new_chunk(
                &self.db,
                id.0,
                ((keep + i) * CHUNK_ROWS) as u32,
                table.key_field(&self.db),
                Arc::from(c.to_vec()),
            ));
        }
        table.set_chunks(&mut self.db).to(chunks);
        table.set_len(&mut self.db).to(rows.len() as u32);
        Ok(())
    }

    /// The same inputs (policy texts, facts, date) in a new database with
    /// nothing memoized: evaluation from scratch, to compare with the
    /// incremental result. The copy answers the same interrupt handle.
    pub fn fresh_copy(&self) -> Engine {
        let mut db = Database::default();
        let copy_file =
            |db: &Database, f: &SourceFile| db::new_source_file(db, f.id(&self.db), f.text(&self.db).clone());
        let files: Vec<SourceFile> = self.ws.files(&self.db).iter().map(|f| copy_file(&db, f)).collect();
        let stdlib: Vec<(String, SourceFile)> =
            self.ws.stdlib(&self.db).iter().map(|(n, f)| (n.clone(), copy_file(&db, f))).collect();
        let tables: Vec<Table> = self
            .ws
            .tables(&self.db)
            .iter()
            .map(|t| {
                let rows: Vec<Row> = t.chunks(&self.db).iter().flat_map(|c| c.rows(&self.db).to_vec()).collect();
                let chunks = rows
                    .chunks(CHUNK_ROWS)
                    .enumerate()
                    .map(|(i, c)| {
                        let start = (i * CHUNK_ROWS) as u32;
                        db::new_chunk(&db, t.entity(&self.db), start, t.key_field(&self.db), Arc::from(c.to_vec()))
                    })
                    .collect();
                db::new_table(&db, t.entity(&self.db), t.key_field(&self.db), rows.len() as u32, chunks)
            })
            .collect();
        let ws = Workspace::builder(
            files,
            stdlib,
            tables,
            self.ws.as_of(&self.db),
            self.budget(),
            crate::eval::budget::Spent::with_interrupt(self.interrupt_handle()),
            self.ws.threads(&self.db),
            self.ws.evaluator(&self.db),
            self.ws.measured(&self.db).clone(),
        )
        .files_durability(db::POLICY_DURABILITY)
        .stdlib_durability(db::POLICY_DURABILITY)
        .tables_durability(db::LAYOUT_DURABILITY)
        .new(&db);
        let _ = &mut db;
        Engine {
            name: self.name.clone(),
            sources: self.sources.clone(),
            policy: self.policy.clone(),
            fact_inputs: self.fact_inputs.clone(),
            default_as_of: self.default_as_of,
            warnings: self.warnings.clone(),
            data_quality: self.data_quality.clone(),
            max_entities: self.max_entities,
            db,
            ws,
            prewarmed: Default::default(),
            facts_for: self.facts_for.clone(),
            measures: self.measures.clone(),
        }
    }

    /// The project's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The evaluation date of `aims.toml`, if it sets one.
    pub fn default_as_of(&self) -> Option<Date> {
        self.default_as_of
    }
    /// The checked program.
    pub fn program(&self) -> &Program {
        &db::compiled(&self.db, self.ws).program
    }
    /// The facts, read through the database.
    pub fn facts(&self) -> DbFacts<'_> {
        DbFacts::new(&self.db, self.ws)
    }
    /// Every file diagnostics may point into.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }
    /// Policy files of the project (stdlib modules excluded).
    pub fn policy_files(&self) -> &[FileId] {
        &self.policy
    }
    /// Warnings found while checking.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
    /// The cells that could not be read in sources read with
    /// `bad_values = "unknown"` (empty when every cell was read).
    pub fn data_quality(&self) -> &facts::quality::DataQuality {
        &self.data_quality
    }
    /// The queries executed since the last call, when the engine was loaded
    /// with [`LoadOptions::log_queries`] (empty otherwise).
    pub fn take_query_log(&self) -> Vec<String> {
        self.db.take_log()
    }
    /// The database, for queries beyond this API.
    pub(crate) fn db(&self) -> &Database {
        &self.db
    }
    /// The workspace input.
    pub(crate) fn workspace(&self) -> Workspace {
        self.ws
    }
}

/// The workspace of a project's policy files, with every stdlib module
/// added to `sources` (as `<stdlib>/...`) and to the database, and no facts yet.
fn new_workspace(
    db: &Database,
    sources: &mut Sources,
    policy: &[FileId],
    as_of: Option<Date>,
    budget: crate::eval::budget::Budget,
) -> Workspace {
    let policy_inputs: Vec<SourceFile> =
        policy.iter().map(|id| db::new_source_file(db, id.0, sources.text(*id).to_string())).collect();
    let stdlib: Vec<(String, SourceFile)> = crate::stdlib::MODULES
        .iter()
        .map(|(module, text)| {
            let id = sources.add(format!("<stdlib>/{}.aims", module.replace('.', "/")), *text);
            (module.to_string(), db::new_source_file(db, id.0, text.to_string()))
        })
        .collect();
    Workspace::builder(
        policy_inputs,
        stdlib,
        Vec::new(),
        as_of.unwrap_or(Date::UNIX_EPOCH),
        budget,
        Default::default(),
        None,
        Default::default(),
        std::sync::Arc::from([]),
    )
    .files_durability(db::POLICY_DURABILITY)
    .stdlib_durability(db::POLICY_DURABILITY)
    .tables_durability(db::LAYOUT_DURABILITY)
    .new(db)
}
