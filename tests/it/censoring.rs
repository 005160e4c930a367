//! Answers in the corners: a crash cut off by the end of a run is
//! censored, not a miss; pooled sums do not saturate; arrivals of one
//! instant are applied together. Each test is a reported defect's
//! reproduction (the scenario files of `shared/repro/`, inlined).

use fdsim::report::curve_points;
use fdsim::run::run_all;
use fdsim::sim::Nanos;
use fdsim::tune::{tune, TuneOptions};

/// A pair whose target crashes for good 1.5 s before the end of the run.
const LATE_CRASH: &str = r#"
    duration = "1h"
    seeds = 2
    [heartbeat]
    interval = "100ms"
    [network]
    latency = { dist = "constant", value = "5ms" }
    [[faults]]
    kind = "crash"
    node = "target"
    at = "3598500ms"
    [[detectors]]
    kind = "fixed"
    timeout = ["500ms", "2s", "3s"]
"#;

#[test]
fn a_crash_cut_off_by_the_end_of_the_run_is_censored_not_undetected() {
    let sc = super::scenario(LATE_CRASH);
    let res = run_all(vec![sc], 1, &|_, _| {}).unwrap();
    let pts = curve_points(&res[0]);
    // 500 ms: detected 1.5 s before the end, 500 ms after the last
    // heartbeat (sent at most 100 ms before the crash).
    let fast = &pts[0].summary;
    assert_eq!(
        (fast.detections.len(), fast.undetected, fast.censored.len()),
        (2, 0, 0)
    );
    for p in &pts[1..] {
        let s = &p.summary;
        assert_eq!(
            s.detections.len(),
            0,
            "{}: nothing to detect in time",
            p.value
        );
        assert_eq!(s.undetected, 0, "{}: the target never recovered", p.value);
        assert_eq!(s.censored, vec![Nanos::from_millis(1500); 2]);
        assert_eq!(s.crashes, 2);
        assert_eq!(s.detection_mean(), None);
    }
    // A censored crash does not disqualify a setting by itself: the fast
    // timeout has mistakes 0 too and dominates, but nothing is excluded
    // for want of detection.
    assert!(pts[0].pareto);
}

#[test]
fn censoring_does_not_disqualify_a_setting_from_tuning_or_the_front() {
    // Crashes every 10 minutes, the last one 1.5 s before the end: every
    // timeout above 1.5 s sees one censored crash.
    let sc = super::scenario(
        r#"
        duration = "1h"
        seeds = 3
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "lognormal", median = "10ms", sigma = 0.5 }
        [[faults]]
        kind = "crash-loop"
        node = "target"
        first = "9m58500ms"
        every = "10m"
        down = "1m"
        [[detectors]]
        kind = "fixed"
        timeout = ["150ms", "2s", "4s"]
        "#,
    );
    let res = run_all(vec![sc.clone()], 1, &|_, _| {}).unwrap();
    let pts = curve_points(&res[0]);
    for p in &pts[1..] {
        assert_eq!(p.summary.undetected, 0);
        assert_eq!(p.summary.censored.len(), 3, "the last crash of each seed");
        assert!(p.detection_ms.is_some());
    }
    // The slower settings make no mistake: each is on the front or
    // dominated by a faster mistake-free one, never excluded.
    let zero: Vec<_> = pts
        .iter()
        .filter(|p| p.mistakes_per_hour.unwrap().0 == 0.0)
        .collect();
    assert!(!zero.is_empty());
    assert!(
        zero.iter().any(|p| p.pareto),
        "some mistake-free setting is on the front"
    );
    let got = tune(&sc, None, TuneOptions::new(5.0, 1)).unwrap();
    assert!(got[0].found, "{:?}", got[0]);
}

#[test]
fn a_censoring_shorter_than_every_detection_leaves_the_mean_unrestricted() {
    // Two crashes: one detected after ~2 s, one cut off 1.5 s before the
    // end with a 2 s timeout. Kaplan-Meier restricts the mean to the
    // largest observed time and flags it only when that time is censored
    // (the unit tests of metrics::survival cover that case).
    let sc = super::scenario(
        r#"
        duration = "1h"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "constant", value = "5ms" }
        [[faults]]
        kind = "crash-loop"
        node = "target"
        first = "30m"
        every = "29m58500ms"
        down = "10m"
        [[detectors]]
        kind = "fixed"
        timeout = ["2s"]
        "#,
    );
    let res = run_all(vec![sc], 1, &|_, _| {}).unwrap();
    let p = &curve_points(&res[0])[0];
    assert_eq!(p.summary.detections.len(), 1);
    assert_eq!(p.summary.censored, vec![Nanos::from_millis(1500)]);
    // The detection (about 1.9 s) is larger than the censoring time: the
    // largest observation is a detection, so the mean is not restricted
    // and equals that detection.
    assert!(!p.summary.detection_mean_restricted());
    assert_eq!(p.summary.detection_mean(), Some(p.summary.detections[0]));
}

#[test]
fn pooled_up_time_is_exact_beyond_two_to_the_64_nanoseconds() {
    // shared/repro/uptime-overflow.toml: 4,000 seeds × 60 days, reported
    // 5,124,096 up hours (saturated at 2^64 ns) instead of 5,755,700.
    let sc = super::scenario(
        r#"
        name = "uptime-overflow"
        duration = "60d"
        seeds = 4000
        [heartbeat]
        interval = "1h"
        [network]
        latency = { dist = "constant", value = "5ms" }
        loss = 0.5
        [[detectors]]
        kind = "fixed"
        timeout = ["90m"]
        "#,
    );
    let res = run_all(vec![sc], 2, &|_, _| {}).unwrap();
    let p = &curve_points(&res[0])[0];
    let hours = p.summary.up_time.as_hours_f64();
    // Each seed scores from its first trust (the first heartbeat, 5 ms
    // plus its random phase within the first hour) to the end.
    let per_seed: Vec<f64> = res[0]
        .seeds
        .iter()
        .map(|s| s.qos[0][0].up_time.as_hours_f64())
        .collect();
    let sum: f64 = per_seed.iter().sum();
    assert!((hours - sum).abs() < 1e-6 * sum, "{hours} vs {sum}");
    assert!(hours > 5_750_000.0 && hours < 5_760_000.0, "{hours}");
    let rate = p.mistakes_per_hour.unwrap().0;
    assert!((rate - p.summary.mistakes as f64 / sum).abs() < 1e-9 * rate);
}

#[test]
fn arrivals_of_one_instant_are_applied_before_the_output_is_evaluated() {
    // shared/repro/simultaneous-dup.toml: every heartbeat is duplicated
    // with a constant delay, so both copies arrive at the same instant.
    // Satzger's window of 3 then alternates between holding one and two
    // zero intervals; evaluated between the copies, threshold 0.5 flipped
    // at every instant and reported 599 mistakes in a minute.
    let sc = super::scenario(
        r#"
        name = "simultaneous-dup"
        duration = "60s"
        seeds = [1]
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "constant", value = "5ms" }
        duplicate = 1.0
        [[detectors]]
        kind = "satzger"
        threshold = [0.3, 0.5, 0.7]
        window = 3
        "#,
    );
    let res = run_all(vec![sc], 1, &|_, _| {}).unwrap();
    for p in curve_points(&res[0]) {
        assert_eq!(p.summary.mistakes, 0, "threshold {}", p.value);
    }
}
