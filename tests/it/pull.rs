//! Pull heartbeats (`[heartbeat] style = "pull"`): the monitor pings, the
//! target answers, and the pongs are the heartbeat stream. Checked exactly
//! on constant delays.

use fdsim::protocol::heartbeat::Logged;
use fdsim::run::{build_sim, run_seed};
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;

/// A monitor and a target, pulling every 100 ms, ping link 3 ms and pong
/// link 5 ms unless `network` says otherwise; `extra` adds tables.
fn pull(network: &str, extra: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "10s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        style = "pull"
        {network}
        {extra}
        [[detectors]]
        kind = "chen-nfds"
        delta = ["5ms", "20ms", "200ms"]
        [[detectors]]
        kind = "fixed"
        timeout = ["150ms", "300ms"]
        "#
    ))
}

const ASYMMETRIC: &str = r#"
    [network]
    latency = { dist = "constant", value = "3ms" }
    [[network.links]]
    from = "target"
    to = "monitor"
    latency = { dist = "constant", value = "5ms" }
"#;

fn arrivals(sc: &Scenario) -> Vec<Logged> {
    let (mut sim, _) = build_sim(sc, sc.seeds[0]);
    sim.run_until(sc.duration);
    sim.agent(0).arrivals_from(1).to_vec()
}

#[test]
fn a_pong_arrives_at_the_ping_time_plus_both_one_way_delays() {
    let got = arrivals(&pull(ASYMMETRIC, ""));
    assert_eq!(got.len(), 100);
    for (k, l) in got.iter().enumerate() {
        let ping = Nanos::from_millis(100 * k as u64);
        assert_eq!(l.arrival.seq, k as u64);
        assert_eq!(
            l.arrival.sent, ping,
            "the ping's send time, monitor's clock"
        );
        assert_eq!(l.arrival.at, ping + Nanos::from_millis(8));
        assert_eq!(l.true_at, l.arrival.at);
        assert_eq!(l.arrival.incarnation, 0);
    }
    // Symmetric 4 ms: 2 × one-way.
    let sym = pull(
        "[network]\nlatency = { dist = \"constant\", value = \"4ms\" }",
        "",
    );
    for (k, l) in arrivals(&sym).iter().enumerate() {
        assert_eq!(l.arrival.at, Nanos::from_millis(100 * k as u64 + 8));
    }
}

#[test]
fn nfds_on_pull_waits_for_the_round_trip_and_ignores_clock_offsets() {
    // NFD-S reads the ping's send time σ on the monitor's clock and suspects
    // from σ + η + δ; a pong arrives at σ + 8 ms, so δ < 8 ms suspects in
    // every period (from σ + 100 + δ until the pong at σ + 108) and δ ≥ 8 ms
    // never does.
    let sc = pull(ASYMMETRIC, "");
    let res = run_seed(&sc, 1);
    let short = &res.qos[0][0];
    // 100 pongs; the first ends the initial suspicion, each later one
    // ends a mistake of 8 − 5 = 3 ms.
    assert_eq!(short.mistakes, 99);
    assert_eq!(short.mistake_time, Nanos::from_millis(3 * 99).into());
    assert_eq!(res.qos[0][1].mistakes, 0);
    // Offsetting or drifting either clock changes nothing in pull style:
    // every time NFD-S compares is read on the monitor's clock, which the
    // offset shifts as a whole.
    for clocks in [
        "[[clocks]]\nnode = \"target\"\noffset = \"5s\"",
        "[[clocks]]\nnode = \"target\"\noffset = \"-3s\"\ndrift_ppm = 300",
        "[[clocks]]\nnode = \"monitor\"\noffset = \"2s\"",
    ] {
        let moved = run_seed(&pull(ASYMMETRIC, clocks), 1);
        assert_eq!(moved.qos, res.qos, "{clocks}");
    }
    // In push style a target clock 5 s ahead delays every NFD-S detection
    // by 5 s: the same offset does change the scores there.
    let push = |clocks: &str| {
        let text = format!(
            "duration = \"10s\"\nseeds = 1\n[heartbeat]\ninterval = \"100ms\"\n{ASYMMETRIC}\n{clocks}\n\
             [[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"3s\"\n\
             [[detectors]]\nkind = \"chen-nfds\"\ndelta = \"20ms\"\n"
        );
        run_seed(&super::scenario(&text), 1).qos
    };
    assert_ne!(
        push(""),
        push("[[clocks]]\nnode = \"target\"\noffset = \"5s\"")
    );
}

#[test]
fn a_one_way_partition_of_either_direction_stops_the_stream() {
    for direction in ["a-to-b", "b-to-a"] {
        let cut = format!(
            "[[partitions]]\nstart = \"2s\"\nend = \"4s\"\na = [\"target\"]\nb = [\"monitor\"]\ndirection = \"{direction}\""
        );
        let got = arrivals(&pull(ASYMMETRIC, &cut));
        let times: Vec<u64> = got.iter().map(|l| l.true_at.0 / 1_000_000).collect();
        // Pings of 1.9 s arrive back at 1.908 s; pings sent on [2 s, 4 s)
        // or pongs sent then are cut; the ping of 4 s comes back at 4.008 s.
        assert!(
            times.contains(&1908) && times.contains(&4008),
            "{direction}"
        );
        assert!(
            !times.iter().any(|&t| (1908 < t) && (t < 4008)),
            "{direction}: {times:?}"
        );
        assert_eq!(got.len(), 100 - 20, "{direction}");
    }
}

#[test]
fn a_crashed_target_stops_answering_and_comes_back_as_a_new_incarnation() {
    let fault =
        "[[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"3050ms\"\nrestart_after = \"1s\"";
    let got = arrivals(&pull(ASYMMETRIC, fault));
    // Pings 0..=30 answered by incarnation 0; pings 31..=40 (3.1 s to 4.0 s)
    // reach a dead target, the ping of 4.1 s is answered by incarnation 1.
    // The sequence numbers are the monitor's: they run on across the restart.
    let seqs: Vec<(u64, u32)> = got
        .iter()
        .map(|l| (l.arrival.seq, l.arrival.incarnation))
        .collect();
    assert_eq!(seqs[30], (30, 0));
    assert_eq!(seqs[31], (41, 1));
    let res = run_seed(&pull(ASYMMETRIC, fault), 1);
    // fixed 150 ms: the last pong at 3.008 s, suspected from 3.158 s.
    assert_eq!(res.qos[1][0].detections, vec![Nanos::from_millis(108)]);
}

#[test]
fn a_paused_target_answers_the_pings_that_waited_when_it_resumes() {
    let fault =
        "[[faults]]\nkind = \"pause\"\nnode = \"target\"\nat = \"2010ms\"\nlength = \"300ms\"";
    let got = arrivals(&pull(ASYMMETRIC, fault));
    let at: Vec<u64> = got.iter().map(|l| l.true_at.0 / 1_000_000).collect();
    // Pings of 2.1, 2.2 and 2.3 s reach it at 2.103, 2.203, 2.303 s, wait
    // for the resume at 2.31 s and are all answered then (back at 2.315 s).
    assert_eq!(&at[20..25], &[2008, 2315, 2315, 2315, 2408]);
    assert_eq!(got[21].arrival.sent, Nanos::from_millis(2100));
}

#[test]
fn pull_runs_are_deterministic_and_differ_from_push() {
    let lossy =
        "[network]\nlatency = { dist = \"lognormal\", median = \"2ms\", sigma = 0.5 }\nloss = 0.05";
    let jitter = "[[faults]]\nkind = \"churn\"\nnode = \"target\"\nmttf = \"2s\"\nmttr = \"300ms\"";
    let a = run_seed(&pull(lossy, jitter), 5);
    let b = run_seed(&pull(lossy, jitter), 5);
    assert_eq!(a.qos, b.qos);
    assert_eq!(a.stats, b.stats);
    assert!(a.stats.balanced());
    // Pings and pongs are both messages: about twice as many as pushed.
    let push = super::scenario(&format!(
        "duration = \"10s\"\nseeds = 1\n[heartbeat]\ninterval = \"100ms\"\n{lossy}\n{jitter}\n\
         [[detectors]]\nkind = \"fixed\"\ntimeout = \"150ms\"\n"
    ));
    let p = run_seed(&push, 5);
    assert!(
        a.stats.sent > p.stats.sent * 3 / 2,
        "{:?} {:?}",
        a.stats,
        p.stats
    );
}

#[test]
fn an_unknown_style_is_an_error_at_the_field() {
    let text = "duration = \"10s\"\n[heartbeat]\ninterval = \"100ms\"\nstyle = \"poll\"\n[network]\nlatency = { dist = \"constant\", value = \"1ms\" }\n[[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n";
    let e = Scenario::parse(std::path::Path::new("s.toml"), text)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("s.toml:4:9: `heartbeat.style`: unknown style \"poll\""),
        "{e}"
    );
}
