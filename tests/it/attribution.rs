//! Attribution of false suspicions to fault windows: each small case has
//! a known answer, and the counts add up as docs/metrics.md says
//! (per-cause counts plus none equal the mistakes; `multiple` counts the
//! mistakes that overlapped several causes).

use fdsim::detector::{registry, Env};
use fdsim::metrics::{score_detector_attributed, Cause, MistakeCauses, RunQos, ScoreInput};
use fdsim::report::markdown::scenario_report;
use fdsim::report::{curve_points, curve_rows, run_rows};
use fdsim::run::{build_sim, pair_windows, run_all, run_seed, window_causes};
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;

/// A monitor and a target 5 ms apart, heartbeats every 100 ms, fixed
/// timeouts of 150 ms and 500 ms, plus `extra` TOML.
fn pair(network: &str, extra: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "20s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        {network}
        {extra}
        [[detectors]]
        kind = "fixed"
        timeout = ["150ms", "500ms"]
        "#
    ))
}

const CONSTANT: &str = r#"latency = { dist = "constant", value = "5ms" }"#;

fn causes(q: &RunQos) -> MistakeCauses {
    q.causes
}

/// Checks the counting rule on every detector and value of a seed.
fn assert_adds_up(qos: &[Vec<RunQos>]) {
    for q in qos.iter().flatten() {
        let c = causes(q);
        assert_eq!(c.total(), q.mistakes, "{c:?} for {} mistakes", q.mistakes);
        assert!(c.multiple <= q.mistakes - c.none, "{c:?}");
    }
}

#[test]
fn a_pause_longer_than_the_timeout_is_exactly_one_mistake_labelled_pause() {
    for node in ["target", "monitor"] {
        let sc = pair(
            CONSTANT,
            &format!(
                "[[faults]]\nkind = \"pause\"\nnode = \"{node}\"\nat = \"2050ms\"\nlength = \"1s\""
            ),
        );
        assert_eq!(window_causes(&sc), vec![Cause::Pause]);
        let res = run_seed(&sc, 1);
        for q in &res.qos[0] {
            assert_eq!(q.mistakes, 1, "{node}");
            assert_eq!(q.causes.get(Cause::Pause), 1, "{node}: {:?}", q.causes);
            assert_eq!((q.causes.none, q.causes.multiple), (0, 0));
        }
    }
}

#[test]
fn send_stamps_from_a_wrong_target_clock_are_put_back_on_true_time() {
    // The target's clock is 30 s ahead and 500 ppm fast: its send stamps
    // say nothing about true time until mapped back through its clock.
    let sc = pair(
        CONSTANT,
        "[[clocks]]\nnode = \"target\"\noffset = \"30s\"\ndrift_ppm = 500\n\
         [[faults]]\nkind = \"pause\"\nnode = \"target\"\nat = \"12050ms\"\nlength = \"1s\"",
    );
    let res = run_seed(&sc, 1);
    for q in &res.qos[0] {
        assert_eq!(q.mistakes, 1);
        assert_eq!(q.causes.get(Cause::Pause), 1, "{:?}", q.causes);
    }
}

#[test]
fn a_partition_gives_mistakes_labelled_partition_one_per_flap() {
    // Cut for 1 s, healed for 2 s, from 3 s to 15 s: four cut periods.
    let sc = pair(
        CONSTANT,
        r#"[[partitions]]
        start = "3s"
        end = "15s"
        a = ["target"]
        b = ["monitor"]
        direction = "a-to-b"
        flap = { up = "2s", down = "1s" }"#,
    );
    assert_eq!(window_causes(&sc), vec![Cause::Partition]);
    let res = run_seed(&sc, 1);
    for q in &res.qos[0] {
        assert_eq!(q.mistakes, 4);
        assert_eq!(q.causes.get(Cause::Partition), 4, "{:?}", q.causes);
        assert_eq!(q.causes.none, 0);
    }
}

#[test]
fn a_partition_in_the_other_direction_opens_no_window() {
    let sc = pair(
        CONSTANT,
        r#"[[partitions]]
        start = "3s"
        end = "5s"
        a = ["target"]
        b = ["monitor"]
        direction = "b-to-a""#,
    );
    assert!(window_causes(&sc).is_empty());
    let res = run_seed(&sc, 1);
    assert_eq!(res.qos[0][0].mistakes, 0, "heartbeats still flow");
}

#[test]
fn lossy_links_without_windows_give_mistakes_labelled_none() {
    let sc = pair(
        r#"latency = { dist = "lognormal", median = "5ms", sigma = 0.3 }
        loss = 0.1"#,
        "",
    );
    assert!(window_causes(&sc).is_empty());
    let res = run_seed(&sc, 1);
    let q = &res.qos[0][0];
    assert!(q.mistakes > 5, "10 % loss at 150 ms: {}", q.mistakes);
    assert_eq!(q.causes.none, q.mistakes);
    assert_adds_up(&res.qos);
}

#[test]
fn a_spike_that_ended_before_the_suspicion_still_caused_it() {
    // Heartbeats sent at 1000 ms (inside the spike) arrive at 1305 ms; the
    // next, sent at 1100, at 1105. The 150 ms timeout suspects from 1055 to
    // 1105, after the spike's end at 1050: the span starts at the send
    // time of the newest heartbeat received (900 ms), which covers it.
    let sc = pair(
        CONSTANT,
        r#"[[network.spikes]]
        start = "1s"
        end = "1050ms"
        add = "300ms""#,
    );
    assert_eq!(window_causes(&sc), vec![Cause::LatencySpike]);
    let res = run_seed(&sc, 1);
    let q = &res.qos[0][0];
    assert_eq!(q.mistakes, 1);
    assert_eq!(q.mistake_time, Nanos::from_millis(50).into());
    assert_eq!(q.causes.get(Cause::LatencySpike), 1, "{:?}", q.causes);
    assert_eq!(res.qos[0][1].mistakes, 0);
}

#[test]
fn a_slow_target_gives_mistakes_labelled_slow() {
    let sc = pair(
        CONSTANT,
        "[[faults]]\nkind = \"slow\"\nnode = \"target\"\nstart = \"2s\"\nend = \"3s\"\nfactor = 3",
    );
    assert_eq!(window_causes(&sc), vec![Cause::Slow]);
    let res = run_seed(&sc, 1);
    let q = &res.qos[0][0];
    // Four 300 ms periods, each silent past the 150 ms timeout.
    assert_eq!(q.mistakes, 4);
    assert_eq!(q.causes.get(Cause::Slow), 4, "{:?}", q.causes);
}

#[test]
fn every_mistake_on_a_gilbert_link_that_loses_only_when_bad_is_a_loss_burst() {
    // Nothing is lost in the good state and nothing is late, so each
    // silence is a burst, even when the burst ended before the timeout ran
    // out (a 2-message burst at 100 ms against a 250 ms timeout).
    let sc = super::scenario(
        r#"
        duration = "1h"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "constant", value = "5ms" }
        loss_model = { kind = "gilbert-elliott", p_good_to_bad = 0.01, p_bad_to_good = 0.3 }
        [[detectors]]
        kind = "fixed"
        timeout = ["150ms", "250ms", "450ms"]
        "#,
    );
    assert_eq!(window_causes(&sc), vec![Cause::LossBurst]);
    let res = run_seed(&sc, 1);
    for q in &res.qos[0] {
        assert!(q.mistakes > 10, "{}", q.mistakes);
        assert_eq!(q.causes.get(Cause::LossBurst), q.mistakes, "{:?}", q.causes);
    }
}

#[test]
fn a_pause_inside_a_partition_counts_under_partition_and_as_multiple() {
    let sc = pair(
        CONSTANT,
        r#"[[partitions]]
        start = "3s"
        end = "5s"
        a = ["target"]
        b = ["monitor"]
        [[faults]]
        kind = "pause"
        node = "monitor"
        at = "4s"
        length = "200ms""#,
    );
    assert_eq!(window_causes(&sc), vec![Cause::Partition, Cause::Pause]);
    let res = run_seed(&sc, 1);
    for q in &res.qos[0] {
        assert_eq!(q.mistakes, 1);
        assert_eq!(q.causes.get(Cause::Partition), 1);
        assert_eq!((q.causes.get(Cause::Pause), q.causes.multiple), (0, 1));
    }
}

#[test]
fn a_pause_of_a_target_that_is_down_opens_no_window() {
    let sc = pair(
        CONSTANT,
        r#"[[faults]]
        kind = "crash"
        node = "target"
        at = "1s"
        restart_after = "2s"
        [[faults]]
        kind = "pause"
        node = "target"
        at = "2s"
        length = "5s"
        [[faults]]
        kind = "pause"
        node = "target"
        at = "10s"
        length = "1s""#,
    );
    let (mut sim, _) = build_sim(&sc, 1);
    sim.run_until(sc.duration);
    let w = pair_windows(&sc, sim.network(), sim.pauses(), 0, 1);
    let secs = Nanos::from_secs;
    assert_eq!(w.windows(Cause::Pause), &[(secs(10), secs(11))]);
}

/// Everything at once: bursty loss, a spike, flapping and plain
/// partitions, recurring pauses of both nodes, a slow window, two targets.
fn everything() -> Scenario {
    super::scenario(
        r#"
        duration = "30m"
        seeds = 3
        [heartbeat]
        interval = "100ms"
        [nodes]
        monitors = ["monitor"]
        targets = ["t1", "t2"]
        [network]
        latency = { dist = "lognormal", median = "2ms", sigma = 0.5 }
        loss_model = { kind = "gilbert-elliott", p_good_to_bad = 0.005, p_bad_to_good = 0.3, loss_good = 0.001 }
        [[network.spikes]]
        start = "5m"
        end = "6m"
        add = "120ms"
        [[partitions]]
        start = "10m"
        end = "20m"
        a = ["t1"]
        b = ["monitor"]
        flap = { up = "20s", down = "2s" }
        [[faults]]
        kind = "pauses"
        node = "t2"
        every = "1m"
        length = { dist = "uniform", min = "100ms", max = "900ms" }
        [[faults]]
        kind = "pauses"
        node = "monitor"
        every = "3m"
        length = "300ms"
        [[faults]]
        kind = "slow"
        node = "t1"
        start = "22m"
        end = "24m"
        factor = 2.5
        [[faults]]
        kind = "crash-loop"
        node = "t2"
        every = "7m"
        down = "10s"
        jitter = "1m"
        [[detectors]]
        kind = "fixed"
        timeout = ["150ms", "250ms", "400ms", "1s"]
        [[detectors]]
        kind = "phi-akka"
        threshold = [1, 3, 8]
        acceptable_heartbeat_pause = "0s"
        first_heartbeat_estimate = "100ms"
        "#,
    )
}

#[test]
fn per_cause_counts_and_none_add_up_to_the_mistakes() {
    let sc = everything();
    assert_eq!(window_causes(&sc), Cause::ALL.to_vec());
    let mut seen = MistakeCauses::default();
    for seed in 1..=3 {
        let res = run_seed(&sc, seed);
        assert_adds_up(&res.qos);
        for q in res.qos.iter().flatten() {
            seen.merge(&q.causes);
        }
    }
    for c in Cause::ALL {
        assert!(
            seen.get(c) > 0,
            "no mistake labelled {}: {seen:?}",
            c.name()
        );
    }
    assert!(seen.none > 0 && seen.multiple > 0, "{seen:?}");
}

#[test]
fn attribution_is_the_same_whether_thresholds_are_scored_together_or_alone() {
    // phi-akka's state depends on its threshold, so scoring all values at
    // once splits and joins instances; the labels must not notice.
    let sc = everything();
    let (mut sim, outages) = build_sim(&sc, 2);
    sim.run_until(sc.duration);
    let w = pair_windows(&sc, sim.network(), sim.pauses(), 0, 2);
    assert!(!w.is_empty());
    let mut agents = sim.into_agents();
    let arrivals = agents[0].take_arrivals(2);
    let mine: Vec<_> = outages.iter().copied().filter(|o| o.node == 2).collect();
    let input = ScoreInput {
        arrivals: &arrivals,
        outages: &mine,
        clock: sc.clocks[0],
        warmup: sc.warmup,
        end: sc.duration,
    };
    let env = Env {
        interval: sc.interval,
    };
    let cfg = &sc.detectors[1];
    assert!(registry::find(cfg.kind.name).is_some_and(|k| k.threshold_dependent));
    let together = score_detector_attributed(cfg.kind, &cfg.params, &env, &cfg.values, input, &w);
    for (i, &x) in cfg.values.iter().enumerate() {
        let alone = score_detector_attributed(cfg.kind, &cfg.params, &env, &[x], input, &w);
        assert_eq!(together[i], alone[0], "threshold {x}");
    }
    assert!(together.iter().any(|q| q.causes.total() > q.causes.none));
}

#[test]
fn attribution_is_deterministic_whatever_the_threads() {
    let a = run_all(vec![everything()], 1, &|_, _| {}).unwrap();
    let b = run_all(vec![everything()], 2, &|_, _| {}).unwrap();
    let c = run_seed(&everything(), 2);
    let causes = |r: &fdsim::run::ScenarioResult| -> Vec<MistakeCauses> {
        r.seeds
            .iter()
            .flat_map(|s| s.qos.iter().flatten().map(|q| q.causes))
            .collect()
    };
    assert_eq!(causes(&a[0]), causes(&b[0]));
    let second: Vec<MistakeCauses> = c.qos.iter().flatten().map(|q| q.causes).collect();
    let from_all: Vec<MistakeCauses> = a[0].seeds[1]
        .qos
        .iter()
        .flatten()
        .map(|q| q.causes)
        .collect();
    assert_eq!(second, from_all);
}

#[test]
fn csv_rows_and_the_report_break_mistakes_down_only_where_there_are_windows() {
    let paused = pair(
        CONSTANT,
        "[[faults]]\nkind = \"pause\"\nnode = \"target\"\nat = \"2050ms\"\nlength = \"1s\"",
    );
    let lossy = pair(CONSTANT.replace('}', "}\nloss = 0.1").as_str(), "");
    let res = run_all(vec![paused, lossy], 1, &|_, _| {}).unwrap();
    let points = curve_points(&res[0]);
    let curve = curve_rows(&res[0], &points);
    assert_eq!((curve[0].mistakes, curve[0].mistakes_pause), (1, 1));
    assert_eq!(run_rows(&res[0])[1].mistakes_pause, 1);
    let md = scenario_report(&res[0], &points);
    assert!(md.contains("## Mistakes by cause"), "{md}");
    assert!(md.contains("| detector | parameter | mistakes | pause | none | multiple causes |"));
    assert!(
        md.contains("| fixed | timeout = 150ms | 1 | 1 | 0 | 0 |"),
        "{md}"
    );

    let points = curve_points(&res[1]);
    let curve = curve_rows(&res[1], &points);
    assert!(curve[0].mistakes > 0);
    assert_eq!(curve[0].mistakes_none, curve[0].mistakes);
    assert!(!scenario_report(&res[1], &points).contains("Mistakes by cause"));
}

/// Runs seed 1 of `sc` and returns its one detector's one value.
fn only(sc: &Scenario) -> RunQos {
    let res = run_seed(sc, 1);
    assert_adds_up(&res.qos);
    res.qos[0][0].clone()
}

/// A monitor pulling a target every 100 ms over 5 ms links, one fixed
/// `timeout`, plus `extra` TOML.
fn pulled(duration: &str, timeout: &str, extra: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "{duration}"
        seeds = [1]
        [heartbeat]
        interval = "100ms"
        style = "pull"
        {extra}
        [[detectors]]
        kind = "fixed"
        timeout = ["{timeout}"]
        "#
    ))
}

#[test]
fn a_pulling_monitor_cut_from_its_target_makes_mistakes_labelled_partition() {
    // The pings are cut (monitor → target) from 20 s to 25 s; the pongs'
    // direction is open, yet no pong comes back without a ping.
    let sc = pulled(
        "60s",
        "500ms",
        &format!(
            "[network]\n{CONSTANT}\n[[partitions]]\nstart = \"20s\"\nend = \"25s\"\n\
             a = [\"monitor\"]\nb = [\"target\"]\ndirection = \"a-to-b\""
        ),
    );
    assert_eq!(window_causes(&sc), vec![Cause::Partition]);
    let q = only(&sc);
    assert_eq!(q.mistakes, 1);
    assert_eq!(q.causes.get(Cause::Partition), 1, "{:?}", q.causes);
}

#[test]
fn a_slow_pulling_monitor_makes_mistakes_labelled_slow() {
    // The monitor's ping timer runs 5x slow for a second: 500 ms between
    // pings against a 250 ms timeout. A slow target would change nothing
    // (a pong needs no timer), so it opens no window.
    let slow = |node: &str| {
        pulled(
            "60s",
            "250ms",
            &format!(
                "[network]\n{CONSTANT}\n[[faults]]\nkind = \"slow\"\nnode = \"{node}\"\n\
                 start = \"20s\"\nend = \"21s\"\nfactor = 5"
            ),
        )
    };
    let sc = slow("monitor");
    assert_eq!(window_causes(&sc), vec![Cause::Slow]);
    let q = only(&sc);
    assert!(q.mistakes >= 2, "{}", q.mistakes);
    assert_eq!(q.causes.get(Cause::Slow), q.mistakes, "{:?}", q.causes);
    let target = slow("target");
    assert!(window_causes(&target).is_empty());
    assert_eq!(only(&target).mistakes, 0);
}

/// Pull scenarios whose `[[clocks]]` entries (`clocks`) only shift
/// clocks by constants: physically the same run whatever `clocks` is.
fn pull_offsets(network: &str, pauses: &str, clocks: &str) -> Scenario {
    pulled(
        "1h",
        "250ms",
        &format!(
            "{clocks}\n[network]\n{CONSTANT}\n{network}\n[[faults]]\nkind = \"pauses\"\n\
             node = \"target\"\nevery = \"2m\"\nlength = \"{pauses}\""
        ),
    )
}

const OFFSETS: [&str; 4] = [
    "",
    "[[clocks]]\nnode = \"target\"\noffset = \"30s\"",
    "[[clocks]]\nnode = \"target\"\noffset = \"-1s\"",
    "[[clocks]]\nnode = \"monitor\"\noffset = \"-20s\"\n\
     [[clocks]]\nnode = \"target\"\noffset = \"5s\"",
];

#[test]
fn constant_clock_offsets_do_not_change_how_pull_mistakes_are_labelled() {
    // Random loss plus short pauses of the target: a ping's send stamp is
    // on the monitor's clock, so reading it through the target's would
    // move every span by the offset and change which mistakes meet a
    // pause.
    let runs: Vec<RunQos> = OFFSETS
        .iter()
        .map(|clocks| only(&pull_offsets("loss = 0.2", "10ms", clocks)))
        .collect();
    assert!(runs[0].mistakes > 1000, "{}", runs[0].mistakes);
    assert!(runs[0].causes.get(Cause::Pause) > 0, "{:?}", runs[0].causes);
    for (q, clocks) in runs.iter().zip(OFFSETS) {
        assert_eq!(q.mistakes, runs[0].mistakes, "{clocks}");
        assert_eq!(q.causes, runs[0].causes, "{clocks}");
    }
}

#[test]
fn every_mistake_of_a_pause_longer_than_the_timeout_is_labelled_pause_whatever_the_offsets() {
    // A 500 ms pause of the target every 2 min against a 250 ms timeout,
    // nothing else: each mistake is a pause, wherever the clocks stand.
    for clocks in OFFSETS {
        let q = only(&pull_offsets("", "500ms", clocks));
        assert!(q.mistakes >= 25, "{clocks}: {}", q.mistakes);
        assert_eq!(
            q.causes.get(Cause::Pause),
            q.mistakes,
            "{clocks}: {:?}",
            q.causes
        );
    }
}

/// A star through hub `relay`: the monitor watches `relay` directly and
/// `target` through it; heartbeats every 100 ms over 5 ms links.
fn star(duration: &str, timeout: &str, style: &str, extra: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "{duration}"
        seeds = [1]
        [nodes]
        monitors = ["monitor"]
        targets = ["relay", "target"]
        [heartbeat]
        interval = "100ms"
        style = "{style}"
        [network]
        topology = "star"
        hub = "relay"
        {CONSTANT}
        {extra}
        [[detectors]]
        kind = "fixed"
        timeout = ["{timeout}"]
        "#
    ))
}

#[test]
fn a_spike_on_one_leg_of_a_relayed_route_labels_its_mistakes_latency_spike() {
    // (style, the leg that spikes): the heartbeats' first leg in push;
    // in pull, the pings' last leg and the pongs' first.
    for (style, from, to) in [
        ("push", "target", "relay"),
        ("pull", "relay", "target"),
        ("pull", "target", "relay"),
    ] {
        let sc = star(
            "60s",
            "300ms",
            style,
            &format!(
                "[[network.spikes]]\nstart = \"20s\"\nend = \"21s\"\n\
                 links = [[\"{from}\", \"{to}\"]]\nadd = \"600ms\""
            ),
        );
        let (sim, _) = build_sim(&sc, 1);
        assert_eq!(sim.network().path(2, 0), Some(vec![2, 1, 0]), "relayed");
        assert_eq!(window_causes(&sc), vec![Cause::LatencySpike], "{style}");
        let q = only(&sc);
        assert!(q.mistakes >= 1, "{style} {from}->{to}");
        let c = q.causes;
        assert_eq!(c.get(Cause::LatencySpike), q.mistakes, "{style}: {c:?}");
    }
}

#[test]
fn loss_bursts_on_one_leg_of_a_relayed_route_label_every_mistake_loss_burst() {
    // The target's leg to the hub loses everything, and only, while bad;
    // nothing else loses or delays, so every silence is a burst.
    let sc = star(
        "1h",
        "250ms",
        "push",
        r#"[[network.links]]
        from = "target"
        to = "relay"
        loss_model = { kind = "gilbert-elliott", p_good_to_bad = 0.01, p_bad_to_good = 0.2 }"#,
    );
    assert_eq!(window_causes(&sc), vec![Cause::LossBurst]);
    let q = only(&sc);
    assert!(q.mistakes > 100, "{}", q.mistakes);
    assert_eq!(q.causes.get(Cause::LossBurst), q.mistakes, "{:?}", q.causes);
}
