//! The fault timeline: when each node crashes and restarts.
//!
//! Faults are resolved to concrete times before the run starts (drawing
//! from each fault's own random stream), so the scorer knows the ground
//! truth without asking the engine.

use crate::sim::agent::NodeId;
use crate::sim::rng::Stream;
use crate::sim::time::Nanos;

/// A fault as a scenario declares it.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultSpec {
    /// One crash at `at`; the node restarts `restart_after` later as a new
    /// incarnation, or never if `None`.
    Crash {
        node: NodeId,
        at: Nanos,
        restart_after: Option<Nanos>,
    },
    /// Repeated crashes: crash k happens at `first + k·every + U[0, jitter)`
    /// and lasts `down`, for as long as crashes start before the run ends.
    CrashLoop {
        node: NodeId,
        first: Nanos,
        every: Nanos,
        down: Nanos,
        jitter: Nanos,
    },
}

impl FaultSpec {
    pub fn node(&self) -> NodeId {
        match self {
            FaultSpec::Crash { node, .. } | FaultSpec::CrashLoop { node, .. } => *node,
        }
    }
}

/// One period during which a node is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outage {
    pub node: NodeId,
    pub crash: Nanos,
    /// When the node comes back as a new incarnation; `None` = never.
    pub restart: Option<Nanos>,
}

/// Resolves fault specs to outages before `end`, sorted by node then time.
/// Fault `i` draws from the stream labelled `fault:<i>:<node name>`.
pub fn outages(specs: &[FaultSpec], seed: u64, end: Nanos, names: &[String]) -> Vec<Outage> {
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let label = format!("fault:{i}:{}", names[spec.node() as usize]);
        let mut rng = Stream::new(seed, &label);
        match *spec {
            FaultSpec::Crash {
                node,
                at,
                restart_after,
            } => {
                if at < end {
                    out.push(Outage {
                        node,
                        crash: at,
                        restart: restart_after.map(|d| at + d),
                    });
                }
            }
            FaultSpec::CrashLoop {
                node,
                first,
                every,
                down,
                jitter,
            } => {
                let mut k = 0u64;
                loop {
                    let base = first + Nanos(every.0.saturating_mul(k));
                    let offset = if jitter.0 > 0 {
                        Nanos(rng.below(jitter.0))
                    } else {
                        Nanos(0)
                    };
                    let crash = base + offset;
                    if crash >= end || every.0 == 0 {
                        break;
                    }
                    out.push(Outage {
                        node,
                        crash,
                        restart: Some(crash + down),
                    });
                    k += 1;
                }
            }
        }
    }
    out.sort();
    out
}

/// The first pair of outages of one node that overlap, if any: a node
/// cannot crash while it is already down.
pub fn first_overlap(outages: &[Outage]) -> Option<(Outage, Outage)> {
    outages.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        let overlaps = a.node == b.node && a.restart.is_none_or(|r| r > b.crash);
        overlaps.then_some((a, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_loop_repeats_until_the_end_with_jitter_inside_each_slot() {
        let names = vec!["t".to_string()];
        let spec = FaultSpec::CrashLoop {
            node: 0,
            first: Nanos::from_secs(60),
            every: Nanos::from_secs(600),
            down: Nanos::from_secs(30),
            jitter: Nanos::from_secs(10),
        };
        let got = outages(&[spec], 1, Nanos::from_secs(3600), &names);
        assert_eq!(got.len(), 6);
        for (k, o) in got.iter().enumerate() {
            let base = Nanos::from_secs(60 + 600 * k as u64);
            assert!(o.crash >= base && o.crash < base + Nanos::from_secs(10));
            assert_eq!(o.restart, Some(o.crash + Nanos::from_secs(30)));
        }
        assert!(first_overlap(&got).is_none());
    }

    #[test]
    fn overlapping_crashes_of_one_node_are_found() {
        let o = [
            Outage {
                node: 0,
                crash: Nanos(10),
                restart: None,
            },
            Outage {
                node: 0,
                crash: Nanos(20),
                restart: Some(Nanos(30)),
            },
        ];
        assert!(first_overlap(&o).is_some());
    }
}
