//! A log's columns checked against the record its rows are declared as:
//! every field the policy declares must be a column (an optional one may be
//! missing), of a type that holds its values. Checked once, before any row
//! is read; a problem names the log, its first file, the column and the field.

use aims_lang::diag::{Code, Diagnostic};
use aims_lang::measure::{ColumnKind, LogColumn, LogRecord, LogSource};
use datafusion::arrow::datatypes::{DataType, Schema};

/// The type a Hive partition column is read as.
pub fn partition_type(column: Option<&LogColumn>) -> DataType {
    match column.map(|c| &c.kind) {
        Some(ColumnKind::Int) => DataType::Int64,
        Some(ColumnKind::Date) => DataType::Date32,
        _ => DataType::Utf8,
    }
}

/// Whether a column of type `data` can hold the values of a field of `kind`.
pub fn holds(kind: &ColumnKind, data: &DataType) -> bool {
    let text = |d: &DataType| matches!(d, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let integer = data.is_integer();
    match kind {
        ColumnKind::Bool => *data == DataType::Boolean,
        ColumnKind::Int => integer,
        ColumnKind::Number | ColumnKind::Percent => data.is_numeric(),
        ColumnKind::Text | ColumnKind::Enum(_) => {
            text(data) || matches!(data, DataType::Dictionary(_, value) if text(value))
        }
        ColumnKind::Date => matches!(data, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)) || text(data),
        ColumnKind::Other(_) => false,
    }
}

fn kind_words(kind: &ColumnKind) -> String {
    match kind {
        ColumnKind::Bool => "a `Bool` (a boolean column)".into(),
        ColumnKind::Int => "an `Int` (an integer column)".into(),
        ColumnKind::Number => "a `Number` (a numeric column)".into(),
        ColumnKind::Percent => "a `Percent` (a numeric column, 0.12 for 12%)".into(),
        ColumnKind::Text => "a `Text` (a string column)".into(),
        ColumnKind::Enum(variants) => format!("an enum of {} (a string column)", variants.join(", ")),
        ColumnKind::Date => "a `Date` (a date, timestamp or YYYY-MM-DD string column)".into(),
        ColumnKind::Other(name) => format!("a `{name}`, which no log column holds"),
    }
}

/// E0360 for every field of `record` the log's schema cannot give.
pub fn check(source: &LogSource, record: &LogRecord, schema: &Schema) -> Result<(), Vec<Diagnostic>> {
    let first = source.files.first().map_or(source.location.as_str(), |f| f.name.as_str());
    let mut problems = Vec::new();
    for column in &record.columns {
        match schema.field_with_name(&column.name) {
            Ok(field) if holds(&column.kind, field.data_type()) => {}
            Ok(field) => problems.push(
                Diagnostic::error(
                    Code::LogSchema,
                    format!(
                        "column `{}` of log `{}` is `{}`, which cannot hold {} (field `{}.{}`)",
                        column.name,
                        source.location,
                        field.data_type(),
                        kind_words(&column.kind),
                        record.name,
                        column.name
                    ),
                )
                .note(format!("read from `{first}`"))
                .help(format!(
                    "change the type of `{}` in `record {}`, or write the column as it",
                    column.name, record.name
                )),
            ),
            Err(_) if column.optional => {}
            Err(_) => {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                problems.push(
                    Diagnostic::error(
                        Code::LogSchema,
                        format!(
                            "log `{}` has no column `{}` (field `{}.{}`)",
                            source.location, column.name, record.name, column.name
                        ),
                    )
                    .note(format!("read from `{first}`, whose columns are: {}", names.join(", ")))
                    .suggest_or(
                        &column.name,
                        names.iter().copied(),
                        aims_lang::diag::Quote::Code,
                        format!("make the field optional (`{}: T?`) if the log may lack it", column.name),
                    ),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_holds_a_field_of_a_compatible_type_only() {
        assert!(holds(&ColumnKind::Bool, &DataType::Boolean));
        assert!(!holds(&ColumnKind::Bool, &DataType::Utf8));
        assert!(holds(&ColumnKind::Int, &DataType::UInt16));
        assert!(!holds(&ColumnKind::Int, &DataType::Float64));
        assert!(holds(&ColumnKind::Percent, &DataType::Float32));
        assert!(holds(&ColumnKind::Text, &DataType::Utf8View));
        assert!(holds(
            &ColumnKind::Enum(vec!["a".into()]),
            &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        ));
        assert!(holds(
            &ColumnKind::Date,
            &DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, Some("UTC".into()))
        ));
        assert!(!holds(&ColumnKind::Date, &DataType::Int64));
        assert!(!holds(&ColumnKind::Other("[Text]".into()), &DataType::Utf8));
    }
}
