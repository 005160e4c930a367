//! Running scenarios: one simulation per seed, every detector scored on
//! the recorded arrival stream, seeds in parallel with deterministic order.

use crate::detector::Env;
use crate::fault::{self, Outage};
use crate::metrics::{score_detector, RunQos, ScoreInput};
use crate::net::Network;
use crate::protocol::heartbeat::HeartbeatAgent;
use crate::scenario::Scenario;
use crate::sim::{NetStats, NodeId, Sim};
use rayon::prelude::*;

/// The outcome of one seed of one scenario.
#[derive(Clone, Debug)]
pub struct SeedResult {
    pub seed: u64,
    /// `qos[d][v]`: detector `d` at its `v`-th swept value, pooled over all
    /// monitored pairs.
    pub qos: Vec<Vec<RunQos>>,
    pub stats: NetStats,
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
    net.compute_routes();
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
    (sim, outages)
}

/// Simulates one seed and scores every detector at every swept value.
pub fn run_seed(sc: &Scenario, seed: u64) -> SeedResult {
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
    SeedResult { seed, qos, stats }
}

/// Runs every scenario × seed on a pool of `jobs` threads. Results come
/// back in scenario order, seeds in the scenario's order, whatever `jobs`.
pub fn run_all(
    scenarios: Vec<Scenario>,
    jobs: usize,
    on_done: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ScenarioResult>, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let work: Vec<(usize, u64)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(i, sc)| sc.seeds.iter().map(move |&s| (i, s)))
        .collect();
    let total = work.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, SeedResult)> = pool.install(|| {
        work.par_iter()
            .map(|&(i, seed)| {
                let r = run_seed(&scenarios[i], seed);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                on_done(n, total);
                (i, r)
            })
            .collect()
    });
    let mut out: Vec<ScenarioResult> = scenarios
        .into_iter()
        .map(|scenario| ScenarioResult {
            scenario,
            seeds: Vec::new(),
        })
        .collect();
    for (i, r) in results.drain(..) {
        out[i].seeds.push(r);
    }
    Ok(out)
}
