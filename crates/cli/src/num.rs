//! How the CLI prints numbers: a chosen number of significant digits (6 by default),
//! each shown in the shortest form that reads back to the rounded value, so `0.1`
//! prints as `0.1` and not as `0.10000000000000001` or `0.100000`.

use candle_core::DType;

/// Significant digits of printed numbers (`--digits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digits {
    /// Round to this many significant digits (1 to 17).
    Sig(u32),
    /// No rounding: the shortest text that reads back to the exact value of the dtype.
    Full,
}

impl Default for Digits {
    fn default() -> Self {
        Digits::Sig(6)
    }
}

/// The most significant digits that can matter: 17 decimal digits identify every f64.
pub const MAX_DIGITS: u32 = 17;

/// Parses `--digits`: a count from 1 to 17, or `full`.
pub fn parse_digits(s: &str) -> Result<Digits, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("full") || t.eq_ignore_ascii_case("max") {
        return Ok(Digits::Full);
    }
    match t.parse::<u32>() {
        Ok(d) if (1..=MAX_DIGITS).contains(&d) => Ok(Digits::Sig(d)),
        _ => Err(format!(
            "`{s}` is not a digit count (expected 1 to {MAX_DIGITS}, or `full`)"
        )),
    }
}

/// Rounds `v` to `digits` significant digits through its decimal text, which is exact
/// (the nearest double of the rounded decimal), unlike scaling by powers of ten.
fn round_sig(v: f64, digits: u32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let prec = digits.max(1) as usize - 1;
    let r = format!("{v:.prec$e}").parse::<f64>().unwrap_or(v);
    // Rounding f64::MAX up to one digit gives 2e308, which is no number at all.
    if r.is_finite() {
        r
    } else {
        v
    }
}

/// Formats one number of a tensor of `dtype` (f32 values show f32 digits, never the
/// noise of their f64 widening). Magnitudes that would need leading or trailing zeros
/// beyond the shown digits use exponent notation (`1e308`, `2.5e-9`).
pub fn fmt_num(v: f64, dtype: DType, digits: Digits) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let (v, big) = match digits {
        Digits::Sig(d) => (round_sig(v, d), 10f64.powi(d.max(6) as i32)),
        Digits::Full => (v, 1e16),
    };
    let sci = v != 0.0 && (v.abs() < 1e-4 || v.abs() >= big);
    if dtype == DType::F32 {
        let x = v as f32;
        if sci {
            format!("{x:e}")
        } else {
            format!("{x}")
        }
    } else if sci {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A compact axis label: at most `digits` significant digits, exponent notation for
/// magnitudes beyond 1e5 or below 1e-3, and `0` for values that are zero up to `unit`
/// (tick positions such as 5.6e-17 that arise from rounding in the tick arithmetic).
pub fn fmt_tick(v: f64, digits: u32, unit: f64) -> String {
    if v == 0.0 || v.abs() < unit.abs() * 1e-9 {
        return "0".into();
    }
    let r = round_sig(v, digits);
    let a = r.abs();
    if (1e-3..1e5).contains(&a) {
        format!("{r}")
    } else {
        format!("{r:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_six_significant_digits_in_shortest_form() {
        let d = Digits::default();
        assert_eq!(
            fmt_num(-0.918_938_533_204_672_7, DType::F64, d),
            "-0.918939"
        );
        assert_eq!(fmt_num(0.1, DType::F64, d), "0.1");
        assert_eq!(fmt_num(1.0, DType::F64, d), "1");
        assert_eq!(fmt_num(1e308, DType::F64, d), "1e308");
        assert_eq!(
            fmt_num(f64::MAX, DType::F64, Digits::Sig(1)),
            "1.7976931348623157e308"
        );
        assert_eq!(fmt_num(1234567.0, DType::F64, d), "1.23457e6");
        assert_eq!(fmt_num(2.5e-9, DType::F64, d), "2.5e-9");
        assert_eq!(fmt_num(f64::NEG_INFINITY, DType::F64, d), "-inf");
        assert_eq!(fmt_num(0.1f32 as f64, DType::F32, Digits::Full), "0.1");
        assert_eq!(fmt_num(0.1, DType::F64, Digits::Full), "0.1");
        assert_eq!(
            fmt_num(0.1 + 0.2, DType::F64, Digits::Full),
            "0.30000000000000004"
        );
        assert_eq!(
            fmt_num(0.1 + 0.2, DType::F64, Digits::Sig(17)),
            "0.30000000000000004"
        );
    }

    #[test]
    fn digits_parse() {
        assert_eq!(parse_digits("3").unwrap(), Digits::Sig(3));
        assert_eq!(parse_digits("FULL").unwrap(), Digits::Full);
        assert!(parse_digits("0").is_err());
        assert!(parse_digits("18").is_err());
        assert!(parse_digits("x").is_err());
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(fmt_tick(7000.0, 3, 1000.0), "7000");
        assert_eq!(fmt_tick(0.30000000000000004, 3, 0.1), "0.3");
        assert_eq!(fmt_tick(5.6e-17, 3, 0.1), "0");
        assert_eq!(fmt_tick(-1.2345e308, 3, 1e307), "-1.23e308");
        assert_eq!(fmt_tick(2e-309, 3, 1e-309), "2e-309");
    }
}
