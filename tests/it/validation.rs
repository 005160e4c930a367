//! Semantic checks that have no fixture file of their own.

use fdsim::scenario::Scenario;
use std::path::Path;

fn error_of(text: &str) -> String {
    match Scenario::parse(Path::new("v.toml"), text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const BODY: &str = r#"
duration = "1h"
[heartbeat]
interval = "100ms"
[network]
latency = { dist = "constant", value = "1ms" }
[[detectors]]
kind = "fixed"
timeout = "200ms"
"#;

#[test]
fn a_name_that_would_escape_the_output_folder_is_rejected() {
    let e = error_of(&format!("name = \"..\"\n{BODY}"));
    assert!(e.starts_with("v.toml:1:8: `name` may hold only"), "{e}");
}

#[test]
fn a_scenario_without_a_monitored_pair_is_rejected() {
    let e = error_of(&format!(
        "{BODY}\n[nodes]\nmonitors = [\"m\"]\ntargets = [\"m\"]\n"
    ));
    assert!(
        e.contains("no target is watched by a different node"),
        "{e}"
    );
}

#[test]
fn seed_overrides_that_would_overflow_are_refused() {
    let mut sc = Scenario::parse(Path::new("v.toml"), BODY).unwrap();
    let before = sc.seeds.clone();
    assert!(sc.override_seeds(Some(2), Some(u64::MAX)).is_err());
    assert_eq!(sc.seeds, before, "a refused override changes nothing");
    sc.override_seeds(Some(1), Some(u64::MAX)).unwrap();
    assert_eq!(sc.seeds, vec![u64::MAX]);
}

#[test]
fn unknown_detector_kind_lists_the_known_ones() {
    let e = error_of(&BODY.replace("kind = \"fixed\"", "kind = \"fixd\""));
    assert!(
        e.contains("unknown detector \"fixd\"; known: fixed, chen-nfds"),
        "{e}"
    );
}

#[test]
fn unknown_detector_parameter_lists_the_accepted_ones() {
    let e = error_of(&BODY.replace("timeout = \"200ms\"", "timeout = \"200ms\"\nwindow = 5"));
    assert!(
        e.contains("unknown parameter `window` for detector \"fixed\"; it takes: timeout"),
        "{e}"
    );
}

#[test]
fn overlapping_faults_on_one_node_are_rejected() {
    let faults =
        "\n[[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"10m\"\nrestart_after = \"5m\"\n\
                  [[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"12m\"\n";
    let e = error_of(&format!("{BODY}{faults}"));
    assert!(
        e.starts_with(
            "v.toml:16:1: this fault (kind = \"crash\", down from 12m to the end) can overlap \
             an earlier fault on node \"target\", the [[faults]] entry on line 11 \
             (kind = \"crash\", down from 10m to 15m); a node cannot crash while it is down"
        ),
        "{e}"
    );
    let loop_then_crash = "\n[[faults]]\nkind = \"crash-loop\"\nnode = \"target\"\nevery = \"10m\"\n\
                           down = \"1m\"\n[[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"30m\"\n";
    let e = error_of(&format!("{BODY}{loop_then_crash}"));
    assert!(
        e.contains("the [[faults]] entry on line 11 (kind = \"crash-loop\", crashing from 10m on)"),
        "{e}"
    );
}

/// `BODY` with `network` lines added to `[network]` and `tail` appended.
fn with_network(network: &str, tail: &str) -> String {
    let lat = "latency = { dist = \"constant\", value = \"1ms\" }\n";
    format!("{}{tail}", BODY.replace(lat, &format!("{lat}{network}\n")))
}

#[test]
fn realistic_network_mistakes_are_located_and_explained() {
    let spike = "\n[[network.spikes]]\nstart = \"1m\"\nend = \"2m\"\n";
    let cases: [(&str, &str, &str); 14] = [
        (
            "loss = 0.1\nloss_model = { kind = \"gilbert-elliott\", p_good_to_bad = 0.1, p_bad_to_good = 0.5 }",
            "",
            "v.toml:8:14: `network.loss` and `network.loss_model` are both set",
        ),
        (
            "loss_model = { kind = \"markov\", p_good_to_bad = 0.1, p_bad_to_good = 0.5 }",
            "",
            "v.toml:7:23: `network.loss_model.kind`: unknown loss model \"markov\"",
        ),
        (
            "loss_model = { kind = \"gilbert-elliott\", p_good_to_bad = 0.1, p_bad_to_good = 0 }",
            "",
            "v.toml:7:79: `network.loss_model.p_bad_to_good` must be above 0",
        ),
        (
            "loss_model = { kind = \"gilbert-elliott\", p_bad_to_good = 0.5 }",
            "",
            "v.toml:7:14: `network.loss_model`: kind = \"gilbert-elliott\" needs `p_good_to_bad`",
        ),
        (
            "loss_model = { kind = \"gilbert-elliott\", p_good_to_bad = 0.1, p_bad_to_good = 0.5, loss_bad = 1.5 }",
            "",
            "v.toml:7:95: `network.loss_model.loss_bad` must be in [0, 1], got 1.5",
        ),
        (
            "duplicate = 1.2",
            "",
            "v.toml:7:13: `network.duplicate` must be in [0, 1], got 1.2",
        ),
        (
            "",
            spike,
            "`network.spikes`: needs `add` (a duration added to every delay) or `latency`",
        ),
        (
            "",
            &format!("{spike}add = \"1s\"\nlatency = {{ dist = \"constant\", value = \"1ms\" }}\n"),
            "v.toml:16:11: `network.spikes`: give `add` or `latency`, not both",
        ),
        (
            "",
            "\n[[network.spikes]]\nstart = \"2m\"\nend = \"2m\"\nadd = \"1s\"\n",
            "v.toml:14:7: `network.spikes.end` (2m) must be after `network.spikes.start` (2m)",
        ),
        (
            "",
            &format!("{spike}add = \"1s\"\nlinks = [[\"target\", \"monitr\"]]\n"),
            "v.toml:16:21: `network.spikes.links`: unknown node \"monitr\"",
        ),
        (
            "",
            &format!("{spike}add = \"1s\"\nlinks = [[\"target\"]]\n"),
            "v.toml:16:10: `network.spikes.links`: each link is a pair [\"from\", \"to\"]",
        ),
        (
            "",
            &format!(
                "{spike}latency = {{ dist = \"constant\", value = \"9ms\" }}\n\
                 {spike}latency = {{ dist = \"constant\", value = \"5ms\" }}\nlinks = [[\"target\", \"monitor\"]]\n"
            ),
            "this spike replaces the latency of link \"target\" -> \"monitor\" while an earlier spike (1m–2m) does too",
        ),
        (
            "",
            "\n[[partitions]]\nstart = \"1m\"\nend = \"2m\"\na = [\"target\"]\nb = [\"monitor\"]\nflap = { up = \"10s\", down = \"0s\" }\n",
            "v.toml:17:29: `partitions.flap.down` must be greater than zero",
        ),
        (
            "latency = { dist = \"empirical\", file = \"no/such.csv\" }",
            "",
            "`network.latency.file`: cannot read no/such.csv",
        ),
    ];
    for (network, tail, want) in cases {
        let text = with_network(network, tail);
        // The duplicated `latency` key of the last case is a TOML error;
        // write that case over the original line instead.
        let text = if network.starts_with("latency") {
            BODY.replace(
                "latency = { dist = \"constant\", value = \"1ms\" }",
                network,
            )
        } else {
            text
        };
        let e = error_of(&text);
        assert!(e.contains(want), "want {want:?}, got:\n{e}\nfor:\n{text}");
    }
}

#[test]
fn links_inherit_or_override_the_default_loss_duplication_and_spikes() {
    use fdsim::net::{GilbertElliott, Loss, SpikeChange};
    let text = with_network(
        "loss_model = { kind = \"gilbert-elliott\", p_good_to_bad = 0.01, p_bad_to_good = 0.19 }\n\
         duplicate = 0.01\n\
         [[network.links]]\nfrom = \"monitor\"\nto = \"target\"\nloss = 0.1\n",
        "\n[[network.spikes]]\nstart = \"1m\"\nend = \"2m\"\nadd = \"1s\"\nlinks = [[\"target\", \"monitor\"]]\n",
    );
    let sc = Scenario::parse(Path::new("v.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    // Links in (from, to) order: monitor -> target (0 -> 1), target -> monitor.
    let (to_target, to_monitor) = (&sc.links[0].2, &sc.links[1].2);
    assert_eq!(to_target.loss, Loss::Independent(0.1), "overridden");
    assert_eq!(to_target.duplicate, 0.01, "inherited");
    assert!(to_target.spikes.is_empty(), "not listed in the spike");
    let ge = GilbertElliott {
        p_good_to_bad: 0.01,
        p_bad_to_good: 0.19,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    assert_eq!(
        to_monitor.loss,
        Loss::GilbertElliott(ge),
        "defaults 0 and 1"
    );
    assert_eq!(to_monitor.spikes.len(), 1);
    assert_eq!(
        to_monitor.spikes[0].change,
        SpikeChange::Add(fdsim::sim::Nanos::from_secs(1))
    );
}

/// Each case: scenario text, the `v.toml:LINE:COL: message` start the
/// error must have, and (if not empty) the caret line under the echo.
fn assert_errors(cases: &[(&str, &str, &str)]) {
    for (text, want, caret) in cases {
        let e = error_of(text);
        assert!(
            e.starts_with(want),
            "want {want:?}, got:\n{e}\nfor:\n{text}"
        );
        if !caret.is_empty() {
            let shown = e.lines().last().unwrap_or("");
            let shown = shown.split_once(" | ").map_or("", |(_, c)| c);
            assert_eq!(shown, *caret, "caret of:\n{e}");
        }
    }
}

#[test]
fn syntax_and_type_errors_are_worded_for_scenario_authors_and_placed_at_the_cause() {
    let detectors = "[[detectors]]\nkind = \"fixed\"\n";
    assert_errors(&[
        // An inline table left open is reported at its `{`, not on the
        // next line where the parser gave up.
        (
            &format!("{BODY}[[faults]]\nkind = \"crash\"\nnode = {{ a = 1\nat = \"1m\"\n"),
            "v.toml:12:8: unclosed inline table: this `{` is not closed on its line, so line 13 \
             was read as part of it",
            "       ^",
        ),
        (
            "duration = \"1h\"\n[network]\nlatency = { dist = \"constant\", value = \"1ms\"\n",
            "v.toml:3:11: unclosed inline table: this `{` has no matching `}`",
            "          ^",
        ),
        (
            "duration = \"1h\"\nseeds = [1, 2\n[network]\n",
            "v.toml:2:9: unclosed array: this `[` has no matching `]` before line 3",
            "",
        ),
        (
            &format!("seeds = 99999999999999999999999\n{BODY}"),
            "v.toml:1:9: integer 99999999999999999999999 is out of range: TOML integers run \
             from -9223372036854775808 to 9223372036854775807",
            "",
        ),
        (
            &BODY.replace("[network]", "[network]\nloss = \"x\""),
            "v.toml:6:8: invalid type: string \"x\", expected a number",
            "",
        ),
        (
            &BODY.replace("[network]", "[nodes]\nmonitors = \"m\"\n[network]"),
            "v.toml:6:12: invalid type: string \"m\", expected a list",
            "",
        ),
        (
            "duration = \"1h\"\nheartbeat = 3\n",
            "v.toml:2:13: invalid type: integer `3`, expected a table",
            "",
        ),
        (
            &BODY.replace("[network]", "[network]\nloss = 0.1\nloss = 0.2"),
            "v.toml:7:1: duplicate key `loss` in [network]; it is first set on line 6",
            "^^^^",
        ),
        (
            &format!("{BODY}[network]\n"),
            "v.toml:10:2: table [network] is defined twice; it is first defined on line 5",
            "",
        ),
        (
            &BODY.replace("value = \"1ms\"", "value = \"1ms\", value = \"2ms\""),
            "v.toml:6:47: duplicate key `value` in the inline table opened on line 6; it is \
             first set on line 6",
            "",
        ),
        // Durations written with an exponent or a space say what to write.
        (
            &BODY.replace("\"1h\"", "\"1e3ms\""),
            "v.toml:2:12: `duration`: duration \"1e3ms\" has an exponent, which durations do \
             not take; write the number in full, e.g. \"1000ms\"",
            "",
        ),
        (
            &BODY.replace("\"1h\"", "\"23h 60m\""),
            "v.toml:2:12: `duration`: duration \"23h 60m\" has a space in it; write \"23h60m\" \
             (a number and a unit, or several with no spaces between",
            "",
        ),
        // An unknown key is underlined, not its value, tabs or no tabs.
        (
            &format!("{BODY}bogus\t=\t3\n"),
            "v.toml:10:1: unknown parameter `bogus` for detector \"fixed\"",
            "^^^^^",
        ),
        (
            &format!("{BODY}\t\"bo gus\" = 3\n"),
            "v.toml:10:2: unknown parameter `bo gus` for detector \"fixed\"",
            "    ^^^^^^^^",
        ),
        (
            &format!(
                "{}{detectors}timeout = {{ from = \"1s\", to = \"2s\", stepz = 3 }}\n",
                BODY.replace("[[detectors]]\nkind = \"fixed\"\ntimeout = \"200ms\"\n", "")
            ),
            "v.toml:9:37: unknown key `stepz` in the range for `timeout`",
            "                                    ^^^^^",
        ),
        // The caret sits under the bad value on a line indented by tabs.
        (
            &BODY.replace("[network]", "[network]\n\tloss\t=\t1.5"),
            "v.toml:6:9: `network.loss` must be in [0, 1], got 1.5",
            "                 ^^^",
        ),
    ]);
}

#[test]
fn infinite_numbers_and_distribution_parameters_outside_their_range_are_refused() {
    let lat = |l: &str| BODY.replace("{ dist = \"constant\", value = \"1ms\" }", l);
    assert_errors(&[
        (
            &lat("{ dist = \"lognormal\", median = \"1ms\", sigma = inf }"),
            "v.toml:6:57: `network.latency.sigma` must be a finite number, got inf",
            "",
        ),
        (
            &lat("{ dist = \"lognormal\", median = \"1ms\", sigma = 1e300 }"),
            "v.toml:6:57: `network.latency.sigma` must be in [0, 4], got 1e300",
            "",
        ),
        (
            &lat("{ dist = \"lognormal\", median = \"1ms\", sigma = -0.5 }"),
            "v.toml:6:57: `network.latency.sigma` must be in [0, 4], got -0.5",
            "",
        ),
        (
            &lat("{ dist = \"pareto\", scale = \"1ms\", shape = 0.1 }"),
            "v.toml:6:53: `network.latency.shape` must be in [0.5, 100], got 0.1",
            "",
        ),
        (
            &lat("{ dist = \"pareto\", scale = \"1ms\", shape = nan }"),
            "v.toml:6:53: `network.latency.shape` must be a finite number, got NaN",
            "",
        ),
        (
            &lat("{ dist = \"normal\", mean = \"10ms\", std = \"2d\" }"),
            "v.toml:6:51: `network.latency.std` (48h) must be at most 24h",
            "",
        ),
        (
            &lat("{ dist = \"exponential\", mean = \"30h\" }"),
            "v.toml:6:42: `network.latency.mean` (30h) must be at most 24h",
            "",
        ),
        (
            &BODY.replace("[network]", "[network]\nloss = inf"),
            "v.toml:6:8: `network.loss` must be a finite number, got inf",
            "",
        ),
        (
            &BODY.replace(
                "timeout = \"200ms\"",
                "timeout = \"200ms\"\nmax_mistakes_per_hour = inf",
            ),
            "v.toml:10:25: `max_mistakes_per_hour` must be a finite number, got inf",
            "",
        ),
        (
            &BODY.replace(
                "kind = \"fixed\"\ntimeout = \"200ms\"",
                "kind = \"phi\"\nthreshold = inf",
            ),
            "v.toml:9:13: `threshold` must be a finite number, got inf",
            "",
        ),
        (
            &format!("{BODY}[[clocks]]\nnode = \"target\"\ndrift_ppm = -inf\n"),
            "v.toml:12:13: `clocks.drift_ppm` must be a finite number, got -inf",
            "",
        ),
    ]);
    // A fault's up or down times may run longer than a network delay.
    let churn = "[[faults]]\nkind = \"churn\"\nnode = \"target\"\n\
                 mttf = { dist = \"uniform\", min = \"2d\", max = \"3d\" }\nmttr = \"1m\"\n";
    assert!(Scenario::parse(Path::new("v.toml"), &format!("{BODY}{churn}")).is_ok());
}

#[test]
fn an_empty_scenario_says_so_and_what_a_scenario_needs() {
    for (text, what) in [
        ("", "is empty"),
        ("\n  \n", "is empty"),
        ("# notes\n", "holds only comments"),
    ] {
        let e = error_of(text);
        assert!(
            e.starts_with(&format!(
                "v.toml: the file {what}; a scenario needs at least `duration`"
            )),
            "{e}"
        );
    }
}

#[test]
fn a_forty_kilobyte_line_is_echoed_as_a_window_around_the_error() {
    let ones = "1, ".repeat(6_000);
    let long = format!("seeds = [{ones}@@@, {ones}2]\n{BODY}");
    let e = error_of(&long);
    assert!(
        long.len() > 36_000 && e.len() < 600,
        "{} bytes:\n{e}",
        e.len()
    );
    let lines: Vec<&str> = e.lines().collect();
    let (echo, caret) = (lines[2], lines[3]);
    assert!(echo.starts_with("1 | …") && echo.ends_with('…'), "{e}");
    // The caret is under the bad element.
    let at = caret.chars().position(|c| c == '^').unwrap();
    let under: String = echo.chars().skip(at).take(3).collect();
    assert_eq!(under, "@@@", "{e}");
}

#[test]
fn report_durations_must_be_one_to_three_increasing_positive_durations() {
    let with = |list: &str| format!("{BODY}\n[report]\nmistake_longer_than = {list}\n");
    let e = error_of(&with("[]"));
    assert!(
        e.starts_with("v.toml:12:23: `report.mistake_longer_than` needs 1 to 3 durations, got 0"),
        "{e}"
    );
    let e = error_of(&with(r#"["1s", "2s", "3s", "4s"]"#));
    assert!(e.contains("needs 1 to 3 durations, got 4"), "{e}");
    let e = error_of(&with(r#"["10s", "5s"]"#));
    assert!(
        e.starts_with(
            "v.toml:12:31: `report.mistake_longer_than` must increase: 5s does not follow 10s"
        ),
        "{e}"
    );
    let e = error_of(&with(r#"["0s"]"#));
    assert!(
        e.contains("`report.mistake_longer_than` must be greater than zero"),
        "{e}"
    );
    let e = error_of(&with(r#"["5"]"#));
    assert!(
        e.starts_with("v.toml:12:24: `report.mistake_longer_than`: "),
        "{e}"
    );
    let e = error_of(&format!("{BODY}\n[report]\nplot = true\n"));
    assert!(e.contains("unknown field `plot`"), "{e}");
    let sc = Scenario::parse(Path::new("v.toml"), &with(r#"["500ms", "1m"]"#)).unwrap();
    assert_eq!(
        sc.report.mistake_longer_than,
        vec![
            fdsim::sim::Nanos::from_millis(500),
            fdsim::sim::Nanos::from_secs(60)
        ]
    );
}

#[test]
fn a_sweep_value_that_breaks_the_scenario_is_reported_at_the_value() {
    let with = |sweep: &str| format!("{BODY}\n[sweep]\n{sweep}\n");
    let e = error_of(&with(
        "field = \"heartbeat.interval\"\nvalues = [\"100ms\", \"0ms\"]",
    ));
    assert!(
        e.starts_with(
            "v.toml:13:20: `sweep.values`: with heartbeat.interval = 0ms: `heartbeat.interval` \
             must be greater than zero"
        ),
        "{e}"
    );
    let e = error_of(&with("field = \"detectors.timeout\"\nvalues = [\"1s\"]"));
    assert!(e.contains("`detectors` is not a table"), "{e}");
    let e = error_of(&with("field = \"seeds\"\nvalues = [1]"));
    assert!(e.contains("cannot be `seeds`"), "{e}");
    let e = error_of(&with("field = \"network.loss\"\nvalues = [0.1, 0.1]"));
    assert!(e.contains("0.1 appears twice"), "{e}");
    let e = error_of(&with("field = \"network.loss\"\nvalues = []"));
    assert!(e.contains("needs 1 to 20 values, got 0"), "{e}");
    let e = error_of(&with("field = \"network.loss\"\nvalues = [1.5]"));
    assert!(
        e.contains("with network.loss = 1.5: `network.loss` must be in [0, 1]"),
        "{e}"
    );
}

#[test]
fn a_sweep_runs_every_detector_once_per_value() {
    let sc = Scenario::parse(
        Path::new("v.toml"),
        &format!(
            "{BODY}\n[sweep]\nfield = \"heartbeat.interval\"\nvalues = [\"50ms\", \"200ms\"]\n"
        ),
    )
    .unwrap();
    let labels: Vec<&str> = sc.detectors.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(labels, ["fixed @ interval=50ms", "fixed @ interval=200ms"]);
    let sw = sc.sweep.as_ref().unwrap();
    assert_eq!(sw.variants[1].interval, fdsim::sim::Nanos::from_millis(200));
    assert_eq!(sc.variant(0).interval, fdsim::sim::Nanos::from_millis(50));
}
