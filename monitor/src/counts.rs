//! One query per log for every measure whose value is a function of row
//! counts (counts, rates, rates by group, `psi`): the log is read once,
//! its rows grouped by every dimension any of those measures needs (an
//! entity key, a group, a bin), and each measure's counts are aggregates
//! filtered by its own conditions (`count(*) FILTER (WHERE …)`; `psi`'s
//! period before the window is a count of its own, not a dimension: every
//! dimension costs a hash of every row).
//! A measure's groups are then the sums over the dimensions it does not
//! use; counts are whole numbers, so the sums are exact whatever the order.

use std::collections::BTreeMap;

use aims_lang::measure::{MeasurePlan, MetricKind, ORGANISATION};
use aims_lang::Date;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, Schema};
use datafusion::error::Result;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{ident, lit, Expr, ExprFunctionExt};
use datafusion::prelude::SessionContext;

use crate::query::{bin, column, read, rows_of, Group, Rows, Span};

/// Whether a metric's value comes from row counts alone, so that its plan
/// shares its log's one counting query. (A percentile's values, gathered
/// by the same groups, would cost more than the query of its own, which
/// reads only its window.)
pub(crate) fn counts_rows(metric: MetricKind) -> bool {
    !matches!(metric, MetricKind::Mean | MetricKind::Percentile)
}

/// What a plan counts, as conditions on a row and dimensions to group by.
struct Counting {
    /// The rows the plan reads.
    rows: Rows,
    /// The entity key (`None`: a measure of the organisation).
    key: Option<Expr>,
    /// The group or bin a row is counted in.
    group: Option<Expr>,
    /// `psi`: the rows dated before the window.
    previous: Option<Expr>,
    /// Rows the metric counts as hits, and rows that record its columns
    /// (conditions besides `rows`).
    hits: Option<Vec<Expr>>,
    recorded: Option<Vec<Expr>>,
}

fn counting(plan: &MeasurePlan, schema: &Schema, as_of: Date) -> Counting {
    let rows = rows_of(plan, schema, as_of);
    let c = |i: usize| ident(column(plan, i));
    let both_recorded = || vec![c(0).is_not_null(), c(1).is_not_null()];
    let (group, hits, recorded) = match plan.metric {
        MetricKind::Count | MetricKind::Mean | MetricKind::Percentile => (None, None, None),
        MetricKind::Rate => (None, Some(vec![c(0).is_true()]), Some(vec![c(0).is_not_null()])),
        MetricKind::ParityDifference | MetricKind::ImpactRatio => {
            (Some(c(1)), Some(vec![c(0).is_true()]), Some(vec![c(0).is_not_null()]))
        }
        MetricKind::OpportunityDifference => (
            Some(c(2)),
            Some(vec![c(1).is_true(), c(0).is_true()]),
            // Two spellings of "the label is true": DataFusion 55's common
            // subexpression elimination mistakes the nullability of a shared
            // `IS TRUE` and refuses the plan.
            Some(vec![c(1).eq(lit(true)), c(0).is_not_null()]),
        ),
        MetricKind::ErrorRate => (None, Some(vec![c(0).not_eq(c(1))]), Some(both_recorded())),
        MetricKind::ErrorRateDifference => (Some(c(2)), Some(vec![c(0).not_eq(c(1))]), Some(both_recorded())),
        MetricKind::Psi => (Some(bin(column(plan, 0), &plan.edges)), None, None),
    };
    let previous = if plan.metric == MetricKind::Psi { rows.before_window.clone() } else { None };
    Counting { rows, key: plan.key_column.as_deref().map(ident), group, previous, hits, recorded }
}

/// What a plan asks of its log, as counts: two plans of one shape are
/// answered by the same counts (`parity_difference` and `impact_ratio`
/// count the same hits by the same groups; only their folds differ).
pub(crate) fn shape(plan: &MeasurePlan) -> MeasurePlan {
    let metric = match plan.metric {
        MetricKind::ImpactRatio => MetricKind::ParityDifference,
        other => other,
    };
    MeasurePlan { measure: String::new(), metric, ..plan.clone() }
}

/// The rows any of the countings reads, as a condition: the days of their
/// windows when they all have one on the same column (cheap to check, and
/// what lets Parquet statistics skip row groups), else any of their own
/// conditions. The aggregates' filters keep each one's own rows.
fn reads(countings: &[Counting]) -> Expr {
    let spans: Vec<&Span> = countings.iter().filter_map(|c| c.rows.span.as_ref()).collect();
    match spans.first() {
        Some(first) if spans.len() == countings.len() && spans.iter().all(|s| s.column == first.column) => {
            let earliest = spans.iter().map(|s| s.first).min().unwrap_or(first.first);
            let latest = spans.iter().map(|s| s.last).max().unwrap_or(first.last);
            Span { first: earliest, last: latest, ..(*first).clone() }.condition()
        }
        _ => countings.iter().map(|c| c.rows.predicate()).reduce(Expr::or).unwrap_or_else(|| lit(false)),
    }
}

/// Where a shape's dimensions are among the query's grouping columns.
struct Placed {
    key: Option<usize>,
    group: Option<usize>,
}

/// Every plan's groups, in the order of `plans`, from one query of `table`.
pub(crate) async fn measure(
    ctx: &SessionContext,
    table: &str,
    plans: &[&MeasurePlan],
    as_of: Date,
) -> Result<Vec<Vec<Group>>> {
    let data = ctx.table(table).await?;
    let schema = data.schema().as_arrow().clone();
    let mut shapes: Vec<MeasurePlan> = Vec::new();
    let shape_of: Vec<usize> = plans
        .iter()
        .map(|plan| {
            let s = shape(plan);
            shapes.iter().position(|known| *known == s).unwrap_or_else(|| {
                shapes.push(s);
                shapes.len() - 1
            })
        })
        .collect();
    let countings: Vec<Counting> = shapes.iter().map(|s| counting(s, &schema, as_of)).collect();

    // The dimensions, each once however many shapes group by it.
    let mut dimensions: Vec<Expr> = Vec::new();
    let mut place = |e: &Option<Expr>| {
        e.as_ref().map(|e| {
            dimensions.iter().position(|d| d == e).unwrap_or_else(|| {
                dimensions.push(e.clone());
                dimensions.len() - 1
            })
        })
    };
    let placed: Vec<Placed> = countings.iter().map(|c| Placed { key: place(&c.key), group: place(&c.group) }).collect();

    let group_by = dimensions.iter().enumerate().map(|(j, d)| d.clone().alias(format!("d{j}"))).collect();
    let batches = data.filter(reads(&countings))?.aggregate(group_by, aggregates(&countings)?)?.collect().await?;

    let mut by_shape: Vec<Tally> = vec![BTreeMap::new(); shapes.len()];
    for batch in batches {
        tally(&batch, dimensions.len(), &placed, &mut by_shape)?;
    }
    let groups: Vec<Vec<Group>> = by_shape
        .into_iter()
        .map(|counts| {
            counts
                .into_iter()
                .map(|((key, group, previous), (rows, hits, recorded))| Group {
                    key,
                    group,
                    previous,
                    rows,
                    hits,
                    recorded,
                    ..Group::default()
                })
                .collect()
        })
        .collect();
    Ok(shape_of.into_iter().map(|s| groups[s].clone()).collect())
}

/// Per shape: (key, group, dated before the window) → rows, hits, recorded.
type Tally = BTreeMap<(String, Option<String>, bool), (i64, i64, i64)>;

/// Each shape's counts, as aggregates named `r`, `h`, `c` and `p` with the
/// shape's index.
fn aggregates(countings: &[Counting]) -> Result<Vec<Expr>> {
    // Each aggregate counts the rows of its own conditions; DataFusion
    // computes a condition shared by several of them (a window) once per
    // batch.
    let counted = |conditions: Vec<Expr>, name: String| -> Result<Expr> {
        Ok(match conjunction(conditions) {
            Some(condition) => count(lit(1i64)).filter(condition).build()?.alias(name),
            None => count(lit(1i64)).alias(name),
        })
    };
    let mut aggregates = Vec::new();
    for (i, c) in countings.iter().enumerate() {
        let with = |extra: &[Expr]| c.rows.conditions.iter().chain(extra).cloned().collect::<Vec<_>>();
        aggregates.push(counted(with(&[]), format!("r{i}"))?);
        if let Some(hits) = &c.hits {
            aggregates.push(counted(with(hits), format!("h{i}"))?);
        }
        if let Some(recorded) = &c.recorded {
            aggregates.push(counted(with(recorded), format!("c{i}"))?);
        }
        if let Some(previous) = &c.previous {
            aggregates.push(counted(with(std::slice::from_ref(previous)), format!("p{i}"))?);
        }
    }
    Ok(aggregates)
}

/// Adds one batch of the query's rows to each shape's tally: a shape's
/// counts summed over the dimensions it does not group by.
fn tally(batch: &RecordBatch, dimensions: usize, placed: &[Placed], by_shape: &mut [Tally]) -> Result<()> {
    let dims: Vec<ArrayRef> =
        (0..dimensions).map(|j| read(batch, &format!("d{j}"), &DataType::Utf8)).collect::<Result<_>>()?;
    let count_of = |name: String| -> Result<Option<ArrayRef>> {
        match batch.schema().index_of(&name) {
            Ok(_) => read(batch, &name, &DataType::Int64).map(Some),
            Err(_) => Ok(None),
        }
    };
    let text = |j: Option<usize>, row: usize| {
        j.and_then(|j| {
            let a = dims[j].as_string::<i32>();
            (!a.is_null(row)).then(|| a.value(row).to_string())
        })
    };
    for (i, p) in placed.iter().enumerate() {
        let key_at = |row: usize| match p.key {
            Some(_) => text(p.key, row),
            None => Some(ORGANISATION.to_string()),
        };
        let [rows, hits, recorded, previous] = ["r", "h", "c", "p"].map(|c| count_of(format!("{c}{i}")));
        let (rows, hits, recorded, previous) = (rows?, hits?, recorded?, previous?);
        let value = |a: &Option<ArrayRef>, row: usize| -> i64 {
            a.as_ref().map_or(0, |a| {
                let a = a.as_primitive::<Int64Type>();
                if a.is_null(row) {
                    0
                } else {
                    a.value(row)
                }
            })
        };
        for row in 0..batch.num_rows() {
            let n = value(&rows, row);
            if n == 0 {
                continue;
            }
            // `psi`: the window's rows are those not dated before it.
            let before = value(&previous, row);
            let Some(key) = key_at(row) else { continue };
            let group = text(p.group, row);
            if before > 0 {
                by_shape[i].entry((key.clone(), group.clone(), true)).or_default().0 += before;
            }
            if n > before {
                let entry = by_shape[i].entry((key, group, false)).or_default();
                entry.0 += n - before;
                entry.1 += value(&hits, row);
                entry.2 += value(&recorded, row);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_and_a_ratio_between_the_same_groups_ask_the_same_counts() {
        let plan = |metric, measure: &str| MeasurePlan {
            measure: measure.into(),
            entity: Some("S".into()),
            record: "R".into(),
            key_column: Some("k".into()),
            window: None,
            filters: vec![],
            metric,
            columns: vec!["approved".into(), "group".into()],
            rank: None,
            edges: vec![],
        };
        assert_eq!(shape(&plan(MetricKind::ParityDifference, "gap")), shape(&plan(MetricKind::ImpactRatio, "ratio")));
        assert_ne!(shape(&plan(MetricKind::ParityDifference, "gap")), shape(&plan(MetricKind::Rate, "rate")));
        assert!(counts_rows(MetricKind::Psi) && !counts_rows(MetricKind::Percentile) && !counts_rows(MetricKind::Mean));
    }

    #[test]
    fn the_query_reads_the_days_of_every_window_and_no_more() {
        use aims_lang::measure::Window;
        use datafusion::arrow::datatypes::{Field, TimeUnit};
        let ty = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Schema::new(vec![Field::new("at", ty.clone(), false), Field::new("k", DataType::Utf8, true)]);
        let as_of = Date::parse("2026-11-01").unwrap_or(Date::UNIX_EPOCH);
        let plan = |metric, days: Option<i64>| MeasurePlan {
            measure: "m".into(),
            entity: Some("S".into()),
            record: "R".into(),
            key_column: Some("k".into()),
            window: days.map(|days| Window { column: "at".into(), duration: aims_lang::Duration { months: 0, days } }),
            filters: vec![],
            metric,
            columns: vec!["band".into()],
            rank: None,
            edges: vec![],
        };
        let read =
            |plans: &[MeasurePlan]| reads(&plans.iter().map(|p| counting(p, &schema, as_of)).collect::<Vec<_>>());
        // A 7-day count and a 30-day `psi` (which reads the 31 days before
        // its window too): from 2026-09-01 to 2026-11-01.
        let first = Date::parse("2026-09-01").unwrap_or(Date::UNIX_EPOCH);
        let span = Span { column: "at".into(), ty: Some(ty), first, last: as_of };
        assert_eq!(read(&[plan(MetricKind::Count, Some(7)), plan(MetricKind::Psi, Some(30))]), span.condition());
        // A measure without a window reads every row its conditions keep.
        let unbounded = [plan(MetricKind::Count, Some(7)), plan(MetricKind::Count, None)];
        let either = counting(&unbounded[0], &schema, as_of).rows.predicate().or(ident("k").is_not_null());
        assert_eq!(read(&unbounded), either);
    }
}
