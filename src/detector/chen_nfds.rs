//! Chen's NFD-S: with synchronized clocks, each heartbeat is fresh until a
//! fixed shift δ after the nominal send time of the next one.
//!
//! Source: W. Chen, S. Toueg, M. K. Aguilera, "On the Quality of Service of
//! Failure Detectors", IEEE Transactions on Computers 51(5), May 2002, the
//! algorithm NFD-S. Its QoS has a closed form (see
//! `tests/nfds_closed_form.rs`).
//!
//! The target sends m_i at σ_i = σ_0 + i·η on its clock; the monitor uses
//! the freshness points τ_i = σ_i + δ and, at t ∈ [τ_i, τ_{i+1}), trusts
//! iff it has received some m_j with j ≥ i. With l the highest sequence
//! number received, that is: trust iff t < τ_{l+1} = σ_l + η + δ. So
//!
//! ```text
//! suspicion(t) = t − (σ_l + η)     (nanoseconds)
//! ```
//!
//! and the swept threshold is δ. σ_l is the send time carried by m_l
//! ([`Arrival::sent`], the sender's clock) and η the scenario's heartbeat
//! interval ([`Env::interval`](super::Env)); the algorithm assumes the
//! two clocks are synchronized, and with drifting clocks the error shows up
//! one for one in suspicion.
//!
//! Choices fdsim makes:
//!
//! - **Late heartbeats.** As in the paper, only the highest sequence number
//!   matters: a heartbeat with a sequence number not above l changes
//!   nothing.
//! - **Incarnations.** A heartbeat of a higher incarnation restarts the
//!   sequence: l and σ_l become its own, whatever l was. Heartbeats of an
//!   older incarnation than the newest heard are ignored.
//! - **Numerics.** σ_l + η is an exact integer; suspicion is the integer
//!   difference rounded once to `f64` (exact below 2^53 ns, 104 days).
//!
//! δ has no default: it is the axis of the trade-off curve, and the paper
//! gives none (T_D ≤ δ + η).

use super::chen::{first_reaching, Freshness, Heard};
use super::registry::{DetectorKind, ParamSpec, ParamUnit};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;

/// Registration of `kind = "chen-nfds"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "chen-nfds",
    summary: "NFD-S: trust until `delta` after the nominal send time of the heartbeat after the freshest one (synchronized clocks)",
    source: "Chen, Toueg, Aguilera, \"On the Quality of Service of Failure Detectors\", IEEE ToC 51(5), May 2002 (NFD-S)",
    swept: ParamSpec {
        name: "delta",
        unit: ParamUnit::Duration,
        default: None,
        min: 0.0,
        min_inclusive: true,
        max: f64::MAX,
        doc: "shift δ of the freshness points τ_i = σ_i + δ after the send times",
    },
    params: &[],
    threshold_dependent: false,
    build: |_, _, env| Box::new(ChenNfds::new(env.interval)),
};

/// Chen's NFD-S.
#[derive(Clone, Debug)]
pub struct ChenNfds {
    eta: Nanos,
    fresh: Freshness,
    /// σ_l + η, once anything has been heard.
    due: Option<Nanos>,
}

impl ChenNfds {
    /// NFD-S for a sender that beats every `interval`.
    pub fn new(interval: Nanos) -> Self {
        ChenNfds {
            eta: interval,
            fresh: Freshness::default(),
            due: None,
        }
    }

    fn crossing_by_search(&self, due: Nanos, level: f64) -> Option<Nanos> {
        first_reaching(self.fresh.last_at, level, due.0 as f64 + level, |t| {
            Self::since_due(due, t)
        })
    }

    /// `t − due` in nanoseconds, exactly rounded to `f64`. Rounding to
    /// nearest is symmetric in sign, so the magnitude is converted as a
    /// `u64` (a few instructions) and negated: the same value a 128-bit
    /// difference would give, without the software 128-bit conversion
    /// (which the compiler ran on every call even behind a 64-bit test).
    fn since_due(due: Nanos, t: Nanos) -> f64 {
        if t >= due {
            (t.0 - due.0) as f64
        } else {
            -((due.0 - t.0) as f64)
        }
    }
}

impl Detector for ChenNfds {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        match self.fresh.hear(arrival) {
            Heard::Restart | Heard::Newer => self.due = Some(arrival.sent + self.eta),
            Heard::Late | Heard::Stale => {}
        }
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        self.due
            .map_or(f64::INFINITY, |due| Self::since_due(due, now))
    }

    /// In closed form: `t − due` converts to `f64` exactly below 2^53,
    /// so it reaches a level |x| < 2^52 first at `t = due + ⌈x⌉` (or at
    /// the last arrival, if that is later: the suspicion only grows). A
    /// search is left for other levels (and checks the closed form in
    /// tests).
    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(due) = self.due else {
            return Some(Nanos::ZERO);
        };
        const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52
        if level.abs() < EXACT {
            let up = if level >= 0.0 {
                crate::math::ceil_u64(level) as i128
            } else {
                -((-level) as u64 as i128) // ⌈x⌉ = −⌊−x⌋
            };
            let t = (i128::from(due.0) + up).max(i128::from(self.fresh.last_at.0));
            if let Ok(t) = u64::try_from(t) {
                return Some(Nanos(t));
            }
        }
        self.crossing_by_search(due, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(at: u64, seq: u64, sent: u64, incarnation: u32) -> Arrival {
        Arrival {
            at: Nanos(at),
            seq,
            sent: Nanos(sent),
            incarnation,
        }
    }

    /// The difference rounds exactly as the 128-bit one, either sign,
    /// near and far (beyond 2^53 the `f64` steps are coarse).
    /// The closed-form crossing is the one the search finds, for levels
    /// of either sign, fractional or whole, near and far, and arrivals
    /// before and after `due`.
    #[test]
    fn closed_form_crossing_matches_the_search() {
        let mut s = crate::sim::Stream::new(7, "nfds-crossing");
        let mut next = || s.next_u64();
        for i in 0..20_000 {
            let mut d = ChenNfds::new(Nanos(100_000_000));
            let at = next() >> (i % 40 + 1);
            let sent = at.saturating_sub(next() % 1_000_000_000);
            d.heartbeat(&hb(at, 1, sent, 0));
            let due = d.due.unwrap();
            let level = match i % 5 {
                0 => (next() % 2_000_000_000) as f64 / 7.0,
                1 => -((next() % 2_000_000_000) as f64) / 3.0,
                2 => (next() % 1_000) as f64,
                3 => f64::from_bits(next()) % 1e17,
                _ => 0.5 - (next() % 3) as f64,
            };
            assert_eq!(
                d.crossing(level),
                d.crossing_by_search(due, level),
                "at {at}, due {due:?}, level {level}"
            );
        }
    }

    #[test]
    fn since_due_rounds_as_the_exact_difference() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut values = vec![
            0,
            1,
            u64::MAX,
            u64::MAX - 1,
            1 << 53,
            (1 << 53) + 1,
            1 << 63,
        ];
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 64));
        }
        for &a in &values {
            for &b in &values[..40] {
                let exact = (a as i128 - b as i128) as f64;
                let got = ChenNfds::since_due(Nanos(b), Nanos(a));
                assert_eq!(got.to_bits(), exact.to_bits(), "{a} - {b}");
            }
        }
    }

    #[test]
    fn trusts_until_delta_after_the_next_send_time() {
        // η = 100, m_0 sent at 0 arrives at 30: τ_1 = 0 + 100 + δ.
        let mut d = ChenNfds::new(Nanos(100));
        assert_eq!(d.suspicion(Nanos(0)), f64::INFINITY);
        assert_eq!(d.crossing(50.0), Some(Nanos::ZERO));
        d.heartbeat(&hb(30, 0, 0, 0));
        assert_eq!(d.suspicion(Nanos(30)), -70.0);
        assert_eq!(d.crossing(50.0), Some(Nanos(150)));
        assert_eq!(d.crossing(49.5), Some(Nanos(150)));
        assert_eq!(d.crossing(0.0), Some(Nanos(100)));
    }

    #[test]
    fn the_delay_of_the_freshest_heartbeat_does_not_matter() {
        // NFD-S depends on send times only: m_2 sent at 200 (m_1 lost),
        // arriving at 240 or at 290, is fresh until 300 + δ.
        for at in [240, 290] {
            let mut d = ChenNfds::new(Nanos(100));
            d.heartbeat(&hb(30, 0, 0, 0));
            d.heartbeat(&hb(at, 2, 200, 0));
            assert_eq!(d.crossing(50.0), Some(Nanos(350)));
        }
    }

    #[test]
    fn a_late_heartbeat_changes_nothing() {
        let mut d = ChenNfds::new(Nanos(100));
        d.heartbeat(&hb(240, 2, 200, 0));
        d.heartbeat(&hb(260, 1, 100, 0));
        assert_eq!(d.crossing(50.0), Some(Nanos(350)));
        // A crossing already passed at the last arrival is reported there.
        assert_eq!(d.crossing(-100.0), Some(Nanos(260)));
    }

    #[test]
    fn a_new_incarnation_restarts_the_sequence() {
        let mut d = ChenNfds::new(Nanos(100));
        d.heartbeat(&hb(540, 5, 500, 0));
        // Restarted at 1000: seq 0 is fresher than the old seq 5.
        d.heartbeat(&hb(1_010, 0, 1_000, 1));
        assert_eq!(d.crossing(50.0), Some(Nanos(1_150)));
        // A straggler of incarnation 0 is ignored.
        d.heartbeat(&hb(1_020, 6, 600, 0));
        assert_eq!(d.crossing(50.0), Some(Nanos(1_150)));
    }
}
