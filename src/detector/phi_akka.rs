//! φ accrual as Akka and Apache Pekko compute it
//! (`PhiAccrualFailureDetector.scala` in akka/akka `akka-remote` and
//! apache/pekko `remote`), after Hayashibara et al., SRDS 2004.
//!
//! Window S₁…Sₙ (at most `max_sample_size`), population statistics from
//! running sums, and a logistic approximation of the normal CDF:
//!
//! ```text
//! μ = (1/n) Σ Sᵢ + acceptable_heartbeat_pause
//! σ = max(√((1/n) Σ Sᵢ² − μ₀²), min_std_deviation)       μ₀ = (1/n) Σ Sᵢ
//! Δ = t − A_last,  y = (Δ − μ)/σ,  e = exp(−y (1.5976 + 0.070566 y²))
//! φ = −log₁₀(e / (1 + e))          if Δ > μ
//! φ = −log₁₀(1 − 1 / (1 + e))      otherwise
//! ```
//!
//! Suspect iff φ ≥ threshold (Akka: available iff φ < threshold). The
//! logistic tail is lighter than the normal one, so φ grows faster: at
//! μ = 1 s, σ = 100 ms, Δ = 1.6 s it is 10.8 where the exact φ
//! ([`super::phi`]) is 9.0.
//!
//! As in Akka:
//! - the first heartbeat puts two samples in the window, `E − E/4` and
//!   `E + E/4` with E = `first_heartbeat_estimate` (integer division);
//! - a later heartbeat records its interval only if φ at its arrival, on
//!   the state before it, is below the threshold ("don't use the first
//!   heartbeat after failure for the history, since a long pause will skew
//!   the stats"). The detector's state therefore depends on the threshold
//!   (`threshold_dependent`). The scorer shares one instance among all
//!   thresholds that agree on every arrival so far, splitting (cloning) it
//!   when they disagree and joining copies whose windows agree again
//!   ([`Detector::heartbeat_judged`], [`Detector::same_state`]);
//! - the window is bounded, dropping the oldest sample.
//!
//! Differences from Akka, all deliberate:
//! - Akka measures in whole milliseconds; fdsim in nanoseconds (the
//!   formulas are the same in any unit, so values agree wherever the
//!   times are whole milliseconds);
//! - Akka reports φ = 0 (available) before the first heartbeat; fdsim's
//!   detectors suspect a target they have never heard from (+∞);
//! - the variance is computed exactly from 128-bit integer sums (Akka
//!   evaluates the same expression in `Double` from `Long` sums, which
//!   with nanosecond values could round below zero and give NaN);
//! - Akka's `firstHeartbeatEstimate` is its `heartbeat-interval` setting;
//!   here it is a parameter with the cluster default, 1 s;
//! - a NaN threshold (no threshold given) records every interval.
//!
//! Defaults are Akka Cluster's (`akka.cluster.failure-detector`):
//! threshold 8, max_sample_size 1000, min_std_deviation 100 ms,
//! acceptable_heartbeat_pause 3 s, first_heartbeat_estimate 1 s.
//!
//! [`Detector::crossing`] solves the cubic
//! `0.070566 y³ + 1.5976 y = ln(10^x − 1)` by Cardano's formula (one real
//! root, since both coefficients are positive; remembered per level, as
//! the scorer asks for the same thresholds throughout) and settles the
//! exact nanosecond with [`first_reaching`]; past φ ≈ 323 the exponential
//! underflows and φ jumps to +∞, which the search finds as well.

use super::phi::{
    duration_spec, first_reaching, window_spec, IntervalWindow, PhiConfig, QuantileMemo,
    FAST_BELOW_FROM, QUANTILE_MARGIN, THRESHOLD,
};
use super::registry::{ms, DetectorKind};
use super::{Arrival, Detector};
use crate::math;
use crate::sim::time::Nanos;
use std::f64::consts::LN_10;

/// Registration of `kind = "phi-akka"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "phi-akka",
    summary: "φ accrual as Akka/Pekko compute it: logistic CDF, pause added to the mean, \
              intervals ending a suspicion not recorded",
    source: "Akka/Pekko PhiAccrualFailureDetector (after Hayashibara et al., SRDS 2004); Akka Cluster defaults",
    swept: THRESHOLD,
    params: &[
        window_spec("max_sample_size", "number of most recent inter-arrival times kept"),
        duration_spec(
            "min_std_deviation",
            ms(100.0),
            false,
            "lower bound on the standard deviation",
        ),
        duration_spec(
            "acceptable_heartbeat_pause",
            ms(3000.0),
            true,
            "added to the mean inter-arrival time",
        ),
        duration_spec(
            "first_heartbeat_estimate",
            ms(1000.0),
            false,
            "the first heartbeat seeds the window with this mean ± a quarter",
        ),
    ],
    threshold_dependent: true,
    build: |p, threshold, _| {
        let cfg = PhiConfig {
            window: p.get("max_sample_size") as usize,
            min_std_deviation: p.get("min_std_deviation"),
            acceptable_heartbeat_pause: p.get("acceptable_heartbeat_pause"),
            first_heartbeat_estimate: p.get("first_heartbeat_estimate").round() as u64,
        };
        Box::new(PhiAkka::new(cfg, threshold))
    },
};

/// Akka's φ of a silence `delta` with mean `mean` (pause included) and
/// standard deviation `std`, in any one time unit; Akka's
/// `phi(timeDiff, mean, stdDeviation)`.
pub fn akka_phi(delta: f64, mean: f64, std: f64) -> f64 {
    let y = (delta - mean) / std;
    let e = math::exp(-y * (1.5976 + 0.070566 * y * y));
    let phi = if delta > mean {
        -math::log10(e / (1.0 + e))
    } else {
        -math::log10(1.0 - 1.0 / (1.0 + e))
    };
    phi + 0.0 // −0.0 → 0.0
}

/// The y ≥ … at which the logistic φ equals `level`: the real root of
/// 0.070566 y³ + 1.5976 y − ln(10^level − 1) = 0.
fn logistic_quantile(level: f64) -> f64 {
    let a = level * LN_10;
    let k = if a > 36.0 {
        a
    } else {
        math::ln(math::exp_m1(a))
    };
    // Depressed cubic y³ + p y + q = 0, p > 0: one real root
    // y = u − p/(3u), u = ∛(−q/2 ± √(q²/4 + p³/27)) (the sign of −q/2,
    // avoiding cancellation).
    let p = 1.5976 / 0.070566;
    let q = -k / 0.070566;
    let s = -0.5 * q;
    let d = (0.25 * q * q + p * p * p / 27.0).sqrt();
    let u = math::cbrt(s + s.signum() * d);
    if u.is_infinite() {
        return u;
    }
    u - p / (3.0 * u)
}

/// The Akka-form φ detector for one threshold.
#[derive(Clone, Debug)]
pub struct PhiAkka {
    cfg: PhiConfig,
    threshold: f64,
    window: IntervalWindow,
    last: Option<Nanos>,
    mean: f64,
    std: f64,
    /// [`logistic_quantile`] of the levels asked for, for the crossing's
    /// first guess.
    quantiles: QuantileMemo,
}

impl PhiAkka {
    pub fn new(cfg: PhiConfig, threshold: f64) -> PhiAkka {
        PhiAkka {
            window: IntervalWindow::new(cfg.window),
            cfg,
            threshold,
            last: None,
            mean: f64::NAN,
            std: f64::NAN,
            quantiles: QuantileMemo::new(),
        }
    }

    /// The window of inter-arrival times (seeds included).
    pub fn window(&self) -> &IntervalWindow {
        &self.window
    }

    /// Akka's `isAvailable` at `now`.
    pub fn is_available(&self, now: Nanos) -> bool {
        self.suspicion(now) < self.threshold
    }
}

impl PhiAkka {
    /// Records an arrival; its interval goes into the window only if
    /// `record` (the first heartbeat seeds the window instead).
    fn arrive(&mut self, arrival: &Arrival, record: bool) {
        match self.last {
            None => self.window.seed(self.cfg.first_heartbeat_estimate),
            Some(last) if record => self.window.push(arrival.at.saturating_sub(last).0),
            Some(_) => {}
        }
        self.last = Some(arrival.at);
        self.mean = self.window.mean() + self.cfg.acceptable_heartbeat_pause;
        self.std = self.window.std_deviation().max(self.cfg.min_std_deviation);
    }
}

impl Detector for PhiAkka {
    fn heartbeat(&mut self, arrival: &Arrival) {
        // Recorded unless the arrival ends a suspicion (Akka's
        // `isAvailable(timestamp)` on the state before it). `below` answers
        // as `suspicion < threshold` does, without the tail when it can.
        let ends_suspicion = !self.below(arrival.at, self.threshold);
        self.arrive(arrival, !ends_suspicion);
    }

    /// The scorer's shared-instance path: the same rule, with the
    /// suspicion judged against each threshold by the scorer.
    fn heartbeat_judged(&mut self, arrival: &Arrival, was_suspecting: bool) {
        self.arrive(arrival, !was_suspecting);
    }

    fn boxed_clone(&self) -> Option<Box<dyn Detector>> {
        Some(Box::new(self.clone()))
    }

    /// Same configuration, last arrival and window; the threshold an
    /// instance was built with does not count (the scorer judges).
    fn same_state(&self, other: &dyn Detector) -> bool {
        other
            .as_any()
            .and_then(|o| o.downcast_ref::<PhiAkka>())
            .is_some_and(|o| {
                o.cfg == self.cfg && o.last == self.last && o.window.samples_eq(&self.window)
            })
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        match self.last {
            Some(last) => akka_phi(now.saturating_sub(last).0 as f64, self.mean, self.std),
            None => f64::INFINITY,
        }
    }

    /// As φ's: the logistic φ is below `level` exactly when the
    /// standardised silence is below the level's (remembered) root, so a
    /// silence well below it is answered without `exp` and `log10`.
    fn below(&self, now: Nanos, level: f64) -> bool {
        if let Some(last) = self.last {
            if level >= FAST_BELOW_FROM {
                let y = (now.saturating_sub(last).0 as f64 - self.mean) / self.std;
                let q = self.quantiles.get(level, logistic_quantile);
                if y < q - QUANTILE_MARGIN * (1.0 + q.abs()) {
                    return true;
                }
            }
        }
        self.suspicion(now) < level
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(last) = self.last else {
            return Some(Nanos::ZERO);
        };
        if level.is_nan() {
            return None;
        }
        let guess = self.mean + self.std * self.quantiles.get(level, logistic_quantile);
        first_reaching(last, guess, |c| self.suspicion(c) >= level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(at_ms: u64) -> Arrival {
        let at = Nanos::from_millis(at_ms);
        Arrival {
            at,
            seq: 0,
            sent: at,
            incarnation: 0,
        }
    }

    fn config(pause_ms: f64) -> PhiConfig {
        PhiConfig {
            window: 1000,
            min_std_deviation: ms(100.0),
            acceptable_heartbeat_pause: ms(pause_ms),
            first_heartbeat_estimate: Nanos::from_secs(1).0,
        }
    }

    #[test]
    fn matches_the_logistic_formula_by_hand() {
        // y = 6: e = exp(−6 (1.5976 + 0.070566·36)) = exp(−24.827856).
        let e = math::exp(-24.827_856);
        let want = -math::log10(e / (1.0 + e));
        assert!((akka_phi(1600.0, 1000.0, 100.0) - want).abs() < 1e-12);
        assert!((want - 10.78).abs() < 0.01);
        // At the mean: −log10(½).
        assert_eq!(akka_phi(1000.0, 1000.0, 100.0), -math::log10(0.5));
        assert_eq!(akka_phi(0.0, 1e9, 1.0), 0.0);
        assert_eq!(akka_phi(1e9, 0.0, 1.0), f64::INFINITY);
    }

    #[test]
    fn the_cubic_root_inverts_the_logistic() {
        for level in [0.05, 0.301, 1.0, 8.0, 30.0, 300.0] {
            let y = logistic_quantile(level);
            let got = akka_phi(y, 0.0, 1.0);
            assert!(
                (got - level).abs() < 1e-9 * level.max(1.0),
                "{level}: {got}"
            );
        }
    }

    #[test]
    fn an_interval_ending_a_suspicion_is_not_recorded() {
        let mut d = PhiAkka::new(config(0.0), 8.0);
        d.heartbeat(&arrival(0)); // seeds 750, 1250
        d.heartbeat(&arrival(1000)); // φ(1000) = 0.3: recorded
        assert_eq!(d.window().len(), 3);
        assert!(!d.is_available(Nanos::from_millis(5000)));
        d.heartbeat(&arrival(5000)); // φ(4000) ≫ 8: not recorded
        assert_eq!(d.window().len(), 3);
        assert_eq!(d.window().mean(), 1e9);
        // With a threshold the long interval does not reach, it is.
        let mut lax = PhiAkka::new(config(0.0), f64::MAX);
        for t in [0, 1000, 5000] {
            lax.heartbeat(&arrival(t));
        }
        assert_eq!(lax.window().len(), 4);
    }

    #[test]
    fn crossing_is_the_exact_nanosecond_and_finds_the_underflow() {
        let mut d = PhiAkka::new(config(3000.0), 8.0);
        for t in [0, 1000, 2010, 2990, 4000] {
            d.heartbeat(&arrival(t));
        }
        let last = Nanos::from_millis(4000);
        for level in [0.01, 0.3, 0.31, 1.0, 8.0, 50.0, 323.0, 400.0, f64::INFINITY] {
            let c = d.crossing(level).expect("φ reaches +∞");
            assert!(c > last);
            assert!(d.suspicion(c) >= level, "level {level}");
            assert!(d.suspicion(Nanos(c.0 - 1)) < level, "level {level}");
        }
        // Above φ ≈ 323 the first level reached is +∞ itself.
        assert_eq!(d.crossing(400.0), d.crossing(f64::INFINITY));
        assert_eq!(d.crossing(0.0), Some(last));
    }

    #[test]
    fn shared_scoring_equals_one_instance_per_threshold() {
        use crate::metrics::qos::{score, score_detector, ScoreInput};
        use crate::protocol::heartbeat::Logged;
        use crate::sim::clock::Clock;
        let mut t = 0;
        let mut logged = Vec::new();
        for seq in 0..3000u64 {
            // 1 s heartbeats, ±40 ms jitter, a silence of 2-6 s now and then.
            t += 1000 + (seq * 7919 % 81) - 40;
            if seq % 97 == 13 {
                t += 2000 + (seq * 31 % 4000);
            }
            let a = arrival(t);
            logged.push(Logged {
                arrival: a,
                true_at: a.at,
            });
        }
        let input = ScoreInput {
            arrivals: &logged,
            outages: &[],
            clock: Clock::default(),
            warmup: Nanos::ZERO,
            end: Nanos::from_millis(t + 5000),
        };
        let params = crate::detector::Params::new(
            KIND.params
                .iter()
                .map(|p| (p.name, p.default.unwrap()))
                .collect(),
        );
        let env = crate::detector::Env {
            interval: Nanos::from_secs(1),
        };
        let thresholds = [0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0];
        let shared = score_detector(&KIND, &params, &env, &thresholds, input);
        for (i, &x) in thresholds.iter().enumerate() {
            let mut alone = (KIND.build)(&params, x, &env);
            let q = score(alone.as_mut(), &[x], input).remove(0);
            assert_eq!(shared[i], q, "threshold {x}");
        }
        assert!(shared[0].mistakes > shared[6].mistakes);
    }

    #[test]
    fn before_the_first_heartbeat_the_target_is_suspected() {
        let d = PhiAkka::new(config(3000.0), 8.0);
        assert_eq!(d.suspicion(Nanos(1)), f64::INFINITY);
        assert_eq!(d.crossing(8.0), Some(Nanos::ZERO));
    }
}
