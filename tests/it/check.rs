//! `fdsim baseline` and `fdsim check`: an unchanged run holds, a worse
//! detector fails with the metric and the size of the change, budgets are
//! gated, and missing baselines are bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = r#"
name = "gate"
duration = "3h"
seeds = 4
[heartbeat]
interval = "100ms"
[network]
latency = { dist = "lognormal", median = "5ms", sigma = 0.8 }
loss = 0.01
[[faults]]
kind = "crash-loop"
node = "target"
every = "10m"
down = "20s"
jitter = "5m"
[[detectors]]
kind = "chen"
alpha = ["50ms", "100ms", "150ms"]
window = 1000
"#;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fdsim-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fdsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(args)
        .output()
        .expect("fdsim runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(d: &Path, body: &str) -> String {
    let p = d.join("gate.toml");
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_string()
}

fn record(d: &Path, scenario: &str) -> String {
    let base = d.join("baselines");
    let o = fdsim(&["baseline", scenario, "--out", base.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    base.to_str().unwrap().to_string()
}

#[test]
fn an_unchanged_run_holds() {
    let d = dir("same");
    let sc = write(&d, SCENARIO);
    let base = record(&d, &sc);
    let junit = d.join("junit.xml");
    let o = fdsim(&[
        "check",
        &sc,
        "--baseline",
        &base,
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("0 regressed"), "{}", text(&o));
    assert!(
        text(&o).contains(
            "gate: 15 held, 0 improved, 0 regressed, 0 missing, 0 over budget; reproduced exactly"
        ),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("baselines: 1 of 1 scenario(s) reproduced exactly, 0 held within noise"),
        "{}",
        text(&o)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"0\"") && xml.contains("<testcase"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_worse_detector_fails_naming_the_metric_and_the_change() {
    let d = dir("worse");
    let sc = write(&d, SCENARIO);
    let base = record(&d, &sc);
    // The deliberate change: NFD-E estimates from the last heartbeat only,
    // so every delay spike past alpha becomes a mistake.
    write(&d, &SCENARIO.replace("window = 1000", "window = 1"));
    let junit = d.join("junit.xml");
    let o = fdsim(&[
        "check",
        &sc,
        "--baseline",
        &base,
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("changed since its baseline"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("REGRESSED") && l.contains("mistakes_per_hour"))
        .unwrap_or_else(|| panic!("no mistakes_per_hour regression in:\n{out}"));
    assert!(line.contains("gate / chen / alpha="), "{line}");
    assert!(line.contains("rose from") && line.contains('%'), "{line}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure message=\"rose from"), "{xml}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn budgets_in_the_scenario_are_gated() {
    let d = dir("budget");
    let met = write(&d, &format!("{SCENARIO}max_mistakes_per_hour = 1000\n"));
    let o = fdsim(&["check", &met]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("budget ok"), "{}", text(&o));
    let over = write(&d, &format!("{SCENARIO}max_detection_ms_mean = 1\n"));
    let o = fdsim(&["check", &over]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("OVER BUDGET"), "{}", text(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_missing_baseline_or_bad_tolerance_is_bad_input() {
    let d = dir("missing");
    let sc = write(&d, SCENARIO);
    let empty = d.join("none");
    let o = fdsim(&["check", &sc, "--baseline", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("no baseline for scenario gate"),
        "{}",
        text(&o)
    );
    let o = fdsim(&[
        "check",
        &sc,
        "--baseline",
        empty.to_str().unwrap(),
        "--tolerance",
        "speed=1,2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = fdsim(&["check", &sc]);
    assert_eq!(o.status.code(), Some(2), "nothing to check");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_rerun_whose_numbers_moved_slightly_holds_within_noise_and_does_not_claim_exactness() {
    let d = dir("noise");
    let sc = write(&d, SCENARIO);
    let base = record(&d, &sc);
    // A window of 999 heartbeats instead of 1000 shifts every estimate by
    // a hair: the numbers move, but far less than their noise.
    write(&d, &SCENARIO.replace("window = 1000", "window = 999"));
    let o = fdsim(&["check", &sc, "--baseline", &base]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(
            "gate: 15 held, 0 improved, 0 regressed, 0 missing, 0 over budget; held within noise"
        ),
        "{out}"
    );
    assert!(
        out.contains("baselines: 0 of 1 scenario(s) reproduced exactly, 1 held within noise"),
        "{out}"
    );
    assert!(
        !out.contains("reproduced exactly,") || out.contains("0 of 1"),
        "{out}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
