//! Regression gates for CI: `fdsim baseline` records the statistics that
//! matter per detector × value, `fdsim check` reruns and compares.
//!
//! A metric *regresses* only when its change is both beyond a tolerance
//! (relative and absolute, whichever is larger) and statistically
//! significant given the sampling error of both runs:
//!
//! | metric | significance test |
//! |---|---|
//! | `detection_ms_mean` | two-sample z on the means (standard errors over crashes) |
//! | `detection_ms_p99` | the 95 % order-statistic intervals do not overlap |
//! | `mistakes_per_hour` | exact conditional binomial test of two Poisson rates, one-sided 2.5 % |
//! | `unavailability` (1 − P_A) | two-sample z on per-seed values |
//! | `undetected` | exact conditional binomial test on counts per crash, one-sided 2.5 % |
//!
//! So the gate is neither flaky (noise is not significant) nor blind (a
//! large, real change is). Absolute budgets written in a scenario's
//! `[[detectors]]` entries are gated too. Higher is worse for every metric.

use crate::metrics::curve::CurvePoint;
use crate::metrics::interval::{normal_quantile, poisson_increase_p, quantile_interval};
use crate::report::curve_points;
use crate::run::ScenarioResult;
use crate::scenario::Scenario;
use crate::sim::rng::fnv1a64;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The version of the baseline file format; a file of another format is
/// refused with a request to re-record it.
pub const BASELINE_FORMAT: u32 = 2;

/// The largest number of seeds a baseline may hold: the limit of a
/// scenario's `seeds`.
pub const MAX_BASELINE_SEEDS: usize = 100_000;

/// The recorded statistics of one scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// [`BASELINE_FORMAT`] when written.
    pub format: u32,
    pub fdsim_version: String,
    pub scenario: String,
    pub scenario_file: String,
    /// FNV-1a 64 of the scenario file's text, to notice edits.
    pub scenario_fingerprint: String,
    pub seeds: Vec<u64>,
    pub points: Vec<BaselinePoint>,
}

/// The recorded statistics of one detector at one value.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaselinePoint {
    pub detector: String,
    pub kind: String,
    pub param: String,
    /// Swept value in internal units (nanoseconds for durations).
    pub value: f64,
    pub value_text: String,
    pub crashes: u64,
    /// Crashes the target recovered from before any detection.
    pub undetected: u64,
    /// Crashes still undetected at the end of their run (right-censored).
    pub censored: u64,
    pub detection_ms_mean: Option<f64>,
    pub detection_ms_mean_se: Option<f64>,
    pub detection_ms_mean_lo95: Option<f64>,
    pub detection_ms_mean_hi95: Option<f64>,
    pub detection_ms_p99: Option<f64>,
    pub detection_ms_p99_lo95: Option<f64>,
    pub detection_ms_p99_hi95: Option<f64>,
    pub mistakes: u64,
    pub up_hours: f64,
    pub mistakes_per_hour: Option<f64>,
    pub mistakes_per_hour_lo95: Option<f64>,
    pub mistakes_per_hour_hi95: Option<f64>,
    pub unavailability: Option<f64>,
    /// Standard error of the mean per-seed unavailability.
    pub unavailability_se: Option<f64>,
}

/// Mean and standard error of the mean.
fn mean_se(values: &[f64]) -> Option<(f64, Option<f64>)> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let se = (n > 1).then(|| {
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        (var / n as f64).sqrt()
    });
    Some((mean, se))
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Baseline {
    /// Records `res`, whose scenario was read from `text`.
    pub fn record(res: &ScenarioResult, text: &str) -> Baseline {
        let sc = &res.scenario;
        let points = curve_points(res)
            .iter()
            .map(|p| BaselinePoint::from_point(res, p))
            .collect();
        Baseline {
            format: BASELINE_FORMAT,
            fdsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: sc.name.clone(),
            scenario_file: sc.path.display().to_string(),
            scenario_fingerprint: fingerprint(text),
            seeds: res.seeds.iter().map(|s| s.seed).collect(),
            points,
        }
    }
}

/// Why a baseline could not be used.
#[derive(Debug, PartialEq)]
pub enum BaselineError {
    /// No file at the path: the caller may suggest recording one.
    Missing(String),
    /// A file is there but cannot be trusted: never suggest overwriting.
    Invalid(String),
}

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaselineError::Missing(m) | BaselineError::Invalid(m) => f.write_str(m),
        }
    }
}

/// Reads and validates the baseline of `sc` at `path`, before anything is
/// simulated: a missing file, unreadable or corrupt text, another format or
/// fdsim version, unknown fields, another scenario, no seeds or points,
/// duplicate or too many seeds, and impossible statistics are all refused
/// with the reason.
pub fn read_baseline(path: &std::path::Path, sc: &Scenario) -> Result<Baseline, BaselineError> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| {
        let why = e.to_string().to_lowercase();
        if e.kind() == std::io::ErrorKind::NotFound {
            BaselineError::Missing(format!(
                "no baseline for scenario {} at {shown} ({why})",
                sc.name
            ))
        } else {
            BaselineError::Invalid(format!("cannot read baseline {shown}: {why}"))
        }
    })?;
    let invalid = |why: String| BaselineError::Invalid(format!("baseline {shown}: {why}"));
    let text = String::from_utf8(bytes).map_err(|e| {
        invalid(format!(
            "is not UTF-8 text (byte {}): the file is corrupt",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let base: Baseline = serde_json::from_str(&text).map_err(|e| {
        invalid(format!(
            "line {} column {}: {e}; the file is corrupt or was not written by fdsim baseline",
            e.line(),
            e.column()
        ))
    })?;
    base.validate(sc).map_err(invalid)?;
    Ok(base)
}

impl Baseline {
    /// Checks that this baseline can be compared with a run of `sc`.
    pub fn validate(&self, sc: &Scenario) -> Result<(), String> {
        if self.format != BASELINE_FORMAT {
            return Err(format!(
                "format {} is not this fdsim's format {BASELINE_FORMAT}; re-record it with this \
                 version (fdsim baseline) if its numbers are to be trusted",
                self.format
            ));
        }
        let version = env!("CARGO_PKG_VERSION");
        if self.fdsim_version != version {
            return Err(format!(
                "recorded by fdsim {}, this is fdsim {version}; numbers may differ between \
                 versions, so re-record it with this version after reviewing the change",
                self.fdsim_version
            ));
        }
        if self.scenario != sc.name {
            return Err(format!(
                "is for scenario `{}`, not `{}`",
                self.scenario, sc.name
            ));
        }
        if self.seeds.is_empty() {
            return Err("`seeds` is empty: there is nothing to rerun".into());
        }
        if self.seeds.len() > MAX_BASELINE_SEEDS {
            return Err(format!(
                "`seeds` holds {} seeds; at most {MAX_BASELINE_SEEDS}, the limit of a scenario",
                self.seeds.len()
            ));
        }
        let mut sorted = self.seeds.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("seed {} appears twice in `seeds`", w[0]));
        }
        if self.points.is_empty() && !sc.series().is_empty() {
            return Err("`points` is empty: there is nothing to compare".into());
        }
        for (i, p) in self.points.iter().enumerate() {
            p.validate().map_err(|e| {
                format!(
                    "points[{i}] ({} {}={}): {e}",
                    p.detector, p.param, p.value_text
                )
            })?;
        }
        Ok(())
    }
}

impl BaselinePoint {
    fn validate(&self) -> Result<(), String> {
        let stats = [
            ("detection_ms_mean", self.detection_ms_mean),
            ("detection_ms_mean_se", self.detection_ms_mean_se),
            ("detection_ms_mean_lo95", self.detection_ms_mean_lo95),
            ("detection_ms_mean_hi95", self.detection_ms_mean_hi95),
            ("detection_ms_p99", self.detection_ms_p99),
            ("detection_ms_p99_lo95", self.detection_ms_p99_lo95),
            ("detection_ms_p99_hi95", self.detection_ms_p99_hi95),
            ("up_hours", Some(self.up_hours)),
            ("mistakes_per_hour", self.mistakes_per_hour),
            ("mistakes_per_hour_lo95", self.mistakes_per_hour_lo95),
            ("mistakes_per_hour_hi95", self.mistakes_per_hour_hi95),
            ("unavailability", self.unavailability),
            ("unavailability_se", self.unavailability_se),
        ];
        for (name, v) in stats {
            if let Some(v) = v {
                if !v.is_finite() || v < 0.0 {
                    return Err(format!("`{name}` must be a finite number >= 0, got {v}"));
                }
            }
        }
        if !self.value.is_finite() {
            return Err(format!(
                "`value` must be a finite number, got {}",
                self.value
            ));
        }
        if self.undetected.saturating_add(self.censored) > self.crashes {
            return Err(format!(
                "`undetected` ({}) + `censored` ({}) exceed `crashes` ({})",
                self.undetected, self.censored, self.crashes
            ));
        }
        if self.unavailability.is_some_and(|u| u > 1.0) {
            return Err("`unavailability` is a fraction and must be at most 1".into());
        }
        if (self.mistakes > 0 || self.mistakes_per_hour.is_some()) && self.up_hours <= 0.0 {
            return Err("mistakes are recorded without up time (`up_hours` is 0)".into());
        }
        let ordered = |lo: Option<f64>, x: Option<f64>, hi: Option<f64>| match (lo, x, hi) {
            (Some(lo), Some(x), Some(hi)) => lo <= x && x <= hi,
            _ => true,
        };
        if !ordered(
            self.detection_ms_mean_lo95,
            self.detection_ms_mean,
            self.detection_ms_mean_hi95,
        ) || !ordered(
            self.detection_ms_p99_lo95,
            self.detection_ms_p99,
            self.detection_ms_p99_hi95,
        ) || !ordered(
            self.mistakes_per_hour_lo95,
            self.mistakes_per_hour,
            self.mistakes_per_hour_hi95,
        ) {
            return Err("a confidence interval does not contain its estimate".into());
        }
        Ok(())
    }
}

/// The fingerprint stored in a baseline for scenario text.
pub fn fingerprint(text: &str) -> String {
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

impl BaselinePoint {
    fn from_point(res: &ScenarioResult, p: &CurvePoint) -> BaselinePoint {
        let cfg = res.scenario.series_at(p.detector);
        let unit = cfg.unit;
        let ms: Vec<f64> = p
            .summary
            .detections
            .iter()
            .map(|d| d.as_millis_f64())
            .collect();
        let censored = &p.summary.censored;
        let (det, p99) = if censored.is_empty() {
            (mean_se(&ms), quantile_interval(&ms, 0.99, 0.95))
        } else {
            // Crashes cut off by the end of a run: Kaplan–Meier.
            let km = p.summary.survival();
            let det = km.mean(0.95).map(|m| (m.mean / 1e6, finite(m.se / 1e6)));
            let p99 = match km.quantile_interval(0.99, 0.95) {
                (Some(lo), Some(hi)) => Some((lo.as_millis_f64(), hi.as_millis_f64())),
                _ => None,
            };
            (det, p99)
        };
        let per_seed: Vec<f64> = res
            .seeds
            .iter()
            .filter_map(|s| s.qos[p.detector][p.value_index].query_accuracy())
            .map(|pa| 1.0 - pa)
            .collect();
        let unavail = mean_se(&per_seed);
        BaselinePoint {
            detector: cfg.label.to_string(),
            kind: cfg.kind.to_string(),
            param: cfg.param.to_string(),
            value: p.value,
            value_text: unit.format(p.value),
            crashes: p.summary.crashes,
            undetected: p.summary.undetected,
            censored: censored.len() as u64,
            detection_ms_mean: det.map(|d| d.0),
            detection_ms_mean_se: det.and_then(|d| d.1),
            detection_ms_mean_lo95: p.detection_ms.and_then(|d| finite(d.1)),
            detection_ms_mean_hi95: p.detection_ms.and_then(|d| finite(d.2)),
            detection_ms_p99: p
                .summary
                .detection_percentile(99.0)
                .map(|n| n.as_millis_f64()),
            detection_ms_p99_lo95: p99.map(|q| q.0),
            detection_ms_p99_hi95: p99.map(|q| q.1),
            mistakes: p.summary.mistakes,
            up_hours: p.summary.up_time.as_hours_f64(),
            mistakes_per_hour: p.mistakes_per_hour.map(|m| m.0),
            mistakes_per_hour_lo95: p.mistakes_per_hour.map(|m| m.1),
            mistakes_per_hour_hi95: p.mistakes_per_hour.map(|m| m.2),
            unavailability: unavail.map(|u| u.0),
            unavailability_se: unavail.and_then(|u| u.1),
        }
    }
}

/// The metrics `fdsim check` compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    DetectionMean,
    DetectionP99,
    MistakesPerHour,
    Unavailability,
    Undetected,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::DetectionMean,
        Metric::DetectionP99,
        Metric::MistakesPerHour,
        Metric::Unavailability,
        Metric::Undetected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::DetectionMean => "detection_ms_mean",
            Metric::DetectionP99 => "detection_ms_p99",
            Metric::MistakesPerHour => "mistakes_per_hour",
            Metric::Unavailability => "unavailability",
            Metric::Undetected => "undetected",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The default tolerance: (relative, absolute).
    pub fn default_tolerance(self) -> Tolerance {
        let (rel, abs) = match self {
            Metric::DetectionMean => (0.05, 1.0),
            Metric::DetectionP99 => (0.10, 5.0),
            Metric::MistakesPerHour => (0.10, 0.001),
            Metric::Unavailability => (0.10, 1e-6),
            Metric::Undetected => (0.0, 0.0),
        };
        Tolerance { rel, abs }
    }

    fn value(self, p: &BaselinePoint) -> Option<f64> {
        match self {
            Metric::DetectionMean => p.detection_ms_mean,
            Metric::DetectionP99 => p.detection_ms_p99,
            Metric::MistakesPerHour => p.mistakes_per_hour,
            Metric::Unavailability => p.unavailability,
            Metric::Undetected => Some(p.undetected as f64),
        }
    }

    /// Whether `new` differs from `old` significantly, upwards (`up`) or
    /// downwards.
    fn significant(self, old: &BaselinePoint, new: &BaselinePoint, up: bool) -> bool {
        let z_crit = normal_quantile(0.975);
        let z =
            |o: Option<f64>, n: Option<f64>, so: Option<f64>, sn: Option<f64>| match (o, n, so, sn)
            {
                (Some(o), Some(n), Some(so), Some(sn)) if so + sn > 0.0 => {
                    let z = (n - o) / (so * so + sn * sn).sqrt();
                    if up {
                        z > z_crit
                    } else {
                        -z > z_crit
                    }
                }
                _ => false,
            };
        match self {
            Metric::DetectionMean => z(
                old.detection_ms_mean,
                new.detection_ms_mean,
                old.detection_ms_mean_se,
                new.detection_ms_mean_se,
            ),
            Metric::Unavailability => z(
                old.unavailability,
                new.unavailability,
                old.unavailability_se,
                new.unavailability_se,
            ),
            Metric::DetectionP99 => match (
                old.detection_ms_p99_lo95,
                old.detection_ms_p99_hi95,
                new.detection_ms_p99_lo95,
                new.detection_ms_p99_hi95,
            ) {
                (Some(olo), Some(ohi), Some(nlo), Some(nhi)) => {
                    if up {
                        nlo > ohi
                    } else {
                        nhi < olo
                    }
                }
                _ => false,
            },
            Metric::MistakesPerHour => {
                let (o, to, n, tn) = (old.mistakes, old.up_hours, new.mistakes, new.up_hours);
                if to <= 0.0 || tn <= 0.0 {
                    return false;
                }
                let p = if up {
                    poisson_increase_p(o, to, n, tn)
                } else {
                    poisson_increase_p(n, tn, o, to)
                };
                p < 0.025
            }
            Metric::Undetected => {
                // Per crash that could be judged: censored crashes could not.
                let judged = |p: &BaselinePoint| p.crashes - p.censored.min(p.crashes);
                let (o, co, n, cn) = (old.undetected, judged(old), new.undetected, judged(new));
                if co == 0 || cn == 0 {
                    return false;
                }
                let (o, co, n, cn) = (o, co as f64, n, cn as f64);
                let p = if up {
                    poisson_increase_p(o, co, n, cn)
                } else {
                    poisson_increase_p(n, cn, o, co)
                };
                p < 0.025
            }
        }
    }
}

/// How much change a metric may show before it counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Fraction of the baseline value.
    pub rel: f64,
    /// In the metric's own unit.
    pub abs: f64,
}

/// Tolerances per metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerances(Vec<(Metric, Tolerance)>);

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances(
            Metric::ALL
                .iter()
                .map(|m| (*m, m.default_tolerance()))
                .collect(),
        )
    }
}

impl Tolerances {
    pub fn get(&self, m: Metric) -> Tolerance {
        self.0
            .iter()
            .find(|(k, _)| *k == m)
            .map_or(m.default_tolerance(), |(_, t)| *t)
    }

    /// Applies `METRIC=REL,ABS` (e.g. `mistakes_per_hour=0.2,0.01`).
    pub fn set_from_text(&mut self, text: &str) -> Result<(), String> {
        let usage = || {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            format!(
                "--tolerance takes METRIC=REL,ABS (e.g. mistakes_per_hour=0.2,0.01); metrics: {}",
                names.join(", ")
            )
        };
        let (name, rest) = text.split_once('=').ok_or_else(usage)?;
        let metric = Metric::from_name(name.trim()).ok_or_else(usage)?;
        let (rel, abs) = rest.split_once(',').ok_or_else(usage)?;
        let rel: f64 = rel.trim().parse().map_err(|_| usage())?;
        let abs: f64 = abs.trim().parse().map_err(|_| usage())?;
        if !(rel >= 0.0 && abs >= 0.0 && rel.is_finite() && abs.is_finite()) {
            return Err(format!("tolerances must be finite and >= 0, got {text}"));
        }
        for entry in &mut self.0 {
            if entry.0 == metric {
                entry.1 = Tolerance { rel, abs };
            }
        }
        Ok(())
    }
}

/// What happened to one metric of one point, or to one budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Held,
    Improved,
    Regressed,
    /// In the baseline but not in this run (a removed value or detector).
    Missing,
    /// A budget in the scenario is met by some value.
    BudgetMet,
    /// No value of the detector meets its budget.
    BudgetFailed,
}

impl Status {
    pub fn fails(self) -> bool {
        matches!(
            self,
            Status::Regressed | Status::Missing | Status::BudgetFailed
        )
    }
}

/// One line of the check's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub scenario: String,
    pub detector: String,
    /// `param=value`, or `budget`.
    pub point: String,
    /// Metric name, or the budget keys.
    pub metric: String,
    pub status: Status,
    pub old: Option<f64>,
    pub new: Option<f64>,
    pub detail: String,
    /// The rerun's point equals the baseline's in every recorded statistic,
    /// bit for bit (always false for a missing point or a budget).
    pub exact: bool,
}

/// Compares a new run's points with the baseline's.
pub fn compare(base: &Baseline, now: &Baseline, tol: &Tolerances) -> Vec<Finding> {
    let mut out = Vec::new();
    if base.points.is_empty() && !now.points.is_empty() {
        // Nothing compared is a failure, never a pass.
        out.push(Finding {
            scenario: base.scenario.clone(),
            detector: "-".into(),
            point: "all".into(),
            metric: "all".into(),
            status: Status::Missing,
            old: None,
            new: None,
            detail: "the baseline holds no point, so nothing was compared".into(),
            exact: false,
        });
    }
    for old in &base.points {
        let point = format!("{}={}", old.param, old.value_text);
        let Some(new) = now
            .points
            .iter()
            .find(|p| p.detector == old.detector && p.value == old.value)
        else {
            out.push(Finding {
                scenario: base.scenario.clone(),
                detector: old.detector.clone(),
                point,
                metric: "all".into(),
                status: Status::Missing,
                old: None,
                new: None,
                detail: "this detector and value are in the baseline but not in the scenario"
                    .into(),
                exact: false,
            });
            continue;
        };
        for m in Metric::ALL {
            out.push(judge(base, old, new, m, tol.get(m), &point));
        }
    }
    out
}

fn judge(
    base: &Baseline,
    old: &BaselinePoint,
    new: &BaselinePoint,
    m: Metric,
    t: Tolerance,
    point: &str,
) -> Finding {
    let (o, n) = (m.value(old), m.value(new));
    let mut f = Finding {
        scenario: base.scenario.clone(),
        detector: old.detector.clone(),
        point: point.to_string(),
        metric: m.name().to_string(),
        status: Status::Held,
        old: o,
        new: n,
        detail: String::new(),
        exact: old == new,
    };
    let (Some(o), Some(n)) = (o, n) else {
        return f;
    };
    let delta = n - o;
    let allowed = t.abs.max(t.rel * o.abs());
    if delta.abs() <= allowed {
        return f;
    }
    let up = delta > 0.0;
    if !m.significant(old, new, up) {
        f.detail = format!("changed by {} but not significantly", fmt(delta));
        return f;
    }
    f.status = if up {
        Status::Regressed
    } else {
        Status::Improved
    };
    let pct = if o != 0.0 {
        format!(" ({:+.1} %)", 100.0 * delta / o)
    } else {
        String::new()
    };
    f.detail = format!(
        "{} from {} to {} (by {}{}{pct}; tolerance {}, significant at 95 %)",
        if up { "rose" } else { "fell" },
        fmt(o),
        fmt(n),
        if up { "+" } else { "-" },
        fmt(delta.abs()),
        fmt(allowed)
    );
    f
}

fn fmt(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.3e}")
    }
}

/// Gates the budgets of `sc`'s detectors on the run `now`.
pub fn check_budgets(sc: &Scenario, now: &Baseline) -> Vec<Finding> {
    let mut out = Vec::new();
    for cfg in sc.detectors.iter().filter(|d| !d.budget.is_empty()) {
        let b = cfg.budget;
        let meets = |p: &BaselinePoint| {
            let ok = |limit: Option<f64>, v: Option<f64>| {
                limit.is_none_or(|l| v.is_some_and(|v| v <= l))
            };
            p.undetected == 0
                && ok(b.max_mistakes_per_hour, p.mistakes_per_hour)
                && ok(b.max_detection_ms_mean, p.detection_ms_mean)
                && ok(b.max_detection_ms_p99, p.detection_ms_p99)
        };
        let mine: Vec<&BaselinePoint> = now
            .points
            .iter()
            .filter(|p| p.detector == cfg.label)
            .collect();
        let best = mine.iter().filter(|p| meets(p)).min_by(|a, b| {
            a.detection_ms_mean
                .unwrap_or(f64::MAX)
                .total_cmp(&b.detection_ms_mean.unwrap_or(f64::MAX))
        });
        let mut limits = Vec::new();
        if let Some(x) = b.max_mistakes_per_hour {
            limits.push(format!("mistakes/h <= {x}"));
        }
        if let Some(x) = b.max_detection_ms_mean {
            limits.push(format!("mean detection <= {x} ms"));
        }
        if let Some(x) = b.max_detection_ms_p99 {
            limits.push(format!("p99 detection <= {x} ms"));
        }
        let (status, detail) = match best {
            Some(p) => (
                Status::BudgetMet,
                format!("{}={} meets {}", p.param, p.value_text, limits.join(", ")),
            ),
            None => (
                Status::BudgetFailed,
                format!(
                    "no value of {} meets {} (none without undetected crashes)",
                    cfg.label,
                    limits.join(", ")
                ),
            ),
        };
        out.push(Finding {
            scenario: sc.name.clone(),
            detector: cfg.label.clone(),
            point: "budget".into(),
            metric: limits.join(", "),
            status,
            old: None,
            new: None,
            detail,
            exact: false,
        });
    }
    out
}

/// How a scenario's rerun compares with its baseline as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Every point equals the baseline's in every recorded statistic.
    Exact,
    /// Some numbers moved, but every metric held.
    WithinNoise,
    /// A metric improved, regressed or went missing.
    Changed,
}

/// The agreement of one scenario's findings with its baseline, or `None`
/// when it was not compared with one (budgets only).
pub fn agreement<'a>(findings: impl Iterator<Item = &'a Finding>) -> Option<Agreement> {
    let compared: Vec<&Finding> = findings
        .filter(|f| !matches!(f.status, Status::BudgetMet | Status::BudgetFailed))
        .collect();
    if compared.is_empty() {
        None
    } else if compared.iter().all(|f| f.exact) {
        Some(Agreement::Exact)
    } else if compared.iter().all(|f| f.status == Status::Held) {
        Some(Agreement::WithinNoise)
    } else {
        Some(Agreement::Changed)
    }
}

fn agreement_suffix(a: Option<Agreement>) -> &'static str {
    match a {
        Some(Agreement::Exact) => "; reproduced exactly",
        Some(Agreement::WithinNoise) => "; held within noise",
        _ => "",
    }
}

/// The readable verdict: every regression, improvement and budget, a
/// line per scenario with what held and whether the baseline was
/// reproduced exactly or held within noise, then the totals.
pub fn render(findings: &[Finding]) -> String {
    let mut s = String::new();
    let mut scenarios: Vec<&str> = findings.iter().map(|f| f.scenario.as_str()).collect();
    scenarios.dedup();
    let mut agreements = Vec::new();
    for sc in &scenarios {
        let mine = || findings.iter().filter(|f| f.scenario == *sc);
        let n = |st: Status| mine().filter(|f| f.status == st).count();
        let agreed = agreement(mine());
        let _ = writeln!(
            s,
            "{sc}: {} held, {} improved, {} regressed, {} missing, {} over budget{}",
            n(Status::Held),
            n(Status::Improved),
            n(Status::Regressed),
            n(Status::Missing),
            n(Status::BudgetFailed),
            agreement_suffix(agreed)
        );
        agreements.push(agreed);
    }
    if !scenarios.is_empty() {
        s.push('\n');
    }
    let shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status != Status::Held)
        .collect();
    for f in &shown {
        let tag = match f.status {
            Status::Regressed => "REGRESSED",
            Status::Improved => "improved ",
            Status::Missing => "MISSING  ",
            Status::BudgetMet => "budget ok",
            Status::BudgetFailed => "OVER BUDGET",
            Status::Held => "held     ",
        };
        let _ = writeln!(
            s,
            "{tag}  {} / {} / {}  {}: {}",
            f.scenario, f.detector, f.point, f.metric, f.detail
        );
    }
    let count = |st: Status| findings.iter().filter(|f| f.status == st).count();
    let _ = writeln!(
        s,
        "{}{} metrics held, {} improved, {} regressed, {} missing; budgets: {} met, {} failed",
        if shown.is_empty() { "" } else { "\n" },
        count(Status::Held),
        count(Status::Improved),
        count(Status::Regressed),
        count(Status::Missing),
        count(Status::BudgetMet),
        count(Status::BudgetFailed)
    );
    let compared = agreements.iter().filter(|a| a.is_some()).count();
    if compared > 0 {
        let k = |a: Agreement| agreements.iter().filter(|x| **x == Some(a)).count();
        let _ = writeln!(
            s,
            "baselines: {} of {compared} scenario(s) reproduced exactly, {} held within noise",
            k(Agreement::Exact),
            k(Agreement::WithinNoise)
        );
    }
    s
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JUnit XML report: a test suite per scenario, a test case per
/// detector × value × metric and per budget.
pub fn junit(findings: &[Finding]) -> String {
    let mut scenarios: Vec<&str> = findings.iter().map(|f| f.scenario.as_str()).collect();
    scenarios.dedup();
    let failures = findings.iter().filter(|f| f.status.fails()).count();
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"fdsim check\" tests=\"{}\" failures=\"{failures}\">\n",
        findings.len()
    );
    for sc in scenarios {
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.scenario == sc).collect();
        let fails = mine.iter().filter(|f| f.status.fails()).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\">",
            xml(sc),
            mine.len()
        );
        for f in mine {
            let _ = write!(
                s,
                "    <testcase classname=\"{}.{}\" name=\"{} {}\"",
                xml(sc),
                xml(&f.detector),
                xml(&f.point),
                xml(&f.metric)
            );
            if f.status.fails() {
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\"/>\n    </testcase>",
                    xml(&f.detail)
                );
            } else {
                s.push_str("/>\n");
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(mean: f64, se: f64, mistakes: u64) -> BaselinePoint {
        BaselinePoint {
            detector: "d".into(),
            kind: "fixed".into(),
            param: "timeout".into(),
            value: 1.0,
            value_text: "1ns".into(),
            crashes: 100,
            undetected: 0,
            censored: 0,
            detection_ms_mean: Some(mean),
            detection_ms_mean_se: Some(se),
            detection_ms_mean_lo95: None,
            detection_ms_mean_hi95: None,
            detection_ms_p99: Some(mean * 2.0),
            detection_ms_p99_lo95: Some(mean * 1.9),
            detection_ms_p99_hi95: Some(mean * 2.1),
            mistakes,
            up_hours: 100.0,
            mistakes_per_hour: Some(mistakes as f64 / 100.0),
            mistakes_per_hour_lo95: None,
            mistakes_per_hour_hi95: None,
            unavailability: Some(0.0),
            unavailability_se: Some(0.0),
        }
    }

    fn base(p: BaselinePoint) -> Baseline {
        Baseline {
            format: BASELINE_FORMAT,
            fdsim_version: env!("CARGO_PKG_VERSION").into(),
            scenario: "s".into(),
            scenario_file: "s.toml".into(),
            scenario_fingerprint: "0".into(),
            seeds: vec![1],
            points: vec![p],
        }
    }

    fn status(old: BaselinePoint, new: BaselinePoint, m: Metric) -> Status {
        let f = compare(&base(old), &base(new), &Tolerances::default());
        f.iter().find(|f| f.metric == m.name()).unwrap().status
    }

    #[test]
    fn a_large_significant_rise_regresses() {
        assert_eq!(
            status(
                point(100.0, 1.0, 10),
                point(120.0, 1.0, 10),
                Metric::DetectionMean
            ),
            Status::Regressed
        );
        assert_eq!(
            status(
                point(100.0, 1.0, 10),
                point(80.0, 1.0, 10),
                Metric::DetectionMean
            ),
            Status::Improved
        );
    }

    #[test]
    fn a_large_but_noisy_change_holds() {
        assert_eq!(
            status(
                point(100.0, 20.0, 10),
                point(120.0, 20.0, 10),
                Metric::DetectionMean
            ),
            Status::Held
        );
    }

    #[test]
    fn a_significant_change_within_tolerance_holds() {
        assert_eq!(
            status(
                point(100.0, 0.01, 10),
                point(103.0, 0.01, 10),
                Metric::DetectionMean
            ),
            Status::Held
        );
    }

    #[test]
    fn mistake_rates_use_the_exact_poisson_test() {
        assert_eq!(
            status(
                point(1.0, 0.1, 10),
                point(1.0, 0.1, 40),
                Metric::MistakesPerHour
            ),
            Status::Regressed
        );
        assert_eq!(
            status(
                point(1.0, 0.1, 10),
                point(1.0, 0.1, 14),
                Metric::MistakesPerHour
            ),
            Status::Held
        );
    }

    #[test]
    fn tolerances_parse_and_reject_bad_text() {
        let mut t = Tolerances::default();
        t.set_from_text("mistakes_per_hour=0.5,0.1").unwrap();
        assert_eq!(
            t.get(Metric::MistakesPerHour),
            Tolerance { rel: 0.5, abs: 0.1 }
        );
        assert!(t.set_from_text("nope=1,2").is_err());
        assert!(t.set_from_text("undetected=-1,0").is_err());
    }

    #[test]
    fn junit_escapes_and_counts_failures() {
        let f = Finding {
            scenario: "s<1>".into(),
            detector: "d".into(),
            point: "x=1".into(),
            metric: "m".into(),
            status: Status::Regressed,
            old: None,
            new: None,
            detail: "a \"b\" & c".into(),
            exact: false,
        };
        let x = junit(&[f]);
        assert!(x.contains("failures=\"1\""));
        assert!(x.contains("s&lt;1&gt;") && x.contains("a &quot;b&quot; &amp; c"));
    }

    #[test]
    fn a_rerun_equal_in_every_statistic_is_reproduced_exactly_and_one_that_moved_holds_within_noise(
    ) {
        let old = point(100.0, 5.0, 10);
        let base = base(old.clone());
        let same = compare(&base, &base, &Tolerances::default());
        assert_eq!(agreement(same.iter()), Some(Agreement::Exact));
        assert!(render(&same).contains("; reproduced exactly"));
        assert!(render(&same)
            .contains("baselines: 1 of 1 scenario(s) reproduced exactly, 0 held within noise"));
        let mut moved = old.clone();
        moved.detection_ms_mean = Some(100.5);
        let noisy = compare(&base, &self::base(moved), &Tolerances::default());
        assert_eq!(agreement(noisy.iter()), Some(Agreement::WithinNoise));
        assert!(render(&noisy).contains("; held within noise"));
        let mut worse = old;
        worse.detection_ms_mean = Some(200.0);
        let changed = compare(&base, &self::base(worse), &Tolerances::default());
        assert_eq!(agreement(changed.iter()), Some(Agreement::Changed));
        assert!(
            render(&changed).contains("0 of 1 scenario(s) reproduced exactly, 0 held within noise")
        );
    }
}
