//! The fault timeline: when each node crashes and restarts, and when a
//! member joins or leaves the cluster of its own accord.
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
    /// A member that is not in the cluster at the start joins at `at`,
    /// through the seed member `via` (any member present at the start,
    /// drawn at each attempt, if `None`). Membership protocols only.
    Join {
        node: NodeId,
        at: Nanos,
        via: Option<NodeId>,
    },
    /// A graceful leave: at `at` the member announces that it leaves, runs
    /// on for `linger` so the announcement spreads, then stops; it joins
    /// again (a new process, a new incarnation) `rejoin_after` after `at`,
    /// or never if `None`. Membership protocols only.
    Leave {
        node: NodeId,
        at: Nanos,
        linger: Nanos,
        rejoin_after: Option<Nanos>,
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
            | FaultSpec::Churn { node, .. }
            | FaultSpec::Join { node, .. }
            | FaultSpec::Leave { node, .. } => *node,
        }
    }

    /// The fault's `kind` as a scenario file writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultSpec::Crash { .. } => "crash",
            FaultSpec::CrashLoop { .. } => "crash-loop",
            FaultSpec::Pause { .. } => "pause",
            FaultSpec::Pauses { .. } => "pauses",
            FaultSpec::Slow { .. } => "slow",
            FaultSpec::Churn { .. } => "churn",
            FaultSpec::Join { .. } => "join",
            FaultSpec::Leave { .. } => "leave",
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
            FaultSpec::Pause { .. }
            | FaultSpec::Pauses { .. }
            | FaultSpec::Slow { .. }
            | FaultSpec::Join { .. }
            | FaultSpec::Leave { .. } => {}
        }
    }
    out.sort();
    out
}

/// A stretch of time a member spends out of the cluster by its own
/// choice: before it first joins, or from a graceful leave until it joins
/// again. Not a failure: nobody is to detect it, and holding it Left (or
/// Dead) meanwhile is no mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Absence {
    pub node: NodeId,
    /// When it announced its leave; `None` for a member absent from the
    /// start.
    pub leave: Option<Nanos>,
    /// When its process stops: `leave` + linger, or zero (never started).
    pub stop: Nanos,
    /// When it joins (again); `None` = not before the run ends.
    pub join: Option<Nanos>,
}

/// Resolves the join and leave faults to absences before `end`, sorted by
/// node then time. Nothing here is random.
pub fn absences(specs: &[FaultSpec], end: Nanos) -> Vec<Absence> {
    let mut out = Vec::new();
    for spec in specs {
        match *spec {
            FaultSpec::Join { node, at, .. } => out.push(Absence {
                node,
                leave: None,
                stop: Nanos::ZERO,
                join: Some(at).filter(|&t| t < end),
            }),
            FaultSpec::Leave {
                node,
                at,
                linger,
                rejoin_after,
            } if at < end => out.push(Absence {
                node,
                leave: Some(at),
                stop: at + linger,
                join: rejoin_after.map(|d| at + d).filter(|&t| t < end),
            }),
            _ => {}
        }
    }
    out.sort();
    out
}

/// Per member, the seed member its joins go through, if a join fault
/// names one (`via`); `None` means any member present at the start.
pub fn join_seeds(specs: &[FaultSpec], members: usize) -> Vec<Option<NodeId>> {
    let mut out = vec![None; members];
    for spec in specs {
        if let FaultSpec::Join {
            node, via: Some(v), ..
        } = *spec
        {
            out[node as usize] = Some(v);
        }
    }
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

/// One fault spec's outages or pauses, drawn lazily in time order from
/// the spec's own stream: the same draws, in the same order, as
/// [`outages`] and [`pauses`] make, one at a time.
#[derive(Clone, Debug)]
enum Gen {
    Done,
    Crash(Outage),
    CrashLoop {
        node: NodeId,
        first: Nanos,
        every: Nanos,
        down: Nanos,
        jitter: Nanos,
        k: u64,
        rng: Stream,
    },
    Churn {
        node: NodeId,
        t: Nanos,
        mttf: Latency,
        mttr: Latency,
        rng: Stream,
    },
    Pause {
        node: NodeId,
        at: Nanos,
        length: Latency,
        rng: Stream,
    },
    Pauses {
        node: NodeId,
        t: Nanos,
        every: Nanos,
        length: Latency,
        rng: Stream,
    },
}

/// What a generator yields: an outage (crash and restart) or a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Outage(Outage),
    Pause(PauseWindow),
}

impl Item {
    fn start(self) -> Nanos {
        match self {
            Item::Outage(o) => o.crash,
            Item::Pause(p) => p.start,
        }
    }
}

impl Gen {
    fn new(spec: &FaultSpec, rng: Stream) -> Gen {
        match spec.clone() {
            FaultSpec::Crash {
                node,
                at,
                restart_after,
            } => Gen::Crash(Outage {
                node,
                crash: at,
                restart: restart_after.map(|d| at + d),
            }),
            FaultSpec::CrashLoop {
                node,
                first,
                every,
                down,
                jitter,
            } => Gen::CrashLoop {
                node,
                first,
                every,
                down,
                jitter,
                k: 0,
                rng,
            },
            FaultSpec::Churn {
                node,
                first,
                mttf,
                mttr,
            } => Gen::Churn {
                node,
                t: first,
                mttf,
                mttr,
                rng,
            },
            FaultSpec::Pause { node, at, length } => Gen::Pause {
                node,
                at,
                length,
                rng,
            },
            FaultSpec::Pauses {
                node,
                first,
                every,
                length,
            } => Gen::Pauses {
                node,
                t: first,
                every,
                length,
                rng,
            },
            // Slow members change no timeline; joins and leaves are the
            // membership protocols' own (see `absences`).
            FaultSpec::Slow { .. } | FaultSpec::Join { .. } | FaultSpec::Leave { .. } => Gen::Done,
        }
    }

    /// The next item starting before `end`, or `None` once there is none.
    fn next(&mut self, end: Nanos) -> Option<Item> {
        let item = match self {
            Gen::Done => None,
            Gen::Crash(o) => Some(Item::Outage(*o)).filter(|_| o.crash < end),
            Gen::CrashLoop {
                node,
                first,
                every,
                down,
                jitter,
                k,
                rng,
            } => {
                let base = *first + Nanos(every.0.saturating_mul(*k));
                let offset = if jitter.0 > 0 {
                    Nanos(rng.below(jitter.0))
                } else {
                    Nanos(0)
                };
                let crash = base + offset;
                *k += 1;
                (crash < end && every.0 != 0).then_some(Item::Outage(Outage {
                    node: *node,
                    crash,
                    restart: Some(crash + *down),
                }))
            }
            Gen::Churn {
                node,
                t,
                mttf,
                mttr,
                rng,
            } => {
                let draw = |d: &Latency, rng: &mut Stream| Nanos(d.sample(rng).0.max(1));
                let crash = t.saturating_add(draw(mttf, rng));
                if crash >= end {
                    None
                } else {
                    let restart = crash.saturating_add(draw(mttr, rng));
                    *t = restart;
                    Some(Item::Outage(Outage {
                        node: *node,
                        crash,
                        restart: Some(restart),
                    }))
                }
            }
            Gen::Pause {
                node,
                at,
                length,
                rng,
            } => (*at < end).then(|| {
                Item::Pause(PauseWindow {
                    node: *node,
                    start: *at,
                    length: length.sample(rng),
                })
            }),
            Gen::Pauses {
                node,
                t,
                every,
                length,
                rng,
            } => {
                *t += Nanos(rng.exponential(every.0 as f64).round() as u64);
                if *t >= end {
                    None
                } else {
                    let len = length.sample(rng);
                    let start = *t;
                    *t += len;
                    Some(Item::Pause(PauseWindow {
                        node: *node,
                        start,
                        length: len,
                    }))
                }
            }
        };
        if item.is_none() || matches!(self, Gen::Crash(_) | Gen::Pause { .. }) {
            *self = Gen::Done;
        }
        item
    }
}

/// Generators merged in item order, each drawn from only when its next
/// item could come first: the state is one pending item per fault spec,
/// whatever the horizon.
#[derive(Clone, Debug)]
struct Merge {
    gens: Vec<(Gen, Option<Item>)>,
    end: Nanos,
}

impl Merge {
    fn new(
        specs: &[FaultSpec],
        keep: impl Fn(&FaultSpec) -> bool,
        seed: u64,
        end: Nanos,
        names: &[String],
    ) -> Merge {
        let gens = specs
            .iter()
            .zip(streams(specs, seed, names))
            .filter(|(spec, _)| keep(spec))
            .map(|(spec, rng)| {
                let mut gen = Gen::new(spec, rng);
                let first = gen.next(end);
                (gen, first)
            })
            .collect();
        Merge { gens, end }
    }

    /// The generator whose pending item comes first (in item order).
    fn first(&self) -> Option<usize> {
        (0..self.gens.len())
            .filter(|&i| self.gens[i].1.is_some())
            .min_by_key(|&i| self.gens[i].1)
    }

    /// The generator whose pending item starts first.
    fn earliest(&self) -> Option<usize> {
        (0..self.gens.len())
            .filter(|&i| self.gens[i].1.is_some())
            .min_by_key(|&i| self.gens[i].1.map(Item::start))
    }

    fn take(&mut self, i: usize) -> Option<Item> {
        let end = self.end;
        let (gen, next) = &mut self.gens[i];
        std::mem::replace(next, gen.next(end))
    }
}

/// The outages of the nodes a filter keeps, lazily, in the order
/// [`outages`] sorts them (node, crash, restart), as long as each fault's
/// own outages come in time order (validated scenarios' do: a node's
/// crashes never overlap).
#[derive(Clone, Debug)]
pub struct LazyOutages(Merge);

impl LazyOutages {
    /// The outages of `node` in a run of `seed` ending at `end`.
    pub fn of_node(
        specs: &[FaultSpec],
        node: NodeId,
        seed: u64,
        end: Nanos,
        names: &[String],
    ) -> LazyOutages {
        let keep = |f: &FaultSpec| {
            f.node() == node
                && matches!(
                    f,
                    FaultSpec::Crash { .. } | FaultSpec::CrashLoop { .. } | FaultSpec::Churn { .. }
                )
        };
        LazyOutages(Merge::new(specs, keep, seed, end, names))
    }
}

impl Iterator for LazyOutages {
    type Item = Outage;

    fn next(&mut self) -> Option<Outage> {
        let i = self.0.first()?;
        match self.0.take(i) {
            Some(Item::Outage(o)) => Some(o),
            _ => None,
        }
    }
}

/// What the engine does at a fault event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    Crash,
    Restart,
    /// A stop-the-world pause until this true time.
    Pause {
        until: Nanos,
    },
}

/// One event of the fault timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultEvent {
    pub at: Nanos,
    pub node: NodeId,
    pub action: FaultAction,
}

/// Position of an event among those of one instant, as the eager schedule
/// pushed them: every outage (sorted) crash then restart, then every pause
/// (sorted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ranked {
    at: Nanos,
    item: Item,
    restart: bool,
}

/// Every crash, restart and pause of a run, in the order the engine must
/// apply them, generated one fault period ahead: at most one pending item
/// per fault spec and the restarts of outages already begun, whatever the
/// horizon. At one instant the events come in the order a schedule made
/// up front would have pushed them (outages sorted by node, crash and
/// restart, crash before restart, then pauses sorted by node, start and
/// length); an engine applies them before any other event of the instant.
#[derive(Clone, Debug)]
pub struct FaultTimeline {
    merge: Merge,
    ready: std::collections::BinaryHeap<std::cmp::Reverse<Ranked>>,
}

impl FaultTimeline {
    /// The crashes, restarts and pauses of `specs` in a run of `seed`
    /// ending at `end` (faults starting at or after `end` are not drawn).
    pub fn new(specs: &[FaultSpec], seed: u64, end: Nanos, names: &[String]) -> FaultTimeline {
        let keep = |f: &FaultSpec| !matches!(f, FaultSpec::Slow { .. });
        FaultTimeline {
            merge: Merge::new(specs, keep, seed, end, names),
            ready: std::collections::BinaryHeap::new(),
        }
    }

    /// Moves pending items into `ready` until no generator can produce an
    /// event before (or with) the earliest ready one.
    fn fill(&mut self) {
        while let Some(i) = self.merge.earliest() {
            let start = self.merge.gens[i]
                .1
                .map(Item::start)
                .expect("first has an item");
            if self.ready.peek().is_some_and(|r| r.0.at < start) {
                break;
            }
            let item = self.merge.take(i).expect("first has an item");
            let at = item.start();
            self.ready.push(std::cmp::Reverse(Ranked {
                at,
                item,
                restart: false,
            }));
            if let Item::Outage(Outage {
                restart: Some(r), ..
            }) = item
            {
                self.ready.push(std::cmp::Reverse(Ranked {
                    at: r,
                    item,
                    restart: true,
                }));
            }
        }
    }

    /// The time of the next event, if any.
    pub fn peek_time(&mut self) -> Option<Nanos> {
        self.fill();
        self.ready.peek().map(|r| r.0.at)
    }

    /// Events buffered ahead of the engine (bounded by the fault specs).
    pub fn buffered(&self) -> usize {
        self.ready.len()
    }
}

impl Iterator for FaultTimeline {
    type Item = FaultEvent;

    fn next(&mut self) -> Option<FaultEvent> {
        self.fill();
        let r = self.ready.pop()?.0;
        let (node, action) = match r.item {
            Item::Outage(o) if r.restart => (o.node, FaultAction::Restart),
            Item::Outage(o) => (o.node, FaultAction::Crash),
            Item::Pause(p) => (
                p.node,
                FaultAction::Pause {
                    until: p.start + p.length,
                },
            ),
        };
        Some(FaultEvent {
            at: r.at,
            node,
            action,
        })
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

    /// The events an up-front schedule pushes, in the order the engine
    /// pops them: by time, then push order (outages crash then restart,
    /// then pauses).
    fn eager(specs: &[FaultSpec], seed: u64, end: Nanos, names: &[String]) -> Vec<FaultEvent> {
        let mut pushed = Vec::new();
        for o in outages(specs, seed, end, names) {
            pushed.push(FaultEvent {
                at: o.crash,
                node: o.node,
                action: FaultAction::Crash,
            });
            if let Some(r) = o.restart {
                pushed.push(FaultEvent {
                    at: r,
                    node: o.node,
                    action: FaultAction::Restart,
                });
            }
        }
        for p in pauses(specs, seed, end, names) {
            let until = p.start + p.length;
            pushed.push(FaultEvent {
                at: p.start,
                node: p.node,
                action: FaultAction::Pause { until },
            });
        }
        pushed.sort_by_key(|e| e.at); // stable: push order within an instant
        pushed
    }

    #[test]
    fn the_lazy_timeline_is_the_up_front_schedule_in_pop_order() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let secs = Nanos::from_secs;
        let specs = vec![
            // Ties across nodes and kinds at 60 s and 80 s.
            FaultSpec::Crash {
                node: 1,
                at: secs(60),
                restart_after: Some(secs(20)),
            },
            FaultSpec::Crash {
                node: 0,
                at: secs(80),
                restart_after: None,
            },
            FaultSpec::Pause {
                node: 2,
                at: secs(60),
                length: Latency::Constant { value: secs(1) },
            },
            FaultSpec::Pause {
                node: 0,
                at: secs(60),
                length: Latency::Constant { value: secs(2) },
            },
            FaultSpec::CrashLoop {
                node: 2,
                first: secs(100),
                every: secs(50),
                down: secs(10),
                jitter: secs(30),
            },
            FaultSpec::Churn {
                node: 1,
                first: secs(200),
                mttf: Latency::Uniform {
                    min: secs(1),
                    max: secs(40),
                },
                mttr: Latency::Uniform {
                    min: secs(1),
                    max: secs(9),
                },
            },
            FaultSpec::Pauses {
                node: 1,
                first: secs(0),
                every: secs(15),
                length: Latency::Uniform {
                    min: secs(0),
                    max: secs(3),
                },
            },
            FaultSpec::Slow {
                node: 0,
                start: secs(5),
                end: secs(9),
                factor: 2.0,
            },
        ];
        for seed in 1..=20 {
            let end = secs(3_000);
            let lazy: Vec<FaultEvent> = FaultTimeline::new(&specs, seed, end, &names).collect();
            assert_eq!(lazy, eager(&specs, seed, end, &names), "seed {seed}");
            assert!(lazy.len() > 100);
            let truth: Vec<Outage> = LazyOutages::of_node(&specs, 1, seed, end, &names).collect();
            let want: Vec<Outage> = outages(&specs, seed, end, &names)
                .into_iter()
                .filter(|o| o.node == 1)
                .collect();
            assert_eq!(truth, want, "seed {seed}");
        }
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
