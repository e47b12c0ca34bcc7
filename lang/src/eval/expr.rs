//! Evaluating lowered expressions, with three-valued logic.
//!
//! Reading an absent optional fact gives [`Value::Unknown`] with the path
//! that was missing; `and`, `or` and `not` follow Kleene's rules, every
//! other operator propagates the first unknown operand. Evaluation is
//! total: loops only run over finite fact collections and lists, and the
//! checker has ruled out recursion between functions.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::facts::Facts;
use crate::ir::*;
use crate::num::{self, Decimal};
use crate::syntax::ast::CmpOp;
use crate::time::Date;

/// What evaluation reads: the program, the facts and the date.
#[derive(Clone)]
pub struct Env<'a> {
    pub program: &'a Program,
    pub facts: &'a dyn Facts,
    pub as_of: Date,
    /// Elements visited by quantifiers and aggregates since the current
    /// outcome began (see [`super::budget`]).
    steps: std::cell::Cell<u64>,
    /// The limits on `steps` and on the whole evaluation.
    budget: super::budget::Budget,
    /// The whole evaluation's count, shared with the other outcomes.
    spent: super::budget::Spent,
    /// Threads a large evaluation's findings are made on (`None`: every
    /// core, asked only when needed: asking costs a system call).
    threads: Option<usize>,
    /// Steps not yet charged to the whole evaluation's budget.
    uncharged: std::cell::Cell<u64>,
    /// Whether the whole evaluation's budget is spent.
    total_spent: std::cell::Cell<bool>,
    /// Expressions evaluated, to ask now and then whether the evaluation
    /// is still wanted ([`Facts::check_cancelled`]).
    evaluated: std::cell::Cell<u32>,
    /// How rules are evaluated.
    evaluator: super::Evaluator,
    /// The values of the organisation measures, by [`MeasureId`] (a
    /// measure of each fact has no value here).
    measured: Arc<[Value]>,
}

/// Whether a value is unknown because the evaluation budget ran out.
pub(super) fn stopped_by_budget(v: &Value) -> bool {
    matches!(v, Value::Unknown(u) if u.stops_evaluation())
}

fn unknown(u: Unknown) -> Value {
    Value::Unknown(Arc::new(u))
}

impl<'a> Env<'a> {
    /// An environment for evaluating `program` over `facts` as of a date,
    /// within the default budget, counting its steps on its own, on every
    /// core.
    pub fn new(program: &'a Program, facts: &'a dyn Facts, as_of: Date) -> Env<'a> {
        Env {
            program,
            facts,
            as_of,
            steps: std::cell::Cell::new(0),
            budget: super::budget::Budget::default(),
            spent: super::budget::Spent::default(),
            threads: None,
            uncharged: std::cell::Cell::new(0),
            total_spent: std::cell::Cell::new(false),
            evaluated: std::cell::Cell::new(0),
            evaluator: super::Evaluator::default(),
            measured: Arc::from([]),
        }
    }

    /// This environment reading the organisation measures' values (by
    /// [`MeasureId`]; without them, every one is unmeasured).
    pub fn with_measured(self, measured: Arc<[Value]>) -> Env<'a> {
        Env { measured, ..self }
    }

    /// The value of an organisation measure.
    pub(crate) fn measured(&self, id: MeasureId) -> Value {
        crate::measure::organisation_value(&self.measured, id.index())
    }

    /// This environment evaluating rules as `evaluator` says.
    pub fn with_evaluator(self, evaluator: super::Evaluator) -> Env<'a> {
        Env { evaluator, ..self }
    }

    /// How rules are evaluated.
    pub fn evaluator(&self) -> super::Evaluator {
        self.evaluator
    }

    /// This environment within `budget`, charging the whole evaluation's
    /// steps to `spent` (shared with the evaluation's other environments).
    pub fn with_budget(self, budget: super::budget::Budget, spent: super::budget::Spent) -> Env<'a> {
        Env { budget, spent, ..self }
    }

    /// This environment making a large evaluation's findings on `threads`
    /// threads (at least one; `None`: every core).
    pub fn with_threads(self, threads: Option<usize>) -> Env<'a> {
        Env { threads: threads.map(|n| n.max(1)), ..self }
    }

    /// Threads a large evaluation's findings are made on.
    pub fn threads(&self) -> usize {
        super::threads(self.threads)
    }

    /// Starts the step count of a new outcome.
    pub fn reset_steps(&self) {
        self.steps.set(0);
    }

    /// The steps the current outcome has taken.
    pub(super) fn steps(&self) -> u64 {
        self.steps.get()
    }

    /// Resumes the step count of an outcome evaluated in parts (the
    /// compiled evaluator keeps one count per row of a chunk).
    pub(super) fn set_steps(&self, steps: u64) {
        self.steps.set(steps);
    }

    /// Asks whether the evaluation is still wanted: unwinds when an edit
    /// cancelled it or an interrupt stopped it.
    pub(super) fn checkpoint(&self) {
        self.facts.check_cancelled();
        self.spent.interrupt().checkpoint();
    }

    /// Counts one element visited; false once the budget is spent.
    pub(super) fn tick(&self) -> bool {
        self.advance(1);
        self.steps.get() <= self.budget.steps && !self.total_spent.get()
    }

    /// Whether `n` more steps of the current outcome would all be taken
    /// ([`Env::tick`] true for each).
    pub(super) fn affords(&self, n: u64) -> bool {
        self.steps.get().saturating_add(n) <= self.budget.steps && !self.total_spent.get()
    }

    /// Counts `n` steps at once, as `n` calls of [`Env::tick`] would: for a
    /// value known to take them, read again rather than evaluated again.
    pub(super) fn advance(&self, n: u64) {
        self.steps.set(self.steps.get().saturating_add(n));
        let uncharged = self.uncharged.get().saturating_add(n);
        if uncharged >= super::budget::CHARGE_BATCH {
            self.uncharged.set(0);
            if !self.spent.charge(uncharged, self.budget.total_steps) {
                self.total_spent.set(true);
            }
        } else {
            self.uncharged.set(uncharged);
        }
    }

    pub(super) fn over_budget(&self) -> Value {
        if self.total_spent.get() {
            return unknown(Unknown::TotalBudgetExceeded(self.budget.total_steps));
        }
        unknown(Unknown::BudgetExceeded(self.budget.steps))
    }
}

impl Env<'_> {
    /// Evaluates an expression in a frame of variables.
    pub fn eval(&self, ex: &Ex, frame: &mut [Value]) -> Value {
        let n = self.evaluated.get().wrapping_add(1);
        self.evaluated.set(n);
        if n % 4096 == 0 {
            self.checkpoint();
        }
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.eval_inner(ex, frame))
    }

    fn eval_inner(&self, ex: &Ex, frame: &mut [Value]) -> Value {
        match ex {
            Ex::Const(v) => v.clone(),
            Ex::Today => Value::Date(self.as_of),
            Ex::Measure(id) => self.measured(*id),
            Ex::Local(slot, _) => frame.get(*slot as usize).cloned().unwrap_or(Value::Absent),
            Ex::Field { base, field, path } => {
                if let Some(v) = self.place(ex, frame) {
                    return v.clone();
                }
                let base = self.eval(base, frame);
                self.field(&base, *field, path)
            }
            Ex::Not(a) => match self.eval(a, frame) {
                Value::Bool(b) => Value::Bool(!b),
                other => other,
            },
            Ex::Neg(a) => match self.eval(a, frame) {
                Value::Int(n) => {
                    n.checked_neg().map_or_else(|| unknown(Unknown::OutOfRange("an Int negation")), Value::Int)
                }
                Value::Number(n) => Value::Number(-n),
                Value::Percent(n) => Value::Percent(-n),
                other => other,
            },
            Ex::And(a, b) => match self.eval(a, frame) {
                Value::Bool(false) => Value::Bool(false),
                Value::Bool(true) => self.eval(b, frame),
                left => match self.eval(b, frame) {
                    Value::Bool(false) => Value::Bool(false),
                    _ => left,
                },
            },
            Ex::Or(a, b) => match self.eval(a, frame) {
                Value::Bool(true) => Value::Bool(true),
                Value::Bool(false) => self.eval(b, frame),
                left => match self.eval(b, frame) {
                    Value::Bool(true) => Value::Bool(true),
                    _ => left,
                },
            },
            Ex::Arith(op, a, b) => {
                let a = self.eval(a, frame);
                let b = self.eval(b, frame);
                arith(*op, a, b)
            }
            Ex::Cmp(op, a, b) => {
                if let (Some(x), Some(y)) = (self.place(a, frame), self.place(b, frame)) {
                    if !x.is_unknown() && !y.is_unknown() {
                        return Value::Bool(self.holds(*op, x, y));
                    }
                }
                let a = self.eval(a, frame);
                let b = self.eval(b, frame);
                if a.is_unknown() {
                    return a;
                }
                if b.is_unknown() {
                    return b;
                }
                Value::Bool(self.holds(*op, &a, &b))
            }
            Ex::In { value, list, negated } => {
                if let (Some(v), Some(Value::List(items))) = (self.place(value, frame), self.place(list, frame)) {
                    if !v.is_unknown() {
                        let found = items.iter().any(|item| self.compare(v, item) == Some(Ordering::Equal));
                        return Value::Bool(found != *negated);
                    }
                }
                let v = self.eval(value, frame);
                let l = self.eval(list, frame);
                if v.is_unknown() {
                    return v;
                }
                match l {
                    Value::List(items) => {
                        let found = items.iter().any(|item| self.compare(&v, item) == Some(Ordering::Equal));
                        Value::Bool(found != *negated)
                    }
                    other => other,
                }
            }
            Ex::Within(date, window) => match (self.eval(date, frame), self.eval(window, frame)) {
                (Value::Date(d), Value::Duration(w)) => Value::Bool(w.contains(d, self.as_of)),
                (u @ Value::Unknown(_), _) | (_, u @ Value::Unknown(_)) => u,
                _ => Value::Bool(false),
            },
            // `is some`, `is none` and `??` decide on absence, never on a
            // value the budget stopped: that value was not found absent, it
            // was never computed, and a default or a verdict would be a guess.
            Ex::Is { value, some } => match self.eval(value, frame) {
                stopped @ Value::Unknown(_) if stopped_by_budget(&stopped) => stopped,
                v => Value::Bool(!matches!(v, Value::Unknown(_) | Value::Absent) == *some),
            },
            Ex::Coalesce(a, b) => match self.eval(a, frame) {
                stopped @ Value::Unknown(_) if stopped_by_budget(&stopped) => stopped,
                Value::Unknown(_) | Value::Absent => self.eval(b, frame),
                v => v,
            },
            Ex::If { branches, otherwise } => {
                for (cond, then) in branches {
                    // An unknown condition is false: absent evidence never earns the better branch.
                    // But a condition the budget stopped was never decided: taking the
                    // `else` would be an answer the evaluation did not reach.
                    match self.eval(cond, frame) {
                        Value::Bool(true) => return self.eval(then, frame),
                        stopped @ Value::Unknown(_) if stopped_by_budget(&stopped) => return stopped,
                        _ => {}
                    }
                }
                self.eval(otherwise, frame)
            }
            Ex::List(items) => Value::List(items.iter().map(|i| self.eval(i, frame)).collect::<Vec<_>>().into()),
            Ex::Record(items) => Value::Record(items.iter().map(|i| self.eval(i, frame)).collect::<Vec<_>>().into()),
            Ex::Quantifier { all, slot, source, filter, body } => {
                self.quantifier(*all, *slot, source, filter.as_deref(), body.as_deref(), frame)
            }
            Ex::Aggregate { func, slot, source, filter, value } => {
                self.aggregate(*func, *slot, source, filter.as_deref(), value, frame)
            }
            Ex::Call { func, args } => {
                // A call is a step: functions calling functions twice each
                // would otherwise double the work per level within budget.
                if !self.tick() {
                    return self.over_budget();
                }
                let def = &self.program.fns[func.index()];
                let mut callee = super::new_frame(def.slots.max(args.len() as u32));
                for (i, arg) in args.iter().enumerate() {
                    callee[i] = self.eval(arg, frame);
                }
                self.eval(&def.body, &mut callee)
            }
            Ex::Builtin(builtin, args) => {
                let values: Vec<Value> = args.iter().map(|a| self.eval(a, frame)).collect();
                self.builtin(*builtin, &values)
            }
        }
    }

    /// A builtin applied to its arguments' values: the first unknown
    /// argument, else the builtin's result.
    pub(super) fn builtin(&self, builtin: Builtin, values: &[Value]) -> Value {
        if let Some(u) = values.iter().find(|v| v.is_unknown()) {
            return u.clone();
        }
        match (builtin, values) {
            (Builtin::Len, [Value::List(items)]) => Value::Int(items.len() as i64),
            (Builtin::DaysSince, [Value::Date(d)]) => Value::Int(self.as_of.days_since(*d)),
            (Builtin::Abs, [Value::Int(n)]) => {
                n.checked_abs().map_or_else(|| unknown(Unknown::OutOfRange("an Int `abs`")), Value::Int)
            }
            (Builtin::Abs, [Value::Number(n)]) => Value::Number(n.abs()),
            (Builtin::Abs, [Value::Percent(n)]) => Value::Percent(n.abs()),
            (Builtin::Min2 | Builtin::Max2, [a, b]) => {
                let pick_first = match self.compare(a, b) {
                    Some(Ordering::Greater) => builtin == Builtin::Max2,
                    Some(_) => builtin == Builtin::Min2,
                    None => true,
                };
                let chosen = if pick_first { a } else { b };
                match (a, b) {
                    (Value::Int(_), Value::Int(_))
                    | (Value::Date(_), Value::Date(_))
                    | (Value::Percent(_), Value::Percent(_)) => chosen.clone(),
                    _ => chosen.as_decimal().map_or(chosen.clone(), Value::Number),
                }
            }
            (op, args) if super::text::is_text(op) => super::text::apply(op, args),
            _ => Value::Absent,
        }
    }

    /// Where a constant, a variable or a field path of them already holds
    /// its value: read in place, nothing cloned. `None` for anything else
    /// (and for an absent field, whose unknown the full path reports).
    fn place<'x>(&'x self, ex: &'x Ex, frame: &'x [Value]) -> Option<&'x Value> {
        match ex {
            Ex::Const(v) => Some(v),
            Ex::Local(slot, _) => frame.get(*slot as usize),
            Ex::Field { base, field, .. } => {
                let value = match self.place(base, frame)? {
                    Value::Row(e, r) => self.facts.values(*e, *r)?.get(*field as usize)?,
                    Value::Record(values) => values.get(*field as usize)?,
                    _ => return None,
                };
                (!matches!(value, Value::Absent)).then_some(value)
            }
            _ => None,
        }
    }

    /// Whether a comparison holds between two definite values.
    pub(super) fn holds(&self, op: CmpOp, a: &Value, b: &Value) -> bool {
        match self.compare(a, b) {
            Some(o) => op.holds(o),
            None => op == CmpOp::Ne,
        }
    }

    /// A field of an entity row, a reference or a record.
    pub fn field(&self, base: &Value, field: u32, path: &Arc<str>) -> Value {
        let value = match base {
            Value::Row(e, r) => self.facts.values(*e, *r).and_then(|values| values.get(field as usize)).cloned(),
            Value::Ref(e, key) => match self.facts.find(*e, key) {
                Some(r) => self.facts.values(*e, r).and_then(|values| values.get(field as usize)).cloned(),
                None => {
                    return unknown(Unknown::MissingEntity {
                        entity: Arc::from(self.program.entity(*e).decl.name.as_str()),
                        key: key.clone(),
                    })
                }
            },
            Value::Record(values) => values.get(field as usize).cloned(),
            Value::Unknown(_) => return base.clone(),
            Value::Absent => return unknown(Unknown::NotRecorded(path.clone())),
            _ => None,
        };
        match value {
            None | Some(Value::Absent) => unknown(Unknown::NotRecorded(path.clone())),
            Some(v) => v,
        }
    }

    /// The key of an entity value (a row or a reference).
    fn entity_key(&self, v: &Value) -> Option<Arc<str>> {
        match v {
            Value::Ref(_, key) => Some(key.clone()),
            Value::Row(e, r) => Some(self.facts.key_of(self.program, *e, *r)),
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }
    }

    /// Orders two definite values of comparable types.
    pub fn compare(&self, a: &Value, b: &Value) -> Option<Ordering> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
            (x, y) if x.as_decimal().is_some() && y.as_decimal().is_some() => {
                Some(x.as_decimal()?.cmp(&y.as_decimal()?))
            }
            (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
            (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
            (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
            (Value::Duration(x), Value::Duration(y)) => (x == y).then_some(Ordering::Equal),
            (Value::Enum(e1, x), Value::Enum(e2, y)) if e1 == e2 => Some(x.cmp(y)),
            (Value::Scale(s1, x), Value::Scale(s2, y)) if s1 == s2 => {
                let values = &self.program.scales[s1.index()].values;
                Some(values.get(*x as usize)?.1.cmp(&values.get(*y as usize)?.1))
            }
            (Value::Level(m1, x), Value::Level(m2, y)) if m1 == m2 => Some(x.cmp(y)),
            (Value::List(x), Value::List(y)) => {
                if x.len() == y.len()
                    && x.iter().zip(y.iter()).all(|(a, b)| self.compare(a, b) == Some(Ordering::Equal))
                {
                    Some(Ordering::Equal)
                } else {
                    None
                }
            }
            (Value::Record(x), Value::Record(y)) => (x.len() == y.len()
                && x.iter().zip(y.iter()).all(|(a, b)| a == b || self.compare(a, b) == Some(Ordering::Equal)))
            .then_some(Ordering::Equal),
            (Value::Absent, Value::Absent) => Some(Ordering::Equal),
            (x, y) => {
                let (kx, ky) = (self.entity_key(x)?, self.entity_key(y)?);
                (kx == ky).then_some(Ordering::Equal)
            }
        }
    }

    /// The elements a binder ranges over, without copying a list.
    fn elements(&self, source: &Source, frame: &mut [Value]) -> Result<Elements, Value> {
        match source {
            Source::Entities(e) => Ok(Elements::Rows(*e, 0..self.facts.len(*e))),
            Source::List(list) => match self.eval(list, frame) {
                Value::List(items) => Ok(Elements::List(items, 0)),
                u @ Value::Unknown(_) => Err(u),
                _ => Ok(Elements::List(Arc::from([]), 0)),
            },
        }
    }

    fn quantifier(
        &self,
        all: bool,
        slot: u32,
        source: &Source,
        filter: Option<&Ex>,
        body: Option<&Ex>,
        frame: &mut [Value],
    ) -> Value {
        let elements = match self.elements(source, frame) {
            Ok(e) => e,
            Err(u) => return u,
        };
        let mut pending: Option<Value> = None;
        for element in elements {
            if !self.tick() {
                return self.over_budget();
            }
            frame[slot as usize] = element;
            let selected = match filter.map(|f| self.eval(f, frame)) {
                None | Some(Value::Bool(true)) => Value::Bool(true),
                Some(Value::Bool(false)) => continue,
                Some(other) => other,
            };
            let verdict = match (body, &selected) {
                (Some(b), Value::Bool(true)) => self.eval(b, frame),
                _ => selected,
            };
            match verdict {
                Value::Bool(b) if b != all => return Value::Bool(!all),
                Value::Bool(_) => {}
                other => {
                    if pending.is_none() {
                        pending = Some(self.for_element(other, &frame[slot as usize]));
                    }
                }
            }
        }
        pending.unwrap_or(Value::Bool(all))
    }

    fn aggregate(
        &self,
        func: AggFn,
        slot: u32,
        source: &Source,
        filter: Option<&Ex>,
        value: &Ex,
        frame: &mut [Value],
    ) -> Value {
        if let Source::Entities(e) = source {
            // The same summation tree as the incremental engine's per-chunk
            // and per-block partials, so both give identical floats.
            let rows = self.facts.len(*e) as usize;
            let mut total = Partial::default();
            for block in (0..rows).step_by(super::CHUNK_ROWS * super::CHUNKS_PER_BLOCK) {
                let mut block_partial = Partial::default();
                let block_end = (block + super::CHUNK_ROWS * super::CHUNKS_PER_BLOCK).min(rows);
                for chunk in (block..block_end).step_by(super::CHUNK_ROWS) {
                    let mut chunk_partial = Partial::default();
                    for r in chunk..(chunk + super::CHUNK_ROWS).min(block_end) {
                        let row = Value::Row(*e, r as u32);
                        if !self.accumulate(&mut chunk_partial, func, slot, filter, value, frame, row) {
                            break;
                        }
                    }
                    self.combine(&mut block_partial, &chunk_partial, func);
                }
                self.combine(&mut total, &block_partial, func);
            }
            return total.finish(func);
        }
        let elements = match self.elements(source, frame) {
            Ok(e) => e,
            Err(u) => return u,
        };
        let mut partial = Partial::default();
        for element in elements {
            if !self.accumulate(&mut partial, func, slot, filter, value, frame, element) {
                break;
            }
        }
        partial.finish(func)
    }

    /// An unknown met while ranging over elements, naming the element when
    /// the reason is a fact not recorded: `p.trained_on of Reviewer "r-17"
    /// is not recorded`, not just `p.trained_on` (which reviewer?).
    pub(super) fn for_element(&self, value: Value, element: &Value) -> Value {
        let Value::Unknown(u) = &value else { return value };
        let Unknown::NotRecorded(path) = &**u else { return value };
        if path.contains(" of ") {
            return value;
        }
        let (entity, key) = match element {
            Value::Row(e, r) => (*e, self.facts.key_of(self.program, *e, *r)),
            Value::Ref(e, key) => (*e, key.clone()),
            _ => return value,
        };
        let name = &self.program.entity(entity).decl.name;
        unknown(Unknown::NotRecorded(Arc::from(format!("{path} of {name} {key:?}"))))
    }

    /// Adds one element to a partial aggregate; false once the result is
    /// unknown (nothing after it can change that).
    #[allow(clippy::too_many_arguments)]
    pub fn accumulate(
        &self,
        partial: &mut Partial,
        func: AggFn,
        slot: u32,
        filter: Option<&Ex>,
        value: &Ex,
        frame: &mut [Value],
        element: Value,
    ) -> bool {
        if partial.unknown.is_some() {
            return false;
        }
        if !self.tick() {
            partial.unknown = Some(self.over_budget());
            return false;
        }
        frame[slot as usize] = element;
        match filter.map(|f| self.eval(f, frame)) {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return true,
            Some(other) => {
                partial.unknown = Some(self.for_element(other, &frame[slot as usize]));
                return false;
            }
        }
        partial.count += 1;
        if func == AggFn::Count {
            return true;
        }
        let v = self.eval(value, frame);
        if v.is_unknown() {
            partial.unknown = Some(self.for_element(v, &frame[slot as usize]));
            return false;
        }
        self.add_value(partial, func, v)
    }

    fn add_value(&self, partial: &mut Partial, func: AggFn, v: Value) -> bool {
        match &v {
            Value::Unknown(_) => {
                partial.unknown = Some(v);
                return false;
            }
            Value::Int(n) => {
                partial.int_sum = partial.int_sum.and_then(|sum| sum.checked_add(*n));
                partial.sum = partial.sum.and_then(|sum| sum.checked_add(num::from_int(*n)));
            }
            other => {
                partial.not_int = true;
                if let Some(n) = other.as_decimal() {
                    partial.sum = partial.sum.and_then(|sum| sum.checked_add(n));
                }
            }
        }
        if matches!(func, AggFn::Min | AggFn::Max) {
            let replace = match &partial.best {
                None => true,
                Some(b) => match self.compare(&v, b) {
                    Some(Ordering::Less) => func == AggFn::Min,
                    Some(Ordering::Greater) => func == AggFn::Max,
                    _ => false,
                },
            };
            if replace {
                partial.best = Some(v);
            }
        }
        true
    }

    /// Appends a later partial (of the elements after `into`'s) to `into`.
    pub fn combine(&self, into: &mut Partial, later: &Partial, func: AggFn) {
        if into.unknown.is_some() {
            return;
        }
        if let Some(u) = &later.unknown {
            into.unknown = Some(u.clone());
            return;
        }
        into.count += later.count;
        into.int_sum = into.int_sum.zip(later.int_sum).and_then(|(a, b)| a.checked_add(b));
        into.sum = into.sum.zip(later.sum).and_then(|(a, b)| a.checked_add(b));
        into.not_int |= later.not_int;
        if let Some(best) = &later.best {
            let (int_sum, sum, not_int, count) = (into.int_sum, into.sum, into.not_int, into.count);
            self.add_value(into, func, best.clone());
            // `add_value` counted the value again: undo the sums.
            (into.int_sum, into.sum, into.not_int, into.count) = (int_sum, sum, not_int, count);
        }
    }
}

/// What a quantifier or aggregate ranges over: the rows of an entity, or
/// a list's items (read in place, one element cloned at a time).
enum Elements {
    Rows(EntityId, std::ops::Range<u32>),
    List(Arc<[Value]>, usize),
}

impl Iterator for Elements {
    type Item = Value;
    fn next(&mut self) -> Option<Value> {
        match self {
            Elements::Rows(e, rows) => rows.next().map(|r| Value::Row(*e, r)),
            Elements::List(items, i) => {
                let item = items.get(*i)?.clone();
                *i += 1;
                Some(item)
            }
        }
    }
}

/// An aggregate over part of its elements, to be combined in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Partial {
    /// How many elements were aggregated.
    pub count: i64,
    not_int: bool,
    /// The sum of integers; `None` once it overflowed.
    int_sum: Option<i64>,
    /// The exact sum; `None` once it overflowed.
    sum: Option<Decimal>,
    best: Option<Value>,
    /// The first unknown met: the aggregate is unknown.
    unknown: Option<Value>,
}

impl Default for Partial {
    fn default() -> Partial {
        Partial { count: 0, not_int: false, int_sum: Some(0), sum: Some(Decimal::ZERO), best: None, unknown: None }
    }
}

impl Partial {
    /// The aggregate's value.
    pub fn finish(&self, func: AggFn) -> Value {
        if let Some(u) = &self.unknown {
            return u.clone();
        }
        match func {
            AggFn::Count => Value::Int(self.count),
            AggFn::Sum if !self.not_int => {
                self.int_sum.map_or_else(|| unknown(Unknown::OutOfRange("an Int `sum`")), Value::Int)
            }
            AggFn::Sum => self.sum.map_or_else(|| unknown(Unknown::OutOfRange("a `sum`")), Value::Number),
            _ if self.count == 0 => unknown(Unknown::EmptyAggregate(func.as_str())),
            AggFn::Avg => match self.sum.and_then(|sum| num::div(sum, num::from_int(self.count))) {
                Some(avg) => Value::Number(avg),
                None => unknown(Unknown::OutOfRange("an `avg`")),
            },
            AggFn::Min | AggFn::Max => self.best.clone().unwrap_or(Value::Absent),
        }
    }
}

/// An arithmetic operation on two values: the first unknown operand, else
/// the result (unknown when out of range or a division by zero).
pub(super) fn arith(op: Arith, a: Value, b: Value) -> Value {
    if a.is_unknown() {
        return a;
    }
    if b.is_unknown() {
        return b;
    }
    let out_of_range = |what: &'static str| unknown(Unknown::OutOfRange(what));
    match (op, &a, &b) {
        (Arith::DatePlus, Value::Date(d), Value::Duration(w)) => {
            d.checked_plus(*w).map_or_else(|| out_of_range("a date"), Value::Date)
        }
        (Arith::DateMinus, Value::Date(d), Value::Duration(w)) => {
            d.checked_minus(*w).map_or_else(|| out_of_range("a date"), Value::Date)
        }
        (Arith::DateDiff, Value::Date(x), Value::Date(y)) => Value::Int(x.days_since(*y)),
        (Arith::Div, _, _) => match (a.as_decimal(), b.as_decimal()) {
            (Some(_), Some(y)) if y.is_zero() => unknown(Unknown::DivisionByZero),
            (Some(x), Some(y)) => num::div(x, y).map_or_else(|| out_of_range("a quotient"), Value::Number),
            _ => Value::Absent,
        },
        (_, Value::Int(x), Value::Int(y)) => {
            let result = match op {
                Arith::Add => x.checked_add(*y),
                Arith::Sub => x.checked_sub(*y),
                _ => x.checked_mul(*y),
            };
            result.map_or_else(|| out_of_range("an Int result"), Value::Int)
        }
        (_, Value::Percent(x), Value::Percent(y)) if matches!(op, Arith::Add | Arith::Sub) => {
            let result = if op == Arith::Add { x.checked_add(*y) } else { x.checked_sub(*y) };
            result.map_or_else(|| out_of_range("a percent"), Value::Percent)
        }
        _ => match (a.as_decimal(), b.as_decimal()) {
            (Some(x), Some(y)) => {
                let result = match op {
                    Arith::Add => x.checked_add(y),
                    Arith::Sub => x.checked_sub(y),
                    _ => num::mul(x, y),
                };
                result.map_or_else(|| out_of_range("a number"), Value::Number)
            }
            _ => Value::Absent,
        },
    }
}
