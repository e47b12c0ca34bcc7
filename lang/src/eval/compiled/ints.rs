//! `Int`s as machine integers: a column of them ([`Col::Ints`]) and the
//! nodes that compute on them without a `Value` per row.
//!
//! `+`, `-` and `*` of two `Int`s, `min` and `max` of two `Int`s,
//! `days_since` of a date field and the comparison of two `Int`s are a
//! rule's commonest computations (a score, an age in days). When both
//! operands are an `Int` on every live row (a constant, an `Int` column,
//! the typed column of an `Int` field of the block's own facts, in a block
//! that is a whole chunk, or values that all happen to be `Int`s)
//! they run as loops over `i64`s, with the interpreter's results
//! (`arith`, `Env::builtin`, `Env::compare` on two `Int`s). An overflow on
//! any row leaves the whole node to the `Value` path, which gives that
//! row its unknown. An `if` whose branches are all `Int`s (a score's
//! `if ... then 1 else 0`) is a column of them too.

use std::borrow::Cow;

use super::column::{rows, Bools, Col, Mask};
use super::nodes::Block;
use crate::facts::columns::{Column, Typed};
use crate::ir::*;
use crate::syntax::ast::CmpOp;

/// An operand that is an `Int` on every live row.
pub enum Ints<'c> {
    /// The same on every row.
    Const(i64),
    /// Row `i`'s is at `i`.
    Rows(Cow<'c, [i64]>),
}

impl Ints<'_> {
    fn at(&self, i: usize) -> i64 {
        match self {
            Ints::Const(c) => *c,
            Ints::Rows(xs) => xs[i],
        }
    }
}

impl<'a> Block<'_, 'a> {
    /// `col` as integers, when it is an `Int` on every live row.
    pub(super) fn ints<'c>(&'c self, col: &'c Col, live: Mask) -> Option<Ints<'c>> {
        match col {
            Col::Splat(Value::Int(c)) => Some(Ints::Const(*c)),
            Col::Ints(xs) => Some(Ints::Rows(Cow::Borrowed(xs))),
            Col::Field(..) => match self.rows.column_of(col)? {
                Column { typed, values: Typed::Int(xs), .. } if live & !typed == 0 => {
                    Some(Ints::Rows(Cow::Borrowed(xs)))
                }
                _ => None,
            },
            Col::Vals(values) => {
                // Checked before anything is allocated: most value columns
                // that are not all `Int`s say so at their first row.
                if !rows(live).all(|i| matches!(values.get(i), Some(Value::Int(_)))) {
                    return None;
                }
                let mut xs = vec![0; values.len()];
                for i in rows(live) {
                    if let Some(Value::Int(x)) = values.get(i) {
                        xs[i] = *x;
                    }
                }
                Some(Ints::Rows(Cow::Owned(xs)))
            }
            _ => None,
        }
    }

    /// `a op b` on the live rows, as `arith` gives it for two `Int`s.
    pub(super) fn int_arith(&self, op: Arith, a: &Col, b: &Col, live: Mask) -> Option<Col<'a>> {
        let apply: fn(i64, i64) -> Option<i64> = match op {
            Arith::Add => i64::checked_add,
            Arith::Sub => i64::checked_sub,
            Arith::Mul => i64::checked_mul,
            _ => return None,
        };
        self.int_binary(&self.ints(a, live)?, &self.ints(b, live)?, live, apply)
    }

    /// A builtin on the live rows, as `Env::builtin` gives it for `Int`s
    /// (`min`, `max`) and for a date field (`days_since`).
    pub(super) fn int_builtin(&self, builtin: Builtin, args: &[Cow<Col>], live: Mask) -> Option<Col<'a>> {
        match (builtin, args) {
            (Builtin::Min2, [a, b]) => {
                self.int_binary(&self.ints(a, live)?, &self.ints(b, live)?, live, |x, y| Some(x.min(y)))
            }
            (Builtin::Max2, [a, b]) => {
                self.int_binary(&self.ints(a, live)?, &self.ints(b, live)?, live, |x, y| Some(x.max(y)))
            }
            // A list's length is in its pointer: the list itself is not
            // read (copying its value touched its allocation at each row).
            (Builtin::Len, [list]) => {
                let mut out = vec![0; self.len()];
                for i in rows(live) {
                    match &*list.get(&self.rows, i) {
                        Value::List(items) => out[i] = i64::try_from(items.len()).ok()?,
                        _ => return None,
                    }
                }
                Some(Col::Ints(out))
            }
            (Builtin::DaysSince, [date]) => {
                let Some(Column { typed, values: Typed::Date(dates), .. }) = self.rows.column_of(date) else {
                    return None;
                };
                if live & !typed != 0 {
                    return None;
                }
                let as_of = self.env.as_of;
                let mut out = vec![0; self.len()];
                for i in rows(live) {
                    out[i] = as_of.days_since(dates[i]);
                }
                Some(Col::Ints(out))
            }
            _ => None,
        }
    }

    /// The value of an `if` whose every branch is an `Int` on the rows
    /// that take it (`taken`: those rows and the branch's value).
    pub(super) fn int_branches(&self, taken: &[(Mask, Cow<Col>)]) -> Option<Col<'a>> {
        let mut out = vec![0; self.len()];
        for (live, value) in taken {
            let ints = self.ints(value, *live)?;
            for i in rows(*live) {
                out[i] = ints.at(i);
            }
        }
        Some(Col::Ints(out))
    }

    /// `a op b` compared on the live rows, as `Env::compare` orders two `Int`s.
    pub(super) fn int_compare(&self, op: CmpOp, a: &Col, b: &Col, live: Mask) -> Option<Bools> {
        let (a, b) = (self.ints(a, live)?, self.ints(b, live)?);
        let mut t: Mask = 0;
        for i in rows(live) {
            t |= Mask::from(op.holds(a.at(i).cmp(&b.at(i)))) << i;
        }
        Some(Bools { t, f: live & !t, other: Vec::new() })
    }

    fn int_binary(&self, a: &Ints, b: &Ints, live: Mask, apply: impl Fn(i64, i64) -> Option<i64>) -> Option<Col<'a>> {
        let mut out = vec![0; self.len()];
        for i in rows(live) {
            out[i] = apply(a.at(i), b.at(i))?;
        }
        Some(Col::Ints(out))
    }
}
