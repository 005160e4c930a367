//! CSV row structs: one per output file, so the header and column order
//! are a stable contract (see `docs/output.md`).

use crate::metrics::curve::{mark_pareto, CurvePoint};
use crate::metrics::{Cause, RunQos, Summary};
use crate::run::ScenarioResult;
use crate::sim::time::Nanos;
use serde::Serialize;

/// One row of `runs.csv` (and of `metrics.csv`, the same rows under the
/// name the first release used): one detector at one swept value in one
/// seed.
/// The header and column order are a stable contract; see
/// `docs/output.md`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RunRow {
    pub scenario: String,
    pub detector: String,
    pub kind: String,
    pub param: String,
    pub param_value: f64,
    pub param_unit: String,
    pub seed: u64,
    pub crashes: u32,
    pub detected: u32,
    pub undetected: u32,
    pub detection_ms_mean: Option<f64>,
    pub detection_ms_median: Option<f64>,
    pub detection_ms_p99: Option<f64>,
    pub detection_ms_max: Option<f64>,
    pub mistakes: u64,
    pub mistakes_per_hour: Option<f64>,
    pub mistake_ms_mean: Option<f64>,
    pub query_accuracy: Option<f64>,
    pub up_time_s: f64,
    pub messages_sent: u64,
    pub messages_delivered: u64,
    // The mistakes broken down by cause (docs/metrics.md, "Mistakes by
    // cause"): the first five, in priority order, and `mistakes_none` add
    // up to `mistakes`.
    pub mistakes_partition: u64,
    pub mistakes_pause: u64,
    pub mistakes_slow: u64,
    pub mistakes_latency_spike: u64,
    pub mistakes_loss_burst: u64,
    pub mistakes_none: u64,
    pub mistakes_multiple_causes: u64,
}

fn ms(n: Option<Nanos>) -> Option<f64> {
    n.map(Nanos::as_millis_f64)
}

/// The rows of `runs.csv` for one scenario, in detector, value, seed
/// order.
pub fn run_rows(res: &ScenarioResult) -> Vec<RunRow> {
    let sc = &res.scenario;
    let mut rows = Vec::new();
    for (d, cfg) in sc.detectors.iter().enumerate() {
        let unit = cfg.kind.swept.unit;
        for (v, &value) in cfg.values.iter().enumerate() {
            for seed in &res.seeds {
                let q: &RunQos = &seed.qos[d][v];
                let s = Summary::pool([q]);
                rows.push(RunRow {
                    scenario: sc.name.clone(),
                    detector: cfg.label.clone(),
                    kind: cfg.kind.name.to_string(),
                    param: cfg.kind.swept.name.to_string(),
                    param_value: unit.display_value(value),
                    param_unit: unit.column_unit().to_string(),
                    seed: seed.seed,
                    crashes: s.crashes,
                    detected: s.detections.len() as u32,
                    undetected: s.undetected,
                    detection_ms_mean: ms(s.detection_mean()),
                    detection_ms_median: ms(s.detection_percentile(50.0)),
                    detection_ms_p99: ms(s.detection_percentile(99.0)),
                    detection_ms_max: ms(s.detection_max()),
                    mistakes: s.mistakes,
                    mistakes_per_hour: s.mistakes_per_hour(),
                    mistake_ms_mean: ms(s.mean_mistake()),
                    query_accuracy: s.query_accuracy(),
                    up_time_s: s.up_time.as_secs_f64(),
                    messages_sent: seed.stats.sent,
                    messages_delivered: seed.stats.delivered,
                    mistakes_partition: s.causes.get(Cause::Partition),
                    mistakes_pause: s.causes.get(Cause::Pause),
                    mistakes_slow: s.causes.get(Cause::Slow),
                    mistakes_latency_spike: s.causes.get(Cause::LatencySpike),
                    mistakes_loss_burst: s.causes.get(Cause::LossBurst),
                    mistakes_none: s.causes.none,
                    mistakes_multiple_causes: s.causes.multiple,
                });
            }
        }
    }
    rows
}

/// The trade-off curve of a scenario: one point per detector × value, in
/// declaration order, with the Pareto front marked.
pub fn curve_points(res: &ScenarioResult) -> Vec<CurvePoint> {
    let mut points = Vec::new();
    for (d, cfg) in res.scenario.detectors.iter().enumerate() {
        for (v, &value) in cfg.values.iter().enumerate() {
            let runs = res.seeds.iter().map(|s| &s.qos[d][v]);
            points.push(CurvePoint::new(d, v, value, runs));
        }
    }
    mark_pareto(&mut points);
    points
}

/// One row of `curve.csv`: one detector at one swept value, pooled over
/// every seed. Intervals are 95 %: Student-t for the mean detection time
/// (over all detected crashes), exact Poisson for the mistake rate.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CurveRow {
    pub scenario: String,
    pub detector: String,
    pub kind: String,
    pub param: String,
    pub param_value: f64,
    pub param_unit: String,
    pub seeds: u32,
    pub crashes: u32,
    pub detected: u32,
    pub undetected: u32,
    pub detection_ms_mean: Option<f64>,
    pub detection_ms_mean_lo95: Option<f64>,
    pub detection_ms_mean_hi95: Option<f64>,
    pub detection_ms_median: Option<f64>,
    pub detection_ms_p99: Option<f64>,
    pub detection_ms_max: Option<f64>,
    pub mistakes: u64,
    pub up_hours: f64,
    pub mistakes_per_hour: Option<f64>,
    pub mistakes_per_hour_lo95: Option<f64>,
    pub mistakes_per_hour_hi95: Option<f64>,
    pub unavailability: Option<f64>,
    pub mistake_ms_mean: Option<f64>,
    pub pareto: bool,
    // The mistakes broken down by cause, as in `RunRow`.
    pub mistakes_partition: u64,
    pub mistakes_pause: u64,
    pub mistakes_slow: u64,
    pub mistakes_latency_spike: u64,
    pub mistakes_loss_burst: u64,
    pub mistakes_none: u64,
    pub mistakes_multiple_causes: u64,
}

/// The rows of `curve.csv`.
pub fn curve_rows(res: &ScenarioResult, points: &[CurvePoint]) -> Vec<CurveRow> {
    let sc = &res.scenario;
    points
        .iter()
        .map(|p| {
            let cfg = &sc.detectors[p.detector];
            let unit = cfg.kind.swept.unit;
            let s = &p.summary;
            CurveRow {
                scenario: sc.name.clone(),
                detector: cfg.label.clone(),
                kind: cfg.kind.name.to_string(),
                param: cfg.kind.swept.name.to_string(),
                param_value: unit.display_value(p.value),
                param_unit: unit.column_unit().to_string(),
                seeds: s.runs,
                crashes: s.crashes,
                detected: s.detections.len() as u32,
                undetected: s.undetected,
                detection_ms_mean: p.detection_ms.map(|d| d.0),
                detection_ms_mean_lo95: p.detection_ms.map(|d| d.1).filter(|x| x.is_finite()),
                detection_ms_mean_hi95: p.detection_ms.map(|d| d.2).filter(|x| x.is_finite()),
                detection_ms_median: ms(s.detection_percentile(50.0)),
                detection_ms_p99: ms(s.detection_percentile(99.0)),
                detection_ms_max: ms(s.detection_max()),
                mistakes: s.mistakes,
                up_hours: s.up_time.as_secs_f64() / 3600.0,
                mistakes_per_hour: p.mistakes_per_hour.map(|m| m.0),
                mistakes_per_hour_lo95: p.mistakes_per_hour.map(|m| m.1),
                mistakes_per_hour_hi95: p.mistakes_per_hour.map(|m| m.2),
                unavailability: p.unavailability(),
                mistake_ms_mean: ms(s.mean_mistake()),
                pareto: p.pareto,
                mistakes_partition: s.causes.get(Cause::Partition),
                mistakes_pause: s.causes.get(Cause::Pause),
                mistakes_slow: s.causes.get(Cause::Slow),
                mistakes_latency_spike: s.causes.get(Cause::LatencySpike),
                mistakes_loss_burst: s.causes.get(Cause::LossBurst),
                mistakes_none: s.causes.none,
                mistakes_multiple_causes: s.causes.multiple,
            }
        })
        .collect()
}
