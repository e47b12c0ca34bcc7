//! The fast path for JSON and YAML fact files: records are typed straight
//! from the parser's events, with no document tree in between.
//!
//! It only ever answers for a file without a single problem. At the first
//! thing it would have to report (a wrong type, an unknown field, a missing
//! value, a duplicate key, malformed syntax) it gives up, and the caller
//! runs the slow path of [`super::convert`], which builds the tree, finds
//! every problem and reports each with its place. Both paths give the same
//! rows for a valid file: a test and the `facts` fuzz target hold them to it.
//! It also counts the records against the `max_entities` budget and stops
//! at the first one past it.
//!
//! A long JSON array of records is read on every core. The array a mapping
//! selects (`entity` and `select`) is found by a first pass of the parser,
//! which stops at its first record; then each thread types the records
//! from a place of its own in the text ([`record_spans`]: the first from
//! the first record, each other from a record start it guesses, which the
//! thread before confirms by reaching it), and a second pass reads the
//! document with that array's records taken out. Arrays under entity
//! names are read as before this was possible: one thread finds where
//! each record's text begins and ends (serde_json's `RawValue`, which
//! checks the syntax but makes nothing) and hands the records on in
//! batches, which the other threads type as they come. Either way the
//! rows are joined in the file's order, and are those the one-thread
//! reading makes (a test and the `facts` fuzz target hold them to it).
//!
//! [`record_spans`]: super::record_spans

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::convert::{missing, scalar_from_text, yaml_flow_too_deep, Seg};
use super::locate::json_body;
use super::record_spans;
use super::{FactInput, Format, Origin, Row};
use crate::ir::{EntityId, FieldDef, Program, StructDef, Ty, Value};
use crate::num;

/// The error that sends a file to the slow path; its text is never shown.
const SLOW_PATH: &str = "aims: take the slow path";

/// What the fast path made of a file.
#[derive(Debug)]
pub(super) enum Fast {
    /// The rows of a valid file.
    Rows(Vec<(EntityId, Row)>),
    /// The file needs the slow path (a problem to report, or a format this
    /// path does not read).
    Slow,
    /// The file holds more records than the budget (reading stopped there).
    TooMany,
}

/// Records in a batch handed to another thread: an array of fewer is read
/// on one.
const RECORDS_PER_BATCH: usize = 4096;

/// Bytes of records a thread takes at the least: a shorter array is read
/// by fewer threads (starting one costs more than reading that much).
const BYTES_PER_THREAD: usize = 1 << 20;

/// Rows of a valid JSON or YAML fact file of at most `budget` records.
pub(super) fn document_rows(program: &Program, input: &FactInput, text: &str, budget: u64) -> Fast {
    document_rows_on(
        program,
        input,
        text,
        budget,
        Split { threads: crate::eval::threads(None), per_batch: RECORDS_PER_BATCH, min_share: BYTES_PER_THREAD },
    )
}

/// How a long JSON array of records is shared out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Split {
    /// Threads to read on (one reads everything on the caller's thread).
    pub threads: usize,
    /// Records per batch handed to another thread (an array of fewer is
    /// read on one).
    pub per_batch: usize,
    /// Bytes of a selected array's records each thread takes at the least.
    pub min_share: usize,
}

/// [`document_rows`], reading long JSON arrays as `split` says.
pub(super) fn document_rows_on(program: &Program, input: &FactInput, text: &str, budget: u64, split: Split) -> Fast {
    let select: Vec<&str> = match &input.mapping.select {
        Some(s) => s.split('.').filter(|k| !k.is_empty()).collect(),
        None => Vec::new(),
    };
    let target = match &input.mapping.entity {
        Some(name) => match program.entity_by_name(name) {
            Some(entity) => Target::Entity(entity),
            None => return Fast::Slow,
        },
        None => Target::ByName,
    };
    let mut rows = Vec::new();
    let records = program.records.iter().map(|def| Layout::new(def, None)).collect();
    let split = Split { threads: if input.format == Format::Json { split.threads.max(1) } else { 1 }, ..split };
    let body = json_body(text).0;
    let ctx = Ctx {
        program,
        input,
        records,
        budget: AtomicU64::new(budget),
        too_many: AtomicBool::new(false),
        split,
        body,
        // The selected array is looked for when several threads may read it.
        locating: AtomicBool::new(matches!(target, Target::Entity(_)) && split.threads > 1),
        located: std::sync::Mutex::new(None),
    };
    let document = |text: &str, rows: &mut Vec<(EntityId, Row)>| {
        let mut de = serde_json::Deserializer::from_str(text);
        let seed = Document { ctx: &ctx, select: &select, path: Vec::new(), target, rows };
        seed.deserialize(&mut de).is_ok() && de.end().is_ok()
    };
    let ok = match input.format {
        Format::Json => {
            let read = document(body, &mut rows);
            ctx.locating.store(false, Ordering::Relaxed);
            let located = ctx.located.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            match located {
                None => read,
                Some(located) => match array_rows(&ctx, &located) {
                    SelectedArray::Read { rows: typed, end } => {
                        // The document again, the array's records taken
                        // out: it checks the rest (and finds no rows).
                        rows.clear();
                        let rest = [&body[..located.start], &body[end..]].concat();
                        let read = document(&rest, &mut rows) && rows.is_empty() && ctx.take(typed.len() as u64);
                        rows = typed;
                        read
                    }
                    SelectedArray::Slow => false,
                    SelectedArray::Again => {
                        rows.clear();
                        document(body, &mut rows)
                    }
                },
            }
        }
        Format::Yaml if yaml_flow_too_deep(text).is_some() => false,
        Format::Yaml => {
            let seed = Document { ctx: &ctx, select: &select, path: Vec::new(), target, rows: &mut rows };
            seed.deserialize(serde_yaml_ng::Deserializer::from_str(text)).is_ok()
        }
        Format::Toml | Format::Csv | Format::Spreadsheet | Format::Sqlite | Format::Postgres => false,
    };
    match (ok, ctx.too_many.load(Ordering::Relaxed)) {
        (_, true) => Fast::TooMany,
        (true, false) => Fast::Rows(rows),
        (false, false) => Fast::Slow,
    }
}

struct Ctx<'a> {
    program: &'a Program,
    input: &'a FactInput,
    /// The layout of each record type (records have no mapping).
    records: Vec<Layout>,
    /// Records that may still be read.
    budget: AtomicU64,
    /// Set when a record past the budget was met.
    too_many: AtomicBool,
    /// How long arrays are shared out among threads (JSON only).
    split: Split,
    /// The JSON document's text.
    body: &'a str,
    /// Set while the first pass looks for the selected array: it stops at
    /// the array's first record, noting where it is in `located`.
    locating: AtomicBool,
    located: std::sync::Mutex<Option<Located>>,
}

/// Where the first pass found the selected array.
struct Located {
    /// The offset of its first record in the document.
    start: usize,
    entity: EntityId,
    array: Arc<[Seg]>,
}

impl Ctx<'_> {
    /// Takes `n` records from the budget; `false` (and `too_many` set) if
    /// it holds fewer. Only the reading thread takes from it.
    fn take(&self, n: u64) -> bool {
        match self.budget.load(Ordering::Relaxed).checked_sub(n) {
            Some(left) => {
                self.budget.store(left, Ordering::Relaxed);
                true
            }
            None => {
                self.too_many.store(true, Ordering::Relaxed);
                false
            }
        }
    }
}

fn slow<E: de::Error>() -> E {
    E::custom(SLOW_PATH)
}

#[derive(Clone, Copy)]
enum Target {
    /// Every record of the selected array is this entity.
    Entity(EntityId),
    /// The selected object maps entity names to arrays of records.
    ByName,
}

/// The document, down the `select` path to the records.
struct Document<'a, 'r> {
    ctx: &'a Ctx<'a>,
    select: &'a [&'a str],
    path: Vec<Seg>,
    target: Target,
    rows: &'r mut Vec<(EntityId, Row)>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match (self.select, self.target) {
            ([], Target::Entity(entity)) if self.ctx.split.threads > 1 => {
                Records { ctx: self.ctx, entity, array: self.path.into(), rows: self.rows }.deserialize(d)
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a fact document")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        match (self.select, self.target) {
            ([], Target::Entity(entity)) => {
                let array: Arc<[Seg]> = self.path.into();
                records(self.ctx, entity, array, seq, self.rows)
            }
            _ => Err(slow()),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Document { ctx, select, mut path, target, rows } = self;
        match select.split_first() {
            Some((wanted, rest)) => {
                let mut found = false;
                while let Some(key) = map.next_key::<Key>()? {
                    if key.0 != *wanted {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    if found {
                        return Err(slow());
                    }
                    found = true;
                    path.push(Seg::Key(key.0.clone()));
                    let inner = Document { ctx, select: rest, path: path.clone(), target, rows: &mut *rows };
                    map.next_value_seed(inner)?;
                    path.pop();
                }
                if found {
                    Ok(())
                } else {
                    Err(slow())
                }
            }
            None => {
                let Target::ByName = target else { return Err(slow()) };
                let mut seen: Vec<EntityId> = Vec::new();
                while let Some(key) = map.next_key::<Key>()? {
                    let entity = ctx.program.entity_by_name(&key.0).ok_or_else(slow)?;
                    if seen.contains(&entity) {
                        return Err(slow());
                    }
                    seen.push(entity);
                    let mut array = path.clone();
                    array.push(Seg::Key(key.0));
                    map.next_value_seed(Records { ctx, entity, array: array.into(), rows: &mut *rows })?;
                }
                Ok(())
            }
        }
    }
}

/// A map key, borrowed from the text where the format allows.
struct Key(String);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// An array of records of one entity.
struct Records<'a, 'r> {
    ctx: &'a Ctx<'a>,
    entity: EntityId,
    array: Arc<[Seg]>,
    rows: &'r mut Vec<(EntityId, Row)>,
}

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.ctx.split.threads <= 1 {
            return d.deserialize_any(self);
        }
        d.deserialize_seq(Shared(self))
    }
}

/// The selected array in the first pass: notes where its first record is
/// and stops the pass there (an empty array needs no threads).
fn locate<'de, A: SeqAccess<'de>>(records: Records, mut seq: A) -> Result<(), A::Error> {
    let Records { ctx, entity, array, .. } = records;
    let Some(first) = seq.next_element::<&'de RawValue>()? else { return Ok(()) };
    // The record's text is borrowed from the document's.
    let start = (first.get().as_ptr() as usize).wrapping_sub(ctx.body.as_ptr() as usize);
    if start < ctx.body.len() {
        *ctx.located.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Located { start, entity, array });
    }
    Err(slow())
}

/// An array of records read on several threads: this one finds where each
/// record's text begins and ends (a `RawValue`, which checks the syntax but
/// makes nothing) and hands them on in batches, which the others type as
/// they come; once the array's end is found, this one types batches too.
/// Finding the records is a third of the work, and it is done while the
/// others type, not before. In the first pass that looks for the selected
/// array ([`locate`]) it only notes where the records start.
struct Shared<'a, 'r>(Records<'a, 'r>);

impl<'de> Visitor<'de> for Shared<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.0.ctx.locating.load(Ordering::Relaxed) {
            return locate(self.0, seq);
        }
        let Records { ctx, entity, array, rows } = self.0;
        let def = ctx.program.entity(entity);
        let layout = Layout::new(def, Some(ctx.input));
        let per_batch = ctx.split.per_batch.max(1);
        let queue = BatchQueue::default();
        // A worker stops when the caller's thread is interrupted (Ctrl-C in
        // the REPL's `:reload`), whose own checkpoints then unwind.
        let interrupt = crate::eval::interrupt::current();
        let type_batch = |batch: &Batch<'de>, array: &Arc<[Seg]>| -> Result<Vec<(EntityId, Row)>, ()> {
            let mut typed = Vec::with_capacity(batch.texts.len());
            for (i, text) in batch.texts.iter().enumerate() {
                let values = type_record(ctx, def, &layout, text.get()).ok_or(())?;
                let index = u32::try_from(batch.first + i).map_err(|_| ())?;
                typed.push(file_row(ctx, entity, array, index, values));
            }
            Ok(typed)
        };
        // Takes batches until none is left, keeping what it typed.
        let work = |array: Arc<[Seg]>, here: bool| {
            while let Some(batch) = queue.next() {
                let stop = interrupted(here, interrupt.as_ref());
                match type_batch(&batch, &array) {
                    Ok(typed) if !stop => queue.typed(batch.first, typed),
                    _ => queue.fail(),
                }
            }
        };
        let scanned = std::thread::scope(|scope| {
            // However this thread leaves (an error, an interrupt's unwind),
            // the workers are told that no batch is coming.
            let _closed = CloseOnDrop(&queue);
            let mut workers = 0;
            let mut texts: Vec<&'de RawValue> = Vec::with_capacity(per_batch);
            let mut first = 0;
            let scanned = loop {
                let next = seq.next_element::<&'de RawValue>()?;
                let end = next.is_none();
                texts.extend(next);
                if texts.len() == per_batch || (end && !texts.is_empty()) {
                    if !ctx.take(texts.len() as u64) || queue.failed() {
                        break Err(slow());
                    }
                    let taken = std::mem::replace(&mut texts, Vec::with_capacity(per_batch));
                    let next_first = first + taken.len();
                    queue.push(Batch { first, texts: taken });
                    first = next_first;
                    if !end && workers + 1 < ctx.split.threads {
                        workers += 1;
                        // Each thread has its own copy of the path: one
                        // shared count bumped from every core would bounce
                        // between them.
                        let array: Arc<[Seg]> = Arc::from(&*array);
                        scope.spawn(move || work(array, false));
                    }
                }
                if end {
                    break Ok(first);
                }
                if texts.len() % 4096 == 0 {
                    // `:reload` of a large inventory stops at Ctrl-C.
                    crate::eval::interrupt::checkpoint();
                }
            };
            queue.close();
            work(array.clone(), true);
            scanned
        })?;
        crate::eval::interrupt::checkpoint();
        let typed = queue.into_typed().ok_or_else(slow)?;
        rows.reserve(scanned);
        for (_, batch) in typed {
            rows.extend(batch);
        }
        Ok(())
    }
}

/// What became of the selected array's records.
enum SelectedArray {
    /// Every record typed, in order; the array closes at `end`.
    Read { rows: Vec<(EntityId, Row)>, end: usize },
    /// A record the fast path gives up on (the slow path reports it).
    Slow,
    /// Stopped short (more records than the budget, it seems): the
    /// document is to be read again the one-thread way, which counts them
    /// exactly.
    Again,
}

/// A thread's start not known yet (or given up).
const UNSET: usize = usize::MAX;

/// Types the selected array's records on up to `split.threads` threads:
/// the first from the first record, each other from a record start it
/// guesses past its share of the text, each until a later thread's start.
/// The shares are joined where each thread reached the next one's start
/// exactly (which proves that start a record's); from a start no thread
/// confirmed, the calling thread reads on alone.
fn array_rows(ctx: &Ctx, located: &Located) -> SelectedArray {
    let text = ctx.body.as_bytes();
    let def = ctx.program.entity(located.entity);
    let layout = Layout::new(def, Some(ctx.input));
    let from = located.start;
    let opening = record_spans::opening(text, from);
    let threads = match opening {
        Some(_) => ctx.split.threads.min((text.len() - from) / ctx.split.min_share.max(1)).max(1),
        None => 1,
    };
    let opening = opening.unwrap_or_default();
    let share = (text.len() - from) / threads;
    let starts: Vec<std::sync::atomic::AtomicUsize> =
        (0..threads).map(|k| std::sync::atomic::AtomicUsize::new(if k == 0 { from } else { UNSET })).collect();
    let reader =
        Reader { ctx, def, layout: &layout, read: AtomicU64::new(0), interrupt: crate::eval::interrupt::current() };
    let (first, mut later) = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads)
            .map(|k| {
                let (reader, starts) = (&reader, &starts);
                let guess = from + k * share;
                scope.spawn(move || reader.guessed_run(k, guess, guess.saturating_add(share), opening, starts))
            })
            .collect();
        let first = reader.run(from, &starts[1..], true);
        let later: Vec<Option<(usize, Run)>> = workers.into_iter().map(|w| w.join().ok().flatten()).collect();
        (first, later)
    });
    crate::eval::interrupt::checkpoint();
    let mut values = first.values;
    let mut end = first.end;
    let end = loop {
        match end {
            RunEnd::ArrayEnd(at) => break at,
            RunEnd::Failed => return SelectedArray::Slow,
            RunEnd::Stopped => return SelectedArray::Again,
            RunEnd::Boundary(at) => {
                let confirmed = later.iter_mut().find(|run| run.as_ref().is_some_and(|(start, _)| *start == at));
                let run = match confirmed.and_then(Option::take) {
                    Some((_, run)) => run,
                    None => reader.run(at, &starts[1..], true),
                };
                values.extend(run.values);
                end = run.end;
            }
        }
    };
    let mut rows = Vec::with_capacity(values.len());
    for (index, values) in values.into_iter().enumerate() {
        let Ok(index) = u32::try_from(index) else { return SelectedArray::Slow };
        rows.push(file_row(ctx, located.entity, &located.array, index, values));
    }
    SelectedArray::Read { rows, end }
}

/// What the threads reading one array share.
struct Reader<'a> {
    ctx: &'a Ctx<'a>,
    def: &'a StructDef,
    layout: &'a Layout,
    /// Records typed by all threads, counted in steps of [`COUNT_EVERY`].
    read: AtomicU64,
    /// The caller's interrupt (Ctrl-C in the REPL's `:reload`).
    interrupt: Option<crate::eval::interrupt::Interrupt>,
}

/// Records a thread types between looks at the budget and the interrupt.
const COUNT_EVERY: usize = 256;

/// Guesses a thread tries before giving up on its share.
const GUESSES: usize = 16;

/// The records one thread typed from one start.
struct Run {
    values: Vec<Arc<[Value]>>,
    end: RunEnd,
}

/// Where a thread stopped.
enum RunEnd {
    /// At a record's start where a later thread began.
    Boundary(usize),
    /// At the array's closing bracket.
    ArrayEnd(usize),
    /// At a record the fast path gives up on, or text between records
    /// that is not a comma.
    Failed,
    /// Past the budget, or interrupted.
    Stopped,
}

impl Reader<'_> {
    /// The records from the record at `at` on, until the array closes or
    /// a later thread's start past `at` (in `later`) is reached or passed;
    /// `here` when on the caller's thread.
    fn run(&self, mut at: usize, later: &[std::sync::atomic::AtomicUsize], here: bool) -> Run {
        let from = at;
        let text = self.ctx.body;
        let bytes = text.as_bytes();
        let mut values = Vec::new();
        let end = loop {
            let typed = record_spans::value_end(bytes, at)
                .and_then(|end| Some((type_record(self.ctx, self.def, self.layout, text.get(at..end)?)?, end)));
            let Some((record, end)) = typed else { break RunEnd::Failed };
            values.push(record);
            let next = record_spans::skip_whitespace(bytes, end);
            match bytes.get(next) {
                Some(b']') => break RunEnd::ArrayEnd(next),
                Some(b',') => at = record_spans::skip_whitespace(bytes, next + 1),
                _ => break RunEnd::Failed,
            }
            if values.len() % COUNT_EVERY == 0 && !self.may_go_on(here) {
                break RunEnd::Stopped;
            }
            if later.iter().map(|start| start.load(Ordering::Acquire)).any(|start| start > from && at >= start) {
                break RunEnd::Boundary(at);
            }
        };
        Run { values, end }
    }

    /// Counts [`COUNT_EVERY`] more records: `false` past the budget or
    /// when interrupted.
    fn may_go_on(&self, here: bool) -> bool {
        if interrupted(here, self.interrupt.as_ref()) {
            return false;
        }
        let read = self.read.fetch_add(COUNT_EVERY as u64, Ordering::Relaxed) + COUNT_EVERY as u64;
        read <= self.ctx.budget.load(Ordering::Relaxed)
    }

    /// Thread `k`'s records: from the first guess in `from..before` whose
    /// record types, each tried in turn; its start is published in
    /// `starts[k]` for the thread before to stop at.
    fn guessed_run(
        &self,
        k: usize,
        mut from: usize,
        before: usize,
        opening: &[u8],
        starts: &[std::sync::atomic::AtomicUsize],
    ) -> Option<(usize, Run)> {
        let bytes = self.ctx.body.as_bytes();
        for _ in 0..GUESSES {
            let start = record_spans::guess_record_start(bytes, from, before, opening)?;
            starts[k].store(start, Ordering::Release);
            let run = self.run(start, starts.get(k + 1..).unwrap_or_default(), false);
            if !run.values.is_empty() || !matches!(run.end, RunEnd::Failed) {
                return Some((start, run));
            }
            // Not a record's start after all.
            starts[k].store(UNSET, Ordering::Release);
            from = start + 1;
        }
        None
    }
}

/// One record's text typed as an entity of `def`: `None` where the fast
/// path gives up (a wrong value, bad syntax, text after the record).
fn type_record(ctx: &Ctx, def: &StructDef, layout: &Layout, text: &str) -> Option<Arc<[Value]>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let values = Struct { ctx, def, layout }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(values)
}

/// The row of record `index` of the file's array at `array`.
fn file_row(ctx: &Ctx, entity: EntityId, array: &Arc<[Seg]>, index: u32, values: Arc<[Value]>) -> (EntityId, Row) {
    let origin = Origin::File { file: ctx.input.file, format: ctx.input.format, array: array.clone(), index };
    (entity, Row::new(values, origin))
}

/// Whether a thread reading records is to stop for an interrupt (Ctrl-C
/// in the REPL's `:reload`): on the caller's thread (`here`) a checkpoint,
/// which unwinds by itself; on another, whether the caller's `interrupt`
/// was requested.
fn interrupted(here: bool, interrupt: Option<&crate::eval::interrupt::Interrupt>) -> bool {
    if here {
        crate::eval::interrupt::checkpoint();
        false
    } else {
        interrupt.is_some_and(|i| i.is_requested())
    }
}

/// The rows of a batch, known by its first record's position.
type TypedBatch = (usize, Vec<(EntityId, Row)>);

/// Records whose text was found, for a thread to type.
struct Batch<'de> {
    /// The position of the first of them in the array.
    first: usize,
    texts: Vec<&'de RawValue>,
}

/// The batches of an array waiting for a thread, and what the threads made
/// of those they took.
#[derive(Default)]
struct BatchQueue<'de> {
    state: std::sync::Mutex<QueueState<'de>>,
    ready: std::sync::Condvar,
}

#[derive(Default)]
struct QueueState<'de> {
    waiting: std::collections::VecDeque<Batch<'de>>,
    /// No batch will be added.
    closed: bool,
    /// A batch could not be typed: the array goes to the slow path.
    failed: bool,
    /// Each typed batch.
    typed: Vec<TypedBatch>,
}

impl<'de> BatchQueue<'de> {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState<'de>> {
        // A thread that panicked holding the lock changed nothing half-way.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, batch: Batch<'de>) {
        self.state().waiting.push_back(batch);
        self.ready.notify_one();
    }

    fn close(&self) {
        self.state().closed = true;
        self.ready.notify_all();
    }

    fn fail(&self) {
        self.state().failed = true;
    }

    fn failed(&self) -> bool {
        self.state().failed
    }

    /// The next batch to type, waiting for one while more may come; `None`
    /// once none will (or a batch failed: the rest would be thrown away).
    fn next(&self) -> Option<Batch<'de>> {
        let mut state = self.state();
        loop {
            if state.failed {
                return None;
            }
            if let Some(batch) = state.waiting.pop_front() {
                return Some(batch);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn typed(&self, first: usize, rows: Vec<(EntityId, Row)>) {
        self.state().typed.push((first, rows));
    }

    /// Every batch's rows in the array's order, unless one failed.
    fn into_typed(self) -> Option<Vec<TypedBatch>> {
        let state = self.state.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.failed {
            return None;
        }
        let mut typed = state.typed;
        typed.sort_unstable_by_key(|(first, _)| *first);
        Some(typed)
    }
}

/// Closes the queue when dropped.
struct CloseOnDrop<'q, 'de>(&'q BatchQueue<'de>);

impl Drop for CloseOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        records(self.ctx, self.entity, self.array, seq, self.rows)
    }
}

fn records<'de, A: SeqAccess<'de>>(
    ctx: &Ctx,
    entity: EntityId,
    array: Arc<[Seg]>,
    mut seq: A,
    rows: &mut Vec<(EntityId, Row)>,
) -> Result<(), A::Error> {
    let def = ctx.program.entity(entity);
    let layout = Layout::new(def, Some(ctx.input));
    let mut index = 0u32;
    while let Some(values) = seq.next_element_seed(Struct { ctx, def, layout: &layout })? {
        if !ctx.take(1) {
            return Err(slow());
        }
        rows.push(file_row(ctx, entity, &array, index, values));
        if index % 4096 == 0 {
            // `:reload` of a large inventory stops at Ctrl-C.
            crate::eval::interrupt::checkpoint();
        }
        index = index.checked_add(1).ok_or_else(slow)?;
    }
    Ok(())
}

/// The names a struct's fields have in the file.
struct Layout {
    names: Vec<String>,
    ignore: Vec<String>,
}

impl Layout {
    fn new(def: &StructDef, input: Option<&FactInput>) -> Layout {
        let rename = |f: &FieldDef| input.and_then(|i| i.mapping.rename.get(&f.name).cloned());
        Layout {
            names: def.fields.iter().map(|f| rename(f).unwrap_or_else(|| f.name.clone())).collect(),
            ignore: input.map(|i| i.mapping.ignore.clone()).unwrap_or_default(),
        }
    }
}

/// One record: an entity (with the file's mapping) or a nested record.
struct Struct<'a> {
    ctx: &'a Ctx<'a>,
    def: &'a StructDef,
    layout: &'a Layout,
}

impl<'de> DeserializeSeed<'de> for Struct<'_> {
    type Value = Arc<[Value]>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Arc<[Value]>, D::Error> {
        d.deserialize_any(self)
    }
}

/// Which field a key names.
enum FieldKey {
    Field(usize),
    /// The key listed `n`th under `ignore`.
    Ignored(usize),
}

/// The layout, and the field expected next: files usually list fields in
/// declaration order, so most keys match at the first comparison.
struct FieldKeySeed<'a>(&'a Layout, usize);

impl<'de> DeserializeSeed<'de> for FieldKeySeed<'_> {
    type Value = FieldKey;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FieldKey, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldKeySeed<'_> {
    type Value = FieldKey;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<FieldKey, E> {
        let names = &self.0.names;
        if names.get(self.1).is_some_and(|n| n == key) {
            return Ok(FieldKey::Field(self.1));
        }
        if let Some(i) = names.iter().position(|n| n == key) {
            return Ok(FieldKey::Field(i));
        }
        if let Some(n) = self.0.ignore.iter().position(|n| n == key) {
            return Ok(FieldKey::Ignored(n));
        }
        Err(slow())
    }
}

impl<'de> Visitor<'de> for Struct<'_> {
    type Value = Arc<[Value]>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arc<[Value]>, A::Error> {
        let fields = &self.def.fields;
        // Filled in place where the fact will stay, not in a `Vec` copied
        // into an `Arc` afterwards.
        let mut record: Arc<[Value]> = std::iter::repeat_n(Value::Absent, fields.len()).collect();
        let values = Arc::get_mut(&mut record).ok_or_else(slow)?;
        // Per field: 1 once its key was read, 2 once it holds a value (not null).
        let mut state: smallvec::SmallVec<[u8; 32]> = smallvec::smallvec![0u8; fields.len()];
        let mut next = 0;
        // The ignored keys met, which may not be given twice either.
        let mut ignored: smallvec::SmallVec<[usize; 4]> = smallvec::SmallVec::new();
        while let Some(key) = map.next_key_seed(FieldKeySeed(self.layout, next))? {
            match key {
                FieldKey::Ignored(n) => {
                    if ignored.contains(&n) {
                        return Err(slow());
                    }
                    ignored.push(n);
                    map.next_value::<IgnoredAny>()?;
                }
                FieldKey::Field(i) => {
                    if state[i] != 0 {
                        return Err(slow());
                    }
                    next = i + 1;
                    // A null field counts as a missing one.
                    state[i] = match map.next_value_seed(FieldSeed { ctx: self.ctx, ty: &fields[i].ty })? {
                        Some(v) => {
                            values[i] = v;
                            2
                        }
                        None => 1,
                    };
                }
            }
        }
        for (i, field) in fields.iter().enumerate() {
            if state[i] != 2 {
                values[i] = missing(field).ok_or_else(slow)?;
            }
        }
        Ok(record)
    }
}

/// A field's value; `None` for null.
struct FieldSeed<'a> {
    ctx: &'a Ctx<'a>,
    ty: &'a Ty,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<Value>, E> {
        ValueSeed { ctx: self.ctx, ty: self.ty }.visit_bool(v).map(Some)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Value>, E> {
        ValueSeed { ctx: self.ctx, ty: self.ty }.visit_i64(v).map(Some)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Value>, E> {
        ValueSeed { ctx: self.ctx, ty: self.ty }.visit_u64(v).map(Some)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Value>, E> {
        ValueSeed { ctx: self.ctx, ty: self.ty }.visit_f64(v).map(Some)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Value>, E> {
        ValueSeed { ctx: self.ctx, ty: self.ty }.visit_str(v).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Value>, A::Error> {
        ValueSeed { ctx: self.ctx, ty: self.ty }.visit_seq(seq).map(Some)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        ValueSeed { ctx: self.ctx, ty: self.ty }.visit_map(map).map(Some)
    }
}

/// A value of a type, inside a field (nulls here are values of optionals).
struct ValueSeed<'a> {
    ctx: &'a Ctx<'a>,
    ty: &'a Ty,
}

impl ValueSeed<'_> {
    /// The type with optionals stripped: every non-null value is read as
    /// its inner type.
    fn definite(&self) -> &Ty {
        let mut ty = self.ty;
        while let Ty::Opt(inner) = ty {
            ty = inner;
        }
        ty
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        match self.ty {
            Ty::Opt(_) => Ok(Value::Absent),
            _ => Err(slow()),
        }
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        match self.definite() {
            Ty::Bool => Ok(Value::Bool(v)),
            _ => Err(slow()),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        match self.definite() {
            Ty::Int => Ok(Value::Int(v)),
            Ty::Number => Ok(Value::Number(num::from_int(v))),
            Ty::Percent => Ok(Value::Percent(num::from_int(v))),
            Ty::Entity(id) => Ok(Value::Ref(*id, Arc::from(v.to_string()))),
            _ => Err(slow()),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        match self.definite() {
            Ty::Int => i64::try_from(v).map(Value::Int).map_err(|_| slow()),
            Ty::Number => Ok(Value::Number(num::Decimal::from(v))),
            Ty::Percent => Ok(Value::Percent(num::Decimal::from(v))),
            Ty::Entity(id) => Ok(Value::Ref(*id, Arc::from(v.to_string()))),
            _ => Err(slow()),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // NaN, an infinity or a number out of range: the slow path names
        // the field.
        let n = num::from_f64(v).ok_or_else(slow)?;
        match self.definite() {
            Ty::Number => Ok(Value::Number(n)),
            Ty::Percent => Ok(Value::Percent(n)),
            // JSON's `-0` is read as a float.
            Ty::Int if v == 0.0 && v.is_sign_negative() => Ok(Value::Int(0)),
            // A key written as a number: the same text the slow path reads
            // (its JSON number's own rendering).
            Ty::Entity(id) => {
                let text = serde_json::Number::from_f64(v).ok_or_else(slow)?.to_string();
                Ok(Value::Ref(*id, Arc::from(text)))
            }
            _ => Err(slow()),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        match self.definite() {
            Ty::List(_) | Ty::Record(_) | Ty::Error | Ty::EmptyList => Err(slow()),
            ty => scalar_from_text(self.ctx.program, ty, v).map_err(|_| slow()),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Ty::List(element) = self.definite() else { return Err(slow()) };
        // Gathered on the stack, then moved into the list's one allocation
        // (a `Vec` turned into an `Arc` was a second allocation and a copy
        // for every list of every record).
        let mut items: smallvec::SmallVec<[Value; 8]> = smallvec::SmallVec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed { ctx: self.ctx, ty: element })? {
            items.push(item);
        }
        let mut list: Arc<[Value]> = std::iter::repeat_n(Value::Absent, items.len()).collect();
        let slots = Arc::get_mut(&mut list).ok_or_else(slow)?;
        for (slot, item) in slots.iter_mut().zip(items) {
            *slot = item;
        }
        Ok(Value::List(list))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let Ty::Record(id) = self.definite() else { return Err(slow()) };
        let def = &self.ctx.program.records[id.index()];
        let layout = &self.ctx.records[id.index()];
        Struct { ctx: self.ctx, def, layout }.visit_map(map).map(Value::Record)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{json, Value as Json};

    use super::super::{convert, FactInput, Format, Mapping};
    use crate::diag::FileId;
    use crate::ir::Program;

    const SCHEMA: &str = "enum Tier { low, high }\n\
        record Ds { id: Text, ok: Bool }\n\
        entity Owner { name: Text key }\n\
        entity Sys { id: Text key, tier: Tier, n: Int, x: Number, p: Percent, on: Bool, \
        d: Date?, w: Duration?, owner: Owner?, tags: [Text], ds: [Ds], flag: Bool = true }\n";

    fn program() -> Program {
        let parse = crate::syntax::parse(SCHEMA);
        let inputs =
            [crate::sema::SourceInput { file: FileId(0), text: SCHEMA, ast: &parse.file, offset: 0, stdlib: false }];
        let checked = crate::sema::check(&inputs);
        assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
        checked.program
    }

    /// Candidate values of a field: right ones, wrong ones and nulls.
    fn field_value(field: &'static str) -> impl Strategy<Value = Option<Json>> {
        let good: Vec<Json> = match field {
            "id" => vec![json!("a"), json!("b"), json!("s-1")],
            "tier" => vec![json!("low"), json!("high")],
            "n" => vec![json!(3), json!(-7), json!(u64::MAX)],
            "x" | "p" => vec![json!(0.25), json!(2), json!("5%"), json!("0.5")],
            "on" | "flag" => vec![json!(true), json!("yes"), json!(false)],
            "d" => vec![json!("2026-01-31"), json!("2026-02-30")],
            "w" => vec![json!("180 days"), json!("2 fortnights")],
            "owner" => vec![json!("o1"), json!(7)],
            "tags" => vec![json!([]), json!(["a", "b"]), json!([1])],
            _ => vec![json!([]), json!([{"id": "d", "ok": true}]), json!([{"id": "d"}]), json!([{"id": "d", "ok": 1}])],
        };
        let wrong = vec![json!(null), json!({}), json!([true]), json!(1.5), json!("hgih")];
        prop_oneof![
            30 => proptest::sample::select(good).prop_map(Some),
            1 => proptest::sample::select(wrong).prop_map(Some),
            1 => Just(None),
        ]
    }

    fn record() -> impl Strategy<Value = Json> {
        let fields = ["id", "tier", "n", "x", "p", "on", "d", "w", "owner", "tags", "ds", "flag"];
        (fields.map(field_value), proptest::option::weighted(0.1, Just(json!("extra"))), any::<bool>()).prop_map(
            move |(values, extra, reversed)| {
                let mut pairs: Vec<(&str, Json)> =
                    fields.iter().zip(values).filter_map(|(f, v)| v.map(|v| (*f, v))).collect();
                if reversed {
                    pairs.reverse();
                }
                if let Some(e) = extra {
                    pairs.push(("extra", e));
                }
                Json::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            },
        )
    }

    /// Both paths on one text: whenever the fast one answers, the slow one
    /// finds no problem and the same rows; with `strict`, the fast one also
    /// answers for every file the slow one accepts (a file it gives up on
    /// is still loaded correctly, by the slow path, only slower).
    fn agree(program: &Program, text: &str, format: Format, mapping: Mapping, strict: bool) {
        let input = FactInput { file: FileId(1), format, mapping };
        let mut diags = Vec::new();
        let mut partial = super::super::Partial::new(program);
        let slow = convert::document_rows(program, &input, text, u64::MAX, &mut diags, &mut partial);
        let fast = one_and_many_threads(program, &input, text, u64::MAX);
        match fast {
            super::Fast::Rows(rows) => {
                assert!(diags.is_empty(), "fast path accepted what the slow path rejects: {diags:?}\n{text}");
                assert_eq!(rows, slow, "{text}");
            }
            super::Fast::Slow => assert!(!strict || !diags.is_empty(), "fast path gave up on a valid file:\n{text}"),
            super::Fast::TooMany => panic!("no budget to exceed"),
        }
    }

    /// The fast path on one thread, after checking that reading every
    /// array on several threads (in batches of one record and of three, a
    /// selected array shared out however short) gives the same answer.
    fn one_and_many_threads(program: &Program, input: &FactInput, text: &str, budget: u64) -> super::Fast {
        let split = |threads, per_batch| super::Split { threads, per_batch, min_share: 1 };
        let one = super::document_rows_on(program, input, text, budget, split(1, usize::MAX));
        for (threads, per_batch) in [(3, 1), (3, 3), (2, 1), (7, 2)] {
            let many = super::document_rows_on(program, input, text, budget, split(threads, per_batch));
            match (&one, &many) {
                (super::Fast::Rows(a), super::Fast::Rows(b)) => {
                    assert_eq!(a, b, "{threads} threads, batches of {per_batch}: {text}")
                }
                (super::Fast::Slow, super::Fast::Slow) | (super::Fast::TooMany, super::Fast::TooMany) => {}
                _ => panic!("one thread read {one:?}, {threads} in batches of {per_batch} {many:?}:\n{text}"),
            }
        }
        one
    }

    /// Each row's position in its file's array.
    fn indices(rows: &[(crate::ir::EntityId, super::Row)]) -> Vec<u32> {
        rows.iter()
            .map(|(_, row)| match &row.origin {
                super::Origin::File { index, .. } => *index,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// A selected array of `n` systems whose texts hold what a guessed
    /// record start could be mistaken for: a record's opening inside a
    /// string, and nested records opening with the same key.
    fn tricky_systems(n: usize, pretty: bool) -> String {
        let systems: Vec<Json> = (0..n)
            .map(|i| {
                json!({
                    "id": format!("s{i}\"}}, {{\"id\": \"x{i}"),
                    "tier": if i % 2 == 0 { "low" } else { "high" },
                    "n": i, "x": 0.5, "p": "5%", "on": true,
                    "tags": ["}, {\"id\": 1", "]"],
                    "ds": (0..i % 3).map(|d| json!({"id": format!("d{d}"), "ok": d % 2 == 0})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let document = json!({"inventory": {"systems": systems}, "after": [1, {"id": 2}]});
        if pretty {
            serde_json::to_string_pretty(&document).unwrap_or_default()
        } else {
            serde_json::to_string(&document).unwrap_or_default()
        }
    }

    fn systems_mapping() -> Mapping {
        Mapping { entity: Some("Sys".into()), select: Some("inventory.systems".into()), ..Mapping::default() }
    }

    #[test]
    fn a_selected_array_read_on_many_threads_is_the_array_read_on_one() {
        let program = program();
        for pretty in [false, true] {
            let text = tricky_systems(200, pretty);
            agree(&program, &text, Format::Json, systems_mapping(), true);
            let input = FactInput { file: FileId(1), format: Format::Json, mapping: systems_mapping() };
            let super::Fast::Rows(rows) = one_and_many_threads(&program, &input, &text, u64::MAX) else {
                panic!("a valid file")
            };
            assert_eq!(indices(&rows), (0..200).collect::<Vec<u32>>());
            // Every share of the text starts where a thread has a guess to try.
            for threads in [2, 5, 16] {
                let split = super::Split { threads, per_batch: 1, min_share: 1 };
                let shared = super::document_rows_on(&program, &input, &text, u64::MAX, split);
                assert!(matches!(&shared, super::Fast::Rows(r) if *r == rows), "{threads} threads");
            }
        }
    }

    #[test]
    fn a_selected_array_keeps_its_budget_and_gives_up_on_what_the_slow_path_reports() {
        let program = program();
        let input = FactInput { file: FileId(1), format: Format::Json, mapping: systems_mapping() };
        let text = tricky_systems(600, false);
        assert!(matches!(one_and_many_threads(&program, &input, &text, 600), super::Fast::Rows(r) if r.len() == 600));
        assert!(matches!(one_and_many_threads(&program, &input, &text, 599), super::Fast::TooMany));
        assert!(matches!(one_and_many_threads(&program, &input, &text, 10), super::Fast::TooMany));
        let last = text.rfind("\"tier\":\"high\"").unwrap_or_default();
        for bad in [
            // A wrong value in the last share, and between two records.
            format!("{}\"tier\":\"hgih\"{}", &text[..last], &text[last + 13..]),
            text.replacen("},{\"id\"", "} {\"id\"", 1),
            text.replacen("}]},\"after\"", "},]},\"after\"", 1),
            text.replacen("\"after\":[1,", "\"after\":[1,,", 1),
            text.replacen("\"inventory\"", "\"systems\": [], \"inventory\"", 1).replacen("{", "[", 1),
        ] {
            agree(&program, &bad, Format::Json, systems_mapping(), false);
            assert!(matches!(one_and_many_threads(&program, &input, &bad, u64::MAX), super::Fast::Slow), "{bad}");
        }
    }

    #[test]
    fn records_shared_out_among_threads_keep_their_order_and_budget() {
        let program = program();
        let records: Vec<Json> = (0..10).map(|i| json!({"name": format!("o{i}")})).collect();
        let text = serde_json::to_string(&json!({ "Owner": records })).unwrap();
        let input = FactInput { file: FileId(1), format: Format::Json, mapping: Mapping::default() };
        let super::Fast::Rows(rows) = one_and_many_threads(&program, &input, &text, 10) else {
            panic!("ten records within a budget of ten")
        };
        let names: Vec<String> = rows.iter().map(|(_, row)| program.display(&row.values[0])).collect();
        assert_eq!(names, (0..10).map(|i| format!("\"o{i}\"")).collect::<Vec<_>>());
        assert_eq!(indices(&rows), (0..10).collect::<Vec<u32>>());
        assert!(matches!(one_and_many_threads(&program, &input, &text, 9), super::Fast::TooMany));
        // A record the fast path gives up on, in the last thread's share.
        let bad = text.replace("\"o9\"", "9");
        assert!(matches!(one_and_many_threads(&program, &input, &bad, 10), super::Fast::Slow));
    }

    #[test]
    fn batches_are_joined_in_the_arrays_order_whichever_was_typed_first() {
        let queue = super::BatchQueue::default();
        for first in [8, 0, 4] {
            queue.typed(first, Vec::new());
        }
        let joined: Vec<usize> = queue.into_typed().unwrap_or_default().into_iter().map(|(first, _)| first).collect();
        assert_eq!(joined, [0, 4, 8]);
        let failed = super::BatchQueue::default();
        failed.typed(0, Vec::new());
        failed.fail();
        assert!(failed.into_typed().is_none(), "a batch that failed sends the array to the slow path");
    }

    #[test]
    fn no_batch_is_handed_out_after_one_failed_or_the_queue_closed() {
        let queue = super::BatchQueue::default();
        queue.push(super::Batch { first: 0, texts: Vec::new() });
        queue.push(super::Batch { first: 1, texts: Vec::new() });
        assert_eq!(queue.next().map(|b| b.first), Some(0));
        queue.close();
        assert_eq!(queue.next().map(|b| b.first), Some(1), "a closed queue still hands out what it holds");
        assert!(queue.next().is_none(), "then nothing, without waiting");
        let failed = super::BatchQueue::default();
        failed.push(super::Batch { first: 0, texts: Vec::new() });
        failed.fail();
        assert!(failed.next().is_none(), "the rest would be thrown away");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn the_fast_path_agrees_with_the_slow_one(records in proptest::collection::vec(record(), 0..4), ignore in any::<bool>()) {
            let program = program();
            let mapping = Mapping {
                entity: Some("Sys".into()),
                select: Some("inventory.systems".into()),
                rename: BTreeMap::from([("n".to_string(), "count".to_string())]),
                ignore: if ignore { vec!["extra".into()] } else { Vec::new() },
                ..Mapping::default()
            };
            let renamed: Vec<Json> = records
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if let Some(map) = r.as_object_mut() {
                        if let Some(n) = map.shift_remove("n") {
                            map.insert("count".into(), n);
                        }
                    }
                    r
                })
                .collect();
            let document = json!({"version": 1, "inventory": {"systems": renamed}});
            let json = serde_json::to_string(&document).unwrap();
            agree(&program, &json, Format::Json, mapping.clone(), true);
            let yaml = serde_yaml_ng::to_string(&document).unwrap();
            agree(&program, &yaml, Format::Yaml, mapping, true);
            // The same records under the entity's name, without a mapping.
            let by_name = json!({"Sys": records, "Owner": [{"name": "o1"}]});
            agree(&program, &serde_json::to_string(&by_name).unwrap(), Format::Json, Mapping::default(), true);
        }
    }

    #[test]
    fn malformed_and_odd_documents_take_the_slow_path() {
        let program = program();
        let entity = Mapping { entity: Some("Owner".into()), ..Mapping::default() };
        for text in [
            "",
            "[",
            "{}",
            "[{\"name\": \"a\"}] x",
            "[{\"name\": \"a\", \"name\": \"b\"}]",
            "{\"Owner\": [], \"Owner\": []}",
        ] {
            agree(&program, text, Format::Json, entity.clone(), false);
            agree(&program, text, Format::Json, Mapping::default(), false);
        }
        agree(&program, "- name: a\n- name: b\n", Format::Yaml, entity.clone(), true);
        // Keys given twice where no fact is read: neither path minds them.
        let selected = Mapping { select: Some("data".into()), ignore: vec!["x".into()], ..entity.clone() };
        for text in [
            "{\"v\": 1, \"v\": 2, \"data\": [{\"name\": \"a\", \"x\": {\"k\": 1, \"k\": 2}}]}",
            "{\"data\": [], \"other\": {\"data\": 1, \"data\": 2}}",
        ] {
            agree(&program, text, Format::Json, selected.clone(), true);
        }
        // Where facts are read, both refuse them.
        for text in ["{\"data\": [], \"data\": []}", "{\"data\": [{\"name\": \"a\", \"x\": 1, \"x\": 2}]}"] {
            agree(&program, text, Format::Json, selected.clone(), false);
            let input = FactInput { file: FileId(1), format: Format::Json, mapping: selected.clone() };
            assert!(matches!(one_and_many_threads(&program, &input, text, u64::MAX), super::Fast::Slow), "{text}");
        }
        agree(&program, "- name: .nan\n", Format::Yaml, entity, false);
    }
}
