//! Virtual time: integer nanoseconds in a newtype.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in virtual time or a span of it, in integer nanoseconds.
///
/// One type serves both roles, as in most discrete-event simulators: an
/// instant is the span since the start of the run. Arithmetic saturates
/// at zero on subtraction so that "time since" never wraps.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Nanos(pub u64);

impl Nanos {
    pub const ZERO: Nanos = Nanos(0);
    pub const MAX: Nanos = Nanos(u64::MAX);

    pub const fn from_micros(us: u64) -> Nanos {
        Nanos(us * 1_000)
    }
    pub const fn from_millis(ms: u64) -> Nanos {
        Nanos(ms * 1_000_000)
    }
    pub const fn from_secs(s: u64) -> Nanos {
        Nanos(s * 1_000_000_000)
    }
    /// Converts seconds to nanoseconds, rounding to the nearest and
    /// clamping negative values to zero.
    pub fn from_secs_f64(s: f64) -> Nanos {
        if s.is_nan() || s <= 0.0 {
            Nanos(0)
        } else if s >= u64::MAX as f64 / 1e9 {
            Nanos::MAX
        } else {
            Nanos((s * 1e9).round() as u64)
        }
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub const fn saturating_sub(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(rhs.0))
    }
    pub const fn saturating_add(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(rhs.0))
    }
}

impl Add for Nanos {
    type Output = Nanos;
    fn add(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Nanos {
    fn add_assign(&mut self, rhs: Nanos) {
        *self = *self + rhs;
    }
}

impl Sub for Nanos {
    type Output = Nanos;
    fn sub(self, rhs: Nanos) -> Nanos {
        self.saturating_sub(rhs)
    }
}

/// A sum of many spans (pooled up time, mistake time), in nanoseconds.
///
/// [`Nanos`] saturates at 2^64 ns, about 584 years or 5.1 million hours,
/// which pooled sums reach (4,000 seeds of 60 days already do). Sums use
/// 128 bits, which no run fdsim accepts can exhaust: 10^5 seeds × 10^6
/// pairs × 2^64 ns is below 2^102.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct TotalNanos(pub u128);

impl TotalNanos {
    pub const ZERO: TotalNanos = TotalNanos(0);

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / 3.6e12
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// The mean of `count` spans summing to `self`, rounded down.
    pub fn mean(self, count: u64) -> Option<Nanos> {
        (count > 0).then(|| Nanos((self.0 / u128::from(count)).min(u128::from(u64::MAX)) as u64))
    }
}

/// Formats as [`Nanos`] does, and in hours beyond 2^64 ns.
impl fmt::Display for TotalNanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match u64::try_from(self.0) {
            Ok(ns) => Nanos(ns).fmt(f),
            Err(_) => write!(f, "{:.0}h", self.as_hours_f64()),
        }
    }
}

impl From<Nanos> for TotalNanos {
    fn from(n: Nanos) -> TotalNanos {
        TotalNanos(u128::from(n.0))
    }
}

impl AddAssign<Nanos> for TotalNanos {
    fn add_assign(&mut self, rhs: Nanos) {
        self.0 += u128::from(rhs.0);
    }
}

impl AddAssign for TotalNanos {
    fn add_assign(&mut self, rhs: TotalNanos) {
        self.0 += rhs.0;
    }
}

/// Formats as a duration with a unit chosen to stay readable: `150ms`,
/// `2.5s`, `1h30m`.
impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        const US: u64 = 1_000;
        const MS: u64 = 1_000_000;
        const S: u64 = 1_000_000_000;
        if ns == 0 {
            return write!(f, "0s");
        }
        if ns >= 60 * S && ns % S == 0 {
            let s = ns / S;
            let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
            let mut out = String::new();
            if h > 0 {
                out.push_str(&format!("{h}h"));
            }
            if m > 0 {
                out.push_str(&format!("{m}m"));
            }
            if s > 0 {
                out.push_str(&format!("{s}s"));
            }
            return f.write_str(&out);
        }
        let (unit, div) = if ns >= S {
            ("s", S)
        } else if ns >= MS {
            ("ms", MS)
        } else if ns >= US {
            ("us", US)
        } else {
            ("ns", 1)
        };
        if ns % div == 0 {
            write!(f, "{}{unit}", ns / div)
        } else {
            let v = ns as f64 / div as f64;
            let s = format!("{v:.6}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            write!(f, "{s}{unit}")
        }
    }
}

/// Error from [`parse_duration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a duration written as a number and a unit, or a sum of them:
/// `150ms`, `2s`, `1.5s`, `1h30m`, `250us`, `10ns`. Units: `ns`, `us`,
/// `ms`, `s`, `m`, `h`, `d`. A bare `0` is accepted.
pub fn parse_duration(text: &str) -> Result<Nanos, DurationError> {
    let s = text.trim();
    if s == "0" {
        return Ok(Nanos(0));
    }
    if s.is_empty() {
        return Err(DurationError("empty duration; write e.g. \"150ms\"".into()));
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad_duration(text));
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| bad_duration(text))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" | "min" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            "" => return Err(DurationError(format!(
                "duration \"{text}\" has no unit; write e.g. \"{value}ms\" (units: ns, us, ms, s, m, h, d)"
            ))),
            other => return Err(unknown_unit(text, value, other, rest)),
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    if total > u64::MAX as f64 {
        return Err(DurationError(format!("duration \"{text}\" is too long")));
    }
    Ok(Nanos(total.round() as u64))
}

/// What a duration may look like, for the end of an error message.
const FORMS: &str = "a number and a unit, or several with no spaces between: \"150ms\", \"2s\", \
                     \"1.5s\", \"1h30m\" (units: ns, us, ms, s, m, h, d)";

/// The error for `unit` after `value` in `text` (`rest` is the text from
/// the unit on): an exponent (`1e3ms`), a space (`23h 60m`, `5 s`) or a
/// unit fdsim does not know.
fn unknown_unit(text: &str, value: f64, unit: &str, rest: &str) -> DurationError {
    let unit_text = unit.trim();
    // `1e3ms`: the unit starts with an exponent.
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let digits = exp
            .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '+'))
            .unwrap_or(exp.len());
        if let (Ok(power), tail) = (exp[..digits].parse::<i32>(), &exp[digits..]) {
            let full = value * crate::math::powf(10.0, f64::from(power));
            let example = if tail.is_empty() {
                format!("\"{full}\" and a unit")
            } else {
                format!("\"{full}{tail}\"")
            };
            return DurationError(format!(
                "duration \"{text}\" has an exponent, which durations do not take; write the \
                 number in full, e.g. {example} ({FORMS})"
            ));
        }
    }
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if unit != unit_text || text.trim().contains(char::is_whitespace) {
        let hint = match parse_duration(&squeezed) {
            Ok(_) => format!("write \"{squeezed}\""),
            Err(_) => "write".into(),
        };
        return DurationError(format!(
            "duration \"{text}\" has a space in it; {hint} ({FORMS})"
        ));
    }
    DurationError(format!(
        "unknown unit \"{unit_text}\" in duration \"{text}\"; write {FORMS}"
    ))
}

fn bad_duration(text: &str) -> DurationError {
    DurationError(format!(
        "cannot read \"{text}\" as a duration; write a number and a unit, e.g. \"150ms\", \"2s\", \"1h30m\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_sums() {
        assert_eq!(parse_duration("150ms"), Ok(Nanos::from_millis(150)));
        assert_eq!(parse_duration("2s"), Ok(Nanos::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Nanos::from_millis(1500)));
        assert_eq!(parse_duration("1h30m"), Ok(Nanos::from_secs(5400)));
        assert_eq!(parse_duration("250us"), Ok(Nanos::from_micros(250)));
        assert_eq!(parse_duration("10ns"), Ok(Nanos(10)));
        assert_eq!(parse_duration("1d"), Ok(Nanos::from_secs(86400)));
        assert_eq!(parse_duration("0"), Ok(Nanos(0)));
    }

    #[test]
    fn rejects_missing_or_unknown_units() {
        assert!(parse_duration("150").unwrap_err().0.contains("no unit"));
        assert!(parse_duration("3 weeks").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5ms").is_err());
    }

    #[test]
    fn exponents_and_spaces_are_explained_with_the_form_to_write() {
        let e = parse_duration("1e3ms").unwrap_err().0;
        assert!(
            e.contains("has an exponent") && e.contains("\"1000ms\""),
            "{e}"
        );
        let e = parse_duration("23h 60m").unwrap_err().0;
        assert!(e.contains("has a space in it; write \"23h60m\""), "{e}");
        assert!(
            e.contains("\"1h30m\" (units: ns, us, ms, s, m, h, d)"),
            "{e}"
        );
        let e = parse_duration("5 s").unwrap_err().0;
        assert!(e.contains("write \"5s\""), "{e}");
        let e = parse_duration("3weeks").unwrap_err().0;
        assert!(e.starts_with("unknown unit \"weeks\""), "{e}");
    }

    #[test]
    fn display_round_trips_through_the_parser() {
        for ns in [
            1,
            999,
            1_500,
            150_000_000,
            2_000_000_000,
            5_400_000_000_000,
            90_000_000_000,
        ] {
            let shown = Nanos(ns).to_string();
            assert_eq!(parse_duration(&shown), Ok(Nanos(ns)), "{shown}");
        }
    }
}
