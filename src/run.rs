//! Running scenarios: one simulation per seed, every detector scored on
//! the recorded arrival stream; one more simulation per membership
//! protocol, swept value and seed ([`cluster`]); all in parallel with a
//! deterministic order.

pub mod cluster;

use crate::detector::Env;
use crate::fault::{self, Outage};
use crate::metrics::{score_detector, RunQos, ScoreInput};
use crate::net::Network;
use crate::protocol::heartbeat::HeartbeatAgent;
use crate::scenario::Scenario;
use crate::sim::agent::Agent;
use crate::sim::{NetStats, NodeId, Sim};
use cluster::ClusterRun;
use rayon::prelude::*;

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
    /// without detectors).
    pub stats: NetStats,
    /// `clusters[p][v]`: protocol `p` at its `v`-th swept value.
    pub clusters: Vec<Vec<ClusterRun>>,
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
    for p in &sc.partitions {
        net.add_partition(p.clone());
    }
    net
}

/// Builds the simulation of one seed, ready to run, and its outages.
pub fn build_sim(sc: &Scenario, seed: u64) -> (Sim<HeartbeatAgent>, Vec<Outage>) {
    let net = build_network(sc, seed);
    let n = sc.nodes.len();
    let clocks = sc.clocks.clone();
    let agents = (0..n as NodeId)
        .map(|id| {
            let sends_to: Vec<NodeId> = if sc.targets.contains(&id) {
                sc.monitors.iter().copied().filter(|&m| m != id).collect()
            } else {
                Vec::new()
            };
            let logs = sc.monitors.contains(&id);
            HeartbeatAgent::new(sends_to, sc.interval, logs, n, clocks[id as usize])
                .with_jitter(sc.jitter.clone())
        })
        .collect();
    let mut sim = Sim::new(net, agents, clocks, seed);
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

/// Simulates one seed: every detector at every swept value on one
/// heartbeat simulation, and every protocol at every swept value on a
/// simulation of its own.
pub fn run_seed(sc: &Scenario, seed: u64) -> SeedResult {
    let pairwise = (!sc.detectors.is_empty()).then(|| run_pairwise(sc, seed));
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
    assemble(sc, seed, pairwise, clusters)
}

/// One seed's result from its parts.
fn assemble(
    sc: &Scenario,
    seed: u64,
    pairwise: Option<(Vec<Vec<RunQos>>, NetStats)>,
    clusters: Vec<Vec<ClusterRun>>,
) -> SeedResult {
    let (mut qos, stats) = pairwise.unwrap_or_else(|| {
        let empty = sc
            .detectors
            .iter()
            .map(|d| vec![RunQos::default(); d.values.len()]);
        (empty.collect(), NetStats::default())
    });
    for runs in &clusters {
        qos.push(runs.iter().map(|r| r.qos.as_run_qos()).collect());
    }
    SeedResult {
        seed,
        qos,
        stats,
        clusters,
    }
}

/// The pairwise simulation of one seed, every detector scored at every
/// swept value.
fn run_pairwise(sc: &Scenario, seed: u64) -> (Vec<Vec<RunQos>>, NetStats) {
    let (mut sim, outages) = build_sim(sc, seed);
    sim.run_until(sc.duration);
    let stats = sim.stats();
    let mut agents = sim.into_agents();
    let mut qos: Vec<Vec<RunQos>> = sc
        .detectors
        .iter()
        .map(|d| vec![RunQos::default(); d.values.len()])
        .collect();
    for &m in &sc.monitors {
        for &t in sc.targets.iter().filter(|&&t| t != m) {
            let arrivals = agents[m as usize].take_arrivals(t);
            let target_outages: Vec<Outage> =
                outages.iter().copied().filter(|o| o.node == t).collect();
            let input = ScoreInput {
                arrivals: &arrivals,
                outages: &target_outages,
                clock: sc.clocks[m as usize],
                warmup: sc.warmup,
                end: sc.duration,
            };
            let env = Env {
                interval: sc.interval,
            };
            for (d, cfg) in sc.detectors.iter().enumerate() {
                let scored = score_detector(cfg.kind, &cfg.params, &env, &cfg.values, input);
                for (acc, q) in qos[d].iter_mut().zip(&scored) {
                    acc.merge(q);
                }
            }
        }
    }
    (qos, stats)
}

/// One simulation `run_all` hands to a worker.
#[derive(Clone, Copy, Debug)]
enum Unit {
    /// The pairwise heartbeat simulation of scenario `sc`, seed `seed`.
    Pairwise { sc: usize, seed: u64 },
    /// Protocol `p` of scenario `sc` at its `v`-th value, seed `seed`.
    Cluster {
        sc: usize,
        seed: u64,
        p: usize,
        v: usize,
    },
}

enum Outcome {
    Pairwise(Vec<Vec<RunQos>>, NetStats),
    Cluster(ClusterRun),
}

/// Every simulation of every scenario × seed, in result order.
fn units(scenarios: &[Scenario]) -> Vec<Unit> {
    let mut out = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        for &seed in &sc.seeds {
            if !sc.detectors.is_empty() {
                out.push(Unit::Pairwise { sc: i, seed });
            }
            for (p, cfg) in sc.protocols.iter().enumerate() {
                for v in 0..cfg.values.len() {
                    out.push(Unit::Cluster { sc: i, seed, p, v });
                }
            }
        }
    }
    out
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
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let work = units(&scenarios);
    let total = work.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<Outcome> = pool.install(|| {
        work.par_iter()
            .map(|&unit| {
                let outcome = match unit {
                    Unit::Pairwise { sc, seed } => {
                        let (qos, stats) = run_pairwise(&scenarios[sc], seed);
                        Outcome::Pairwise(qos, stats)
                    }
                    Unit::Cluster { sc, seed, p, v } => {
                        Outcome::Cluster(cluster::run_protocol(&scenarios[sc], seed, p, v))
                    }
                };
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                on_done(n, total);
                outcome
            })
            .collect()
    });
    let mut outcomes = outcomes.into_iter();
    let mut out = Vec::with_capacity(scenarios.len());
    for sc in scenarios {
        let mut seeds = Vec::with_capacity(sc.seeds.len());
        for &seed in &sc.seeds {
            let pairwise = if sc.detectors.is_empty() {
                None
            } else {
                match outcomes.next() {
                    Some(Outcome::Pairwise(q, st)) => Some((q, st)),
                    _ => unreachable!("units come back in the order they were listed"),
                }
            };
            let clusters = sc
                .protocols
                .iter()
                .map(|cfg| {
                    (0..cfg.values.len())
                        .map(|_| match outcomes.next() {
                            Some(Outcome::Cluster(r)) => r,
                            _ => unreachable!("units come back in the order they were listed"),
                        })
                        .collect()
                })
                .collect();
            seeds.push(assemble(&sc, seed, pairwise, clusters));
        }
        out.push(ScenarioResult {
            scenario: sc,
            seeds,
        });
    }
    Ok(out)
}
