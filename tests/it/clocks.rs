//! Per-node clocks (`[[clocks]]`): drift and offset, on small exact cases.
//!
//! A node's clock reads `offset + round(t·(1 + d·1e-6))` at true time t
//! (d = `drift_ppm`); its timers run on that clock. Every expected value
//! below is derived from that model and the constant delays of the
//! scenario; each tolerance says where its nanoseconds come from.

use fdsim::protocol::heartbeat::Logged;
use fdsim::run::{build_sim, run_seed};
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;
use std::path::Path;

const ETA: u64 = 100_000_000; // heartbeat interval, ns

/// A monitor and a target on a constant-delay link, with `extra` TOML
/// (clocks, faults) and `detectors`.
fn pair(duration: &str, delay: &str, extra: &str, detectors: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "{duration}"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = {{ dist = "constant", value = "{delay}" }}
        {extra}
        {detectors}
        "#
    ))
}

const FIXED: &str = "[[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"";

/// The arrivals the monitor (node 0) logged from the target (node 1).
fn arrivals(sc: &Scenario) -> Vec<Logged> {
    let (mut sim, _) = build_sim(sc, sc.seeds[0]);
    sim.run_until(sc.duration);
    sim.agent(0).arrivals_from(1).to_vec()
}

fn clock(node: &str, fields: &str) -> String {
    format!("[[clocks]]\nnode = \"{node}\"\n{fields}\n")
}

#[test]
fn a_drifting_target_sends_every_interval_of_its_own_clock() {
    // The target's timer spans η on its clock, which is η / (1 + d·1e-6)
    // of true time, rounded to the nanosecond once per timer; a perfect
    // monitor measures exactly that between arrivals, every time.
    for d in [250.0, -250.0, 37.5] {
        let sc = pair(
            "2m",
            "1ms",
            &clock("target", &format!("drift_ppm = {d}")),
            FIXED,
        );
        let a = arrivals(&sc);
        let span = (ETA as f64 / (1.0 + d * 1e-6)).round() as u64;
        assert_eq!(a.len() as u64, (sc.duration.0 - 1_000_000 - 1) / span + 1);
        for w in a.windows(2) {
            assert_eq!(w[1].arrival.at.0 - w[0].arrival.at.0, span, "drift {d}");
            assert_eq!(w[1].true_at.0 - w[0].true_at.0, span, "drift {d}");
        }
        // The send times it stamps are its own clock's readings at k·span
        // of true time: k·span·(1 + d·1e-6), rounded once (1/2 ns; the
        // float product adds far less than 1e-3 ns at these magnitudes).
        // Each timer's span being rounded to the nanosecond, the readings
        // run off k·η by k·(span·(1 + d·1e-6) − η), at most k/2 ns.
        for (k, l) in a.iter().enumerate() {
            let reading = k as f64 * span as f64 * (1.0 + d * 1e-6);
            let sent = l.arrival.sent.0 as f64;
            assert!((sent - reading).abs() <= 0.5 + 1e-3, "drift {d}, beat {k}");
            assert!((sent - (k as u64 * ETA) as f64).abs() <= 0.5 * k as f64 + 0.501);
        }
    }
}

#[test]
fn a_drifting_monitor_measures_true_intervals_scaled_by_its_rate() {
    // True inter-arrivals are exactly η; the monitor reads each arrival as
    // round(t·(1 + d·1e-6)), so a measured interval is within 1 ns of
    // η·(1 + d·1e-6) (two roundings of at most 1/2), and the sum of N of
    // them telescopes to within 1 ns of N·η·(1 + d·1e-6).
    for d in [250.0, -250.0] {
        let sc = pair(
            "2m",
            "1ms",
            &clock("monitor", &format!("drift_ppm = {d}")),
            FIXED,
        );
        let a = arrivals(&sc);
        let rate = 1.0 + d * 1e-6;
        let want = ETA as f64 * rate;
        for w in a.windows(2) {
            let got = (w[1].arrival.at.0 - w[0].arrival.at.0) as f64;
            assert!((got - want).abs() <= 1.0, "drift {d}: {got} vs {want}");
        }
        let n = (a.len() - 1) as f64;
        let total = (a[a.len() - 1].arrival.at.0 - a[0].arrival.at.0) as f64;
        assert!((total - n * want).abs() <= 1.0, "drift {d}: {total}");
        // Mapped back to true time: exact for a fast clock (it never reads
        // the same nanosecond twice); for a slow one, the earliest true
        // nanosecond with that reading, at most 1 ns early (a clock
        // slower by less than half reads one value for at most 2 ns).
        for (k, l) in a.iter().enumerate() {
            let truth = k as u64 * ETA + 1_000_000;
            if d > 0.0 {
                assert_eq!(l.true_at.0, truth, "beat {k}");
            } else {
                assert!(truth - l.true_at.0 <= 1, "beat {k}: {:?}", l.true_at);
            }
        }
    }
}

#[test]
fn an_offset_moves_the_clock_readings_and_nothing_else() {
    // Target 7 ms ahead: its send stamps read k·η + 7 ms.
    let sc = pair("10s", "1ms", &clock("target", "offset = \"7ms\""), FIXED);
    for (k, l) in arrivals(&sc).iter().enumerate() {
        let k = k as u64;
        assert_eq!(l.arrival.sent.0, k * ETA + 7_000_000);
        assert_eq!(l.arrival.at.0, k * ETA + 1_000_000);
        assert_eq!(l.true_at.0, k * ETA + 1_000_000);
    }
    // Target 7 ms behind: every clock is raised by 7 ms so none reads
    // below zero, which leaves the monitor 7 ms ahead of the target.
    let sc = pair("10s", "1ms", &clock("target", "offset = \"-7ms\""), FIXED);
    assert_eq!(sc.clocks[0].offset, Nanos::from_millis(7));
    assert_eq!(sc.clocks[1].offset, Nanos::ZERO);
    for (k, l) in arrivals(&sc).iter().enumerate() {
        let k = k as u64;
        assert_eq!(l.arrival.sent.0, k * ETA);
        assert_eq!(l.arrival.at.0 - l.arrival.sent.0, 8_000_000);
        assert_eq!(l.true_at.0, k * ETA + 1_000_000);
    }
}

/// Every kind, on a lossy, jittery link with a crash loop.
const ALL_KINDS: &str = r#"
[[detectors]]
kind = "fixed"
timeout = ["150ms", "300ms"]
[[detectors]]
kind = "chen-nfds"
delta = ["20ms", "100ms"]
[[detectors]]
kind = "chen"
alpha = ["5ms", "50ms"]
window = 100
[[detectors]]
kind = "bertier"
phi = [1, 4]
[[detectors]]
kind = "two-window"
alpha = ["5ms", "50ms"]
[[detectors]]
kind = "phi"
threshold = [1, 8]
min_std_deviation = "5ms"
first_heartbeat_estimate = "100ms"
[[detectors]]
kind = "phi-akka"
threshold = [1, 8]
min_std_deviation = "5ms"
acceptable_heartbeat_pause = "0s"
first_heartbeat_estimate = "100ms"
[[detectors]]
kind = "phi-exp"
threshold = [1, 8]
initial_value = "200ms"
max_interval = "200ms"
[[detectors]]
kind = "satzger"
threshold = [0.5, 0.99]
"#;

fn lossy_with(clocks: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "30m"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = {{ dist = "lognormal", median = "2ms", sigma = 0.8 }}
        loss = 0.02
        [[faults]]
        kind = "crash-loop"
        node = "target"
        first = "1m"
        every = "3m"
        down = "10s"
        jitter = "2m"
        {clocks}
        {ALL_KINDS}
        "#
    ))
}

#[test]
fn constant_offsets_change_no_result_except_nfds() {
    // Every detector but NFD-S compares only times read on the monitor's
    // clock, so shifting that clock or the target's by a constant leaves
    // every figure identical; NFD-S compares the target's stamps with the
    // monitor's clock and sees the offset.
    let base = run_seed(&lossy_with(""), 3);
    let shifted_clocks = format!(
        "{}{}",
        clock("monitor", "offset = \"3s\""),
        clock("target", "offset = \"-250ms\"")
    );
    let shifted = run_seed(&lossy_with(&shifted_clocks), 3);
    let sc = lossy_with("");
    for (d, cfg) in sc.detectors.iter().enumerate() {
        if cfg.kind.name == "chen-nfds" {
            assert_ne!(base.qos[d], shifted.qos[d], "NFD-S sees the offset");
        } else {
            assert_eq!(base.qos[d], shifted.qos[d], "{}", cfg.label);
        }
    }
    assert!(base.qos[0][0].mistakes > 0 && base.qos[0][0].crashes() > 5);
}

const NFDS: &str = "[[detectors]]\nkind = \"chen-nfds\"\ndelta = \"50ms\"";

#[test]
fn nfds_suspects_part_of_every_interval_once_the_target_is_behind_by_more_than_delta_minus_the_delay(
) {
    // Delay L = 10 ms, δ = 50 ms, target clock X behind: NFD-S suspects
    // from (k+1)·η + δ − X (true time) until the arrival at (k+1)·η + L,
    // i.e. for X + L − δ of every interval when that is in (0, η).
    let run = |behind_ms: u64| {
        let sc = pair(
            "10m",
            "10ms",
            &clock("target", &format!("offset = \"-{behind_ms}ms\"")),
            NFDS,
        );
        run_seed(&sc, 1).qos[0][0].clone()
    };
    // X = 30 ms < δ − L: never suspects; trusted from the first arrival.
    let q = run(30);
    assert_eq!(q.mistakes, 0);
    assert_eq!(
        q.up_time,
        (Nanos::from_secs(600) - Nanos::from_millis(10)).into()
    );
    // X = 45 ms: 6000 arrivals; a 5 ms mistake after each but the last
    // (whose freshness point, 6000·η + 5 ms, is past the end).
    let q = run(45);
    assert_eq!(q.mistakes, 5999);
    assert_eq!(q.mistake_time, Nanos(5_000_000 * 5999).into());
    assert_eq!(q.suspect_time, q.mistake_time);
    assert_eq!(
        q.up_time,
        (Nanos::from_secs(600) - Nanos::from_millis(10)).into()
    );
    // X = η + δ − L = 140 ms: suspicion at each arrival is already δ, so
    // the monitor never trusts the target and no accuracy period starts.
    let q = run(140);
    assert_eq!((q.mistakes, q.up_time), (0, Nanos::ZERO.into()));
    // One nanosecond less and it trusts at each of the 6000 arrivals, for
    // 1 ns, then suspects again: one mistake per arrival, the last one too.
    let sc = pair(
        "10m",
        "10ms",
        &clock("target", "offset = \"-139999999ns\""),
        NFDS,
    );
    let q = &run_seed(&sc, 1).qos[0][0];
    assert_eq!(q.mistakes, 6000);
    assert_eq!(
        q.up_time,
        (Nanos::from_secs(600) - Nanos::from_millis(10)).into()
    );
    assert_eq!(q.suspect_time.0, q.up_time.0 - 6000);
}

#[test]
fn a_target_clock_ahead_delays_every_nfds_detection_by_exactly_the_offset() {
    let crashes = r#"
        [[faults]]
        kind = "crash-loop"
        node = "target"
        first = "1m"
        every = "3m"
        down = "20s"
        jitter = "2m"
    "#;
    let synced = pair("1h", "10ms", crashes, NFDS);
    let ahead = pair(
        "1h",
        "10ms",
        &format!("{crashes}\n{}", clock("target", "offset = \"70ms\"")),
        NFDS,
    );
    let a = &run_seed(&synced, 1).qos[0][0];
    let b = &run_seed(&ahead, 1).qos[0][0];
    assert!(a.detections.len() >= 15);
    assert_eq!(
        (a.mistakes, b.mistakes, a.undetected, b.undetected),
        (0, 0, 0, 0)
    );
    let shifted: Vec<Nanos> = a
        .detections
        .iter()
        .map(|&t| t + Nanos::from_millis(70))
        .collect();
    assert_eq!(b.detections, shifted);
}

#[test]
fn nfde_sees_a_slow_sender_late_by_a_constant_set_by_its_window() {
    // Target 50 ppm slow: it sends every S = round(η / (1 − 5e-5)) =
    // 100_005_000 ns of true time, while NFD-E expects η. Over a window of
    // m consecutive heartbeats (A_i = i·S + L), the next arrival comes
    // exactly (S − η)·(m + 1)/2 = 2500·(m + 1) ns after the estimate EA,
    // whenever it is: no growth with time. With α = 2 ms, gap j (after
    // arrival j, window m = min(j + 1, 1000)) holds a mistake iff
    // 2500·(m + 1) > α, lasting 2500·(m + 1) − α.
    let sc = pair(
        "10m",
        "1ms",
        &clock("target", "drift_ppm = -50"),
        "[[detectors]]\nkind = \"chen\"\nalpha = [\"2ms\", \"2.6ms\"]",
    );
    let s = (ETA as f64 / (1.0 - 50e-6)).round() as u64;
    assert_eq!(s, 100_005_000);
    let late = |m: u64| (s - ETA) * (m + 1) / 2;
    let n_arrivals = (sc.duration.0 - 1_000_000 - 1) / s + 1;
    assert_eq!(n_arrivals, 6000);
    let alpha = 2_000_000;
    // Gaps after arrivals 0..n−2 (the last one's deadline is past the end).
    let (mut mistakes, mut time) = (0u64, 0u64);
    for j in 0..n_arrivals - 1 {
        let l = late((j + 1).min(1000));
        if l > alpha {
            mistakes += 1;
            time += l - alpha;
        }
    }
    assert_eq!(mistakes, 6000 - 800);
    let q = run_seed(&sc, 1).qos;
    assert_eq!(q[0][0].mistakes, mistakes);
    assert_eq!(q[0][0].mistake_time, Nanos(time).into());
    // The full-window lateness, 2.5025 ms, is below 2.6 ms: no mistakes.
    assert_eq!(late(1000), 2_502_500);
    assert_eq!(q[0][1].mistakes, 0);
}

#[test]
fn nfds_under_a_slow_sender_clock_suspects_more_and_more_then_for_good() {
    // Target 50 ppm slow, perfect monitor, delay L = 1 ms, δ = 20 ms.
    // Heartbeat k is sent at true T_k = k·S (S = 100_005_000 ns) and
    // stamped σ_k = T_k·(1 − 5e-5), so it lags by T_k − σ_k = 5000.25·k ns.
    // At arrival k (at T_k + L) the monitor trusts iff
    // T_k + L − σ_k − η < δ; if it trusts, it suspects from σ_k + η + δ
    // until the next arrival (or the end): a mistake iff that comes first.
    // So mistakes start at the first k with lag > δ − L − (S − η)
    // (k1 = 3799, 6.3 min) and trust ends for good at the first k with
    // lag ≥ δ + η − L (k2 = 23799, 39.7 min): k2 − k1 = 20000 mistakes,
    // the last one lasting to the end of the run.
    let sc = pair(
        "1h",
        "1ms",
        &clock("target", "drift_ppm = -50"),
        "[[detectors]]\nkind = \"chen-nfds\"\ndelta = \"20ms\"",
    );
    let (s, l, delta, eta) = (100_005_000.0, 1e6, 20e6, ETA as f64);
    let end = sc.duration.0 as f64;
    let (k1, k2) = (
        ((delta - l - (s - eta)) / 5000.25).floor() + 1.0,
        ((delta + eta - l) / 5000.25).ceil(),
    );
    assert_eq!((k1, k2), (3799.0, 23799.0));
    // The same model, step by step, for the suspect time.
    let (mut mistakes, mut suspect, mut trusting) = (0u64, 0.0, false);
    let mut k = 0.0;
    while k * s + l < end {
        let (arrival, sigma) = (k * s + l, k * s - 5000.25 * k);
        let next = ((k + 1.0) * s + l).min(end);
        if arrival - sigma - eta < delta {
            trusting = true;
        }
        if !trusting {
            suspect += next - arrival;
        } else if sigma + eta + delta < next {
            mistakes += 1;
            suspect += next - (sigma + eta + delta);
            trusting = false;
        }
        k += 1.0;
    }
    assert_eq!(mistakes as f64, k2 - k1);
    // The simulation rounds each stamp to the nanosecond (±1/2 ns) and
    // each crossing up to the next nanosecond: a boundary case at either
    // end may gain or lose its mistake (±1 each), and each gap's suspect
    // time may differ by up to 2 ns.
    let q = &run_seed(&sc, 1).qos[0][0];
    assert!(
        q.mistakes.abs_diff(mistakes) <= 2,
        "{} vs {mistakes}",
        q.mistakes
    );
    let got = q.suspect_time.0 as f64;
    assert!((got - suspect).abs() <= 2.0 * k, "{got} vs {suspect}");
    assert_eq!(q.up_time, (sc.duration - Nanos::from_millis(1)).into());
}

#[test]
fn clock_errors_name_the_field_with_its_position() {
    let bad = |clocks: &str| {
        let text = format!(
            "duration = \"1h\"\n[heartbeat]\ninterval = \"100ms\"\n{clocks}\n[network]\n\
             latency = {{ dist = \"constant\", value = \"1ms\" }}\n\
             [[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n"
        );
        match Scenario::parse(Path::new("c.toml"), &text) {
            Ok(_) => panic!("expected an error for {clocks}"),
            Err(e) => e.to_string(),
        }
    };
    let e = bad("[[clocks]]\nnode = \"nope\"");
    assert!(
        e.starts_with(
            "c.toml:5:8: `clocks.node`: unknown node \"nope\"; nodes are \"monitor\", \"target\""
        ),
        "{e}"
    );
    let e = bad("[[clocks]]\nnode = \"target\"\ndrift_ppm = 20000");
    assert!(
        e.starts_with("c.toml:6:13: `clocks.drift_ppm` must be in [-10000, 10000]"),
        "{e}"
    );
    let e = bad("[[clocks]]\nnode = \"target\"\noffset = \"-5\"");
    assert!(
        e.starts_with("c.toml:6:10: `clocks.offset`: duration \"5\" has no unit"),
        "{e}"
    );
    let e = bad("[[clocks]]\nnode = \"target\"\noffset = \"2d\"");
    assert!(
        e.starts_with("c.toml:6:10: `clocks.offset` must be within one day"),
        "{e}"
    );
    let e = bad("[[clocks]]\nnode = \"target\"\n[[clocks]]\nnode = \"target\"");
    assert!(
        e.starts_with("c.toml:7:8: node \"target\" has two [[clocks]] entries"),
        "{e}"
    );
    let e = bad("[[clocks]]\nnode = \"target\"\nskew = 3");
    assert!(e.starts_with("c.toml:6:1: unknown field `skew`"), "{e}");
}

#[test]
fn without_clocks_every_node_has_a_perfect_clock() {
    let sc = pair("1m", "1ms", "", FIXED);
    assert!(sc.clocks.iter().all(|c| *c == fdsim::sim::Clock::default()));
    assert_eq!(sc.clocks.len(), sc.nodes.len());
}
