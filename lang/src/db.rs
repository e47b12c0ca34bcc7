//! The incremental engine: the pipeline as salsa queries.
//!
//! Inputs: one [`SourceFile`] per policy file (and stdlib module), one
//! [`Table`] per entity type holding [`Chunk`]s of at most [`CHUNK_ROWS`]
//! facts, and the [`Workspace`] (the file list, the tables, `as_of`).
//!
//! Queries: [`parse_declaration`] per declaration, [`parse_file`] per file
//! (spans relative to each declaration, [`syntax::ast::Item::offset`] says
//! where it starts); [`declaration`] is one declaration as checking reads it
//! (equal when it only moved); [`signatures`] checks the types,
//! requirements and functions from those; [`check_rule`] checks one
//! control or audit rule against them; [`compiled`] assembles the program
//! from each declaration as parsed on its own, placing each rule's result
//! (its source map included) where it is written. [`eval_program`] (the
//! signatures' program) and [`rule_logic`] (one rule without spans, made
//! from its own [`check_rule`]) are what evaluation reads, so that moving
//! text around or editing one rule re-runs nothing else;
//! [`chunk_outcomes`] evaluates one rule over one chunk of facts, the unit
//! of incremental evaluation; [`evaluation`] derives the full views.
//! Changing one field of one fact re-runs only the chunk queries that read
//! that chunk (its own rules, and rules that reach into it), and whatever
//! aggregates over them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use salsa::Setter;

use crate::diag::{Code, Diagnostic, FileId, Quote};
use crate::engine::Compiled;
use crate::eval::{self, Env, Evaluation, Outcome, RuleResult};
use crate::facts::columns::{self, Columns};
use crate::facts::{Ascending, Facts, Row};
use crate::ir::*;
use crate::sema::{self, SourceInput};
use crate::syntax::{self, ast};
use crate::time::Date;

pub use crate::eval::{CHUNKS_PER_BLOCK, CHUNK_ROWS};

/// The salsa database.
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    log: Option<Arc<Mutex<QueryLog>>>,
}

/// What a logging database saw: the queries it executed, and the memos
/// it found still hold (by their dependencies, or at once by durability).
#[derive(Default)]
struct QueryLog {
    executed: Vec<String>,
    validated: Vec<String>,
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database that records the name of every query it executes, and
    /// of every memo it validates, for tests of incrementality.
    pub fn with_log() -> Database {
        let log: Arc<Mutex<QueryLog>> = Arc::default();
        let sink = log.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            let Ok(mut log) = sink.lock() else { return };
            match event.kind {
                salsa::EventKind::WillExecute { database_key } => log.executed.push(format!("{database_key:?}")),
                salsa::EventKind::DidValidateMemoizedValue { database_key } => {
                    log.validated.push(format!("{database_key:?}"))
                }
                _ => {}
            }
        })));
        Database { storage, log: Some(log) }
    }

    /// The queries executed since the last call (empty without a log).
    pub fn take_log(&self) -> Vec<String> {
        self.take(|log| &mut log.executed)
    }

    /// The memos validated since the last call (empty without a log).
    #[cfg(test)]
    pub fn take_validated(&self) -> Vec<String> {
        self.take(|log| &mut log.validated)
    }

    fn take(&self, part: impl FnOnce(&mut QueryLog) -> &mut Vec<String>) -> Vec<String> {
        match &self.log {
            Some(log) => log.lock().map(|mut l| std::mem::take(part(&mut l))).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// A policy file or stdlib module.
#[salsa::input(debug)]
pub struct SourceFile {
    /// Its id in the engine's `Sources` table.
    #[returns(copy)]
    pub id: u32,
    #[returns(ref)]
    pub text: String,
}

/// The durability of the policy's inputs (its files, and the workspace's
/// lists of them): high, above the layout of the facts (medium) and their
/// values (low). After any edit of the facts (a value, or adding or
/// removing a fact), salsa then knows at once that every query that reads
/// only the policy (`compiled`, `rule_logic`, …) still holds, instead of
/// walking its dependencies: on 100,000 systems that walk was a tenth of
/// a what-if.
pub const POLICY_DURABILITY: salsa::Durability = salsa::Durability::HIGH;

/// A policy file or stdlib module as an input, of the policy's durability.
pub fn new_source_file(db: &Database, id: u32, text: String) -> SourceFile {
    SourceFile::builder(id, text).durability(POLICY_DURABILITY).new(db)
}

/// All facts of one entity type.
#[salsa::input(debug)]
pub struct Table {
    #[returns(copy)]
    pub entity: u32,
    /// The key field of the entity, if it has one.
    #[returns(copy)]
    pub key_field: Option<u32>,
    #[returns(copy)]
    pub len: u32,
    #[returns(ref)]
    pub chunks: Vec<Chunk>,
}

/// Up to [`CHUNK_ROWS`] facts of one entity type.
#[salsa::input(debug)]
pub struct Chunk {
    #[returns(copy)]
    pub entity: u32,
    /// Row number of the first fact.
    #[returns(copy)]
    pub start: u32,
    /// The key field of the entity, as its [`Table`] has it.
    #[returns(copy)]
    pub key_field: Option<u32>,
    #[returns(ref)]
    pub rows: Arc<[Row]>,
    /// The keys of the rows ("#3" for a fact without a key field), shared
    /// by every outcome about them. An input of their own, set with the
    /// rows ([`new_chunk`], [`set_chunk_rows`]) and only when they change:
    /// finding a fact by its key ([`key_index`]) then depends on every
    /// chunk's keys, which an edit of another field leaves unchanged and
    /// salsa verifies without re-running anything.
    #[returns(ref)]
    pub keys: Arc<[Arc<str>]>,
    /// Whether `keys` are in key order, found where they are made: the
    /// key order of a table whose chunks all are ([`key_order`]) is then
    /// known without reading every key.
    #[returns(copy)]
    pub keys_ascending: Ascending,
}

/// The durability of what identifies the facts (the workspace's tables,
/// each table's chunks and length, each chunk's place and keys), above the
/// facts' values (low): an edit of a value leaves finding a fact by its
/// key ([`key_index`]) and the key order ([`key_order`]) known to hold at
/// once, without comparing every chunk's keys.
pub const LAYOUT_DURABILITY: salsa::Durability = salsa::Durability::MEDIUM;

/// A table of chunks, of the layout's durability.
pub fn new_table(db: &Database, entity: u32, key_field: Option<u32>, len: u32, chunks: Vec<Chunk>) -> Table {
    Table::builder(entity, key_field, len, chunks).durability(LAYOUT_DURABILITY).new(db)
}

/// A chunk of rows from `start`, with their keys: the rows of low
/// durability, the rest of the layout's.
pub fn new_chunk(db: &Database, entity: u32, start: u32, key_field: Option<u32>, rows: Arc<[Row]>) -> Chunk {
    let keys = keys_of(key_field, start, &rows);
    let order = Ascending::of(&keys);
    new_chunk_with_keys(db, entity, start, key_field, rows, keys, order)
}

/// [`new_chunk`] with the rows' keys (as [`crate::facts::key_text`] makes
/// them) and their order known already.
pub fn new_chunk_with_keys(
    db: &Database,
    entity: u32,
    start: u32,
    key_field: Option<u32>,
    rows: Arc<[Row]>,
    keys: Arc<[Arc<str>]>,
    order: Ascending,
) -> Chunk {
    debug_assert!(keys == keys_of(key_field, start, &rows));
    debug_assert_eq!(order, Ascending::of(&keys));
    Chunk::builder(entity, start, key_field, rows, keys, order)
        .entity_durability(LAYOUT_DURABILITY)
        .start_durability(LAYOUT_DURABILITY)
        .key_field_durability(LAYOUT_DURABILITY)
        .keys_durability(LAYOUT_DURABILITY)
        .keys_ascending_durability(LAYOUT_DURABILITY)
        .new(db)
}

/// Replaces a chunk's rows, and its keys (and their order) if they changed.
pub fn set_chunk_rows(db: &mut Database, chunk: Chunk, rows: Arc<[Row]>) {
    let keys = keys_of(chunk.key_field(db), chunk.start(db), &rows);
    if keys != *chunk.keys(db) {
        let order = Ascending::of(&keys);
        if order != chunk.keys_ascending(db) {
            chunk.set_keys_ascending(db).to(order);
        }
        chunk.set_keys(db).to(keys);
    }
    chunk.set_rows(db).to(rows);
}

/// The keys of rows from `start`.
fn keys_of(key_field: Option<u32>, start: u32, rows: &[Row]) -> Arc<[Arc<str>]> {
    rows.iter().enumerate().map(|(i, row)| crate::facts::key_text(key_field, row, start + i as u32)).collect()
}

/// The project as the database sees it.
#[salsa::input(debug)]
pub struct Workspace {
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    #[returns(ref)]
    pub stdlib: Vec<(String, SourceFile)>,
    #[returns(ref)]
    pub tables: Vec<Table>,
    #[returns(copy)]
    pub as_of: Date,
    /// The evaluation's limits: an input, so that changing them re-runs
    /// the evaluations that ran within the old ones.
    #[returns(copy)]
    pub budget: eval::budget::Budget,
    /// The steps the evaluation under way has spent: set once, reset by
    /// the engine when an evaluation starts (a counter, never set again,
    /// so reading it invalidates nothing).
    #[returns(ref)]
    pub spent: eval::budget::Spent,
    /// Threads a large evaluation uses (`None`: every core).
    #[returns(copy)]
    pub threads: Option<usize>,
    /// Compiled, or the reference interpreter: results never depend on it.
    #[returns(copy)]
    pub evaluator: eval::Evaluator,
    /// The values of the organisation measures, by `MeasureId` (set only
    /// when one changed: every evaluation reads them).
    #[returns(ref)]
    pub measured: Arc<[crate::ir::Value]>,
}

/// An environment for evaluating within the workspace's budget.
fn eval_env<'a>(db: &dyn salsa::Database, ws: Workspace, program: &'a Program, facts: &'a dyn Facts) -> Env<'a> {
    Env::new(program, facts, ws.as_of(db))
        .with_budget(ws.budget(db), ws.spent(db).clone())
        .with_evaluator(ws.evaluator(db))
        .with_measured(ws.measured(db).clone())
}

/// A rule, by name: the key of per-rule queries.
#[salsa::interned(debug)]
pub struct RuleName<'db> {
    #[returns(ref)]
    pub text: String,
}

/// The text of one declaration, as [`syntax::declaration_ranges`] cuts a
/// file: the key of [`parse_declaration`].
#[salsa::interned(debug)]
pub struct DeclarationText<'db> {
    #[returns(ref)]
    pub text: String,
}

/// Parses one declaration on its own (spans relative to its start): an
/// edit re-parses only the declarations whose text it changed.
#[salsa::tracked(returns(clone))]
pub fn parse_declaration<'db>(db: &'db dyn salsa::Database, declaration: DeclarationText<'db>) -> Arc<syntax::Parse> {
    Arc::new(syntax::parse(declaration.text(db)))
}

/// Parses one file: its declarations, each moved to where it starts.
#[salsa::tracked(returns(ref))]
pub fn parse_file(db: &dyn salsa::Database, file: SourceFile) -> syntax::Parse {
    let text = file.text(db);
    let mut parse = syntax::Parse::default();
    for &(start, end) in declaration_ranges(db, file) {
        let declaration = DeclarationText::new(db, text[start..end].to_string());
        let mut piece = (*parse_declaration(db, declaration)).clone().placed_at(start as u32);
        parse.file.items.append(&mut piece.file.items);
        parse.errors.append(&mut piece.errors);
    }
    parse
}

/// One declaration as checking reads it: its items (spans relative to the
/// declaration) and its text up to the end of its last item. Blank lines
/// and comments after it, and where it starts, are not part of it, so a
/// declaration that only moved compares equal.
#[derive(Clone, Debug)]
pub struct Declaration {
    /// Its parse, of its own text: shared with [`parse_declaration`], so
    /// that re-reading an unchanged declaration copies nothing and
    /// compares by pointer.
    pub parse: Arc<syntax::Parse>,
    /// Its text, from its start to the end of its last item.
    pub text: String,
}

impl Declaration {
    /// Its items.
    pub fn items(&self) -> &[ast::Item] {
        &self.parse.file.items
    }
}

impl PartialEq for Declaration {
    fn eq(&self, other: &Declaration) -> bool {
        self.text == other.text && (Arc::ptr_eq(&self.parse, &other.parse) || self.parse.file == other.parse.file)
    }
}

/// Where each declaration of a file starts and ends, in bytes (as
/// [`syntax::declaration_ranges`] cuts it): cut once per text, since every
/// per-declaration query reads it (cutting the file again for each
/// declaration made an edit quadratic in the file's size).
#[salsa::tracked(returns(ref))]
pub fn declaration_ranges(db: &dyn salsa::Database, file: SourceFile) -> Vec<(usize, usize)> {
    syntax::declaration_ranges(file.text(db))
}

/// How many declarations a file has.
#[salsa::tracked(returns(copy))]
pub fn declaration_count(db: &dyn salsa::Database, file: SourceFile) -> u32 {
    declaration_ranges(db, file).len() as u32
}

/// The `index`th declaration of a file.
#[salsa::tracked(returns(clone))]
pub fn declaration(db: &dyn salsa::Database, file: SourceFile, index: u32) -> Option<Arc<Declaration>> {
    let text = file.text(db);
    let (start, end) = *declaration_ranges(db, file).get(index as usize)?;
    let parse = parse_declaration(db, DeclarationText::new(db, text[start..end].to_string()));
    let last = parse.file.items.iter().map(|i| i.absolute(i.span).end as usize).max().unwrap_or(0);
    let text = text[start..end].get(..last).unwrap_or("").to_string();
    Some(Arc::new(Declaration { parse, text }))
}

/// Whether a declaration is checked on its own (a control or audit rule),
/// not as part of the [`signatures`].
fn is_rule(item: &ast::Item) -> bool {
    matches!(item.kind, ast::ItemKind::Control(_) | ast::ItemKind::Audit(_))
}

/// What of the `index`th declaration of a file goes into the signatures:
/// its items other than rules (a range usually holds one item, but lines
/// indented under a declaration stay in its range). Editing a rule leaves
/// this equal.
#[salsa::tracked(returns(clone))]
pub fn signature_declaration(db: &dyn salsa::Database, file: SourceFile, index: u32) -> Option<Arc<Declaration>> {
    let declaration = declaration(db, file, index)?;
    if !declaration.items().iter().any(is_rule) {
        return Some(declaration);
    }
    let items: Vec<ast::Item> = declaration.items().iter().filter(|i| !is_rule(i)).cloned().collect();
    (!items.is_empty()).then(|| {
        let parse = syntax::Parse { file: ast::SourceFile { items }, ..Default::default() };
        Arc::new(Declaration { parse: Arc::new(parse), text: declaration.text.clone() })
    })
}

/// What rules are checked against: the types, requirements and functions
/// of the program, each declaration read on its own (so neither editing a
/// rule nor moving text re-runs this).
#[salsa::tracked(returns(clone))]
pub fn signatures(db: &dyn salsa::Database, ws: Workspace) -> Arc<sema::Signatures> {
    let declarations: Vec<(SourceFile, Arc<Declaration>)> = included_files(db, ws)
        .iter()
        .flat_map(|f| (0..declaration_count(db, *f)).filter_map(move |i| Some((*f, signature_declaration(db, *f, i)?))))
        .collect();
    let inputs: Vec<SourceInput> = declarations
        .iter()
        .map(|(f, d)| SourceInput {
            file: FileId(f.id(db)),
            text: &d.text,
            ast: &d.parse.file,
            offset: 0,
            stdlib: is_stdlib(db, ws, *f),
        })
        .collect();
    Arc::new(sema::Signatures::of(&inputs))
}

/// The rules of one declaration, each checked on its own against the
/// [`signatures`]: (the rule's name span, its checked body), spans relative
/// to the declaration. Editing one control re-runs this for that control.
#[salsa::tracked(returns(clone))]
pub fn check_rule(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
    index: u32,
) -> Arc<Vec<(ast::Span, sema::RuleBody)>> {
    let Some(declaration) = declaration(db, file, index) else { return Arc::default() };
    let signatures = signatures(db, ws);
    let id = FileId(file.id(db));
    let bodies = declaration
        .items()
        .iter()
        .filter_map(|item| match &item.kind {
            ast::ItemKind::Control(r) | ast::ItemKind::Audit(r) => Some((
                item.absolute(r.name.span),
                signatures.check_rule(crate::diag::Anchor::of(id, item), &declaration.text, r),
            )),
            _ => None,
        })
        .collect();
    Arc::new(bodies)
}

/// Where the `index`th declaration of a file starts, in bytes: equal
/// after an edit for every declaration before the edit, so that what
/// reads it is not re-run for them.
#[salsa::tracked(returns(copy))]
pub fn declaration_start(db: &dyn salsa::Database, file: SourceFile, index: u32) -> u32 {
    declaration_ranges(db, file).get(index as usize).map_or(0, |(start, _)| *start as u32)
}

/// The rules of one declaration as [`check_rule`] checked them, placed
/// where the declaration starts (spans ranges of the file). Re-run when
/// the rule changes or moves, so that assembling the program after an
/// edit shares the bodies of the rules it left in place.
#[salsa::tracked(returns(clone))]
pub fn placed_rules(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
    index: u32,
) -> Arc<Vec<(ast::Span, sema::RuleBody)>> {
    let start = declaration_start(db, file, index);
    let checked = check_rule(db, ws, file, index);
    Arc::new(checked.iter().map(|(name, body)| (name.at(start), body.clone().placed_at(start))).collect())
}

/// Checks the program: the workspace's files and the stdlib modules they
/// use. Rule bodies come from [`placed_rules`].
#[salsa::tracked(returns(ref))]
pub fn compiled(db: &dyn salsa::Database, ws: Workspace) -> Compiled {
    let mut diagnostics = reached_files(db, ws).1.clone();
    let included = included_files(db, ws);
    // Each declaration as it was parsed on its own, handed over with where
    // it is written: an edit copies no tree of the declarations it left
    // alone.
    let declarations: Vec<(SourceFile, u32, Arc<Declaration>)> = included
        .iter()
        .flat_map(|f| {
            let ranges = declaration_ranges(db, *f);
            (0..ranges.len() as u32)
                .filter_map(move |i| Some((*f, ranges[i as usize].0 as u32, declaration(db, *f, i)?)))
        })
        .collect();
    let inputs: Vec<SourceInput> = declarations
        .iter()
        .map(|(f, start, d)| SourceInput {
            file: FileId(f.id(db)),
            text: f.text(db),
            ast: &d.parse.file,
            offset: *start,
            stdlib: is_stdlib(db, ws, *f),
        })
        .collect();
    let mut bodies = |anchor: crate::diag::Anchor, rule: &ast::RuleDecl| {
        let file = *included.iter().find(|f| f.id(db) == anchor.file.0)?;
        // The declaration the rule is written in, and where it starts.
        let ranges = declaration_ranges(db, file);
        let index = ranges.partition_point(|(start, _)| *start as u32 <= anchor.offset).checked_sub(1)?;
        let name = anchor.span(rule.name.span).span;
        let placed = placed_rules(db, ws, file, index as u32);
        let (_, body) = placed.iter().find(|(at, _)| *at == name)?;
        Some(body.clone())
    };
    let checked = sema::check_with(&inputs, Some(&mut bodies));
    diagnostics.extend(checked.diagnostics);
    Compiled { program: checked.program, diagnostics, model: checked.model }
}

/// Checks the program with one policy file's text replaced (what the
/// editor asks when it repairs a declaration being typed); the result is
/// not kept.
pub fn checked_with_text(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, text: &str) -> sema::Checked {
    let included = included_files(db, ws);
    let replaced = syntax::parse(text);
    let inputs: Vec<SourceInput> = included
        .iter()
        .map(|f| SourceInput {
            file: FileId(f.id(db)),
            text: if *f == file { text } else { f.text(db) },
            ast: if *f == file { &replaced.file } else { &parse_file(db, *f).file },
            offset: 0,
            stdlib: is_stdlib(db, ws, *f),
        })
        .collect();
    sema::check(&inputs)
}

/// The source map of `file` with the declaration starting at byte `start`
/// replaced by `text` (parsed as `parse`): what the editor asks while a
/// declaration is being typed. When that declaration holds rules only,
/// each is checked on its own against the [`signatures`], as
/// [`check_rule`] does, so nothing else of the program is checked again;
/// `None` for any other declaration (then see [`checked_with_text`]).
pub fn rules_source_map(
    db: &dyn salsa::Database,
    ws: Workspace,
    file: SourceFile,
    start: u32,
    text: &str,
    parse: &syntax::Parse,
) -> Option<sema::SourceMap> {
    if parse.file.items.is_empty() || !parse.file.items.iter().all(is_rule) {
        return None;
    }
    let map = signatures(db, ws).rules_source_map(FileId(file.id(db)), text, &parse.file);
    Some(map.placed_at(start))
}

/// Whether a file is one of the stdlib's modules.
fn is_stdlib(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> bool {
    ws.stdlib(db).iter().any(|(_, module)| *module == file)
}

/// The files of the program, by id: the workspace's files and the stdlib
/// modules they use. A query of its own, so that what reads the list does
/// not re-run when a file's text changes and the list does not.
#[salsa::tracked(returns(ref))]
pub fn included_files(db: &dyn salsa::Database, ws: Workspace) -> Vec<SourceFile> {
    reached_files(db, ws).0.clone()
}

/// The workspace's files and the stdlib modules they use (sorted by id),
/// with the syntax errors and unknown modules found on the way. Tracked, so
/// that `compiled` and [`included_files`] walk the `use`s once per change.
#[salsa::tracked(returns(ref))]
fn reached_files(db: &dyn salsa::Database, ws: Workspace) -> (Vec<SourceFile>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut included: Vec<SourceFile> = ws.files(db).clone();
    let mut seen_modules: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < included.len() {
        let file = included[i];
        i += 1;
        let id = FileId(file.id(db));
        // Declaration by declaration, as parsed on their own: an edit
        // copies no tree to find the `use`s.
        let mut items = Vec::new();
        for (index, &(start, _)) in declaration_ranges(db, file).iter().enumerate() {
            let Some(declaration) = declaration(db, file, index as u32) else { continue };
            for error in &declaration.parse.errors {
                let error = syntax::SyntaxError { span: error.span.shifted(start as u32), ..error.clone() };
                diagnostics.push(Diagnostic::from_syntax(id, &error));
            }
            items.push((start as u32, declaration));
        }
        for (start, declaration) in &items {
            for item in declaration.items() {
                let ast::ItemKind::Use(u) = &item.kind else { continue };
                let modules: Vec<&(String, SourceFile)> =
                    ws.stdlib(db).iter().filter(|(name, _)| crate::stdlib::use_includes(&u.path, name)).collect();
                if modules.is_empty() {
                    let names = crate::stdlib::names();
                    let d = Diagnostic::error(Code::UnknownModule, format!("unknown module `{}`", u.path))
                        .at(crate::diag::Anchor { file: id, offset: start + item.offset }, u.span, "no such module")
                        .suggest_or(
                            &u.path,
                            names.iter().map(String::as_str),
                            Quote::Code,
                            format!("the modules are: {}", names.join(", ")),
                        );
                    diagnostics.push(d);
                }
                for (name, module) in modules {
                    if !seen_modules.contains(&name.as_str()) {
                        seen_modules.push(name);
                        included.push(*module);
                    }
                }
            }
        }
    }
    included.sort_by_key(|f| f.id(db));
    (included, diagnostics)
}

/// What evaluating an expression needs of the program (types, functions):
/// the [`signatures`]' program, read declaration by declaration with spans
/// relative to each, so unchanged by edits to rules or by moving text.
#[salsa::tracked(returns(clone))]
pub fn eval_program(db: &dyn salsa::Database, ws: Workspace) -> Arc<Program> {
    Arc::new(signatures(db, ws).program().clone())
}

/// Rule names to their ids in the program: one lookup per rule, not a
/// scan of every rule (which made evaluating every rule quadratic in their
/// number).
#[salsa::tracked(returns(clone))]
pub fn rule_ids(db: &dyn salsa::Database, ws: Workspace) -> Arc<HashMap<String, RuleId>> {
    let program = &compiled(db, ws).program;
    let mut ids = HashMap::with_capacity(program.rules.len());
    for (i, r) in program.rules.iter().enumerate() {
        ids.entry(r.decl.name.clone()).or_insert(RuleId(i as u32));
    }
    Arc::new(ids)
}

/// Where a rule of the program is written: the declaration that holds
/// it and its name's span relative to that declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSite {
    file: SourceFile,
    index: u32,
    name: ast::Span,
}

/// Each control and audit rule by name, with the declaration it is
/// written in: the first of that name in the program's files, as the
/// checker keeps the first. Read from the declarations as parsed, not from
/// the assembled program, so that evaluating the rules need not wait for
/// [`compiled`] (the editor runs both at once). Edits inside rules leave it
/// equal, so what reads it is not re-run.
#[salsa::tracked(returns(clone))]
pub fn rule_sites(db: &dyn salsa::Database, ws: Workspace) -> Arc<HashMap<String, RuleSite>> {
    let mut sites = HashMap::new();
    for_each_item(db, ws, |file, index, item| {
        if let ast::ItemKind::Control(r) | ast::ItemKind::Audit(r) = &item.kind {
            let site = RuleSite { file, index, name: item.absolute(r.name.span) };
            sites.entry(r.name.name.clone()).or_insert(site);
        }
    });
    Arc::new(sites)
}

/// Hands over every item of the program's files as parsed, in order, with
/// the file and the index of the declaration it is written in: for what is
/// read before (or without) checking the program.
pub fn for_each_item(db: &dyn salsa::Database, ws: Workspace, mut each: impl FnMut(SourceFile, u32, &ast::Item)) {
    for &file in included_files(db, ws) {
        for index in 0..declaration_count(db, file) {
            let Some(declaration) = declaration(db, file, index) else { continue };
            declaration.items().iter().for_each(|item| each(file, index, item));
        }
    }
}

/// What `read` makes of the rule at `site` as its declaration's
/// [`check_rule`] checked it.
fn with_rule_body<T>(
    db: &dyn salsa::Database,
    ws: Workspace,
    site: RuleSite,
    read: impl FnOnce(&sema::RuleBody) -> Option<T>,
) -> Option<T> {
    let checked = check_rule(db, ws, site.file, site.index);
    let (_, body) = checked.iter().find(|(at, _)| *at == site.name)?;
    read(body)
}

/// Whether a rule checks on its own, against signatures that check: only
/// then may it be evaluated before the whole program is known to check
/// (an error elsewhere may leave it expressions of an unknown type that
/// report nothing).
pub fn rule_checks(db: &dyn salsa::Database, ws: Workspace, rule: RuleName<'_>) -> bool {
    let Some(site) = rule_sites(db, ws).get(rule.text(db)).copied() else { return false };
    if signatures(db, ws).has_errors() {
        return false;
    }
    with_rule_body(db, ws, site, |body| Some(!body.diagnostics.iter().any(crate::diag::Diagnostic::is_error)))
        .unwrap_or(false)
}

/// One rule's logic without its spans: what its evaluation depends on.
/// Built from the rule's own check ([`check_rule`]) and header, never from
/// the assembled program, so that editing one rule re-runs this for that
/// rule alone.
///
/// Keyed by one interned [`WorkspaceRule`]: salsa interns the arguments of
/// a query with more than one at every call, under a lock, and every
/// chunk's outcomes ask for their rule's logic (15,640 times in a first
/// evaluation of 100,000 systems).
#[salsa::tracked(returns(clone))]
pub fn rule_logic<'db>(db: &'db dyn salsa::Database, of: WorkspaceRule<'db>) -> Option<Arc<RuleDef>> {
    let (ws, rule) = (*of.ws(db), *of.rule(db));
    let site = *rule_sites(db, ws).get(rule.text(db))?;
    let declaration = declaration(db, site.file, site.index)?;
    let (item, node) = declaration.items().iter().find_map(|item| match &item.kind {
        ast::ItemKind::Control(r) | ast::ItemKind::Audit(r) if item.absolute(r.name.span) == site.name => {
            Some((item, r))
        }
        _ => None,
    })?;
    let kind = if matches!(item.kind, ast::ItemKind::Audit(_)) { RuleKind::Audit } else { RuleKind::Control };
    let def = with_rule_body(db, ws, site, |body| {
        let checked = body.checked.clone()?;
        let decl =
            Decl { name: node.name.name.clone(), span: Default::default(), name_span: Default::default(), docs: None };
        Some(sema::rule_def(kind, decl, node, body.implements.clone(), body.clauses.clone(), checked))
    })?;
    Some(Arc::new(def.without_requirement_spans()))
}

/// A rule of a workspace, interned: the key of [`rule_logic`], and part of
/// each [`RuleChunk`].
#[salsa::interned(debug)]
pub struct WorkspaceRule<'db> {
    pub ws: Workspace,
    pub rule: RuleName<'db>,
}

/// [`rule_logic`] of a rule named in a workspace (interning the pair: not
/// for a loop over chunks).
pub fn rule_logic_in<'db>(db: &'db dyn salsa::Database, ws: Workspace, rule: RuleName<'db>) -> Option<Arc<RuleDef>> {
    rule_logic(db, WorkspaceRule::new(db, ws, rule))
}

/// The rows of one entity type in key order (as findings list them:
/// numerically for `Int` keys); rebuilt only when a key changes, since
/// each chunk's keys are an input of their own ([`Chunk::keys`]).
#[salsa::tracked(returns(clone))]
pub fn key_order(db: &dyn salsa::Database, table: Table, numeric: bool) -> Arc<eval::KeyOrder> {
    let ascending = |a: &str, b: &str| eval::cmp_keys(numeric, a, b) == std::cmp::Ordering::Less;
    // Facts usually come in key order: each chunk knows whether its keys
    // are, so only the keys where chunks meet are read, not every key.
    let chunks = table.chunks(db);
    let mut last: Option<&str> = None;
    let in_order = chunks.iter().all(|chunk| {
        let keys = chunk.keys(db);
        let (Some(first), Some(end)) = (keys.first(), keys.last()) else { return true };
        let meets = last.is_none_or(|last| ascending(last, first));
        last = Some(end);
        meets && chunk.keys_ascending(db).holds(numeric)
    });
    if in_order {
        return Arc::new(eval::KeyOrder::Rows);
    }
    // Borrowed, not cloned: a clone per key touches every key's allocation
    // once more (100,000 cache misses at that size).
    let keys: Vec<&str> = chunks.iter().flat_map(|c| c.keys(db).iter().map(|k| &**k)).collect();
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    order.sort_by(|a, b| eval::cmp_keys(numeric, keys[*a as usize], keys[*b as usize]));
    let unique = order.windows(2).all(|pair| keys[pair[0] as usize] != keys[pair[1] as usize]);
    Arc::new(if unique { eval::KeyOrder::Positions(Arc::from(order)) } else { eval::KeyOrder::Unknown })
}

/// Key → row for one entity type; rebuilt only when a key changes.
#[salsa::tracked(returns(clone))]
pub fn key_index(db: &dyn salsa::Database, table: Table) -> Arc<hashbrown::HashMap<Arc<str>, u32>> {
    let mut index = hashbrown::HashMap::with_capacity(table.len(db) as usize);
    // Facts without a key field are found by their identity (a hash of their values).
    for chunk in table.chunks(db) {
        let start = chunk.start(db);
        for (i, key) in chunk.keys(db).iter().enumerate() {
            index.entry(key.clone()).or_insert(start + i as u32);
        }
    }
    Arc::new(index)
}

/// Facts read through the database, so every read is a tracked dependency.
pub struct DbFacts<'db> {
    db: &'db dyn salsa::Database,
    tables: &'db [Table],
    /// The chunk being evaluated, already read: its rows need no lookup
    /// (and its typed columns are read on demand, [`chunk_columns`]).
    local: Option<(EntityId, u32, &'db [Row], Chunk)>,
    /// That chunk's keys, read (a dependency) at the first key asked for:
    /// a failure that shows a row of the chunk names it by the key the
    /// chunk holds, not by reading it from the fact's values again.
    local_keys: std::cell::OnceCell<&'db [Arc<str>]>,
    /// Chunks read so far, per entity: each is a dependency once, then a
    /// plain slice (an aggregate over 100,000 facts reads 782 inputs, not
    /// 300,000).
    seen: std::cell::RefCell<Vec<Vec<Option<&'db [Row]>>>>,
}

impl<'db> DbFacts<'db> {
    pub fn new(db: &'db dyn salsa::Database, ws: Workspace) -> DbFacts<'db> {
        DbFacts { db, tables: ws.tables(db), local: None, local_keys: Default::default(), seen: Default::default() }
    }

    /// A view that reads one chunk's rows directly (its dependency is
    /// recorded once, here).
    pub fn with_chunk(db: &'db dyn salsa::Database, ws: Workspace, chunk: Chunk) -> DbFacts<'db> {
        let local = Some((EntityId(chunk.entity(db)), chunk.start(db), &**chunk.rows(db), chunk));
        DbFacts { db, tables: ws.tables(db), local, local_keys: Default::default(), seen: Default::default() }
    }
}

impl Facts for DbFacts<'_> {
    fn key_of(&self, program: &Program, entity: EntityId, row: u32) -> Arc<str> {
        if let Some((e, start, rows, chunk)) = self.local {
            let at = row.wrapping_sub(start) as usize;
            if e == entity && row >= start && at < rows.len() {
                let keys = self.local_keys.get_or_init(|| &**chunk.keys(self.db));
                if let Some(key) = keys.get(at) {
                    return key.clone();
                }
            }
        }
        crate::facts::key_of_row(program, entity, self.row(entity, row), row)
    }
    fn check_cancelled(&self) {
        self.db.unwind_if_revision_cancelled();
    }
    fn len(&self, entity: EntityId) -> u32 {
        self.tables.get(entity.index()).map_or(0, |t| t.len(self.db))
    }
    fn row(&self, entity: EntityId, row: u32) -> Option<&Row> {
        if let Some((e, start, rows, _)) = self.local {
            if e == entity && row >= start {
                if let Some(r) = rows.get((row - start) as usize) {
                    return Some(r);
                }
            }
        }
        let (e, c) = (entity.index(), row as usize / CHUNK_ROWS);
        let cached = self.seen.borrow().get(e).and_then(|chunks| chunks.get(c).copied().flatten());
        let rows: &[Row] = match cached {
            Some(rows) => rows,
            None => {
                let table = self.tables.get(e)?;
                let rows: &'_ [Row] = table.chunks(self.db).get(c)?.rows(self.db);
                let mut seen = self.seen.borrow_mut();
                if seen.len() <= e {
                    seen.resize(e + 1, Vec::new());
                }
                if seen[e].len() <= c {
                    seen[e].resize(c + 1, None);
                }
                seen[e][c] = Some(rows);
                rows
            }
        };
        rows.get(row as usize % CHUNK_ROWS)
    }
    fn run(&self, entity: EntityId, start: u32, count: u32) -> Option<&[Row]> {
        match self.local {
            Some((e, first, rows, _)) if e == entity && start >= first => {
                let at = (start - first) as usize;
                rows.get(at..at + count as usize)
            }
            _ => None,
        }
    }
    fn columns(&self, entity: EntityId, start: u32, count: u32) -> Option<&Columns> {
        let (e, first, rows, chunk) = self.local?;
        let at = start.checked_sub(first)? as usize;
        // Exactly one of the chunk's blocks.
        let block_len = rows.len().saturating_sub(at).min(columns::MAX_ROWS);
        if e != entity || at % columns::MAX_ROWS != 0 || count as usize != block_len {
            return None;
        }
        chunk_columns(self.db, chunk).get(at / columns::MAX_ROWS)
    }
    fn find(&self, entity: EntityId, key: &str) -> Option<u32> {
        let table = self.tables.get(entity.index())?;
        key_index(self.db, *table).get(key).copied()
    }
}

/// One rule and one chunk of its subject's facts: the key of
/// [`chunk_outcomes`]. salsa interns the arguments of a query with more
/// than one, at every call; [`rule_chunks`] interns a rule's pairs once,
/// so that a first evaluation asking for 31,260 chunks' outcomes twice
/// (to compute them, then to collect them) interns nothing.
#[salsa::interned(debug)]
pub struct RuleChunk<'db> {
    pub rule: WorkspaceRule<'db>,
    pub chunk: Chunk,
}

/// A rule's pairs with each chunk of its subject's facts, in row order
/// (none for a rule without a subject). From the rule's own logic, not the
/// assembled program: the editor's summaries ask for them without waiting
/// for every other declaration to be checked.
#[salsa::tracked(returns(clone))]
pub fn rule_chunks<'db>(db: &'db dyn salsa::Database, ws: Workspace, rule: RuleName<'db>) -> Arc<[RuleChunk<'db>]> {
    let of = WorkspaceRule::new(db, ws, rule);
    let logic = rule_logic(db, of);
    let table = logic.as_ref().and_then(|l| l.subject.as_ref()).and_then(|s| ws.tables(db).get(s.entity.index()));
    match table {
        Some(table) => table.chunks(db).iter().map(|chunk| RuleChunk::new(db, of, *chunk)).collect(),
        None => Arc::from([]),
    }
}

/// The outcomes of `rule` over `chunk`, the pair interned here: for a
/// single chunk (a what-if, a risk), not for every chunk of a table.
pub fn outcomes_in<'db>(
    db: &'db dyn salsa::Database,
    ws: Workspace,
    rule: RuleName<'db>,
    chunk: Chunk,
) -> Arc<eval::OutcomeChunk> {
    chunk_outcomes(db, RuleChunk::new(db, WorkspaceRule::new(db, ws, rule), chunk))
}

/// One rule over one chunk of its subject's facts (exceptions not applied).
#[salsa::tracked(returns(clone))]
pub fn chunk_outcomes<'db>(db: &'db dyn salsa::Database, pair: RuleChunk<'db>) -> Arc<eval::OutcomeChunk> {
    let (of, chunk) = (*pair.rule(db), *pair.chunk(db));
    let ws = *of.ws(db);
    let Some(logic) = rule_logic(db, of) else { return Arc::new(eval::OutcomeChunk::default()) };
    let program = eval_program(db, ws);
    let facts = DbFacts::with_chunk(db, ws, chunk);
    let env = eval_env(db, ws, &program, &facts);
    let start = chunk.start(db);
    let keys = chunk.keys(db).clone();
    let count = chunk.rows(db).len() as u32;
    Arc::new(eval::outcomes_of_rows(&env, &logic, start, count, &keys))
}

/// A chunk's facts as typed columns, one [`Columns`] per block of
/// [`columns::MAX_ROWS`] facts (the compiled evaluation's block), made
/// once and read by every rule over the chunk, so that a rule comparing a
/// field reads an array rather than every fact's row.
#[salsa::tracked(returns(ref))]
pub fn chunk_columns(db: &dyn salsa::Database, chunk: Chunk) -> Vec<Columns> {
    chunk.rows(db).chunks(columns::MAX_ROWS).map(Columns::of_rows).collect()
}

/// One rule without a subject (organisation-level): its one outcome, as
/// the list its rule's outcomes are made of.
#[salsa::tracked(returns(clone))]
pub fn single_outcome<'db>(
    db: &'db dyn salsa::Database,
    ws: Workspace,
    rule: RuleName<'db>,
) -> Arc<eval::OutcomeChunk> {
    let key = eval::Key::single(Arc::from("-"));
    let Some(logic) = rule_logic_in(db, ws, rule) else {
        let kind = OutcomeKind::NotApplicable;
        return Arc::new(eval::OutcomeChunk::single(Outcome {
            row: None,
            key,
            kind,
            failures: Default::default(),
            waived_by: None,
        }));
    };
    let program = eval_program(db, ws);
    let facts = DbFacts::new(db, ws);
    let env = eval_env(db, ws, &program, &facts);
    Arc::new(eval::OutcomeChunk::single(eval::raw_outcome(&env, &logic, None, key)))
}

/// Every outcome of one rule, exceptions applied: the chunks' memoized
/// lists, shared; only a chunk holding a waived outcome is copied.
#[salsa::tracked(returns(clone))]
pub fn rule_outcomes<'db>(db: &'db dyn salsa::Database, ws: Workspace, rule: RuleName<'db>) -> eval::Outcomes {
    let program = &compiled(db, ws).program;
    let Some(&id) = rule_ids(db, ws).get(rule.text(db)) else { return eval::Outcomes::default() };
    let def = program.rule(id);
    let mut chunks: Vec<Arc<eval::OutcomeChunk>> = match &def.subject {
        None => vec![single_outcome(db, ws, rule)],
        Some(_) => rule_chunks(db, ws, rule).iter().map(|pair| chunk_outcomes(db, *pair)).collect(),
    };
    if program.exceptions.iter().any(|e| e.rule == id) {
        let as_of = ws.as_of(db);
        for chunk in &mut chunks {
            let waiver = |key: &str| eval::waiver(program, id, key, as_of);
            // Only a chunk with a failure to waive is copied.
            if chunk.failing().any(|o| waiver(&o.key).is_some()) {
                Arc::make_mut(chunk).waive_where(waiver);
            }
        }
    }
    eval::Outcomes::from_chunks(chunks)
}

/// Runs every per-chunk query ([`chunk_outcomes`], [`risk_chunk`],
/// [`aggregate_chunk`]) ahead of [`evaluation`], chunk by chunk and on
/// every core, so that the evaluation then only reads memos.
///
/// Chunk by chunk because a chunk's facts stay in the cache while every
/// rule about them runs: one rule at a time over 100,000 facts streamed the
/// whole inventory from memory once per rule, and those cache misses were
/// most of a first evaluation. Each thread works on its own database handle
/// and takes the next chunk from a shared counter. A cancelled handle (an
/// edit arrived, or an interrupt) just stops: the caller's own query
/// reports the cancellation.
pub fn prewarm(db: &Database, ws: Workspace) {
    let program = &compiled(db, ws).program;
    let work = chunk_work(program, ws.tables(db).len());
    // (entity, the chunk's place in its table, the chunk)
    let chunks: Vec<(usize, usize, Chunk)> = ws
        .tables(db)
        .iter()
        .enumerate()
        .filter(|(e, _)| !work[*e].is_empty())
        .flat_map(|(e, t)| t.chunks(db).iter().enumerate().map(move |(i, c)| (e, i, *c)))
        .collect();
    if chunks.is_empty() {
        return;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let run = |db: &Database| {
        let queries: Vec<Vec<ChunkQuery>> = work
            .iter()
            .map(|w| {
                w.iter()
                    .map(|(kind, name)| {
                        let name = RuleName::new(db, name.clone());
                        match kind {
                            Kind::Rule => ChunkQuery::Rule(rule_chunks(db, ws, name)),
                            Kind::Risk => ChunkQuery::Risk(name),
                            Kind::Aggregate => ChunkQuery::Aggregate(name),
                        }
                    })
                    .collect()
            })
            .collect();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(entity, at, chunk)) = chunks.get(i) else { break };
            ws.spent(db).interrupt().checkpoint();
            for query in &queries[entity] {
                match query {
                    ChunkQuery::Rule(pairs) => drop(pairs.get(at).map(|pair| chunk_outcomes(db, *pair))),
                    ChunkQuery::Risk(name) => drop(risk_chunk(db, ws, *name, chunk)),
                    ChunkQuery::Aggregate(name) => drop(aggregate_chunk(db, ws, *name, chunk)),
                }
            }
        }
    };
    let threads = eval::threads(ws.threads(db)).min(chunks.len().div_ceil(8)).max(1);
    on_threads(db, threads, run);
    // Then each rule's findings, a rule per thread at a time: made from
    // the outcomes just memoized, they were a fifth of a first evaluation
    // on one core.
    let rules: Vec<&str> = program.rules.iter().filter(|r| r.subject.is_some()).map(|r| r.decl.name.as_str()).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let make_findings = |db: &Database| loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(name) = rules.get(i) else { break };
        ws.spent(db).interrupt().checkpoint();
        drop(rule_findings(db, ws, RuleName::new(db, name.to_string())));
    };
    on_threads(db, threads.min(rules.len()).max(1), make_findings);
}

/// Per entity: the per-chunk queries over its facts, by kind and name
/// (its rules, its risks and its fact-aggregating objectives).
fn chunk_work(program: &crate::ir::Program, entities: usize) -> Vec<Vec<(Kind, String)>> {
    let mut work: Vec<Vec<(Kind, String)>> = vec![Vec::new(); entities];
    let mut add = |entity: EntityId, kind: Kind, name: &str| {
        if let Some(w) = work.get_mut(entity.index()) {
            w.push((kind, name.to_string()));
        }
    };
    for rule in &program.rules {
        if let Some(s) = &rule.subject {
            add(s.entity, Kind::Rule, &rule.decl.name);
        }
    }
    for risk in &program.risks {
        if let Some(s) = &risk.subject {
            add(s.entity, Kind::Risk, &risk.decl.name);
        }
    }
    for objective in &program.objectives {
        if let Ex::Aggregate { source: Source::Entities(e), .. } = &objective.measure {
            add(*e, Kind::Aggregate, &objective.decl.name);
        }
    }
    work
}

/// Runs every per-chunk query over one chunk of an entity's facts (the
/// `at`th) on every core: an edit of one fact invalidates that chunk's
/// query of each rule, risk and aggregate over the entity, and a
/// what-if's view of the edit then only reads memos. With one thread it
/// does nothing (the view computes them as it reads them).
pub fn prewarm_chunk(db: &Database, ws: Workspace, entity: EntityId, at: usize) {
    let program = &compiled(db, ws).program;
    let Some(chunk) = ws.tables(db).get(entity.index()).and_then(|t| t.chunks(db).get(at).copied()) else { return };
    let work = chunk_work(program, ws.tables(db).len()).swap_remove(entity.index());
    let threads = eval::threads(ws.threads(db)).min(work.len());
    if threads < 2 {
        return;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    on_threads(db, threads, |db| loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some((kind, name)) = work.get(i) else { break };
        ws.spent(db).interrupt().checkpoint();
        let name = RuleName::new(db, name.clone());
        match kind {
            Kind::Rule => drop(outcomes_in(db, ws, name, chunk)),
            Kind::Risk => drop(risk_chunk(db, ws, name, chunk)),
            Kind::Aggregate => drop(aggregate_chunk(db, ws, name, chunk)),
        }
    });
}

/// Runs `run` on `threads` threads, each with its own database handle (the
/// caller's thread with `db`); a cancelled handle just stops.
fn on_threads(db: &Database, threads: usize, run: impl Fn(&Database) + Sync) {
    let run = &run;
    std::thread::scope(|scope| {
        for _ in 1..threads {
            let handle = db.clone();
            scope.spawn(move || {
                let _ = salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| run(&handle)));
            });
        }
        run(db);
    });
}

/// What a prewarmed per-chunk query computes.
#[derive(Clone, Copy)]
enum Kind {
    Rule,
    Risk,
    Aggregate,
}

/// A prewarmed per-chunk query, ready to ask for any chunk: a rule's
/// (rule, chunk) pairs are interned once for all its chunks.
enum ChunkQuery<'db> {
    Rule(Arc<[RuleChunk<'db>]>),
    Risk(RuleName<'db>),
    Aggregate(RuleName<'db>),
}

/// The whole evaluation: outcomes, risks, objectives, exceptions, findings.
#[salsa::tracked(returns(clone))]
pub fn evaluation(db: &dyn salsa::Database, ws: Workspace) -> Arc<Evaluation> {
    let program = &compiled(db, ws).program;
    let rules: Vec<RuleResult> = program
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let name = RuleName::new(db, r.decl.name.clone());
            RuleResult { rule: RuleId(i as u32), outcomes: rule_outcomes(db, ws, name) }
        })
        .collect();
    let objectives: Vec<eval::ObjectiveResult> = program
        .objectives
        .iter()
        .filter_map(|o| objective_status(db, ws, RuleName::new(db, o.decl.name.clone())).map(|r| (*r).clone()))
        .collect();
    let groups: Vec<Arc<Vec<eval::Finding>>> =
        program.rules.iter().map(|r| rule_findings(db, ws, RuleName::new(db, r.decl.name.clone()))).collect();
    let facts = DbFacts::new(db, ws);
    let env = eval_env(db, ws, program, &facts).with_threads(ws.threads(db));
    // A risk over facts is its chunks' entries in order: the same queries
    // the what-if compares, so both read one computation.
    let risks: Vec<eval::RiskResult> = program
        .risks
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = RiskId(i as u32);
            match &r.subject {
                None => eval::risk_result(&env, id, &rules),
                Some(s) => {
                    let name = RuleName::new(db, r.decl.name.clone());
                    let chunks = ws.tables(db).get(s.entity.index()).map_or(&[][..], |t| t.chunks(db));
                    let mut entries = Vec::new();
                    for chunk in chunks {
                        entries.extend(risk_chunk(db, ws, name, *chunk).iter().cloned());
                    }
                    eval::RiskResult { risk: id, entries }
                }
            }
        })
        .collect();
    Arc::new(eval::derive_with(&env, rules, risks, objectives, eval::Made::Memoized(&groups)))
}

/// The findings of one rule's failing outcomes, in key order: remade only
/// when the rule's outcomes changed (an edit of one fact remakes those of
/// the rules whose outcome for it changed, not every rule's).
///
/// In key order because findings are listed so: each rule's are made in
/// the order of [`key_order`] (memoized per entity, kept across edits that
/// change no key) rather than sorted after every edit.
#[salsa::tracked(returns(clone))]
pub fn rule_findings<'db>(db: &'db dyn salsa::Database, ws: Workspace, rule: RuleName<'db>) -> Arc<Vec<eval::Finding>> {
    let program = &compiled(db, ws).program;
    let Some(&id) = rule_ids(db, ws).get(rule.text(db)) else { return Arc::new(Vec::new()) };
    let order = program.rule(id).subject.as_ref().and_then(|s| {
        let table = ws.tables(db).get(s.entity.index())?;
        Some(key_order(db, *table, eval::int_keyed(program, s.entity)))
    });
    let result = RuleResult { rule: id, outcomes: rule_outcomes(db, ws, rule) };
    let order = order.as_deref().unwrap_or(&eval::KeyOrder::Unknown);
    Arc::new(eval::rule_findings(program, &result, order))
}

/// One risk over one chunk of its subject's facts.
#[salsa::tracked(returns(clone))]
pub fn risk_chunk<'db>(
    db: &'db dyn salsa::Database,
    ws: Workspace,
    risk: RuleName<'db>,
    chunk: Chunk,
) -> Arc<Vec<eval::RiskEntry>> {
    let full = &compiled(db, ws).program;
    let Some(def) = full.risks.iter().find(|r| r.decl.name == *risk.text(db)) else { return Arc::new(Vec::new()) };
    let program = eval_program(db, ws);
    let facts = DbFacts::with_chunk(db, ws, chunk);
    let env = eval_env(db, ws, &program, &facts);
    let start = chunk.start(db);
    // Each treating rule's outcomes on this chunk, fetched at its first use
    // and then only indexed per row.
    let treating: Vec<std::cell::OnceCell<Arc<eval::OutcomeChunk>>> =
        (0..full.rules.len()).map(|_| std::cell::OnceCell::new()).collect();
    let passes = |rule: RuleId, row: Option<u32>| {
        let outcomes = || {
            treating[rule.index()].get_or_init(|| {
                let name = RuleName::new(db, full.rule(rule).decl.name.clone());
                match full.rule(rule).subject {
                    Some(_) => outcomes_in(db, ws, name, chunk),
                    None => single_outcome(db, ws, name),
                }
            })
        };
        match (full.rule(rule).subject.as_ref(), row) {
            (Some(_), Some(r)) if r >= start => {
                outcomes().get((r - start) as usize).is_some_and(|o| o.kind == OutcomeKind::Pass)
            }
            (None, _) => outcomes().get(0).is_some_and(|o| o.kind == OutcomeKind::Pass),
            _ => false,
        }
    };
    let count = chunk.rows(db).len() as u32;
    Arc::new((start..start + count).filter_map(|r| eval::risk_entry(&env, def, Some(r), &passes)).collect())
}

/// The objective of that name, if its measure aggregates over facts.
fn aggregate_measure<'p>(program: &'p Program, name: &str) -> Option<&'p ObjectiveDef> {
    program
        .objectives
        .iter()
        .find(|o| o.decl.name == name)
        .filter(|o| matches!(o.measure, Ex::Aggregate { source: Source::Entities(_), .. }))
}

/// One chunk's share of an objective whose measure aggregates over facts
/// (`avg(x.v for x: E where ..)`): combined in order, the chunks give the
/// measure, and an edit recomputes only its own chunk's share.
#[salsa::tracked(returns(clone))]
pub fn aggregate_chunk<'db>(
    db: &'db dyn salsa::Database,
    ws: Workspace,
    objective: RuleName<'db>,
    chunk: Chunk,
) -> Arc<eval::Partial> {
    let full = &compiled(db, ws).program;
    let mut partial = eval::Partial::default();
    let Some(def) = aggregate_measure(full, objective.text(db)) else { return Arc::new(partial) };
    let Ex::Aggregate { func, slot, filter, value, .. } = &def.measure else { return Arc::new(partial) };
    let program = eval_program(db, ws);
    let facts = DbFacts::with_chunk(db, ws, chunk);
    let env = eval_env(db, ws, &program, &facts);
    let mut frame = vec![Value::Absent; def.slots.max(1) as usize];
    let (entity, start) = (EntityId(chunk.entity(db)), chunk.start(db));
    for r in start..start + chunk.rows(db).len() as u32 {
        if !env.accumulate(&mut partial, *func, *slot, filter.as_deref(), value, &mut frame, Value::Row(entity, r)) {
            break;
        }
    }
    Arc::new(partial)
}

/// The partial aggregate of one block of chunks.
#[salsa::tracked(returns(clone))]
pub fn aggregate_block<'db>(
    db: &'db dyn salsa::Database,
    ws: Workspace,
    objective: RuleName<'db>,
    table: Table,
    block: u32,
) -> Arc<eval::Partial> {
    let full = &compiled(db, ws).program;
    let mut total = eval::Partial::default();
    let Some(Ex::Aggregate { func, .. }) = aggregate_measure(full, objective.text(db)).map(|d| &d.measure) else {
        return Arc::new(total);
    };
    let program = eval_program(db, ws);
    let facts = DbFacts::new(db, ws);
    let env = eval_env(db, ws, &program, &facts);
    let start = block as usize * CHUNKS_PER_BLOCK;
    for chunk in table.chunks(db).iter().skip(start).take(CHUNKS_PER_BLOCK) {
        env.combine(&mut total, &aggregate_chunk(db, ws, objective, *chunk), *func);
    }
    Arc::new(total)
}

/// Where one objective stands.
#[salsa::tracked(returns(clone))]
pub fn objective_status<'db>(
    db: &'db dyn salsa::Database,
    ws: Workspace,
    objective: RuleName<'db>,
) -> Option<Arc<eval::ObjectiveResult>> {
    let full = &compiled(db, ws).program;
    let index = full.objectives.iter().position(|o| o.decl.name == *objective.text(db))?;
    let facts = DbFacts::new(db, ws);
    let env = eval_env(db, ws, full, &facts);
    let id = ObjectiveId(index as u32);
    match &full.objectives[index].measure {
        Ex::Aggregate { func, source: Source::Entities(e), .. } => {
            let mut total = eval::Partial::default();
            if let Some(table) = ws.tables(db).get(e.index()) {
                let blocks = table.chunks(db).len().div_ceil(CHUNKS_PER_BLOCK);
                for block in 0..blocks {
                    env.combine(&mut total, &aggregate_block(db, ws, objective, *table, block as u32), *func);
                }
            }
            Some(Arc::new(eval::objective_result_with(&env, id, total.finish(*func))))
        }
        _ => Some(Arc::new(eval::objective_result(&env, id))),
    }
}

#[cfg(test)]
mod per_declaration_tests;

#[cfg(test)]
mod key_order_tests;
