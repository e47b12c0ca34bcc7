//! Facts: the organisation's records, loaded from JSON, YAML, TOML and CSV
//! files, spreadsheets and databases (or written as `fact` declarations)
//! and validated against the program's entity schemas.
//!
//! Loading is all or nothing: every problem in every file is reported, and
//! a [`FactStore`] is returned only when there is none, so a policy is never
//! evaluated on half-loaded facts. The checks across records (duplicate
//! keys, references, exceptions) run even when a file has problems, on the
//! records that loaded, knowing the keys of those that did not (`Partial`).
//! A valid JSON or YAML file is typed straight from the parser (`stream`);
//! a file with a problem, and every TOML file, goes through a generic
//! document tree (`tree`, `convert`), where each problem carries the path of
//! the bad value; the path is turned into a line and column only for the
//! problems shown (see `locate`).
//!
//! Memory is bounded as the files are read: the records are counted against
//! the `max_entities` budget while parsing, so a file with too many stops
//! there, not after its whole tree is built.

mod ascending;
pub mod columns;
mod convert;
mod csv_span;
pub mod encoding;
pub mod grid;
pub mod identity;
mod locate;
pub mod normalise;
pub mod quality;
mod record_spans;
pub mod sheet;
mod sheet_bounds;
pub mod sql;
mod stream;
mod table;
mod tree;
pub mod unmatched;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{Code, Diagnostic, FileId, FileSpan, Quote, Sources};
use crate::ir::{EntityId, Program, Ty, Value};
use crate::syntax::ast::Span;

pub use ascending::Ascending;
pub use convert::Seg;

/// The formats a fact file may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON (`.json`).
    Json,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
    /// TOML (`.toml`).
    Toml,
    /// CSV with a header row (`.csv`).
    Csv,
    /// A sheet of a spreadsheet (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`),
    /// held as its table view (see [`grid`]).
    Spreadsheet,
    /// A table or query of a SQLite database (`.sqlite`, `.sqlite3`), held
    /// as its table view.
    Sqlite,
    /// A table or query of a PostgreSQL database, held as its table view.
    Postgres,
}

impl Format {
    /// Whether its records are rows under a header (CSV, a sheet, a
    /// database's result): what composite keys and the data-quality mode
    /// read.
    pub fn is_table(self) -> bool {
        matches!(self, Format::Csv | Format::Spreadsheet | Format::Sqlite | Format::Postgres)
    }

    /// Whether it is read by a reader of its own into a table view (see
    /// [`grid`]), not as the text of the file.
    pub fn is_table_view(self) -> bool {
        matches!(self, Format::Spreadsheet | Format::Sqlite | Format::Postgres)
    }

    /// The format of a file, by its extension.
    pub fn from_path(path: &str) -> Option<Format> {
        let ext = path.rsplit('.').next()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => Format::Json,
            "yaml" | "yml" => Format::Yaml,
            "toml" => Format::Toml,
            "csv" => Format::Csv,
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Format::Spreadsheet,
            "sqlite" | "sqlite3" => Format::Sqlite,
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
    /// Ignore every column (or key of a record) that names no field of the
    /// entity, instead of refusing it.
    pub ignore_other_columns: bool,
    /// How the values of the source are read (CSV cells; texts of
    /// documents once an option is set).
    pub values: normalise::ValueOptions,
    /// How the values of one column are read, by entity field name: over
    /// the source's options.
    pub columns: BTreeMap<String, normalise::ValueOptions>,
    /// The fields whose values, joined, make the entity's key field (a
    /// composite key, see [`identity::composite`]); empty: the key field
    /// is a column of its own.
    pub key: Vec<String>,
    /// What to do with a cell that cannot be read (see [`quality`]).
    pub bad_values: quality::BadValues,
    /// How findings name a fact of this source besides its key: a field's
    /// name or a template of fields (`"{name} ({agency})"`).
    pub label: Option<String>,
}

impl Mapping {
    /// Whether values are read through options (`values` or `columns`):
    /// then the texts of a document go through them too.
    pub fn normalises(&self) -> bool {
        !self.values.is_empty() || self.columns.values().any(|c| !c.is_empty())
    }
}

/// One fact file to load: its text is in [`Sources`] under `file`.
#[derive(Clone, Debug)]
pub struct FactInput {
    /// The file's text, in the [`Sources`] the facts are loaded with.
    pub file: FileId,
    /// How the text is written.
    pub format: Format,
    /// Which entities its records are, and how their fields are named.
    pub mapping: Mapping,
}

/// Where a fact came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// Record `index` of the array at path `array` of a fact file (the
    /// path is shared by every record of the array).
    File {
        /// The fact file.
        file: FileId,
        /// How the file is written.
        format: Format,
        /// The path from the document's root to the array of records.
        array: Arc<[Seg]>,
        /// The record's position in that array.
        index: u32,
    },
    /// A CSV row: exact span of the row.
    Row {
        /// The CSV file.
        file: FileId,
        /// The bytes of the row in the file.
        span: Span,
    },
    /// A `fact` declaration.
    Policy(FileSpan),
}

/// One entity: its field values in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The field values, in the entity's field order.
    pub values: Arc<[Value]>,
    /// Where the fact was written, for diagnostics.
    pub origin: Origin,
    /// The identity of a fact of an entity without a key field (a hash of
    /// its values, see [`identity`]), given when it is stored; `None` for
    /// an entity with a key field, whose key names it.
    pub id: Option<Arc<str>>,
    /// How findings name the fact besides its key (`label` of its
    /// `[[facts]]` source, see [`identity::Label`]).
    pub label: Option<Arc<str>>,
}

impl Row {
    /// A row of values from `origin`, its identity not given yet.
    pub fn new(values: Arc<[Value]>, origin: Origin) -> Row {
        Row { values, origin, id: None, label: None }
    }
}

/// All facts of one entity type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The facts in load order (a row number indexes it).
    pub rows: Vec<Row>,
    /// Key → the first row with it (foldhash: SipHash was a tenth of loading).
    by_key: hashbrown::HashMap<Arc<str>, u32>,
    /// Rows whose key an earlier row already has: (earlier, later).
    duplicates: Vec<(u32, u32)>,
    /// Each row's key ([`key_text`]), by row: the keys the database's
    /// chunks are made with, kept rather than read from every row again
    /// (two cache misses a row at 100,000 facts).
    keys: Vec<Arc<str>>,
    /// Whether `keys` are in key order, each compared with the one before
    /// as it was pushed.
    ascending: Ascending,
}

/// Each row's key, by row, and whether they are in key order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowKeys {
    /// The keys ([`key_text`]).
    pub keys: Vec<Arc<str>>,
    /// Their order, each compared with the one before as it was stored.
    pub order: Ascending,
}

impl Table {
    /// The row with a key.
    pub fn find(&self, key: &str) -> Option<u32> {
        self.by_key.get(key).copied()
    }
    /// The rows, and each row's key ([`key_text`]) and their order when
    /// the table knows them all (rows added to [`Table::rows`] directly
    /// have none).
    pub fn into_rows_and_keys(self) -> (Vec<Row>, Option<RowKeys>) {
        let keys = (self.keys.len() == self.rows.len()).then_some(RowKeys { keys: self.keys, order: self.ascending });
        (self.rows, keys)
    }
    /// How many facts the table holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// Whether the table holds no fact.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Every fact, one table per entity of the program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FactStore {
    /// One table per entity type, in the program's entity order.
    pub tables: Vec<Table>,
    /// Warnings found while loading (facts without a key field that are
    /// identical, W0030; cells read as unknown, W0031).
    pub warnings: Vec<Diagnostic>,
    /// The cells that could not be read, in sources read with
    /// `bad_values = "unknown"` (see [`quality`]).
    pub quality: quality::DataQuality,
    /// For facts without a key field: the last number given to the
    /// identical facts of each (entity, hash), so that numbering many
    /// identical facts stays linear.
    numbered: hashbrown::HashMap<(u32, String), u32>,
}

impl FactStore {
    /// An empty store for a program.
    pub fn empty(program: &Program) -> FactStore {
        FactStore { tables: vec![Table::default(); program.entities.len()], ..FactStore::default() }
    }

    /// The facts of an entity type.
    pub fn table(&self, entity: EntityId) -> &Table {
        &self.tables[entity.index()]
    }

    /// Makes room for `additional` more rows of an entity.
    pub fn reserve(&mut self, entity: EntityId, additional: usize) {
        if let Some(table) = self.tables.get_mut(entity.index()) {
            table.rows.reserve(additional);
            table.keys.reserve(additional);
            table.by_key.reserve(additional);
        }
    }

    /// Adds a row (no validation: the caller validated it).
    pub fn push(&mut self, program: &Program, entity: EntityId, row: Row) {
        self.push_keyed(program, entity, row, None);
    }

    /// [`FactStore::push`], with the row's [`field_key`] when the caller
    /// read it already.
    fn push_keyed(&mut self, program: &Program, entity: EntityId, mut row: Row, field_key: Option<Arc<str>>) {
        let table = &mut self.tables[entity.index()];
        let index = table.rows.len() as u32;
        let key_field = program.entity(entity).key;
        if key_field.is_none() {
            let base = identity::content_id(program, &row.values);
            let first = table.by_key.get(base.as_str()).copied();
            let last = self.numbered.entry((entity.index() as u32, base.clone())).or_insert(1);
            let (id, n) = identity::disambiguated_from(base, *last, |k| table.by_key.contains_key(k));
            *last = n;
            // An identical fact: this one is numbered (`#…-2`) and reported.
            if let Some(first) = first {
                table.duplicates.push((first, index));
            }
            row.id = Some(Arc::from(id));
        }
        let key = match field_key {
            Some(key) => key,
            None => key_text(key_field, &row, index),
        };
        debug_assert_eq!(key, key_text(key_field, &row, index));
        table.rows.push(row);
        if let Some(last) = table.keys.last() {
            table.ascending = table.ascending.then(last, &key);
        }
        table.keys.push(key.clone());
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

/// A row's key as text: its key field, else its identity (a hash of its
/// values, see [`identity`]), else its position (`#3`, for a row not
/// stored yet).
pub fn key_text(key_field: Option<u32>, row: &Row, index: u32) -> Arc<str> {
    field_key(key_field, &row.values)
        .unwrap_or_else(|| row.id.clone().unwrap_or_else(|| Arc::from(format!("#{}", index + 1))))
}

/// A row's key when its key field holds one (the first case of
/// [`key_text`], which needs nothing but the row's values).
fn field_key(key_field: Option<u32>, values: &[Value]) -> Option<Arc<str>> {
    match key_field.and_then(|k| values.get(k as usize)) {
        Some(Value::Text(t)) => Some(t.clone()),
        Some(Value::Int(n)) => Some(Arc::from(n.to_string())),
        _ => None,
    }
}

/// The key of fact `row` of `entity` ([`Facts::key_of`]), read from the
/// fact itself (`None`: a row not stored, named by its position).
pub fn key_of_row(program: &Program, entity: EntityId, fact: Option<&Row>, row: u32) -> Arc<str> {
    match fact {
        Some(r) => key_text(program.entity(entity).key, r, row),
        None => Arc::from(format!("#{}", row + 1)),
    }
}

/// Rows from which the keys are read on every core, in parts of
/// [`KEYS_PER_PART`].
const PARALLEL_KEYS: usize = 16_384;
const KEYS_PER_PART: usize = 4_096;

/// Each row's [`field_key`], read on every core for many rows: reading
/// a row's key field is two cache misses (its values, then its text), a
/// tenth of loading 100,000 facts when done one row after the other.
fn field_keys(program: &Program, rows: &[(EntityId, Row)]) -> Vec<Option<Arc<str>>> {
    let key = |(entity, row): &(EntityId, Row)| field_key(program.entity(*entity).key, &row.values);
    if rows.len() < PARALLEL_KEYS {
        return rows.iter().map(key).collect();
    }
    let parts: Vec<&[(EntityId, Row)]> = rows.chunks(KEYS_PER_PART).collect();
    let threads = crate::eval::threads(None);
    crate::eval::parallel_map(threads, &parts, |part| part.iter().map(key).collect::<Vec<_>>())
        .into_iter()
        .flatten()
        .collect()
}

/// Read access to facts: what evaluation needs, whoever stores them
/// (a plain [`FactStore`], or the incremental database).
pub trait Facts {
    /// The number of facts of an entity.
    fn len(&self, entity: EntityId) -> u32;
    /// One fact.
    fn row(&self, entity: EntityId, row: u32) -> Option<&Row>;
    /// The field values of one fact.
    fn values(&self, entity: EntityId, row: u32) -> Option<&[Value]> {
        self.row(entity, row).map(|r| &*r.values)
    }
    /// The facts `start..start + count`, when they are stored side by
    /// side (`None` otherwise: read them one [`row`](Facts::row) at a
    /// time). A block of rows is then read with one call, not one per row.
    fn run(&self, entity: EntityId, start: u32, count: u32) -> Option<&[Row]> {
        let _ = (entity, start, count);
        None
    }
    /// The facts `start..start + count` as typed columns, when they are
    /// held so (`None` otherwise: read them from their rows).
    fn columns(&self, entity: EntityId, start: u32, count: u32) -> Option<&columns::Columns> {
        let _ = (entity, start, count);
        None
    }
    /// The row of the fact with a key.
    fn find(&self, entity: EntityId, key: &str) -> Option<u32>;
    /// The key of a row, as text (its identity for an entity without a key field).
    fn key_of(&self, program: &Program, entity: EntityId, row: u32) -> Arc<str> {
        key_of_row(program, entity, self.row(entity, row), row)
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
    fn row(&self, entity: EntityId, row: u32) -> Option<&Row> {
        self.tables[entity.index()].rows.get(row as usize)
    }
    fn run(&self, entity: EntityId, start: u32, count: u32) -> Option<&[Row]> {
        self.tables[entity.index()].rows.get(start as usize..start as usize + count as usize)
    }
    fn find(&self, entity: EntityId, key: &str) -> Option<u32> {
        self.tables[entity.index()].find(key)
    }
}

/// Most problems reported for one file (and for each check across
/// records) before the rest are summarised.
pub(crate) const MAX_PROBLEMS_PER_FILE: usize = 50;

/// What the files with problems still tell about the keys of their records,
/// so that a reference to a record that is there, with a problem of its
/// own, is not also reported as dangling.
#[derive(Debug, Default)]
pub(crate) struct Partial {
    /// Keys of records that did not load, by entity.
    keys: Vec<hashbrown::HashSet<Arc<str>>>,
    /// Entities some of whose records could not be read far enough to
    /// know their key.
    unknown: Vec<bool>,
    /// A file could not be read far enough to know even its entities.
    all_unknown: bool,
    /// The records exceeded the `max_entities` budget.
    pub too_many: bool,
    /// Records that did not load, with the references among their fields
    /// that could be read (every other field absent): a dangling reference
    /// beside a type error in the same record is reported too.
    pub(crate) failed_rows: Vec<(EntityId, Row)>,
    /// The cells read as unknown in data-quality mode.
    pub(crate) quality: quality::Collector,
}

impl Partial {
    fn new(program: &Program) -> Partial {
        Partial {
            keys: vec![Default::default(); program.entities.len()],
            unknown: vec![false; program.entities.len()],
            ..Partial::default()
        }
    }

    /// Records of `entity` (of any entity, for `None`) may be missing
    /// without their keys known.
    pub(crate) fn unreadable(&mut self, entity: Option<EntityId>) {
        match entity.and_then(|e| self.unknown.get_mut(e.index())) {
            Some(unknown) => *unknown = true,
            None => self.all_unknown = true,
        }
    }

    /// A record of `entity` did not load; its key, when it could be read.
    pub(crate) fn record_failed(&mut self, program: &Program, entity: EntityId, key: Option<Value>) {
        let Some(key_field) = program.entity(entity).key else { return };
        let mut values = vec![Value::Absent; key_field as usize + 1];
        match key {
            Some(key @ (Value::Text(_) | Value::Int(_))) => {
                values[key_field as usize] = key;
                self.keys[entity.index()].insert(key_text(
                    Some(key_field),
                    &Row::new(values.into(), Origin::Policy(Default::default())),
                    0,
                ));
            }
            _ => self.unreadable(Some(entity)),
        }
    }

    /// Whether a `entity` with this key may exist in a record that did not load.
    fn may_have(&self, entity: EntityId, key: &str) -> bool {
        self.all_unknown || self.unknown[entity.index()] || self.keys[entity.index()].contains(key)
    }
}

/// Loads every fact file and the program's `fact` declarations, with no
/// bound on their number.
pub fn load(program: &Program, sources: &Sources, inputs: &[FactInput]) -> Result<FactStore, Vec<Diagnostic>> {
    load_within(program, sources, inputs, u64::MAX)
}

/// Loads every fact file and the program's `fact` declarations, refusing
/// (E0310) more than `max_entities` facts as soon as the files being read
/// hold more.
pub fn load_within(
    program: &Program,
    sources: &Sources,
    inputs: &[FactInput],
    max_entities: u64,
) -> Result<FactStore, Vec<Diagnostic>> {
    let mut store = FactStore::empty(program);
    let mut diags = Vec::new();
    let mut partial = Partial::new(program);
    let mut count = program.facts.len() as u64;
    if count > max_entities {
        return Err(vec![too_many(max_entities).note("the policy's `fact` declarations alone exceed it")]);
    }
    for fact in &program.facts {
        store.push(program, fact.entity, Row::new(fact.values.clone().into(), Origin::Policy(fact.span)));
    }
    for input in inputs {
        crate::eval::interrupt::checkpoint();
        let text = sources.text(input.file);
        let budget = max_entities.saturating_sub(count);
        let mut file_diags = Vec::new();
        if let Some(d) = tables_only(input) {
            diags.push(d);
            continue;
        }
        let rows = match input.format {
            Format::Csv => convert::csv_rows(program, input, text, budget, &mut file_diags, &mut partial),
            Format::Spreadsheet | Format::Sqlite | Format::Postgres => {
                grid::rows(program, input, text, budget, &mut file_diags, &mut partial)
            }
            // The fast path reads values as they are written.
            _ if input.mapping.normalises() => {
                convert::document_rows(program, input, text, budget, &mut file_diags, &mut partial)
            }
            _ => match stream::document_rows(program, input, text, budget) {
                stream::Fast::Rows(rows) => rows,
                stream::Fast::TooMany => {
                    partial.too_many = true;
                    Vec::new()
                }
                stream::Fast::Slow => {
                    convert::document_rows(program, input, text, budget, &mut file_diags, &mut partial)
                }
            },
        };
        if partial.too_many {
            diags.push(too_many(max_entities).note(format!(
                "the limit was reached while reading `{}`, which was not read further",
                sources.name(input.file)
            )));
            return Err(diags);
        }
        if file_diags.len() > MAX_PROBLEMS_PER_FILE {
            let more = file_diags.len() - MAX_PROBLEMS_PER_FILE;
            file_diags.truncate(MAX_PROBLEMS_PER_FILE);
            file_diags.push(Diagnostic::error(
                Code::FactType,
                format!("{more} more problems in `{}` not shown", sources.name(input.file)),
            ));
        }
        diags.extend(file_diags);
        count += rows.len() as u64;
        let label = match labelled(program, input) {
            Ok(label) => label,
            Err(d) => {
                diags.push(*d);
                None
            }
        };
        // The tables grow once per file, not once per doubling (each
        // doubling of the key index hashed every key again).
        let mut per_entity = vec![0usize; program.entities.len()];
        for (entity, _) in &rows {
            if let Some(n) = per_entity.get_mut(entity.index()) {
                *n += 1;
            }
        }
        for (i, n) in per_entity.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            store.reserve(EntityId(i as u32), n);
        }
        let keys = field_keys(program, &rows);
        for ((entity, mut row), key) in rows.into_iter().zip(keys) {
            if let Some(label) = &label {
                row.label = Some(Arc::from(label.render(program, &row.values)));
            }
            store.push_keyed(program, entity, row, key);
        }
    }
    check_keys(program, sources, &store, &mut diags);
    check_references(program, sources, &store, &partial, &mut diags);
    check_exceptions(program, &store, &partial, &mut diags);
    let (quality, unreadable) = std::mem::take(&mut partial.quality).finish(sources);
    store.quality = quality;
    store.warnings.extend(unreadable);
    store.warnings.extend(identical_facts(program, sources, &store));
    if diags.is_empty() {
        Ok(store)
    } else {
        Err(diags)
    }
}

/// The options only table sources (CSV, spreadsheets, databases) read
/// (`key`, `bad_values = "unknown"`), refused on a document rather than
/// ignored.
fn tables_only(input: &FactInput) -> Option<Diagnostic> {
    if input.format.is_table() {
        return None;
    }
    let option = if !input.mapping.key.is_empty() {
        "key"
    } else if input.mapping.bad_values == quality::BadValues::Unknown {
        "bad_values = \"unknown\""
    } else {
        return None;
    };
    Some(
        Diagnostic::error(
            Code::ProjectConfig,
            format!("`{option}` is read for table sources only (CSV, spreadsheets, databases)"),
        )
        .at_file(input.file, Span::default(), "not a table")
        .help("remove the option from this source's `[[facts]]` table in aims.toml, or export the records as CSV"),
    )
}

/// The `label` of a source, compiled against its entity; an error (E0331)
/// when it names no field or the source names no entity.
fn labelled(program: &Program, input: &FactInput) -> Result<Option<identity::Label>, Box<Diagnostic>> {
    let Some(template) = &input.mapping.label else { return Ok(None) };
    let refuse = |message: String| {
        Diagnostic::error(Code::BadLabel, message)
            .at_file(input.file, Span::default(), "options of this file in aims.toml")
            .help("`label` is a field's name or a template of fields: \"{name} ({agency})\"")
    };
    let Some(def) = input.mapping.entity.as_deref().and_then(|e| program.entity_by_name(e)).map(|e| program.entity(e))
    else {
        return Err(Box::new(refuse("`label` needs the source's `entity`".into())));
    };
    identity::Label::parse(def, template).map(Some).map_err(|bad| -> Box<Diagnostic> {
        let fields: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
        refuse(format!("`label = \"{template}\"`: `{}` has no field `{bad}`", def.decl.name))
            .suggest_or(&bad, fields, Quote::Code, "name the entity's fields")
            .into()
    })
}

/// W0030: facts of an entity without a key field that hold the same
/// values. Each has its own identity (`#…`, `#…-2`), but nothing tells
/// them apart but their order: perhaps a row given twice.
fn identical_facts(program: &Program, sources: &Sources, store: &FactStore) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for (e, table) in store.tables.iter().enumerate() {
        let entity = EntityId(e as u32);
        let def = program.entity(entity);
        if def.key.is_some() || table.duplicates.is_empty() {
            continue;
        }
        let (first, later) = table.duplicates[0];
        let id = |row: u32| store.key_of(program, entity, row);
        let here = locate_field(program, sources, entity, &table.rows[later as usize], None);
        let there = locate_field(program, sources, entity, &table.rows[first as usize], None);
        let count = table.duplicates.len();
        let message = if count == 1 {
            format!("two `{}` facts are identical: {} and {}", def.decl.name, id(first), id(later))
        } else {
            format!(
                "{} `{}` facts are identical to an earlier one (first: {} and {})",
                convert::thousands(count as u64),
                def.decl.name,
                id(first),
                id(later)
            )
        };
        warnings.push(
            Diagnostic::warning(Code::IdenticalFacts, message)
                .at_file(here.file, here.span, "the same values as an earlier fact")
                .also_file(there.file, there.span, "the earlier fact")
                .note(format!("`{}` has no key field: its facts are named by a hash of their values, numbered in file order when two are the same", def.decl.name))
                .help("remove the repeated record, or give the entity a key field (or a composite `key` in aims.toml)"),
        );
    }
    warnings
}

/// E0310, for facts that exceed `max_entities`.
fn too_many(max_entities: u64) -> Diagnostic {
    Diagnostic::error(Code::TooManyFacts, format!("the facts hold more entities than the limit of {max_entities}"))
        .help("raise `max_entities` in the `[limits]` table of aims.toml if this many is intended")
}

/// Whether the fast path of a JSON or YAML fact file agrees with the slow
/// one: when it answers, the slow path finds no problem and the same rows
/// (and it answers the same with every array shared out among three
/// threads, however short).
/// For the fuzzer and tests; loading uses the fast path when it answers.
#[doc(hidden)]
pub fn loaders_agree(program: &Program, input: &FactInput, text: &str) -> bool {
    let fast = stream::document_rows(program, input, text, u64::MAX);
    let shared = stream::Split { threads: 3, per_batch: 1, min_share: 1 };
    match (&fast, stream::document_rows_on(program, input, text, u64::MAX, shared)) {
        (stream::Fast::Rows(a), stream::Fast::Rows(b)) if *a == b => {}
        (stream::Fast::Slow, stream::Fast::Slow) => {}
        _ => return false,
    }
    let stream::Fast::Rows(fast) = fast else { return true };
    let mut diags = Vec::new();
    let slow = convert::document_rows(program, input, text, u64::MAX, &mut diags, &mut Partial::new(program));
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

/// Pushes the problems of one check across records, locating only the
/// first [`MAX_PROBLEMS_PER_FILE`] (locating reads a whole file) and
/// counting the rest.
struct Capped<'d> {
    diags: &'d mut Vec<Diagnostic>,
    shown: usize,
    more: usize,
}

impl Capped<'_> {
    fn room(&mut self) -> bool {
        if self.shown < MAX_PROBLEMS_PER_FILE {
            self.shown += 1;
            true
        } else {
            self.more += 1;
            false
        }
    }

    fn finish(self, code: Code, what: &str) {
        if self.more > 0 {
            self.diags.push(Diagnostic::error(code, format!("{} more {what} not shown", self.more)));
        }
    }
}

/// How many keys shared by several facts a summary names.
const KEYS_NAMED: usize = 10;

/// Every key of an entity given to more than one fact, with how many, in
/// one diagnostic before the details (which stop at 50): an inventory with
/// 20 repeated names shows all 20 at once.
fn duplicates_summary(program: &Program, store: &FactStore, entity: EntityId) -> Diagnostic {
    let table = store.table(entity);
    let mut facts: BTreeMap<Arc<str>, u64> = BTreeMap::new();
    for &(prev, _) in &table.duplicates {
        *facts.entry(store.key_of(program, entity, prev)).or_insert(1) += 1;
    }
    let mut keys: Vec<(&Arc<str>, &u64)> = facts.iter().collect();
    keys.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let named: Vec<String> = keys.iter().take(KEYS_NAMED).map(|(k, n)| format!("\"{k}\" ({n} facts)")).collect();
    let more = keys.len().saturating_sub(KEYS_NAMED);
    let more = if more > 0 { format!(" and {} more", convert::thousands(more as u64)) } else { String::new() };
    let name = &program.entity(entity).decl.name;
    let count = match keys.len() {
        1 => "1 key is".to_string(),
        n => format!("{} keys are", convert::thousands(n as u64)),
    };
    Diagnostic::error(
        Code::FactDuplicateKey,
        format!("`{name}`: {count} given to more than one fact: {}{more}", named.join(", ")),
    )
    .note(format!("{} facts share a key with an earlier one", convert::thousands(table.duplicates.len() as u64)))
    .help("keys identify facts: make them unique, merge the records, or key the entity by another column")
}

fn check_keys(program: &Program, sources: &Sources, store: &FactStore, diags: &mut Vec<Diagnostic>) {
    let mut capped = Capped { diags, shown: 0, more: 0 };
    for (e, table) in store.tables.iter().enumerate() {
        let entity = EntityId(e as u32);
        let def = program.entity(entity);
        let Some(key_field) = def.key else { continue };
        if table.duplicates.len() > 1 {
            capped.diags.push(duplicates_summary(program, store, entity));
        }
        for &(prev, i) in &table.duplicates {
            if !capped.room() {
                continue;
            }
            let key = store.key_of(program, entity, i);
            let here = locate_field(program, sources, entity, &table.rows[i as usize], Some(key_field));
            let there = locate_field(program, sources, entity, &table.rows[prev as usize], Some(key_field));
            capped.diags.push(
                Diagnostic::error(
                    Code::FactDuplicateKey,
                    format!("two `{}` facts have the key \"{key}\"", def.decl.name),
                )
                .at_file(here.file, here.span, "second fact with this key")
                .also_file(there.file, there.span, "first fact with this key")
                .help("keys identify facts: make them unique or merge the two records"),
            );
        }
    }
    capped.finish(Code::FactDuplicateKey, "facts with a key an earlier fact has");
}

fn check_references(
    program: &Program,
    sources: &Sources,
    store: &FactStore,
    partial: &Partial,
    diags: &mut Vec<Diagnostic>,
) {
    let mut capped = Capped { diags, shown: 0, more: 0 };
    let loaded = store.tables.iter().enumerate().flat_map(|(e, table)| {
        let entity = EntityId(e as u32);
        let refers = program.entity(entity).fields.iter().any(|f| holds_references(program, &f.ty, 0));
        table.rows.iter().filter(move |_| refers).map(move |row| (entity, row))
    });
    let failed = partial.failed_rows.iter().map(|(entity, row)| (*entity, row));
    for (entity, row) in loaded.chain(failed) {
        for (f, value) in row.values.iter().enumerate() {
            let mut missing = Vec::new();
            dangling(store, value, &mut missing);
            for (target, key) in missing {
                if partial.may_have(target, &key) || !capped.room() {
                    continue;
                }
                let at = locate_field(program, sources, entity, row, Some(f as u32));
                let target_def = program.entity(target);
                let keys: Vec<Arc<str>> =
                    (0..store.table(target).len() as u32).map(|r| store.key_of(program, target, r)).collect();
                let mut d = Diagnostic::error(
                    Code::FactMissingRef,
                    format!("no `{}` has the key \"{key}\"", target_def.decl.name),
                )
                .at_file(
                    at.file,
                    at.span,
                    format!(
                        "`{}` refers to a missing `{}`",
                        program.entity(entity).fields[f].name,
                        target_def.decl.name
                    ),
                );
                d = d.suggest_or(
                    &key,
                    keys.iter().map(|k| &**k),
                    Quote::Text,
                    format!("add the `{}` to the facts, or correct the key", target_def.decl.name),
                );
                capped.diags.push(d);
            }
        }
    }
    capped.finish(Code::FactMissingRef, "references to missing facts");
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

fn check_exceptions(program: &Program, store: &FactStore, partial: &Partial, diags: &mut Vec<Diagnostic>) {
    for exception in &program.exceptions {
        let Some((entity, key, span)) = &exception.target else { continue };
        if store.table(*entity).find(key).is_none() && !partial.may_have(*entity, key) {
            let name = &program.entity(*entity).decl.name;
            let keys: Vec<Arc<str>> =
                (0..store.table(*entity).len() as u32).map(|r| store.key_of(program, *entity, r)).collect();
            let d = Diagnostic::error(
                Code::ExceptionUnknownEntity,
                format!("exception `{}` waives a `{name}` that is not in the facts", exception.decl.name),
            )
            .at_file(span.file, span.span, format!("no `{name}` \"{key}\""))
            .suggest(key, keys.iter().map(|k| &**k), Quote::Text);
            diags.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, LoadFailure};

    const POLICY: &str = "enum Tier { low, high }\n\
        record Ev { kind: Text }\n\
        entity Person { id: Text key, age: Int = 0 }\n\
        entity Sys { id: Text key, tier: Tier = low, owner: Person?, n: Int = 0, ev: [Ev] = [] }\n\
        control c for s: Sys { require s.tier == low }\n";

    fn mapping(entity: Option<&str>) -> Mapping {
        Mapping { entity: entity.map(str::to_string), ..Mapping::default() }
    }

    fn load(files: &[(&str, Format, Mapping, &str)]) -> Result<Engine, LoadFailure> {
        Engine::from_texts("p.aims", POLICY, files)
    }

    fn failure(files: &[(&str, Format, Mapping, &str)]) -> LoadFailure {
        match load(files) {
            Ok(_) => panic!("the facts were accepted"),
            Err(failure) => failure,
        }
    }

    /// Each problem: code, message, underlined text, 1-based line.
    fn problems(failure: &LoadFailure) -> Vec<(Code, String, String, usize)> {
        failure
            .diagnostics
            .iter()
            .map(|d| match &d.primary {
                Some(label) => {
                    let text = failure.sources.text(label.at.file);
                    let (line, _) = failure.sources.line_col(label.at.file, label.at.span.start);
                    (d.code, d.message.clone(), text[label.at.span.range()].to_string(), line)
                }
                None => (d.code, d.message.clone(), String::new(), 0),
            })
            .collect()
    }

    #[test]
    fn keys_read_on_every_core_name_the_outcomes_in_row_order() {
        // More records than one thread reads the keys of.
        let n = PARALLEL_KEYS + 3;
        let records: Vec<String> = (0..n).map(|i| format!("{{\"id\": \"s{i}\", \"n\": {i}}}")).collect();
        let text = format!("{{\"Sys\": [{}], \"Person\": [{{\"id\": \"p\"}}]}}", records.join(","));
        let mut engine = load(&[("f.json", Format::Json, mapping(None), &text)]).expect("the facts load");
        let evaluation = engine.evaluate(crate::Date::parse("2026-01-01").expect("a date"));
        let keys: Vec<String> = evaluation.rules[0].outcomes.iter().map(|o| o.key.to_string()).collect();
        let expected: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn a_key_given_twice_is_refused_in_every_format() {
        let cases: [(Format, Option<&str>, &str, &str, usize); 8] = [
            // A field of a record, in the fast path's reach (declared field).
            (Format::Json, None, "{\"Sys\": [\n {\"id\": \"a\",\n  \"id\": \"b\"}]}", "\"id\"", 3),
            // An entity name at the top of the document.
            (Format::Json, None, "{\"Sys\": [{\"id\": \"a\"}],\n \"Sys\": [{\"id\": \"b\"}]}", "\"Sys\"", 2),
            // A field of a nested record.
            (
                Format::Json,
                None,
                "{\"Sys\": [{\"id\": \"a\", \"ev\": [{\"kind\": \"x\",\n \"kind\": \"y\"}]}]}",
                "\"kind\"",
                2,
            ),
            (Format::Json, Some("Sys"), "[{\"id\": \"a\", \"n\": 1, \"n\": 2}]", "\"n\"", 1),
            (Format::Yaml, None, "Sys:\n  - id: a\n    tier: high\n    tier: low\n", "tier", 4),
            (Format::Yaml, None, "Sys:\n  - id: a\nPerson: []\nSys:\n  - id: b\n", "Sys", 4),
            (Format::Yaml, Some("Sys"), "- id: a\n  ev:\n    - kind: x\n      kind: y\n", "kind", 4),
            (Format::Csv, Some("Sys"), "id,tier,tier\na,low,high\n", "tier", 1),
        ];
        for (format, entity, text, underlined, line) in cases {
            let failure = failure(&[("f", format, mapping(entity), text)]);
            let found = problems(&failure);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            let (code, message, at, at_line) = &found[0];
            assert_eq!(*code, Code::FactSyntax, "{text}");
            assert!(message.contains(underlined.trim_matches('"')) && message.contains("twice"), "{message}");
            assert_eq!((at.as_str(), *at_line), (underlined, line), "{text}");
        }
        // An ignored column or key may not be given twice either, unless ignored.
        let ignoring = Mapping { entity: Some("Sys".into()), ignore: vec!["note".into()], ..Mapping::default() };
        assert!(load(&[("f", Format::Csv, ignoring.clone(), "id,note,note\na,x,y\n")]).is_ok());
        let failure = failure(&[("f", Format::Json, ignoring, "[{\"id\": \"a\", \"note\": 1, \"note\": 2}]")]);
        assert_eq!(problems(&failure)[0].2, "\"note\"");
    }

    #[test]
    fn every_problem_is_reported_beside_a_type_error() {
        // A type error in one record, a dangling reference in another, a
        // problem in a second file; a reference to the record with the
        // type error is not dangling, and an entity whose file could not be
        // read is not reported missing.
        let systems = "{\"Sys\": [{\"id\": \"a\", \"tier\": \"hgih\", \"owner\": \"p2\"},\n\
            {\"id\": \"b\", \"owner\": \"nobody\"},\n{\"id\": \"c\", \"owner\": \"p1\"}]}";
        let people = "{\"Person\": [{\"id\": \"p1\", \"age\": \"old\"}, {\"id\": \"p2\"}]}";
        let failed = failure(&[
            ("s.json", Format::Json, mapping(None), systems),
            ("p.json", Format::Json, mapping(None), people),
        ]);
        let codes: Vec<(Code, String)> = problems(&failed).into_iter().map(|(c, m, ..)| (c, m)).collect();
        assert_eq!(
            codes,
            [
                (Code::FactType, "`hgih` is not a `Tier` value".to_string()),
                (Code::FactType, "`old` is not a whole number".to_string()),
                (Code::FactMissingRef, "no `Person` has the key \"nobody\"".to_string()),
            ]
        );
        // A file that cannot be read at all: nothing is known of its keys.
        let failed =
            failure(&[("s.json", Format::Json, mapping(None), systems), ("p.json", Format::Json, mapping(None), "{")]);
        let codes: Vec<Code> = problems(&failed).into_iter().map(|p| p.0).collect();
        assert_eq!(codes, [Code::FactType, Code::FactSyntax]);
        // The same in CSV.
        let people = "id,age\np1,old\np2,3\n";
        let failed = failure(&[
            ("s.json", Format::Json, mapping(None), systems),
            ("p.csv", Format::Csv, mapping(Some("Person")), people),
        ]);
        let codes: Vec<Code> = problems(&failed).into_iter().map(|p| p.0).collect();
        assert_eq!(codes, [Code::FactType, Code::FactType, Code::FactMissingRef]);
    }

    #[test]
    fn a_dangling_reference_beside_a_type_error_in_the_same_record_is_reported() {
        let people = "{\"Person\": [{\"id\": \"p1\"}]}";
        for (name, format, entity, systems) in [
            ("s.json", Format::Json, None, "{\"Sys\": [{\"id\": \"a\", \"tier\": \"hgih\", \"owner\": \"nobody\"}]}"),
            ("s.yaml", Format::Yaml, None, "Sys:\n  - id: a\n    tier: hgih\n    owner: nobody\n"),
            ("s.csv", Format::Csv, Some("Sys"), "id,tier,owner\na,hgih,nobody\n"),
        ] {
            let failed =
                failure(&[(name, format, mapping(entity), systems), ("p.json", Format::Json, mapping(None), people)]);
            let codes: Vec<(Code, String)> = problems(&failed).into_iter().map(|(c, m, ..)| (c, m)).collect();
            assert_eq!(
                codes,
                [
                    (Code::FactType, "`hgih` is not a `Tier` value".to_string()),
                    (Code::FactMissingRef, "no `Person` has the key \"nobody\"".to_string()),
                ],
                "{name}"
            );
        }
    }

    #[test]
    fn an_unknown_field_underlines_its_key() {
        for (format, text, key) in [
            (Format::Json, "[{\"id\": \"a\", \"tire\": \"high\"}]", "\"tire\""),
            (Format::Yaml, "- id: a\n  tire: high\n", "tire"),
            (Format::Toml, "[[Sys]]\nid = \"a\"\ntire = \"high\"\n", "tire"),
        ] {
            let entity = if format == Format::Toml { None } else { Some("Sys") };
            let failure = failure(&[("f", format, mapping(entity), text)]);
            let found = problems(&failure);
            assert_eq!((found[0].0, found[0].2.as_str()), (Code::FactUnknownField, key), "{text}");
        }
    }

    #[test]
    fn every_repeated_key_is_named_at_once_with_its_count() {
        let text =
            "[{\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"a\"}, {\"id\": \"c\"}, {\"id\": \"b\"}, {\"id\": \"a\"}]";
        let found = problems(&failure(&[("f.json", Format::Json, mapping(Some("Sys")), text)]));
        let messages: Vec<&str> = found.iter().map(|p| p.1.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`Sys`: 2 keys are given to more than one fact: \"a\" (3 facts), \"b\" (2 facts)",
                "two `Sys` facts have the key \"a\"",
                "two `Sys` facts have the key \"b\"",
                "two `Sys` facts have the key \"a\"",
            ]
        );
        // One repeated key: its detail says it all.
        let text = "[{\"id\": \"a\"}, {\"id\": \"a\"}]";
        assert_eq!(problems(&failure(&[("f.json", Format::Json, mapping(Some("Sys")), text)])).len(), 1);
    }

    #[test]
    fn a_duplicate_key_in_one_file_is_shown_with_the_right_lines() {
        let text = "[\n {\"id\": \"a\"},\n {\"id\": \"b\"},\n {\"id\": \"a\"}\n]";
        let failure = failure(&[("f.json", Format::Json, mapping(Some("Sys")), text)]);
        let shown = crate::diag::render(&failure.diagnostics, &failure.sources, Default::default());
        assert!(shown.contains("─[ f.json:4:"), "{shown}");
        // Both labels in one section: no second header to name a line.
        assert_eq!(shown.matches("f.json:").count(), 1, "{shown}");
        assert!(shown.contains(" 2 │  {\"id\": \"a\"},") && shown.contains(" 4 │  {\"id\": \"a\"}"), "{shown}");
    }

    /// A text of `n` lines made by `line(i)`.
    fn lines(n: usize, line: impl Fn(usize) -> String) -> String {
        (0..n).map(line).collect()
    }

    /// The problems are bounded by the input's size: each of these would
    /// take minutes if every problem were located (a whole parse each).
    #[test]
    fn many_problems_are_counted_without_locating_them() {
        // 200,000 bad cells (2.4 MB).
        let rows = 100_000;
        let csv = format!("id,tier,n\n{}", lines(rows, |i| format!("s{i},hgih,x\n")));
        let found = problems(&failure(&[("f.csv", Format::Csv, mapping(Some("Sys")), &csv)]));
        assert_eq!(found.len(), MAX_PROBLEMS_PER_FILE + 1);
        // A summary per column first, then the details.
        assert_eq!(
            [found[0].1.as_str(), found[1].1.as_str()],
            [
                "column `tier`: 100,000 values are not a `Tier` value (first: `hgih`, record 1, line 2)",
                "column `n`: 100,000 values are not a whole number (first: `x`, record 1, line 2)"
            ]
        );
        assert_eq!(found[49].3, 25, "line 25 holds details 47 and 48");
        assert_eq!(found[50].1, format!("{} more problems in `f.csv` not shown", rows * 2 - 48));

        let records = 20_000;
        let yaml = lines(records, |i| format!("- id: s{i}\n  n: x\n"));
        let json = format!(
            "[{}{{\"id\": \"last\", \"n\": \"x\"}}]",
            lines(records, |i| format!("{{\"id\": \"s{i}\", \"n\": \"x\"}},\n"))
        );
        let toml = lines(records, |i| format!("[[Sys]]\nid = \"s{i}\"\nn = \"x\"\n"));
        for (format, entity, text) in
            [(Format::Yaml, Some("Sys"), yaml), (Format::Json, Some("Sys"), json), (Format::Toml, None, toml)]
        {
            let failure = failure(&[("f", format, mapping(entity), &text)]);
            let found = problems(&failure);
            assert_eq!(found.len(), MAX_PROBLEMS_PER_FILE + 1, "{format:?}");
            // A summary per field first, then the details (49 of them).
            assert_eq!(
                found[0].1,
                format!(
                    "field `n`: {} values are wrong (first: `x` is not a whole number, at `{}`)",
                    if format == Format::Json { "20,001" } else { "20,000" },
                    if format == Format::Toml { "Sys[0].n" } else { "[0].n" }
                ),
                "{format:?}"
            );
            assert_eq!(
                found[49].3,
                if format == Format::Toml {
                    147
                } else if format == Format::Yaml {
                    98
                } else {
                    49
                }
            );
            assert!(found[50].1.contains("more problems"), "{format:?}");
        }

        // Dangling references and duplicate keys, across records.
        let json = format!(
            "{{\"Sys\": [{}{{\"id\": \"x\"}}]}}",
            lines(records, |i| format!("{{\"id\": \"s{}\", \"owner\": \"p{i}\"}},\n", i % (records / 2)))
        );
        let found = problems(&failure(&[("f", Format::Json, mapping(None), &json)]));
        let codes = |code| found.iter().filter(|p| p.0 == code).count();
        // The summary of the repeated keys, then 50 details and a count.
        assert_eq!((codes(Code::FactDuplicateKey), codes(Code::FactMissingRef)), (52, 51));
        let summary = found.iter().find(|p| p.0 == Code::FactDuplicateKey).map(|p| p.1.as_str());
        assert_eq!(
            summary,
            Some(
                "`Sys`: 10,000 keys are given to more than one fact: \"s0\" (2 facts), \"s1\" (2 facts), \
                 \"s10\" (2 facts), \"s100\" (2 facts), \"s1000\" (2 facts), \"s1001\" (2 facts), \"s1002\" (2 facts), \
                 \"s1003\" (2 facts), \"s1004\" (2 facts), \"s1005\" (2 facts) and 9,990 more"
            )
        );
        assert!(found.iter().any(|p| p.1 == format!("{} more references to missing facts not shown", records - 50)));
    }

    #[test]
    fn deep_yaml_flow_nesting_is_refused_before_the_parser_runs() {
        let deep = format!("Sys: {}", "[".repeat(100_000));
        let found = problems(&failure(&[("f", Format::Yaml, mapping(None), &deep)]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Code::FactSyntax);
        assert!(found[0].1.contains("nested more than 128"), "{}", found[0].1);
        // Brackets that open no collection do not count.
        let at = |text: &str| convert::yaml_flow_too_deep(text);
        let brackets = "[".repeat(200);
        assert_eq!(at(&format!("- \"{brackets}\"\n- '{brackets}'\n- a{brackets}\n# {brackets}\n")), None);
        let block = format!("a: |\n  {brackets}\n\n  {brackets}\nb: >-\n    {brackets}\n");
        assert_eq!(at(&block), None);
        assert_eq!(at(&format!("{block}c: {}\n", "[".repeat(129))), Some(block.len() + 3 + 128));
        assert_eq!(at(&format!("- {}{}\n", "[".repeat(128), "]".repeat(128))), None);
        assert_eq!(at(&format!("- {}\n", "[".repeat(129))), Some(2 + 128));
        assert_eq!(at(&format!("a: {}\n", "{b: ".repeat(129))), Some(3 + 4 * 128));
        // A valid document within the limit loads.
        assert!(load(&[("f", Format::Yaml, mapping(None), "Sys: [{id: a, ev: [{kind: '[x'}]}]\n")]).is_ok());
    }

    #[test]
    fn a_run_of_stored_rows_is_those_rows_or_none() {
        let program = load(&[]).map(|e| e.program().clone()).unwrap_or_else(|_| panic!("policy"));
        let mut sources = Sources::new();
        let json = sources.add("f.json", "[{\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"c\"}]");
        let inputs = [FactInput { file: json, format: Format::Json, mapping: mapping(Some("Sys")) }];
        let store = super::load(&program, &sources, &inputs).unwrap_or_else(|d| panic!("{d:?}"));
        let sys = program.entity_by_name("Sys").expect("Sys");
        let keys = |rows: &[Row]| rows.iter().map(|r| key_text(Some(0), r, 0).to_string()).collect::<Vec<_>>();
        assert_eq!(keys(store.run(sys, 0, 3).expect("all three")), ["a", "b", "c"]);
        assert_eq!(keys(store.run(sys, 1, 2).expect("the last two")), ["b", "c"]);
        assert!(store.run(sys, 2, 2).is_none(), "past the last fact");
    }

    #[test]
    fn the_entity_budget_stops_reading_at_the_first_record_past_it() {
        let program = load(&[]).map(|e| e.program().clone()).unwrap_or_else(|_| panic!("policy"));
        let mut sources = Sources::new();
        let json = sources.add("f.json", "[{\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"c\"}]");
        let bad = sources.add("g.json", "[{\"id\": \"d\"}, {\"id\": \"e\", \"tier\": \"x\"}]");
        let csv = sources.add("h.csv", "id\nf\ng\n");
        let toml = sources.add("i.toml", "[[Sys]]\nid = \"h\"\n");
        let input = |file, format| FactInput { file, format, mapping: mapping(Some("Sys")) };
        let all = [input(json, Format::Json), input(bad, Format::Json), input(csv, Format::Csv)];
        let codes = |inputs: &[FactInput], max| match load_within(&program, &sources, inputs, max) {
            Ok(store) => Err(store.table(program.entity_by_name("Sys").unwrap()).len()),
            Err(diags) => Ok(diags.iter().map(|d| d.code).collect::<Vec<_>>()),
        };
        // Six facts load (the record with a problem is none).
        assert_eq!(codes(&all, 6), Ok(vec![Code::FactType]));
        assert_eq!(codes(&all[..1], 3), Err(3));
        for max in 0..6 {
            let got = codes(&all, max).expect("refused");
            assert_eq!(got.last(), Some(&Code::TooManyFacts), "max {max}: {got:?}");
        }
        let toml_only = [FactInput { file: toml, format: Format::Toml, mapping: mapping(None) }];
        assert_eq!(codes(&toml_only, 0), Ok(vec![Code::TooManyFacts]));
        // The fast path stops at the record past the budget.
        let text = sources.text(json);
        assert!(matches!(stream::document_rows(&program, &all[0], text, 2), stream::Fast::TooMany));
        assert!(matches!(stream::document_rows(&program, &all[0], text, 3), stream::Fast::Rows(_)));
    }

    #[test]
    fn csv_problems_name_the_right_line_and_record() {
        for end in ["\n", "\r\n"] {
            let text = ["id,tier,n", "a,low,1", "\"b", "", "still b\",high,x", "c,low,y", ""].join(end);
            let found = failure(&[("f.csv", Format::Csv, mapping(Some("Sys")), &text)]);
            let notes: Vec<String> = found.diagnostics.iter().flat_map(|d| d.notes.clone()).collect();
            let found = problems(&found);
            assert_eq!(found[0].1, "column `n`: 2 values are not a whole number (first: `x`, record 2, line 5)");
            let found = &found[1..];
            // Each bad cell underlined on its own line, and its record counted
            // apart from the lines.
            let at: Vec<(&str, usize)> = found.iter().map(|p| (p.2.as_str(), p.3)).collect();
            assert_eq!(at, [("x", 5), ("y", 6)], "{end:?}");
            assert_eq!(notes, ["record 2, line 5, column `n`", "record 3, line 6, column `n`"], "{end:?}");
        }
        // A malformed row past a multi-line cell is underlined whole.
        let text = "id,tier\r\na,\"lo\r\nw\"\r\nb,low,1\r\n";
        let found = problems(&failure(&[("f.csv", Format::Csv, mapping(Some("Sys")), text)]));
        let at: Vec<(Code, &str, usize)> = found.iter().map(|p| (p.0, p.2.as_str(), p.3)).collect();
        assert_eq!(at, [(Code::FactType, "\"lo\r\nw\"", 2), (Code::FactSyntax, "b,low,1", 4)]);
    }

    #[test]
    fn other_columns_are_ignored_when_asked() {
        let csv = "id, Notes ,n,Notes,tier\na,x,1,y,high\n";
        let json = "[{\"id\": \"a\", \"notes\": \"x\", \"n\": 1, \"tier\": \"high\"}]";
        let yaml = "- id: a\n  notes: x\n  n: 1\n  tier: high\n";
        let strict = mapping(Some("Sys"));
        let lenient = Mapping { ignore_other_columns: true, ..strict.clone() };
        for (format, text) in [(Format::Csv, csv), (Format::Json, json), (Format::Yaml, yaml)] {
            let codes: Vec<Code> =
                problems(&failure(&[("f", format, strict.clone(), text)])).iter().map(|p| p.0).collect();
            assert!(codes.contains(&Code::FactUnknownField), "{format:?}: {codes:?}");
            let engine =
                load(&[("f", format, lenient.clone(), text)]).unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
            let sys = engine.program().entity_by_name("Sys").unwrap();
            assert_eq!(engine.facts().values(sys, 0).map(|v| v[3].clone()), Some(Value::Int(1)), "{format:?}");
        }
        // A repeated column that a field reads is still refused.
        let found = problems(&failure(&[("f", Format::Csv, lenient, "id,n,n\na,1,2\n")]));
        assert_eq!((found[0].0, found[0].2.as_str()), (Code::FactSyntax, "n"));
    }

    #[test]
    fn documents_are_read_through_the_value_options() {
        let options = normalise::ValueOptions {
            ignore_case: Some(true),
            null: Some(vec!["N/A".into()]),
            date_format: Some("%m/%d/%Y".into()),
            values: BTreeMap::from([("Very High".to_string(), "high".to_string())]),
            ..Default::default()
        };
        let mapping = Mapping { entity: Some("Sys".into()), values: options, ..Mapping::default() };
        let json = "[{\"id\": \" a \", \"tier\": \"very high\", \"owner\": \"n/a\", \"n\": \"7\"},\n\
            {\"id\": \"b\", \"tier\": \"LOW\", \"n\": 2}]";
        let yaml = "- id: a\n  tier: Very High\n  owner: N/A\n  n: 7\n- id: b\n  tier: LOW\n  n: 2\n";
        for (format, text) in [(Format::Json, json), (Format::Yaml, yaml)] {
            let engine =
                load(&[("f", format, mapping.clone(), text)]).unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
            let sys = engine.program().entity_by_name("Sys").unwrap();
            let facts = engine.facts();
            let row = facts.values(sys, 0).map(|v| v.to_vec()).unwrap_or_default();
            assert_eq!(row[0], Value::text("a"), "{format:?}");
            assert!(matches!(row[1], Value::Enum(_, 1)), "{format:?}: {row:?}");
            assert_eq!(row[2], Value::Absent, "{format:?}");
            assert!(matches!(facts.values(sys, 1).map(|v| v[1].clone()), Some(Value::Enum(_, 0))), "{format:?}");
        }
        // A text that matches nothing is still an error, at its place.
        let found = problems(&failure(&[("f", Format::Json, mapping, "[{\"id\": \"a\",\n \"tier\": \"Very Hgh\"}]")]));
        assert_eq!((found[0].0, found[0].2.as_str(), found[0].3), (Code::FactType, "\"Very Hgh\"", 2));
    }

    #[test]
    fn json_with_a_byte_order_mark_and_minus_zero_loads() {
        let engine = load(&[("f", Format::Json, mapping(Some("Sys")), "\u{feff}[{\"id\": \"a\", \"n\": -0}]")]);
        let engine = engine.unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        let sys = engine.program().entity_by_name("Sys").unwrap();
        let facts = engine.facts();
        assert_eq!(facts.values(sys, 0).map(|v| v[3].clone()), Some(Value::Int(0)));
        // With a problem, still located right after the mark.
        let text = "\u{feff}[{\"id\": \"a\",\n \"n\": 1.5}]";
        let found = problems(&failure(&[("f", Format::Json, mapping(Some("Sys")), text)]));
        assert_eq!((found[0].2.as_str(), found[0].3), ("1.5", 2));
        let found = problems(&failure(&[("f", Format::Json, mapping(Some("Sys")), "\u{feff}[{\"id\": 1,}]")]));
        assert_eq!((found[0].0, found[0].3), (Code::FactSyntax, 1));
        // 0.0 is not an Int (only JSON's integer -0 reaches the loader as a float).
        assert!(load(&[("f", Format::Json, mapping(Some("Sys")), "[{\"id\": \"a\", \"n\": 0.5}]")]).is_err());
    }

    #[test]
    fn bad_values_unknown_reads_the_rest_and_lists_every_bad_cell() {
        let csv = "id,tier,n,owner\na,hgih,1,\nb,low,x,\nc,high,,\n\"d\",LOW,2,\ne,,zz,\n";
        // The default refuses the file.
        assert!(load(&[("f.csv", Format::Csv, mapping(Some("Sys")), csv)]).is_err());
        let lenient = Mapping { bad_values: quality::BadValues::Unknown, ..mapping(Some("Sys")) };
        let engine =
            load(&[("f.csv", Format::Csv, lenient.clone(), csv)]).unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        let sys = engine.program().entity_by_name("Sys").unwrap();
        let facts = engine.facts();
        assert_eq!(facts.len(sys), 5, "every row is checked");
        let unreadable = |row: u32, field: usize| match facts.values(sys, row).map(|v| v[field].clone()) {
            Some(Value::Unknown(u)) => u.to_string(),
            other => format!("{other:?}"),
        };
        assert_eq!(unreadable(0, 1), "unreadable: `hgih` is not a `Tier` value, record 1, line 2, column `tier`");
        assert_eq!(unreadable(1, 3), "unreadable: `x` is not a whole number, record 2, line 3, column `n`");
        assert_eq!(facts.values(sys, 2).map(|v| v[3].clone()), Some(Value::Int(0)), "a default is no bad cell");
        assert!(matches!(facts.values(sys, 3).map(|v| v[1].clone()), Some(Value::Unknown(_))), "LOW: case counts");
        // Grouped by column, every cell, in file order.
        let quality = engine.data_quality();
        let cells: Vec<(String, u64, Vec<u64>)> = quality
            .columns
            .iter()
            .map(|c| (c.column.clone(), c.count, c.cells.iter().map(|cell| cell.record).collect()))
            .collect();
        assert_eq!(cells, [("tier".into(), 2, vec![1, 4]), ("n".into(), 2, vec![2, 5])]);
        let warning = engine.warnings().iter().find(|w| w.code == Code::UnreadableCells).expect("W0031");
        assert!(warning.message.contains("4 cells could not be read"), "{}", warning.message);
        // A key that cannot be read still stops the load: nothing could name the fact.
        let int_key = "enum Tier { low, high }\nentity S { id: Int key, tier: Tier }\ncontrol c for s: S { require s.tier == low }\n";
        let failed = Engine::from_texts(
            "p.aims",
            int_key,
            &[("f.csv", Format::Csv, Mapping { entity: Some("S".into()), ..lenient.clone() }, "id,tier\nx,low\n")],
        );
        assert!(failed.is_err());
        // Only table sources read the option.
        let found = problems(&failure(&[("f.json", Format::Json, lenient, "[{\"id\": \"a\"}]")]));
        assert_eq!(
            (found[0].0, found[0].1.as_str()),
            (
                Code::ProjectConfig,
                "`bad_values = \"unknown\"` is read for table sources only (CSV, spreadsheets, databases)"
            )
        );
    }

    #[test]
    fn a_composite_key_is_made_of_its_parts() {
        let composite =
            |key: &[&str]| Mapping { key: key.iter().map(|k| k.to_string()).collect(), ..mapping(Some("Sys")) };
        let csv = "tier,n\nhigh,1\nlow,1\nhigh,2\n";
        let engine = load(&[("f.csv", Format::Csv, composite(&["tier", "n"]), csv)])
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        let sys = engine.program().entity_by_name("Sys").unwrap();
        let keys: Vec<String> = (0..3).map(|r| engine.facts().key_of(engine.program(), sys, r).to_string()).collect();
        assert_eq!(keys, ["high / 1", "low / 1", "high / 2"]);
        assert_eq!(engine.facts().find(sys, "low / 1"), Some(1));
        // Two rows with the same parts are one key given twice.
        let found =
            problems(&failure(&[("f.csv", Format::Csv, composite(&["tier", "n"]), "tier,n\nhigh,1\nhigh,1\n")]));
        assert_eq!(
            (found[0].0, found[0].1.as_str()),
            (Code::FactDuplicateKey, "two `Sys` facts have the key \"high / 1\"")
        );
        // A part not recorded: the row has no key.
        let found = problems(&failure(&[("f.csv", Format::Csv, composite(&["tier", "owner"]), "tier,owner\nhigh,\n")]));
        assert_eq!(
            (found[0].0, found[0].1.as_str(), found[0].3),
            (Code::IncompleteKey, "the key of this `Sys` is incomplete: `owner` is not recorded", 2)
        );
        // A part that is no field, the key field given as a column too, an entity without a Text key.
        let found = problems(&failure(&[("f.csv", Format::Csv, composite(&["tier", "nn"]), csv)]));
        assert_eq!(
            (found[0].0, found[0].1.as_str()),
            (Code::IncompleteKey, "`key` of this source: `Sys` has no field `nn`")
        );
        let found = problems(&failure(&[("f.csv", Format::Csv, composite(&["n"]), "id,n\na,1\n")]));
        assert_eq!(found[0].1, "`id` is a column of this file and made by `key` too");
        let found = problems(&failure(&[(
            "f.csv",
            Format::Csv,
            Mapping { entity: Some("Person".into()), ..composite(&["id"]) },
            "age\n1\n",
        )]));
        assert_eq!(found[0].1, "`key` of this source names the key field `id` itself");
    }

    #[test]
    fn facts_without_a_key_field_are_named_by_their_values() {
        let policy = "entity Log { who: Text, n: Int }\ncontrol c for l: Log { require l.n > 0 }\n";
        let m = Mapping { entity: Some("Log".into()), ..Mapping::default() };
        let ids = |csv: &str| {
            let engine = Engine::from_texts("p.aims", policy, &[("f.csv", Format::Csv, m.clone(), csv)])
                .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
            let log = engine.program().entity_by_name("Log").unwrap();
            let facts = engine.facts();
            let ids: Vec<String> =
                (0..facts.len(log)).map(|r| facts.key_of(engine.program(), log, r).to_string()).collect();
            let warnings: Vec<String> = engine
                .warnings()
                .iter()
                .filter(|w| w.code == Code::IdenticalFacts)
                .map(|w| w.message.clone())
                .collect();
            (ids, warnings)
        };
        let (before, warned) = ids("who,n\na,1\nb,2\n");
        assert!(warned.is_empty());
        let (after, _) = ids("who,n\nz,9\na,1\nb,2\n");
        assert_eq!(&after[1..], &before[..], "inserting a row moves no identity");
        assert!(before.iter().all(|id| id.starts_with('#') && id.len() == 13), "{before:?}");
        // A label names each fact beside its identity; one naming no field is refused.
        let labelled = |label: &str| Mapping { label: Some(label.into()), ..m.clone() };
        let engine =
            Engine::from_texts("p.aims", policy, &[("f.csv", Format::Csv, labelled("{who} ({n})"), "who,n\na,1\n")])
                .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        let log = engine.program().entity_by_name("Log").unwrap();
        assert_eq!(engine.facts().row(log, 0).and_then(|r| r.label.clone()).as_deref(), Some("a (1)"));
        let failed =
            Engine::from_texts("p.aims", policy, &[("f.csv", Format::Csv, labelled("{whom}"), "who,n\na,1\n")]);
        let found = problems(&failed.expect_err("refused"));
        assert_eq!(
            (found[0].0, found[0].1.as_str()),
            (Code::BadLabel, "`label = \"{whom}\"`: `Log` has no field `whom`")
        );
        let (twice, warned) = ids("who,n\na,1\na,1\nb,2\n");
        assert_eq!(twice[1], format!("{}-2", twice[0]));
        assert_eq!(warned, [format!("two `Log` facts are identical: {} and {}", twice[0], twice[1])]);
    }
}
