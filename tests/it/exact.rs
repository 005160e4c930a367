//! Exact cases with known answers: constant delays, with and without loss.

use fdsim::fault;
use fdsim::metrics::Summary;
use fdsim::run::run_seed;
use fdsim::sim::Nanos;

const INTERVAL_MS: u64 = 100;
const DELAY_MS: u64 = 5;

fn constant_pair(loss: f64, extra: &str, timeouts: &str) -> fdsim::scenario::Scenario {
    super::scenario(&format!(
        r#"
        duration = "6h"
        seeds = 1
        [heartbeat]
        interval = "{INTERVAL_MS}ms"
        [network]
        latency = {{ dist = "constant", value = "{DELAY_MS}ms" }}
        loss = {loss}
        {extra}
        [[detectors]]
        kind = "fixed"
        timeout = {timeouts}
        "#
    ))
}

/// The last heartbeat of the incarnation that crashes at `crash` was sent
/// at the last multiple of the interval (counted from the incarnation's
/// start) strictly before the crash: a crash at a send instant happens
/// first, as faults are scheduled before the run.
fn last_send_before(start: Nanos, crash: Nanos) -> Nanos {
    let eta = Nanos::from_millis(INTERVAL_MS).0;
    let k = (crash.0 - start.0 - 1) / eta;
    Nanos(start.0 + k * eta)
}

#[test]
fn no_loss_means_no_mistakes_and_detection_time_fixed_by_crash_phase() {
    let crashes = r#"
        [[faults]]
        kind = "crash-loop"
        node = "target"
        first = "1m"
        every = "5m"
        down = "30s"
        jitter = "4m"
    "#;
    let sc = constant_pair(0.0, crashes, r#"["101ms", "150ms", "250ms", "1s"]"#);
    let seed = sc.seeds[0];
    let res = run_seed(&sc, seed);
    let outages = fault::outages(&sc.faults, seed, sc.duration, &sc.nodes);
    assert!(outages.len() > 60);
    for (v, &timeout_ns) in sc.detectors[0].values.iter().enumerate() {
        let q = &res.qos[0][v];
        assert_eq!(q.mistakes, 0, "timeout {timeout_ns} ns above the interval");
        assert_eq!(q.query_accuracy(), Some(1.0));
        assert_eq!(q.undetected, 0);
        let mut start = Nanos::ZERO;
        let expected: Vec<Nanos> = outages
            .iter()
            .map(|o| {
                let last = last_send_before(start, o.crash);
                start = o.restart.unwrap();
                let suspect = last + Nanos::from_millis(DELAY_MS) + Nanos(timeout_ns as u64);
                suspect - o.crash
            })
            .collect();
        assert_eq!(q.detections, expected, "timeout {timeout_ns} ns");
    }
}

#[test]
fn a_timeout_below_the_interval_suspects_between_every_pair_of_heartbeats() {
    let sc = constant_pair(0.0, "", r#"["60ms"]"#);
    let q = &run_seed(&sc, 1).qos[0][0];
    // One mistake per interval, each lasting interval - timeout.
    let heartbeats = sc.duration.0 / Nanos::from_millis(INTERVAL_MS).0;
    assert!(q.mistakes.abs_diff(heartbeats) <= 1, "{}", q.mistakes);
    // Every mistake lasts 40 ms except the last, cut short by the end of
    // the run, which can pull the mean down by at most 40 ms / mistakes.
    let mean = q.mean_mistake().unwrap().0;
    let slack = Nanos::from_millis(40).0 / q.mistakes + 1;
    assert!(Nanos::from_millis(40).0 - mean <= slack, "{mean}");
    let pa = q.query_accuracy().unwrap();
    assert!((pa - 0.6).abs() < 1e-6, "{pa}");
}

#[test]
fn loss_gives_the_mistake_rate_and_duration_that_follow_from_it() {
    // With a constant delay and a timeout τ in (η, 2η), a mistake starts
    // exactly when a received heartbeat is followed by a lost one: each
    // interval slot starts a mistake with probability q = (1 − p)·p. It ends
    // at the next received heartbeat: after L ≥ 1 losses the silence is
    // (L + 1)η and the mistake lasts (L + 1)η − τ, where L − 1 is geometric,
    // so E(T_M) = η·(1 + 1/(1 − p)) − τ.
    let p = 0.1;
    let tau_ms = 150.0;
    let sc = constant_pair(p, "", r#"["150ms"]"#);
    let s = Summary::pool(
        sc.seeds
            .iter()
            .map(|&seed| run_seed(&sc, seed).qos[0][0].clone())
            .collect::<Vec<_>>()
            .iter(),
    );
    let slots = sc.duration.0 as f64 / 1e8;
    let q = (1.0 - p) * p;
    let expected = slots * q;
    // The count of "received, then lost" patterns in n slots has variance
    // n·q·(1 − 3q) + O(q²) ≤ n·q; allow five standard deviations.
    let tol = 5.0 * (slots * q).sqrt();
    let got = s.mistakes as f64;
    assert!(
        (got - expected).abs() < tol,
        "mistakes {got} vs {expected} ± {tol}"
    );

    let eta = INTERVAL_MS as f64;
    let want_tm = eta * (1.0 + 1.0 / (1.0 - p)) - tau_ms;
    // Duration = η·(L+1) − τ; Var(L) = p/(1 − p)², so the mean of `got`
    // mistakes has standard error η·sqrt(p)/(1 − p)/sqrt(got).
    let tm_tol = 5.0 * eta * p.sqrt() / (1.0 - p) / got.sqrt();
    let tm = s.mean_mistake().unwrap().as_millis_f64();
    assert!(
        (tm - want_tm).abs() < tm_tol,
        "E(T_M) {tm} ms vs {want_tm} ± {tm_tol}"
    );

    // P_A = 1 − λ_M·E(T_M), from the measured rate and duration.
    let lambda = s.mistakes as f64 / s.up_time.as_secs_f64();
    let pa = s.query_accuracy().unwrap();
    assert!((pa - (1.0 - lambda * tm / 1e3)).abs() < 1e-9);
    let want_pa = 1.0 - q / (eta / 1e3) * want_tm / 1e3;
    assert!((pa - want_pa).abs() < 1e-3, "P_A {pa} vs {want_pa}");
}
