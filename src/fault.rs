//! The fault timeline: when each node crashes and restarts.
//!
//! Faults are resolved to concrete times before the run starts (drawing
//! from each fault's own random stream), so the scorer knows the ground
//! truth without asking the engine.

use crate::net::Latency;
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
    /// One stop-the-world pause at `at`, its length drawn from `length`.
    Pause {
        node: NodeId,
        at: Nanos,
        length: Latency,
    },
    /// Recurring pauses: after `first`, gaps between the end of one pause
    /// and the start of the next are exponential with mean `every`;
    /// lengths are drawn from `length`.
    Pauses {
        node: NodeId,
        first: Nanos,
        every: Nanos,
        length: Latency,
    },
    /// A gray failure: on `[start, end)` the node's timers run `factor`
    /// times slower (its heartbeats go out that much less often).
    Slow {
        node: NodeId,
        start: Nanos,
        end: Nanos,
        factor: f64,
    },
    /// Crash-recover churn: from `first` the node alternates an up time
    /// drawn from `mttf` and a down time drawn from `mttr`, each restart a
    /// new incarnation, for as long as crashes fall before the run ends.
    Churn {
        node: NodeId,
        first: Nanos,
        mttf: Latency,
        mttr: Latency,
    },
}

impl FaultSpec {
    pub fn node(&self) -> NodeId {
        match self {
            FaultSpec::Crash { node, .. }
            | FaultSpec::CrashLoop { node, .. }
            | FaultSpec::Pause { node, .. }
            | FaultSpec::Pauses { node, .. }
            | FaultSpec::Slow { node, .. }
            | FaultSpec::Churn { node, .. } => *node,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            FaultSpec::Crash { .. } => "crash",
            FaultSpec::CrashLoop { .. } => "crash-loop",
            FaultSpec::Pause { .. } => "pause",
            FaultSpec::Pauses { .. } => "pauses",
            FaultSpec::Slow { .. } => "slow",
            FaultSpec::Churn { .. } => "churn",
        }
    }
}

/// The random stream of each fault: labelled by kind, node name and the
/// fault's ordinal among faults of that kind on that node, so adding a
/// fault of another kind or on another node leaves its draws alone.
fn streams(specs: &[FaultSpec], seed: u64, names: &[String]) -> Vec<Stream> {
    let mut seen: Vec<(&str, NodeId)> = Vec::new();
    specs
        .iter()
        .map(|f| {
            let key = (f.kind(), f.node());
            let k = seen.iter().filter(|s| **s == key).count();
            seen.push(key);
            let label = format!("fault:{}:{}:{k}", f.kind(), names[f.node() as usize]);
            Stream::new(seed, &label)
        })
        .collect()
}

/// One stop-the-world pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PauseWindow {
    pub node: NodeId,
    pub start: Nanos,
    pub length: Nanos,
}

/// Resolves the pause faults to pauses starting before `end`, sorted by
/// node then time.
pub fn pauses(specs: &[FaultSpec], seed: u64, end: Nanos, names: &[String]) -> Vec<PauseWindow> {
    let mut out = Vec::new();
    for (spec, mut rng) in specs.iter().zip(streams(specs, seed, names)) {
        match spec {
            FaultSpec::Pause { node, at, length } if *at < end => {
                out.push(PauseWindow {
                    node: *node,
                    start: *at,
                    length: length.sample(&mut rng),
                });
            }
            FaultSpec::Pauses {
                node,
                first,
                every,
                length,
            } => {
                let mut t = *first;
                loop {
                    t += Nanos(rng.exponential(every.0 as f64).round() as u64);
                    if t >= end {
                        break;
                    }
                    let len = length.sample(&mut rng);
                    out.push(PauseWindow {
                        node: *node,
                        start: t,
                        length: len,
                    });
                    t += len;
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

/// The slow windows `(node, start, end, factor)` of the slow faults.
pub fn slow_windows(specs: &[FaultSpec]) -> Vec<(NodeId, Nanos, Nanos, f64)> {
    specs
        .iter()
        .filter_map(|f| match *f {
            FaultSpec::Slow {
                node,
                start,
                end,
                factor,
            } => Some((node, start, end, factor)),
            _ => None,
        })
        .collect()
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
pub fn outages(specs: &[FaultSpec], seed: u64, end: Nanos, names: &[String]) -> Vec<Outage> {
    let mut out = Vec::new();
    for (spec, mut rng) in specs.iter().zip(streams(specs, seed, names)) {
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
            FaultSpec::Churn {
                node,
                first,
                ref mttf,
                ref mttr,
            } => churn(&mut out, node, first, (mttf, mttr), &mut rng, end),
            FaultSpec::Pause { .. } | FaultSpec::Pauses { .. } | FaultSpec::Slow { .. } => {}
        }
    }
    out.sort();
    out
}

/// The outages of one churn fault: starting up at `first`, draw an up
/// time from `mttf`, crash, draw a down time from `mttr`, restart, and so
/// on while crashes fall before `end`. Draws alternate up, down, up, ...
/// on the fault's stream; each is at least 1 ns, so a crash and the
/// restart around it never share an instant. A down time reaching past
/// `end` is still drawn (the node stays down to the end).
fn churn(
    out: &mut Vec<Outage>,
    node: NodeId,
    first: Nanos,
    (mttf, mttr): (&Latency, &Latency),
    rng: &mut Stream,
    end: Nanos,
) {
    let draw = |d: &Latency, rng: &mut Stream| Nanos(d.sample(rng).0.max(1));
    let mut t = first;
    loop {
        let crash = t.saturating_add(draw(mttf, rng));
        if crash >= end {
            break;
        }
        let restart = crash.saturating_add(draw(mttr, rng));
        out.push(Outage {
            node,
            crash,
            restart: Some(restart),
        });
        t = restart;
    }
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
