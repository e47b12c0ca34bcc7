//! What every query of a measure is made of: the rows a plan reads (its
//! key recorded, its window, its filters) as a DataFusion condition, the
//! window as a range of the column's own values, `psi`'s bins, the entity
//! key a row belongs to, and the rows a query returns ([`Group`]); and the
//! query of a `mean`. Names from the policy become column references
//! (`ident`), values literals: nothing is spliced into SQL.

use aims_lang::measure::{CmpOp, Filter, Literal, MeasurePlan, MetricKind};
use aims_lang::Date;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::functions_aggregate::expr_fn::{avg, count};
use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
use datafusion::logical_expr::{cast, ident, lit, when, Expr};
use datafusion::prelude::SessionContext;

/// The counts of one entity (and group, bin or period) the query returns.
#[derive(Clone, Debug, Default, PartialEq)]
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

pub(crate) fn decimal_f64(n: aims_lang::measure::Decimal) -> f64 {
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
pub(crate) fn bin(column: &str, edges: &[aims_lang::measure::Decimal]) -> Expr {
    let value = cast(ident(column), DataType::Float64);
    let mut cases = edges.iter().enumerate();
    let Some((_, first)) = cases.next() else { return ident(column) };
    let mut builder = when(value.clone().lt(lit(decimal_f64(*first))), lit("0"));
    for (i, edge) in cases {
        builder = builder.when(value.clone().lt(lit(decimal_f64(*edge))), lit(i.to_string()));
    }
    builder.otherwise(lit(edges.len().to_string())).unwrap_or_else(|_| lit("0"))
}

/// The type of `column` in `schema`, if it has one by that name.
fn column_type(schema: &Schema, column: &str) -> Option<DataType> {
    schema.field_with_name(column).ok().map(|f| f.data_type().clone())
}

/// The rows a plan reads: its key recorded, its window (for `psi`, with
/// the period before it), its filters and whatever its metric needs
/// recorded to place a row (a group, a bin).
pub(crate) struct Rows {
    /// Conditions a row must meet, all of them (none: every row).
    pub conditions: Vec<Expr>,
    /// The window's column and the days read of it, first and last.
    pub span: Option<Span>,
    /// `psi`: whether a row is dated before the window.
    pub before_window: Option<Expr>,
}

/// Days of a date column, both included.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Span {
    /// The date column.
    pub column: String,
    /// Its type in the log, which decides how a day is compared.
    pub ty: Option<DataType>,
    /// The first day.
    pub first: Date,
    /// The last day.
    pub last: Date,
}

impl Span {
    /// The span as a condition on the column.
    pub(crate) fn condition(&self) -> Expr {
        days_between(&self.column, self.ty.as_ref(), self.first, self.last)
    }
}

impl Rows {
    /// All the conditions as one.
    pub(crate) fn predicate(&self) -> Expr {
        conjunction(self.conditions.clone()).unwrap_or_else(|| lit(true))
    }
}

/// The rows `plan` reads as of `as_of`, its window compared as the
/// column's type in `schema` allows.
pub(crate) fn rows_of(plan: &MeasurePlan, schema: &Schema, as_of: Date) -> Rows {
    let mut conditions = Vec::new();
    if let Some(key) = &plan.key_column {
        conditions.push(ident(key).is_not_null());
    }
    let mut span = None;
    let mut before_window = None;
    if let Some(w) = &plan.window {
        let ty = column_type(schema, &w.column);
        let (first, last) = w.days(as_of);
        let from = if plan.metric == MetricKind::Psi { w.previous_days(as_of).0 } else { first };
        let window = Span { column: w.column.clone(), ty: ty.clone(), first: from, last };
        // Each bound a condition of its own: windows of one column share
        // their end (as of the same day), and are checked once for all.
        conditions.extend(split_conjunction_owned(window.condition()));
        before_window = Some(before_day(&w.column, ty.as_ref(), first));
        span = Some(window);
    }
    conditions.extend(plan.filters.iter().map(filter));
    let placed = match plan.metric {
        MetricKind::ParityDifference | MetricKind::ImpactRatio => Some(1),
        MetricKind::OpportunityDifference | MetricKind::ErrorRateDifference => Some(2),
        MetricKind::Psi | MetricKind::Percentile => Some(0),
        MetricKind::Count | MetricKind::Rate | MetricKind::ErrorRate | MetricKind::Mean => None,
    };
    if let Some(i) = placed {
        conditions.push(ident(column(plan, i)).is_not_null());
    }
    Rows { conditions, span, before_window }
}

/// The name of the plan's `i`th column.
pub(crate) fn column(plan: &MeasurePlan, i: usize) -> &str {
    plan.columns.get(i).map_or("", String::as_str)
}

/// `mean`: the recorded values' average per entity.
pub(crate) async fn mean(ctx: &SessionContext, table: &str, plan: &MeasurePlan, as_of: Date) -> Result<Vec<Group>> {
    let data = ctx.table(table).await?;
    let predicate = rows_of(plan, data.schema().as_arrow(), as_of).predicate();
    let x = cast(ident(column(plan, 0)), DataType::Float64);
    let aggregates = vec![count(lit(1i64)).alias("rows"), avg(x.clone()).alias("value"), count(x).alias("recorded")];
    let batches = data.filter(predicate)?.aggregate(vec![key_of(plan).alias("k")], aggregates)?.collect().await?;
    let mut out = Vec::new();
    for batch in batches {
        let keys = read(&batch, "k", &DataType::Utf8)?;
        let rows = read(&batch, "rows", &DataType::Int64)?;
        let recorded = read(&batch, "recorded", &DataType::Int64)?;
        let values = read(&batch, "value", &DataType::Float64)?;
        let (keys, values) = (keys.as_string::<i32>(), values.as_primitive::<Float64Type>());
        let (rows, recorded) = (rows.as_primitive::<Int64Type>(), recorded.as_primitive::<Int64Type>());
        for i in (0..batch.num_rows()).filter(|&i| !keys.is_null(i)) {
            out.push(Group {
                key: keys.value(i).to_string(),
                rows: rows.value(i),
                recorded: recorded.value(i),
                value: (!values.is_null(i)).then(|| values.value(i)),
                ..Group::default()
            });
        }
    }
    Ok(out)
}

/// A column of a query's result, as type `to`.
pub(crate) fn read(batch: &RecordBatch, name: &str, to: &DataType) -> Result<ArrayRef> {
    let i = batch.schema().index_of(name)?;
    Ok(datafusion::arrow::compute::cast(batch.column(i), to)?)
}

/// The key of the entity a row belongs to, as the log holds it; for a measure of the
/// organisation, the one key every row has.
pub(crate) fn key_of(plan: &MeasurePlan) -> Expr {
    match &plan.key_column {
        Some(column) => ident(column),
        None => lit(aims_lang::measure::ORGANISATION),
    }
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
}
