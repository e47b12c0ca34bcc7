//! Facts: the organisation's records, loaded from JSON, YAML, TOML and CSV
//! files (or written as `fact` declarations) and validated against the
//! program's entity schemas.
//!
//! Loading is all or nothing: every problem in every file is reported, and
//! a [`FactStore`] is returned only when there is none, so a policy is never
//! evaluated on half-loaded facts. A valid JSON or YAML file is typed
//! straight from the parser (`stream`); a file with a problem, and every
//! TOML file, goes through a generic document tree (`convert`), where each
//! problem carries the path of the bad value; the path is turned into a
//! line and column only when an error is reported (see [`locate`]).

mod convert;
mod locate;
mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{closest, Code, Diagnostic, FileId, FileSpan, Sources};
use crate::ir::{EntityId, Program, Ty, Value};
use crate::syntax::ast::Span;

pub use convert::Seg;

/// The formats a fact file may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
    Csv,
}

impl Format {
    /// The format of a file, by its extension.
    pub fn from_path(path: &str) -> Option<Format> {
        let ext = path.rsplit('.').next()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => Format::Json,
            "yaml" | "yml" => Format::Yaml,
            "toml" => Format::Toml,
            "csv" => Format::Csv,
            _ => return None,
        })
    }
}

/// How a fact file maps to entities.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    /// Every record in the file is this entity; without it, the document
    /// maps entity names to arrays of records.
    pub entity: Option<String>,
    /// Dotted path to the array of records inside the document.
    pub select: Option<String>,
    /// Entity field name → name used in the file.
    pub rename: BTreeMap<String, String>,
    /// Fields of the file to ignore.
    pub ignore: Vec<String>,
}

/// One fact file to load: its text is in [`Sources`] under `file`.
#[derive(Clone, Debug)]
pub struct FactInput {
    pub file: FileId,
    pub format: Format,
    pub mapping: Mapping,
}

/// Where a fact came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// Record `index` of the array at path `array` of a fact file (the
    /// path is shared by every record of the array).
    File { file: FileId, format: Format, array: Arc<[Seg]>, index: u32 },
    /// A CSV row: exact span of the row.
    Row { file: FileId, span: Span },
    /// A `fact` declaration.
    Policy(FileSpan),
}

/// One entity: its field values in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub values: Arc<[Value]>,
    pub origin: Origin,
}

/// All facts of one entity type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub rows: Vec<Row>,
    /// Key → the first row with it (foldhash: SipHash was a tenth of loading).
    by_key: hashbrown::HashMap<Arc<str>, u32>,
    /// Rows whose key an earlier row already has: (earlier, later).
    duplicates: Vec<(u32, u32)>,
}

impl Table {
    /// The row with a key.
    pub fn find(&self, key: &str) -> Option<u32> {
        self.by_key.get(key).copied()
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Every fact, one table per entity of the program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FactStore {
    pub tables: Vec<Table>,
}

impl FactStore {
    /// An empty store for a program.
    pub fn empty(program: &Program) -> FactStore {
        FactStore { tables: vec![Table::default(); program.entities.len()] }
    }

    pub fn table(&self, entity: EntityId) -> &Table {
        &self.tables[entity.index()]
    }

    /// Adds a row (no validation: the caller validated it).
    pub fn push(&mut self, program: &Program, entity: EntityId, row: Row) {
        let table = &mut self.tables[entity.index()];
        let index = table.rows.len() as u32;
        let key = key_text(program.entity(entity).key, &row.values, index);
        table.rows.push(row);
        match table.by_key.entry(key) {
            hashbrown::hash_map::Entry::Occupied(first) => table.duplicates.push((*first.get(), index)),
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
            }
        }
    }

    /// The tables, for the incremental database to take over.
    pub fn into_tables(self) -> Vec<Table> {
        self.tables
    }
}

/// A row's key as text ("#3" for an entity without a key field).
pub fn key_text(key_field: Option<u32>, values: &[Value], row: u32) -> Arc<str> {
    match key_field.and_then(|k| values.get(k as usize)) {
        Some(Value::Text(t)) => t.clone(),
        Some(Value::Int(n)) => Arc::from(n.to_string()),
        _ => Arc::from(format!("#{}", row + 1)),
    }
}

/// Read access to facts: what evaluation needs, whoever stores them
/// (a plain [`FactStore`], or the incremental database).
pub trait Facts {
    /// The number of facts of an entity.
    fn len(&self, entity: EntityId) -> u32;
    /// The field values of one fact.
    fn values(&self, entity: EntityId, row: u32) -> Option<&[Value]>;
    /// The row of the fact with a key.
    fn find(&self, entity: EntityId, key: &str) -> Option<u32>;
    /// The key of a row, as text ("#3" for an entity without a key field).
    fn key_of(&self, program: &Program, entity: EntityId, row: u32) -> Arc<str> {
        key_text(program.entity(entity).key, self.values(entity, row).unwrap_or_default(), row)
    }
    /// Stops the evaluation (by unwinding, as salsa does) if what it reads
    /// has changed since it began: evaluation calls it now and then, so a
    /// long evaluation of a stale document gives way to the new one.
    fn check_cancelled(&self) {}
}

impl Facts for FactStore {
    fn len(&self, entity: EntityId) -> u32 {
        self.tables[entity.index()].rows.len() as u32
    }
    fn values(&self, entity: EntityId, row: u32) -> Option<&[Value]> {
        self.tables[entity.index()].rows.get(row as usize).map(|r| &*r.values)
    }
    fn find(&self, entity: EntityId, key: &str) -> Option<u32> {
        self.tables[entity.index()].find(key)
    }
}

/// Most problems reported for one file before the rest are summarised.
const MAX_PROBLEMS_PER_FILE: usize = 50;

/// Loads every fact file and the program's `fact` declarations.
pub fn load(program: &Program, sources: &Sources, inputs: &[FactInput]) -> Result<FactStore, Vec<Diagnostic>> {
    let mut store = FactStore::empty(program);
    let mut diags = Vec::new();
    for fact in &program.facts {
        store.push(program, fact.entity, Row { values: fact.values.clone().into(), origin: Origin::Policy(fact.span) });
    }
    for input in inputs {
        let text = sources.text(input.file);
        let mut file_diags = Vec::new();
        let rows = match input.format {
            Format::Csv => convert::csv_rows(program, input, text, &mut file_diags),
            _ => match stream::document_rows(program, input, text) {
                Some(rows) => rows,
                None => convert::document_rows(program, input, text, &mut file_diags),
            },
        };
        if file_diags.len() > MAX_PROBLEMS_PER_FILE {
            let more = file_diags.len() - MAX_PROBLEMS_PER_FILE;
            file_diags.truncate(MAX_PROBLEMS_PER_FILE);
            file_diags.push(Diagnostic::error(
                Code::FactType,
                format!("{more} more problems in `{}` not shown", sources.name(input.file)),
            ));
        }
        diags.extend(file_diags);
        for (entity, row) in rows {
            store.push(program, entity, row);
        }
    }
    if diags.is_empty() {
        check_keys(program, sources, &store, &mut diags);
        check_references(program, sources, &store, &mut diags);
        check_exceptions(program, &store, &mut diags);
    }
    if diags.is_empty() {
        Ok(store)
    } else {
        Err(diags)
    }
}

/// Whether the fast path of a JSON or YAML fact file agrees with the slow
/// one: when it answers, the slow path finds no problem and the same rows.
/// For the fuzzer and tests; loading uses the fast path when it answers.
#[doc(hidden)]
pub fn loaders_agree(program: &Program, input: &FactInput, text: &str) -> bool {
    let Some(fast) = stream::document_rows(program, input, text) else { return true };
    let mut diags = Vec::new();
    let slow = convert::document_rows(program, input, text, &mut diags);
    diags.is_empty() && fast == slow
}

/// Where in its file a row's field is, best effort.
pub fn locate_field(program: &Program, sources: &Sources, entity: EntityId, row: &Row, field: Option<u32>) -> FileSpan {
    match &row.origin {
        Origin::Policy(span) => *span,
        Origin::Row { file, span } => FileSpan { file: *file, span: *span },
        Origin::File { file, format, array, index } => {
            let mut path: Vec<Seg> = array.to_vec();
            path.push(Seg::Index(*index as usize));
            let mut full = path.clone();
            if let Some(f) = field {
                full.push(Seg::Key(program.entity(entity).fields[f as usize].name.clone()));
            }
            let text = sources.text(*file);
            let span = locate::locate(*format, text, &full)
                .or_else(|| locate::locate(*format, text, &path))
                .unwrap_or_default();
            FileSpan { file: *file, span }
        }
    }
}

fn check_keys(program: &Program, sources: &Sources, store: &FactStore, diags: &mut Vec<Diagnostic>) {
    for (e, table) in store.tables.iter().enumerate() {
        let entity = EntityId(e as u32);
        let def = program.entity(entity);
        let Some(key_field) = def.key else { continue };
        for &(prev, i) in &table.duplicates {
            let key = store.key_of(program, entity, i);
            let here = locate_field(program, sources, entity, &table.rows[i as usize], Some(key_field));
            let there = locate_field(program, sources, entity, &table.rows[prev as usize], Some(key_field));
            diags.push(
                Diagnostic::error(
                    Code::FactDuplicateKey,
                    format!("two `{}` facts have the key \"{key}\"", def.decl.name),
                )
                .at(here.file, here.span, "second fact with this key")
                .also(there.file, there.span, "first fact with this key")
                .help("keys identify facts: make them unique or merge the two records"),
            );
        }
    }
}

fn check_references(program: &Program, sources: &Sources, store: &FactStore, diags: &mut Vec<Diagnostic>) {
    for (e, table) in store.tables.iter().enumerate() {
        let entity = EntityId(e as u32);
        if !program.entity(entity).fields.iter().any(|f| holds_references(program, &f.ty, 0)) {
            continue;
        }
        for row in &table.rows {
            for (f, value) in row.values.iter().enumerate() {
                let mut missing = Vec::new();
                dangling(store, value, &mut missing);
                for (target, key) in missing {
                    let at = locate_field(program, sources, entity, row, Some(f as u32));
                    let target_def = program.entity(target);
                    let keys: Vec<Arc<str>> =
                        (0..store.table(target).len() as u32).map(|r| store.key_of(program, target, r)).collect();
                    let mut d = Diagnostic::error(
                        Code::FactMissingRef,
                        format!("no `{}` has the key \"{key}\"", target_def.decl.name),
                    )
                    .at(
                        at.file,
                        at.span,
                        format!(
                            "`{}` refers to a missing `{}`",
                            program.entity(entity).fields[f].name,
                            target_def.decl.name
                        ),
                    );
                    d = match closest(&key, keys.iter().map(|k| &**k)) {
                        Some(s) => d.help(format!("did you mean \"{s}\"?")),
                        None => d.help(format!("add the `{}` to the facts, or correct the key", target_def.decl.name)),
                    };
                    diags.push(d);
                }
            }
        }
    }
}

/// Whether values of a type can hold an entity reference (records nest at
/// most a few levels; the depth bound only guards against a cycle).
fn holds_references(program: &Program, ty: &Ty, depth: u32) -> bool {
    match ty {
        Ty::Entity(_) => true,
        Ty::Opt(inner) | Ty::List(inner) => holds_references(program, inner, depth),
        Ty::Record(id) => {
            depth > 16 || program.records[id.index()].fields.iter().any(|f| holds_references(program, &f.ty, depth + 1))
        }
        _ => false,
    }
}

fn dangling(store: &FactStore, value: &Value, out: &mut Vec<(EntityId, Arc<str>)>) {
    match value {
        Value::Ref(target, key) if store.table(*target).find(key).is_none() => out.push((*target, key.clone())),
        Value::List(items) | Value::Record(items) => items.iter().for_each(|v| dangling(store, v, out)),
        _ => {}
    }
}

fn check_exceptions(program: &Program, store: &FactStore, diags: &mut Vec<Diagnostic>) {
    for exception in &program.exceptions {
        let Some((entity, key, span)) = &exception.target else { continue };
        if store.table(*entity).find(key).is_none() {
            let name = &program.entity(*entity).decl.name;
            let keys: Vec<Arc<str>> =
                (0..store.table(*entity).len() as u32).map(|r| store.key_of(program, *entity, r)).collect();
            let mut d = Diagnostic::error(
                Code::ExceptionUnknownEntity,
                format!("exception `{}` waives a `{name}` that is not in the facts", exception.decl.name),
            )
            .at(span.file, span.span, format!("no `{name}` \"{key}\""));
            if let Some(s) = closest(key, keys.iter().map(|k| &**k)) {
                d = d.help(format!("did you mean \"{s}\"?"));
            }
            diags.push(d);
        }
    }
}
