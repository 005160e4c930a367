//! One simulated run scores every swept value: the one-pass sweep must
//! equal scoring each value on its own, exactly, for every detector kind.

use fdsim::detector::{kinds, Env, ParamUnit, Params};
use fdsim::metrics::{score_detector, ScoreInput};
use fdsim::run::build_sim;
use fdsim::sim::{Clock, Nanos};

/// Thresholds spread over the range where each kind's suspicion moves.
fn thresholds(unit: ParamUnit, interval: Nanos, min: f64, max: f64) -> Vec<f64> {
    let raw: Vec<f64> = match unit {
        ParamUnit::Duration => (1..=24)
            .map(|i| interval.0 as f64 * i as f64 / 8.0)
            .collect(),
        _ => (1..=24).map(|i| i as f64 * 0.75).collect(),
    };
    let fitted: Vec<f64> = raw
        .into_iter()
        .map(|x| if max <= 1.0 { x / 24.0 * max } else { x })
        .filter(|&x| x > min && x <= max)
        .collect();
    assert!(fitted.len() >= 8, "{fitted:?}");
    fitted
}

#[test]
fn one_pass_sweep_equals_separate_runs_per_value() {
    let sc = super::scenario(
        r#"
        duration = "2h"
        warmup = "30s"
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "lognormal", median = "20ms", sigma = 0.9 }
        loss = 0.03
        [[faults]]
        kind = "crash-loop"
        node = "target"
        every = "7m"
        down = "15s"
        jitter = "3m"
        [[detectors]]
        kind = "fixed"
        timeout = "1s"
        "#,
    );
    let (mut sim, outages) = build_sim(&sc, 5);
    sim.run_until(sc.duration);
    let arrivals = sim.agent(0).arrivals_from(1).to_vec();
    let input = ScoreInput {
        arrivals: &arrivals,
        outages: &outages,
        clock: Clock::default(),
        warmup: sc.warmup,
        end: sc.duration,
    };
    let env = Env {
        interval: sc.interval,
    };
    for kind in kinds() {
        let params = Params::new(
            kind.params
                .iter()
                .map(|p| {
                    (
                        p.name,
                        p.default.expect("every non-swept parameter has a default"),
                    )
                })
                .collect(),
        );
        let mut values = thresholds(kind.swept.unit, sc.interval, kind.swept.min, kind.swept.max);
        values.reverse(); // declared order need not be sorted
        let together = score_detector(kind, &params, &env, &values, input);
        for (i, &x) in values.iter().enumerate() {
            let alone = score_detector(kind, &params, &env, &[x], input).remove(0);
            assert_eq!(together[i], alone, "{} at {x}", kind.name);
        }
        // Not vacuous: the values must score differently.
        assert!(
            together.windows(2).any(|w| w[0] != w[1]),
            "{}: every value scored the same",
            kind.name
        );
    }
}
