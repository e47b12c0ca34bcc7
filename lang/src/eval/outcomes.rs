//! How outcomes are held: compactly, shared, and never copied out of the
//! incremental database's memos.
//!
//! A first evaluation over 100,000 facts makes millions of outcomes; copying
//! them from the per-chunk memos into one list per rule, and again into the
//! evaluation, cost more than evaluating them. [`OutcomeChunk`] holds a
//! chunk's outcomes as bits, a record per failing outcome and one list of
//! their failures, read as [`OutcomeRef`]s; [`Outcomes`] is a rule's list
//! as the chunks' shared lists, [`Failures`] makes an outcome's failed
//! requirements a shared slice that a passing outcome does not allocate,
//! and [`Key`] names an outcome's entity from its chunk's shared keys.

use std::sync::Arc;

use super::{FailReason, Failure, Outcome};
use crate::ir::OutcomeKind;

/// The key of the entity an outcome is about: one entry of its chunk's
/// shared key list. Every rule's outcome for a row shares that list, so
/// making an outcome touches one hot counter, not the key's own allocation
/// (that cache miss per outcome was the largest single cost of a full
/// evaluation).
#[derive(Clone)]
pub struct Key {
    keys: Arc<[Arc<str>]>,
    index: u32,
}

impl Key {
    /// Entry `index` of a chunk's keys.
    pub fn of(keys: &Arc<[Arc<str>]>, index: u32) -> Key {
        debug_assert!((index as usize) < keys.len());
        Key { keys: keys.clone(), index }
    }

    /// A key on its own.
    pub fn single(key: Arc<str>) -> Key {
        Key { keys: Arc::from([key]), index: 0 }
    }

    /// The key as a shared string.
    pub fn to_arc(&self) -> Arc<str> {
        self.borrowed().to_arc()
    }

    /// The key borrowed, as an outcome read from its chunk holds it.
    pub fn borrowed(&self) -> KeyRef<'_> {
        KeyRef { keys: &self.keys, index: self.index }
    }
}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        self.borrowed().as_str()
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        **self == **other
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// Orders two keys of one entity: numerically when its key field is an
/// `Int` (`2` before `10`), else as text. A key that is not a number in
/// an `Int`-keyed list (which the facts' checks rule out) sorts after the
/// numbers, so the order stays total.
pub fn cmp_keys(numeric: bool, a: &str, b: &str) -> std::cmp::Ordering {
    if numeric {
        match (a.parse::<i64>(), b.parse::<i64>()) {
            (Ok(x), Ok(y)) => return x.cmp(&y).then_with(|| a.cmp(b)),
            (Ok(_), Err(_)) => return std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => return std::cmp::Ordering::Greater,
            (Err(_), Err(_)) => {}
        }
    }
    a.cmp(b)
}

/// Whether the keys of an entity are numbers (its key field is an `Int`).
pub fn int_keyed(program: &crate::ir::Program, entity: crate::ir::EntityId) -> bool {
    let def = program.entity(entity);
    def.key.and_then(|k| def.fields.get(k as usize)).is_some_and(|f| f.ty == crate::ir::Ty::Int)
}

/// The failed requirements of an outcome: empty without an allocation,
/// shared when the outcome is cloned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Failures(Option<Arc<[Failure]>>);

impl Failures {
    /// The failures, in the rule's `require` order.
    pub fn as_slice(&self) -> &[Failure] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl std::ops::Deref for Failures {
    type Target = [Failure];
    fn deref(&self) -> &[Failure] {
        self.as_slice()
    }
}

impl From<Vec<Failure>> for Failures {
    fn from(failures: Vec<Failure>) -> Failures {
        Failures((!failures.is_empty()).then(|| failures.into()))
    }
}

impl FromIterator<Failure> for Failures {
    /// One allocation for one failure, none for none.
    fn from_iter<I: IntoIterator<Item = Failure>>(failures: I) -> Failures {
        let mut failures = failures.into_iter();
        let Some(first) = failures.next() else { return Failures::default() };
        match failures.next() {
            None => Failures(Some(Arc::from([first]))),
            Some(second) => {
                let all: Vec<Failure> = [first, second].into_iter().chain(failures).collect();
                Failures(Some(all.into()))
            }
        }
    }
}

impl<'a> IntoIterator for &'a Failures {
    type Item = &'a Failure;
    type IntoIter = std::slice::Iter<'a, Failure>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

/// The key of an outcome read from its chunk: the chunk's shared key
/// list and a position, borrowed (reading outcomes touches no counter).
#[derive(Clone, Copy)]
pub struct KeyRef<'a> {
    keys: &'a Arc<[Arc<str>]>,
    index: u32,
}

impl<'a> KeyRef<'a> {
    /// The key as a shared string.
    pub fn to_arc(&self) -> Arc<str> {
        self.keys.get(self.index as usize).cloned().unwrap_or_else(|| Arc::from(""))
    }

    /// The key, sharing its chunk's list (as a finding holds it).
    pub fn to_key(&self) -> Key {
        Key::of(self.keys, self.index)
    }

    /// The key as text, for as long as the chunk lives.
    pub fn as_str(&self) -> &'a str {
        self.keys.get(self.index as usize).map_or("", |k| k)
    }
}

impl std::ops::Deref for KeyRef<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for KeyRef<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq for KeyRef<'_> {
    fn eq(&self, other: &KeyRef<'_>) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<&str> for KeyRef<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for KeyRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for KeyRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One outcome, read from the compact list that holds it.
#[derive(Clone, Copy, Debug)]
pub struct OutcomeRef<'a> {
    /// The entity's row, for rules with a subject.
    pub row: Option<u32>,
    /// The entity's key ("-" for the organisation).
    pub key: KeyRef<'a>,
    /// Pass, fail, waived or not applicable.
    pub kind: OutcomeKind,
    /// The `require`s that failed, in the rule's order.
    pub failures: &'a [Failure],
    /// The exception that waived the failure: an index into `Program::exceptions`.
    pub waived_by: Option<u32>,
    /// For a failing outcome whose one failure is a requirement found
    /// false (not undecided): that requirement's index, known without
    /// reading [`OutcomeRef::failures`] (the findings of 100,000 systems
    /// are mostly such, and reading each failure back was a cache miss).
    pub plain_violation: Option<u32>,
}

impl<'a> OutcomeRef<'a> {
    /// The failures whose requirement could not be decided (evidence
    /// missing, a budget spent): none for a plain violation, known from
    /// its record without reading its failures (a cache miss each, for
    /// the 268,500 findings of 100,000 systems).
    pub fn undecided(&self) -> impl Iterator<Item = &'a Failure> {
        let failures = if self.plain_violation.is_some() { &[][..] } else { self.failures };
        failures.iter().filter(|f| matches!(f.reason, FailReason::NoEvidence(_)))
    }

    /// The outcome as a value of its own.
    pub fn to_owned(&self) -> Outcome {
        Outcome {
            row: self.row,
            key: self.key.to_key(),
            kind: self.kind,
            failures: self.failures.to_vec().into(),
            waived_by: self.waived_by,
        }
    }
}

impl PartialEq for OutcomeRef<'_> {
    fn eq(&self, other: &OutcomeRef<'_>) -> bool {
        self.row == other.row
            && self.key.as_str() == other.key.as_str()
            && self.kind == other.kind
            && self.failures == other.failures
            && self.waived_by == other.waived_by
    }
}

/// [`OutcomeRef::plain_violation`] of a failing outcome's failures.
fn plain_violation(failures: &[Failure]) -> Option<u32> {
    match failures {
        [Failure { index, reason: FailReason::Violated, .. }] => u32::try_from(*index).ok(),
        _ => None,
    }
}

/// What a failing outcome holds beyond its kind.
#[derive(Clone, Debug, PartialEq)]
struct FailRecord {
    /// The outcome's position in its chunk.
    at: u32,
    /// Its failures: `count` of the chunk's [`OutcomeChunk::failures`]
    /// from `first`.
    first: u32,
    count: u32,
    waived_by: Option<u32>,
    /// [`OutcomeRef::plain_violation`], kept beside the record so that
    /// making findings reads the records only.
    plain_violation: Option<u32>,
}

/// The outcomes of a rule over consecutive rows of its subject (or its
/// one outcome for the organisation), held compactly: whether each is not
/// applicable as a bit, and a record for each failing one (an outcome
/// fails exactly when it has a record), in row order.
///
/// A first evaluation of 100,000 systems makes two million outcomes, most
/// of them passing; as 64-byte records they were 128 MB to fault in, zero
/// and walk again for the findings. As bits they are 0.5 MB, and the
/// findings read the failure records only.
#[derive(Clone)]
pub struct OutcomeChunk {
    /// The row of the first outcome (the others follow it); `None` for the
    /// organisation's outcome.
    first_row: Option<u32>,
    /// The key of each outcome, by position (shared by every rule's chunk
    /// over the same rows).
    keys: Arc<[Arc<str>]>,
    len: u32,
    /// Bit `i`: outcome `i` is not applicable.
    not_applicable: Vec<u64>,
    /// The failing outcomes' records (waived or not), by position.
    records: Vec<FailRecord>,
    /// Every failing outcome's failures, in position order: one list per
    /// chunk, not an allocation per failing outcome (those were a tenth of
    /// a first evaluation of 100,000 systems).
    failures: Vec<Failure>,
    /// How many of them are waived, kept by the two places that set a
    /// waiver ([`OutcomeChunk::push`], [`OutcomeChunk::waive_where`]) so
    /// that counting reads no record.
    waived: u32,
}

fn bit(words: &[u64], i: u32) -> bool {
    words.get((i / 64) as usize).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

impl OutcomeChunk {
    /// An empty list of the outcomes of rows from `first_row` (`None`:
    /// the organisation), whose keys `keys` holds by position.
    pub fn new(first_row: Option<u32>, keys: Arc<[Arc<str>]>) -> OutcomeChunk {
        let words = keys.len().div_ceil(64);
        OutcomeChunk {
            first_row,
            keys,
            len: 0,
            not_applicable: Vec::with_capacity(words),
            records: Vec::new(),
            failures: Vec::new(),
            waived: 0,
        }
    }

    /// The organisation's one outcome.
    pub fn single(outcome: Outcome) -> OutcomeChunk {
        let mut chunk = OutcomeChunk::new(None, Arc::from([outcome.key.to_arc()]));
        chunk.push(outcome.kind, outcome.failures, outcome.waived_by);
        chunk
    }

    /// Appends the outcomes of the next `len` rows (at most 64): the rows
    /// of `not_applicable` are not applicable, the rows of `failed` (row
    /// and failure, by ascending row, a row's failures in requirement
    /// order, none of them not applicable) fail with those failures, every
    /// other row passes. The bits are written a word at a time.
    pub fn push_rows(&mut self, len: usize, not_applicable: u64, failed: impl IntoIterator<Item = (u32, Failure)>) {
        debug_assert!(len <= 64);
        if len == 0 {
            return;
        }
        let at = self.len;
        let mask = if len >= 64 { u64::MAX } else { (1 << len) - 1 };
        let bits = not_applicable & mask;
        let shift = at % 64;
        if shift == 0 {
            self.not_applicable.push(bits);
        } else {
            // The rows start inside the last word: their bits go there and,
            // past its end, into a new one.
            if let Some(last) = self.not_applicable.last_mut() {
                *last |= bits << shift;
            }
            if shift as usize + len > 64 {
                self.not_applicable.push(bits >> (64 - shift));
            }
        }
        // One allocation each (a chunk is usually one block), not a growth
        // per failing row: a row's failures are most often one.
        let failed = failed.into_iter();
        self.failures.reserve(failed.size_hint().0);
        self.records.reserve(failed.size_hint().0);
        for (row, failure) in failed {
            debug_assert!(not_applicable & (1 << row) == 0);
            let position = at + row;
            match self.records.last_mut() {
                Some(record) if record.at == position => {
                    record.count += 1;
                    record.plain_violation = None;
                }
                _ => {
                    debug_assert!(self.records.last().is_none_or(|r| r.at < position), "rows in ascending order");
                    let first = self.failures.len() as u32;
                    let plain_violation = plain_violation(std::slice::from_ref(&failure));
                    self.records.push(FailRecord { at: position, first, count: 1, waived_by: None, plain_violation });
                }
            }
            self.failures.push(failure);
        }
        self.len += len as u32;
    }

    /// Appends the outcome of the next row.
    pub fn push(&mut self, kind: OutcomeKind, failures: Failures, waived_by: Option<u32>) {
        let at = self.len;
        if at % 64 == 0 {
            self.not_applicable.push(0);
        }
        // Only a failing outcome has failures (the evaluators make none
        // for the others).
        debug_assert!(matches!(kind, OutcomeKind::Fail | OutcomeKind::Waived) || failures.is_empty());
        match kind {
            OutcomeKind::NotApplicable => self.not_applicable[(at / 64) as usize] |= 1 << (at % 64),
            OutcomeKind::Fail | OutcomeKind::Waived => {
                let waived_by = if kind == OutcomeKind::Waived { waived_by } else { None };
                self.waived += u32::from(waived_by.is_some());
                let (first, count) = (self.failures.len() as u32, failures.len() as u32);
                let plain_violation = plain_violation(&failures);
                self.failures.extend(failures.iter().cloned());
                self.records.push(FailRecord { at, first, count, waived_by, plain_violation });
            }
            OutcomeKind::Pass => {}
        }
        self.len += 1;
    }

    /// How many outcomes the list holds.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list holds no outcome.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn record(&self, at: u32) -> Option<&FailRecord> {
        self.records.binary_search_by_key(&at, |r| r.at).ok().map(|i| &self.records[i])
    }

    /// A failing outcome's failures, from the chunk's list.
    fn failures_of(&self, record: &FailRecord) -> &[Failure] {
        let (first, count) = (record.first as usize, record.count as usize);
        self.failures.get(first..first + count).unwrap_or(&[])
    }

    fn view<'a>(&'a self, at: u32, record: Option<&'a FailRecord>) -> OutcomeRef<'a> {
        let kind = match record {
            Some(r) if r.waived_by.is_some() => OutcomeKind::Waived,
            Some(_) => OutcomeKind::Fail,
            None if bit(&self.not_applicable, at) => OutcomeKind::NotApplicable,
            None => OutcomeKind::Pass,
        };
        OutcomeRef {
            row: self.first_row.map(|r| r + at),
            key: KeyRef { keys: &self.keys, index: at },
            kind,
            failures: record.map_or(&[], |r| self.failures_of(r)),
            waived_by: record.and_then(|r| r.waived_by),
            plain_violation: record.and_then(|r| r.plain_violation),
        }
    }

    /// The outcome at a position.
    pub fn get(&self, index: usize) -> Option<OutcomeRef<'_>> {
        let at = u32::try_from(index).ok().filter(|&at| at < self.len)?;
        Some(self.view(at, self.record(at)))
    }

    /// Every outcome, in row order.
    pub fn iter(&self) -> ChunkIter<'_> {
        ChunkIter { chunk: self, at: 0, record: 0 }
    }

    /// The failing outcomes (waived or not), in row order, without
    /// reading the others.
    pub fn failing(&self) -> impl Iterator<Item = OutcomeRef<'_>> {
        self.records.iter().map(|r| self.view(r.at, Some(r)))
    }

    /// Every failing outcome's failures (waived or not), one list read in
    /// order, without an outcome made.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// How many outcomes there are of each kind, indexed by
    /// `OutcomeKind as usize` (pass, fail, waived, not applicable),
    /// counted from the bits.
    pub fn counts(&self) -> [usize; 4] {
        let ones = |words: &[u64]| words.iter().map(|w| w.count_ones() as usize).sum::<usize>();
        let (not_applicable, failed) = (ones(&self.not_applicable), self.records.len());
        let waived = self.waived as usize;
        [self.len() - not_applicable - failed, failed - waived, waived, not_applicable]
    }

    /// How many outcomes failed and are not waived.
    pub fn failed_count(&self) -> usize {
        self.counts()[OutcomeKind::Fail as usize]
    }

    /// Waives each failing outcome not waived yet for which `waiver`
    /// names an exception, given the outcome's key.
    pub fn waive_where(&mut self, waiver: impl Fn(&str) -> Option<u32>) {
        let keys = &self.keys;
        for record in self.records.iter_mut().filter(|r| r.waived_by.is_none()) {
            if let Some(exception) = keys.get(record.at as usize).and_then(|key| waiver(key)) {
                record.waived_by = Some(exception);
                self.waived += 1;
            }
        }
    }
}

impl Default for OutcomeChunk {
    fn default() -> OutcomeChunk {
        OutcomeChunk::new(None, Arc::from([]))
    }
}

impl PartialEq for OutcomeChunk {
    fn eq(&self, other: &OutcomeChunk) -> bool {
        let len = self.len as usize;
        self.len == other.len
            && self.first_row == other.first_row
            && self.not_applicable == other.not_applicable
            && self.records == other.records
            && self.failures == other.failures
            && (Arc::ptr_eq(&self.keys, &other.keys) || self.keys.get(..len) == other.keys.get(..len))
    }
}

impl FromIterator<Outcome> for OutcomeChunk {
    /// The outcomes of consecutive rows (or the organisation's one).
    fn from_iter<I: IntoIterator<Item = Outcome>>(outcomes: I) -> OutcomeChunk {
        let outcomes: Vec<Outcome> = outcomes.into_iter().collect();
        let first_row = outcomes.first().and_then(|o| o.row);
        debug_assert!(outcomes.iter().enumerate().all(|(i, o)| o.row == first_row.map(|r| r + i as u32)));
        let keys: Arc<[Arc<str>]> = outcomes.iter().map(|o| o.key.to_arc()).collect();
        let mut chunk = OutcomeChunk::new(first_row, keys);
        for o in outcomes {
            chunk.push(o.kind, o.failures, o.waived_by);
        }
        chunk
    }
}

/// The outcomes of a chunk in row order: reads the failure records in
/// step with the bits, with no search.
pub struct ChunkIter<'a> {
    chunk: &'a OutcomeChunk,
    at: u32,
    record: usize,
}

impl<'a> Iterator for ChunkIter<'a> {
    type Item = OutcomeRef<'a>;
    fn next(&mut self) -> Option<OutcomeRef<'a>> {
        let chunk = self.chunk;
        if self.at >= chunk.len {
            return None;
        }
        let at = self.at;
        self.at += 1;
        let record = chunk.records.get(self.record).filter(|r| r.at == at);
        if record.is_some() {
            self.record += 1;
        }
        Some(chunk.view(at, record))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.chunk.len - self.at) as usize;
        (left, Some(left))
    }
}

impl std::fmt::Debug for OutcomeChunk {
    /// As the list of its outcomes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Where a walk over a rule's failing outcomes stands
/// ([`Outcomes::next_failing`]): at its start by default.
#[derive(Clone, Copy, Debug, Default)]
pub struct FailingCursor {
    chunk: usize,
    record: usize,
}

impl FailingCursor {
    /// Moves past the failing outcome the cursor is on.
    pub fn advance(&mut self) {
        self.record += 1;
    }
}

/// All outcomes of a rule, in fact order, held as the shared lists of the
/// chunks they were evaluated in.
#[derive(Clone, Default)]
pub struct Outcomes {
    chunks: Vec<Arc<OutcomeChunk>>,
    /// Where each chunk starts in the whole list.
    starts: Vec<usize>,
    len: usize,
}

type OutcomesIter<'a> = std::iter::FlatMap<
    std::slice::Iter<'a, Arc<OutcomeChunk>>,
    ChunkIter<'a>,
    fn(&'a Arc<OutcomeChunk>) -> ChunkIter<'a>,
>;

impl Outcomes {
    /// The outcomes of consecutive chunks.
    pub fn from_chunks(chunks: Vec<Arc<OutcomeChunk>>) -> Outcomes {
        let mut starts = Vec::with_capacity(chunks.len());
        let mut len = 0;
        for chunk in &chunks {
            starts.push(len);
            len += chunk.len();
        }
        Outcomes { chunks, starts, len }
    }

    /// How many outcomes the rule has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the rule has no outcome.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The outcome at a position of the whole list.
    pub fn get(&self, index: usize) -> Option<OutcomeRef<'_>> {
        // Every chunk but the last holds CHUNK_ROWS facts: try that first.
        let guess = index / super::CHUNK_ROWS;
        if let (Some(&start), Some(chunk)) = (self.starts.get(guess), self.chunks.get(guess)) {
            if start <= index && index < start + chunk.len() {
                return chunk.get(index - start);
            }
        }
        let chunk = self.starts.partition_point(|&s| s <= index).checked_sub(1)?;
        self.chunks[chunk].get(index - self.starts[chunk])
    }

    /// The outcome at a position known to be in the list (a position
    /// the list itself gave).
    ///
    /// # Panics
    /// When `index` is not below [`Outcomes::len`].
    pub fn at(&self, index: usize) -> OutcomeRef<'_> {
        match self.get(index) {
            Some(o) => o,
            None => panic!("outcome {index} of {}", self.len),
        }
    }

    /// Whether both lists have the very same key at every position: their
    /// chunks share their key lists (every rule over the same rows does),
    /// or each key is the same string. No key's text is read.
    pub fn same_keys(&self, other: &Outcomes) -> bool {
        if self.len != other.len {
            return false;
        }
        let shared = self.starts == other.starts
            && self.chunks.iter().zip(&other.chunks).all(|(a, b)| Arc::ptr_eq(&a.keys, &b.keys));
        shared
            || self.iter().zip(other.iter()).all(|(a, b)| {
                let (a, b) = (a.key.as_str(), b.key.as_str());
                std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()
            })
    }

    /// The chunks' lists, in fact order: a list that was not recomputed
    /// since another evaluation is the same allocation in both
    /// (`Arc::ptr_eq`), which lets two evaluations be compared chunk by chunk.
    pub fn chunks(&self) -> &[Arc<OutcomeChunk>] {
        &self.chunks
    }

    /// The first outcome, in fact order.
    pub fn first(&self) -> Option<OutcomeRef<'_>> {
        self.get(0)
    }

    /// Every outcome, in fact order.
    pub fn iter(&self) -> OutcomesIter<'_> {
        fn chunk_iter(chunk: &Arc<OutcomeChunk>) -> ChunkIter<'_> {
            chunk.iter()
        }
        self.chunks.iter().flat_map(chunk_iter as fn(&Arc<OutcomeChunk>) -> ChunkIter<'_>)
    }

    /// Every outcome from position `start` on, in row order (only the
    /// chunk `start` falls in is walked to it).
    pub fn iter_from(&self, start: usize) -> std::iter::Skip<OutcomesIter<'_>> {
        fn chunk_iter(chunk: &Arc<OutcomeChunk>) -> ChunkIter<'_> {
            chunk.iter()
        }
        let chunk = self.starts.partition_point(|&s| s <= start).saturating_sub(1);
        let skip = start - self.starts.get(chunk).copied().unwrap_or(0).min(start);
        let chunks = self.chunks.get(chunk..).unwrap_or_default();
        chunks.iter().flat_map(chunk_iter as fn(&Arc<OutcomeChunk>) -> ChunkIter<'_>).skip(skip)
    }

    /// The failing outcomes (waived or not), in fact order, without
    /// reading the others.
    pub fn failing(&self) -> impl Iterator<Item = OutcomeRef<'_>> {
        self.chunks.iter().flat_map(|c| c.failing())
    }

    /// Every failing outcome's failures (waived or not), chunk by chunk,
    /// without an outcome made: for questions about every failure, such
    /// as whether the evaluation's limit stopped any.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.chunks.iter().flat_map(|c| c.failures())
    }

    /// How many outcomes failed and are not waived.
    pub fn failed_count(&self) -> usize {
        self.chunks.iter().map(|c| c.failed_count()).sum()
    }

    /// How many outcomes there are of each kind, indexed by
    /// `OutcomeKind as usize` (pass, fail, waived, not applicable).
    pub fn counts(&self) -> [usize; 4] {
        self.chunks.iter().map(|c| c.counts()).fold([0; 4], |a, b| std::array::from_fn(|k| a[k] + b[k]))
    }

    /// The failing outcome (waived or not) the cursor is on, or else the
    /// next one after it, with its position; the cursor stays on it
    /// ([`FailingCursor::advance`] moves past it). The outcomes between
    /// are not read.
    pub fn next_failing(&self, cursor: &mut FailingCursor) -> Option<(usize, OutcomeRef<'_>)> {
        while let Some(chunk) = self.chunks.get(cursor.chunk) {
            if let Some(r) = chunk.records.get(cursor.record) {
                return Some((self.starts[cursor.chunk] + r.at as usize, chunk.view(r.at, Some(r))));
            }
            cursor.chunk += 1;
            cursor.record = 0;
        }
        None
    }
}

impl std::fmt::Debug for Outcomes {
    /// As the list of its outcomes, chunking aside.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<Outcome> for Outcomes {
    fn from_iter<I: IntoIterator<Item = Outcome>>(outcomes: I) -> Outcomes {
        Outcomes::from_chunks(vec![Arc::new(outcomes.into_iter().collect())])
    }
}

impl From<Vec<Outcome>> for Outcomes {
    fn from(outcomes: Vec<Outcome>) -> Outcomes {
        outcomes.into_iter().collect()
    }
}

impl From<OutcomeChunk> for Outcomes {
    fn from(chunk: OutcomeChunk) -> Outcomes {
        Outcomes::from_chunks(vec![Arc::new(chunk)])
    }
}

impl<'a> IntoIterator for &'a Outcomes {
    type Item = OutcomeRef<'a>;
    type IntoIter = OutcomesIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Outcomes {
    /// Equal lists, chunking aside; chunks shared by both are not compared
    /// element by element.
    fn eq(&self, other: &Outcomes) -> bool {
        if self.len != other.len {
            return false;
        }
        if self.starts == other.starts {
            return self.chunks.iter().zip(&other.chunks).all(|(a, b)| Arc::ptr_eq(a, b) || a == b);
        }
        self.iter().eq(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::OutcomeKind;

    fn outcome(row: u32) -> Outcome {
        Outcome {
            row: Some(row),
            key: Key::single(Arc::from(format!("k{row}"))),
            kind: OutcomeKind::Pass,
            failures: Failures::default(),
            waived_by: None,
        }
    }

    fn failure(index: usize) -> Failure {
        Failure { index, reason: crate::eval::FailReason::Violated, values: Default::default() }
    }

    #[test]
    fn a_chunk_reads_back_every_kind_it_was_given_across_words() {
        // 150 rows: three words of bits, every kind at every offset mod 4.
        let kinds = [OutcomeKind::Pass, OutcomeKind::Fail, OutcomeKind::NotApplicable, OutcomeKind::Waived];
        let given: Vec<Outcome> = (0..150u32)
            .map(|r| {
                let kind = kinds[(r as usize * 7 + r as usize / 5) % 4];
                let failing = matches!(kind, OutcomeKind::Fail | OutcomeKind::Waived);
                Outcome {
                    row: Some(10 + r),
                    key: Key::single(Arc::from(format!("k{r}"))),
                    kind,
                    failures: if failing { vec![failure(r as usize % 3)].into() } else { Failures::default() },
                    waived_by: (kind == OutcomeKind::Waived).then_some(r % 2),
                }
            })
            .collect();
        let chunk: OutcomeChunk = given.iter().cloned().collect();
        assert_eq!(chunk.len(), 150);
        let read: Vec<Outcome> = chunk.iter().map(|o| o.to_owned()).collect();
        assert_eq!(read, given, "in order");
        for (i, o) in given.iter().enumerate() {
            assert_eq!(chunk.get(i).map(|v| v.to_owned()).as_ref(), Some(o), "at {i}");
        }
        assert!(chunk.get(150).is_none());
        let failing: Vec<u32> = chunk.failing().filter_map(|o| o.row).collect();
        let expected: Vec<u32> = given
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Fail | OutcomeKind::Waived))
            .filter_map(|o| o.row)
            .collect();
        assert_eq!(failing, expected);
        assert_eq!(chunk.failed_count(), given.iter().filter(|o| o.kind == OutcomeKind::Fail).count());
        let mut counts = [0; 4];
        given.iter().for_each(|o| counts[o.kind as usize] += 1);
        assert_eq!(chunk.counts(), counts);
        assert!(counts.iter().all(|&n| n > 0), "every kind given: {counts:?}");
        // Split in three chunks (one empty), every failing outcome is found
        // from every position before it.
        let parts: Vec<Arc<OutcomeChunk>> =
            [&given[..70], &[][..], &given[70..]].iter().map(|part| Arc::new(part.iter().cloned().collect())).collect();
        let outcomes = Outcomes::from_chunks(parts);
        let mut cursor = FailingCursor::default();
        let mut walked = Vec::new();
        while let Some((i, o)) = outcomes.next_failing(&mut cursor) {
            assert_eq!(outcomes.next_failing(&mut cursor).map(|(j, _)| j), Some(i), "the cursor stays");
            walked.push((i, o.row));
            cursor.advance();
        }
        let expected: Vec<(usize, Option<u32>)> =
            given.iter().enumerate().filter(|(_, o)| !o.failures.is_empty()).map(|(i, o)| (i, o.row)).collect();
        assert_eq!(walked, expected);
    }

    #[test]
    fn rows_appended_a_block_at_a_time_read_as_if_appended_one_by_one() {
        let kinds = [OutcomeKind::Pass, OutcomeKind::Fail, OutcomeKind::NotApplicable];
        let given: Vec<Outcome> = (0..150u32)
            .map(|r| {
                let kind = kinds[(r as usize * 5 + r as usize / 7) % 3];
                // One failure, or two of one row.
                let failures = match kind {
                    OutcomeKind::Fail if r % 3 == 0 => vec![failure(0), failure(1)].into(),
                    OutcomeKind::Fail => vec![failure(r as usize % 2)].into(),
                    _ => Failures::default(),
                };
                Outcome {
                    row: Some(10 + r),
                    key: Key::single(Arc::from(format!("k{r}"))),
                    kind,
                    failures,
                    waived_by: None,
                }
            })
            .collect();
        let keys: Arc<[Arc<str>]> = given.iter().map(|o| o.key.to_arc()).collect();
        let mut chunk = OutcomeChunk::new(Some(10), keys);
        // One row alone, then blocks: the first starts inside a word of
        // bits and ends in it, the second starts inside one and runs into
        // the next, the third too and ends the list inside a word.
        chunk.push(given[0].kind, given[0].failures.clone(), None);
        let mut at = 1;
        for len in [40, 64, 45] {
            let block = &given[at..at + len];
            let mut not_applicable = 0u64;
            let mut failed = Vec::new();
            for (i, o) in block.iter().enumerate() {
                match o.kind {
                    OutcomeKind::NotApplicable => not_applicable |= 1 << i,
                    OutcomeKind::Fail => failed.extend(o.failures.iter().map(|f| (i as u32, f.clone()))),
                    _ => {}
                }
            }
            chunk.push_rows(len, not_applicable, failed);
            at += len;
        }
        let read: Vec<Outcome> = chunk.iter().map(|o| o.to_owned()).collect();
        assert_eq!(read, given);
        assert!(given.iter().any(|o| o.failures.len() == 2), "a row with two failures");
        let by_position: Vec<Outcome> = (0..given.len()).filter_map(|i| chunk.get(i)).map(|o| o.to_owned()).collect();
        assert_eq!(by_position, given);
        let mut counts = [0; 4];
        given.iter().for_each(|o| counts[o.kind as usize] += 1);
        assert_eq!(chunk.counts(), counts);
    }

    #[test]
    fn a_plain_violation_is_known_from_the_record_however_the_outcome_was_appended() {
        let undecided = Failure {
            index: 1,
            reason: crate::eval::FailReason::NoEvidence(Arc::new(crate::ir::Unknown::NotRecorded(Arc::from("s.x")))),
            values: Default::default(),
        };
        // Per row: its failures and the plain violation they make.
        let rows: [(Vec<Failure>, Option<u32>); 5] = [
            (vec![failure(2)], Some(2)),
            (vec![failure(0), failure(1)], None),
            (vec![undecided.clone()], None),
            (vec![failure(1), undecided], None),
            (vec![failure(Failure::OF_WHERE)], None),
        ];
        let keys: Arc<[Arc<str>]> = (0..rows.len()).map(|r| Arc::from(format!("k{r}"))).collect();
        let mut by_rows = OutcomeChunk::new(Some(0), keys.clone());
        let failed = rows.iter().enumerate().flat_map(|(r, (fs, _))| fs.iter().map(move |f| (r as u32, f.clone())));
        by_rows.push_rows(rows.len(), 0, failed.collect::<Vec<_>>());
        let mut one_by_one = OutcomeChunk::new(Some(0), keys);
        for (failures, _) in &rows {
            one_by_one.push(OutcomeKind::Fail, failures.clone().into(), None);
        }
        let expected: Vec<Option<u32>> = rows.iter().map(|(_, plain)| *plain).collect();
        for chunk in [&by_rows, &one_by_one] {
            assert_eq!(chunk.iter().map(|o| o.plain_violation).collect::<Vec<_>>(), expected);
            assert_eq!(chunk.failing().map(|o| o.plain_violation).collect::<Vec<_>>(), expected);
        }
        assert_eq!(by_rows, one_by_one);
        assert!(OutcomeChunk::from_iter([outcome(0)]).iter().all(|o| o.plain_violation.is_none()), "a pass");
    }

    #[test]
    fn failures_collected_keep_their_order_and_none_allocate_nothing() {
        assert_eq!(Failures::from_iter(std::iter::empty()), Failures::default());
        for n in 1..4 {
            let failures: Failures = (0..n).map(failure).collect();
            assert_eq!(failures.iter().map(|f| f.index).collect::<Vec<_>>(), (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn waiving_turns_a_failure_into_a_waived_outcome_and_nothing_else() {
        let mut chunk: OutcomeChunk = (0..3u32)
            .map(|r| Outcome {
                row: Some(r),
                key: Key::single(Arc::from(format!("k{r}"))),
                kind: if r == 1 { OutcomeKind::Fail } else { OutcomeKind::Pass },
                failures: if r == 1 { vec![failure(0)].into() } else { Failures::default() },
                waived_by: None,
            })
            .collect();
        let before = chunk.clone();
        chunk.waive_where(|key| (key == "k0").then_some(4));
        assert_eq!(chunk, before, "a passing outcome is not waived");
        chunk.waive_where(|_| Some(4));
        let waived = chunk.get(1).map(|o| (o.kind, o.waived_by, o.failures.len()));
        assert_eq!(waived, Some((OutcomeKind::Waived, Some(4), 1)));
        assert_ne!(chunk, before);
        assert_eq!(chunk.failed_count(), 0);
    }

    #[test]
    fn int_keys_order_as_numbers_and_text_keys_as_text() {
        let mut keys = vec!["10", "2", "-3", "1"];
        keys.sort_by(|a, b| cmp_keys(true, a, b));
        assert_eq!(keys, ["-3", "1", "2", "10"]);
        keys.sort_by(|a, b| cmp_keys(false, a, b));
        assert_eq!(keys, ["-3", "1", "10", "2"]);
        assert_eq!(cmp_keys(true, "7", "x"), std::cmp::Ordering::Less, "total even on a stray key");
    }

    #[test]
    fn positions_run_across_chunks_of_any_size() {
        let chunked = Outcomes::from_chunks(vec![
            Arc::new((0..3).map(outcome).collect()),
            Arc::new(OutcomeChunk::default()),
            Arc::new((3..5).map(outcome).collect()),
        ]);
        let flat = Outcomes::from((0..5).map(outcome).collect::<Vec<_>>());
        assert_eq!(chunked.len(), 5);
        for i in 0..5 {
            assert_eq!(chunked.get(i).and_then(|o| o.row), Some(i as u32));
        }
        assert!(chunked.get(5).is_none());
        assert_eq!(chunked.iter().filter_map(|o| o.row).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert_eq!(chunked, flat);
        assert_ne!(chunked, Outcomes::from((0..4).map(outcome).collect::<Vec<_>>()));
        assert!(Outcomes::default().get(0).is_none());
        assert!(Outcomes::default().next_failing(&mut FailingCursor::default()).is_none());
    }
}
