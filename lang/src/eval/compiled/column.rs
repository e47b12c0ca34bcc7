//! Columns: what an expression evaluates to over the rows of a block.
//!
//! A block is at most [`BLOCK_ROWS`] rows, so a set of its rows is one
//! `u64` ([`Mask`]). Only the rows of the mask an expression was evaluated
//! on (its live rows) hold meaningful values; the others are never read.

use std::borrow::Cow;
use std::sync::Arc;

use crate::facts::columns::{Column, Columns, Typed};
use crate::ir::{EntityId, Unknown, Value};

/// Rows of a block evaluated together: the facts of one chunk.
pub const BLOCK_ROWS: usize = 64;

/// A set of rows of a block: bit `i` is row `i`.
pub type Mask = u64;

/// The rows of a mask, in ascending order.
pub fn rows(mask: Mask) -> Rows {
    Rows(mask)
}

/// The rows of a mask, in order ([`rows`]): as many as its bits, so a list
/// collected from them is allocated once.
#[derive(Clone, Copy)]
pub struct Rows(Mask);

impl Iterator for Rows {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(i)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Rows {}

/// The mask of the first `n` rows.
pub fn first(n: usize) -> Mask {
    if n >= BLOCK_ROWS {
        Mask::MAX
    } else {
        (1 << n) - 1
    }
}

/// An expression's value on every live row of a block. A field's path
/// (shown when the field is not recorded) is borrowed from the rule's
/// expression (`'p`), not shared by reference count: every thread
/// evaluating the same rule would count on the same counter, a cache line
/// passed between the cores at each block.
#[derive(Clone, Debug)]
pub enum Col<'p> {
    /// The same value on every row (a constant, the evaluation date).
    Splat(Value),
    /// The block's own entities (the rule's subject): row `i` is
    /// `Value::Row(entity, start + i)`.
    Rows(EntityId, u32),
    /// A field of the block's own entities, read in place; an absent
    /// value reads as "`path` is not recorded", as the interpreter's.
    Field(u32, &'p Arc<str>),
    /// The list elements a quantifier ranges over, one per row of its
    /// block ([`BlockRows::items`]), read in place.
    Items,
    /// A field of those elements when every one is a record, read in
    /// place; an absent value reads as "`path` is not recorded".
    ItemField(u32, &'p Arc<str>),
    /// One value per row.
    Vals(Vec<Value>),
    /// An `Int` per live row (`ints.rs`; the other rows hold 0, never read).
    Ints(Vec<i64>),
    /// Booleans as masks.
    Bools(Bools),
}

/// A Boolean column: the rows that are true, the rows that are false, and
/// the value of every other live row (an unknown, or absent).
#[derive(Clone, Debug, Default)]
pub struct Bools {
    /// Rows whose value is `true`.
    pub t: Mask,
    /// Rows whose value is `false`.
    pub f: Mask,
    /// The other rows' values, by ascending row.
    pub other: Vec<(u32, Value)>,
}

impl Bools {
    /// The value of a row that is neither true nor false.
    pub fn other_at(&self, i: usize) -> Option<&Value> {
        self.other.binary_search_by_key(&(i as u32), |(r, _)| *r).ok().map(|at| &self.other[at].1)
    }

    /// Records the value of a row: its bit when it is a Boolean, else the value.
    pub fn push(&mut self, i: usize, value: Value) {
        match value {
            Value::Bool(true) => self.t |= 1 << i,
            Value::Bool(false) => self.f |= 1 << i,
            other => self.other.push((i as u32, other)),
        }
    }

    /// Records a row with the value another column holds there.
    pub fn push_from(&mut self, i: usize, from: &Bools) {
        let bit = 1 << i;
        if from.t & bit != 0 {
            self.t |= bit;
        } else if from.f & bit != 0 {
            self.f |= bit;
        } else if let Some(v) = from.other_at(i) {
            self.other.push((i as u32, v.clone()));
        } else {
            self.other.push((i as u32, Value::Absent));
        }
    }
}

/// The rows of the block being evaluated: their field values, read once.
pub struct BlockRows<'f> {
    /// Each row's field values (empty for a row the facts do not hold).
    pub values: Vec<&'f [Value]>,
    /// In a quantifier's block, the element each row stands for (empty
    /// elsewhere).
    pub items: Vec<&'f Value>,
    /// Whether every one of `items` is a record (its fields then read in
    /// place, `Col::ItemField`): found once per block, not at every field.
    pub records: bool,
    /// The rows' fields as typed columns, when the block is a whole chunk
    /// whose facts are held so (`None` elsewhere).
    pub columns: Option<&'f Columns>,
}

impl<'f> BlockRows<'f> {
    /// Field `field` of the block's own entities as a typed column.
    pub fn column(&self, field: u32) -> Option<&'f Column> {
        self.columns.and_then(|c| c.field(field))
    }

    /// The typed column `col` reads, when it is a field of the block's own
    /// entities held so.
    pub fn column_of(&self, col: &Col) -> Option<&'f Column> {
        match col {
            Col::Field(f, _) => self.column(*f),
            _ => None,
        }
    }
}

impl<'p> Col<'p> {
    /// For a field column (of the block's entities or of its list
    /// elements), row `i`'s value as stored, read in place: inside, `None`
    /// when the row has no such field. `None` for any other column.
    pub fn stored<'r>(&self, rows: &BlockRows<'r>, i: usize) -> Option<Option<&'r Value>> {
        match self {
            Col::Field(field, _) => Some(subject_field(rows, *field, i)),
            Col::ItemField(field, _) => Some(element_field(rows, *field, i)),
            _ => None,
        }
    }

    /// The value of row `i`.
    pub fn get<'a>(&'a self, rows: &'a BlockRows, i: usize) -> Cow<'a, Value> {
        match self {
            Col::Splat(v) => Cow::Borrowed(v),
            Col::Rows(entity, start) => Cow::Owned(Value::Row(*entity, start + i as u32)),
            // A typed column holds the value itself: the row (cold by now,
            // for a failure's observed values) is not read.
            Col::Field(_, path) | Col::ItemField(_, path) => {
                match rows.column_of(self).and_then(|column| column.value(i)) {
                    Some(v) => Cow::Owned(v),
                    None => match self.stored(rows, i).flatten() {
                        Some(Value::Absent) | None => Cow::Owned(not_recorded(path)),
                        Some(v) => Cow::Borrowed(v),
                    },
                }
            }
            Col::Items => rows.items.get(i).map_or(Cow::Owned(Value::Absent), |v| Cow::Borrowed(*v)),
            Col::Vals(values) => values.get(i).map_or(Cow::Owned(Value::Absent), Cow::Borrowed),
            Col::Ints(xs) => Cow::Owned(xs.get(i).map_or(Value::Absent, |x| Value::Int(*x))),
            Col::Bools(b) => {
                let bit = 1 << i;
                if b.t & bit != 0 {
                    Cow::Owned(Value::Bool(true))
                } else if b.f & bit != 0 {
                    Cow::Owned(Value::Bool(false))
                } else {
                    b.other_at(i).map_or(Cow::Owned(Value::Absent), Cow::Borrowed)
                }
            }
        }
    }

    /// The column as Booleans on the live rows.
    pub fn bools(&self, rows: &BlockRows, live: Mask) -> Cow<'_, Bools> {
        let mut out = Bools::default();
        match self {
            Col::Bools(b) if b.t & !live == 0 && b.f & !live == 0 => return Cow::Borrowed(b),
            Col::Bools(b) => self::rows(live).for_each(|i| out.push_from(i, b)),
            // A constant (`where true`) decides every row at once.
            Col::Splat(Value::Bool(true)) => out.t = live,
            Col::Splat(Value::Bool(false)) => out.f = live,
            // A Boolean field, read in place: no copy of the common value;
            // its typed column decides the rows it holds at once.
            Col::Field(f, path) => {
                let mut read = live;
                if let Some(Column { typed, values: Typed::Bool(t), .. }) = rows.column(*f) {
                    out.t = live & typed & t;
                    out.f = live & typed & !t;
                    read &= !typed;
                }
                read_bools(&mut out, read, |i| subject_field(rows, *f, i), path)
            }
            Col::ItemField(f, path) => read_bools(&mut out, live, |i| element_field(rows, *f, i), path),
            _ => self::rows(live).for_each(|i| out.push(i, self.get(rows, i).into_owned())),
        }
        Cow::Owned(out)
    }
}

/// Field `field` of row `i`'s own entity, as the facts hold it.
pub fn subject_field<'r>(rows: &BlockRows<'r>, field: u32, i: usize) -> Option<&'r Value> {
    rows.values.get(i).and_then(|v| v.get(field as usize))
}

/// Field `field` of the record row `i` stands for in a quantifier's block
/// (`None` when it is not a record).
pub fn element_field<'r>(rows: &BlockRows<'r>, field: u32, i: usize) -> Option<&'r Value> {
    match rows.items.get(i) {
        Some(Value::Record(values)) => values.get(field as usize),
        _ => None,
    }
}

/// The live rows' field values (`read`) as Booleans, an absent one as
/// "`path` is not recorded".
fn read_bools<'r>(out: &mut Bools, live: Mask, read: impl Fn(usize) -> Option<&'r Value>, path: &Arc<str>) {
    for i in rows(live) {
        match read(i) {
            Some(Value::Bool(true)) => out.t |= 1 << i,
            Some(Value::Bool(false)) => out.f |= 1 << i,
            Some(Value::Absent) | None => out.other.push((i as u32, not_recorded(path))),
            Some(other) => out.other.push((i as u32, other.clone())),
        }
    }
}

/// The unknown a missing field reads as.
pub fn not_recorded(path: &Arc<str>) -> Value {
    Value::Unknown(Arc::new(Unknown::NotRecorded(path.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_a_mask_are_its_set_bits_in_order() {
        assert_eq!(rows(0b1010_0101).collect::<Vec<_>>(), vec![0, 2, 5, 7]);
        assert_eq!(rows(Mask::MAX).count(), 64);
        assert_eq!(rows(0).count(), 0);
        assert_eq!(first(3), 0b111);
        assert_eq!(first(64), Mask::MAX);
    }

    #[test]
    fn a_boolean_column_reads_back_what_was_pushed() {
        let mut b = Bools::default();
        b.push(0, Value::Bool(true));
        b.push(3, Value::Absent);
        b.push(5, Value::Bool(false));
        b.push(9, Value::Int(4));
        let col = Col::Bools(b);
        let rows = BlockRows { values: Vec::new(), items: Vec::new(), records: true, columns: None };
        let read: Vec<Value> = [0, 3, 5, 9].iter().map(|i| col.get(&rows, *i).into_owned()).collect();
        assert_eq!(read, vec![Value::Bool(true), Value::Absent, Value::Bool(false), Value::Int(4)]);
    }
}
