//! Value normalisation: how the cells of a CSV file (and the texts of a
//! document, once an option is set) are read before they are typed, as a `[[facts]]` source of aims.toml says, for the whole
//! source or for one column (docs/facts.md): trimming, case-insensitive
//! enum values, phrases mapped to values, tokens that mean "not recorded",
//! date formats and list separators.
//!
//! The options of a column override those of its source one by one; each
//! field's options are resolved once per file into a [`CellReader`], so a
//! cell costs a few comparisons more than a plain one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::ir::{Program, Ty, Value};

/// How values are read, as written on a `[[facts]]` source or on one of
/// its columns (`[facts.columns.FIELD]`). `None` leaves the choice to the
/// source, then to the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValueOptions {
    /// Remove spaces and line breaks around a value (default: yes).
    pub trim: Option<bool>,
    /// Match enum values, mapped phrases and `null` tokens whatever their
    /// case (default: no).
    pub ignore_case: Option<bool>,
    /// Phrases of the file → the value they mean, written as the field's
    /// type reads it (`"Yes – by the CAIO" = "true"`). A column's entries
    /// are added to its source's.
    pub values: BTreeMap<String, String>,
    /// Values that mean "not recorded": the field is then missing, as if
    /// the cell were empty (default: only the empty cell).
    pub null: Option<Vec<String>>,
    /// The `strftime` format of dates (`"%m/%d/%Y"`), besides YYYY-MM-DD.
    pub date_format: Option<String>,
    /// What separates the items of a list (default: `;`).
    pub list_separator: Option<Vec<String>>,
}

impl ValueOptions {
    /// Whether the options change nothing.
    pub fn is_empty(&self) -> bool {
        *self == ValueOptions::default()
    }
}

/// Why a `date_format` cannot be used.
pub fn bad_date_format(format: &str) -> Option<String> {
    use chrono::format::{Fixed, Item, StrftimeItems};
    let mut has = (false, false, false);
    for item in StrftimeItems::new(format) {
        match item {
            Item::Error => return Some(format!("`{format}` is not a strftime format")),
            Item::Numeric(numeric, _) => {
                use chrono::format::Numeric::*;
                match numeric {
                    Year | YearMod100 => has.0 = true,
                    Month => has.1 = true,
                    Day => has.2 = true,
                    Ordinal => (has.1, has.2) = (true, true),
                    _ => {}
                }
            }
            Item::Fixed(Fixed::ShortMonthName | Fixed::LongMonthName) => has.1 = true,
            _ => {}
        }
    }
    (has != (true, true, true)).then(|| format!("`{format}` does not give a year, a month and a day"))
}

/// The options of one field, resolved: what a cell of its column goes
/// through before it is typed.
#[derive(Clone, Debug)]
pub(super) struct CellReader {
    trim: bool,
    ignore_case: bool,
    /// Phrase (folded when `ignore_case`) → value.
    values: Vec<(String, String)>,
    /// "Not recorded" tokens (folded when `ignore_case`).
    null: Vec<String>,
    date_format: Option<String>,
    separators: Vec<String>,
}

impl CellReader {
    /// The reader of a column: its options over its source's.
    pub(super) fn new(source: &ValueOptions, column: Option<&ValueOptions>) -> CellReader {
        let column = column.cloned().unwrap_or_default();
        let trim = column.trim.or(source.trim).unwrap_or(true);
        let ignore_case = column.ignore_case.or(source.ignore_case).unwrap_or(false);
        let fold = |s: &str| {
            let s = if trim { s.trim() } else { s };
            if ignore_case {
                s.to_lowercase()
            } else {
                s.to_string()
            }
        };
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        for (phrase, value) in source.values.iter().chain(&column.values) {
            values.insert(fold(phrase), value.clone());
        }
        let null = column.null.or_else(|| source.null.clone()).unwrap_or_default();
        CellReader {
            trim,
            ignore_case,
            values: values.into_iter().collect(),
            null: null.iter().map(|n| fold(n)).collect(),
            date_format: column.date_format.or_else(|| source.date_format.clone()),
            separators: column
                .list_separator
                .or_else(|| source.list_separator.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| vec![";".into()]),
        }
    }

    /// The phrases mapped, as written in aims.toml (folded).
    pub(super) fn phrases(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(p, _)| p.as_str())
    }

    /// A cell as its field reads it: trimmed and mapped; `None` when it
    /// means "not recorded" (empty, or a `null` token).
    pub(super) fn prepare<'c>(&'c self, cell: &'c str) -> Option<Cow<'c, str>> {
        let text = if self.trim { cell.trim() } else { cell };
        if text.trim().is_empty() {
            return None;
        }
        if self.null.is_empty() && self.values.is_empty() {
            return Some(Cow::Borrowed(text));
        }
        let folded: Cow<str> = if self.ignore_case { Cow::Owned(text.to_lowercase()) } else { Cow::Borrowed(text) };
        if self.null.iter().any(|n| *n == *folded) {
            return None;
        }
        match self.values.binary_search_by(|(p, _)| p.as_str().cmp(&folded)) {
            Ok(i) => Some(Cow::Borrowed(self.values[i].1.as_str())),
            Err(_) => Some(Cow::Borrowed(text)),
        }
    }

    /// The items of a list cell, each prepared (items that mean "not
    /// recorded" are left out).
    pub(super) fn items<'c>(&'c self, cell: &'c str) -> Vec<Cow<'c, str>> {
        let mut items = vec![cell];
        for separator in &self.separators {
            items = items.into_iter().flat_map(|i| i.split(separator.as_str())).collect();
        }
        items.into_iter().filter_map(|i| self.prepare(i)).collect()
    }

    /// A prepared scalar, typed: like [`super::convert::scalar_from_text`],
    /// with the date format and case-insensitive names.
    pub(super) fn scalar(&self, program: &Program, ty: &Ty, text: &str) -> Result<Value, String> {
        match ty {
            Ty::Opt(inner) => self.scalar(program, inner, text),
            Ty::Date => match &self.date_format {
                Some(format) => match chrono::NaiveDate::parse_from_str(text.trim(), format) {
                    Ok(date) => {
                        use chrono::Datelike;
                        crate::time::Date::from_ymd(date.year(), date.month(), date.day())
                            .map(Value::Date)
                            .ok_or_else(|| format!("a date ({format})"))
                    }
                    Err(_) => super::convert::scalar_from_text(program, ty, text)
                        .map_err(|_| format!("a date ({format}, or YYYY-MM-DD)")),
                },
                None => super::convert::scalar_from_text(program, ty, text),
            },
            Ty::Enum(_) | Ty::Scale(_) | Ty::Level(_) if self.ignore_case => {
                let names = super::convert::variant_names(program, ty);
                let wanted = text.trim().to_lowercase();
                match names.iter().find(|n| n.to_lowercase() == wanted) {
                    Some(name) => super::convert::scalar_from_text(program, ty, name),
                    None => super::convert::scalar_from_text(program, ty, text),
                }
            }
            _ => super::convert::scalar_from_text(program, ty, text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(f: impl FnOnce(&mut ValueOptions)) -> ValueOptions {
        let mut o = ValueOptions::default();
        f(&mut o);
        o
    }

    #[test]
    fn a_cell_is_trimmed_mapped_and_nulled() {
        let source = options(|o| {
            o.ignore_case = Some(true);
            o.null = Some(vec!["N/A".into(), " Not Applicable".into()]);
            o.values = BTreeMap::from([("Yes – by the CAIO".to_string(), "true".to_string())]);
        });
        let reader = CellReader::new(&source, None);
        assert_eq!(reader.prepare("  yes – BY the caio\n").as_deref(), Some("true"));
        assert_eq!(reader.prepare("n/a"), None);
        assert_eq!(reader.prepare("not applicable "), None);
        assert_eq!(reader.prepare(" \r\n"), None);
        assert_eq!(reader.prepare(" Rights-Impacting\n").as_deref(), Some("Rights-Impacting"));
        // A column's options override its source's, and add to its phrases.
        let column = options(|o| {
            o.ignore_case = Some(false);
            o.null = Some(Vec::new());
            o.values = BTreeMap::from([("Y".to_string(), "true".to_string())]);
        });
        let reader = CellReader::new(&source, Some(&column));
        assert_eq!(reader.prepare("N/A").as_deref(), Some("N/A"));
        assert_eq!(reader.prepare("Y").as_deref(), Some("true"));
        assert_eq!(reader.prepare("y").as_deref(), Some("y"));
        assert_eq!(reader.prepare("Yes – by the CAIO").as_deref(), Some("true"));
        let untrimmed = CellReader::new(&options(|o| o.trim = Some(false)), None);
        assert_eq!(untrimmed.prepare(" a ").as_deref(), Some(" a "));
    }

    #[test]
    fn list_items_are_split_by_every_separator() {
        let reader = CellReader::new(
            &options(|o| {
                o.list_separator = Some(vec![",".into(), "\n".into()]);
                o.null = Some(vec!["N/A".into()]);
            }),
            None,
        );
        assert_eq!(reader.items("a, b\r\nc,\nN/A,d"), ["a", "b", "c", "d"]);
        let plain = CellReader::new(&ValueOptions::default(), None);
        assert_eq!(plain.items("a; b;;c, d"), ["a", "b", "c, d"]);
    }

    #[test]
    fn date_formats_are_checked() {
        assert_eq!(bad_date_format("%m/%d/%Y"), None);
        assert_eq!(bad_date_format("%d %B %Y"), None);
        assert!(bad_date_format("%m/%d").is_some_and(|m| m.contains("year")));
        assert!(bad_date_format("%Q").is_some());
    }
}
