//! One DataFusion query per measure: the log's rows filtered by the join
//! column being recorded, the window and the filters, then aggregated by
//! the key column (and by group, bin or period where the metric needs
//! them) into a few counts per entity. Names from the policy become column
//! references (`ident`), values literals: nothing is spliced into SQL.

use aims_lang::measure::{CmpOp, Filter, Literal, MeasurePlan, MetricKind};
use aims_lang::Date;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::{avg, count, sum};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{cast, col, ident, lit, when, Expr, ExprFunctionExt};
use datafusion::prelude::SessionContext;

/// The counts of one entity (and group, bin or period) the query returns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group {
    /// The entity's key.
    pub key: String,
    /// The group's value, or the bin (`psi`).
    pub group: Option<String>,
    /// `psi`: a count of the period before the window.
    pub previous: bool,
    /// Rows counted.
    pub rows: i64,
    /// Rows the metric counts as hits: selected, erroneous.
    pub hits: i64,
    /// Rows where the metric's columns are recorded.
    pub recorded: i64,
    /// A mean, or a value next to a percentile's rank.
    pub value: Option<f64>,
    /// `percentile`: the value's position among the entity's recorded
    /// values, from 0, and how many there are.
    pub position: Option<(i64, i64)>,
}

/// Days since 1970-01-01, as Arrow dates count.
fn date_lit(date: Date) -> Expr {
    lit(ScalarValue::Date32(Some(date.days_since(Date::UNIX_EPOCH) as i32)))
}

fn day(column: &str) -> Expr {
    cast(ident(column), DataType::Date32)
}

/// The days from `first` to `last` (both included) of a date column, as
/// a condition on the column's own values where its type allows: a date
/// compared as it is, a timestamp in UTC (or without a zone) between two
/// midnights. Then Parquet's statistics skip the row groups outside the
/// window, which a cast of every row to a day cannot. Any other column (a
/// `YYYY-MM-DD` text, a timestamp in another zone) is cast to its day.
fn days_between(column: &str, ty: Option<&DataType>, first: Date, last: Date) -> Expr {
    match ty {
        Some(DataType::Date32) => ident(column).between(date_lit(first), date_lit(last)),
        Some(DataType::Timestamp(unit, zone)) => {
            match (midnight(unit, zone, first), midnight(unit, zone, last.add_days(1))) {
                (Some(start), Some(end)) => ident(column).gt_eq(start).and(ident(column).lt(end)),
                _ => day(column).between(date_lit(first), date_lit(last)),
            }
        }
        _ => day(column).between(date_lit(first), date_lit(last)),
    }
}

/// Whether `column`, of type `ty`, is dated before `day`.
fn before_day(column: &str, ty: Option<&DataType>, day_: Date) -> Expr {
    match ty {
        Some(DataType::Date32) => ident(column).lt(date_lit(day_)),
        Some(DataType::Timestamp(unit, zone)) => match midnight(unit, zone, day_) {
            Some(start) => ident(column).lt(start),
            None => day(column).lt(date_lit(day_)),
        },
        _ => day(column).lt(date_lit(day_)),
    }
}

/// Midnight UTC starting `day` as a timestamp literal of the column's unit
/// and zone; `None` for a zone other than UTC (its days begin at another
/// instant) or an instant the unit cannot hold.
fn midnight(unit: &TimeUnit, zone: &Option<std::sync::Arc<str>>, day: Date) -> Option<Expr> {
    if !zone.as_deref().is_none_or(|z| matches!(z, "UTC" | "utc" | "+00:00" | "Z" | "Etc/UTC")) {
        return None;
    }
    let seconds = day.days_since(Date::UNIX_EPOCH).checked_mul(86_400)?;
    let zone = zone.clone();
    Some(lit(match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(seconds), zone),
        TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(seconds.checked_mul(1_000)?), zone),
        TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(seconds.checked_mul(1_000_000)?), zone),
        TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(seconds.checked_mul(1_000_000_000)?), zone),
    }))
}

/// 1 where `condition` holds, else 0 (unknown included).
fn flag(condition: Expr) -> Expr {
    when(condition, lit(1i64)).otherwise(lit(0i64)).unwrap_or_else(|_| lit(0i64))
}

/// A column compared with a literal, as the literal's type reads it.
fn typed(column: &str, value: &Literal) -> (Expr, Expr) {
    match value {
        Literal::Bool(b) => (ident(column), lit(*b)),
        Literal::Int(n) => (cast(ident(column), DataType::Float64), lit(*n as f64)),
        Literal::Number(n) => (cast(ident(column), DataType::Float64), lit(decimal_f64(*n))),
        // Any string column (plain, view or dictionary) is compared with a
        // text as it is: a cast of every row to `Utf8` would copy it.
        Literal::Text(t) => (ident(column), lit(t.clone())),
        Literal::Date(d) => (day(column), date_lit(*d)),
    }
}

fn decimal_f64(n: aims_lang::measure::Decimal) -> f64 {
    rust_decimal::prelude::ToPrimitive::to_f64(&n).unwrap_or(f64::NAN)
}

fn filter(f: &Filter) -> Expr {
    match f {
        Filter::Compare { column, op, value } => {
            let (left, right) = typed(column, value);
            match op {
                CmpOp::Eq => left.eq(right),
                CmpOp::Ne => left.not_eq(right),
                CmpOp::Lt => left.lt(right),
                CmpOp::Le => left.lt_eq(right),
                CmpOp::Gt => left.gt(right),
                CmpOp::Ge => left.gt_eq(right),
            }
        }
        Filter::OneOf { column, values, negated } => {
            let Some(first) = values.first() else { return lit(*negated) };
            let (left, _) = typed(column, first);
            let list = values.iter().map(|v| typed(column, v).1).collect();
            left.in_list(list, *negated)
        }
        Filter::Flag { column, value: true } => ident(column).is_true(),
        Filter::Flag { column, value: false } => ident(column).is_false(),
        Filter::Recorded { column, some: true } => ident(column).is_not_null(),
        Filter::Recorded { column, some: false } => ident(column).is_null(),
    }
}

/// `psi`'s bin of a numeric value: "0" below the first edge, "1" up to
/// the second, and so on.
fn bin(column: &str, edges: &[aims_lang::measure::Decimal]) -> Expr {
    let value = cast(ident(column), DataType::Float64);
    let mut cases = edges.iter().enumerate();
    let Some((_, first)) = cases.next() else { return ident(column) };
    let mut builder = when(value.clone().lt(lit(decimal_f64(*first))), lit("0"));
    for (i, edge) in cases {
        builder = builder.when(value.clone().lt(lit(decimal_f64(*edge))), lit(i.to_string()));
    }
    builder.otherwise(lit(edges.len().to_string())).unwrap_or_else(|_| lit("0"))
}

/// Runs a plan over the table `table` as of `as_of`.
pub(crate) async fn measure(ctx: &SessionContext, table: &str, plan: &MeasurePlan, as_of: Date) -> Result<Vec<Group>> {
    let column = |i: usize| ident(plan.columns.get(i).map_or("", String::as_str));
    let mut predicate = match &plan.key_column {
        Some(key) => ident(key).is_not_null(),
        None => lit(true),
    };
    let mut window_start = None;
    if let Some(w) = &plan.window {
        let schema = ctx.table(table).await?.schema().clone();
        let ty = schema.field_with_unqualified_name(&w.column).ok().map(|f| f.data_type().clone());
        let (first, last) = w.days(as_of);
        let from = if plan.metric == MetricKind::Psi { w.previous_days(as_of).0 } else { first };
        predicate = predicate.and(days_between(&w.column, ty.as_ref(), from, last));
        window_start = Some(before_day(&w.column, ty.as_ref(), first));
    }
    for f in &plan.filters {
        predicate = predicate.and(filter(f));
    }
    let key = key_of(plan).alias("k");
    let rows = count(lit(1i64)).alias("rows");
    let mut group_by = vec![key];
    // Keys and groups are grouped on as the log holds them, and read as
    // text from the few rows the query returns.
    let group = |i: usize| column(i).alias("g");
    let (aggregates, extra_filter): (Vec<Expr>, Option<Expr>) = match plan.metric {
        MetricKind::Count => (vec![rows], None),
        MetricKind::Rate => {
            let o = column(0);
            (vec![rows, sum(flag(o.clone().is_true())).alias("hits"), count(o).alias("recorded")], None)
        }
        MetricKind::Percentile => return percentile(ctx, table, plan, predicate).await,
        MetricKind::Mean => {
            let x = cast(column(0), DataType::Float64);
            (vec![rows, avg(x.clone()).alias("value"), count(x).alias("recorded")], None)
        }
        MetricKind::ParityDifference | MetricKind::ImpactRatio => {
            let o = column(0);
            group_by.push(group(1));
            let aggregates = vec![rows, sum(flag(o.clone().is_true())).alias("hits"), count(o).alias("recorded")];
            (aggregates, Some(column(1).is_not_null()))
        }
        MetricKind::OpportunityDifference => {
            let (o, label) = (column(0), column(1));
            group_by.push(group(2));
            // Two spellings of "the label is true": DataFusion 55's common
            // subexpression elimination mistakes the nullability of a shared
            // `IS TRUE` and refuses the plan.
            let aggregates = vec![
                rows,
                sum(flag(label.clone().is_true().and(o.clone().is_true()))).alias("hits"),
                sum(flag(label.eq(lit(true)).and(o.is_not_null()))).alias("recorded"),
            ];
            (aggregates, Some(column(2).is_not_null()))
        }
        MetricKind::ErrorRate | MetricKind::ErrorRateDifference => {
            let (p, l) = (column(0), column(1));
            let both = p.clone().is_not_null().and(l.clone().is_not_null());
            let aggregates = vec![rows, sum(flag(p.not_eq(l))).alias("hits"), sum(flag(both)).alias("recorded")];
            if plan.metric == MetricKind::ErrorRateDifference {
                group_by.push(group(2));
                (aggregates, Some(column(2).is_not_null()))
            } else {
                (aggregates, None)
            }
        }
        MetricKind::Psi => {
            group_by.push(bin(plan.columns.first().map_or("", String::as_str), &plan.edges).alias("g"));
            if let Some(before) = &window_start {
                group_by.push(before.clone().alias("p"));
            }
            (vec![rows], Some(column(0).is_not_null()))
        }
    };
    if let Some(extra) = extra_filter {
        predicate = predicate.and(extra);
    }
    let batches = ctx.table(table).await?.filter(predicate)?.aggregate(group_by, aggregates)?.collect().await?;
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let cast_to = |name: &str, to: &DataType| -> Result<Option<std::sync::Arc<dyn Array>>> {
            match schema.index_of(name) {
                Ok(i) => Ok(Some(datafusion::arrow::compute::cast(batch.column(i), to)?)),
                Err(_) => Ok(None),
            }
        };
        let keys = cast_to("k", &DataType::Utf8)?;
        let groups = cast_to("g", &DataType::Utf8)?;
        let periods = cast_to("p", &DataType::Boolean)?;
        let counts: Vec<Option<std::sync::Arc<dyn Array>>> =
            ["rows", "hits", "recorded"].iter().map(|n| cast_to(n, &DataType::Int64)).collect::<Result<_>>()?;
        let values = cast_to("value", &DataType::Float64)?;
        let Some(keys) = keys else { continue };
        let keys = keys.as_string::<i32>();
        let int = |a: &Option<std::sync::Arc<dyn Array>>, i: usize| {
            a.as_ref().map_or(0, |a| {
                let a = a.as_primitive::<Int64Type>();
                if a.is_null(i) {
                    0
                } else {
                    a.value(i)
                }
            })
        };
        for i in 0..batch.num_rows() {
            if keys.is_null(i) {
                continue;
            }
            out.push(Group {
                key: keys.value(i).to_string(),
                group: groups.as_ref().and_then(|g| {
                    let g = g.as_string::<i32>();
                    (!g.is_null(i)).then(|| g.value(i).to_string())
                }),
                previous: periods.as_ref().is_some_and(|p| {
                    let p = p.as_boolean();
                    !p.is_null(i) && p.value(i)
                }),
                rows: int(&counts[0], i),
                hits: int(&counts[1], i),
                recorded: int(&counts[2], i),
                value: values.as_ref().and_then(|v| {
                    let v = v.as_primitive::<Float64Type>();
                    (!v.is_null(i)).then(|| v.value(i))
                }),
                position: None,
            });
        }
    }
    Ok(out)
}

/// What a plan asks of its log, as a query: two plans of one shape are
/// answered by the same rows (`parity_difference` and `impact_ratio` count
/// the same hits by the same groups; only their folds differ).
pub(crate) fn shape(plan: &MeasurePlan) -> MeasurePlan {
    let metric = match plan.metric {
        MetricKind::ImpactRatio => MetricKind::ParityDifference,
        other => other,
    };
    MeasurePlan { measure: String::new(), metric, ..plan.clone() }
}

/// The key of the entity a row belongs to, as the log holds it; for a measure of the
/// organisation, the one key every row has.
fn key_of(plan: &MeasurePlan) -> Expr {
    match &plan.key_column {
        Some(column) => ident(column),
        None => lit(aims_lang::measure::ORGANISATION),
    }
}

/// `percentile`: for each entity, the recorded values next to the rank
/// `p / 100 × (n − 1)` (numbered by a row number in ascending order, n by
/// a count over the entity's rows), so that the interpolation between them
/// is done in exact decimals ([`crate::fold`]). DataFusion's own
/// `percentile_cont` rounds the fraction between ranks to six places.
async fn percentile(ctx: &SessionContext, table: &str, plan: &MeasurePlan, predicate: Expr) -> Result<Vec<Group>> {
    let column = plan.columns.first().map_or("", String::as_str);
    let x = cast(ident(column), DataType::Float64);
    let key = key_of(plan);
    let up = row_number().partition_by(vec![key.clone()]).order_by(vec![x.clone().sort(true, false)]).build()?;
    // The entity's count of values, as a window over its rows.
    let count_all = Expr::WindowFunction(Box::new(WindowFunction::new(count_udaf(), vec![lit(1i64)])));
    let n = count_all.partition_by(vec![key.clone()]).build()?;
    let numbered = ctx.table(table).await?.filter(predicate.and(ident(column).is_not_null()))?.select(vec![
        key.alias("k"),
        x.alias("x"),
        up.alias("up"),
        n.alias("n"),
    ])?;
    // A superset of the two positions next to the rank, whatever the
    // float rounding of the rank: the fold picks the exact ones.
    let n = cast(col("n"), DataType::Float64);
    let p = plan.rank.map_or(0.5, |r| decimal_f64(r) / 100.0);
    let rank = lit(p) * (n - lit(1.0));
    let position = cast(col("up"), DataType::Float64) - lit(1.0);
    let near = position.clone().gt(rank.clone() - lit(1.0)).and(position.lt(rank + lit(1.0)));
    let batches = numbered.filter(near)?.collect().await?;
    let mut out = Vec::new();
    for batch in batches {
        let column = |name: &str, to: &DataType| -> Result<std::sync::Arc<dyn Array>> {
            let i = batch.schema().index_of(name)?;
            Ok(datafusion::arrow::compute::cast(batch.column(i), to)?)
        };
        let keys = column("k", &DataType::Utf8)?;
        let values = column("x", &DataType::Float64)?;
        let ups = column("up", &DataType::Int64)?;
        let counts = column("n", &DataType::Int64)?;
        let (keys, values) = (keys.as_string::<i32>(), values.as_primitive::<Float64Type>());
        let (ups, counts) = (ups.as_primitive::<Int64Type>(), counts.as_primitive::<Int64Type>());
        for i in 0..batch.num_rows() {
            let n = counts.value(i);
            out.push(Group {
                key: keys.value(i).to_string(),
                group: None,
                previous: false,
                rows: n,
                hits: 0,
                recorded: n,
                value: Some(values.value(i)),
                position: Some((ups.value(i) - 1, n)),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap_or(Date::UNIX_EPOCH)
    }

    #[test]
    fn a_window_on_a_utc_timestamp_runs_from_midnight_to_midnight() {
        let utc = Some(std::sync::Arc::from("UTC"));
        // 2026-10-02 is day 20,728 since 1970: 1,790,899,200 seconds.
        assert_eq!(
            midnight(&TimeUnit::Microsecond, &utc, day("2026-10-02")),
            Some(lit(ScalarValue::TimestampMicrosecond(Some(1_790_899_200_000_000), utc.clone())))
        );
        assert_eq!(
            midnight(&TimeUnit::Second, &None, day("2026-10-02")),
            Some(lit(ScalarValue::TimestampSecond(Some(1_790_899_200), None)))
        );
        // Another zone's days begin at another instant: cast to the day instead.
        assert_eq!(midnight(&TimeUnit::Second, &Some(std::sync::Arc::from("+02:00")), day("2026-10-02")), None);
        let ty = DataType::Timestamp(TimeUnit::Millisecond, Some(std::sync::Arc::from("Europe/Paris")));
        assert_eq!(
            days_between("at", Some(&ty), day("2026-10-02"), day("2026-11-01")),
            super::day("at").between(date_lit(day("2026-10-02")), date_lit(day("2026-11-01")))
        );
    }

    #[test]
    fn a_gap_and_a_ratio_between_the_same_groups_ask_the_same_query() {
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
    }
}
