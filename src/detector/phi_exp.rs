//! φ accrual with exponential inter-arrival times, as Apache Cassandra
//! computes it (`gms/FailureDetector.java`, class `ArrivalWindow`; the
//! exponential model replaced the normal one in CASSANDRA-2597), after
//! Hayashibara et al., SRDS 2004.
//!
//! With an exponential distribution of mean m, 1 − F(Δ) = e^(−Δ/m), so
//!
//! ```text
//! φ(t) = −log₁₀ e^(−Δ/m) = (Δ / m) · (1 / ln 10),   Δ = t − A_last
//! ```
//!
//! where m is the mean of the last `window` recorded intervals. Cassandra
//! stores Δ/m and multiplies by `PHI_FACTOR = 1.0 / Math.log(10.0)` (≈
//! 0.4343) when comparing with `phi_convict_threshold`; here suspicion is
//! the product, so the threshold is directly Cassandra's (default 8).
//!
//! As in Cassandra:
//! - the first heartbeat records a synthetic interval `initial_value`
//!   (Cassandra: `INITIAL_VALUE_NANOS`, twice the 1 s gossip interval,
//!   overridable with `cassandra.fd_initial_value_ms`);
//! - a later interval is recorded only if it is at most `max_interval`
//!   (Cassandra: `MAX_INTERVAL_IN_NANO`, by default equal to the initial
//!   value, overridable with `cassandra.fd_max_interval_ms`): "in the event
//!   of a long partition, never record an interval longer than the rpc
//!   timeout";
//! - the window is a ring of `window` samples (Cassandra: 1000) with a
//!   running sum; the mean is sum / count.
//!
//! Differences, deliberate: Cassandra convicts when φ·PHI_FACTOR is
//! strictly greater than the threshold, fdsim suspects at ≥ (the two differ
//! by at most one nanosecond); Cassandra's guard against its own process
//! pausing (`MAX_LOCAL_PAUSE`) models the monitor, not the detector, and is
//! left out; before the first heartbeat suspicion is +∞ (Cassandra has no
//! window and does not interpret). Incarnations are ignored (Cassandra keeps
//! the window across a peer's restart too).
//!
//! [`Detector::crossing`] is closed form, Δ = x · m · ln 10, settled to the
//! exact nanosecond with [`first_reaching`].

use super::phi::{duration_spec, first_reaching, u128_to_f64, window_spec, THRESHOLD};
use super::registry::{ms, DetectorKind};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;
use std::collections::VecDeque;
use std::f64::consts::LN_10;

/// Cassandra's `PHI_FACTOR`, `1.0 / Math.log(10.0)`.
pub const PHI_FACTOR: f64 = 1.0 / LN_10;

/// Registration of `kind = "phi-exp"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "phi-exp",
    summary: "φ accrual with exponential inter-arrivals: silence / mean interval / ln 10",
    source: "Apache Cassandra gms/FailureDetector.java ArrivalWindow (after Hayashibara et al., SRDS 2004)",
    swept: THRESHOLD,
    params: &[
        window_spec("window", "number of most recent recorded intervals kept"),
        duration_spec(
            "initial_value",
            ms(2000.0),
            false,
            "synthetic interval recorded at the first heartbeat",
        ),
        duration_spec(
            "max_interval",
            ms(2000.0),
            false,
            "longer intervals are not recorded",
        ),
    ],
    threshold_dependent: false,
    build: |p, _, _| {
        Box::new(PhiExp::new(
            p.get("window") as usize,
            p.get("initial_value").round() as u64,
            p.get("max_interval").round() as u64,
        ))
    },
};

/// Cassandra's exponential φ detector.
#[derive(Clone, Debug)]
pub struct PhiExp {
    cap: usize,
    initial_value: u64,
    max_interval: u64,
    samples: VecDeque<u64>,
    sum: u128,
    mean: f64,
    last: Option<Nanos>,
}

impl PhiExp {
    pub fn new(window: usize, initial_value: u64, max_interval: u64) -> PhiExp {
        assert!(window >= 1, "a window holds at least one sample");
        PhiExp {
            cap: window,
            initial_value,
            max_interval,
            samples: VecDeque::with_capacity(window.min(1 << 16)),
            sum: 0,
            mean: f64::NAN,
            last: None,
        }
    }

    /// The mean of the recorded intervals, nanoseconds (Cassandra's
    /// `ArrivalWindow.mean()`).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The recorded intervals, oldest first.
    pub fn intervals(&self) -> impl Iterator<Item = u64> + '_ {
        self.samples.iter().copied()
    }

    fn record(&mut self, interval: u64) {
        if self.samples.len() == self.cap {
            let old = self.samples.pop_front().expect("cap >= 1");
            self.sum -= u128::from(old);
        }
        self.samples.push_back(interval);
        self.sum += u128::from(interval);
        self.mean = u128_to_f64(self.sum) / self.samples.len() as f64;
    }
}

impl Detector for PhiExp {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        match self.last {
            None => self.record(self.initial_value),
            Some(last) => {
                let interval = arrival.at.saturating_sub(last).0;
                if interval <= self.max_interval {
                    self.record(interval);
                }
            }
        }
        self.last = Some(arrival.at);
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        let Some(last) = self.last else {
            return f64::INFINITY;
        };
        let t = now.saturating_sub(last).0 as f64;
        if t == 0.0 {
            return 0.0; // also when every recorded interval is 0
        }
        PHI_FACTOR * (t / self.mean)
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(last) = self.last else {
            return Some(Nanos::ZERO);
        };
        if level.is_nan() {
            return None;
        }
        first_reaching(last, level * self.mean * LN_10, |c| {
            self.suspicion(c) >= level
        })
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

    fn two_second_default() -> PhiExp {
        PhiExp::new(1000, Nanos::from_secs(2).0, Nanos::from_secs(2).0)
    }

    #[test]
    fn phi_is_silence_over_mean_over_ln_10() {
        let mut d = two_second_default();
        assert_eq!(d.suspicion(Nanos(5)), f64::INFINITY);
        d.heartbeat(&arrival(0));
        assert_eq!(d.mean(), 2e9);
        // Δ = 2 s = m: φ = 1/ln 10.
        assert_eq!(d.suspicion(Nanos::from_secs(2)), PHI_FACTOR);
        d.heartbeat(&arrival(1000)); // intervals 2000, 1000 ms
        assert_eq!(d.mean(), 1.5e9);
        let phi = d.suspicion(Nanos::from_millis(1000 + 3000));
        assert!((phi - 2.0 / LN_10).abs() < 1e-15);
    }

    #[test]
    fn intervals_above_the_maximum_are_discarded_and_equal_ones_kept() {
        let mut d = two_second_default();
        for t in [0, 2000, 5000, 6000] {
            d.heartbeat(&arrival(t));
        }
        // initial 2000, 2000 (= max, kept), 3000 dropped, 1000.
        assert_eq!(
            d.intervals().collect::<Vec<_>>(),
            [2e9 as u64, 2e9 as u64, 1e9 as u64]
        );
    }

    #[test]
    fn the_window_drops_the_oldest_interval() {
        let mut d = PhiExp::new(2, Nanos::from_secs(2).0, Nanos::from_secs(2).0);
        for t in [0, 100, 300] {
            d.heartbeat(&arrival(t));
        }
        assert_eq!(d.mean(), 150e6);
    }

    #[test]
    fn crossing_is_the_exact_nanosecond() {
        let mut d = two_second_default();
        for t in [0, 1000, 2000, 3003, 4000] {
            d.heartbeat(&arrival(t));
        }
        let last = Nanos::from_millis(4000);
        for level in [1e-9, 0.5, 8.0, 12.0, 1e6] {
            let c = d.crossing(level).unwrap();
            assert!(d.suspicion(c) >= level && d.suspicion(Nanos(c.0 - 1)) < level);
        }
        assert_eq!(d.crossing(0.0), Some(last));
        assert_eq!(d.crossing(f64::INFINITY), None);
        // Threshold 8 with a mean of 1.2 s (2000, 1000, 1000, 1003, 997 ms):
        // 8 · 1.2 s · ln 10 ≈ 22.1 s.
        let c = d.crossing(8.0).unwrap();
        assert_eq!(c.0 - last.0, (8.0 * 1.2e9 * LN_10).ceil() as u64);
    }
}
