//! The tuner: its answer meets the budget with 95 % confidence, is at
//! least as fast as every declared value that does, and says why when
//! nothing can.

use fdsim::report::curve_points;
use fdsim::run::run_all;
use fdsim::tune::{tune, TuneOptions};
use std::process::Command;

const SCENARIO: &str = r#"
    duration = "2h"
    seeds = 3
    [heartbeat]
    interval = "100ms"
    [network]
    latency = { dist = "lognormal", median = "10ms", sigma = 0.6 }
    loss = 0.02
    [[faults]]
    kind = "crash-loop"
    node = "target"
    every = "10m"
    down = "20s"
    jitter = "5m"
    [[detectors]]
    kind = "fixed"
    timeout = ["150ms", "250ms", "400ms", "800ms"]
"#;

#[test]
fn tuned_setting_meets_the_budget_and_beats_the_declared_grid() {
    let sc = super::scenario(SCENARIO);
    let budget = 2.0;
    let got = tune(&sc, None, TuneOptions::new(budget, 2)).unwrap();
    let r = &got[0];
    assert!(r.found, "{r:?}");
    assert!(r.mistakes_per_hour_hi95.unwrap() <= budget);
    assert!(
        r.evaluated > sc.detectors[0].values.len(),
        "it refined the grid"
    );
    let grid = curve_points(&run_all(vec![sc], 1, &|_, _| {}).unwrap()[0]);
    for p in grid.iter().filter(|p| p.certified_within(budget)) {
        assert!(r.detection_ms_mean.unwrap() <= p.detection_ms.unwrap().0);
    }
}

#[test]
fn says_why_when_the_up_time_cannot_certify_the_budget() {
    let sc = super::scenario(SCENARIO);
    let r = &tune(&sc, Some("fixed"), TuneOptions::new(1e-4, 2)).unwrap()[0];
    assert!(!r.found);
    assert!(r.note.contains("cannot certify"), "{}", r.note);
}

#[test]
fn unknown_detector_is_an_error() {
    let sc = super::scenario(SCENARIO);
    let err = tune(&sc, Some("nope"), TuneOptions::new(1.0, 1)).unwrap_err();
    assert!(err.contains("no detector named \"nope\""), "{err}");
}

#[test]
fn cli_prints_machine_readable_json() {
    let o = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args([
            "tune",
            "tests/fixtures/ok-small.toml",
            "--max-mistakes-per-hour",
            "30",
            "--json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["scenario"], "ok-small");
    let det = &doc["detectors"][0];
    assert_eq!(det["found"], true);
    assert!(det["mistakes_per_hour_hi95"].as_f64().unwrap() <= 30.0);
}
