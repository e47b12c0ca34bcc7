//! The builtin functions and aggregates of the language, in one table.
//!
//! The builtin types are listed once too, in [`TYPES`]: name, type and
//! what their values are.
//!
//! Each builtin is listed once, in [`BUILTINS`]: its name, the call it
//! accepts (arity and argument kinds), the aggregate it names, and a doc
//! paragraph. The checker types calls from it, the editor's hover,
//! completion and signature help print it, the REPL completes its names,
//! and the builtins section of `docs/language.md` is generated from it
//! (tests/docs.rs holds the committed doc to [`markdown`]). To add a
//! builtin: an entry here, an [`ir::Builtin`](crate::ir::Builtin) or
//! [`AggFn`] variant, and its evaluation in `eval/expr.rs` (the text
//! functions: in `eval/text.rs`, a function of the argument values alone).

use crate::ir::{AggFn, Builtin as Op, Ty};

/// A builtin function or aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Builtin {
    /// The name as written in a policy.
    pub name: &'static str,
    /// The call `name(ARG, ...)`, if the name takes arguments that way.
    pub call: Option<Call>,
    /// The aggregate `name(VALUE for x: Entity where FILTER)`, if the name is one.
    pub aggregate: Option<Aggregate>,
    /// What the builtin computes: one paragraph, Markdown.
    pub doc: &'static str,
}

/// A builtin called with arguments: `len(list)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// The operation the call lowers to.
    pub op: Op,
    /// The parameters: name (for signatures) and what each accepts; their
    /// number is the arity.
    pub params: &'static [(&'static str, Arg)],
    /// The type of the result.
    pub returns: Returns,
}

/// A builtin aggregate over a set: `sum(VALUE for x: Entity)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aggregate {
    /// The aggregate the form lowers to.
    pub op: AggFn,
    /// What the aggregated value may be.
    pub value: Arg,
    /// The type of the result.
    pub returns: AggReturns,
    /// The result over an empty set, as the docs write it.
    pub over_nothing: &'static str,
}

/// What an argument (or an aggregated value) accepts, on its definite type
/// (an optional argument makes the result optional instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Any value (`count` never reads it).
    Any,
    /// A list.
    List,
    /// A `Date`.
    Date,
    /// `Int`, `Number` or `Percent`.
    Numeric,
    /// A numeric type or a `Date`.
    NumericOrDate,
    /// A `Text`.
    Text,
    /// A text literal: a regular expression, checked when the policy is.
    Pattern,
}

/// The result type of a builtin call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// Always `Int`.
    Int,
    /// The type of the first argument.
    FirstArgument,
    /// The type both arguments unify to (`min(1, 2.5)` is a `Number`).
    Common,
    /// Always `Bool`.
    Bool,
    /// Always `Text`.
    Text,
    /// Always `[Text]`.
    TextList,
}

/// The result type of a builtin aggregate (before it is made optional).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggReturns {
    /// Always `Int`.
    Int,
    /// `Int` if the values are `Int`, else `Number`.
    IntOrNumber,
    /// `Number`, optional (unknown over nothing).
    NumberOptional,
    /// The values' type, optional (unknown over nothing).
    ValueOptional,
}

/// Every builtin, in the order completion offers them.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "len",
        call: Some(Call { op: Op::Len, params: &[("list", Arg::List)], returns: Returns::Int }),
        aggregate: None,
        doc: "The number of elements of a list.",
    },
    Builtin {
        name: "days_since",
        call: Some(Call { op: Op::DaysSince, params: &[("d", Arg::Date)], returns: Returns::Int }),
        aggregate: None,
        doc: "The days from the date to the evaluation date `as_of` (negative for a date after `as_of`).",
    },
    Builtin {
        name: "abs",
        call: Some(Call { op: Op::Abs, params: &[("n", Arg::Numeric)], returns: Returns::FirstArgument }),
        aggregate: None,
        doc: "The absolute value of a number, of the same type.",
    },
    Builtin {
        name: "min",
        call: Some(Call {
            op: Op::Min2,
            params: &[("a", Arg::NumericOrDate), ("b", Arg::NumericOrDate)],
            returns: Returns::Common,
        }),
        aggregate: Some(Aggregate {
            op: AggFn::Min,
            value: Arg::NumericOrDate,
            returns: AggReturns::ValueOptional,
            over_nothing: "unknown",
        }),
        doc: "The smaller of two numbers or two dates; with `for`, the least value over a set.",
    },
    Builtin {
        name: "max",
        call: Some(Call {
            op: Op::Max2,
            params: &[("a", Arg::NumericOrDate), ("b", Arg::NumericOrDate)],
            returns: Returns::Common,
        }),
        aggregate: Some(Aggregate {
            op: AggFn::Max,
            value: Arg::NumericOrDate,
            returns: AggReturns::ValueOptional,
            over_nothing: "unknown",
        }),
        doc: "The larger of two numbers or two dates; with `for`, the greatest value over a set.",
    },
    Builtin {
        name: "lower",
        call: Some(Call { op: Op::Lower, params: &[("t", Arg::Text)], returns: Returns::Text }),
        aggregate: None,
        doc: "The text in lower case (Unicode: `ÉTÉ` becomes `été`).",
    },
    Builtin {
        name: "upper",
        call: Some(Call { op: Op::Upper, params: &[("t", Arg::Text)], returns: Returns::Text }),
        aggregate: None,
        doc: "The text in upper case.",
    },
    Builtin {
        name: "trim",
        call: Some(Call { op: Op::Trim, params: &[("t", Arg::Text)], returns: Returns::Text }),
        aggregate: None,
        doc: "The text without the spaces and line breaks around it.",
    },
    Builtin {
        name: "contains",
        call: Some(Call { op: Op::Contains, params: &[("t", Arg::Text), ("part", Arg::Text)], returns: Returns::Bool }),
        aggregate: None,
        doc: "Whether `part` occurs in the text (exactly: `contains(lower(t), \"face\")` ignores case).",
    },
    Builtin {
        name: "starts_with",
        call: Some(Call {
            op: Op::StartsWith,
            params: &[("t", Arg::Text), ("prefix", Arg::Text)],
            returns: Returns::Bool,
        }),
        aggregate: None,
        doc: "Whether the text starts with `prefix`.",
    },
    Builtin {
        name: "ends_with",
        call: Some(Call {
            op: Op::EndsWith,
            params: &[("t", Arg::Text), ("suffix", Arg::Text)],
            returns: Returns::Bool,
        }),
        aggregate: None,
        doc: "Whether the text ends with `suffix`.",
    },
    Builtin {
        name: "split",
        call: Some(Call {
            op: Op::Split,
            params: &[("t", Arg::Text), ("separator", Arg::Text)],
            returns: Returns::TextList,
        }),
        aggregate: None,
        doc: "The parts of the text between the separators, each trimmed, the empty ones left out: \
              `split(\"ops, legal,\", \",\")` is `[\"ops\", \"legal\"]`.",
    },
    Builtin {
        name: "matches",
        call: Some(Call {
            op: Op::Matches,
            params: &[("t", Arg::Text), ("pattern", Arg::Pattern)],
            returns: Returns::Bool,
        }),
        aggregate: None,
        doc: "Whether a regular expression matches somewhere in the text (`^…$` for the whole text, `(?i)` to \
              ignore case). The pattern is a text literal, checked with the policy: its syntax is that of Rust's \
              `regex` crate, which matches in time linear in the text (no backreferences, no look-around), and a \
              pattern longer than 1,000 characters or compiling to more than 1 MiB is refused.",
    },
    Builtin {
        name: "count",
        call: None,
        aggregate: Some(Aggregate { op: AggFn::Count, value: Arg::Any, returns: AggReturns::Int, over_nothing: "`0`" }),
        doc: "How many elements of a set pass the filter (the value is not evaluated).",
    },
    Builtin {
        name: "sum",
        call: None,
        aggregate: Some(Aggregate {
            op: AggFn::Sum,
            value: Arg::Numeric,
            returns: AggReturns::IntOrNumber,
            over_nothing: "`0`",
        }),
        doc: "The sum of the values over a set.",
    },
    Builtin {
        name: "avg",
        call: None,
        aggregate: Some(Aggregate {
            op: AggFn::Avg,
            value: Arg::Numeric,
            returns: AggReturns::NumberOptional,
            over_nothing: "unknown",
        }),
        doc: "The mean of the values over a set.",
    },
];

/// A builtin type: `Int`, `Date`, ...
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltinType {
    /// The name as written in a policy.
    pub name: &'static str,
    /// The type it denotes.
    pub ty: Ty,
    /// What its values are: a phrase, Markdown.
    pub doc: &'static str,
}

/// Every builtin type.
pub const TYPES: &[BuiltinType] = &[
    BuiltinType { name: "Bool", ty: Ty::Bool, doc: "`true` or `false`" },
    BuiltinType { name: "Int", ty: Ty::Int, doc: "a whole number (64-bit)" },
    BuiltinType { name: "Number", ty: Ty::Number, doc: "a decimal number" },
    BuiltinType { name: "Percent", ty: Ty::Percent, doc: "a fraction written as a percentage: `5%` is 0.05" },
    BuiltinType { name: "Text", ty: Ty::Text, doc: "text, in double quotes" },
    BuiltinType { name: "Date", ty: Ty::Date, doc: "a calendar date, `YYYY-MM-DD`" },
    BuiltinType { name: "Duration", ty: Ty::Duration, doc: "days, weeks, months or years: `180 days`, `12 months`" },
];

/// The builtin type of that name.
pub fn builtin_type(name: &str) -> Option<&'static BuiltinType> {
    TYPES.iter().find(|t| t.name == name)
}

/// The name of a builtin type (`None` for a declared or compound type).
pub fn type_name(ty: &Ty) -> Option<&'static str> {
    TYPES.iter().find(|t| t.ty == *ty).map(|t| t.name)
}

/// The builtin of that name.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The call form of the builtin of that name (the checker reads
/// [`lookup`]; the tests read the call form directly).
#[cfg(test)]
pub fn call(name: &str) -> Option<&'static Call> {
    lookup(name)?.call.as_ref()
}

/// The aggregate form of the builtin of that name.
pub fn aggregate(name: &str) -> Option<&'static Aggregate> {
    lookup(name)?.aggregate.as_ref()
}

/// The names of every builtin.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.name)
}

/// The names of the aggregates, in the order of [`AggFn`] (`count, sum,
/// avg, min and max`), for messages that list them.
pub fn aggregate_names() -> Vec<&'static str> {
    aggregates().into_iter().map(|(b, _)| b.name).collect()
}

/// The builtins that are aggregates, in the order of [`AggFn`].
fn aggregates() -> Vec<(&'static Builtin, &'static Aggregate)> {
    let mut aggs: Vec<(&Builtin, &Aggregate)> =
        BUILTINS.iter().filter_map(|b| Some((b, b.aggregate.as_ref()?))).collect();
    aggs.sort_by_key(|(_, a)| a.op as u8);
    aggs
}

impl Arg {
    /// Whether a value of that (definite) type is accepted.
    pub fn accepts(self, ty: &Ty) -> bool {
        match self {
            Arg::Any => true,
            Arg::List => matches!(ty, Ty::List(_) | Ty::EmptyList),
            Arg::Date => *ty == Ty::Date,
            Arg::Numeric => ty.is_numeric(),
            Arg::NumericOrDate => ty.is_numeric() || *ty == Ty::Date,
            Arg::Text | Arg::Pattern => *ty == Ty::Text,
        }
    }

    /// The kind as a type in a signature.
    fn signature(self) -> &'static str {
        match self {
            Arg::Any => "T",
            Arg::List => "[T]",
            Arg::Date => "Date",
            Arg::Numeric => "Int | Number | Percent",
            Arg::NumericOrDate => "Int | Number | Percent | Date",
            Arg::Text => "Text",
            Arg::Pattern => "Text (a literal)",
        }
    }

    /// The kind in the docs' tables.
    fn prose(self) -> &'static str {
        match self {
            Arg::Any => "anything",
            Arg::List => "a list",
            Arg::Date => "`Date`",
            Arg::Numeric => "numeric",
            Arg::NumericOrDate => "numeric or `Date`",
            Arg::Text => "`Text`",
            Arg::Pattern => "a `Text` literal",
        }
    }
}

impl Call {
    /// The number of arguments the call takes.
    pub fn arity(&self) -> usize {
        self.params.len()
    }

    /// The call as a signature: `len(list: [T]) -> Int`.
    pub fn signature(&self, name: &str) -> String {
        let params: Vec<String> = self.params.iter().map(|(p, arg)| format!("{p}: {}", arg.signature())).collect();
        let returns = match self.returns {
            Returns::Int => "Int".to_string(),
            Returns::FirstArgument => format!("the type of {}", self.params.first().map_or("", |(p, _)| p)),
            Returns::Common => "the common type".to_string(),
            Returns::Bool => "Bool".to_string(),
            Returns::Text => "Text".to_string(),
            Returns::TextList => "[Text]".to_string(),
        };
        format!("{name}({}) -> {returns}", params.join(", "))
    }

    /// The call as the docs write it: `len(list)`.
    fn written(&self, name: &str) -> String {
        let params: Vec<&str> = self.params.iter().map(|(p, _)| *p).collect();
        format!("{name}({})", params.join(", "))
    }
}

impl Aggregate {
    /// The aggregate as a signature: `sum(x.v for x: Entity) -> Int or Number`.
    pub fn signature(&self, name: &str) -> String {
        format!("{name}(VALUE for x: Entity where FILTER) -> {}", self.returns_text())
    }

    fn returns_text(&self) -> &'static str {
        match self.returns {
            AggReturns::Int => "Int",
            AggReturns::IntOrNumber => "Int or Number",
            AggReturns::NumberOptional => "Number?",
            AggReturns::ValueOptional => "the value's type, optional",
        }
    }
}

impl Builtin {
    /// Every form of the builtin as a signature, one per line.
    pub fn signature(&self) -> String {
        let call = self.call.map(|c| c.signature(self.name));
        let aggregate = self.aggregate.map(|a| a.signature(self.name));
        call.into_iter().chain(aggregate).collect::<Vec<_>>().join("\n")
    }
}

/// The builtins section of `docs/language.md`, generated from the table:
/// the aggregates, the calls, and what each builtin does.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("| aggregate | value | result | over nothing |\n| --- | --- | --- | --- |\n");
    for (b, a) in aggregates() {
        let returns = match a.returns {
            AggReturns::Int => "`Int`",
            AggReturns::IntOrNumber => "`Int` if the values are `Int`, else `Number`",
            AggReturns::NumberOptional => "`Number?`",
            AggReturns::ValueOptional => "the value's type, optional",
        };
        let value = if a.value == Arg::Any { "anything (not evaluated)" } else { a.value.prose() };
        out.push_str(&format!("| `{}` | {value} | {returns} | {} |\n", b.name, a.over_nothing));
    }
    out.push_str("\n| call | argument types | result |\n| --- | --- | --- |\n");
    for b in BUILTINS {
        if let Some(c) = &b.call {
            let args: Vec<&str> = c.params.iter().map(|(_, a)| a.prose()).collect();
            let returns = match c.returns {
                Returns::Int => "`Int`",
                Returns::FirstArgument => "the same type",
                Returns::Common => "the common type (`Number` for a mix of numerics)",
                Returns::Bool => "`Bool`",
                Returns::Text => "`Text`",
                Returns::TextList => "`[Text]`",
            };
            out.push_str(&format!("| `{}` | {} | {returns} |\n", c.written(b.name), args.join(", ")));
        }
    }
    out.push('\n');
    for b in BUILTINS {
        out.push_str(&format!("- `{}`: {}\n", b.name, b.doc));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_builtin_has_a_form() {
        for (i, b) in BUILTINS.iter().enumerate() {
            assert!(b.call.is_some() || b.aggregate.is_some(), "{} has no form", b.name);
            assert!(BUILTINS[..i].iter().all(|o| o.name != b.name), "{} is listed twice", b.name);
            assert!(!b.doc.is_empty());
        }
    }

    #[test]
    fn every_aggregate_is_in_the_table() {
        let ops: Vec<AggFn> = BUILTINS.iter().filter_map(|b| Some(b.aggregate?.op)).collect();
        for op in [AggFn::Count, AggFn::Sum, AggFn::Avg, AggFn::Min, AggFn::Max] {
            assert!(ops.contains(&op), "{op:?} is missing");
            assert_eq!(aggregate(op.as_str()).map(|a| a.op), Some(op), "{op:?} is named by the table");
        }
        assert_eq!(aggregate_names(), ["count", "sum", "avg", "min", "max"]);
    }

    #[test]
    fn builtin_types_name_themselves() {
        for t in TYPES {
            assert_eq!(type_name(&t.ty), Some(t.name));
            assert_eq!(builtin_type(t.name).map(|b| &b.ty), Some(&t.ty));
        }
        assert_eq!(type_name(&Ty::Int.optional()), None);
    }

    #[test]
    fn signatures_read_as_written() {
        assert_eq!(call("len").map(|c| c.signature("len")).as_deref(), Some("len(list: [T]) -> Int"));
        assert_eq!(call("min").map(Call::arity), Some(2));
        assert!(call("count").is_none());
        assert!(lookup("max").is_some_and(|b| b.signature().lines().count() == 2));
    }
}
