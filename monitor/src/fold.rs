//! A query's counts per entity folded into the metric's value: ratios of
//! counts in exact decimals, spreads between groups, the population
//! stability index; every value rounded to six decimal places at the end.
//! A value that the rows cannot give (no group to compare with, nothing
//! recorded) is a reason, never a number.

use std::collections::BTreeMap;

use aims_lang::measure::metrics::MetricKind;
use aims_lang::measure::{Decimal, MeasureOutput, MeasurePlan, MeasureValue};
use rust_decimal::prelude::FromPrimitive;

use crate::query::{column, Group};

/// A share of a category that is 0 counts as this much in `psi` (the
/// logarithm of 0 is not a number).
const PSI_FLOOR: f64 = 0.0001;

/// Every entity's value from the query's groups.
pub(crate) fn output(plan: &MeasurePlan, groups: Vec<Group>) -> MeasureOutput {
    let mut by_key: BTreeMap<String, Vec<Group>> = BTreeMap::new();
    for g in groups {
        by_key.entry(g.key.clone()).or_default().push(g);
    }
    // Grouped by a constant alone (a measure of the organisation), a query
    // may answer one group of zero rows for no rows at all: no rows is no
    // evidence, never a count of 0.
    by_key.retain(|_, groups| groups.iter().any(|g| g.rows > 0));
    let values = by_key
        .into_iter()
        .map(|(key, groups)| {
            let value = value(plan, &groups);
            (key, value)
        })
        .collect();
    MeasureOutput { values }
}

fn ratio(hits: i64, of: i64) -> Option<Decimal> {
    Decimal::from(hits).checked_div(Decimal::from(of))
}

/// A float result as a decimal (rounded with every value, in [`value`]).
fn decimal(x: f64) -> Result<Decimal, String> {
    Decimal::from_f64(x).ok_or_else(|| format!("{x} is not a number a policy can compare"))
}

fn value(plan: &MeasurePlan, groups: &[Group]) -> MeasureValue {
    let current = groups.iter().filter(|g| !g.previous);
    let rows: i64 = match plan.metric {
        // Each row returned is one value of the same n recorded values.
        MetricKind::Percentile => groups.first().map_or(0, |g| g.rows),
        _ => current.clone().map(|g| g.rows).sum(),
    };
    let hits: i64 = groups.iter().map(|g| g.hits).sum();
    let recorded: i64 = groups.iter().map(|g| g.recorded).sum();
    let nothing_recorded = |what: String| Err(format!("{what} is recorded in no row"));
    let value = match plan.metric {
        MetricKind::Count => Ok(Decimal::from(rows)),
        MetricKind::Rate | MetricKind::ErrorRate => match ratio(hits, recorded) {
            Some(r) if recorded > 0 => Ok(r),
            _ if plan.metric == MetricKind::Rate => nothing_recorded(format!("`{}`", column(plan, 0))),
            _ => Err(format!("no row records both `{}` and `{}`", column(plan, 0), column(plan, 1))),
        },
        MetricKind::Mean => match groups.first().and_then(|g| g.value) {
            Some(v) if recorded > 0 => decimal(v),
            _ => nothing_recorded(format!("`{}`", column(plan, 0))),
        },
        MetricKind::Percentile => percentile(plan, groups),
        MetricKind::ParityDifference
        | MetricKind::ImpactRatio
        | MetricKind::OpportunityDifference
        | MetricKind::ErrorRateDifference => between_groups(plan, groups),
        MetricKind::Psi => psi(plan, groups),
    };
    MeasureValue { value: value.map(six_places), rows: rows.max(0) as u64 }
}

/// Six decimal places, as reports show computed values: a gap of
/// 15.230091%, not 28 digits of a division.
fn six_places(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointAwayFromZero).normalize()
}

/// The rank `p / 100 × (n − 1)` of a percentile among `n` values, exactly.
fn rank(plan: &MeasurePlan, n: i64) -> Decimal {
    plan.rank.unwrap_or(Decimal::from(50)) / Decimal::ONE_HUNDRED * Decimal::from(n - 1)
}

/// The positions (from 0) of the values either side of a percentile's
/// rank among `n` values: the same twice when the rank is whole.
pub(crate) fn rank_positions(plan: &MeasurePlan, n: i64) -> (i64, i64) {
    positions(rank(plan, n), n)
}

fn positions(rank: Decimal, n: i64) -> (i64, i64) {
    use rust_decimal::prelude::ToPrimitive;
    let position = |d: Decimal| d.to_i64().unwrap_or(0).clamp(0, (n - 1).max(0));
    (position(rank.floor()), position(rank.ceil()))
}

/// The value at rank `p / 100 × (n − 1)`, interpolated linearly between
/// the values at the ranks either side, in exact decimals.
fn percentile(plan: &MeasurePlan, groups: &[Group]) -> Result<Decimal, String> {
    let Some((_, n)) = groups.first().and_then(|g| g.position) else {
        return Err(format!("`{}` is recorded in no row", column(plan, 0)));
    };
    let rank = rank(plan, n);
    let (below, above) = positions(rank, n);
    let at = |position: i64| {
        groups
            .iter()
            .find(|g| g.position.is_some_and(|(p, _)| p == position))
            .and_then(|g| g.value)
            .and_then(|v| decimal(v).ok())
    };
    match (at(below), at(above)) {
        (Some(low), Some(high)) => Ok((low + (high - low) * (rank - rank.floor())).normalize()),
        _ => Err(format!("the values of `{}` next to rank {rank} were not found", column(plan, 0))),
    }
}

/// The spread (or ratio) of the groups' rates.
fn between_groups(plan: &MeasurePlan, groups: &[Group]) -> Result<Decimal, String> {
    let rates: Vec<Decimal> =
        groups.iter().filter(|g| g.recorded > 0).filter_map(|g| ratio(g.hits, g.recorded)).collect();
    let group_column = column(plan, plan.columns.len().saturating_sub(1));
    if rates.len() < 2 {
        let which = match plan.metric {
            MetricKind::OpportunityDifference => format!("a row whose `{}` is true", column(plan, 1)),
            MetricKind::ErrorRateDifference => {
                format!("a row that records `{}` and `{}`", column(plan, 0), column(plan, 1))
            }
            _ => format!("a recorded `{}`", column(plan, 0)),
        };
        return Err(format!("fewer than two groups of `{group_column}` have {which}"));
    }
    let (lowest, highest) = rates.iter().fold((rates[0], rates[0]), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    match plan.metric {
        MetricKind::ImpactRatio => lowest
            .checked_div(highest)
            .filter(|_| !highest.is_zero())
            .ok_or_else(|| format!("no group of `{group_column}` is ever selected")),
        _ => Ok(highest - lowest),
    }
}

/// Σ (a − e) × ln(a / e) over the categories of both periods.
fn psi(plan: &MeasurePlan, groups: &[Group]) -> Result<Decimal, String> {
    let mut shares: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for g in groups {
        let entry = shares.entry(g.group.as_deref().unwrap_or("")).or_default();
        if g.previous {
            entry.1 += g.rows;
        } else {
            entry.0 += g.rows;
        }
    }
    let (now, before): (i64, i64) = shares.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    let value = column(plan, 0);
    if now == 0 {
        return Err(format!("no row in the window records `{value}`"));
    }
    if before == 0 {
        return Err(format!("no row in the period before the window records `{value}`"));
    }
    let index: f64 = shares
        .values()
        .map(|(x, y)| {
            let a = (*x as f64 / now as f64).max(PSI_FLOOR);
            let e = (*y as f64 / before as f64).max(PSI_FLOOR);
            (a - e) * (a / e).ln()
        })
        .sum();
    decimal(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(metric: MetricKind, columns: &[&str]) -> MeasurePlan {
        MeasurePlan {
            measure: "m".into(),
            entity: Some("E".into()),
            record: "R".into(),
            key_column: Some("k".into()),
            window: None,
            filters: vec![],
            metric,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rank: None,
            edges: vec![],
        }
    }

    fn group(g: &str, rows: i64, hits: i64, recorded: i64) -> Group {
        Group {
            key: "s".into(),
            group: Some(g.into()),
            previous: false,
            rows,
            hits,
            recorded,
            value: None,
            position: None,
        }
    }

    /// A float result as `value` gives it.
    fn rounded(x: f64) -> Result<Decimal, String> {
        decimal(x).map(six_places)
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn group_metrics_compare_the_highest_and_lowest_rates() {
        let groups = [group("a", 10, 6, 10), group("b", 8, 3, 6), group("c", 2, 0, 0)];
        let parity = plan(MetricKind::ParityDifference, &["approved", "group"]);
        assert_eq!(value(&parity, &groups).value, Ok(dec("0.1")), "60% − 50%");
        assert_eq!(value(&parity, &groups).rows, 20);
        let ratio = plan(MetricKind::ImpactRatio, &["approved", "group"]);
        assert_eq!(value(&ratio, &groups).value, Ok(dec("0.833333")), "50% / 60%, six places");
        assert_eq!(
            value(&parity, &groups[..1]).value,
            Err("fewer than two groups of `group` have a recorded `approved`".into())
        );
        let never = [group("a", 5, 0, 5), group("b", 5, 0, 5)];
        assert_eq!(value(&ratio, &never).value, Err("no group of `group` is ever selected".into()));
    }

    #[test]
    fn psi_of_unchanged_shares_is_zero_and_grows_with_the_shift() {
        let p = plan(MetricKind::Psi, &["band"]);
        let period = |g: &str, rows: i64, previous: bool| Group { previous, ..group(g, rows, 0, 0) };
        let same = [period("a", 50, false), period("b", 50, false), period("a", 20, true), period("b", 20, true)];
        assert_eq!(value(&p, &same).value, Ok(Decimal::ZERO));
        assert_eq!(value(&p, &same).rows, 100, "rows of the window only");
        // 80/20 now against 50/50 before: (0.8−0.5)·ln(1.6) + (0.2−0.5)·ln(0.4) = 0.416...
        let shifted = [period("a", 80, false), period("b", 20, false), period("a", 50, true), period("b", 50, true)];
        let expected = 0.3 * (1.6f64).ln() + (-0.3) * (0.4f64).ln();
        assert_eq!(value(&p, &shifted).value, rounded(expected));
        assert_eq!(value(&p, &shifted[..2]).value, Err("no row in the period before the window records `band`".into()));
    }

    #[test]
    fn a_rate_of_nothing_recorded_is_a_reason() {
        let p = plan(MetricKind::Rate, &["approved"]);
        assert_eq!(
            value(&p, &[Group { group: None, ..group("", 4, 0, 0) }]).value,
            Err("`approved` is recorded in no row".into())
        );
        assert_eq!(value(&p, &[Group { group: None, ..group("", 4, 1, 4) }]).value, Ok(dec("0.25")));
    }
}
