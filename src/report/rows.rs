//! CSV row structs: one per output file, so the header and column order
//! are a stable contract (see `docs/output.md`).

use crate::metrics::cluster::ClusterQos;
use crate::metrics::curve::{mark_pareto, CurvePoint};
use crate::metrics::survival::{mean_time, percentile_time};
use crate::metrics::{Cause, RunQos, Summary};
use crate::run::{cost_per_pair_second, ScenarioResult};
use crate::sim::time::Nanos;
use rayon::prelude::*;
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
    pub crashes: u64,
    pub detected: u64,
    pub undetected: u64,
    pub censored: u64,
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

/// The rows of `runs.csv` for one scenario, in series (detectors, then
/// protocols), value, seed order. A protocol's row is the pairwise view of
/// its cluster metrics, with its own simulation's message counts.
pub fn run_rows(res: &ScenarioResult) -> Vec<RunRow> {
    let sc = &res.scenario;
    let mut rows = Vec::new();
    for (d, cfg) in sc.series().into_iter().enumerate() {
        let unit = cfg.unit;
        for (v, &value) in cfg.values.iter().enumerate() {
            for seed in &res.seeds {
                let q: &RunQos = &seed.qos[d][v];
                let s = Summary::pool([q]);
                let stats = match cfg.protocol {
                    Some(p) => seed.clusters[p][v].stats,
                    None => seed.variant_stats[cfg.variant],
                };
                rows.push(RunRow {
                    scenario: sc.name.clone(),
                    detector: cfg.label.to_string(),
                    kind: cfg.kind.to_string(),
                    param: cfg.param.to_string(),
                    param_value: unit.display_value(value),
                    param_unit: unit.column_unit().to_string(),
                    seed: seed.seed,
                    crashes: s.crashes,
                    detected: s.detections.len() as u64,
                    undetected: s.undetected,
                    censored: s.censored.len() as u64,
                    detection_ms_mean: ms(s.detection_mean()),
                    detection_ms_median: ms(s.detection_percentile(50.0)),
                    detection_ms_p99: ms(s.detection_percentile(99.0)),
                    detection_ms_max: ms(s.detection_max()),
                    mistakes: s.mistakes,
                    mistakes_per_hour: s.mistakes_per_hour(),
                    mistake_ms_mean: ms(s.mean_mistake()),
                    query_accuracy: s.query_accuracy(),
                    up_time_s: s.up_time.as_secs_f64(),
                    messages_sent: stats.sent,
                    messages_delivered: stats.delivered,
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

/// The trade-off curve of a scenario: one point per series (detector or
/// protocol) × value, in declaration order, with the Pareto front marked.
///
/// Points are pooled in parallel (rayon's pool: millions of mistake
/// durations per point in a wide sweep), and come back in order.
pub fn curve_points(res: &ScenarioResult) -> Vec<CurvePoint> {
    let mut cells = Vec::new();
    for (d, cfg) in res.scenario.series().into_iter().enumerate() {
        for (v, &value) in cfg.values.iter().enumerate() {
            cells.push((d, v, value));
        }
    }
    let mut points: Vec<CurvePoint> = cells
        .into_par_iter()
        .map(|(d, v, value)| {
            let runs = res.seeds.iter().map(|s| &s.qos[d][v]);
            let point = CurvePoint::new(d, v, value, runs);
            // Worked out here, in parallel, together: the tables ask them
            // later, one setting after another.
            point
                .summary
                .prepare_mistakes(&res.scenario.report.mistake_longer_than);
            point
        })
        .collect();
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
    pub crashes: u64,
    pub detected: u64,
    pub undetected: u64,
    pub censored: u64,
    pub detection_ms_mean: Option<f64>,
    pub detection_ms_mean_lo95: Option<f64>,
    pub detection_ms_mean_hi95: Option<f64>,
    /// True when censoring restricts the mean to the largest observed
    /// time, so that it is a lower bound.
    pub detection_ms_mean_restricted: bool,
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
    // Mistake durations, pooled over seeds (docs/output.md): quantiles by
    // nearest rank, Kaplan–Meier when some mistakes were still open at the
    // end of a run (`mistakes_censored`).
    pub mistake_ms_p50: Option<f64>,
    pub mistake_ms_p90: Option<f64>,
    pub mistake_ms_p99: Option<f64>,
    pub mistake_ms_max: Option<f64>,
    pub mistakes_censored: Option<u64>,
    // Mistakes lasting longer than each `[report] mistake_longer_than`
    // duration (empty cells past the ones configured).
    pub longer_than_1_ms: Option<f64>,
    pub mistakes_longer_than_1: Option<u64>,
    pub mistakes_per_hour_longer_than_1: Option<f64>,
    pub longer_than_2_ms: Option<f64>,
    pub mistakes_longer_than_2: Option<u64>,
    pub mistakes_per_hour_longer_than_2: Option<f64>,
    pub longer_than_3_ms: Option<f64>,
    pub mistakes_longer_than_3: Option<u64>,
    pub mistakes_per_hour_longer_than_3: Option<f64>,
    /// Heartbeat messages (and their bytes) sent per monitored pair per
    /// second of virtual time, averaged over seeds; empty for protocols
    /// (see `clusters.csv`) and replays.
    pub messages_per_pair_s: Option<f64>,
    pub bytes_per_pair_s: Option<f64>,
    /// The `[sweep]` field and this row's value of it, as written; empty
    /// without a sweep.
    pub sweep_field: Option<String>,
    pub sweep_value: Option<String>,
}

/// The "longer than" figures of `s` for the `k`-th configured duration:
/// (D in ms, mistakes longer than D, per hour of up time).
fn longer(
    sc: &crate::scenario::Scenario,
    s: &Summary,
    k: usize,
) -> (Option<f64>, Option<u64>, Option<f64>) {
    let Some(&d) = sc.report.mistake_longer_than.get(k) else {
        return (None, None, None);
    };
    let n = s.mistakes_longer_than(d);
    let hours = s.up_time.as_hours_f64();
    let rate = n.filter(|_| hours > 0.0).map(|n| n as f64 / hours);
    (Some(d.as_millis_f64()), n, rate)
}

/// The rows of `curve.csv`.
pub fn curve_rows(res: &ScenarioResult, points: &[CurvePoint]) -> Vec<CurveRow> {
    let sc = &res.scenario;
    points
        .par_iter()
        .map(|p| {
            let cfg = sc.series_at(p.detector);
            let unit = cfg.unit;
            let s = &p.summary;
            let (l1, l2, l3) = (longer(sc, s, 0), longer(sc, s, 1), longer(sc, s, 2));
            let cost = match cfg.protocol {
                Some(_) => None,
                None => cost_per_pair_second(
                    sc.variant(cfg.variant),
                    res.seeds
                        .iter()
                        .map(|seed| &seed.variant_stats[cfg.variant]),
                ),
            };
            CurveRow {
                scenario: sc.name.clone(),
                detector: cfg.label.to_string(),
                kind: cfg.kind.to_string(),
                param: cfg.param.to_string(),
                param_value: unit.display_value(p.value),
                param_unit: unit.column_unit().to_string(),
                seeds: s.runs,
                crashes: s.crashes,
                detected: s.detections.len() as u64,
                undetected: s.undetected,
                censored: s.censored.len() as u64,
                detection_ms_mean: p.detection_ms.map(|d| d.0),
                detection_ms_mean_lo95: p.detection_ms.map(|d| d.1).filter(|x| x.is_finite()),
                detection_ms_mean_hi95: p.detection_ms.map(|d| d.2).filter(|x| x.is_finite()),
                detection_ms_mean_restricted: s.detection_mean_restricted(),
                detection_ms_median: ms(s.detection_percentile(50.0)),
                detection_ms_p99: ms(s.detection_percentile(99.0)),
                detection_ms_max: ms(s.detection_max()),
                mistakes: s.mistakes,
                up_hours: s.up_time.as_hours_f64(),
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
                mistake_ms_p50: ms(s.mistake_percentile(50.0)),
                mistake_ms_p90: ms(s.mistake_percentile(90.0)),
                mistake_ms_p99: ms(s.mistake_percentile(99.0)),
                mistake_ms_max: ms(s.mistake_max()),
                mistakes_censored: s
                    .has_mistake_durations()
                    .then_some(s.mistake_censored.len() as u64),
                longer_than_1_ms: l1.0,
                mistakes_longer_than_1: l1.1,
                mistakes_per_hour_longer_than_1: l1.2,
                longer_than_2_ms: l2.0,
                mistakes_longer_than_2: l2.1,
                mistakes_per_hour_longer_than_2: l2.2,
                longer_than_3_ms: l3.0,
                mistakes_longer_than_3: l3.1,
                mistakes_per_hour_longer_than_3: l3.2,
                messages_per_pair_s: cost.map(|c| c.0),
                bytes_per_pair_s: cost.map(|c| c.1),
                sweep_field: sc.sweep.as_ref().map(|s| s.field.clone()),
                sweep_value: sc.sweep.as_ref().map(|s| s.labels[cfg.variant].clone()),
            }
        })
        .collect()
}

/// One row of `clusters.csv`: one membership protocol at one swept value,
/// pooled over every seed (see `docs/output.md`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClusterRow {
    pub scenario: String,
    pub protocol: String,
    pub kind: String,
    pub param: String,
    pub param_value: f64,
    pub param_unit: String,
    pub seeds: u32,
    pub members: u32,
    pub crashes: u32,
    pub first_suspicion_ms_mean: Option<f64>,
    pub first_suspicion_ms_p99: Option<f64>,
    pub first_suspicion_missed: u32,
    pub first_suspicion_censored: u64,
    pub first_dead_ms_mean: Option<f64>,
    pub first_dead_ms_p99: Option<f64>,
    pub first_dead_missed: u32,
    pub first_dead_censored: u64,
    pub all_dead_ms_mean: Option<f64>,
    pub all_dead_ms_p99: Option<f64>,
    pub all_dead_ms_max: Option<f64>,
    pub all_dead_missed: u32,
    pub all_dead_censored: u64,
    pub false_dead: u64,
    pub false_dead_per_member_hour: Option<f64>,
    pub false_dead_ms_mean: Option<f64>,
    pub false_dead_ms_longest: Option<f64>,
    pub false_dead_share: Option<f64>,
    pub false_suspicions: u64,
    pub refuted_suspicions: u64,
    pub refuted_per_member_hour: Option<f64>,
    pub member_up_hours: f64,
    pub messages_per_member_s: Option<f64>,
    pub bytes_per_member_s: Option<f64>,
    pub udp_bytes_per_member_s: Option<f64>,
    pub tcp_bytes_per_member_s: Option<f64>,
    pub stale_dead_retracted: u64,
    pub stale_dead_retracted_ms_max: Option<f64>,
    pub joins: u32,
    pub join_all_alive_ms_mean: Option<f64>,
    pub join_all_alive_ms_max: Option<f64>,
    pub join_not_all_alive: u32,
    pub leaves: u32,
    pub leave_all_left_ms_mean: Option<f64>,
    pub leave_all_left_ms_max: Option<f64>,
    pub leave_not_all_left: u32,
}

/// The mean of detected times in ms: exact without censoring, the
/// Kaplan–Meier (restricted) mean with it.
fn mean_ms(v: &[Nanos], censored: &[Nanos]) -> Option<f64> {
    if censored.is_empty() {
        (!v.is_empty()).then(|| {
            let sum: u128 = v.iter().map(|d| u128::from(d.0)).sum();
            sum as f64 / v.len() as f64 / 1e6
        })
    } else {
        ms(mean_time(v, censored))
    }
}

/// The rows of `clusters.csv`: protocols in file order, then values.
pub fn cluster_rows(res: &ScenarioResult) -> Vec<ClusterRow> {
    let sc = &res.scenario;
    let mut rows = Vec::new();
    for (p, cfg) in sc.protocols.iter().enumerate() {
        let unit = cfg.swept.unit;
        for (v, &value) in cfg.values.iter().enumerate() {
            let q = ClusterQos::pool(res.seeds.iter().map(|s| &s.clusters[p][v].qos));
            let p99 = |d: &[Nanos], c: &[Nanos]| ms(percentile_time(d, c, 99.0));
            rows.push(ClusterRow {
                scenario: sc.name.clone(),
                protocol: cfg.label.clone(),
                kind: cfg.kind.name.to_string(),
                param: cfg.swept.name.to_string(),
                param_value: unit.display_value(value),
                param_unit: unit.column_unit().to_string(),
                seeds: res.seeds.len() as u32,
                members: sc.nodes.len() as u32,
                crashes: q.crashes,
                first_suspicion_ms_mean: mean_ms(&q.first_suspicion, &q.first_suspicion_censored),
                first_suspicion_ms_p99: p99(&q.first_suspicion, &q.first_suspicion_censored),
                first_suspicion_missed: q.first_suspicion_missed,
                first_suspicion_censored: q.first_suspicion_censored.len() as u64,
                first_dead_ms_mean: mean_ms(&q.first_dead, &q.first_dead_censored),
                first_dead_ms_p99: p99(&q.first_dead, &q.first_dead_censored),
                first_dead_missed: q.first_dead_missed,
                first_dead_censored: q.first_dead_censored.len() as u64,
                all_dead_ms_mean: mean_ms(&q.all_dead, &q.all_dead_censored),
                all_dead_ms_p99: p99(&q.all_dead, &q.all_dead_censored),
                all_dead_ms_max: ms(q.all_dead.last().copied()),
                all_dead_missed: q.all_dead_missed,
                all_dead_censored: q.all_dead_censored.len() as u64,
                false_dead: q.false_dead,
                false_dead_per_member_hour: q.false_dead_per_member_hour(),
                false_dead_ms_mean: (q.false_dead > 0)
                    .then(|| q.false_dead_time.0 as f64 / 1e6 / q.false_dead as f64),
                false_dead_ms_longest: (q.false_dead > 0)
                    .then(|| q.false_dead_longest.as_millis_f64()),
                false_dead_share: q.false_dead_share(),
                false_suspicions: q.false_suspicions,
                refuted_suspicions: q.refuted_suspicions,
                refuted_per_member_hour: q.refuted_per_member_hour(),
                member_up_hours: q.member_up_time.as_hours_f64(),
                messages_per_member_s: q.messages_per_member_second(),
                bytes_per_member_s: q.bytes_per_member_second(),
                udp_bytes_per_member_s: q.udp_bytes_per_member_second(),
                tcp_bytes_per_member_s: q.tcp_bytes_per_member_second(),
                stale_dead_retracted: q.stale_dead_retracted,
                stale_dead_retracted_ms_max: (q.stale_dead_retracted > 0)
                    .then(|| q.stale_dead_retracted_longest.as_millis_f64()),
                joins: q.joins,
                join_all_alive_ms_mean: mean_ms(&q.join_all_alive, &[]),
                join_all_alive_ms_max: ms(q.join_all_alive.last().copied()),
                join_not_all_alive: q.join_not_all_alive,
                leaves: q.leaves,
                leave_all_left_ms_mean: mean_ms(&q.leave_all_left, &[]),
                leave_all_left_ms_max: ms(q.leave_all_left.last().copied()),
                leave_not_all_left: q.leave_not_all_left,
            });
        }
    }
    rows
}
