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
            end += T;
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
        let p = 1.0 - fdsim::math::powf(1.0 - 1.0 / m, m);
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

/// Every member's current opinion of `subject`, the subject excluded.
fn opinions(sim: &Sim<SwimAgent>, n: usize, subject: NodeId) -> Vec<Verdict> {
    (0..n as NodeId)
        .filter(|&m| m != subject)
        .map(|m| sim.agent(m).verdict(subject))
        .collect()
}

fn ever(sim: &Sim<SwimAgent>, n: usize, verdict: Verdict) -> Vec<MembershipEvent> {
    (0..n as NodeId)
        .flat_map(|m| sim.agent(m).events().iter().copied())
        .filter(|e| e.verdict == verdict)
        .collect()
}

#[test]
fn a_crashed_member_is_declared_dead_by_all_and_taken_back_after_a_restart() {
    let n = 24;
    let mut sim = cluster_sim(SwimConfig::default(), n, lan(200), 3);
    sim.schedule_crash(7, Nanos::from_secs(30));
    sim.schedule_restart(7, Nanos::from_secs(120));
    sim.run_until(Nanos::from_secs(119));
    assert!(opinions(&sim, n, 7).iter().all(|v| *v == Verdict::Dead));
    // Only member 7 was ever suspected: a quiet network gives no false
    // suspicions.
    assert!(ever(&sim, n, Verdict::Suspect)
        .iter()
        .all(|e| e.subject == 7));
    sim.run_until(Nanos::from_secs(180));
    assert!(opinions(&sim, n, 7).iter().all(|v| *v == Verdict::Alive));
    assert_eq!(sim.agent(7).incarnation_of(7), 1 << 20, "second life");
    assert!(sim.stats().balanced());
}

/// Runs `seeds` clusters in which member `x` is cut off from everyone
/// for `cut` at 20 s, and returns, for each run in which someone
/// suspected `x`, the delay from the end of the cut to the first member
/// hearing its refutation (an `Alive` verdict about `x`; `None` if
/// nobody did within 100 s), and whether anyone declared it dead.
fn false_suspicions(
    cfg: SwimConfig,
    n: usize,
    cut: Nanos,
    seeds: u64,
) -> Vec<(Option<Nanos>, bool)> {
    let x = 5;
    let from = Nanos::from_secs(20);
    let mut out = Vec::new();
    for seed in 0..seeds {
        let cut_off = isolate(x, n, from, from + cut);
        let mut sim = cluster_with(cfg, n, 100 + seed, vec![cut_off]);
        sim.run_until(Nanos::from_secs(120));
        if first_suspicion(&sim, n, x, from).is_none() {
            continue;
        }
        let healed = from + cut;
        let about_x = |v: Verdict| {
            (0..n as NodeId)
                .flat_map(|m| sim.agent(m).events().iter())
                .filter(move |e| e.subject == x && e.verdict == v)
        };
        let refuted = about_x(Verdict::Alive).map(|e| e.at - healed).min();
        let declared_dead = about_x(Verdict::Dead).next().is_some();
        out.push((refuted, declared_dead));
    }
    out
}

/// Mean refutation delay, counting a refutation never heard as 100 s.
fn mean_secs(v: &[(Option<Nanos>, bool)]) -> f64 {
    let secs = |d: Option<Nanos>| d.map_or(100.0, |d| d.as_secs_f64());
    v.iter().map(|r| secs(r.0)).sum::<f64>() / v.len() as f64
}

#[test]
fn a_falsely_suspected_member_refutes_and_is_not_declared_dead() {
    let n = 16;
    let runs = false_suspicions(SwimConfig::default(), n, Nanos::from_secs(3), 12);
    eprintln!("memberlist-lan, 3 s cut: {runs:?}");
    assert!(runs.len() >= 8, "too few false suspicions: {}", runs.len());
    assert!(runs.iter().all(|r| r.0.is_some()), "{runs:?}");
    // The refutation goes out λ·⌈log10(n + 1)⌉ = 8 times from each of the
    // 15 others, each time to a random member: one member misses all 120
    // with probability (14/15)^120 ≈ 2.5e-4, some member in a run about
    // 0.35 % of the time, and that member may then time its suspicion out.
    // One such run in twelve is chance; two would be a fault.
    let dead = runs.iter().filter(|r| r.1).count();
    assert!(dead <= 1, "{dead} runs declared it dead: {runs:?}");
}

/// Member `x` is cut off for 5 s: long enough for its suspicion to reach
/// everyone and for every piggyback queue to have sent it its
/// λ·log(n) times, shorter than the suspicion timeout (9 s with
/// `suspicion_mult` 6 and 32 members). After the cut nothing is left to
/// tell `x` it is suspected, except the buddy system: the next ping from
/// any member that suspects it carries the suspicion, and `x` refutes at
/// once. Without it, `x` hears nothing until it is declared dead and the
/// gossip to the recently dead reaches it, so it refutes later and only
/// after some members have declared it dead.
#[test]
fn the_buddy_system_makes_refutation_faster() {
    let n = 32;
    let cut = Nanos::from_secs(5);
    // Push-pull off: its exchanges would also tell `x` (within the
    // 30 s interval) that it is suspected.
    let with_buddy = SwimConfig {
        suspicion_mult: 6,
        ..SwimConfig::default().without_push_pull()
    };
    let without_buddy = SwimConfig {
        buddy: false,
        ..with_buddy
    };
    let with = false_suspicions(with_buddy, n, cut, 12);
    let without = false_suspicions(without_buddy, n, cut, 12);
    let (w, wo) = (mean_secs(&with), mean_secs(&without));
    eprintln!("buddy: mean {w:.2} s {with:?}\nno buddy: mean {wo:.2} s {without:?}");
    assert!(with.len() >= 10 && without.len() >= 10);
    assert!(with.iter().all(|r| r.0.is_some() && !r.1), "{with:?}");
    let dead = without.iter().filter(|r| r.1).count();
    assert!(
        dead >= 3,
        "without buddy, declared dead in only {dead} runs"
    );
    assert!(2.0 * w < wo, "buddy {w:.2} s vs without {wo:.2} s");
}

/// Lifeguard's local health: a member that can send but hears nobody
/// fails every probe and gets no nacks, so its score climbs to the
/// maximum and its probes (and the false accusations they raise) slow
/// down eightfold.
#[test]
fn a_member_that_hears_nobody_slows_down_its_accusations() {
    let n = 16;
    let x = 3;
    let deaf = Partition {
        start: Nanos::from_secs(10),
        end: Nanos::from_secs(100),
        a: vec![x],
        b: (0..n as NodeId).filter(|&m| m != x).collect(),
        direction: Direction::BToA,
        flap: None,
    };
    let accusations = |cfg: SwimConfig| {
        let mut sim = cluster_with(cfg, n, 8, vec![deaf.clone()]);
        sim.run_until(Nanos::from_secs(40));
        let count = sim
            .agent(x)
            .events()
            .iter()
            .filter(|e| e.verdict == Verdict::Suspect)
            .count();
        (count, sim.agent(x).health_score())
    };
    let (with, score) = accusations(SwimConfig::default());
    let (without, score_off) = accusations(SwimConfig {
        local_health: false,
        ..SwimConfig::default()
    });
    eprintln!(
        "suspicions raised in 30 s: {with} with local health (score {score}), {without} without"
    );
    assert_eq!(score, 7, "the score should be at its maximum");
    assert_eq!(score_off, 0);
    assert!(2 * with < without, "{with} vs {without}");
}

fn run_log(seed: u64) -> (Vec<MembershipEvent>, fdsim::sim::NetStats) {
    let n = 20;
    let lossy = LinkModel::new(
        Latency::LogNormal {
            median: 300_000.0,
            sigma: 0.6,
        },
        0.02,
    );
    let mut sim = cluster_sim(SwimConfig::default(), n, lossy, seed);
    sim.schedule_crash(4, Nanos::from_secs(20));
    sim.schedule_restart(4, Nanos::from_secs(50));
    sim.schedule_crash(11, Nanos::from_secs(35));
    sim.run_until(Nanos::from_secs(90));
    let stats = sim.stats();
    let mut agents = sim.into_agents();
    let mut log: Vec<MembershipEvent> = agents.iter_mut().flat_map(|a| a.take_events()).collect();
    assert!(
        agents.iter().all(|a| a.events().is_empty()),
        "take_events empties the log"
    );
    log.sort();
    (log, stats)
}

#[test]
fn the_same_seed_gives_the_same_event_log() {
    let (a, stats_a) = run_log(21);
    let (b, stats_b) = run_log(21);
    let (c, _) = run_log(22);
    assert!(a.len() > 40, "too few events to compare: {}", a.len());
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(stats_a, stats_b);
    assert!(stats_a.balanced());
    assert_ne!(a, c, "another seed should differ");
}

fn suspect(subject: u32, incarnation: u32) -> fdsim::protocol::swim::Update {
    fdsim::protocol::swim::Update {
        kind: fdsim::protocol::swim::UpdateKind::Suspect,
        subject,
        incarnation,
        from: 0,
    }
}

proptest::proptest! {
    /// Whatever the buffer, the name length, the message and the updates
    /// queued, a packed message fits in the UDP buffer, and its size is
    /// what the model says it is.
    #[test]
    fn packing_never_exceeds_the_buffer(
        buffer in 0u32..1500,
        name_length in 1u32..64,
        queued in proptest::collection::vec((0u32..3, 0u32..40, proptest::prelude::any::<u32>()), 0..120),
        kinds in proptest::collection::vec((0usize..5, proptest::prelude::any::<u32>()), 1..12),
    ) {
        use fdsim::protocol::swim::{BroadcastQueue, Kind, Piggyback, SwimMsg, UpdateKind, WireModel};
        let wire = WireModel { udp_buffer_size: 0, name_length };
        let wire = WireModel { udp_buffer_size: wire.min_buffer() + buffer, ..wire };
        let mut q = BroadcastQueue::default();
        for (kind, subject, inc) in queued {
            let u = fdsim::protocol::swim::Update {
                kind: [UpdateKind::Alive, UpdateKind::Suspect, UpdateKind::Dead][kind as usize],
                ..suspect(subject, inc)
            };
            q.queue(u, wire.update(&u));
        }
        for (k, seq) in kinds {
            let kind = [Kind::Ping, Kind::Ack, Kind::PingReq, Kind::Nack, Kind::Gossip][k];
            let mut msg = SwimMsg::new(kind, seq, 1);
            let mut updates = Piggyback::default();
            let used = q.fill(&mut updates, wire.room(&msg), 3);
            msg.updates = updates;
            let bytes = wire.bytes(&msg);
            proptest::prop_assert!(bytes <= wire.udp_buffer_size, "{bytes} > {}", wire.udp_buffer_size);
            let alone = wire.bytes(&SwimMsg::new(kind, seq, 1));
            if kind != Kind::Gossip && !msg.updates.is_empty() {
                proptest::prop_assert_eq!(bytes, alone + 2 + 2 + used);
            }
        }
    }
}

/// Forty suspicions queued, and room for about twenty on a packet:
/// the first packet takes the newest twenty, the second the twenty not
/// yet sent (fewer transmissions go first, whatever their age), and only
/// the third goes back to those sent once, the newest first.
#[test]
fn fewer_transmitted_updates_go_first() {
    use fdsim::protocol::swim::{BroadcastQueue, Kind, SwimMsg, WireModel};
    let wire = WireModel::default();
    let mut q = BroadcastQueue::default();
    for s in 0..40 {
        q.queue(suspect(s, 0), wire.update(&suspect(s, 0)));
    }
    let mut packet = || {
        let mut msg = SwimMsg::new(Kind::Gossip, 0, 1);
        let room = wire.room(&msg);
        q.fill(&mut msg.updates, room, 10);
        assert!(wire.bytes(&msg) <= 1400);
        let mut got: Vec<u32> = msg.updates.as_slice().iter().map(|u| u.subject).collect();
        got.sort_unstable();
        got
    };
    // 1,400 − 2 bytes, 59 + 2 bytes an update: 22 fit (1,342 bytes).
    let (first, second, third) = (packet(), packet(), packet());
    assert_eq!(first, (18..40).collect::<Vec<_>>(), "the newest 22");
    assert_eq!(
        second,
        (0..18)
            .collect::<Vec<_>>()
            .into_iter()
            .chain(36..40)
            .collect::<Vec<_>>(),
        "the 18 never sent, then the newest 4 of those sent once"
    );
    assert_eq!(
        third,
        (14..36).collect::<Vec<_>>(),
        "the newest 22 sent once"
    );
}

/// n = 16 in steady state (no faults, no loss, ticks in lockstep, 100 s):
/// every member sends one ping a second and answers one, with nothing to
/// piggyback: 89 + 18 = 107 bytes a second over UDP (`ping` with a 16-byte
/// name and a sequence number below 128, `ackResp`); and one push-pull
/// every 30 s (at 30, 60 and 90 s), each way 29 bytes of header and 78 a
/// member (a 16-byte name, incarnation 0): 2 · 1,277 bytes over TCP. The
/// worked example of docs/swim.md.
#[test]
fn bytes_per_member_match_the_hand_computation() {
    let cfg = SwimConfig {
        stagger: false,
        ..SwimConfig::default()
    };
    let n = 16u64;
    let mut sim = cluster_sim(cfg, n as usize, lan(100), 5);
    sim.run_until(Nanos::from_millis(100_500));
    let st = sim.stats();
    assert_eq!(st.sent, n * (100 * 2 + 3 * 2), "{st:?}");
    assert_eq!(st.stream_bytes_sent, n * 3 * 2 * (29 + 16 * 78));
    assert_eq!(st.bytes_sent - st.stream_bytes_sent, n * 100 * (89 + 18));
}

/// Plain SWIM whose updates barely spread: no gossip round, each update
/// piggybacked twice (λ = 1 at n = 16), so most members miss a restarted
/// member's alive and keep it Dead unless something repairs the view.
fn weak_dissemination(push_pull: Nanos) -> SwimConfig {
    SwimConfig {
        retransmit_mult: 1,
        push_pull_interval: push_pull,
        ..preset("swim").unwrap()
    }
}

const VICTIM: NodeId = 7;
const RESTART: Nanos = Nanos::from_secs(60);

/// Member 7 crashes at 20 s and restarts at 60 s; `cut` members are
/// cut off from it (both ways) for the whole run. Runs to `until`, after
/// checking that every other member held it Dead before the restart.
fn restarted(cfg: SwimConfig, n: usize, seed: u64, cut: &[NodeId], until: Nanos) -> Sim<SwimAgent> {
    let partitions = cut
        .iter()
        .map(|&m| Partition {
            start: Nanos::ZERO,
            end: Nanos::from_secs(3600),
            a: vec![m],
            b: vec![VICTIM],
            direction: Direction::Both,
            flap: None,
        })
        .collect();
    let mut sim = cluster_with(cfg, n, seed, partitions);
    sim.schedule_crash(VICTIM, Nanos::from_secs(20));
    sim.schedule_restart(VICTIM, RESTART);
    sim.run_until(RESTART - Nanos(1));
    assert!(
        opinions(&sim, n, VICTIM)
            .iter()
            .all(|v| *v == Verdict::Dead),
        "seed {seed}: {:?}",
        opinions(&sim, n, VICTIM)
    );
    sim.run_until(until);
    sim
}

/// Members (other than the victim) that still hold the victim Dead.
fn holding_dead(sim: &Sim<SwimAgent>, n: usize) -> usize {
    opinions(sim, n, VICTIM)
        .iter()
        .filter(|v| **v == Verdict::Dead)
        .count()
}

/// Without push-pull, a member that missed the alive of a restarted
/// member would hold it Dead for ever, as it never probes a member it
/// holds Dead. But the restarted member probes every member within its
/// first round-robin pass (n − 1 periods after its first tick, itself
/// within a period of the restart), and a member that holds the pinger
/// Dead says so on its ack; the pinger, alive at a higher incarnation,
/// answers with its alive directly. So every view is repaired within n
/// periods of the restart (plus two network delays).
#[test]
fn a_restarted_member_is_alive_everywhere_within_n_periods_without_push_pull() {
    let n = 16;
    let mut told = 0;
    for seed in 0..10 {
        let cfg = weak_dissemination(Nanos::ZERO);
        let early = restarted(cfg, n, seed, &[], RESTART + Nanos::from_secs(3));
        let stale_early = holding_dead(&early, n);
        let sim = restarted(
            cfg,
            n,
            seed,
            &[],
            RESTART + Nanos::from_secs(n as u64) + Nanos::from_millis(100),
        );
        assert_eq!(holding_dead(&sim, n), 0, "seed {seed}");
        assert!(opinions(&sim, n, VICTIM)
            .iter()
            .all(|v| *v == Verdict::Alive));
        let victim = sim.agent(VICTIM).stats();
        told += victim.reannouncements;
        // Only the join exchange: periodic push-pull is off.
        assert_eq!(victim.push_pulls, 1, "seed {seed}");
        eprintln!("seed {seed}: {stale_early} members still held it Dead 3 s after the restart");
    }
    // The alive alone reached few members: the repair did the work.
    assert!(told >= 10, "{told} re-announcements");
}

/// Member 3 cannot reach the restarted member, so neither the alive's
/// direct repair nor its probes help it; what it missed of the alive's
/// piggybacks only a state exchange repairs. With push-pull every 10 s
/// (n = 16, unscaled) every view is repaired within about one interval of
/// the others knowing (n periods after the restart); without, member 3
/// is left holding the restarted member Dead in some runs (the alive
/// reaches it through third parties' piggybacks in most).
#[test]
fn push_pull_repairs_a_stale_view_within_about_one_interval() {
    let n = 16;
    let every = Nanos::from_secs(10);
    let by = RESTART + Nanos::from_secs(n as u64 + 1) + every;
    let mut stale_without = 0;
    for seed in 0..20 {
        let with = restarted(weak_dissemination(every), n, seed, &[3], by);
        assert_eq!(holding_dead(&with, n), 0, "seed {seed}");
        assert!(with.agent(3).stats().push_pulls >= 2, "seed {seed}");
        let without = restarted(weak_dissemination(Nanos::ZERO), n, seed, &[3], by);
        stale_without += usize::from(without.agent(3).verdict(VICTIM) == Verdict::Dead);
    }
    eprintln!("{stale_without} of 20 runs left member 3 stale without push-pull");
    assert!(
        stale_without >= 2,
        "{stale_without} of 20 runs left member 3 stale"
    );
}

/// The join exchange: a restarted member learns from the member it
/// joins through which members are down (as suspects first, as
/// memberlist merges a remote Dead), instead of probing each in turn.
#[test]
fn a_restarted_member_learns_who_is_down_from_its_join() {
    let n = 16;
    let cfg = weak_dissemination(Nanos::ZERO);
    let mut learned = 0;
    for seed in 0..12 {
        let mut sim = cluster_with(cfg, n, seed, vec![]);
        sim.schedule_crash(2, Nanos::from_secs(10));
        sim.schedule_crash(VICTIM, Nanos::from_secs(20));
        sim.schedule_restart(VICTIM, RESTART);
        sim.run_until(RESTART + Nanos::from_millis(500));
        let about_2: Vec<Verdict> = sim
            .agent(VICTIM)
            .events()
            .iter()
            .filter(|e| e.subject == 2 && e.at > RESTART)
            .map(|e| e.verdict)
            .collect();
        // The exchange goes to a member it believes alive: member 2
        // itself one time in 15, and then nothing comes back.
        if !about_2.is_empty() {
            assert_eq!(about_2, vec![Verdict::Suspect], "seed {seed}");
            learned += 1;
        }
    }
    assert!(
        learned >= 10,
        "learned within half a period in {learned} of 12 runs"
    );
}
