//! The table of metrics a `measure` computes: names, parameters, result
//! types and definitions. The checker, the documentation
//! (`docs/monitoring.md`, generated from [`markdown`]) and the runners
//! read this one table.

use crate::ir::Ty;

/// What an argument of a metric must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// A `Bool` column: a decision or a prediction that is yes or no.
    Outcome,
    /// A column whose values name groups: `Text`, an enum, `Bool` or `Int`.
    Group,
    /// A numeric column: `Int`, `Number` or `Percent`.
    Numeric,
    /// A column compared with another for equality (a prediction with the
    /// true label): `Bool`, `Text`, an enum or `Int`.
    Comparable,
    /// A column that is either a group (categories) or numeric (binned
    /// at the edges given next).
    Distribution,
    /// A number written in the policy, from 0 to 100.
    PercentRank,
    /// A list of numbers written in the policy, increasing: bin edges.
    Edges,
}

/// What a metric gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricResult {
    /// A whole number (a count).
    Int,
    /// A number.
    Number,
    /// A share of rows, shown as a percentage.
    Percent,
}

impl MetricResult {
    /// The language's type of the result.
    pub fn ty(self) -> Ty {
        match self {
            MetricResult::Int => Ty::Int,
            MetricResult::Number => Ty::Number,
            MetricResult::Percent => Ty::Percent,
        }
    }
}

/// The metrics a measure can compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// `count()`
    Count,
    /// `rate(outcome)`
    Rate,
    /// `mean(value)`
    Mean,
    /// `percentile(value, p)`
    Percentile,
    /// `parity_difference(outcome, group)`
    ParityDifference,
    /// `impact_ratio(outcome, group)`
    ImpactRatio,
    /// `opportunity_difference(outcome, label, group)`
    OpportunityDifference,
    /// `error_rate(prediction, label)`
    ErrorRate,
    /// `error_rate_difference(prediction, label, group)`
    ErrorRateDifference,
    /// `psi(value)` or `psi(value, edges)`
    Psi,
}

/// One metric of the table.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// Its name in the language.
    pub name: &'static str,
    /// Which metric it is.
    pub kind: MetricKind,
    /// Its parameters: name and what each must be.
    pub params: &'static [(&'static str, Param)],
    /// How many parameters must be given (the rest may be left out).
    pub required: usize,
    /// What it gives.
    pub result: MetricResult,
    /// Its definition, in one paragraph of Markdown.
    pub definition: &'static str,
    /// When it is unknown evidence besides "no rows".
    pub unknown_when: &'static str,
}

/// Every metric, in the order the documentation lists them.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "count",
        kind: MetricKind::Count,
        params: &[],
        required: 0,
        result: MetricResult::Int,
        definition: "Volume: the number of rows.",
        unknown_when: "",
    },
    Metric {
        name: "rate",
        kind: MetricKind::Rate,
        params: &[("outcome", Param::Outcome)],
        required: 1,
        result: MetricResult::Percent,
        definition: "Selection rate: the share of rows whose `outcome` is true, among the rows where it is recorded. \
                     The selection rate of one group is `rate` with the group in the `where`.",
        unknown_when: "`outcome` is recorded in no row",
    },
    Metric {
        name: "mean",
        kind: MetricKind::Mean,
        params: &[("value", Param::Numeric)],
        required: 1,
        result: MetricResult::Number,
        definition: "The arithmetic mean of `value` over the rows where it is recorded.",
        unknown_when: "`value` is recorded in no row",
    },
    Metric {
        name: "percentile",
        kind: MetricKind::Percentile,
        params: &[("value", Param::Numeric), ("p", Param::PercentRank)],
        required: 2,
        result: MetricResult::Number,
        definition: "The `p`-th percentile of `value` (latency percentiles: `percentile(d.latency_ms, 95)`), \
                     interpolated linearly between the two closest ranks: with the n recorded values sorted, \
                     the value at rank `p / 100 × (n − 1)`.",
        unknown_when: "`value` is recorded in no row",
    },
    Metric {
        name: "parity_difference",
        kind: MetricKind::ParityDifference,
        params: &[("outcome", Param::Outcome), ("group", Param::Group)],
        required: 2,
        result: MetricResult::Percent,
        definition: "Demographic parity difference: the highest selection rate of a group minus the lowest \
                     (0% when every group is selected at the same rate).",
        unknown_when: "fewer than two groups have a recorded `outcome`",
    },
    Metric {
        name: "impact_ratio",
        kind: MetricKind::ImpactRatio,
        params: &[("outcome", Param::Outcome), ("group", Param::Group)],
        required: 2,
        result: MetricResult::Number,
        definition: "Disparate impact ratio: the lowest selection rate of a group divided by the highest \
                     (1 when every group is selected at the same rate; the four-fifths rule asks for at least 0.8).",
        unknown_when: "fewer than two groups have a recorded `outcome`, or no group is ever selected",
    },
    Metric {
        name: "opportunity_difference",
        kind: MetricKind::OpportunityDifference,
        params: &[("outcome", Param::Outcome), ("label", Param::Outcome), ("group", Param::Group)],
        required: 3,
        result: MetricResult::Percent,
        definition: "Equal opportunity difference: among the rows whose `label` is true (those who should be \
                     selected), the highest selection rate of a group minus the lowest (true positive rates).",
        unknown_when: "fewer than two groups have a row whose `label` is true",
    },
    Metric {
        name: "error_rate",
        kind: MetricKind::ErrorRate,
        params: &[("prediction", Param::Comparable), ("label", Param::Comparable)],
        required: 2,
        result: MetricResult::Percent,
        definition: "Error rate: the share of rows whose `prediction` differs from the `label`, among the rows \
                     where both are recorded. The error rate of one group is `error_rate` with the group in the `where`.",
        unknown_when: "no row records both",
    },
    Metric {
        name: "error_rate_difference",
        kind: MetricKind::ErrorRateDifference,
        params: &[("prediction", Param::Comparable), ("label", Param::Comparable), ("group", Param::Group)],
        required: 3,
        result: MetricResult::Percent,
        definition: "Error rates by group: the highest error rate of a group minus the lowest.",
        unknown_when: "fewer than two groups have a row that records both",
    },
    Metric {
        name: "psi",
        kind: MetricKind::Psi,
        params: &[("value", Param::Distribution), ("edges", Param::Edges)],
        required: 1,
        result: MetricResult::Number,
        definition: "Population stability index (drift): how far the distribution of `value` in the window has \
                     moved from its distribution in the period of the same length just before the window: \
                     Σ (a − e) × ln(a / e) over the categories, where a and e are the shares of the window's and \
                     of the earlier period's recorded rows in the category (a share of 0 counts as 0.0001). \
                     A `Text`, enum or `Bool` value's categories are its values; a numeric value is binned at \
                     `edges` (`[300, 500, 700]`: below 300, 300 to 500, 500 to 700, 700 and above). \
                     Read as: below 0.1 stable, 0.1 to 0.25 a shift, above 0.25 a major shift. Needs a window.",
        unknown_when: "no row of either period records `value`",
    },
];

/// The metric of that name.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// The metric of that kind.
pub fn of_kind(kind: MetricKind) -> &'static Metric {
    METRICS.iter().find(|m| m.kind == kind).unwrap_or(&METRICS[0])
}

/// What a parameter accepts, in words.
pub fn param_words(param: Param) -> &'static str {
    match param {
        Param::Outcome => "a `Bool` column",
        Param::Group => "a `Text`, enum, `Bool` or `Int` column",
        Param::Numeric => "an `Int`, `Number` or `Percent` column",
        Param::Comparable => "a `Bool`, `Text`, enum or `Int` column",
        Param::Distribution => "a `Text`, enum, `Bool` or numeric column",
        Param::PercentRank => "a number from 0 to 100",
        Param::Edges => "a list of increasing numbers",
    }
}

/// `name(a, b)` as the documentation writes a metric's signature.
pub fn signature(m: &Metric) -> String {
    let params: Vec<String> = m
        .params
        .iter()
        .enumerate()
        .map(|(i, (name, _))| if i < m.required { (*name).to_string() } else { format!("{name}?") })
        .collect();
    format!("{}({})", m.name, params.join(", "))
}

/// The metrics as a Markdown table (in `docs/monitoring.md`, checked by a test).
pub fn markdown() -> String {
    let mut out = String::from("| metric | gives | definition | unknown evidence when |\n| --- | --- | --- | --- |\n");
    for m in METRICS {
        let gives = match m.result {
            MetricResult::Int => "`Int`",
            MetricResult::Number => "`Number`",
            MetricResult::Percent => "`Percent`",
        };
        let unknown =
            if m.unknown_when.is_empty() { "no row".to_string() } else { format!("no row, or {}", m.unknown_when) };
        let definition = m.definition.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!("| `{}` | {gives} | {definition} | {unknown} |\n", signature(m)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_kind_has_one_entry_and_required_params_come_first() {
        let mut kinds: Vec<MetricKind> = METRICS.iter().map(|m| m.kind).collect();
        let before = kinds.len();
        kinds.dedup();
        assert_eq!(kinds.len(), before);
        for m in METRICS {
            assert!(m.required <= m.params.len(), "{}", m.name);
            assert_eq!(of_kind(m.kind).name, m.name);
            assert_eq!(metric(m.name).map(|x| x.kind), Some(m.kind));
        }
        assert!(metric("median").is_none());
    }

    #[test]
    fn the_table_names_every_metric_with_its_signature() {
        let table = markdown();
        assert!(table.contains("| `percentile(value, p)` | `Number` |"), "{table}");
        assert!(table.contains("| `psi(value, edges?)` | `Number` |"), "{table}");
        assert_eq!(table.lines().count(), METRICS.len() + 2);
    }
}
