//! What a failed condition read: the paths, `let` variables and function
//! calls it depends on and their values, kept for the explanation and
//! shown without the facts.

use std::borrow::Cow;
use std::sync::Arc;

use super::Env;
use crate::ir::*;

/// The values a failure read, in the order of its requirement's
/// [`observed_paths`]: a range of a list the failures of one block of
/// facts share. A block's failures read the same number of values each,
/// so one list holds them all: one allocation per block instead of one per
/// failure that reads more than a few, and a failure less than a third of
/// the size it had with two values inline.
#[derive(Clone, Default)]
pub struct Observed {
    shared: Option<Arc<Vec<Value>>>,
    start: u32,
    len: u32,
}

impl Observed {
    /// `len` values of `shared` from `start` (none when they are not all there).
    pub fn shared(shared: &Arc<Vec<Value>>, start: usize, len: usize) -> Observed {
        match (u32::try_from(start), u32::try_from(len)) {
            (Ok(s), Ok(l)) if len > 0 && start.checked_add(len).is_some_and(|end| end <= shared.len()) => {
                Observed { shared: Some(shared.clone()), start: s, len: l }
            }
            _ => Observed::default(),
        }
    }

    /// The values, in order.
    pub fn as_slice(&self) -> &[Value] {
        match &self.shared {
            Some(values) => &values[self.start as usize..(self.start + self.len) as usize],
            None => &[],
        }
    }
}

impl std::ops::Deref for Observed {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a Observed {
    type Item = &'a Value;
    type IntoIter = std::slice::Iter<'a, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl From<Vec<Value>> for Observed {
    fn from(values: Vec<Value>) -> Observed {
        match values.len() {
            0 => Observed::default(),
            len => Observed::shared(&Arc::new(values), 0, len),
        }
    }
}

impl FromIterator<Value> for Observed {
    fn from_iter<I: IntoIterator<Item = Value>>(values: I) -> Observed {
        Observed::from(values.into_iter().collect::<Vec<_>>())
    }
}

/// Equal when the values are, however they are shared.
impl PartialEq for Observed {
    fn eq(&self, other: &Observed) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl std::fmt::Debug for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A value a failure shows: its name as written, the function whose body
/// reads it (`path (in function)` as shown), the expression, and the call
/// in whose frame it is read (`None`: the rule's own frame). The shown
/// name is made only when asked for ([`Seen::name`]): an evaluation
/// finds what its failures read once per chunk of facts.
struct Seen<'e> {
    path: &'e str,
    function: Option<&'e str>,
    ex: &'e Ex,
    call: Option<&'e Ex>,
}

impl<'e> Seen<'e> {
    /// The name as a failure shows it.
    fn name(&self) -> Cow<'e, str> {
        match self.function {
            None => Cow::Borrowed(self.path),
            Some(function) => Cow::Owned(format!("{} (in {function})", self.path)),
        }
    }
}

/// What a failure of this requirement shows, each name once, in order.
fn seen<'e>(program: &'e Program, requirement: &'e Requirement) -> Vec<Seen<'e>> {
    let mut all = Vec::new();
    collect_paths(program, &requirement.lets, &requirement.cond, None, &mut all);
    let mut out: Vec<Seen> = Vec::with_capacity(all.len());
    for s in all {
        if !out.iter().any(|o| o.path == s.path && o.function == s.function) {
            out.push(s);
        }
    }
    out
}

/// The values a failed condition read, for the explanation: entity rows
/// become references (keys), so that they show without the facts.
pub(super) fn observe(env: &Env, requirement: &Requirement, frame: &mut [Value]) -> Observed {
    Observer::new(env.program, requirement).observe(env, frame)
}

/// What failures of one requirement read, found once for all of them:
/// walking the condition for every failure was most of the cost of an
/// evaluation where many entities fail.
pub(super) struct Observer<'e> {
    seen: Vec<Seen<'e>>,
}

impl<'e> Observer<'e> {
    /// What a failure of `requirement` reads.
    pub fn new(program: &'e Program, requirement: &'e Requirement) -> Observer<'e> {
        Observer { seen: seen(program, requirement) }
    }

    /// Whether failures read nothing to show (`require false`).
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// What a failure's values are read from, in order: each expression,
    /// and the call in whose body it is read (`None`: the rule's own
    /// frame), as [`Observer::observe`] reads them. The compiled
    /// evaluation reads a block's failures this way column by column.
    pub fn reads(&self) -> impl Iterator<Item = (&'e Ex, Option<&'e Ex>)> + '_ {
        self.seen.iter().map(|s| (s.ex, s.call))
    }

    /// The values one failure read, in the frame it failed in.
    pub fn observe(&self, env: &Env, frame: &mut [Value]) -> Observed {
        let mut callees: Vec<(*const Ex, Vec<Value>)> = Vec::new();
        self.seen
            .iter()
            .map(|s| {
                let value = match s.call {
                    None => env.eval(s.ex, frame),
                    Some(call) => {
                        let at = match callees.iter().position(|(c, _)| std::ptr::eq(*c, call)) {
                            Some(at) => at,
                            None => {
                                callees.push((call, callee_frame(env, call, frame)));
                                callees.len() - 1
                            }
                        };
                        env.eval(s.ex, &mut callees[at].1)
                    }
                };
                detach(env, value)
            })
            .collect()
    }
}

/// The frame a call's body runs in: its arguments, evaluated.
fn callee_frame(env: &Env, call: &Ex, frame: &mut [Value]) -> Vec<Value> {
    let Ex::Call { func, args } = call else { return Vec::new() };
    let slots = env.program.fns.get(func.index()).map_or(0, |def| def.slots);
    let mut callee = super::new_frame(slots.max(args.len() as u32));
    for (i, arg) in args.iter().enumerate() {
        callee[i] = env.eval(arg, frame);
    }
    callee.into_vec()
}

/// The paths whose values a failure of this requirement records, in order.
pub fn observed_paths<'e>(program: &'e Program, requirement: &'e Requirement) -> Vec<Cow<'e, str>> {
    seen(program, requirement).iter().map(Seen::name).collect()
}

/// A value with its entity rows replaced by references, as [`show`]
/// would name them.
pub(super) fn detach(env: &Env, value: Value) -> Value {
    match value {
        Value::Row(e, r) => Value::Ref(e, env.facts.key_of(env.program, e, r)),
        Value::List(items) if items.iter().any(|v| matches!(v, Value::Row(..))) => {
            Value::List(items.iter().map(|v| detach(env, v.clone())).collect::<Vec<_>>().into())
        }
        other => other,
    }
}

/// An observed value as the report shows it (see [`show`]).
pub fn show_observed(program: &Program, value: &Value) -> String {
    let mut out = String::new();
    write_observed(program, value, &mut out);
    out
}

/// [`show_observed`] appended to `out`: a report shows a value per
/// failure read, and writing them into one buffer allocates none each.
pub fn write_observed(program: &Program, value: &Value, out: &mut String) {
    use std::fmt::Write as _;
    match value {
        Value::Unknown(u) => match &**u {
            Unknown::NotRecorded(_) => out.push_str("not recorded"),
            shown @ (Unknown::Unreadable(_) | Unknown::Unmeasured(_)) => {
                let _ = write!(out, "{shown}");
            }
            other => {
                let _ = write!(out, "unknown ({other})");
            }
        },
        other => program.write_value(out, other),
    }
}

/// A value as the report shows it.
pub fn show(env: &Env, value: &Value) -> String {
    show_observed(env.program, &detach(env, value.clone()))
}

/// Field paths read by an expression outside quantifiers (whose variables
/// are bound per element and cannot be shown as one value), the `let`
/// variables it reads and, after each, what that `let` read (`b = false`,
/// then `s.n = 2` for `let b = s.n > 5`), and the functions it calls: what
/// each returned, then the paths its body read, named as the function
/// writes them (`s.n (in recent)`), so a failure read through a `let` or a
/// function still shows what decided it. `call` is the call whose body is
/// walked (its own calls are shown by their result, not walked again).
fn collect_paths<'e>(
    program: &'e Program,
    lets: &'e [(u32, Ex)],
    ex: &'e Ex,
    call: Option<(&'e Ex, &'e str)>,
    out: &mut Vec<Seen<'e>>,
) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || collect_paths_inner(program, lets, ex, call, out))
}

fn collect_paths_inner<'e>(
    program: &'e Program,
    lets: &'e [(u32, Ex)],
    ex: &'e Ex,
    call: Option<(&'e Ex, &'e str)>,
    out: &mut Vec<Seen<'e>>,
) {
    let seen = |path: &'e str| Seen { path, function: call.map(|c| c.1), ex, call: call.map(|c| c.0) };
    match ex {
        // A field is shown whole, not its base; a quantifier's variables
        // are bound per element, so only its list source is read once.
        Ex::Field { path, .. } => out.push(seen(path)),
        Ex::Measure(id) => {
            if let Some(def) = program.measures.get(id.index()) {
                out.push(seen(&def.decl.name))
            }
        }
        // In a function's body a local is a parameter: its argument is
        // shown at the call.
        Ex::Local(..) if call.is_some() => {}
        Ex::Local(slot, local) => {
            out.push(Seen { path: local, function: None, ex, call: None });
            // A `let` only reads the ones bound before it: the walk ends.
            if let Some(at) = lets.iter().position(|(s, _)| s == slot) {
                collect_paths(program, &lets[..at], &lets[at].1, None, out);
            }
        }
        Ex::Quantifier { source, .. } | Ex::Aggregate { source, .. } => {
            source.list().into_iter().for_each(|l| collect_paths(program, lets, l, call, out))
        }
        _ => {
            ex.children().into_iter().for_each(|c| collect_paths(program, lets, c, call, out));
            // A call shows what the function returned, after its arguments,
            // then (called from the rule itself) what its body read.
            if let Ex::Call { func, .. } = ex {
                if let Some(def) = program.fns.get(func.index()) {
                    out.push(seen(&def.decl.name));
                    if call.is_none() {
                        collect_paths(program, &[], &def.body, Some((ex, &def.decl.name)), out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_values_are_their_range_of_the_shared_list() {
        let shared = Arc::new((0..6).map(Value::Int).collect::<Vec<_>>());
        let parts: Vec<Observed> = (0..3).map(|k| Observed::shared(&shared, 2 * k, 2)).collect();
        assert_eq!(parts[1].as_slice(), &[Value::Int(2), Value::Int(3)]);
        assert_eq!(parts.iter().flat_map(|p| p.iter().cloned()).collect::<Vec<_>>(), *shared);
        // Equal by their values, whatever they share.
        assert_eq!(parts[2], Observed::from(vec![Value::Int(4), Value::Int(5)]));
        assert_ne!(parts[0], parts[1]);
        assert_eq!(format!("{:?}", parts[0]), "[Int(0), Int(1)]");
        // A range past the end, or of nothing, holds nothing (and keeps
        // nothing alive).
        for (start, len) in [(5, 2), (7, 0), (usize::MAX, 2), (0, 0)] {
            let none = Observed::shared(&shared, start, len);
            assert!(none.is_empty() && none.shared.is_none(), "{start}, {len}");
        }
        assert_eq!(Observed::default(), Observed::from(Vec::new()));
    }

    #[test]
    fn a_failure_is_four_words() {
        // 268,500 failures at 100,000 systems: each byte of one is a
        // quarter of a megabyte written to fresh memory.
        assert_eq!(std::mem::size_of::<crate::eval::Failure>(), 32);
    }
}
