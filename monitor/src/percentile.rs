//! `percentile`: for each entity, the two recorded values next to the rank
//! `p / 100 × (n − 1)`, so that the interpolation between them is done in
//! exact decimals ([`crate::fold`]). DataFusion's own `percentile_cont`
//! rounds the fraction between ranks to six places and casts the result
//! back to the column's type, so neither way below uses it.
//!
//! In this process the entity's values are gathered (`array_agg`) and the
//! two next to the rank selected here, without sorting the rest. On a
//! cluster the values stay on the executors: a window function numbers
//! each entity's values in order and only the rows next to the rank come
//! back. Both give the same two values.

use aims_lang::measure::MeasurePlan;
use aims_lang::Date;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::error::Result;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::array_agg;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{cast, col, ident, lit, Expr, ExprFunctionExt};
use datafusion::prelude::SessionContext;

use crate::fold::rank_positions;
use crate::query::{column, decimal_f64, key_of, read, rows_of, Group};

/// Where the values of a percentile are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ordering {
    /// Gathered into this process and selected here.
    Here,
    /// Numbered on the executors, only the rows next to the rank returned.
    OnExecutors,
}

/// The values next to the plan's rank, per entity, as groups with their positions.
pub(crate) async fn measure(
    ctx: &SessionContext,
    table: &str,
    plan: &MeasurePlan,
    as_of: Date,
    ordering: Ordering,
) -> Result<Vec<Group>> {
    let data = ctx.table(table).await?;
    let predicate = rows_of(plan, data.schema().as_arrow(), as_of).predicate();
    let x = cast(ident(column(plan, 0)), DataType::Float64);
    let key = key_of(plan);
    match ordering {
        Ordering::Here => {
            let batches = data
                .filter(predicate)?
                .aggregate(vec![key.alias("k")], vec![array_agg(x).alias("xs")])?
                .collect()
                .await?;
            let mut out = Vec::new();
            for batch in batches {
                let keys = read(&batch, "k", &DataType::Utf8)?;
                let keys = keys.as_string::<i32>();
                let lists = batch.column(batch.schema().index_of("xs")?).as_list::<i32>();
                for i in (0..batch.num_rows()).filter(|&i| !keys.is_null(i) && !lists.is_null(i)) {
                    let list = lists.value(i);
                    let list = list.as_primitive::<Float64Type>();
                    let mut values: Vec<f64> = list.iter().flatten().collect();
                    out.extend(next_to_rank(plan, keys.value(i), &mut values));
                }
            }
            Ok(out)
        }
        Ordering::OnExecutors => {
            let up =
                row_number().partition_by(vec![key.clone()]).order_by(vec![x.clone().sort(true, false)]).build()?;
            // The entity's count of values, as a window over its rows.
            let count_all = Expr::WindowFunction(Box::new(WindowFunction::new(count_udaf(), vec![lit(1i64)])));
            let n = count_all.partition_by(vec![key.clone()]).build()?;
            let numbered =
                data.filter(predicate)?.select(vec![key.alias("k"), x.alias("x"), up.alias("up"), n.alias("n")])?;
            // A superset of the two positions next to the rank, whatever the
            // float rounding of the rank: the fold picks the exact ones.
            let n = cast(col("n"), DataType::Float64);
            let p = plan.rank.map_or(0.5, |r| decimal_f64(r) / 100.0);
            let rank = lit(p) * (n - lit(1.0));
            let position = cast(col("up"), DataType::Float64) - lit(1.0);
            let near = position.clone().gt(rank.clone() - lit(1.0)).and(position.lt(rank + lit(1.0)));
            let mut out = Vec::new();
            for batch in numbered.filter(near)?.collect().await? {
                let keys = read(&batch, "k", &DataType::Utf8)?;
                let values = read(&batch, "x", &DataType::Float64)?;
                let ups = read(&batch, "up", &DataType::Int64)?;
                let counts = read(&batch, "n", &DataType::Int64)?;
                let (keys, values) = (keys.as_string::<i32>(), values.as_primitive::<Float64Type>());
                let (ups, counts) = (ups.as_primitive::<Int64Type>(), counts.as_primitive::<Int64Type>());
                for i in 0..batch.num_rows() {
                    out.push(at(keys.value(i), values.value(i), ups.value(i) - 1, counts.value(i)));
                }
            }
            Ok(out)
        }
    }
}

/// One value at its position among `n`.
fn at(key: &str, value: f64, position: i64, n: i64) -> Group {
    Group {
        key: key.to_string(),
        rows: n,
        recorded: n,
        value: Some(value),
        position: Some((position, n)),
        ..Group::default()
    }
}

/// The values at the two positions next to the rank (one, when the rank
/// is whole), selected in place: the order of the rest is not needed.
fn next_to_rank(plan: &MeasurePlan, key: &str, values: &mut [f64]) -> Vec<Group> {
    let n = values.len() as i64;
    if n == 0 {
        return Vec::new();
    }
    let (below, above) = rank_positions(plan, n);
    let mut value_at = |position: i64| {
        let (_, value, _) = values.select_nth_unstable_by(position as usize, f64::total_cmp);
        *value
    };
    let low = at(key, value_at(below), below, n);
    if above == below {
        return vec![low];
    }
    vec![low, at(key, value_at(above), above, n)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use aims_lang::measure::MetricKind;

    #[test]
    fn the_values_either_side_of_the_rank_are_selected() {
        let plan = MeasurePlan {
            measure: "p".into(),
            entity: None,
            record: "R".into(),
            key_column: None,
            window: None,
            filters: vec![],
            metric: MetricKind::Percentile,
            columns: vec!["x".into()],
            rank: Some(95.into()),
            edges: vec![],
        };
        // 0.95 × 9 = 8.55: the 9th and 10th smallest of ten values.
        let mut values = [7.0, 1.0, 10.0, 3.0, 9.0, 2.0, 8.0, 4.0, 6.0, 5.0];
        let picked = next_to_rank(&plan, "s", &mut values);
        let pairs: Vec<_> = picked.iter().map(|g| (g.position, g.value)).collect();
        assert_eq!(pairs, [(Some((8, 10)), Some(9.0)), (Some((9, 10)), Some(10.0))]);
        // A whole rank: 0.95 × 20 = 19, one value.
        let mut values: Vec<f64> = (0..21).rev().map(f64::from).collect();
        let picked = next_to_rank(&plan, "s", &mut values);
        assert_eq!(picked.len(), 1);
        assert_eq!((picked[0].position, picked[0].value), (Some((19, 21)), Some(19.0)));
        assert!(next_to_rank(&plan, "s", &mut []).is_empty());
    }
}
