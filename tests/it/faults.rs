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
    assert_eq!(short.mistake_time, Nanos::from_millis(900).into());
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

/// The outages a churn fault produces over `hours` of virtual time.
fn churn_outages(fault: &str, hours: u64, seed: u64) -> Vec<fdsim::fault::Outage> {
    let sc = super::scenario(&format!(
        r#"
        duration = "{hours}h"
        seeds = 1
        [heartbeat]
        interval = "1s"
        [network]
        latency = {{ dist = "constant", value = "5ms" }}
        [[faults]]
        kind = "churn"
        node = "target"
        {fault}
        [[detectors]]
        kind = "fixed"
        timeout = "3s"
        "#
    ));
    fdsim::fault::outages(&sc.faults, seed, sc.duration, &sc.nodes)
}

/// Completed up and down times of a churn run: up times from `first` (or a
/// restart) to the next crash, down times from a crash to its restart; the
/// last down time is left out when the restart falls after the end.
fn up_and_down(outages: &[fdsim::fault::Outage], first: Nanos, end: Nanos) -> (Vec<f64>, Vec<f64>) {
    let (mut up, mut down) = (Vec::new(), Vec::new());
    let mut since = first;
    for o in outages {
        up.push((o.crash - since).as_secs_f64());
        let r = o.restart.expect("churn always restarts");
        if r < end {
            down.push((r - o.crash).as_secs_f64());
        }
        since = r;
    }
    (up, down)
}

/// Mean and standard error of the mean.
fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn churn_up_and_down_times_average_to_mttf_and_mttr() {
    // Exponential: MTTF 10 min, MTTR 1 min, about 3600 cycles in 660 h; the
    // sample means lie within 4 standard errors (about 6.7 % here, since an
    // exponential's sd equals its mean) of the declared means.
    let out = churn_outages("first = \"1m\"\nmttf = \"10m\"\nmttr = \"1m\"", 660, 7);
    let (up, down) = up_and_down(&out, Nanos::from_secs(60), Nanos::from_secs(660 * 3600));
    assert!(up.len() > 3000, "{}", up.len());
    let (mu, se_u) = mean_se(&up);
    let (md, se_d) = mean_se(&down);
    assert!((mu - 600.0).abs() < 4.0 * se_u, "up mean {mu} ± {se_u}");
    assert!((md - 60.0).abs() < 4.0 * se_d, "down mean {md} ± {se_d}");
    // Exponential: the standard deviation is the mean (within 10 %).
    assert!((se_u * (up.len() as f64).sqrt() / 600.0 - 1.0).abs() < 0.1);
    // A distribution table: uniform down times on [30 s, 90 s].
    let out = churn_outages(
        "mttf = { dist = \"uniform\", min = \"5m\", max = \"15m\" }\nmttr = { dist = \"uniform\", min = \"30s\", max = \"90s\" }",
        660,
        7,
    );
    let (up, down) = up_and_down(&out, Nanos::ZERO, Nanos::from_secs(660 * 3600));
    let (mu, se_u) = mean_se(&up);
    let (md, se_d) = mean_se(&down);
    assert!((mu - 600.0).abs() < 4.0 * se_u, "up mean {mu} ± {se_u}");
    assert!((md - 60.0).abs() < 4.0 * se_d, "down mean {md} ± {se_d}");
    assert!(up.iter().all(|u| (300.0..=900.0).contains(u)));
    assert!(down.iter().all(|d| (30.0..=90.0).contains(d)));
}

#[test]
fn churn_outages_never_overlap_and_each_restart_is_a_new_incarnation() {
    let out = churn_outages("mttf = \"30s\"\nmttr = \"10s\"", 2, 3);
    assert!(out.len() > 100);
    assert!(fdsim::fault::first_overlap(&out).is_none());
    for w in out.windows(2) {
        assert!(w[0].crash < w[0].restart.unwrap());
        assert!(w[0].restart.unwrap() < w[1].crash, "{w:?}");
    }
    // The engine sees every restart: heartbeats of incarnation k come
    // only between restart k and crash k + 1, from sequence number 0.
    let sc = super::scenario(
        r#"
        duration = "10m"
        seeds = 1
        [heartbeat]
        interval = "1s"
        [network]
        latency = { dist = "constant", value = "5ms" }
        [[faults]]
        kind = "churn"
        node = "target"
        mttf = "30s"
        mttr = "10s"
        [[detectors]]
        kind = "fixed"
        timeout = "3s"
        "#,
    );
    let (mut sim, outages) = build_sim(&sc, 3);
    sim.run_until(sc.duration);
    let got = sim.agent(0).arrivals_from(1);
    let last_inc = got.last().unwrap().arrival.incarnation as usize;
    assert_eq!(
        last_inc,
        outages
            .iter()
            .filter(|o| o.restart < Some(sc.duration))
            .count()
    );
    for a in got {
        let inc = a.arrival.incarnation as usize;
        let born = if inc == 0 {
            Nanos::ZERO
        } else {
            outages[inc - 1].restart.unwrap()
        };
        assert!(a.true_at >= born + Nanos::from_millis(5));
        if let Some(next) = outages.get(inc) {
            assert!(a.true_at <= next.crash + Nanos::from_millis(5));
        }
        assert_eq!(a.arrival.sent - born, Nanos::from_secs(a.arrival.seq));
    }
    // Determinism: the same seed gives the same outages, another seed not.
    assert_eq!(churn_outages("mttf = \"30s\"\nmttr = \"10s\"", 2, 3), out);
    assert_ne!(churn_outages("mttf = \"30s\"\nmttr = \"10s\"", 2, 4), out);
}

#[test]
fn churn_errors_name_the_field() {
    let bad = |fault: &str| {
        let text = format!(
            "duration = \"10h\"\n[heartbeat]\ninterval = \"100ms\"\n[network]\nlatency = {{ dist = \"constant\", value = \"5ms\" }}\n[[faults]]\nkind = \"churn\"\nnode = \"target\"\n{fault}\n[[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n"
        );
        fdsim::scenario::Scenario::parse(std::path::Path::new("f.toml"), &text)
            .unwrap_err()
            .to_string()
    };
    assert!(
        bad("mttf = \"10m\"").contains("needs `mttr`"),
        "{}",
        bad("mttf = \"10m\"")
    );
    assert!(
        bad("mttf = \"10m\"\nmttr = \"0s\"").contains("`faults.mttr` must be greater than zero")
    );
    assert!(bad("mttf = \"10ms\"\nmttr = \"1ms\"").contains("check the units"));
    assert!(bad("mttf = \"10m\"\nmttr = \"1m\"\ndown = \"1m\"")
        .contains("`faults.down` does not apply to kind = \"churn\""));
    assert!(
        bad("mttf = \"10m\"\nmttr = { dist = \"constant\", value = \"0s\" }")
            .contains("mean of zero")
    );
    let e = bad("mttf = \"10m\"\nmttr = \"1m\"\n[[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"5h\"");
    assert!(e.contains("can overlap an earlier fault"), "{e}");
}

#[test]
fn the_documented_fault_and_heartbeat_examples_validate() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let blocks: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    let mut checked = 0;
    for block in &blocks {
        let kinds = ["\"churn\"", "\"pause\"", "\"pauses\"", "\"slow\""];
        if !kinds.iter().any(|k| block.contains(&format!("kind = {k}"))) {
            continue;
        }
        let text = format!(
            "duration = \"2h\"\n[heartbeat]\ninterval = \"100ms\"\n[nodes]\nmonitors = [\"monitor\"]\n\
             targets = [\"target\", \"t2\"]\n[network]\nlatency = {{ dist = \"constant\", value = \"1ms\" }}\n\
             [[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n{block}"
        );
        fdsim::scenario::Scenario::parse(std::path::Path::new("docs/scenarios.md"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        checked += 1;
    }
    for block in blocks.iter().filter(|b| b.starts_with("[heartbeat]")) {
        let text = format!(
            "duration = \"1h\"\n{block}\n[network]\nlatency = {{ dist = \"constant\", value = \"1ms\" }}\n\
             [[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n"
        );
        fdsim::scenario::Scenario::parse(std::path::Path::new("docs/scenarios.md"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        checked += 1;
    }
    assert!(checked >= 7, "{checked}");
}
