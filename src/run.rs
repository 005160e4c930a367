//! Running scenarios: one simulation per seed, every detector scored on
//! the arrival stream while it runs ([`stream_pairwise`]); one more simulation per membership
//! protocol, swept value and seed ([`cluster`]); all in parallel with a
//! deterministic order.

pub mod cluster;
pub mod downing;

use crate::detector::Env;
use crate::fault::{self, FaultSpec, FaultTimeline, LazyOutages, Outage};
use crate::metrics::decisions::DecisionRun;
use crate::metrics::{
    score_detector_attributed, Cause, DetectorScorer, FaultWindows, LiveWindows, PairSetting,
    RunQos, ScoreInput,
};
use crate::net::{Link, LinkModel, Loss, Network, Partition};
use crate::protocol::heartbeat::{HeartbeatAgent, Logged, Style};
use crate::replay::Replay;
use crate::scenario::Scenario;
use crate::sim::agent::Agent;
use crate::sim::{Nanos, NetStats, NodeId, Sim};
use cluster::ClusterRun;
use rayon::prelude::*;
use std::sync::Arc;

/// The outcome of one seed of one scenario.
#[derive(Clone, Debug)]
pub struct SeedResult {
    pub seed: u64,
    /// `qos[i][v]`: series `i` ([`Scenario::series`]: detectors, then
    /// protocols) at its `v`-th swept value. For a detector, pooled over
    /// all monitored pairs; for a protocol, the pairwise view of its
    /// cluster metrics ([`crate::metrics::cluster::ClusterQos::as_run_qos`]).
    pub qos: Vec<Vec<RunQos>>,
    /// Message accounting of the pairwise heartbeat simulation (all zero
    /// without detectors); with a `[sweep]`, of its first variant.
    pub stats: NetStats,
    /// Message accounting of each `[sweep]` variant's simulation (one
    /// entry, equal to `stats`, without a sweep).
    pub variant_stats: Vec<NetStats>,
    /// `clusters[p][v]`: protocol `p` at its `v`-th swept value.
    pub clusters: Vec<Vec<ClusterRun>>,
    /// `decisions[s][v]`: `[downing]` strategy `s` at its `v`-th value
    /// (empty without `[downing]`).
    pub decisions: Vec<Vec<DecisionRun>>,
}

/// The outcome of every seed of one scenario, in seed order.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub seeds: Vec<SeedResult>,
}

/// Builds the network of `sc` with link streams derived from `seed`.
pub fn build_network(sc: &Scenario, seed: u64) -> Network {
    let mut net = Network::new(&sc.nodes);
    for (from, to, model) in &sc.links {
        net.set_link(*from, *to, model.clone(), seed);
    }
    if let Some(model) = &sc.uniform_link {
        net.set_default_link(model.clone(), seed);
    }
    for p in &sc.partitions {
        net.add_partition(p.clone());
    }
    net.compute_routes();
    net
}

/// The heartbeat agent of node `id`: in push style a target sends to every
/// monitor but itself; in pull style a monitor pings every target but
/// itself (and every node answers pings).
fn agent(sc: &Scenario, id: NodeId) -> HeartbeatAgent {
    let others =
        |list: &[NodeId]| -> Vec<NodeId> { list.iter().copied().filter(|&x| x != id).collect() };
    let (n, clock) = (sc.nodes.len(), sc.clocks[id as usize]);
    match sc.style {
        Style::Push => {
            let sends_to = if sc.targets.contains(&id) {
                others(&sc.monitors)
            } else {
                Vec::new()
            };
            let logs = sc.monitors.contains(&id);
            HeartbeatAgent::new(sends_to, sc.interval, logs, n, clock)
        }
        Style::Pull => {
            let pings = if sc.monitors.contains(&id) {
                others(&sc.targets)
            } else {
                Vec::new()
            };
            HeartbeatAgent::pull(pings, sc.interval, n, clock)
        }
    }
}

/// Builds the simulation of one seed, ready to run, and its outages.
pub fn build_sim(sc: &Scenario, seed: u64) -> (Sim<HeartbeatAgent>, Vec<Outage>) {
    let net = build_network(sc, seed);
    let n = sc.nodes.len();
    let clocks = sc.clocks.clone();
    let agents = (0..n as NodeId)
        .map(|id| agent(sc, id).with_jitter(sc.jitter.clone()))
        .collect();
    let mut sim = Sim::new(net, agents, clocks, seed);
    sim.count_bytes_with(crate::protocol::heartbeat::Message::wire_bytes, |_| false);
    let outages = schedule_faults(&mut sim, sc, seed);
    (sim, outages)
}

/// Schedules the crashes, restarts, pauses and slow windows of `sc` in
/// `sim` and returns the outages.
pub fn schedule_faults<A: Agent>(sim: &mut Sim<A>, sc: &Scenario, seed: u64) -> Vec<Outage> {
    let outages = fault::outages(&sc.faults, seed, sc.duration, &sc.nodes);
    for o in &outages {
        sim.schedule_crash(o.node, o.crash);
        if let Some(r) = o.restart {
            sim.schedule_restart(o.node, r);
        }
    }
    for p in fault::pauses(&sc.faults, seed, sc.duration, &sc.nodes) {
        sim.schedule_pause(p.node, p.start, p.length);
    }
    for (node, start, end, factor) in fault::slow_windows(&sc.faults) {
        sim.add_slow_window(node, start, end, factor);
    }
    outages
}

/// Every monitored pair `(monitor, target)`, in scoring order.
fn monitored_pairs(sc: &Scenario) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
    sc.monitors.iter().flat_map(|&m| {
        sc.targets
            .iter()
            .filter(move |&&t| t != m)
            .map(move |&t| (m, t))
    })
}

/// The number of monitored pairs (monitor, target ≠ monitor).
pub fn pair_count(sc: &Scenario) -> usize {
    monitored_pairs(sc).count()
}

/// The heartbeat cost of the pairwise simulation: messages and bytes sent
/// per monitored pair per second of virtual time, averaged over `stats`
/// (one per seed). `None` without pairs, seeds or messages (a replay
/// simulates none).
pub fn cost_per_pair_second<'a>(
    sc: &Scenario,
    stats: impl IntoIterator<Item = &'a NetStats>,
) -> Option<(f64, f64)> {
    let (mut runs, mut sent, mut bytes) = (0u64, 0u128, 0u128);
    for st in stats {
        runs += 1;
        sent += u128::from(st.sent);
        bytes += u128::from(st.bytes_sent);
    }
    let pair_seconds = (runs * pair_count(sc) as u64) as f64 * sc.duration.as_secs_f64();
    (pair_seconds > 0.0 && sent > 0)
        .then(|| (sent as f64 / pair_seconds, bytes as f64 / pair_seconds))
}

/// What the messages of the monitored pair `(m, t)` go through, for
/// attribution: in push style the heartbeats, `t` → `m`; in pull style
/// also the pings, `m` → `t` (a pong answers a ping that got through).
struct Traversal {
    /// The directions messages travel, `(from, to)`, end to end.
    legs: Vec<(NodeId, NodeId)>,
    /// Every directed link those messages cross: each hop of each leg's
    /// route (one link for a direct pair).
    links: Vec<(NodeId, NodeId)>,
    /// The node whose timer sends them and whose clock stamps their send
    /// times: `t` in push style, `m` in pull style.
    pacer: NodeId,
}

impl Traversal {
    fn new(sc: &Scenario, net: &Network, m: NodeId, t: NodeId) -> Traversal {
        let (legs, pacer) = match sc.style {
            Style::Push => (vec![(t, m)], t),
            Style::Pull => (vec![(m, t), (t, m)], m),
        };
        let mut links = Vec::new();
        for path in legs.iter().filter_map(|&(from, to)| net.path(from, to)) {
            links.extend(path.windows(2).map(|hop| (hop[0], hop[1])));
        }
        Traversal { legs, links, pacer }
    }

    /// The explicit links crossed (a pair over the default link has none,
    /// and the default link has no spikes or recorded bursts).
    fn crossed<'a>(&'a self, net: &'a Network) -> impl Iterator<Item = &'a Link> + 'a {
        self.links.iter().filter_map(|&(a, b)| net.link(a, b))
    }

    fn cut_by(&self, p: &Partition) -> bool {
        self.legs.iter().any(|&(from, to)| p.separates(from, to))
    }
}

/// The fault windows a false suspicion of target `t` by monitor `m` can be
/// blamed on, in one run (see [`crate::metrics::attribution`]), from what
/// the pair's messages go through ([`Traversal`]): the cut periods of
/// partitions that cut a direction they travel (partitions act on a
/// route's two ends only); the pauses of `t` or `m` that took effect
/// (`pauses`, as [`Sim::pauses`] logs them); the slow windows of the node
/// whose timer sends them (a slow node that only answers or only listens
/// sets no timer, so its slowness changes nothing); the spikes and the
/// loss bursts of every link of their routes, the bursts as recorded by
/// `net` during the run. Relays are not processes: their pauses and slow
/// windows do not touch what they relay, so they open no window. Send
/// stamps are read through the pacing node's clock.
pub fn pair_windows(
    sc: &Scenario,
    net: &Network,
    pauses: &[(NodeId, Nanos, Nanos)],
    m: NodeId,
    t: NodeId,
) -> FaultWindows {
    let way = Traversal::new(sc, net, m, t);
    let mut w = known_windows(sc, net, &way);
    for p in net.partitions().iter().filter(|p| way.cut_by(p)) {
        w.extend(
            p.cut_periods(sc.duration)
                .map(|(a, b)| (Cause::Partition, a, b)),
        );
    }
    for &(node, start, end) in pauses {
        if node == t || node == m {
            w.push((Cause::Pause, start, end));
        }
    }
    for link in way.crossed(net) {
        w.extend(link.bad_periods().map(|(a, b)| (Cause::LossBurst, a, b)));
    }
    FaultWindows::new(sc.clocks[way.pacer as usize], w)
}

/// The windows of a pair known before its run (see [`pair_windows`]):
/// the slow windows of the pacing node and the spikes of the crossed
/// links.
fn known_windows(sc: &Scenario, net: &Network, way: &Traversal) -> Vec<(Cause, Nanos, Nanos)> {
    let mut w = Vec::new();
    for (node, start, end, _) in fault::slow_windows(&sc.faults) {
        if node == way.pacer {
            w.push((Cause::Slow, start, end));
        }
    }
    for link in way.crossed(net) {
        let spikes = link.model.spikes.iter();
        w.extend(spikes.map(|s| (Cause::LatencySpike, s.start, s.end)));
    }
    w
}

/// The causes a scenario can have windows of for some monitored pair, in
/// [`Cause::ALL`] order; empty when nothing in it opens a fault window.
/// The same rules as [`pair_windows`], on the scenario instead of a run.
pub fn window_causes(sc: &Scenario) -> Vec<Cause> {
    if monitored_pairs(sc).next().is_none() {
        return Vec::new();
    }
    // Routes depend on the links' mean delays, not on the seed.
    let net = build_network(sc, 0);
    let ways: Vec<Traversal> = monitored_pairs(sc)
        .map(|(m, t)| Traversal::new(sc, &net, m, t))
        .collect();
    let watched = |n: NodeId| monitored_pairs(sc).any(|(m, t)| m == n || t == n);
    let crossed =
        |f: &dyn Fn(&LinkModel) -> bool| ways.iter().any(|w| w.crossed(&net).any(|l| f(&l.model)));
    let has = |c: Cause| match c {
        Cause::Partition => sc
            .partitions
            .iter()
            .any(|p| ways.iter().any(|w| w.cut_by(p))),
        Cause::Pause => sc.faults.iter().any(|f| {
            matches!(f, FaultSpec::Pause { .. } | FaultSpec::Pauses { .. }) && watched(f.node())
        }),
        Cause::Slow => sc.faults.iter().any(|f| {
            matches!(f, FaultSpec::Slow { .. }) && ways.iter().any(|w| w.pacer == f.node())
        }),
        Cause::LatencySpike => crossed(&|l| !l.spikes.is_empty()),
        Cause::LossBurst => crossed(&|l| matches!(l.loss, Loss::GilbertElliott(_))),
    };
    Cause::ALL.into_iter().filter(|&c| has(c)).collect()
}

/// Where a run's heartbeats come from: the simulation's monitors, or a
/// replayed trace.
pub enum HeartbeatLog {
    /// The agents at the end of the simulation, in node order.
    Simulated(Vec<HeartbeatAgent>),
    /// The trace of `[replay]`.
    Replayed(Arc<Replay>),
}

impl HeartbeatLog {
    /// The arrivals `monitor` logged from `target`, in arrival order.
    pub fn arrivals(&self, monitor: NodeId, target: NodeId) -> &[Logged] {
        match self {
            HeartbeatLog::Simulated(agents) => agents[monitor as usize].arrivals_from(target),
            HeartbeatLog::Replayed(r) => r.arrivals(monitor, target),
        }
    }
}

/// The heartbeats of one seed up to true time `until`, the outages (the
/// ground truth), the message accounting and each pair's fault windows. A
/// replay's ground truth is its crash rows if it has any, else the
/// scenario's faults, drawn as for a simulation.
pub fn heartbeats(sc: &Scenario, seed: u64, until: Nanos) -> Heartbeats {
    if let Some(r) = &sc.replay {
        let outages = match &r.outages {
            Some(o) => o.clone(),
            None => fault::outages(&sc.faults, seed, sc.duration, &sc.nodes),
        };
        // A replay has no network and no pause or slow faults: nothing to
        // blame a mistake on but the trace itself.
        return Heartbeats {
            log: HeartbeatLog::Replayed(r.clone()),
            outages,
            stats: NetStats::default(),
            windows: monitored_pairs(sc).map(|_| FaultWindows::NONE).collect(),
        };
    }
    let (mut sim, outages) = build_sim(sc, seed);
    sim.run_until(until);
    let stats = sim.stats();
    let windows: Vec<FaultWindows> = monitored_pairs(sc)
        .map(|(m, t)| pair_windows(sc, sim.network(), sim.pauses(), m, t))
        .collect();
    Heartbeats {
        log: HeartbeatLog::Simulated(sim.into_agents()),
        outages,
        stats,
        windows,
    }
}

/// What [`heartbeats`] returns for one seed.
pub struct Heartbeats {
    pub log: HeartbeatLog,
    /// The ground truth: every outage of every node.
    pub outages: Vec<Outage>,
    /// The message accounting (zero for a replay).
    pub stats: NetStats,
    /// The fault windows of each monitored pair, in scoring order.
    pub windows: Vec<FaultWindows>,
}

/// Simulates one seed: every detector at every swept value on one
/// heartbeat simulation, and every protocol at every swept value on a
/// simulation of its own.
pub fn run_seed(sc: &Scenario, seed: u64) -> SeedResult {
    let pairwise = (!sc.detectors.is_empty()).then(|| {
        let parts = (0..sc.variant_count()).map(|k| run_pairwise(sc.variant(k), seed));
        join_variants(parts)
    });
    let clusters = sc
        .protocols
        .iter()
        .enumerate()
        .map(|(p, cfg)| {
            (0..cfg.values.len())
                .map(|v| cluster::run_protocol(sc, seed, p, v))
                .collect()
        })
        .collect();
    let decisions = downing_runs(sc, seed);
    assemble(sc, seed, pairwise, clusters, decisions)
}

/// The `[downing]` strategies of one seed, if the scenario has them.
fn downing_runs(sc: &Scenario, seed: u64) -> Vec<Vec<DecisionRun>> {
    match sc.downing {
        Some(_) => downing::run_downing(sc, seed),
        None => Vec::new(),
    }
}

/// The pairwise results of every `[sweep]` variant of one seed, in
/// variant order, as one: their detectors' QoS one after the other (the
/// order of the swept scenario's `detectors`) and each one's stats.
fn join_variants(
    parts: impl Iterator<Item = (Vec<Vec<RunQos>>, NetStats)>,
) -> (Vec<Vec<RunQos>>, Vec<NetStats>) {
    let mut qos = Vec::new();
    let mut stats = Vec::new();
    for (q, st) in parts {
        qos.extend(q);
        stats.push(st);
    }
    (qos, stats)
}

/// One seed's result from its parts.
fn assemble(
    sc: &Scenario,
    seed: u64,
    pairwise: Option<(Vec<Vec<RunQos>>, Vec<NetStats>)>,
    clusters: Vec<Vec<ClusterRun>>,
    decisions: Vec<Vec<DecisionRun>>,
) -> SeedResult {
    let (mut qos, variant_stats) = pairwise.unwrap_or_else(|| {
        let empty = sc
            .detectors
            .iter()
            .map(|d| vec![RunQos::default(); d.values.len()]);
        (empty.collect(), vec![NetStats::default()])
    });
    let stats = variant_stats[0];
    for runs in &clusters {
        qos.push(runs.iter().map(|r| r.qos.as_run_qos()).collect());
    }
    SeedResult {
        seed,
        qos,
        stats,
        variant_stats,
        clusters,
        decisions,
    }
}

/// The pairwise heartbeats of one seed, simulated or replayed, every
/// detector scored at every swept value. A simulation is scored while it
/// runs ([`stream_pairwise`]); a replayed trace, already in memory, is
/// scored from its log ([`logged_pairwise`]).
fn run_pairwise(sc: &Scenario, seed: u64) -> (Vec<Vec<RunQos>>, NetStats) {
    if sc.replay.is_none() {
        return stream_pairwise(sc, seed, |_| {});
    }
    logged_pairwise(sc, seed)
}

/// The pairwise run of one seed scored from the whole logged run: every
/// arrival, outage and fault window of the run is held before scoring.
/// What runs of replayed traces use, and the reference that
/// [`stream_pairwise`] is tested against.
pub fn logged_pairwise(sc: &Scenario, seed: u64) -> (Vec<Vec<RunQos>>, NetStats) {
    let Heartbeats {
        log,
        outages,
        stats,
        windows,
    } = heartbeats(sc, seed, sc.duration);
    let mut qos: Vec<Vec<RunQos>> = sc
        .detectors
        .iter()
        .map(|d| vec![RunQos::default(); d.values.len()])
        .collect();
    let env = Env {
        interval: sc.interval,
    };
    for ((m, t), w) in monitored_pairs(sc).zip(&windows) {
        let target_outages: Vec<Outage> = outages.iter().copied().filter(|o| o.node == t).collect();
        let input = ScoreInput {
            arrivals: log.arrivals(m, t),
            outages: &target_outages,
            clock: sc.clocks[m as usize],
            warmup: sc.warmup,
            end: sc.duration,
        };
        for (d, cfg) in sc.detectors.iter().enumerate() {
            let scored =
                score_detector_attributed(cfg.kind, &cfg.params, &env, &cfg.values, input, w);
            for (acc, q) in qos[d].iter_mut().zip(&scored) {
                acc.merge(q);
            }
        }
    }
    (qos, stats)
}

/// What a streaming pairwise run holds, after each stretch of virtual
/// time it has scored (see [`stream_pairwise`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamState {
    /// Virtual time simulated and scored so far.
    pub reached: Nanos,
    /// Events pending in the engine (queue and fault timeline).
    pub pending_events: usize,
    /// Heartbeats the monitors' logs can hold without growing, over every
    /// pair (each stretch's arrivals are scored and dropped at its end).
    pub log_capacity: usize,
    /// Fault windows kept for attribution, over every pair.
    pub windows_held: usize,
    /// Pauses and loss bursts recorded by the engine and not yet handed
    /// to the pairs (zero between stretches).
    pub unread_windows: usize,
}

/// One monitored pair of a streaming run.
struct LivePair {
    m: NodeId,
    t: NodeId,
    windows: LiveWindows,
    /// Indices into the watched links of the links this pair crosses.
    links: Vec<usize>,
    /// One scorer per detector of the scenario, in order.
    scorers: Vec<DetectorScorer<'static, LiveWindows>>,
}

/// How much virtual time is simulated between two scoring passes: enough
/// arrivals per pass to keep the loops tight, few enough that the logs
/// stay small (about 2^16 arrivals in all, at most 4,096 per pair).
fn stretch(sc: &Scenario, pairs: usize) -> Nanos {
    Nanos(sc.interval.0.max(1).saturating_mul(stretch_beats(pairs)))
}

/// Heartbeat intervals in one stretch of a run with `pairs` monitored
/// pairs (what [`crate::cost`] bounds the arrival log by).
pub fn stretch_beats(pairs: usize) -> u64 {
    (65_536 / pairs.max(1)).clamp(16, 4_096) as u64
}

/// Simulates one seed and scores every detector at every swept value on
/// every monitored pair while the simulation runs: the engine runs a
/// stretch of virtual time, the arrivals each monitor logged in it are
/// fed to the pair's scorers and dropped, and the faults are drawn only
/// as the run reaches them ([`FaultTimeline`], [`LazyOutages`]). Nothing
/// held grows with the horizon; the results are exactly those of scoring
/// the whole logged run ([`heartbeats`] and [`score_detector_attributed`]).
/// `watch` sees the state held after each stretch.
pub fn stream_pairwise(
    sc: &Scenario,
    seed: u64,
    mut watch: impl FnMut(&StreamState),
) -> (Vec<Vec<RunQos>>, NetStats) {
    let net = build_network(sc, seed);
    let n = sc.nodes.len();
    let agents = (0..n as NodeId)
        .map(|id| agent(sc, id).with_jitter(sc.jitter.clone()))
        .collect();
    let mut sim = Sim::new(net, agents, sc.clocks.clone(), seed);
    sim.count_bytes_with(crate::protocol::heartbeat::Message::wire_bytes, |_| false);
    sim.set_fault_timeline(FaultTimeline::new(&sc.faults, seed, sc.duration, &sc.nodes));
    for (node, start, end, factor) in fault::slow_windows(&sc.faults) {
        sim.add_slow_window(node, start, end, factor);
    }
    let (mut pairs, watched) = live_pairs(sc, seed, sim.network());
    let step = stretch(sc, pairs.len());
    let mut reached = Nanos::ZERO;
    while reached < sc.duration {
        reached = reached.saturating_add(step).min(sc.duration);
        sim.run_until(reached);
        hand_over_windows(&mut sim, &mut pairs, &watched);
        for pair in &mut pairs {
            score_logged(&mut sim, pair);
        }
        watch(&StreamState {
            reached,
            pending_events: sim.pending_events(),
            log_capacity: pairs.iter().map(|p| sim.agent(p.m).log_capacity(p.t)).sum(),
            windows_held: pairs.iter().map(|p| p.windows.held()).sum(),
            unread_windows: sim.pauses().len(),
        });
    }
    let mut qos: Vec<Vec<RunQos>> = sc
        .detectors
        .iter()
        .map(|d| vec![RunQos::default(); d.values.len()])
        .collect();
    for pair in pairs {
        let LivePair {
            windows, scorers, ..
        } = pair;
        for (d, scorer) in scorers.into_iter().enumerate() {
            for (acc, q) in qos[d].iter_mut().zip(&scorer.finish(&windows)) {
                acc.merge(q);
            }
        }
    }
    (qos, sim.stats())
}

/// The monitored pairs of a streaming run with their scorers and window
/// stores, and the explicit links whose loss bursts they watch.
fn live_pairs(sc: &Scenario, seed: u64, net: &Network) -> (Vec<LivePair>, Vec<(NodeId, NodeId)>) {
    let env = Env {
        interval: sc.interval,
    };
    let mut watched: Vec<(NodeId, NodeId)> = Vec::new();
    let mut pairs = Vec::new();
    for (m, t) in monitored_pairs(sc) {
        let way = Traversal::new(sc, net, m, t);
        let mut links = Vec::new();
        for &(a, b) in &way.links {
            let bursty = net
                .link(a, b)
                .is_some_and(|l| matches!(l.model.loss, Loss::GilbertElliott(_)));
            if !bursty {
                continue;
            }
            let j = match watched.iter().position(|&w| w == (a, b)) {
                Some(j) => j,
                None => {
                    watched.push((a, b));
                    watched.len() - 1
                }
            };
            links.push(j);
        }
        let partitions: Vec<Partition> = (net.partitions().iter())
            .filter(|p| way.cut_by(p))
            .cloned()
            .collect();
        let known = known_windows(sc, net, &way);
        let paused = sc.faults.iter().any(|f| {
            matches!(f, FaultSpec::Pause { .. } | FaultSpec::Pauses { .. })
                && (f.node() == m || f.node() == t)
        });
        let any = !partitions.is_empty() || !known.is_empty() || paused || !links.is_empty();
        let clock = sc.clocks[way.pacer as usize];
        let windows = LiveWindows::new(clock, partitions, sc.duration, known, links.len(), any);
        let setting = PairSetting {
            clock: sc.clocks[m as usize],
            warmup: sc.warmup,
            end: sc.duration,
        };
        let (faults, nodes, end) = (sc.faults.clone(), sc.nodes.clone(), sc.duration);
        let truth = move || -> Box<dyn Iterator<Item = Outage>> {
            Box::new(LazyOutages::of_node(&faults, t, seed, end, &nodes))
        };
        let scorers = (sc.detectors.iter())
            .map(|cfg| {
                DetectorScorer::new(cfg.kind, &cfg.params, &env, &cfg.values, setting, &truth)
            })
            .collect();
        pairs.push(LivePair {
            m,
            t,
            windows,
            links,
            scorers,
        });
    }
    (pairs, watched)
}

/// Hands the pauses that took effect and the loss bursts of the watched
/// links to the pairs they concern, leaving nothing recorded behind.
fn hand_over_windows(
    sim: &mut Sim<HeartbeatAgent>,
    pairs: &mut [LivePair],
    watched: &[(NodeId, NodeId)],
) {
    for (node, start, end) in sim.take_pauses() {
        for pair in pairs.iter_mut().filter(|p| p.m == node || p.t == node) {
            pair.windows.record(Cause::Pause, start, end);
        }
    }
    for (j, &(a, b)) in watched.iter().enumerate() {
        let link = sim
            .network_mut()
            .link_mut(a, b)
            .expect("watched links exist");
        let periods = link.bad_periods_mut();
        let closed = periods.take_closed();
        let open = periods.in_progress();
        for pair in pairs.iter_mut() {
            for k in (0..pair.links.len()).filter(|&k| pair.links[k] == j) {
                for &(s, e) in &closed {
                    pair.windows.record(Cause::LossBurst, s, e);
                }
                pair.windows.set_open(k, open);
            }
        }
    }
}

/// Scores what the pair's monitor logged from its target since the last
/// call, clears the log, and drops the fault windows no mistake can reach
/// any more.
fn score_logged(sim: &mut Sim<HeartbeatAgent>, pair: &mut LivePair) {
    let LivePair {
        m,
        t,
        windows,
        scorers,
        ..
    } = pair;
    let Some(log) = sim.agent_mut(*m).log_mut(*t) else {
        return;
    };
    for scorer in scorers.iter_mut() {
        scorer.push_all(log, &*windows);
    }
    log.clear();
    let horizon = (scorers.iter().map(|s| s.horizon(&*windows)))
        .min()
        .unwrap_or(Nanos::ZERO);
    windows.prune(horizon, |mask, end| {
        for s in scorers.iter_mut() {
            s.carry(mask, end);
        }
    });
}

/// One independent simulation of a run: the grain `run_all` hands to its
/// workers and [`crate::shard`] splits across machines. `sc` indexes the
/// scenario list the unit was planned from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// The pairwise heartbeat simulation of scenario `sc`, seed `seed`,
    /// `[sweep]` variant `variant` (0 without a sweep), every detector
    /// scored at every swept value.
    Pairwise {
        sc: usize,
        seed: u64,
        variant: usize,
    },
    /// Protocol `p` of scenario `sc` at its `v`-th value, seed `seed`.
    Cluster {
        sc: usize,
        seed: u64,
        p: usize,
        v: usize,
    },
    /// The `[downing]` strategies of scenario `sc`, seed `seed`.
    Downing { sc: usize, seed: u64 },
}

impl Unit {
    /// The scenario this unit belongs to.
    pub fn scenario(&self) -> usize {
        match *self {
            Unit::Pairwise { sc, .. } | Unit::Cluster { sc, .. } | Unit::Downing { sc, .. } => sc,
        }
    }

    /// A stable, readable name for the unit, used in shard manifests and
    /// error messages: `lan-pair/seed-3/detectors`, or
    /// `gossip-vs-swim/seed-3/swim/value-2` (values counted from 1), and
    /// `interval-and-timeout/seed-3/detectors/sweep-2` for the second
    /// `[sweep]` value.
    pub fn name(&self, scenarios: &[Scenario]) -> String {
        match *self {
            Unit::Pairwise { sc, seed, variant } => {
                let s = &scenarios[sc];
                if s.variant_count() > 1 {
                    format!("{}/seed-{seed}/detectors/sweep-{}", s.name, variant + 1)
                } else {
                    format!("{}/seed-{seed}/detectors", s.name)
                }
            }
            Unit::Cluster { sc, seed, p, v } => {
                let s = &scenarios[sc];
                format!(
                    "{}/seed-{seed}/{}/value-{}",
                    s.name,
                    s.protocols[p].label,
                    v + 1
                )
            }
            Unit::Downing { sc, seed } => format!("{}/seed-{seed}/downing", scenarios[sc].name),
        }
    }
}

/// What one [`Unit`] produced. Serializable, so a shard can write it and a
/// merge read it back exactly (floats round-trip through JSON).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Pairwise(Vec<Vec<RunQos>>, NetStats),
    Cluster(Box<ClusterRun>),
    Downing(Vec<Vec<DecisionRun>>),
}

/// Every simulation of every scenario × seed, in result order.
pub fn units(scenarios: &[Scenario]) -> Vec<Unit> {
    let mut out = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        for &seed in &sc.seeds {
            if !sc.detectors.is_empty() {
                for variant in 0..sc.variant_count() {
                    out.push(Unit::Pairwise {
                        sc: i,
                        seed,
                        variant,
                    });
                }
            }
            for (p, cfg) in sc.protocols.iter().enumerate() {
                for v in 0..cfg.values.len() {
                    out.push(Unit::Cluster { sc: i, seed, p, v });
                }
            }
            if sc.downing.is_some() {
                out.push(Unit::Downing { sc: i, seed });
            }
        }
    }
    out
}

/// Simulates one unit.
pub fn run_unit(scenarios: &[Scenario], unit: Unit) -> Outcome {
    match unit {
        Unit::Pairwise { sc, seed, variant } => {
            let (qos, stats) = run_pairwise(scenarios[sc].variant(variant), seed);
            Outcome::Pairwise(qos, stats)
        }
        Unit::Cluster { sc, seed, p, v } => {
            Outcome::Cluster(Box::new(cluster::run_protocol(&scenarios[sc], seed, p, v)))
        }
        Unit::Downing { sc, seed } => Outcome::Downing(downing::run_downing(&scenarios[sc], seed)),
    }
}

/// Simulates `work` on a pool of `jobs` threads; the outcomes come back in
/// the order of `work`, whatever `jobs`. `on_done` is told of each
/// finished unit (done, total).
pub fn execute(
    scenarios: &[Scenario],
    work: &[Unit],
    jobs: usize,
    on_done: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Outcome>, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let total = work.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    Ok(pool.install(|| {
        work.par_iter()
            .map(|&unit| {
                let outcome = run_unit(scenarios, unit);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                on_done(n, total);
                outcome
            })
            .collect()
    }))
}

/// Runs every scenario × seed on a pool of `jobs` threads: the pairwise
/// simulation of each seed and the simulation of each protocol × value ×
/// seed are independent units of work. Results come back in scenario
/// order, seeds in the scenario's order, whatever `jobs`; `on_done` is told
/// of each finished unit (done, total).
pub fn run_all(
    scenarios: Vec<Scenario>,
    jobs: usize,
    on_done: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ScenarioResult>, rayon::ThreadPoolBuildError> {
    let work = units(&scenarios);
    let outcomes = execute(&scenarios, &work, jobs, on_done)?;
    Ok(assemble_all(scenarios, outcomes))
}

/// The results of every scenario from the outcomes of all of its
/// [`units`], in that order (as [`execute`] returns them, or as a merge of
/// shards puts them back together).
///
/// # Panics
/// If `outcomes` do not match `units(&scenarios)` one for one.
pub fn assemble_all(scenarios: Vec<Scenario>, outcomes: Vec<Outcome>) -> Vec<ScenarioResult> {
    let mut outcomes = outcomes.into_iter();
    let mut out = Vec::with_capacity(scenarios.len());
    for sc in scenarios {
        let mut seeds = Vec::with_capacity(sc.seeds.len());
        for &seed in &sc.seeds {
            let pairwise = if sc.detectors.is_empty() {
                None
            } else {
                let parts: Vec<(Vec<Vec<RunQos>>, NetStats)> = (0..sc.variant_count())
                    .map(|_| match outcomes.next() {
                        Some(Outcome::Pairwise(q, st)) => (q, st),
                        _ => unreachable!("units come back in the order they were listed"),
                    })
                    .collect();
                Some(join_variants(parts.into_iter()))
            };
            let clusters = sc
                .protocols
                .iter()
                .map(|cfg| {
                    (0..cfg.values.len())
                        .map(|_| match outcomes.next() {
                            Some(Outcome::Cluster(r)) => *r,
                            _ => unreachable!("units come back in the order they were listed"),
                        })
                        .collect()
                })
                .collect();
            let decisions = if sc.downing.is_some() {
                match outcomes.next() {
                    Some(Outcome::Downing(d)) => d,
                    _ => unreachable!("units come back in the order they were listed"),
                }
            } else {
                Vec::new()
            };
            seeds.push(assemble(&sc, seed, pairwise, clusters, decisions));
        }
        out.push(ScenarioResult {
            scenario: sc,
            seeds,
        });
    }
    out
}
