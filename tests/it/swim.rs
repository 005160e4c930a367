//! SWIM and Lifeguard on the engine: detection time against the paper's
//! analysis, the round-robin bound, refutation, and determinism.

use fdsim::net::{Direction, Latency, LinkModel, Partition};
use fdsim::protocol::membership::{Membership, MembershipEvent, Verdict};
use fdsim::protocol::swim::{cluster_sim, preset, SwimAgent, SwimConfig, TargetSelection};
use fdsim::sim::{Nanos, NodeId, Sim};

const T: Nanos = Nanos::from_secs(1);

fn lan(latency_us: u64) -> LinkModel {
    LinkModel::new(
        Latency::Constant {
            value: Nanos::from_micros(latency_us),
        },
        0.0,
    )
}

/// The earliest time any member suspected `subject` (or declared it
/// dead) at or after `since`.
fn first_suspicion(sim: &Sim<SwimAgent>, n: usize, subject: NodeId, since: Nanos) -> Option<Nanos> {
    (0..n as NodeId)
        .flat_map(|m| sim.agent(m).events().iter())
        .filter(|e| e.subject == subject && e.verdict != Verdict::Alive && e.at >= since)
        .map(|e| e.at)
        .min()
}

/// SWIM §3.1 with uniformly random targets: each of the m − 1 live
/// members picks a crashed member with probability 1/(m − 1) in each
/// period, independently, so the number of periods G up to and including
/// the first one in which anyone probes it is geometric with success
/// probability p = 1 − (1 − 1/(m − 1))^(m − 1) → 1 − 1/e, and
/// E[G] = 1/p → e/(e − 1) ≈ 1.582.
///
/// What is measured: every member ticks at multiples of the 1 s period
/// (`stagger` off); the crash comes at 10.5 s, half a period after a
/// tick, so every probe that started at 10 s has already been acked
/// (links delay 100 µs). The first probes that can miss the victim start
/// at 11 s; a probe that misses it waits the 500 ms ping timeout, asks
/// three helpers, and suspects the victim at the end of its period. So
/// the time from the crash to the first suspicion anywhere is exactly
/// 0.5 s (the phase to the next tick) + G periods: the ping timeout adds
/// nothing, because SWIM suspects at the end of the period, not at the
/// timeout. The expected value is 0.5 + 1/p(m) periods for a cluster of
/// m; the test compares the mean over many crashes with the mean of that
/// expectation, within four standard errors.
#[test]
fn first_suspicion_after_a_crash_takes_e_over_e_minus_1_periods_with_random_targets() {
    let cfg = SwimConfig {
        selection: TargetSelection::Uniform,
        stagger: false,
        ..preset("swim").unwrap()
    };
    let crash = Nanos::from_millis(10_500);
    let trials = 3000u64;
    let (mut sum, mut sum_sq, mut expected) = (0.0, 0.0, 0.0);
    let (mut in_one, mut p_sum) = (0u64, 0.0);
    for trial in 0..trials {
        let n = 64 + (trial % 65) as usize;
        let victim = ((trial * 7919) % n as u64) as NodeId;
        let mut sim = cluster_sim(cfg, n, lan(100), 1000 + trial);
        sim.schedule_crash(victim, crash);
        let mut end = crash;
        let first = loop {
            end = end + T;
            sim.run_until(end + Nanos(1));
            if let Some(t) = first_suspicion(&sim, n, victim, crash) {
                break t;
            }
            assert!(end < crash + Nanos::from_secs(100), "never suspected");
        };
        let periods = (first - crash).as_secs_f64() / T.as_secs_f64();
        sum += periods;
        sum_sq += periods * periods;
        let m = (n - 1) as f64;
        let p = 1.0 - (1.0 - 1.0 / m).powf(m);
        expected += 0.5 + 1.0 / p;
        in_one += (first - crash == Nanos::from_millis(1500)) as u64;
        p_sum += p;
    }
    let k = trials as f64;
    let mean = sum / k;
    let sd = ((sum_sq - k * mean * mean) / (k - 1.0)).sqrt();
    let se = sd / k.sqrt();
    let expected = expected / k;
    let e_ratio = std::f64::consts::E / (std::f64::consts::E - 1.0);
    eprintln!(
        "crash to first suspicion: mean {mean:.4} periods (sd {sd:.3}, se {se:.4}, {trials} crashes); \
         expected 0.5 + E[1/p] = {expected:.4}; 0.5 + e/(e-1) = {:.4}",
        0.5 + e_ratio
    );
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "mean {mean:.4} vs expected {expected:.4} (4 se = {:.4})",
        4.0 * se
    );
    // And the shape: P(G = 1) = p, the chance that someone picks the
    // victim in the first period.
    let (frac, p) = (in_one as f64 / k, p_sum / k);
    let se_frac = (p * (1.0 - p) / k).sqrt();
    eprintln!("suspected within one period: {frac:.4} (p = {p:.4}, se {se_frac:.4})");
    assert!((frac - p).abs() < 4.0 * se_frac, "{frac} vs {p}");
    // The finite-n expectation is already within 1 % of the limit.
    assert!((expected - 0.5 - e_ratio).abs() < 0.01 * e_ratio);
}

/// A cluster like [`cluster_sim`] with partitions added.
fn cluster_with(
    cfg: SwimConfig,
    n: usize,
    seed: u64,
    partitions: Vec<Partition>,
) -> Sim<SwimAgent> {
    let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    let mut net = fdsim::net::Network::new(&names);
    net.set_default_link(lan(100), seed);
    for p in partitions {
        net.add_partition(p);
    }
    let clocks = vec![fdsim::sim::Clock::default(); n];
    Sim::new(net, SwimAgent::cluster(cfg, n), clocks, seed)
}

/// Member `x` cut off from everyone, both ways, on `[from, to)`.
fn isolate(x: NodeId, n: usize, from: Nanos, to: Nanos) -> Partition {
    Partition {
        start: from,
        end: to,
        a: vec![x],
        b: (0..n as NodeId).filter(|&m| m != x).collect(),
        direction: Direction::Both,
        flap: None,
    }
}

/// For each member, the delay from `crash` to its first probe of
/// `victim` and the number of probes it started in between (that one
/// included); `None` for the victim itself.
fn first_probes(
    sim: &Sim<SwimAgent>,
    n: usize,
    victim: NodeId,
    crash: Nanos,
) -> Vec<(Nanos, usize)> {
    (0..n as NodeId)
        .filter(|&m| m != victim)
        .map(|m| {
            let after: Vec<_> = sim
                .agent(m)
                .probes()
                .iter()
                .filter(|p| p.0 >= crash)
                .collect();
            let i = after
                .iter()
                .position(|p| p.1 == victim)
                .unwrap_or_else(|| panic!("member {m} never probed {victim}"));
            (after[i].0 - crash, i + 1)
        })
        .collect()
}

/// SWIM §4.3: with round-robin over a list reshuffled at each pass, a
/// member probes every other member at least once in any 2n − 3
/// consecutive probes of its own (the victim probed first in one pass and
/// last in the next), so within 2n − 1 protocol periods of a crash every
/// live member has probed the crashed one. The suspicion timeout is made
/// long so that nobody declares the victim dead (and stops probing it)
/// before its own probe.
#[test]
fn round_robin_probes_a_crashed_member_within_2n_minus_1_periods() {
    for n in [4usize, 8, 16, 33] {
        let cfg = SwimConfig {
            record_probes: true,
            suspicion_mult: 200,
            ..preset("swim").unwrap()
        };
        let (mut worst_delay, mut worst_count) = (Nanos::ZERO, 0);
        for seed in 0..120u64 {
            let victim = (seed % n as u64) as NodeId;
            // Crash at a varying phase, after a few passes.
            let crash = Nanos::from_secs(3 * n as u64) + Nanos::from_millis(seed * 389 % 1000);
            let mut sim = cluster_with(cfg, n, seed, Vec::new());
            sim.schedule_crash(victim, crash);
            sim.run_until(crash + Nanos::from_secs(2 * n as u64 + 1));
            for (delay, count) in first_probes(&sim, n, victim, crash) {
                worst_delay = worst_delay.max(delay);
                worst_count = worst_count.max(count);
            }
        }
        eprintln!(
            "n = {n}: worst delay to a member's first probe {:.3} periods, worst probes {worst_count} (bound 2n - 3 = {})",
            worst_delay.as_secs_f64(),
            2 * n - 3
        );
        assert!(worst_count <= 2 * n - 3, "n = {n}: {worst_count} probes");
        assert!(worst_delay <= Nanos(T.as_nanos() * (2 * n as u64 - 3)));
        assert!(worst_delay < Nanos(T.as_nanos() * (2 * n as u64 - 1)));
        // The bound is approached: some member needed a second pass.
        assert!(worst_count > n - 1, "n = {n}: never needed a second pass");
    }
}

/// The same with uniformly random targets, for contrast: nothing bounds
/// the wait, and in a small cluster it often exceeds 2n − 1 periods.
#[test]
fn random_targets_have_no_such_bound() {
    let n = 4;
    let cfg = SwimConfig {
        record_probes: true,
        suspicion_mult: 200,
        selection: TargetSelection::Uniform,
        ..preset("swim").unwrap()
    };
    let crash = Nanos::from_millis(10_300);
    let mut over = 0;
    for seed in 0..40u64 {
        let mut sim = cluster_with(cfg, n, seed, Vec::new());
        sim.schedule_crash(0, crash);
        sim.run_until(crash + Nanos::from_secs(60));
        over += first_probes(&sim, n, 0, crash)
            .iter()
            .filter(|(d, _)| *d > Nanos(T.as_nanos() * (2 * n as u64 - 1)))
            .count();
    }
    // P(a member misses the victim 7 periods running) = (2/3)^7 ≈ 5.9 %,
    // so about 7 of the 120 waits.
    assert!(over > 0);
}
