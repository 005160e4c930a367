//! Failure detectors: the [`Detector`] trait and one file per algorithm.
//!
//! A detector is pure. It is told of heartbeat arrivals, in arrival order,
//! and answers two questions about the silence that follows the last one:
//! how suspicious it is at a time `t` ([`Detector::suspicion`]), and the
//! earliest time at which its suspicion would reach a level `x` if nothing
//! more arrives ([`Detector::crossing`]). The second question lets the
//! scorer find every suspect/trust transition exactly, without polling, and
//! for every threshold value at once.
//!
//! Suspicion is expressed in the units of the detector's swept parameter,
//! so that "suspect when suspicion ≥ x" *is* "suspect with parameter x":
//! the fixed-timeout detector's suspicion is the silence in nanoseconds
//! and its threshold is the timeout in nanoseconds.
//!
//! All times a detector sees are on the monitor's local clock.

pub mod bertier;
pub mod chen;
pub mod chen_nfds;
pub mod describe;
pub mod fixed;
pub mod phi;
pub mod phi_akka;
pub mod phi_exp;
pub mod presets;
pub mod registry;
pub mod satzger;
pub mod two_window;

pub use registry::{kinds, DetectorKind, Env, ParamSpec, ParamUnit, Params};

use crate::sim::time::Nanos;

/// One heartbeat as a monitor sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// When it arrived, on the monitor's clock.
    pub at: Nanos,
    /// Sequence number, from 0 within each incarnation of the sender.
    pub seq: u64,
    /// When it was sent, on the sender's clock.
    pub sent: Nanos,
    /// The sender's incarnation (0 at start, +1 after each restart).
    pub incarnation: u32,
}

/// A heartbeat failure detector.
///
/// Contract, checked by property tests for every detector:
/// - between arrivals, `suspicion` never decreases as `t` grows;
/// - if `crossing(x) == Some(c)` then `suspicion(c) >= x` and
///   `suspicion(c - 1ns) < x` (unless `c` is at or before the last arrival);
/// - before the first arrival suspicion is `f64::INFINITY`: a monitor
///   trusts a target only once it has heard from it.
pub trait Detector: Send {
    /// Records a heartbeat arrival. Arrivals come in order of `at`.
    fn heartbeat(&mut self, arrival: &Arrival);

    /// The suspicion level at local time `now`, given no arrival after the
    /// last one recorded.
    fn suspicion(&self, now: Nanos) -> f64;

    /// The earliest local time at which `suspicion` reaches `level` if
    /// nothing more arrives, or `None` if it never does.
    fn crossing(&self, level: f64) -> Option<Nanos>;

    /// Exactly `self.suspicion(now) < level`. The scorer asks it before
    /// every arrival and at it, nearly always about a level far from the
    /// suspicion; a detector whose suspicion is costly may answer such a
    /// question from a cheaper quantity first, provided the answer is the
    /// same (property-tested for the detectors that do).
    #[inline]
    fn below(&self, now: Nanos, level: f64) -> bool {
        self.suspicion(now) < level
    }

    /// Threshold-dependent detectors only (see
    /// [`DetectorKind::threshold_dependent`]): records an arrival, told
    /// whether the detector was suspecting at its threshold just before it
    /// (`suspicion(arrival.at) >= threshold`). This flag must be the only
    /// way the threshold shapes the state; it lets the scorer share one
    /// instance among many thresholds. The default ignores it.
    fn heartbeat_judged(&mut self, arrival: &Arrival, was_suspecting: bool) {
        let _ = was_suspecting;
        self.heartbeat(arrival);
    }

    /// A copy of this detector, for threshold-dependent detectors whose
    /// instances the scorer splits when thresholds disagree. `None` (the
    /// default) makes the scorer run one instance per threshold instead.
    fn boxed_clone(&self) -> Option<Box<dyn Detector>> {
        None
    }

    /// True when `other` is a detector of the same type in exactly the same
    /// state, so split instances can be joined again. Defaults to false.
    fn same_state(&self, other: &dyn Detector) -> bool {
        let _ = other;
        false
    }

    /// This detector as `Any`, for [`Detector::same_state`] to downcast
    /// (and for the scorer to recognise the built-in detectors, which it
    /// compiles a loop for each).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}
