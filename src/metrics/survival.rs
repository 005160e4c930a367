//! Detection time under right-censoring: the Kaplan–Meier estimate.
//!
//! A crash still undetected when the run ends tells only that its
//! detection time T_D exceeds the time left (it is *right-censored*).
//! Dropping such crashes would bias T_D low; counting them as misses would
//! blame the detector for the length of the run. The Kaplan–Meier
//! product-limit estimate uses them correctly: with detections at distinct
//! times t₁ < t₂ < …, dᵢ of them at tᵢ among rᵢ crashes still undetected
//! (and not yet censored) just before tᵢ,
//!
//!   S(t) = P(T_D > t) = ∏_{tᵢ ≤ t} (1 − dᵢ / rᵢ).
//!
//! A crash censored at the same time as a detection counts as still at
//! risk at that time. Without censoring, S is one minus the empirical
//! distribution function, so every figure below equals its plain sample
//! counterpart (and fdsim computes it that way, exactly).
//!
//! - **Quantiles**: the p-quantile is the smallest detection time with
//!   S(t) ≤ 1 − p; it does not exist when censoring leaves S above 1 − p
//!   at the last detection (the p-quantile then lies beyond what the runs
//!   observed).
//! - **Confidence band**: pointwise, from Greenwood's variance of S on the
//!   log(−log) scale (Kalbfleisch and Prentice), which stays inside [0, 1];
//!   quantile intervals invert the band (Brookmeyer and Crowley, 1982).
//! - **Mean**: the area under S up to the largest observed time τ (the
//!   *restricted mean*). When the largest time is a detection, S falls to
//!   zero there and this is the ordinary mean; when it is censored, the
//!   mean is restricted to τ: a lower bound of the unrestricted mean, which
//!   the data cannot estimate. Its variance is the usual one,
//!   Σ Aᵢ² dᵢ / (rᵢ (rᵢ − dᵢ)) with Aᵢ the area under S from tᵢ to τ.
//!
//! Crashes the target recovered from before any detection (*undetected*)
//! are a competing outcome, not censoring, and are reported apart, as in
//! the plain figures.

use super::interval::{normal_quantile, student_t_quantile};
use super::summary::percentile;
use crate::math;
use crate::sim::time::{Nanos, TotalNanos};

/// Mean detection time of sorted `detected` times with sorted `censored`
/// ones: the exact sample mean without censoring, the Kaplan–Meier
/// (restricted) mean with it. `None` without detections.
pub fn mean_time(detected: &[Nanos], censored: &[Nanos]) -> Option<Nanos> {
    if censored.is_empty() {
        let sum: u128 = detected.iter().map(|d| u128::from(d.0)).sum();
        TotalNanos(sum).mean(detected.len() as u64)
    } else {
        let m = KaplanMeier::new(detected, censored).mean(0.95)?;
        Some(Nanos(m.mean.round() as u64))
    }
}

/// True when censoring restricts the mean of sorted `detected` and
/// `censored` times to the largest observed time (a lower bound).
pub fn restricted(detected: &[Nanos], censored: &[Nanos]) -> bool {
    !censored.is_empty() && KaplanMeier::new(detected, censored).is_restricted()
}

/// The `p`-th percentile (0 < p ≤ 100) of sorted `detected` times with
/// sorted `censored` ones: nearest rank without censoring, the
/// Kaplan–Meier quantile with it (`None` when censoring leaves it beyond
/// the observed times).
pub fn percentile_time(detected: &[Nanos], censored: &[Nanos], p: f64) -> Option<Nanos> {
    if censored.is_empty() {
        percentile(detected, p)
    } else {
        // What `KaplanMeier::new(..).quantile(p / 100.0)` answers, walking
        // the steps only up to the quantile and keeping none: the mistake
        // durations of a sweep run to millions.
        let target = quantile_level(p / 100.0);
        StepWalk::new(detected, censored)
            .find(|st| st.survival <= target)
            .map(|st| st.t)
    }
}

/// The level of S at or below which the p-quantile (0 < p ≤ 1) is reached:
/// `1 − p`, with a relative tolerance for the rounding of the product.
fn quantile_level(p: f64) -> f64 {
    (1.0 - p) * (1.0 + 1e-12)
}

/// The steps of the Kaplan–Meier estimate, one distinct detection time
/// at a time, from sorted detection and censoring times.
struct StepWalk<'a> {
    detections: &'a [Nanos],
    censored: &'a [Nanos],
    i: usize,
    j: usize,
    at_risk: u64,
    /// S after the last step.
    s: f64,
    greenwood: f64,
}

impl<'a> StepWalk<'a> {
    fn new(detections: &'a [Nanos], censored: &'a [Nanos]) -> StepWalk<'a> {
        debug_assert!(detections.windows(2).all(|w| w[0] <= w[1]));
        debug_assert!(censored.windows(2).all(|w| w[0] <= w[1]));
        StepWalk {
            detections,
            censored,
            i: 0,
            j: 0,
            at_risk: (detections.len() + censored.len()) as u64,
            s: 1.0,
            greenwood: 0.0,
        }
    }
}

impl Iterator for StepWalk<'_> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        let t = *self.detections.get(self.i)?;
        // Censorings before t leave the risk set first.
        while self.j < self.censored.len() && self.censored[self.j] < t {
            self.at_risk -= 1;
            self.j += 1;
        }
        let d = self.detections[self.i..]
            .iter()
            .take_while(|&&x| x == t)
            .count() as u64;
        let r = self.at_risk as f64;
        self.s *= 1.0 - d as f64 / r;
        self.greenwood += if self.at_risk > d {
            d as f64 / (r * (r - d as f64))
        } else {
            0.0
        };
        let step = Step {
            t,
            at_risk: self.at_risk,
            events: d,
            survival: self.s,
            greenwood: self.greenwood,
        };
        self.at_risk -= d;
        self.i += d as usize;
        Some(step)
    }
}

/// One detection time of the estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub t: Nanos,
    /// Crashes still undetected and uncensored just before `t`.
    pub at_risk: u64,
    /// Detections at `t`.
    pub events: u64,
    /// S(t), after this step.
    pub survival: f64,
    /// Greenwood's sum Σ dᵢ / (rᵢ (rᵢ − dᵢ)) up to this step.
    greenwood: f64,
}

/// The Kaplan–Meier estimate of the detection-time distribution.
#[derive(Clone, Debug, PartialEq)]
pub struct KaplanMeier {
    steps: Vec<Step>,
    /// The largest observed time, detection or censoring.
    tau: Nanos,
    /// Whether `tau` is a censoring time with S(τ) > 0.
    restricted: bool,
}

/// A mean with its confidence interval, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanEstimate {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    /// The standard error of the mean.
    pub se: f64,
    /// True when the mean is restricted to the largest observed time
    /// because that time is censored: a lower bound.
    pub restricted: bool,
}

impl KaplanMeier {
    /// The estimate from sorted detection times and sorted censoring times.
    pub fn new(detections: &[Nanos], censored: &[Nanos]) -> KaplanMeier {
        let mut walk = StepWalk::new(detections, censored);
        let steps: Vec<Step> = walk.by_ref().collect();
        let s = walk.s;
        let last_event = detections.last().copied().unwrap_or(Nanos::ZERO);
        let last_censor = censored.last().copied().unwrap_or(Nanos::ZERO);
        let tau = last_event.max(last_censor);
        let restricted = !censored.is_empty() && last_censor >= last_event && s > 0.0;
        KaplanMeier {
            steps,
            tau,
            restricted,
        }
    }

    /// The detection times of the estimate, with S after each.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// S(t) = P(T_D > t).
    pub fn survival(&self, t: Nanos) -> f64 {
        let k = self.steps.partition_point(|s| s.t <= t);
        k.checked_sub(1).map_or(1.0, |k| self.steps[k].survival)
    }

    /// The pointwise `conf` band of S after step `k` (log(−log) scale).
    fn band_at(&self, k: usize, conf: f64) -> (f64, f64) {
        let st = self.steps[k];
        let s = st.survival;
        if s <= 0.0 || s >= 1.0 {
            return (s, s);
        }
        let ln_s = math::ln(s);
        let sigma = st.greenwood.sqrt() / ln_s.abs();
        let z = normal_quantile(0.5 + conf / 2.0);
        let (up, down) = (math::exp(z * sigma), math::exp(-z * sigma));
        (math::powf(s, up), math::powf(s, down))
    }

    /// The pointwise `conf` confidence band of S at `t`.
    pub fn band(&self, t: Nanos, conf: f64) -> (f64, f64) {
        let k = self.steps.partition_point(|s| s.t <= t);
        k.checked_sub(1)
            .map_or((1.0, 1.0), |k| self.band_at(k, conf))
    }

    /// The first detection time at which `level(step k)` is at or below
    /// `1 − p`, with a relative tolerance for the rounding of the product.
    fn first_at_or_below(&self, p: f64, level: impl Fn(usize) -> f64) -> Option<Nanos> {
        let target = quantile_level(p);
        (0..self.steps.len())
            .find(|&k| level(k) <= target)
            .map(|k| self.steps[k].t)
    }

    /// The p-quantile (0 < p ≤ 1) of T_D, or `None` when the estimate never
    /// falls to 1 − p (too much censoring, or no detection).
    pub fn quantile(&self, p: f64) -> Option<Nanos> {
        self.first_at_or_below(p, |k| self.steps[k].survival)
    }

    /// The `conf` interval of the p-quantile from the band: its ends are
    /// where the band's lower and upper edges fall to 1 − p. The upper end
    /// is `None` when the upper edge never does (unbounded above).
    pub fn quantile_interval(&self, p: f64, conf: f64) -> (Option<Nanos>, Option<Nanos>) {
        let lo = self.first_at_or_below(p, |k| self.band_at(k, conf).0);
        let hi = self.first_at_or_below(p, |k| self.band_at(k, conf).1);
        (lo, hi)
    }

    /// The (restricted) mean of T_D with its `conf` interval (Student t on
    /// detections − 1 degrees of freedom), or `None` without detections.
    pub fn mean(&self, conf: f64) -> Option<MeanEstimate> {
        if self.steps.is_empty() {
            return None;
        }
        // Area under S on [0, τ], step by step.
        let mut area = 0.0;
        let (mut prev_t, mut prev_s) = (0.0, 1.0);
        for st in &self.steps {
            let t = st.t.0 as f64;
            area += prev_s * (t - prev_t);
            (prev_t, prev_s) = (t, st.survival);
        }
        area += prev_s * (self.tau.0 as f64 - prev_t);
        // Aᵢ: the area from tᵢ to τ, accumulated backwards.
        let mut var = 0.0;
        let mut a = prev_s * (self.tau.0 as f64 - prev_t);
        for k in (0..self.steps.len()).rev() {
            let st = self.steps[k];
            let (r, d) = (st.at_risk as f64, st.events as f64);
            if st.at_risk > st.events {
                var += a * a * d / (r * (r - d));
            }
            if k > 0 {
                let prev = self.steps[k - 1];
                a += prev.survival * (st.t.0 - prev.t.0) as f64;
            }
        }
        let events: u64 = self.steps.iter().map(|s| s.events).sum();
        let se = var.sqrt();
        let half = if events > 1 {
            student_t_quantile(0.5 + conf / 2.0, (events - 1) as f64) * se
        } else {
            f64::INFINITY
        };
        Some(MeanEstimate {
            mean: area,
            lo: area - half,
            hi: area + half,
            se,
            restricted: self.restricted,
        })
    }

    /// Whether the largest observed time is censored, so that the mean is
    /// restricted to it.
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(v: &[u64]) -> Vec<Nanos> {
        v.iter().map(|&x| Nanos(x)).collect()
    }

    #[test]
    fn without_censoring_it_is_the_empirical_distribution() {
        let d = ns(&[10, 20, 20, 30, 40]);
        let km = KaplanMeier::new(&d, &[]);
        assert_eq!(km.survival(Nanos(9)), 1.0);
        assert!((km.survival(Nanos(20)) - 0.4).abs() < 1e-15);
        assert_eq!(km.survival(Nanos(40)), 0.0);
        assert_eq!(km.quantile(0.5), Some(Nanos(20)));
        assert_eq!(km.quantile(0.6), Some(Nanos(20)));
        assert_eq!(km.quantile(0.8), Some(Nanos(30)));
        assert_eq!(km.quantile(1.0), Some(Nanos(40)));
        let m = km.mean(0.95).unwrap();
        assert!((m.mean - 24.0).abs() < 1e-9, "{m:?}");
        assert!(!m.restricted);
    }

    #[test]
    fn a_worked_example_with_censoring() {
        // Detections 1, 3, 3, 6; censored at 2, 4, 7 (7 observations).
        // t=1: r=7, d=1 → S = 6/7
        // t=3: r=5 (1 and 2 gone), d=2 → S = 6/7 · 3/5 = 18/35
        // t=6: r=2 (4 censored), d=1 → S = 18/35 · 1/2 = 9/35
        let km = KaplanMeier::new(&ns(&[1, 3, 3, 6]), &ns(&[2, 4, 7]));
        let s: Vec<(u64, u64, u64)> = km
            .steps()
            .iter()
            .map(|s| (s.t.0, s.at_risk, s.events))
            .collect();
        assert_eq!(s, vec![(1, 7, 1), (3, 5, 2), (6, 2, 1)]);
        assert!((km.survival(Nanos(5)) - 18.0 / 35.0).abs() < 1e-15);
        assert!((km.survival(Nanos(100)) - 9.0 / 35.0).abs() < 1e-15);
        // Median: first S ≤ 0.5 is at 6 (18/35 > 0.5).
        assert_eq!(km.quantile(0.5), Some(Nanos(6)));
        // S never reaches 0.1: the 90th percentile lies beyond the data.
        assert_eq!(km.quantile(0.9), None);
        // Restricted mean: 1·1 + 6/7·2 + 18/35·3 + 9/35·1 = 1 + 12/7 + 54/35 + 9/35.
        let m = km.mean(0.95).unwrap();
        let expect = 1.0 + 12.0 / 7.0 + 54.0 / 35.0 + 9.0 / 35.0;
        assert!((m.mean - expect).abs() < 1e-12, "{} vs {expect}", m.mean);
        assert!(m.restricted, "the largest time (7) is censored");
    }

    #[test]
    fn a_censoring_tied_with_a_detection_is_still_at_risk() {
        let km = KaplanMeier::new(&ns(&[5]), &ns(&[5]));
        assert_eq!(km.steps()[0].at_risk, 2);
        assert_eq!(km.survival(Nanos(5)), 0.5);
    }

    #[test]
    fn greenwood_band_matches_the_hand_computed_variance() {
        // Without censoring, Greenwood's variance is S(1−S)/n.
        let d: Vec<Nanos> = (1..=100).map(Nanos).collect();
        let km = KaplanMeier::new(&d, &[]);
        let s = km.survival(Nanos(50));
        let gw = km.steps()[49].greenwood;
        assert!((gw * s * s - s * (1.0 - s) / 100.0).abs() < 1e-12);
        let (lo, hi) = km.band(Nanos(50), 0.95);
        assert!(lo < s && s < hi && lo > 0.38 && hi < 0.62, "{lo} {s} {hi}");
        let (qlo, qhi) = km.quantile_interval(0.5, 0.95);
        let (qlo, qhi) = (qlo.unwrap(), qhi.unwrap());
        assert!(qlo < Nanos(50) && qhi > Nanos(50), "{qlo:?} {qhi:?}");
    }

    #[test]
    fn the_mean_interval_agrees_with_the_plain_one_without_censoring() {
        // KM's variance of the mean is (n−1)/n times s²/n.
        let d: Vec<Nanos> = (1..=200).map(|x| Nanos(x * x % 97 + 10)).collect();
        let mut sorted = d.clone();
        sorted.sort();
        let km = KaplanMeier::new(&sorted, &[]);
        let m = km.mean(0.95).unwrap();
        let n = d.len() as f64;
        let mean = d.iter().map(|x| x.0 as f64).sum::<f64>() / n;
        let var = d
            .iter()
            .map(|x| (x.0 as f64 - mean) * (x.0 as f64 - mean))
            .sum::<f64>()
            / (n - 1.0);
        let t = student_t_quantile(0.975, n - 1.0);
        let half = t * (var * (n - 1.0) / n / n).sqrt();
        assert!((m.mean - mean).abs() < 1e-9);
        assert!(
            ((m.hi - m.mean) - half).abs() < 1e-9,
            "{} vs {half}",
            m.hi - m.mean
        );
    }
}
