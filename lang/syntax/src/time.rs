//! Calendar dates and durations, the only notion of time the language has.
//!
//! A date is a day number, so comparing and subtracting dates is integer
//! arithmetic; chrono is used only at the edges (parsing, printing, and
//! month arithmetic with its end-of-month clamping). The evaluation date
//! (`as_of`) is always an input: nothing here reads the clock but
//! [`Date::today_utc`], the one default every command falls back to when
//! neither `--as-of` nor `aims.toml` gives a date.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};

/// A calendar date (proleptic Gregorian), stored as days since 0001-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// 1970-01-01.
    pub const UNIX_EPOCH: Date = Date(719_163);

    /// Today's date in UTC, from the system clock. UTC, not the local date,
    /// so the same run on machines in different time zones (a laptop and a
    /// CI runner) evaluates as of the same day.
    pub fn today_utc() -> Date {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        Date::UNIX_EPOCH.add_days(since_epoch.map_or(0, |d| d.as_secs() / 86_400) as i64)
    }

    /// Parses `YYYY-MM-DD`; `None` for a malformed or impossible date.
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        // By hand: chrono's format-string parser was the largest cost of
        // loading a fact file full of dates.
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            bytes[range].iter().try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
        };
        Date::from_ymd(number(0..4)? as i32, number(5..7)?, number(8..10)?)
    }

    /// The date `year-month-day`, if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).map(Date::from_naive)
    }

    fn from_naive(date: NaiveDate) -> Date {
        Date(date.num_days_from_ce())
    }

    fn naive(self) -> NaiveDate {
        // Every `Date` was made from a valid `NaiveDate` or by day arithmetic
        // clamped to chrono's range, so this conversion cannot fail.
        NaiveDate::from_num_days_from_ce_opt(self.0).unwrap_or(NaiveDate::MIN)
    }

    /// Days since 0001-01-01.
    pub fn day_number(self) -> i32 {
        self.0
    }

    /// Whole days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// This date plus a number of days, clamped to the supported range.
    pub fn add_days(self, days: i64) -> Date {
        let min = NaiveDate::MIN.num_days_from_ce() as i64;
        let max = NaiveDate::MAX.num_days_from_ce() as i64;
        Date(i64::from(self.0).saturating_add(days).clamp(min, max) as i32)
    }

    /// This date plus a number of days; `None` outside the supported range
    /// (about ±262,000 years), never a wrapped date.
    pub fn checked_add_days(self, days: i64) -> Option<Date> {
        let day = i64::from(self.0).checked_add(days)?;
        let min = NaiveDate::MIN.num_days_from_ce() as i64;
        let max = NaiveDate::MAX.num_days_from_ce() as i64;
        (min..=max).contains(&day).then_some(Date(day as i32))
    }

    /// This date moved by whole months; the day is clamped to the last day
    /// of the target month (2026-03-31 minus 1 month is 2026-02-28).
    /// Clamped to the supported range.
    pub fn add_months(self, months: i64) -> Date {
        match self.checked_add_months(months) {
            Some(d) => d,
            None if months >= 0 => Date::from_naive(NaiveDate::MAX),
            None => Date::from_naive(NaiveDate::MIN),
        }
    }

    /// [`Date::add_months`], `None` outside the supported range.
    pub fn checked_add_months(self, months: i64) -> Option<Date> {
        let date = self.naive();
        let moved = if months >= 0 {
            u32::try_from(months).ok().and_then(|m| date.checked_add_months(Months::new(m)))
        } else {
            months
                .checked_neg()
                .and_then(|m| u32::try_from(m).ok())
                .and_then(|m| date.checked_sub_months(Months::new(m)))
        };
        moved.map(Date::from_naive)
    }

    /// This date moved by a duration (months first, then days), clamped
    /// to the supported range (for windows such as `within`, where a
    /// clamped bound gives the right answer).
    pub fn plus(self, duration: Duration) -> Date {
        self.add_months(duration.months).add_days(duration.days)
    }

    /// This date moved back by a duration, clamped.
    pub fn minus(self, duration: Duration) -> Date {
        self.add_months(duration.months.saturating_neg()).add_days(duration.days.saturating_neg())
    }

    /// This date moved by a duration; `None` when the result is outside
    /// the supported range (date arithmetic in expressions).
    pub fn checked_plus(self, duration: Duration) -> Option<Date> {
        self.checked_add_months(duration.months)?.checked_add_days(duration.days)
    }

    /// This date moved back by a duration; `None` outside the range.
    pub fn checked_minus(self, duration: Duration) -> Option<Date> {
        self.checked_add_months(duration.months.checked_neg()?)?.checked_add_days(duration.days.checked_neg()?)
    }

    /// The year, month and day.
    pub fn ymd(self) -> (i32, u32, u32) {
        let d = self.naive();
        (d.year(), d.month(), d.day())
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`; a year outside 0..=9999 as it is (`-0001-01-01`,
    /// `10000-01-01`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        match u32::try_from(y).ok().filter(|&y| y <= 9999) {
            // Without the formatting machinery: a report of 100,000
            // systems shows hundreds of thousands of dates.
            Some(y) => {
                let digit = |n: u32| b'0' + (n % 10) as u8;
                let text = [
                    digit(y / 1000),
                    digit(y / 100),
                    digit(y / 10),
                    digit(y),
                    b'-',
                    digit(m / 10),
                    digit(m),
                    b'-',
                    digit(d / 10),
                    digit(d),
                ];
                f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
            }
            None => write!(f, "{y:04}-{m:02}-{d:02}"),
        }
    }
}

/// A length of time: calendar months (from `months` and `years`) and days
/// (from `days` and `weeks`). Months are kept apart from days because a
/// month has no fixed number of days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Duration {
    /// Calendar months (a year is twelve).
    pub months: i64,
    /// Days (a week is seven).
    pub days: i64,
}

impl Duration {
    /// `amount` of `unit` (`day(s)`, `week(s)`, `month(s)`, `year(s)`).
    pub fn from_unit(amount: i64, unit: &str) -> Option<Duration> {
        let unit = unit.strip_suffix('s').unwrap_or(unit);
        Some(match unit {
            "day" => Duration { months: 0, days: amount },
            "week" => Duration { months: 0, days: amount.checked_mul(7)? },
            "month" => Duration { months: amount, days: 0 },
            "year" => Duration { months: amount.checked_mul(12)?, days: 0 },
            _ => return None,
        })
    }

    /// Whether `date` lies within this duration before `as_of`: not after
    /// `as_of`, and not before `as_of` minus the duration. A date in the
    /// future is never "within": a record from the future is not evidence.
    pub fn contains(self, date: Date, as_of: Date) -> bool {
        date <= as_of && date >= as_of.minus(self)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn part(f: &mut fmt::Formatter<'_>, n: i64, unit: &str) -> fmt::Result {
            write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
        }
        match (self.months, self.days) {
            (m, 0) if m != 0 && m % 12 == 0 => part(f, m / 12, "year"),
            (m, 0) if m != 0 => part(f, m, "month"),
            (0, d) => part(f, d, "day"),
            (m, d) => {
                part(f, m, "month")?;
                f.write_str(" ")?;
                part(f, d, "day")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(d("2026-01-01").to_string(), "2026-01-01");
        assert_eq!(Date::UNIX_EPOCH.to_string(), "1970-01-01");
        assert!(Date::parse("2026-02-30").is_none());
        assert!(Date::parse("2026-1-1").is_none());
        assert_eq!(d("2026-07-01").days_since(d("2026-01-01")), 181);
    }

    /// The quick path of four-digit years prints what the formatting
    /// machinery does, and years outside it go through that machinery.
    #[test]
    fn dates_print_as_the_formatting_machinery_prints_them() {
        let reference = |date: Date| {
            let (y, m, d) = date.ymd();
            format!("{y:04}-{m:02}-{d:02}")
        };
        for (y, m, d) in [(0, 1, 1), (9, 9, 9), (999, 12, 31), (1000, 10, 10), (2024, 2, 29), (9999, 12, 31)] {
            let date = Date::from_ymd(y, m, d).unwrap();
            assert_eq!(date.to_string(), reference(date));
        }
        for date in [
            Date::from_ymd(-1, 1, 1).unwrap(),
            Date::from_ymd(10000, 1, 1).unwrap(),
            Date::UNIX_EPOCH.plus(Duration { months: 0, days: i64::MAX }),
        ] {
            assert_eq!(date.to_string(), reference(date));
        }
        assert_eq!(Date::from_ymd(-1, 1, 1).unwrap().to_string(), "-001-01-01");
        assert_eq!(Date::from_ymd(7, 3, 4).unwrap().to_string(), "0007-03-04");
    }

    #[test]
    fn parse_agrees_with_chrono_on_ten_character_dates() {
        for text in [
            "2024-02-29",
            "2023-02-29",
            "0000-01-01",
            "9999-12-31",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "20a6-01-01",
            "2026-0a-01",
            "2026-01-0 ",
            "2026-01-1a",
        ] {
            let chrono = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(Date::from_naive);
            assert_eq!(Date::parse(text), chrono, "{text}");
        }
        // chrono reads a signed three-digit year here; a fact date is four digits.
        assert_eq!(Date::parse("+026-01-01"), None);
    }

    #[test]
    fn within_days_at_the_boundary() {
        let window = Duration::from_unit(180, "days").unwrap();
        assert!(window.contains(d("2026-01-01"), d("2026-06-30")));
        assert!(!window.contains(d("2026-01-01"), d("2026-07-01")));
        assert!(!window.contains(d("2026-07-02"), d("2026-06-30")), "future dates are not within");
    }

    #[test]
    fn within_months_clamps_to_month_end() {
        let year = Duration::from_unit(12, "months").unwrap();
        assert!(year.contains(d("2025-03-31"), d("2026-03-31")));
        assert!(year.contains(d("2025-03-31"), d("2026-03-30")));
        assert!(!year.contains(d("2025-03-29"), d("2026-03-30")));
        assert_eq!(d("2026-03-31").add_months(-1), d("2026-02-28"));
    }

    #[test]
    fn durations_print_in_their_unit() {
        assert_eq!(Duration::from_unit(12, "months").unwrap().to_string(), "1 year");
        assert_eq!(Duration::from_unit(2, "weeks").unwrap().to_string(), "14 days");
        assert_eq!(Duration::from_unit(1, "day").unwrap().to_string(), "1 day");
    }
}
