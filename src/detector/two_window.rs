//! 2W-FD: two NFD-E estimates of the next arrival, one over a long window
//! and one over a short one, and the later of the two plus α as the
//! deadline, so that a sudden rise in delay is followed at once while a
//! sudden fall is not trusted until the long window agrees.
//!
//! Source: A. Tomsic, P. Sens, J. Garcia, L. Arantes, J. Sopena, "2W-FD: A
//! Failure Detector Algorithm with QoS", IPDPS 2015.
//!
//! What fdsim implements, exactly: with EA^n_{l+1} Chen's NFD-E estimate
//! over the n most recently received heartbeats (see
//! [`chen`](super::chen); l the highest sequence number received, η the
//! heartbeat interval),
//!
//! ```text
//! EA^n_{l+1}   = (1/n) · Σ_{i in last n} (A_i − η·s_i) + (l + 1)·η
//! τ_{l+1}      = max(EA^{n1}_{l+1}, EA^{n2}_{l+1}) + α
//! suspicion(t) = t − max(EA^{n1}_{l+1}, EA^{n2}_{l+1})    (nanoseconds)
//! ```
//!
//! suspect iff suspicion(t) ≥ α; the swept threshold is α. Both windows
//! see the same heartbeats; each averages over what it holds until full.
//! The two estimates are compared exactly (they are exact rationals).
//! Late heartbeats, incarnations and numerics are handled as in `chen`:
//! late ones are samples but do not move l, a higher incarnation empties
//! both windows, older incarnations are ignored. The paper's internals
//! beyond this formula were not verified against its text; this is the
//! algorithm as summarised in `shared/reference/detectors.md`.
//!
//! Defaults n1 = 1000 and n2 = 1: the example windows of fdsim's reference
//! notes on 2W-FD (a long window for stability, the last heartbeat alone
//! for reactivity), not checked against the paper's tables.

use super::chen::{first_reaching, Estimate, Freshness, Heard, Window, ALPHA, MAX_WINDOW};
use super::registry::{DetectorKind, ParamSpec, ParamUnit};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;

/// Registration of `kind = "two-window"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "two-window",
    summary: "2W-FD: suspect once the time since the later of a long- and a short-window NFD-E estimate reaches `alpha`",
    source: "Tomsic, Sens, Garcia, Arantes, Sopena, \"2W-FD: A Failure Detector Algorithm with QoS\", IPDPS 2015",
    swept: ALPHA,
    params: &[
        ParamSpec {
            name: "long_window",
            unit: ParamUnit::Count,
            default: Some(1000.0),
            min: 1.0,
            min_inclusive: true,
            max: MAX_WINDOW,
            doc: "n1, heartbeats averaged by the long-window estimate (default 1000: a long, stable window)",
        },
        ParamSpec {
            name: "short_window",
            unit: ParamUnit::Count,
            default: Some(1.0),
            min: 1.0,
            min_inclusive: true,
            max: MAX_WINDOW,
            doc: "n2, heartbeats averaged by the short-window estimate (default 1: the last heartbeat alone, most reactive)",
        },
    ],
    threshold_dependent: false,
    build: |p, _, env| {
        Box::new(TwoWindow::new(
            p.get("long_window") as usize,
            p.get("short_window") as usize,
            env.interval,
        ))
    },
};

/// The two-window detector.
#[derive(Clone, Debug)]
pub struct TwoWindow {
    eta: Nanos,
    fresh: Freshness,
    long: Window,
    short: Window,
    /// max(EA^{n1}, EA^{n2}) for l + 1, once anything has been heard.
    next: Option<Estimate>,
}

impl TwoWindow {
    pub fn new(long_window: usize, short_window: usize, interval: Nanos) -> Self {
        TwoWindow {
            eta: interval,
            fresh: Freshness::default(),
            long: Window::new(long_window),
            short: Window::new(short_window),
            next: None,
        }
    }

    /// The deadline before α: the later of the two estimates.
    pub fn expected(&self) -> Option<Estimate> {
        self.next
    }
}

impl Detector for TwoWindow {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        match self.fresh.hear(arrival) {
            Heard::Stale => return,
            Heard::Restart => {
                self.long.clear();
                self.short.clear();
            }
            Heard::Newer | Heard::Late => {}
        }
        self.long.push(arrival, self.eta);
        self.short.push(arrival, self.eta);
        let seq = self.fresh.next_seq();
        self.next = self
            .long
            .estimate(seq, self.eta)
            .max(self.short.estimate(seq, self.eta));
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        self.next.map_or(f64::INFINITY, |ea| ea.since(now))
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(ea) = self.next else {
            return Some(Nanos::ZERO);
        };
        first_reaching(self.fresh.last_at, level, ea.as_f64() + level, |t| {
            ea.since(t)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(at: u64, seq: u64) -> Arrival {
        Arrival {
            at: Nanos(at),
            seq,
            sent: Nanos(seq * 100),
            incarnation: 0,
        }
    }

    fn fed(n1: usize, n2: usize, arrivals: &[(u64, u64)]) -> TwoWindow {
        let mut d = TwoWindow::new(n1, n2, Nanos(100));
        for &(at, seq) in arrivals {
            d.heartbeat(&hb(at, seq));
        }
        d
    }

    #[test]
    fn a_sudden_delay_rise_follows_the_short_window() {
        // Samples 100, 100, 130. Long (n1 = 3): EA = 110 + 300 = 410.
        // Short (n2 = 1): EA = 130 + 300 = 430. Deadline 430 + α.
        let d = fed(3, 1, &[(100, 0), (200, 1), (330, 2)]);
        assert_eq!(d.expected(), Some(Estimate::ratio(430, 1, 0)));
        assert_eq!(d.crossing(20.0), Some(Nanos(450)));
        assert_eq!(d.suspicion(Nanos(450)), 20.0);
    }

    #[test]
    fn a_sudden_delay_fall_follows_the_long_window() {
        // Samples 100, 160, 100. Long: 120 + 300 = 420; short: 400.
        let d = fed(3, 1, &[(100, 0), (260, 1), (300, 2)]);
        assert_eq!(d.expected(), Some(Estimate::ratio(420, 1, 0)));
        assert_eq!(d.crossing(20.0), Some(Nanos(440)));
    }

    #[test]
    fn fractional_estimates_are_compared_exactly() {
        // Samples 100, 101, 101. Long (n1 = 3): 302/3 + 300 = 400.67.
        // Short (n2 = 2): 202/2 + 300 = 401. The short one is later.
        let d = fed(3, 2, &[(100, 0), (201, 1), (301, 2)]);
        assert_eq!(d.expected(), Some(Estimate::ratio(401, 1, 0)));
        // Samples 100, 102, 101: long 303/3 = 101 + 300 = 401; short
        // 203/2 + 300 = 401.5.
        let d = fed(3, 2, &[(100, 0), (202, 1), (301, 2)]);
        assert_eq!(d.crossing(0.0), Some(Nanos(402)));
        assert_eq!(d.suspicion(Nanos(402)), 0.5);
    }

    #[test]
    fn with_equal_windows_it_is_nfd_e() {
        use crate::detector::chen::Chen;
        let arrivals = [(105, 0), (212, 1), (303, 2), (460, 4), (470, 3)];
        let mut two = TwoWindow::new(3, 3, Nanos(100));
        let mut chen = Chen::new(3, Nanos(100));
        for (at, seq) in arrivals {
            two.heartbeat(&hb(at, seq));
            chen.heartbeat(&hb(at, seq));
            assert_eq!(two.expected(), chen.expected());
        }
    }

    #[test]
    fn a_new_incarnation_empties_both_windows() {
        let mut d = fed(3, 1, &[(100, 0), (200, 1), (330, 2)]);
        d.heartbeat(&Arrival {
            at: Nanos(1_000),
            seq: 0,
            sent: Nanos(990),
            incarnation: 1,
        });
        assert_eq!(d.crossing(0.0), Some(Nanos(1_100)));
    }
}
