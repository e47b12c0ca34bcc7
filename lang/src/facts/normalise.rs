//! Value normalisation: how the cells of a CSV file (and the texts of a
//! document, once an option is set) are read before they are typed, as a `[[facts]]` source of aims.toml says, for the whole
//! source or for one column (docs/facts.md): trimming, case-insensitive
//! enum values, phrases mapped to values, tokens that mean "not recorded",
//! date formats, number and percent formats, and list separators.
//!
//! The options of a column override those of its source one by one; each
//! field's options are resolved once per file into a [`CellReader`], so a
//! cell costs a few comparisons more than a plain one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::ir::{Program, Ty, Value};
use crate::num;

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
    /// How numbers are written, as a sample of one thousand two hundred
    /// and thirty-four and a half: `"1,234.5"`, `"1.234,5"`, `"1 234,5"`
    /// (default: `1234.5`, no thousands separator). See [`NumberFormat`].
    pub number_format: Option<String>,
    /// How percentages without a `%` sign are written, as a sample of
    /// twelve percent: `"0.12"` (a fraction, the default), `"12"` (points),
    /// or `"12%"` (the sign is required). See [`PercentFormat`].
    pub percent_format: Option<String>,
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

/// How a number is written: which character groups thousands (if any)
/// and which one separates the decimals, read from a sample of 1234.5
/// (`"1,234.5"`, `"1.234,5"`, `"1 234,5"`, `"1'234.5"`, `"1234,5"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberFormat {
    /// Groups thousands: `,`, `.`, `'`, `_` or a space (a space also
    /// accepts the no-break spaces U+00A0 and U+202F).
    pub thousands: Option<char>,
    /// Separates the decimals: `.` or `,`.
    pub decimal: char,
}

/// The characters that may group thousands.
const THOUSANDS: [char; 7] = [',', '.', '\'', '_', ' ', '\u{a0}', '\u{202f}'];

impl NumberFormat {
    /// The format of a sample of one thousand two hundred and thirty-four
    /// and a half, or why it is not one.
    pub fn parse(sample: &str) -> Result<NumberFormat, String> {
        let wrong = || {
            format!(
                "`{sample}` is not 1234.5 written with a decimal separator (`.` or `,`) and at most one \
                 thousands separator, such as \"1,234.5\", \"1.234,5\" or \"1 234,5\""
            )
        };
        let rest = sample.trim().strip_prefix('1').ok_or_else(wrong)?;
        let (thousands, rest) = match rest.strip_prefix("234") {
            Some(rest) => (None, rest),
            None => {
                let c = rest.chars().next().filter(|c| THOUSANDS.contains(c)).ok_or_else(wrong)?;
                (Some(c), rest[c.len_utf8()..].strip_prefix("234").ok_or_else(wrong)?)
            }
        };
        let decimal = match rest {
            ".5" => '.',
            ",5" => ',',
            _ => return Err(wrong()),
        };
        if thousands == Some(decimal) {
            return Err(wrong());
        }
        Ok(NumberFormat { thousands, decimal })
    }

    /// The sample this format reads, for messages.
    pub fn sample(&self) -> String {
        match self.thousands {
            Some(t) => format!("1{t}234{}5", self.decimal),
            None => format!("1234{}5", self.decimal),
        }
    }

    /// A text in this format as plain decimal notation (`1.234,5` →
    /// `1234.5`), or `None` when it is not written so: thousands groups
    /// must be of three digits, so `1,5` is not read as 15 under
    /// `"1,234.5"`.
    pub fn plain(&self, text: &str) -> Option<String> {
        let text = text.trim();
        let (sign, digits) = match text.strip_prefix(['-', '+']) {
            Some(rest) => (&text[..1], rest),
            None => ("", text),
        };
        let (int, frac) = match digits.split_once(self.decimal) {
            Some((int, frac)) => (int, Some(frac)),
            None => (digits, None),
        };
        let is_sep = |c: char| match self.thousands {
            Some(t) if t.is_whitespace() => c.is_whitespace(),
            Some(t) => c == t,
            None => false,
        };
        let groups: Vec<&str> = int.split(is_sep).collect();
        let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let grouped = groups.len() == 1
            || (groups[0].len() <= 3
                && groups.iter().all(|g| digits_only(g))
                && groups[1..].iter().all(|g| g.len() == 3));
        // `.5` has no whole part; anything else needs one.
        let whole = digits_only(groups[0]) || (groups.len() == 1 && groups[0].is_empty() && frac.is_some());
        if !grouped || !whole {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        out.push_str(sign);
        groups.iter().for_each(|g| out.push_str(g));
        if let Some(frac) = frac {
            if !digits_only(frac) {
                return None;
            }
            out.push('.');
            out.push_str(frac);
        }
        Some(out)
    }
}

/// What a percentage written without a `%` sign means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PercentFormat {
    /// `0.12` is twelve percent (the default).
    #[default]
    Fraction,
    /// `12` is twelve percent.
    Points,
    /// The `%` sign is required: a bare number is refused.
    Sign,
}

impl PercentFormat {
    /// The format of a sample of twelve percent, or why it is not one.
    pub fn parse(sample: &str) -> Result<PercentFormat, String> {
        match sample.trim() {
            "0.12" | "0,12" => Ok(PercentFormat::Fraction),
            "12" => Ok(PercentFormat::Points),
            "12%" | "12 %" => Ok(PercentFormat::Sign),
            _ => Err(format!(
                "`{sample}` is not twelve percent written as \"0.12\" (a fraction), \"12\" (points) or \"12%\" (the sign required)"
            )),
        }
    }
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
    /// `None`: numbers as the language writes them (`1234.5`).
    number: Option<NumberFormat>,
    percent: PercentFormat,
}

impl CellReader {
    /// The reader of a column: its options over its source's. A number or
    /// percent format that does not parse is left out (aims.toml refuses
    /// it before facts are read: E0401).
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
            number: column
                .number_format
                .as_deref()
                .or(source.number_format.as_deref())
                .and_then(|f| NumberFormat::parse(f).ok()),
            percent: column
                .percent_format
                .as_deref()
                .or(source.percent_format.as_deref())
                .and_then(|f| PercentFormat::parse(f).ok())
                .unwrap_or_default(),
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
            Ty::Int | Ty::Number | Ty::Percent => self.number(ty, text),
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

impl CellReader {
    /// A number, whole number or percentage in the source's number and
    /// percent formats; the error says what was expected, with the format.
    fn number(&self, ty: &Ty, text: &str) -> Result<Value, String> {
        let text = text.trim();
        let written = |what: &str| match self.number {
            Some(f) => format!("{what} (written {})", f.sample()),
            None => what.to_string(),
        };
        // Without a format, a number is read as the language writes it.
        fn plain(format: Option<NumberFormat>, t: &str) -> Option<Cow<'_, str>> {
            match format {
                Some(f) => f.plain(t).map(Cow::Owned),
                None => Some(Cow::Borrowed(t)),
            }
        }
        let plain = |t| plain(self.number, t);
        match ty {
            Ty::Int => {
                plain(text).and_then(|p| p.parse::<i64>().ok()).map(Value::Int).ok_or_else(|| written("a whole number"))
            }
            Ty::Number => plain(text).and_then(|p| num::parse(&p)).map(Value::Number).ok_or_else(|| {
                match (self.number, looks_formatted(text)) {
                    (None, Some(sample)) => format!("a number (`number_format = \"{sample}\"` would read it)"),
                    _ => written("a number"),
                }
            }),
            _ => {
                let (number, sign) = match text.strip_suffix('%') {
                    Some(n) => (n.trim_end(), true),
                    None => (text, false),
                };
                let value = plain(number).and_then(|p| num::parse(&p));
                let value = match (sign, self.percent) {
                    (true, _) | (false, PercentFormat::Points) => value.and_then(num::percent_of),
                    (false, PercentFormat::Fraction) => value,
                    (false, PercentFormat::Sign) => None,
                };
                value.map(Value::Percent).ok_or_else(|| {
                    let comma = self.number.is_some_and(|f| f.decimal == ',');
                    let what = match self.percent {
                        PercentFormat::Fraction if comma => "0,05 or \"5%\"",
                        PercentFormat::Fraction => "0.05 or \"5%\"",
                        PercentFormat::Points => "5 or \"5%\"",
                        PercentFormat::Sign => "\"5%\"",
                    };
                    format!("a percentage ({what})")
                })
            }
        }
    }
}

/// The `number_format` a text that is no plain number seems written in
/// (`1,234.5`, `1.234,5`, `12,5`), if any.
fn looks_formatted(text: &str) -> Option<&'static str> {
    let samples = ["1,234.5", "1.234,5", "1 234,5", "1'234.5", "1234,5"];
    samples
        .into_iter()
        .find(|s| NumberFormat::parse(s).ok().and_then(|f| f.plain(text)).and_then(|p| num::parse(&p)).is_some())
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

    #[test]
    fn number_formats_are_read_from_a_sample() {
        let f = |s: &str| NumberFormat::parse(s).map(|f| (f.thousands, f.decimal));
        assert_eq!(f("1,234.5"), Ok((Some(','), '.')));
        assert_eq!(f("1.234,5"), Ok((Some('.'), ',')));
        assert_eq!(f("1 234,5"), Ok((Some(' '), ',')));
        assert_eq!(f("1234,5"), Ok((None, ',')));
        assert_eq!(f(" 1'234.5 "), Ok((Some('\''), '.')));
        for wrong in ["1,234,5", "1.234.5", "1234", "12,34.5", "1x234.5", "", "1,234.50"] {
            assert!(NumberFormat::parse(wrong).is_err(), "{wrong}");
        }
        let english = NumberFormat::parse("1,234.5").expect("format");
        assert_eq!(english.plain("1,234,567.25").as_deref(), Some("1234567.25"));
        assert_eq!(english.plain("-12.5").as_deref(), Some("-12.5"));
        assert_eq!(english.plain(".5").as_deref(), Some(".5"));
        // Groups of three only: a German decimal is not read as 15.
        assert_eq!(english.plain("1,5"), None);
        assert_eq!(english.plain("1,2345"), None);
        assert_eq!(english.plain("1,234.5.6"), None);
        assert_eq!(english.plain("12a"), None);
        let spaced = NumberFormat::parse("1 234,5").expect("format");
        assert_eq!(spaced.plain("1\u{a0}234\u{202f}567,5").as_deref(), Some("1234567.5"));
        assert_eq!(spaced.sample(), "1 234,5");
    }

    fn read(source: ValueOptions, ty: &Ty, text: &str) -> Result<Value, String> {
        CellReader::new(&source, None).number(ty, text)
    }

    #[test]
    fn numbers_and_percentages_are_read_in_their_formats() {
        let german = options(|o| o.number_format = Some("1.234,5".into()));
        let dec = |s: &str| num::parse(s).expect("number");
        assert_eq!(read(german.clone(), &Ty::Number, "1.234,5"), Ok(Value::Number(dec("1234.5"))));
        assert_eq!(read(german.clone(), &Ty::Int, "12.000"), Ok(Value::Int(12000)));
        assert_eq!(read(german.clone(), &Ty::Percent, "12,5 %"), Ok(Value::Percent(dec("0.125"))));
        assert_eq!(read(german.clone(), &Ty::Percent, "0,5"), Ok(Value::Percent(dec("0.5"))));
        assert_eq!(read(german.clone(), &Ty::Number, "1,234.5"), Err("a number (written 1.234,5)".into()));
        assert_eq!(read(german, &Ty::Int, "1,5"), Err("a whole number (written 1.234,5)".into()));
        // Without a format, numbers are read as the language writes them,
        // and a formatted one is named with the option that reads it.
        let plain = ValueOptions::default();
        assert_eq!(read(plain.clone(), &Ty::Number, "1e3"), Ok(Value::Number(dec("1000"))));
        assert_eq!(read(plain.clone(), &Ty::Percent, "12%"), Ok(Value::Percent(dec("0.12"))));
        assert_eq!(read(plain.clone(), &Ty::Percent, "12 %"), Ok(Value::Percent(dec("0.12"))));
        assert_eq!(read(plain.clone(), &Ty::Percent, "0.12"), Ok(Value::Percent(dec("0.12"))));
        assert_eq!(
            read(plain.clone(), &Ty::Number, "1.234,5"),
            Err("a number (`number_format = \"1.234,5\"` would read it)".into())
        );
        assert_eq!(read(plain, &Ty::Percent, "12%%"), Err("a percentage (0.05 or \"5%\")".into()));
        let points = options(|o| o.percent_format = Some("12".into()));
        assert_eq!(read(points.clone(), &Ty::Percent, "12"), Ok(Value::Percent(dec("0.12"))));
        assert_eq!(read(points, &Ty::Percent, "12%"), Ok(Value::Percent(dec("0.12"))));
        let sign = options(|o| o.percent_format = Some("12%".into()));
        assert_eq!(read(sign.clone(), &Ty::Percent, "0.12"), Err("a percentage (\"5%\")".into()));
        assert_eq!(read(sign, &Ty::Percent, "12%"), Ok(Value::Percent(dec("0.12"))));
        assert!(PercentFormat::parse("twelve").is_err());
    }
}
