//! Numbers as compliance needs them: exact decimals.
//!
//! Thresholds are written in decimal (`0.1`, `5%`) and must compare as
//! written: `10% + 20% <= 30%` holds, `0.7 + 0.2 + 0.1 == 1` holds. So
//! `Number` and `Percent` values are decimals with 28 significant digits
//! (`rust_decimal`), not binary floating point. Addition, subtraction and
//! multiplication of values written in decimal are exact; a division is
//! rounded to 28 significant digits. A result beyond the range (about
//! ±7.9 × 10²⁸) is never a plausible wrong value: the checked operations
//! here return `None`, and evaluation turns that into unknown evidence.
//!
//! Every rule about reading, computing and printing numbers lives here.

use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
pub use rust_decimal::Decimal;
use rust_decimal::RoundingStrategy;

/// Decimal places a computed trend is rounded to before it is compared
/// with a target, so that a projection that lands on the target exactly
/// is not missed by the last of 28 digits of a division.
pub const TREND_DECIMALS: u32 = 12;

/// What a diagnostic says of a number out of range.
pub const RANGE_HELP: &str =
    "numbers are exact decimals of at most 28 significant digits (about ±7.9 × 10^28); one that is not zero is at least 10^-28";

/// Reads a number written in decimal: `0.07`, `-3`, `1.5e3`, `1E-4`.
/// `None` for anything else, including `NaN`, `inf` and a value beyond
/// the range. Digits past the 28th decimal place are rounded, but a value
/// that is not zero never reads as zero: `1e-30` is out of range (below
/// about 10^-28), not a `0` that `x > 0` would call false.
pub fn parse(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let plain = text.strip_prefix('+').unwrap_or(text);
    if plain.is_empty() || !plain.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'e' | b'E' | b'+')) {
        return None;
    }
    let value = if plain.contains(['e', 'E']) {
        Decimal::from_scientific(plain).ok()?
    } else {
        Decimal::from_str(plain).ok()?
    };
    let mantissa = plain.split(['e', 'E']).next().unwrap_or("");
    let written_nonzero = mantissa.bytes().any(|b| matches!(b, b'1'..=b'9'));
    kept(written_nonzero, value)
}

/// `value`, unless a quantity that is not zero came out as zero: too
/// small to tell from zero at 28 decimal places, so out of range.
fn kept(nonzero: bool, value: Decimal) -> Option<Decimal> {
    (!(nonzero && value.is_zero())).then_some(value)
}

/// The product of two numbers; `None` when it is out of range, including
/// a product of two numbers that are not zero rounding to zero.
pub fn mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    kept(!a.is_zero() && !b.is_zero(), a.checked_mul(b)?)
}

/// The quotient of two numbers (rounded to 28 significant digits); `None`
/// for a zero divisor and when it is out of range, including a quotient of
/// a number that is not zero rounding to zero.
pub fn div(a: Decimal, b: Decimal) -> Option<Decimal> {
    kept(!a.is_zero(), a.checked_div(b)?)
}

/// A binary floating-point number as a decimal, read back from its
/// shortest representation: `0.07f64` is `0.07`, not
/// `0.070000000000000006661…`. Fact parsers hand numbers over as `f64`;
/// this recovers the digits that were written (up to 15 significant
/// digits exactly). `None` for `NaN`, infinities and values out of range.
pub fn from_f64(n: f64) -> Option<Decimal> {
    if !n.is_finite() {
        return None;
    }
    // The shortest text that reads back to the same f64, without an
    // allocation (a fact file's numbers were a tenth of loading it). With
    // at most 15 significant digits only one text of that length reads
    // back to it, so `ryu`'s is `Display`'s; longer ones may differ in the
    // last digit, and `ryu` writes very large and very small magnitudes
    // with an exponent, which `Display` never uses: those take
    // `Display`'s path.
    let mut buffer = ryu::Buffer::new();
    let short = buffer.format_finite(n);
    let significant = short.bytes().filter(u8::is_ascii_digit).skip_while(|&b| b == b'0').count();
    if significant <= 15 && !short.contains(['e', 'E']) {
        // `ryu` writes `1.0` where `Display` writes `1`.
        let plain = short.strip_suffix(".0").unwrap_or(short);
        return kept(n != 0.0, Decimal::from_str(plain).ok()?);
    }
    let text = format!("{n}");
    let digits = text.trim_start_matches('-').split('.').next().unwrap_or("");
    if digits.len() > 29 {
        return None;
    }
    kept(n != 0.0, Decimal::from_str(&text).ok()?)
}

/// An integer as a decimal (always exact).
pub fn from_int(n: i64) -> Decimal {
    Decimal::from(n)
}

/// An approximation for places that need a float (a chart, a percentage
/// in a summary), never for a comparison.
pub fn to_f64(n: Decimal) -> f64 {
    n.to_f64().unwrap_or(0.0)
}

/// The value of a percent literal or cell: `12.5` percent is `0.125`.
pub fn percent_of(n: Decimal) -> Option<Decimal> {
    div(n, Decimal::ONE_HUNDRED)
}

/// A percent as the number a person writes before `%`: `0.125` is `12.5`.
pub fn as_percent(n: Decimal) -> Option<Decimal> {
    n.checked_mul(Decimal::ONE_HUNDRED)
}

/// Rounds a computed value (a trend's projection) to [`TREND_DECIMALS`].
pub fn round_trend(n: Decimal) -> Decimal {
    n.round_dp_with_strategy(TREND_DECIMALS, RoundingStrategy::MidpointAwayFromZero)
}

/// The shortest decimal text of a number: no trailing zeros, no exponent,
/// no binary noise (`0.085`, `3`, `-2.5`).
pub fn format(n: Decimal) -> String {
    let normal = n.normalize();
    if normal.is_zero() {
        return "0".into();
    }
    normal.to_string()
}

/// A computed value as reports show it: rounded to six decimal places.
pub fn round_shown(n: Decimal) -> Decimal {
    n.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
}

/// Serializes an optional decimal as a JSON number (reports keep numbers
/// numbers; six decimal places survive the trip through `f64` exactly as
/// written).
pub fn serialize_opt<S: serde::Serializer>(n: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => serializer.serialize_f64(to_f64(*n)),
        None => serializer.serialize_none(),
    }
}

/// A percent as a person writes it, without the sign: `0.125` is `12.5`.
pub fn format_percent(n: Decimal) -> String {
    match as_percent(n) {
        Some(p) => format(p),
        None => format(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        parse(text).expect("a number")
    }

    #[test]
    fn decimal_sums_compare_as_written() {
        assert_eq!(d("0.7") + d("0.2") + d("0.1"), d("1"));
        assert_eq!(d("0.07") * d("100"), d("7"));
        assert_eq!(percent_of(d("10")).unwrap() + percent_of(d("20")).unwrap(), percent_of(d("30")).unwrap());
    }

    #[test]
    fn floats_from_parsers_keep_their_written_digits() {
        assert_eq!(from_f64(0.07), Some(d("0.07")));
        assert_eq!(from_f64(1.0).map(format), Some("1".into()));
        assert_eq!(from_f64(-12.5).map(format), Some("-12.5".into()));
        assert_eq!(from_f64(0.1 + 0.2).map(format), Some("0.30000000000000004".into()));
        assert_eq!(from_f64(-0.0).map(format), Some("0".into()));
        assert_eq!(from_f64(1e20), Some(d("100000000000000000000")));
    }

    /// `from_f64` reads `ryu`'s digits where it can: always the digits
    /// `Display` writes, checked on written decimals and on arbitrary bits.
    #[test]
    fn the_fast_digits_are_the_digits_display_writes() {
        let by_display = |n: f64| {
            let text = format!("{n}");
            kept(n != 0.0, Decimal::from_str(&text).ok()?)
        };
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let bits = f64::from_bits(next());
            let written = (next() % 2_000_000) as f64 / [1.0, 10.0, 1e3, 1e4, 1e6][(next() % 5) as usize];
            for n in [bits, written, -written] {
                if n.is_finite() && n.abs() < 1e15 && (n == 0.0 || n.abs() > 1e-4) {
                    assert_eq!(from_f64(n).map(format), by_display(n).map(format), "{n:?}");
                }
            }
        }
    }

    #[test]
    fn not_a_number_and_out_of_range_are_refused() {
        for text in ["NaN", "nan", "inf", "-inf", "infinity", "", "1e400", "1.5.2", "0x10", "--1", "5%"] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(parse(&"9".repeat(320)), None);
        assert_eq!(from_f64(f64::NAN), None);
        assert_eq!(from_f64(f64::INFINITY), None);
        assert_eq!(from_f64(1e300), None);
    }

    #[test]
    fn a_value_that_is_not_zero_never_becomes_zero() {
        for text in ["1e-30", "0.0000000000000000000000000000001", "-1E-29", "0.00000000000000000000000000000000009"] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(parse("0.0000000000000000000000000000"), Some(Decimal::ZERO));
        assert_eq!(percent_of(d("0.0000000000000000000000000001")), None);
        assert_eq!(from_f64(1e-30), None);
        assert_eq!(from_f64(-1e-40), None);
        assert_eq!(from_f64(1e-20), Some(d("0.00000000000000000001")));
        let tiny = d("0.000000000000001");
        assert_eq!(mul(tiny, tiny), None);
        assert_eq!(mul(tiny, Decimal::ZERO), Some(Decimal::ZERO));
        assert_eq!(div(tiny, d("1000000000000000")), None);
        assert_eq!(div(Decimal::ZERO, tiny), Some(Decimal::ZERO));
        assert_eq!(mul(d("0.07"), d("100")), Some(d("7")));
    }

    #[test]
    fn scientific_and_signed_text_reads() {
        assert_eq!(parse("1.5e3"), Some(d("1500")));
        assert_eq!(parse("1E-4"), Some(d("0.0001")));
        assert_eq!(parse("+2"), Some(d("2")));
        assert_eq!(parse(" -0.5 "), Some(d("-0.5")));
    }

    #[test]
    fn numbers_print_without_noise_or_trailing_zeros() {
        assert_eq!(format(d("0.0850")), "0.085");
        assert_eq!(format(d("3.000")), "3");
        assert_eq!(format(d("-2.5")), "-2.5");
        assert_eq!(format(d("1e-12")), "0.000000000001");
        assert_eq!(format_percent(d("0.125")), "12.5");
    }

    #[test]
    fn a_projection_on_the_target_rounds_to_it() {
        let third = Decimal::ONE / d("3");
        assert_ne!(third * d("3"), Decimal::ONE);
        assert_eq!(round_trend(third * d("3")), Decimal::ONE);
    }
}
