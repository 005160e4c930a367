//! Fixed timeout: suspect once the silence since the last arrival reaches
//! the timeout.
//!
//! suspicion(t) = t − A_last (nanoseconds), suspect iff suspicion(t) ≥ T.
//!
//! This is the deadline detector of Akka (`DeadlineFailureDetector`, with
//! T = acceptable pause + heartbeat interval) and the model of the session
//! and election timeouts of ZooKeeper, etcd, Kafka, Redis Cluster and
//! Kubernetes. The swept parameter is the timeout T.

use super::registry::{DetectorKind, ParamSpec, ParamUnit};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;

/// Registration of `kind = "fixed"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "fixed",
    summary: "suspect once the silence since the last heartbeat reaches `timeout`",
    source: "baseline deadline detector (Akka DeadlineFailureDetector; ZooKeeper, etcd, Kafka, Redis, Kubernetes timeouts)",
    swept: ParamSpec {
        name: "timeout",
        unit: ParamUnit::Duration,
        default: None,
        min: 0.0,
        min_inclusive: false,
        max: f64::MAX,
        doc: "silence after which the target is suspected",
    },
    params: &[],
    threshold_dependent: false,
    build: |_, _, _| Box::new(Fixed::new()),
};

/// The fixed-timeout detector. Its state is the last arrival time.
#[derive(Clone, Debug, Default)]
pub struct Fixed {
    last: Option<Nanos>,
}

impl Fixed {
    pub fn new() -> Self {
        Fixed::default()
    }
}

impl Detector for Fixed {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        self.last = Some(arrival.at);
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        match self.last {
            Some(last) => now.saturating_sub(last).0 as f64,
            None => f64::INFINITY,
        }
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(last) = self.last else {
            return Some(Nanos::ZERO); // suspicion is already infinite
        };
        if level <= 0.0 {
            return Some(last);
        }
        if level >= u64::MAX as f64 {
            return None;
        }
        // Smallest whole number of nanoseconds n with n as f64 >= level.
        Some(last + Nanos(crate::math::ceil_u64(level)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(at: u64) -> Arrival {
        Arrival {
            at: Nanos(at),
            seq: 0,
            sent: Nanos(at),
            incarnation: 0,
        }
    }

    #[test]
    fn suspects_exactly_at_the_timeout() {
        let mut d = Fixed::new();
        assert_eq!(d.suspicion(Nanos(5)), f64::INFINITY);
        d.heartbeat(&arrival(1_000));
        assert_eq!(d.crossing(500.0), Some(Nanos(1_500)));
        assert!(d.suspicion(Nanos(1_499)) < 500.0);
        assert!(d.suspicion(Nanos(1_500)) >= 500.0);
    }

    #[test]
    fn a_fractional_level_rounds_up_to_the_next_nanosecond() {
        let mut d = Fixed::new();
        d.heartbeat(&arrival(0));
        assert_eq!(d.crossing(10.2), Some(Nanos(11)));
    }
}
