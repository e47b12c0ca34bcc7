//! A chunk's facts field by field: each field as a column, typed when its
//! values are scalars.
//!
//! Facts are stored row by row (a [`Row`] per fact, its values side by
//! side), which is what loading, editing and reporting want. A rule over
//! a chunk reads one field of every fact, which row by row means a walk
//! through every fact's values to find one tag each; at 100,000 facts
//! that walk was most of a comparison's cost. [`Columns`] holds the same
//! values laid out per field, made once per chunk (the database memoizes
//! them with the chunk's rows) and read by every rule over it.
//!
//! A column is exact, not a summary: each fact's value is either absent
//! (bit set in [`Column::absent`]), held in the typed array
//! ([`Column::typed`]), or neither (text, lists, an unknown, a value of a
//! type the column did not start with), and a reader takes those facts'
//! values from their rows as before.

use crate::ir::{EnumId, MatrixId, ScaleId, Value};
use crate::num::Decimal;
use crate::Date;

use super::Row;

/// The most facts a set of [`Columns`] holds: a set of them is one `u64`.
pub const MAX_ROWS: usize = 64;

/// The fields of up to [`MAX_ROWS`] facts of one entity type, one
/// [`Column`] per field in the entity's field order (a field of text,
/// lists or references has only its absent rows: `is` reads them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    fields: Vec<Column>,
}

/// One field of the facts of a [`Columns`]: bit `i` of a mask is fact `i`.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The facts whose value is absent (not recorded, or no such field).
    pub absent: u64,
    /// The facts whose value [`Column::values`] holds.
    pub typed: u64,
    /// The typed values: meaningful only at the facts of `typed`.
    pub values: Typed,
}

/// The values of a column, of the type of the first value that has a
/// typed form.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    /// No value has a typed form (text, lists, records, references).
    None,
    /// Booleans: the facts whose value is `true`.
    Bool(u64),
    /// Values of one small domain, each by its index.
    Coded(Code, Vec<u32>),
    /// `Int`s.
    Int(Vec<i64>),
    /// `Number`s or percentages, whichever the first value was, exact:
    /// they compare as decimals. A value of the other kind is left to its
    /// row.
    Decimal {
        /// The values.
        values: Vec<Decimal>,
        /// Whether they are percentages rather than numbers.
        percent: bool,
    },
    /// Dates.
    Date(Vec<Date>),
}

/// The domain of a [`Typed::Coded`] column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// An enum's variants.
    Enum(EnumId),
    /// A scale's values.
    Scale(ScaleId),
    /// A matrix's levels.
    Level(MatrixId),
}

impl Code {
    /// The value of index `code` in this domain.
    pub fn value(self, code: u32) -> Value {
        match self {
            Code::Enum(e) => Value::Enum(e, code),
            Code::Scale(s) => Value::Scale(s, code),
            Code::Level(m) => Value::Level(m, code),
        }
    }

    fn of(value: &Value) -> Option<(Code, u32)> {
        match value {
            Value::Enum(e, i) => Some((Code::Enum(*e), *i)),
            Value::Scale(s, i) => Some((Code::Scale(*s), *i)),
            Value::Level(m, i) => Some((Code::Level(*m), *i)),
            _ => None,
        }
    }
}

impl Columns {
    /// The columns of `rows`; none when there are more than [`MAX_ROWS`].
    pub fn of_rows(rows: &[Row]) -> Columns {
        if rows.len() > MAX_ROWS {
            return Columns::default();
        }
        let width = rows.iter().map(|r| r.values.len()).max().unwrap_or(0);
        let mut fields = vec![Column { absent: 0, typed: 0, values: Typed::None }; width];
        // Row by row: each row's values are side by side, so each is read
        // once, in order (field by field, every row's values were walked
        // once per field).
        for (i, row) in crate::prefetch::ahead(rows.iter(), |row| crate::prefetch::slice(&row.values)).enumerate() {
            let bit = 1u64 << i;
            for (f, column) in fields.iter_mut().enumerate() {
                match row.values.get(f) {
                    None | Some(Value::Absent) => column.absent |= bit,
                    Some(value) => {
                        if column.values.set(i, value, rows.len()) {
                            column.typed |= bit;
                        }
                    }
                }
            }
        }
        Columns { fields }
    }

    /// The column of field `field` (in the entity's field order).
    pub fn field(&self, field: u32) -> Option<&Column> {
        self.fields.get(field as usize)
    }
}

impl Column {
    /// Fact `i`'s value when the column holds it ([`Column::typed`]): the
    /// value its row holds, made without reading the row.
    pub fn value(&self, i: usize) -> Option<Value> {
        if i >= MAX_ROWS || self.typed & (1 << i) == 0 {
            return None;
        }
        Some(match &self.values {
            Typed::None => return None,
            Typed::Bool(t) => Value::Bool(t & (1 << i) != 0),
            Typed::Coded(code, xs) => code.value(*xs.get(i)?),
            Typed::Int(xs) => Value::Int(*xs.get(i)?),
            Typed::Decimal { values, percent: false } => Value::Number(*values.get(i)?),
            Typed::Decimal { values, percent: true } => Value::Percent(*values.get(i)?),
            Typed::Date(xs) => Value::Date(*xs.get(i)?),
        })
    }
}

impl Typed {
    /// Holds `value` as fact `i`'s when it has this column's type (the
    /// first typed value decides the type); whether it did.
    fn set(&mut self, i: usize, value: &Value, len: usize) -> bool {
        if let Typed::None = self {
            *self = match value {
                Value::Bool(_) => Typed::Bool(0),
                Value::Int(_) => Typed::Int(vec![0; len]),
                Value::Number(_) => Typed::Decimal { values: vec![Decimal::ZERO; len], percent: false },
                Value::Percent(_) => Typed::Decimal { values: vec![Decimal::ZERO; len], percent: true },
                Value::Date(d) => Typed::Date(vec![*d; len]),
                other => match Code::of(other) {
                    Some((code, _)) => Typed::Coded(code, vec![0; len]),
                    None => return false,
                },
            };
        }
        match (self, value) {
            (Typed::Bool(t), Value::Bool(b)) => {
                *t |= u64::from(*b) << i;
                true
            }
            (Typed::Int(xs), Value::Int(x)) => {
                xs[i] = *x;
                true
            }
            (Typed::Decimal { values, percent: false }, Value::Number(x))
            | (Typed::Decimal { values, percent: true }, Value::Percent(x)) => {
                values[i] = *x;
                true
            }
            (Typed::Date(xs), Value::Date(x)) => {
                xs[i] = *x;
                true
            }
            (Typed::Coded(code, xs), value) => match Code::of(value) {
                Some((c, x)) if c == *code => {
                    xs[i] = x;
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diag::FileId;
    use crate::facts::Origin;

    fn row(values: Vec<Value>) -> Row {
        Row::new(values.into(), Origin::Row { file: FileId(0), span: Default::default() })
    }

    #[test]
    fn each_fact_is_absent_typed_or_left_to_its_row() {
        let e = EnumId(2);
        let rows = vec![
            row(vec![Value::Enum(e, 1), Value::Int(4), Value::Bool(true), Value::Text("a".into())]),
            row(vec![Value::Absent, Value::Number(Decimal::ONE), Value::Bool(false)]),
            row(vec![Value::Enum(EnumId(3), 0), Value::Int(-2), Value::Absent, Value::Absent]),
            row(vec![Value::Enum(e, 0), Value::Unknown(Arc::new(crate::ir::Unknown::OutOfRange("x")))]),
        ];
        let columns = Columns::of_rows(&rows);
        let tier = columns.field(0).unwrap();
        // Another enum's value is not this column's: read from its row.
        assert_eq!((tier.absent, tier.typed), (0b0010, 0b1001));
        assert_eq!(tier.values, Typed::Coded(Code::Enum(e), vec![1, 0, 0, 0]));
        let count = columns.field(1).unwrap();
        assert_eq!((count.absent, count.typed), (0, 0b0101));
        assert_eq!(count.values, Typed::Int(vec![4, 0, -2, 0]));
        let flag = columns.field(2).unwrap();
        // A fact without the field reads as absent.
        assert_eq!((flag.absent, flag.typed, &flag.values), (0b1100, 0b0011, &Typed::Bool(0b0001)));
        let text = columns.field(3).unwrap();
        assert_eq!((text.absent, text.typed, &text.values), (0b1110, 0, &Typed::None));
        assert!(columns.field(4).is_none());
    }

    #[test]
    fn a_typed_fact_reads_back_as_its_rows_value() {
        let e = EnumId(2);
        let rows = vec![
            row(vec![Value::Enum(e, 1), Value::Number(Decimal::ONE), Value::Percent(Decimal::ONE), Value::Bool(true)]),
            row(vec![Value::Enum(e, 3), Value::Percent(Decimal::ONE), Value::Number(Decimal::ZERO), Value::Absent]),
            row(vec![Value::Absent, Value::Number(Decimal::ZERO), Value::Percent(Decimal::ZERO), Value::Bool(false)]),
            row(vec![
                Value::Date(crate::Date::parse("2026-01-02").unwrap()),
                Value::Int(3),
                Value::Text("t".into()),
                Value::Bool(true),
            ]),
        ];
        let columns = Columns::of_rows(&rows);
        for (i, row) in rows.iter().enumerate() {
            for (f, value) in row.values.iter().enumerate() {
                let column = columns.field(f as u32).unwrap();
                match column.value(i) {
                    // A percentage is not a number, nor a number a percentage.
                    Some(typed) => assert_eq!(&typed, value, "fact {i}, field {f}"),
                    None => assert!(column.typed & (1 << i) == 0, "fact {i}, field {f}"),
                }
            }
        }
        // The kind a column did not start with is left to the rows.
        assert_eq!(columns.field(1).unwrap().typed, 0b0101);
        assert_eq!(columns.field(2).unwrap().typed, 0b0101);
        assert_eq!(columns.field(0).unwrap().value(MAX_ROWS), None);
    }

    #[test]
    fn more_facts_than_a_mask_holds_have_no_columns() {
        let rows: Vec<Row> = (0..=MAX_ROWS).map(|i| row(vec![Value::Int(i as i64)])).collect();
        assert!(Columns::of_rows(&rows).field(0).is_none());
        assert!(Columns::of_rows(&rows[..MAX_ROWS]).field(0).is_some());
    }
}
