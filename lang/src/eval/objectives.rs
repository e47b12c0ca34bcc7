//! Objectives: the current value of the measure, the trend towards the
//! target, and the status that follows.

use super::{Env, ObjectiveResult};
use crate::ir::*;
use crate::num::{self, Decimal};
use crate::time::Date;

/// Where one objective stands.
pub fn objective_result(env: &Env, id: ObjectiveId) -> ObjectiveResult {
    env.reset_steps();
    let objective = &env.program.objectives[id.index()];
    let mut frame = vec![Value::Absent; objective.slots.max(1) as usize];
    let measured = env.eval(&objective.measure, &mut frame);
    objective_result_with(env, id, measured)
}

/// Where one objective stands, given the value of its measure (computed
/// elsewhere, for instance from per-chunk partial aggregates).
pub fn objective_result_with(env: &Env, id: ObjectiveId, measured: Value) -> ObjectiveResult {
    let objective = &env.program.objectives[id.index()];
    let mut frame = vec![Value::Absent; objective.slots.max(1) as usize];
    let (mut current, mut unknown) = match &measured {
        Value::Unknown(u) => (None, Some((**u).clone())),
        v => (v.as_decimal(), None),
    };
    let (op, target, deadline) = objective.target;
    let holds = |value: Decimal| op.holds(value.cmp(&target));
    let mut points: Vec<(Date, Decimal)> = Vec::new();
    if let Some((value, date)) = objective.baseline {
        if date <= env.as_of {
            points.push((date, value));
        }
    }
    if let Some(history) = &objective.history {
        let elements: Vec<Value> = match &history.source {
            Source::Entities(e) => (0..env.facts.len(*e)).map(|r| Value::Row(*e, r)).collect(),
            Source::List(list) => match env.eval(list, &mut frame) {
                Value::List(items) => items.to_vec(),
                _ => Vec::new(),
            },
        };
        let slot = history.slot as usize;
        // A measurement the budget stopped is not left out quietly (that
        // would bend the trend): the objective is stopped (E0501).
        let mut stopped = None;
        for element in elements {
            frame[slot] = element;
            if let Some(filter) = &history.filter {
                match env.eval(filter, &mut frame) {
                    Value::Bool(true) => {}
                    Value::Unknown(u) if u.stops_evaluation() => {
                        stopped = Some(u);
                        break;
                    }
                    _ => continue,
                }
            }
            match (env.eval(&history.value, &mut frame), env.eval(&history.date, &mut frame)) {
                (Value::Unknown(u), _) | (_, Value::Unknown(u)) if u.stops_evaluation() => {
                    stopped = Some(u);
                    break;
                }
                (v, Value::Date(d)) => {
                    if let (Some(v), true) = (v.as_decimal(), d <= env.as_of) {
                        points.push((d, v));
                    }
                }
                _ => {}
            }
        }
        if let Some(u) = stopped {
            current = None;
            unknown = Some((*u).clone());
        }
    }
    points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let projected = projection(&points, deadline);
    let status = match current {
        None => ObjectiveStatus::NoData,
        Some(v) if holds(v) => ObjectiveStatus::Met,
        Some(_) if env.as_of > deadline => ObjectiveStatus::Missed,
        Some(_) => match projected {
            Some(p) if holds(p) => ObjectiveStatus::OnTrack,
            _ => ObjectiveStatus::AtRisk,
        },
    };
    ObjectiveResult { objective: id, current, unknown, status, projected, points }
}

/// Where the least-squares line over (day, value) stands on `day`, if at
/// least two distinct days are known, rounded to
/// [`num::TREND_DECIMALS`] places.
///
/// Computed exactly, with one division at the end: with days counted
/// from the first point, n points, `Sx = Σx`, `Sy = Σy`,
/// `Cxx = n·Σx² − Sx²` and `Cxy = n·Σxy − Sx·Sy`, the line's value at `d`
/// is `(Sy·Cxx + Cxy·(n·d − Sx)) / (n·Cxx)`. So measurements on a straight
/// line project exactly onto it, and a target reached exactly is met.
fn projection(points: &[(Date, Decimal)], day: Date) -> Option<Decimal> {
    let first = points.first()?.0;
    if points.iter().all(|(d, _)| *d == first) {
        return None;
    }
    let exact = || -> Option<Decimal> {
        let x = |d: Date| num::from_int(d.days_since(first));
        let n = num::from_int(i64::try_from(points.len()).ok()?);
        let (mut sx, mut sy, mut sxx, mut sxy) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for (d, v) in points {
            let xi = x(*d);
            sx = sx.checked_add(xi)?;
            sy = sy.checked_add(*v)?;
            sxx = sxx.checked_add(xi.checked_mul(xi)?)?;
            sxy = sxy.checked_add(xi.checked_mul(*v)?)?;
        }
        let cxx = n.checked_mul(sxx)?.checked_sub(sx.checked_mul(sx)?)?;
        let cxy = n.checked_mul(sxy)?.checked_sub(sx.checked_mul(sy)?)?;
        let along = n.checked_mul(x(day))?.checked_sub(sx)?;
        let numerator = sy.checked_mul(cxx)?.checked_add(cxy.checked_mul(along)?)?;
        numerator.checked_div(n.checked_mul(cxx)?)
    };
    // Beyond the decimal range (huge values or spans), the same line in
    // floating point: still a projection, rounded like the exact one.
    let approximate = || -> Option<Decimal> {
        let x = |d: Date| d.days_since(first) as f64;
        let n = points.len() as f64;
        let mean_x = points.iter().map(|(d, _)| x(*d)).sum::<f64>() / n;
        let mean_y = points.iter().map(|(_, v)| num::to_f64(*v)).sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (d, v) in points {
            let dx = x(*d) - mean_x;
            sxy += dx * (num::to_f64(*v) - mean_y);
            sxx += dx * dx;
        }
        num::from_f64(mean_y + sxy / sxx * (x(day) - mean_x))
    };
    exact().or_else(approximate).map(num::round_trend)
}
