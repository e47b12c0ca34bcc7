//! What a failed condition read: the paths, `let` variables and function
//! calls it depends on and their values, kept for the explanation and
//! shown without the facts.

use super::Env;
use crate::ir::*;

/// The values a failed condition read, for the explanation: entity rows
/// become references (keys), so that they show without the facts.
pub(super) fn observe(env: &Env, requirement: &Requirement, frame: &mut [Value]) -> Vec<Value> {
    let mut paths: Vec<(&str, &Ex)> = Vec::new();
    collect_paths(env.program, &requirement.lets, &requirement.cond, &mut paths);
    let mut seen: Vec<&str> = Vec::with_capacity(paths.len());
    let mut out = Vec::with_capacity(paths.len());
    for (path, ex) in paths {
        if seen.contains(&path) {
            continue;
        }
        seen.push(path);
        let value = env.eval(ex, frame);
        out.push(detach(env, value));
    }
    out
}

/// The paths whose values a failure of this requirement records, in order.
pub fn observed_paths<'e>(program: &'e Program, requirement: &'e Requirement) -> Vec<&'e str> {
    let mut paths: Vec<(&str, &Ex)> = Vec::new();
    collect_paths(program, &requirement.lets, &requirement.cond, &mut paths);
    let mut out: Vec<&str> = Vec::with_capacity(paths.len());
    for (path, _) in paths {
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// A value with its entity rows replaced by references, as [`show`]
/// would name them.
fn detach(env: &Env, value: Value) -> Value {
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
    match value {
        Value::Unknown(u) => match &**u {
            Unknown::NotRecorded(_) => "not recorded".into(),
            other => format!("unknown ({other})"),
        },
        other => program.display(other),
    }
}

/// A value as the report shows it.
pub fn show(env: &Env, value: &Value) -> String {
    show_observed(env.program, &detach(env, value.clone()))
}

/// Field paths read by an expression outside quantifiers (whose variables
/// are bound per element and cannot be shown as one value), the `let`
/// variables it reads and, after each, what that `let` read (`b = false`,
/// then `s.n = 2` for `let b = s.n > 5`), and the functions it calls (by
/// name: what they returned), so a failure read through a `let` or a
/// function still shows what decided it.
fn collect_paths<'e>(program: &'e Program, lets: &'e [(u32, Ex)], ex: &'e Ex, out: &mut Vec<(&'e str, &'e Ex)>) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || collect_paths_inner(program, lets, ex, out))
}

fn collect_paths_inner<'e>(
    program: &'e Program,
    lets: &'e [(u32, Ex)],
    ex: &'e Ex,
    out: &mut Vec<(&'e str, &'e Ex)>,
) {
    match ex {
        // A field is shown whole, not its base; a quantifier's variables
        // are bound per element, so only its list source is read once.
        Ex::Field { path, .. } => out.push((path, ex)),
        Ex::Local(slot, name) => {
            out.push((name, ex));
            // A `let` only reads the ones bound before it: the walk ends.
            if let Some(at) = lets.iter().position(|(s, _)| s == slot) {
                collect_paths(program, &lets[..at], &lets[at].1, out);
            }
        }
        Ex::Quantifier { source, .. } | Ex::Aggregate { source, .. } => {
            source.list().into_iter().for_each(|l| collect_paths(program, lets, l, out))
        }
        _ => {
            ex.children().into_iter().for_each(|c| collect_paths(program, lets, c, out));
            // A call shows what the function returned, after its arguments.
            if let Ex::Call { func, .. } = ex {
                out.extend(program.fns.get(func.index()).map(|def| (def.decl.name.as_str(), ex)));
            }
        }
    }
}
