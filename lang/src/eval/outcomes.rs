//! How outcomes are held: shared, and never copied out of the incremental
//! database's memos.
//!
//! A first evaluation over 100,000 facts makes millions of outcomes; copying
//! them from the per-chunk memos into one list per rule, and again into the
//! evaluation, cost more than evaluating them. [`Outcomes`] is a rule's list
//! as the chunks' shared lists, [`Failures`] makes an outcome's failed
//! requirements a shared slice that a passing outcome does not allocate,
//! and [`Key`] names an outcome's entity from its chunk's shared keys.

use std::sync::Arc;

use super::{Failure, Outcome};

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
        self.keys.get(self.index as usize).cloned().unwrap_or_else(|| Arc::from(""))
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
        self.keys.get(self.index as usize).map_or("", |k| k)
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

impl<'a> IntoIterator for &'a Failures {
    type Item = &'a Failure;
    type IntoIter = std::slice::Iter<'a, Failure>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

/// All outcomes of a rule, in fact order, held as the shared lists of the
/// chunks they were evaluated in.
#[derive(Clone, Debug, Default)]
pub struct Outcomes {
    chunks: Vec<Arc<Vec<Outcome>>>,
    /// Where each chunk starts in the whole list.
    starts: Vec<usize>,
    len: usize,
}

type ChunkIter<'a> = std::iter::FlatMap<
    std::slice::Iter<'a, Arc<Vec<Outcome>>>,
    std::slice::Iter<'a, Outcome>,
    fn(&'a Arc<Vec<Outcome>>) -> std::slice::Iter<'a, Outcome>,
>;

impl Outcomes {
    /// The outcomes of consecutive chunks.
    pub fn from_chunks(chunks: Vec<Arc<Vec<Outcome>>>) -> Outcomes {
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
    pub fn get(&self, index: usize) -> Option<&Outcome> {
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

    /// The chunks' lists, in fact order: a list that was not recomputed
    /// since another evaluation is the same allocation in both
    /// (`Arc::ptr_eq`), which lets two evaluations be compared chunk by chunk.
    pub fn chunks(&self) -> &[Arc<Vec<Outcome>>] {
        &self.chunks
    }

    /// The first outcome, in fact order.
    pub fn first(&self) -> Option<&Outcome> {
        self.get(0)
    }

    /// Every outcome, in fact order.
    pub fn iter(&self) -> ChunkIter<'_> {
        fn chunk_iter(chunk: &Arc<Vec<Outcome>>) -> std::slice::Iter<'_, Outcome> {
            chunk.iter()
        }
        self.chunks.iter().flat_map(chunk_iter as fn(&Arc<Vec<Outcome>>) -> std::slice::Iter<'_, Outcome>)
    }
}

impl From<Vec<Outcome>> for Outcomes {
    fn from(outcomes: Vec<Outcome>) -> Outcomes {
        Outcomes::from_chunks(vec![Arc::new(outcomes)])
    }
}

impl std::ops::Index<usize> for Outcomes {
    type Output = Outcome;
    fn index(&self, index: usize) -> &Outcome {
        match self.get(index) {
            Some(o) => o,
            None => panic!("outcome {index} of {}", self.len),
        }
    }
}

impl<'a> IntoIterator for &'a Outcomes {
    type Item = &'a Outcome;
    type IntoIter = ChunkIter<'a>;
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

    #[test]
    fn an_outcome_fits_in_a_cache_line() {
        // A first evaluation of 100,000 systems makes two million of them:
        // each byte more is 2 MB more to fault in and zero.
        assert!(std::mem::size_of::<Outcome>() <= 64, "{}", std::mem::size_of::<Outcome>());
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
            Arc::new(Vec::new()),
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
    }
}
