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

/// Edits the recorded baseline's JSON with `edit` and runs `check`.
fn check_with_edited_baseline(name: &str, edit: impl Fn(&mut serde_json::Value)) -> Output {
    let d = dir(name);
    let sc = write(&d, SCENARIO);
    let base = record(&d, &sc);
    let file = Path::new(&base).join("gate.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&file, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let o = fdsim(&["check", &sc, "--baseline", &base]);
    std::fs::remove_dir_all(&d).unwrap();
    o
}

#[test]
fn every_untrustworthy_baseline_is_refused_before_simulating() {
    use serde_json::json;
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "no-seeds",
            Box::new(|j| j["seeds"] = json!([])),
            "`seeds` is empty",
        ),
        (
            "no-points",
            Box::new(|j| j["points"] = json!([])),
            "`points` is empty",
        ),
        (
            "version",
            Box::new(|j| j["fdsim_version"] = json!("0.0.1")),
            "recorded by fdsim 0.0.1",
        ),
        (
            "format",
            Box::new(|j| j["format"] = json!(1)),
            "format 1 is not",
        ),
        (
            "unknown-field",
            Box::new(|j| j["extra"] = json!(true)),
            "unknown field `extra`",
        ),
        (
            "unknown-point-field",
            Box::new(|j| j["points"][0]["bonus"] = json!(1)),
            "unknown field `bonus`",
        ),
        (
            "negative",
            Box::new(|j| j["points"][0]["mistakes_per_hour"] = json!(-3.0)),
            "`mistakes_per_hour` must be a finite number >= 0",
        ),
        (
            "duplicate-seeds",
            Box::new(|j| j["seeds"] = json!([1, 2, 1])),
            "seed 1 appears twice",
        ),
        (
            "other-scenario",
            Box::new(|j| j["scenario"] = json!("lan-pair")),
            "is for scenario `lan-pair`, not `gate`",
        ),
        (
            "too-many-seeds",
            Box::new(|j| j["seeds"] = json!((0..1_000_000u64).collect::<Vec<_>>())),
            "holds 1000000 seeds; at most 100000",
        ),
        (
            "counts",
            Box::new(|j| j["points"][0]["undetected"] = json!(1_000_000)),
            "exceed `crashes`",
        ),
        (
            "interval",
            Box::new(|j| j["points"][0]["detection_ms_mean_lo95"] = json!(1e9)),
            "does not contain its estimate",
        ),
    ];
    for (name, edit, expect) in cases {
        let o = check_with_edited_baseline(name, edit);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {out}");
        assert!(
            out.contains(expect),
            "{name}: expected `{expect}` in:\n{out}"
        );
        assert!(
            !out.contains("simulating") && !out.contains("held"),
            "{name}: {out}"
        );
        assert!(
            !out.contains("record one with"),
            "{name}: must not invite overwriting: {out}"
        );
    }
}

#[test]
fn a_corrupt_baseline_is_not_reported_as_missing() {
    let d = dir("corrupt");
    let sc = write(&d, SCENARIO);
    let base = record(&d, &sc);
    let file = Path::new(&base).join("gate.json");
    for bytes in [
        &b"{\"format\": 2, \"seeds\": [1,"[..],
        &[0xff, 0xfe, 0x00][..],
    ] {
        std::fs::write(&file, bytes).unwrap();
        let o = fdsim(&["check", &sc, "--baseline", &base]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(out.contains("corrupt"), "{out}");
        assert!(
            !out.contains("no baseline") && !out.contains("record one"),
            "{out}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), bytes, "left as it was");
    }
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
