//! Bertier's adaptive detector: Chen's estimated arrival plus a safety
//! margin that follows the estimation error, as Jacobson's TCP
//! retransmission timeout follows the round-trip time.
//!
//! Source: M. Bertier, O. Marin, P. Sens, "Implementation and performance
//! evaluation of an adaptable failure detector", DSN 2002.
//!
//! EA_k is Chen's NFD-E estimate of the arrival of heartbeat k (see
//! [`chen`](super::chen)): the window mean of A_i − η·s_i plus s_k·η. When
//! heartbeat k arrives at A_k, with EA_k computed from the window *before*
//! it is added:
//!
//! ```text
//! error_k     = A_k − EA_k − delay_k
//! delay_{k+1} = delay_k + γ·error_k
//! var_{k+1}   = var_k + γ·(|error_k| − var_k)
//! α_{k+1}     = β·delay_{k+1} + φ·var_{k+1}
//! τ_{l+1}     = EA_{l+1} + α_{k+1}
//! ```
//!
//! and the monitor suspects at t iff t ≥ τ_{l+1}. The swept parameter is
//! φ, so suspicion is in units of var:
//!
//! ```text
//! suspicion(t) = (t − EA_{l+1} − β·delay) / var      (dimensionless)
//! ```
//!
//! suspect iff suspicion(t) ≥ φ ⇔ t ≥ EA_{l+1} + β·delay + φ·var.
//!
//! **var = 0** (after the first heartbeat, or while every error is exactly
//! zero, as on a constant-delay link) makes τ = EA + β·delay for every φ;
//! suspicion is then −∞ before that instant and +∞ from it on, which is
//! that same detector for every threshold and keeps suspicion monotone.
//!
//! Choices fdsim makes where the paper is silent:
//!
//! - **Start.** delay_0 = var_0 = 0, and the first heartbeat (of each
//!   incarnation) updates neither, since there is no estimate EA for it.
//! - **Late heartbeats** (sequence number not above the highest seen)
//!   enter the window and the error update, with EA_k estimated for their
//!   own sequence number: their lateness is real jitter. They do not move
//!   l (freshness follows the highest sequence number, as in NFD-E).
//! - **Incarnations.** A higher incarnation empties the window and restarts
//!   l (sequence numbers restart at 0 with a new phase), but keeps delay
//!   and var: they describe the network, not the sender. Heartbeats of an
//!   older incarnation are ignored.
//! - **Numerics.** The window sum is exact (see `chen`); delay and var are
//!   `f64` nanoseconds, updated as written above (no rounding to whole
//!   nanoseconds, unlike the Java port in ZooKeeper's `common.fd`).
//!
//! Defaults, from Bertier et al.: γ = 0.1, β = 1, φ = 4 (Jacobson's
//! constants); window n = 1000 as in their implementation.

use super::chen::{first_reaching, Estimate, Freshness, Heard, Window, WINDOW};
use super::registry::{DetectorKind, ParamSpec, ParamUnit};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;

/// Registration of `kind = "bertier"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "bertier",
    summary: "Chen's estimated arrival plus a Jacobson-style margin β·delay + `phi`·var",
    source: "Bertier, Marin, Sens, \"Implementation and performance evaluation of an adaptable failure detector\", DSN 2002",
    swept: ParamSpec {
        name: "phi",
        unit: ParamUnit::Number,
        default: Some(4.0),
        min: 0.0,
        min_inclusive: true,
        max: 1e6,
        doc: "weight φ of the error magnitude var in the safety margin (default 4, Bertier et al., after Jacobson)",
    },
    params: &[
        WINDOW,
        ParamSpec {
            name: "gamma",
            unit: ParamUnit::Number,
            default: Some(0.1),
            min: 0.0,
            min_inclusive: false,
            max: 1.0,
            doc: "gain γ of the delay and var filters (default 0.1, Bertier et al.)",
        },
        ParamSpec {
            name: "beta",
            unit: ParamUnit::Number,
            default: Some(1.0),
            min: 0.0,
            min_inclusive: true,
            max: 1e6,
            doc: "weight β of the estimated extra delay in the safety margin (default 1, Bertier et al.)",
        },
    ],
    threshold_dependent: false,
    build: |p, _, env| {
        Box::new(Bertier::new(
            p.get("window") as usize,
            p.get("gamma"),
            p.get("beta"),
            env.interval,
        ))
    },
};

/// Bertier et al.'s detector.
#[derive(Clone, Debug)]
pub struct Bertier {
    eta: Nanos,
    gamma: f64,
    beta: f64,
    fresh: Freshness,
    window: Window,
    /// delay_k, nanoseconds.
    delay: f64,
    /// var_k, nanoseconds.
    var: f64,
    /// EA_{l+1}, once anything has been heard.
    next: Option<Estimate>,
}

impl Bertier {
    pub fn new(window: usize, gamma: f64, beta: f64, interval: Nanos) -> Self {
        Bertier {
            eta: interval,
            gamma,
            beta,
            fresh: Freshness::default(),
            window: Window::new(window),
            delay: 0.0,
            var: 0.0,
            next: None,
        }
    }

    /// The current (delay, var), nanoseconds.
    pub fn margin_terms(&self) -> (f64, f64) {
        (self.delay, self.var)
    }

    fn learn(&mut self, arrival: &Arrival) {
        let Some(ea) = self.window.estimate(arrival.seq, self.eta) else {
            return;
        };
        let error = ea.since(arrival.at) - self.delay;
        self.delay += self.gamma * error;
        self.var += self.gamma * (error.abs() - self.var);
    }

    /// (t − EA − β·delay) / var, with the var = 0 convention.
    fn level(ea: Estimate, offset: f64, var: f64, t: Nanos) -> f64 {
        let excess = ea.since(t) - offset;
        if var > 0.0 {
            excess / var
        } else if excess >= 0.0 {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        }
    }
}

impl Detector for Bertier {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        match self.fresh.hear(arrival) {
            Heard::Stale => return,
            Heard::Restart => self.window.clear(),
            Heard::Newer | Heard::Late => self.learn(arrival),
        }
        self.window.push(arrival, self.eta);
        self.next = self.window.estimate(self.fresh.next_seq(), self.eta);
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        match self.next {
            Some(ea) => Self::level(ea, self.beta * self.delay, self.var, now),
            None => f64::INFINITY,
        }
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(ea) = self.next else {
            return Some(Nanos::ZERO);
        };
        let (offset, var) = (self.beta * self.delay, self.var);
        let guess = ea.as_f64() + offset + if var > 0.0 { level * var } else { 0.0 };
        first_reaching(self.fresh.last_at, level, guess, |t| {
            Self::level(ea, offset, var, t)
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

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn follows_the_jacobson_filters_step_by_step() {
        // η = 100, γ = 0.1, β = 1.
        let mut d = Bertier::new(1000, 0.1, 1.0, Nanos(100));
        d.heartbeat(&hb(100, 0));
        // No estimate for the first heartbeat: delay = var = 0, EA_1 = 200.
        assert_eq!(d.margin_terms(), (0.0, 0.0));
        // EA_1 = 200: error = 210 − 200 − 0 = 10; delay = 1; var = 1.
        d.heartbeat(&hb(210, 1));
        let (delay, var) = d.margin_terms();
        assert!(close(delay, 1.0) && close(var, 1.0));
        // Window {100, 110}: EA_2 = 305. suspicion = (t − 305 − 1)/1.
        assert!(close(d.suspicion(Nanos(310)), 4.0));
        assert_eq!(d.crossing(4.0), Some(Nanos(310)));
        // EA_2 = 305: error = 300 − 305 − 1 = −6; delay = 1 − 0.6 = 0.4;
        // var = 1 + 0.1·(6 − 1) = 1.5.
        d.heartbeat(&hb(300, 2));
        let (delay, var) = d.margin_terms();
        assert!(close(delay, 0.4) && close(var, 1.5));
        // Window {100, 110, 100}: EA_3 = 403.33; τ(φ = 4) = 403.33 + 0.4
        // + 6 = 409.73.
        assert!(close(
            d.suspicion(Nanos(410)),
            (410.0 - 1210.0 / 3.0 - 0.4) / 1.5
        ));
        assert_eq!(d.crossing(4.0), Some(Nanos(410)));
        assert!(d.suspicion(Nanos(409)) < 4.0);
    }

    #[test]
    fn zero_var_suspects_at_the_estimate_for_every_phi() {
        // Constant delay: every error is 0, so delay = var = 0.
        let mut d = Bertier::new(1000, 0.1, 1.0, Nanos(100));
        for s in 0..3 {
            d.heartbeat(&hb(100 + s * 100, s));
        }
        assert_eq!(d.margin_terms(), (0.0, 0.0));
        assert_eq!(d.suspicion(Nanos(399)), f64::NEG_INFINITY);
        assert_eq!(d.suspicion(Nanos(400)), f64::INFINITY);
        assert_eq!(d.crossing(0.0), Some(Nanos(400)));
        assert_eq!(d.crossing(1e6), Some(Nanos(400)));
    }

    #[test]
    fn a_late_heartbeat_feeds_the_filters_with_its_own_estimate() {
        let mut d = Bertier::new(1000, 0.1, 1.0, Nanos(100));
        d.heartbeat(&hb(100, 0));
        d.heartbeat(&hb(300, 2));
        // EA_2 = 100 + 200 = 300: error 0.
        assert_eq!(d.margin_terms(), (0.0, 0.0));
        // Seq 1 at 320: EA_1 = mean{100, 100} + 100 = 200, error = 120.
        d.heartbeat(&hb(320, 1));
        let (delay, var) = d.margin_terms();
        assert!(close(delay, 12.0) && close(var, 12.0));
        // l is still 2: EA_3 = mean{100, 100, 220} + 300 = 440.
        // τ(φ = 1) = 440 + 12 + 12 = 464.
        assert_eq!(d.crossing(1.0), Some(Nanos(464)));
    }

    #[test]
    fn a_new_incarnation_keeps_the_network_estimates() {
        let mut d = Bertier::new(1000, 0.1, 1.0, Nanos(100));
        d.heartbeat(&hb(100, 0));
        d.heartbeat(&hb(210, 1));
        d.heartbeat(&Arrival {
            at: Nanos(5_000),
            seq: 0,
            sent: Nanos(4_990),
            incarnation: 1,
        });
        // Window restarted: EA_1 = 5100; delay = var = 1 kept.
        assert_eq!(d.margin_terms().1, 1.0);
        assert_eq!(d.crossing(4.0), Some(Nanos(5_105)));
    }
}
