//! The detector registry: every detector kind a scenario can name, with
//! its parameters, their units, defaults, ranges and sources.
//!
//! Adding a detector is one file under `src/detector/` plus one entry in
//! [`kinds`].

use super::Detector;
use crate::math;
use crate::sim::time::Nanos;
use std::fmt;

/// How a parameter is written in a scenario file and stored internally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamUnit {
    /// A duration string (`"150ms"`), stored as nanoseconds.
    Duration,
    /// A plain number.
    Number,
    /// A whole number (window sizes).
    Count,
}

impl ParamUnit {
    /// The unit suffix used in CSV columns and tables.
    pub fn column_unit(self) -> &'static str {
        match self {
            ParamUnit::Duration => "ms",
            ParamUnit::Number | ParamUnit::Count => "",
        }
    }

    /// Converts an internal value to the value shown in CSV and tables.
    pub fn display_value(self, v: f64) -> f64 {
        match self {
            ParamUnit::Duration => v / 1e6,
            ParamUnit::Number | ParamUnit::Count => v,
        }
    }

    /// Formats an internal value the way a scenario file would write it.
    pub fn format(self, v: f64) -> String {
        match self {
            ParamUnit::Duration => Nanos(v.round() as u64).to_string(),
            ParamUnit::Number => number_text(v),
            ParamUnit::Count => format!("{}", v.round() as u64),
        }
    }
}

/// A number with at most six significant digits and no trailing zeros:
/// `41.4`, `0.99`, `16`, `1.5e-7`.
pub fn number_text(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = math::log10(v.abs()).floor() as i32;
    if !(-4..15).contains(&mag) {
        let text = format!("{v:.5e}");
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exp}");
    }
    let prec = (5 - mag).max(0) as usize;
    let text = format!("{v:.prec$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// One parameter of a detector kind.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub unit: ParamUnit,
    /// Default value (internal units); `None` means the scenario must set it.
    pub default: Option<f64>,
    /// Smallest allowed value (internal units).
    pub min: f64,
    /// Whether `min` itself is allowed.
    pub min_inclusive: bool,
    /// Largest allowed value (internal units), inclusive.
    pub max: f64,
    pub doc: &'static str,
}

impl ParamSpec {
    /// Checks the range; the error is a phrase for a diagnostic.
    pub fn check(&self, v: f64) -> Result<(), String> {
        let low_ok = if self.min_inclusive {
            v >= self.min
        } else {
            v > self.min
        };
        if !v.is_finite() {
            return Err(format!("`{}` must be a finite number, got {v}", self.name));
        }
        if !low_ok || v > self.max {
            let shown = match self.unit {
                ParamUnit::Number => format!("{v}"),
                _ => self.unit.format(v),
            };
            return Err(format!(
                "`{}` must be {}, got {shown}",
                self.name,
                self.range_text()
            ));
        }
        if self.unit == ParamUnit::Count && v.fract() != 0.0 {
            return Err(format!("`{}` must be a whole number, got {v}", self.name));
        }
        Ok(())
    }

    /// The allowed range as words: "> 0s", "in [0, 1]".
    pub fn range_text(&self) -> String {
        let lo = self.unit.format(self.min);
        let op = if self.min_inclusive { ">=" } else { ">" };
        if self.max.is_finite() && self.max < f64::MAX {
            let hi = self.unit.format(self.max);
            let open = if self.min_inclusive { '[' } else { '(' };
            format!("in {open}{lo}, {hi}]")
        } else {
            format!("{op} {lo}")
        }
    }
}

/// Values of a detector's non-swept parameters, in the kind's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    values: Vec<(&'static str, f64)>,
}

impl Params {
    pub fn new(values: Vec<(&'static str, f64)>) -> Params {
        Params { values }
    }

    /// The value of `name`; panics on a name the kind does not declare,
    /// which is a bug in the detector's registration, not user input.
    pub fn get(&self, name: &str) -> f64 {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("detector parameter `{name}` is not registered"))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.values.iter().copied()
    }
}

/// What a detector may know about the scenario it runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env {
    /// The heartbeat interval η the target was configured with (NFD-E and
    /// others use it as the nominal inter-arrival time).
    pub interval: Nanos,
}

/// Builds a detector from its parameters, the scenario environment and,
/// for detectors whose state depends on it, the threshold (NaN otherwise).
pub type BuildFn = fn(&Params, f64, &Env) -> Box<dyn Detector>;

/// A detector kind as scenario files name it.
pub struct DetectorKind {
    /// The `kind = "..."` name.
    pub name: &'static str,
    /// One line on what it computes.
    pub summary: &'static str,
    /// Paper or implementation it follows.
    pub source: &'static str,
    /// The parameter swept by the trade-off curve; the detector's suspicion
    /// is in its units and "suspect" means suspicion ≥ its value.
    pub swept: ParamSpec,
    /// The other parameters.
    pub params: &'static [ParamSpec],
    /// True when the detector's own state depends on the threshold (so one
    /// instance per threshold value must be run on the arrival stream).
    pub threshold_dependent: bool,
    pub build: BuildFn,
}

impl fmt::Debug for DetectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DetectorKind")
            .field("name", &self.name)
            .finish()
    }
}

impl DetectorKind {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        std::iter::once(&self.swept)
            .chain(self.params.iter())
            .find(|p| p.name == name)
    }
}

const NS_PER_MS: f64 = 1e6;

/// Every detector kind. Adding a detector: one file under `src/detector/`
/// exporting a `pub static KIND: DetectorKind`, plus one line here.
static KINDS: &[&DetectorKind] = &[
    &super::fixed::KIND,
    &super::chen_nfds::KIND,
    &super::chen::KIND,
    &super::bertier::KIND,
    &super::two_window::KIND,
    &super::phi::KIND,
    &super::phi_akka::KIND,
    &super::phi_exp::KIND,
    &super::satzger::KIND,
];

/// Every registered detector kind, in a stable order.
pub fn kinds() -> &'static [&'static DetectorKind] {
    KINDS
}

/// The kind named `name`.
pub fn find(name: &str) -> Option<&'static DetectorKind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// A millisecond count as internal nanoseconds, for defaults.
pub const fn ms(v: f64) -> f64 {
    v * NS_PER_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_unique_name_and_documented_params() {
        let mut names: Vec<&str> = kinds().iter().map(|k| k.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), kinds().len());
        for k in kinds() {
            assert!(!k.summary.is_empty() && !k.source.is_empty());
            for p in std::iter::once(&k.swept).chain(k.params) {
                assert!(!p.doc.is_empty(), "{}.{} has no doc", k.name, p.name);
                if let Some(d) = p.default {
                    p.check(d).unwrap();
                }
            }
        }
    }

    #[test]
    fn numbers_print_with_six_significant_digits_and_no_noise() {
        assert_eq!(number_text(41.400000000000006), "41.4");
        assert_eq!(number_text(0.99), "0.99");
        assert_eq!(number_text(16.0), "16");
        assert_eq!(number_text(1.660000000000001), "1.66");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(number_text(1.5e-7), "1.5e-7");
    }

    #[test]
    fn range_errors_name_the_parameter_and_the_value() {
        let spec = find("fixed").unwrap().swept;
        let err = spec.check(0.0).unwrap_err();
        assert!(err.contains("`timeout` must be > 0s, got 0s"), "{err}");
        assert_eq!(ms(1.5), 1_500_000.0);
    }
}
