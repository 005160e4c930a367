//! Processes that stay up but go quiet: stop-the-world pauses, slow
//! (gray) nodes and sender timer jitter, each checked exactly on a small
//! case.

use fdsim::run::{build_sim, run_seed};
use fdsim::sim::Nanos;

fn pair(extra: &str) -> fdsim::scenario::Scenario {
    super::scenario(&format!(
        r#"
        duration = "10s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        {extra}
        [network]
        latency = {{ dist = "constant", value = "5ms" }}
        [[detectors]]
        kind = "fixed"
        timeout = ["150ms", "500ms"]
        "#
    ))
}

/// Arrival times at the monitor (node 0) from the target (node 1), in ms.
fn arrivals_ms(sc: &fdsim::scenario::Scenario) -> Vec<f64> {
    let (mut sim, _) = build_sim(sc, 1);
    sim.run_until(sc.duration);
    sim.agent(0)
        .arrivals_from(1)
        .iter()
        .map(|a| a.true_at.as_millis_f64())
        .collect()
}

fn with_fault(fault: &str) -> fdsim::scenario::Scenario {
    super::scenario(&format!(
        r#"
        duration = "10s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = {{ dist = "constant", value = "5ms" }}
        [[faults]]
        {fault}
        [[detectors]]
        kind = "fixed"
        timeout = ["150ms", "500ms"]
        "#
    ))
}

#[test]
fn a_pause_delays_the_next_heartbeat_by_the_remainder_of_the_pause() {
    let sc = with_fault("kind = \"pause\"\nnode = \"target\"\nat = \"1050ms\"\nlength = \"270ms\"");
    let got = arrivals_ms(&sc);
    // Sent at 0, 100, ..., 1000; the send due at 1100 waits for the end of
    // the pause (1320) and the period restarts from there.
    let expected: Vec<f64> = (0..=10)
        .map(|k| (100 * k + 5) as f64)
        .chain((0..10).map(|k| (1320 + 100 * k + 5) as f64))
        .collect();
    assert_eq!(&got[..expected.len()], &expected[..]);
}

#[test]
fn a_paused_monitor_handles_what_arrived_when_it_resumes() {
    let sc =
        with_fault("kind = \"pause\"\nnode = \"monitor\"\nat = \"1050ms\"\nlength = \"270ms\"");
    let got = arrivals_ms(&sc);
    // 1105, 1205 and 1305 arrive during the pause and are all handled when
    // it ends at 1320; the next one, 1405, is on time.
    assert_eq!(&got[10..15], &[1005.0, 1320.0, 1320.0, 1320.0, 1405.0]);
}

#[test]
fn a_pause_longer_than_the_timeout_is_a_mistake_not_a_crash() {
    let sc = with_fault("kind = \"pause\"\nnode = \"target\"\nat = \"2050ms\"\nlength = \"1s\"");
    let res = run_seed(&sc, 1);
    let short = &res.qos[0][0];
    assert_eq!(
        short.mistakes, 1,
        "the 150 ms timeout suspects the paused target"
    );
    assert_eq!(short.crashes(), 0);
    // Silence from the arrival at 2005 to the one at 3055: suspected from
    // 2155 to 3055.
    assert_eq!(short.mistake_time, Nanos::from_millis(900));
    assert_eq!(
        res.qos[0][1].mistakes, 1,
        "so does 500 ms: the pause lasts 1 s"
    );
}

#[test]
fn recurring_pauses_draw_from_their_distribution() {
    let sc = with_fault(
        "kind = \"pauses\"\nnode = \"target\"\nevery = \"1s\"\nlength = { dist = \"uniform\", min = \"200ms\", max = \"400ms\" }",
    );
    let got = arrivals_ms(&sc);
    let gaps: Vec<f64> = got.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g >= 100.0 && *g <= 500.0), "{gaps:?}");
    assert!(
        gaps.iter().any(|g| *g > 100.0),
        "some pause delayed a heartbeat"
    );
}

#[test]
fn a_slow_node_stretches_its_heartbeat_period_inside_the_window() {
    let sc =
        with_fault("kind = \"slow\"\nnode = \"target\"\nstart = \"1s\"\nend = \"2s\"\nfactor = 3");
    let got = arrivals_ms(&sc);
    let gaps: Vec<f64> = got.windows(2).map(|w| w[1] - w[0]).collect();
    // Timers set at 1000, 1300, 1600, 1900 (inside) take 300 ms; from 2200
    // the period is 100 ms again.
    assert_eq!(&gaps[9..15], &[100.0, 300.0, 300.0, 300.0, 300.0, 100.0]);
}

#[test]
fn sender_jitter_adds_a_draw_to_every_period() {
    let sc = pair("jitter = { dist = \"uniform\", min = \"0ms\", max = \"20ms\" }");
    let got = arrivals_ms(&sc);
    let gaps: Vec<f64> = got.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| (100.0..=120.0).contains(g)), "{gaps:?}");
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    // Uniform on [0, 20] ms: mean 10, sd 5.8; the mean of ~90 gaps is
    // within 4 standard errors (2.4 ms) of 110.
    assert!((mean - 110.0).abs() < 2.5, "{mean}");
}

#[test]
fn gray_fault_errors_name_the_field() {
    let bad = |fault: &str| {
        let text = format!(
            "duration = \"10s\"\n[heartbeat]\ninterval = \"100ms\"\n[network]\nlatency = {{ dist = \"constant\", value = \"5ms\" }}\n[[faults]]\n{fault}\n[[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n"
        );
        fdsim::scenario::Scenario::parse(std::path::Path::new("f.toml"), &text)
            .unwrap_err()
            .to_string()
    };
    assert!(
        bad("kind = \"slow\"\nnode = \"target\"\nstart = \"1s\"\nend = \"2s\"\nfactor = 0.5")
            .contains("`faults.factor` must be in [1, 1000000]")
    );
    assert!(bad("kind = \"pause\"\nnode = \"target\"\nat = \"1s\"").contains("needs `length`"));
    assert!(
        bad("kind = \"pause\"\nnode = \"target\"\nat = \"1s\"\nlength = \"1s\"\nfactor = 2")
            .contains("`faults.factor` does not apply to kind = \"pause\"")
    );
    assert!(bad("kind = \"pauses\"\nnode = \"target\"\nevery = \"1s\"\nlength = { dist = \"uniform\", min = \"5s\", max = \"1s\" }")
        .contains("`faults.length.max` (1s) is below `faults.length.min` (5s)"));
}
