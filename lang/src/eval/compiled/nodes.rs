//! One expression over the live rows of a block, node by node.
//!
//! Each node keeps the interpreter's rules for every row: which operand it
//! evaluates (an operand is evaluated only on the rows where the
//! interpreter would evaluate it, so budget steps are taken on the same
//! rows), which unknown it yields, and the scalar operations themselves
//! (`Env::compare`, `arith`, `Env::builtin`, `Env::field`), shared with the
//! interpreter rather than written twice. Quantifiers and aggregates bind
//! a variable per element: the interpreter evaluates them row by row, in a
//! frame made from the columns.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use super::column::{element_field, first, not_recorded, rows, subject_field, BlockRows, Bools, Col, Mask, BLOCK_ROWS};
use super::quantifier::takes_steps;
use crate::eval::expr::{arith, stopped_by_budget};
use crate::eval::{new_frame, Env, Frame};
use crate::facts::columns::{Column, Typed};
use crate::ir::*;
use crate::syntax::ast::CmpOp;

/// The rows of a block being evaluated, and what each row's outcome has
/// spent of the evaluation budget. `'a` is the life of the facts and of
/// the program's expressions, which the columns borrow from.
pub struct Block<'e, 'a> {
    pub env: &'e Env<'a>,
    pub rows: BlockRows<'a>,
    /// Each row's step count: the interpreter's count for that row's outcome.
    steps: [Cell<u64>; BLOCK_ROWS],
    len: usize,
    /// The address of the frame whose calls are kept in `calls` (the
    /// rule's own, while its steps are evaluated), or 0.
    keeping: Cell<usize>,
    calls: RefCell<Vec<KeptCall<'a>>>,
}

/// A call evaluated in the rule's own frame, kept so that observing a
/// failure reads its value again instead of evaluating it again.
struct KeptCall<'a> {
    /// The call's expression, by address.
    call: usize,
    /// The rows it was evaluated on.
    rows: Mask,
    col: Col<'a>,
    /// The steps each row's evaluation of it took.
    steps: [u64; BLOCK_ROWS],
}

impl<'e, 'a> Block<'e, 'a> {
    /// A block of `rows` (at most [`BLOCK_ROWS`]), no step taken yet.
    pub fn new(env: &'e Env<'a>, rows: BlockRows<'a>, len: usize) -> Block<'e, 'a> {
        Block {
            env,
            rows,
            steps: std::array::from_fn(|_| Cell::new(0)),
            len: len.min(BLOCK_ROWS),
            keeping: Cell::new(0),
            calls: RefCell::new(Vec::new()),
        }
    }

    /// Keeps the value of every call evaluated in the frame `slots` from
    /// now on (`None`: stops keeping them), for [`Block::recall`].
    pub fn keep_calls(&self, slots: Option<&[Col]>) {
        self.keeping.set(slots.map_or(0, |s| s.as_ptr() as usize));
    }

    /// `call` on the live rows, for a failure's observation: the value its
    /// evaluation in the rule's frame gave, with the steps it took then
    /// counted again, on each row whose budget affords them (the
    /// interpreter's observation evaluates it again, and a call evaluated
    /// again in the same frame takes the same steps to the same value);
    /// evaluated again on the other rows. Calls were a rule's costliest
    /// observations (a function's whole body over the failing rows).
    pub fn recall<'s>(&self, call: &'a Ex, slots: &'s [Col<'a>], live: Mask) -> Cow<'s, Col<'a>> {
        let address = call as *const Ex as usize;
        let kept = {
            let mut calls = self.calls.borrow_mut();
            calls.iter().position(|k| k.call == address).map(|at| calls.swap_remove(at))
        };
        let Some(kept) = kept else { return self.eval(call, slots, live) };
        let mut read: Mask = 0;
        for i in rows(live & kept.rows) {
            self.on_row(i, || {
                if self.env.affords(kept.steps[i]) {
                    self.env.advance(kept.steps[i]);
                    read |= 1 << i;
                }
            });
        }
        let rest = live & !read;
        if rest == 0 {
            return Cow::Owned(kept.col);
        }
        let fresh = self.eval(call, slots, rest);
        Cow::Owned(self.map(live, |i| {
            let from = if read & (1 << i) != 0 { &kept.col } else { &*fresh };
            from.get(&self.rows, i).into_owned()
        }))
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Every row of the block.
    pub fn all(&self) -> Mask {
        first(self.len)
    }

    /// Runs `f` as part of row `i`'s outcome: with that row's step count.
    pub fn on_row<T>(&self, i: usize, f: impl FnOnce() -> T) -> T {
        self.env.set_steps(self.steps[i].get());
        let out = f();
        self.steps[i].set(self.env.steps());
        out
    }

    /// Row `i`'s frame of variables, as the interpreter would hold it.
    pub fn frame(&self, slots: &[Col<'a>], i: usize) -> Frame {
        let mut frame = new_frame(slots.len() as u32);
        for (slot, col) in frame.iter_mut().zip(slots) {
            *slot = col.get(&self.rows, i).into_owned();
        }
        frame
    }

    /// The value of `ex` on the live rows, in the frame of `slots`.
    pub fn eval<'s>(&self, ex: &'a Ex, slots: &'s [Col<'a>], live: Mask) -> Cow<'s, Col<'a>> {
        if live == 0 {
            return Cow::Owned(Col::Splat(Value::Absent));
        }
        // A leaf, or a field of a variable, goes no deeper: checking the
        // stack (a thread-local read) for it was a noticeable part of the
        // evaluation.
        let shallow = match ex {
            Ex::Const(_) | Ex::Today | Ex::Local(..) | Ex::Measure(_) => true,
            Ex::Field { base, .. } => matches!(**base, Ex::Local(..)),
            _ => false,
        };
        if shallow {
            return self.eval_inner(ex, slots, live);
        }
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.eval_inner(ex, slots, live))
    }

    fn eval_inner<'s>(&self, ex: &'a Ex, slots: &'s [Col<'a>], live: Mask) -> Cow<'s, Col<'a>> {
        let env = self.env;
        let col = match ex {
            Ex::Const(v) => Col::Splat(v.clone()),
            Ex::Today => Col::Splat(Value::Date(env.as_of)),
            Ex::Measure(id) => Col::Splat(env.measured(*id)),
            Ex::Local(slot, _) => match slots.get(*slot as usize) {
                Some(col) => return Cow::Borrowed(col),
                None => Col::Splat(Value::Absent),
            },
            Ex::Field { base, field, path } => {
                let base = self.eval(base, slots, live);
                match &*base {
                    Col::Rows(..) => Col::Field(*field, path),
                    // A record's field, as `Env::field` reads it.
                    Col::Items if self.rows.records => Col::ItemField(*field, path),
                    Col::Splat(v) => Col::Splat(env.field(v, *field, path)),
                    other => self.map(live, |i| env.field(&other.get(&self.rows, i), *field, path)),
                }
            }
            Ex::Not(a) => {
                let a = self.eval(a, slots, live);
                let b = a.bools(&self.rows, live).into_owned();
                Col::Bools(Bools { t: b.f, f: b.t, other: b.other })
            }
            Ex::Neg(a) => {
                let a = self.eval(a, slots, live);
                self.map(live, |i| match a.get(&self.rows, i).into_owned() {
                    Value::Int(n) => n.checked_neg().map_or_else(|| out_of_range("an Int negation"), Value::Int),
                    Value::Number(n) => Value::Number(-n),
                    Value::Percent(n) => Value::Percent(-n),
                    other => other,
                })
            }
            Ex::And(a, b) => self.and_or(true, a, b, slots, live),
            Ex::Or(a, b) => self.and_or(false, a, b, slots, live),
            Ex::Arith(op, a, b) => {
                let (a, b) = (self.eval(a, slots, live), self.eval(b, slots, live));
                if let Some(ints) = self.int_arith(*op, &a, &b, live) {
                    return Cow::Owned(ints);
                }
                self.map(live, |i| arith(*op, a.get(&self.rows, i).into_owned(), b.get(&self.rows, i).into_owned()))
            }
            Ex::Cmp(op, a, b) => {
                let (a, b) = (self.eval(a, slots, live), self.eval(b, slots, live));
                if let Col::Splat(y) = &*b {
                    if let Some(bools) = self.field_against(*op, &a, y, live) {
                        return Cow::Owned(Col::Bools(bools));
                    }
                }
                if let Some(bools) = self.int_compare(*op, &a, &b, live) {
                    return Cow::Owned(Col::Bools(bools));
                }
                let mut out = Bools::default();
                for i in rows(live) {
                    let (x, y) = (a.get(&self.rows, i), b.get(&self.rows, i));
                    if x.is_unknown() {
                        out.other.push((i as u32, x.into_owned()));
                    } else if y.is_unknown() {
                        out.other.push((i as u32, y.into_owned()));
                    } else if env.holds(*op, &x, &y) {
                        out.t |= 1 << i;
                    } else {
                        out.f |= 1 << i;
                    }
                }
                Col::Bools(out)
            }
            Ex::In { value, list, negated } => {
                let (v, l) = (self.eval(value, slots, live), self.eval(list, slots, live));
                // A coded field in a constant list: each distinct value
                // looked up once.
                let (mut out, read) = match (self.rows.column_of(&v), &*l) {
                    (Some(Column { typed, values: Typed::Coded(code, xs), .. }), Col::Splat(Value::List(items))) => {
                        let typed = live & typed;
                        let t = coded_rows(xs, typed, |x| {
                            let v = code.value(x);
                            let found =
                                items.iter().any(|item| env.compare(&v, item) == Some(std::cmp::Ordering::Equal));
                            found != *negated
                        });
                        (Bools { t, f: typed & !t, other: Vec::new() }, live & !typed)
                    }
                    _ => (Bools::default(), live),
                };
                let one = |i: usize| {
                    let v = v.get(&self.rows, i);
                    if v.is_unknown() {
                        return v.into_owned();
                    }
                    match &*l.get(&self.rows, i) {
                        Value::List(items) => {
                            let found =
                                items.iter().any(|item| env.compare(&v, item) == Some(std::cmp::Ordering::Equal));
                            Value::Bool(found != *negated)
                        }
                        other => other.clone(),
                    }
                };
                rows(read).for_each(|i| out.push(i, one(i)));
                Col::Bools(out)
            }
            Ex::Within(date, window) => {
                let (d, w) = (self.eval(date, slots, live), self.eval(window, slots, live));
                self.map_bools(live, |i| match (&*d.get(&self.rows, i), &*w.get(&self.rows, i)) {
                    (Value::Date(d), Value::Duration(w)) => Value::Bool(w.contains(*d, env.as_of)),
                    (u @ Value::Unknown(_), _) | (_, u @ Value::Unknown(_)) => u.clone(),
                    _ => Value::Bool(false),
                })
            }
            Ex::Is { value, some } => {
                let v = self.eval(value, slots, live);
                // A field's column knows which rows are absent (none) and
                // which hold a value (some).
                let (mut out, read) = match self.rows.column_of(&v) {
                    Some(column) => {
                        let (absent, present) = (live & column.absent, live & column.typed);
                        let (t, f) = if *some { (present, absent) } else { (absent, present) };
                        (Bools { t, f, other: Vec::new() }, live & !(absent | present))
                    }
                    None => (Bools::default(), live),
                };
                let is = |value: &Value| match value {
                    stopped @ Value::Unknown(_) if stopped_by_budget(stopped) => stopped.clone(),
                    v => Value::Bool(!matches!(v, Value::Unknown(_) | Value::Absent) == *some),
                };
                for i in rows(read) {
                    // A field read in place: an absent one is none without
                    // making its "not recorded" unknown first.
                    let value = match v.stored(&self.rows, i) {
                        Some(stored) => is(stored.unwrap_or(&Value::Absent)),
                        None => is(&v.get(&self.rows, i)),
                    };
                    out.push(i, value);
                }
                Col::Bools(out)
            }
            Ex::Coalesce(a, b) => {
                let a = self.eval(a, slots, live);
                let mut fallback: Mask = 0;
                for i in rows(live) {
                    match &*a.get(&self.rows, i) {
                        stopped @ Value::Unknown(_) if stopped_by_budget(stopped) => {}
                        Value::Unknown(_) | Value::Absent => fallback |= 1 << i,
                        _ => {}
                    }
                }
                if fallback == 0 {
                    return Cow::Owned(a.into_owned());
                }
                let b = self.eval(b, slots, fallback);
                self.map(live, |i| {
                    if fallback & (1 << i) != 0 {
                        b.get(&self.rows, i).into_owned()
                    } else {
                        a.get(&self.rows, i).into_owned()
                    }
                })
            }
            Ex::If { branches, otherwise } => {
                // Each branch's value on the rows that take it, and the
                // rows the budget stopped in a condition.
                let mut taken: Vec<(Mask, Cow<Col<'a>>)> = Vec::with_capacity(branches.len() + 1);
                let mut stopped: Vec<(u32, Value)> = Vec::new();
                let mut pending = live;
                for (cond, then) in branches {
                    if pending == 0 {
                        break;
                    }
                    let c = self.eval(cond, slots, pending);
                    let c = c.bools(&self.rows, pending);
                    for (r, v) in &c.other {
                        if stopped_by_budget(v) {
                            stopped.push((*r, v.clone()));
                            pending &= !(1 << r);
                        }
                    }
                    let rows = c.t & pending;
                    if rows != 0 {
                        taken.push((rows, self.eval(then, slots, rows)));
                    }
                    pending &= !rows;
                }
                if pending != 0 {
                    taken.push((pending, self.eval(otherwise, slots, pending)));
                }
                // Branches that are all `Int`s (a score's `then 1 else 0`)
                // give machine integers, for the arithmetic around them.
                if stopped.is_empty() {
                    if let Some(ints) = self.int_branches(&taken) {
                        return Cow::Owned(ints);
                    }
                }
                let mut out = vec![Value::Absent; self.len];
                for (rows, value) in &taken {
                    for i in self::rows(*rows) {
                        out[i] = value.get(&self.rows, i).into_owned();
                    }
                }
                for (r, v) in stopped {
                    out[r as usize] = v;
                }
                Col::Vals(out)
            }
            Ex::List(items) | Ex::Record(items) => {
                let cols: Vec<Cow<Col<'a>>> = items.iter().map(|item| self.eval(item, slots, live)).collect();
                let make = |values: Vec<Value>| match ex {
                    Ex::List(_) => Value::List(values.into()),
                    _ => Value::Record(values.into()),
                };
                // A literal of constants (`in [credit, hiring]`) is made once,
                // not once per row.
                if cols.iter().all(|c| matches!(**c, Col::Splat(_))) {
                    Col::Splat(make(cols.iter().map(|c| c.get(&self.rows, 0).into_owned()).collect()))
                } else {
                    self.map(live, |i| make(cols.iter().map(|c| c.get(&self.rows, i).into_owned()).collect()))
                }
            }
            Ex::Call { func, args } if self.keeping.get() == slots.as_ptr() as usize => {
                let before: [u64; BLOCK_ROWS] = std::array::from_fn(|i| self.steps[i].get());
                let col = self.call(*func, args, slots, live);
                let steps = std::array::from_fn(|i| self.steps[i].get().saturating_sub(before[i]));
                let call = ex as *const Ex as usize;
                self.calls.borrow_mut().push(KeptCall { call, rows: live, col: col.clone(), steps });
                col
            }
            Ex::Call { func, args } => self.call(*func, args, slots, live),
            Ex::Builtin(builtin, args) => {
                let cols: Vec<Cow<Col<'a>>> = args.iter().map(|a| self.eval(a, slots, live)).collect();
                if let Some(ints) = self.int_builtin(*builtin, &cols, live) {
                    return Cow::Owned(ints);
                }
                self.map(live, |i| {
                    let values: smallvec::SmallVec<[Value; 2]> =
                        cols.iter().map(|c| c.get(&self.rows, i).into_owned()).collect();
                    env.builtin(*builtin, &values)
                })
            }
            Ex::Quantifier { all, slot, source: Source::List(list), filter, body }
                if !takes_steps(list)
                    && !filter.as_deref().is_some_and(takes_steps)
                    && !body.as_deref().is_some_and(takes_steps) =>
            {
                self.list_quantifier(*all, *slot, list, filter.as_deref(), body.as_deref(), slots, live)
            }
            // A variable bound per element over every entity, or a source,
            // filter or body that takes steps: the interpreter, row by row.
            Ex::Quantifier { .. } | Ex::Aggregate { .. } => {
                let mut out = vec![Value::Absent; self.len];
                for i in rows(live) {
                    let mut frame = self.frame(slots, i);
                    out[i] = self.on_row(i, || env.eval(ex, &mut frame));
                }
                Col::Vals(out)
            }
        };
        Cow::Owned(col)
    }

    /// `a and b` (`conjunction`) or `a or b`, by Kleene's rules; `b` only
    /// on the rows `a` does not decide.
    fn and_or(&self, conjunction: bool, a: &'a Ex, b: &'a Ex, slots: &[Col<'a>], live: Mask) -> Col<'a> {
        let a = self.eval(a, slots, live);
        let a = a.bools(&self.rows, live);
        // The value of `a` that decides on its own: false for `and`, true for `or`.
        let (a_decides, a_passes) = if conjunction { (a.f, a.t) } else { (a.t, a.f) };
        let rest = live & !a_decides;
        let b = self.eval(b, slots, rest);
        let b = b.bools(&self.rows, rest);
        let (b_decides, b_passes) = if conjunction { (b.f, b.t) } else { (b.t, b.f) };
        let decided = a_decides | (b_decides & rest);
        let passed = a_passes & b_passes;
        let mut out = if conjunction {
            Bools { t: passed, f: decided, other: Vec::new() }
        } else {
            Bools { t: decided, f: passed, other: Vec::new() }
        };
        for i in rows(rest & !decided & !passed) {
            // `a` passed on: `b`'s value. `a` undecided: its own value.
            let from = if a_passes & (1 << i) != 0 { b.other_at(i) } else { a.other_at(i) };
            out.other.push((i as u32, from.cloned().unwrap_or(Value::Absent)));
        }
        Col::Bools(out)
    }

    /// A call of a function: one step per row (the interpreter counts a
    /// call as a step), then the body in a frame of the arguments.
    fn call(&self, func: FnId, args: &'a [Ex], slots: &[Col<'a>], live: Mask) -> Col<'a> {
        let env = self.env;
        let Some(def) = env.program.fns.get(func.index()) else { return Col::Splat(Value::Absent) };
        let mut stopped = Vec::new();
        let mut go: Mask = 0;
        for i in rows(live) {
            match self.on_row(i, || env.tick().then_some(()).ok_or_else(|| env.over_budget())) {
                Ok(()) => go |= 1 << i,
                Err(over) => stopped.push((i, over)),
            }
        }
        let body = if go != 0 {
            let callee = self.callee_slots(func, args, slots, go);
            Some(self.eval(&def.body, &callee, go).into_owned())
        } else {
            None
        };
        match body {
            Some(body) if stopped.is_empty() => body,
            body => {
                let mut out = vec![Value::Absent; self.len];
                if let Some(body) = &body {
                    for i in rows(go) {
                        out[i] = body.get(&self.rows, i).into_owned();
                    }
                }
                for (i, over) in stopped {
                    out[i] = over;
                }
                Col::Vals(out)
            }
        }
    }

    /// The frame of a call of `func` on the live rows: its arguments'
    /// columns, then its other variables, unbound.
    pub fn callee_slots(&self, func: FnId, args: &'a [Ex], slots: &[Col<'a>], live: Mask) -> Vec<Col<'a>> {
        let locals = self.env.program.fns.get(func.index()).map_or(0, |def| def.slots);
        let mut callee: Vec<Col<'a>> = args.iter().map(|a| self.eval(a, slots, live).into_owned()).collect();
        callee.resize(locals.max(args.len() as u32).max(1) as usize, Col::Splat(Value::Absent));
        callee
    }

    /// `s.field OP constant` (the commonest comparison), or a field of
    /// a quantifier's element against a constant: the field read in
    /// place, as `Col::get` would read it, without a copy per row. `None`
    /// when `field` is not a field column or the constant is unknown.
    fn field_against(&self, op: CmpOp, field: &Col, y: &Value, live: Mask) -> Option<Bools> {
        let rows = &self.rows;
        // One loop per kind of field, each reading its values directly.
        match field {
            _ if y.is_unknown() => None,
            Col::Field(f, path) => {
                let typed = rows.column(*f).and_then(|column| self.typed_against(op, column, y, live));
                let (mut out, read) = match typed {
                    Some(decided) => decided,
                    None => (Bools::default(), live),
                };
                self.read_against(&mut out, op, |i| subject_field(rows, *f, i), path, y, read);
                Some(out)
            }
            Col::ItemField(f, path) => {
                let mut out = Bools::default();
                self.read_against(&mut out, op, |i| element_field(rows, *f, i), path, y, live);
                Some(out)
            }
            _ => None,
        }
    }

    /// The live rows of a typed column compared with a known `y`: the
    /// rows decided, and the rows left to read from their facts (absent,
    /// or not held by the column). Each distinct value of a coded column
    /// is compared by `Env::holds` itself; a Boolean, `Int` or date
    /// against a constant of its own type, and a decimal against any
    /// number, as `Env::compare` orders them. `None` when the column's
    /// type cannot be compared so with `y`.
    fn typed_against(&self, op: CmpOp, column: &Column, y: &Value, live: Mask) -> Option<(Bools, Mask)> {
        let typed = live & column.typed;
        let mut t: Mask = 0;
        let mut test = |i: usize, holds: bool| t |= Mask::from(holds) << i;
        match (&column.values, y) {
            (Typed::Coded(code, xs), y) => t = coded_rows(xs, typed, |x| self.env.holds(op, &code.value(x), y)),
            (Typed::Bool(b), Value::Bool(y)) => rows(typed).for_each(|i| test(i, op.holds(((b >> i) & 1 == 1).cmp(y)))),
            (Typed::Int(xs), Value::Int(y)) => rows(typed).for_each(|i| test(i, op.holds(xs[i].cmp(y)))),
            (Typed::Decimal { values: xs, .. }, y) => {
                let y = y.as_decimal()?;
                rows(typed).for_each(|i| test(i, op.holds(xs[i].cmp(&y))))
            }
            (Typed::Date(xs), Value::Date(y)) => rows(typed).for_each(|i| test(i, op.holds(xs[i].cmp(y)))),
            _ => return None,
        }
        Some((Bools { t, f: typed & !t, other: Vec::new() }, live & !typed))
    }

    /// The live rows' values (`read`) compared with `y`, into `out`; an
    /// absent one is "`path` is not recorded".
    fn read_against<'v>(
        &self,
        out: &mut Bools,
        op: CmpOp,
        read: impl Fn(usize) -> Option<&'v Value>,
        path: &std::sync::Arc<str>,
        y: &Value,
        live: Mask,
    ) {
        for i in rows(live) {
            match read(i) {
                None | Some(Value::Absent) => out.other.push((i as u32, not_recorded(path))),
                Some(x) if x.is_unknown() => out.other.push((i as u32, x.clone())),
                Some(x) if self.env.holds(op, x, y) => out.t |= 1 << i,
                Some(_) => out.f |= 1 << i,
            }
        }
    }

    /// A column of one value per live row.
    fn map(&self, live: Mask, f: impl Fn(usize) -> Value) -> Col<'a> {
        let mut out = vec![Value::Absent; self.len];
        for i in rows(live) {
            out[i] = f(i);
        }
        Col::Vals(out)
    }

    /// A Boolean column of one value per live row.
    fn map_bools(&self, live: Mask, f: impl Fn(usize) -> Value) -> Col<'a> {
        let mut out = Bools::default();
        for i in rows(live) {
            out.push(i, f(i));
        }
        Col::Bools(out)
    }
}

/// The rows of `typed` whose code (`codes[row]`) `decide` holds for,
/// each distinct code below 64 decided once (a chunk's enum field has a
/// few), a larger one at each row.
fn coded_rows(codes: &[u32], typed: Mask, mut decide: impl FnMut(u32) -> bool) -> Mask {
    // 0: not decided yet; 1: does not hold; 2: holds.
    let mut seen = [0u8; 64];
    let mut out: Mask = 0;
    for i in rows(typed) {
        let code = codes[i];
        let holds = match seen.get_mut(code as usize) {
            Some(known) if *known != 0 => *known == 2,
            Some(slot) => {
                let holds = decide(code);
                *slot = 1 + u8::from(holds);
                holds
            }
            None => decide(code),
        };
        out |= Mask::from(holds) << i;
    }
    out
}

fn out_of_range(what: &'static str) -> Value {
    Value::Unknown(std::sync::Arc::new(Unknown::OutOfRange(what)))
}
