//! Trade-off curves: per detector × swept value, statistics pooled over
//! seeds with 95 % confidence intervals, and the Pareto front.

use super::interval::{mean_interval, poisson_interval};
use super::qos::RunQos;
use super::summary::Summary;
use crate::sim::time::Nanos;

/// Confidence level of every interval fdsim reports.
pub const CONFIDENCE: f64 = 0.95;

/// One point of a detector's trade-off curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    /// Index of the detector in the scenario.
    pub detector: usize,
    /// Index of the value in the detector's declared sweep.
    pub value_index: usize,
    /// The swept value, internal units.
    pub value: f64,
    pub summary: Summary,
    /// Mean detection time (ms) with its Student-t 95 % interval over all
    /// detected crashes of all seeds; with censored crashes, the
    /// Kaplan–Meier (restricted) mean and its interval.
    pub detection_ms: Option<(f64, f64, f64)>,
    /// Mistakes per hour of up time with its exact Poisson 95 % interval.
    pub mistakes_per_hour: Option<(f64, f64, f64)>,
    /// True when no other point of the scenario is at least as good on
    /// both mean detection time and mistakes per hour and better on one.
    pub pareto: bool,
}

impl CurvePoint {
    /// Pools runs of one detector at one value and computes its intervals.
    pub fn new<'a>(
        detector: usize,
        value_index: usize,
        value: f64,
        runs: impl IntoIterator<Item = &'a RunQos>,
    ) -> CurvePoint {
        let summary = Summary::pool(runs);
        let detection_ms = if summary.censored.is_empty() {
            let ms: Vec<f64> = (summary.detections.iter())
                .map(|d| d.as_millis_f64())
                .collect();
            mean_interval(&ms, CONFIDENCE).map(|m| (m.mean, m.lo, m.hi))
        } else {
            (summary.survival().mean(CONFIDENCE)).map(|m| (m.mean / 1e6, m.lo / 1e6, m.hi / 1e6))
        }
        .map(cut_at_zero);
        let hours = summary.up_time.as_hours_f64();
        let mistakes_per_hour = (hours > 0.0).then(|| {
            let (lo, hi) = poisson_interval(summary.mistakes, CONFIDENCE);
            (summary.mistakes as f64 / hours, lo / hours, hi / hours)
        });
        CurvePoint {
            detector,
            value_index,
            value,
            summary,
            detection_ms,
            mistakes_per_hour,
            pareto: false,
        }
    }

    /// 1 − P_A: the fraction of up time spent wrongly suspecting.
    pub fn unavailability(&self) -> Option<f64> {
        self.summary.query_accuracy().map(|pa| 1.0 - pa)
    }

    /// Mean detection time, or `None` if no crash was detected.
    pub fn detection_mean(&self) -> Option<Nanos> {
        self.summary.detection_mean()
    }

    /// True when the upper 95 % bound of the mistake rate is within `budget`
    /// mistakes per hour.
    pub fn certified_within(&self, budget: f64) -> bool {
        self.mistakes_per_hour
            .is_some_and(|(_, _, hi)| hi <= budget)
    }

    /// True when the observed mistake rate is within `budget`.
    pub fn observed_within(&self, budget: f64) -> bool {
        self.mistakes_per_hour.is_some_and(|(r, _, _)| r <= budget)
    }
}

/// Marks the Pareto front (minimise mean detection time and mistakes per
/// hour) among `points`. Points without a detection or without up time are
/// never on the front; undetected crashes (the target recovered before
/// any detection) disqualify a point too, since its mean detection time
/// leaves them out. Crashes cut off by the end of a run (censored) do not:
/// they say nothing against the detector, and the mean accounts for them.
pub fn mark_pareto(points: &mut [CurvePoint]) {
    let key = |p: &CurvePoint| -> Option<(f64, f64)> {
        if p.summary.undetected > 0 {
            return None;
        }
        Some((p.detection_ms?.0, p.mistakes_per_hour?.0))
    };
    let keys: Vec<Option<(f64, f64)>> = points.iter().map(key).collect();
    for i in 0..points.len() {
        let Some((d, m)) = keys[i] else {
            points[i].pareto = false;
            continue;
        };
        let dominated = keys
            .iter()
            .flatten()
            .any(|&(d2, m2)| d2 <= d && m2 <= m && (d2 < d || m2 < m));
        points[i].pareto = !dominated;
    }
}

/// A detection time is never negative, and neither is the mean's interval:
/// a Student-t interval from a few spread detections can reach below zero
/// (three crashes detected 6.5 ± 1.5 s apart reach −0.08 s), so its lower
/// end is cut at 0, which drops only impossible values and keeps the
/// coverage. An unbounded end (a single detection) stays unbounded.
fn cut_at_zero((mean, lo, hi): (f64, f64, f64)) -> (f64, f64, f64) {
    let lo = if lo == f64::NEG_INFINITY {
        lo
    } else {
        lo.max(0.0)
    };
    (mean, lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(det_ms: u64, mistakes: u64) -> CurvePoint {
        let run = RunQos {
            detections: vec![Nanos::from_millis(det_ms); 4],
            undetected: 0,
            mistakes,
            mistake_time: Nanos::from_millis(mistakes).into(),
            up_time: Nanos::from_secs(3600).into(),
            suspect_time: Nanos::from_millis(mistakes).into(),
            ..RunQos::default()
        };
        CurvePoint::new(0, 0, 0.0, [&run])
    }

    #[test]
    fn pareto_front_keeps_only_undominated_points() {
        let mut pts = vec![point(100, 10), point(200, 5), point(150, 20), point(300, 5)];
        mark_pareto(&mut pts);
        let front: Vec<bool> = pts.iter().map(|p| p.pareto).collect();
        assert_eq!(front, vec![true, true, false, false]);
    }

    #[test]
    fn zero_mistakes_certifies_only_what_the_up_time_supports() {
        let p = point(100, 0);
        let (rate, lo, hi) = p.mistakes_per_hour.unwrap();
        assert_eq!((rate, lo), (0.0, 0.0));
        assert!((hi - 3.688_879_454).abs() < 1e-6, "{hi}");
        assert!(p.certified_within(4.0) && !p.certified_within(1.0));
        assert!(p.observed_within(0.0));
    }

    #[test]
    fn the_mean_detection_interval_stops_at_zero() {
        // Three spread detections: mean 6.47 s, Student-t half-width
        // 4.30 × 1.56 s, so the raw lower end is about −0.26 s.
        let run = RunQos {
            detections: [4_000, 6_000, 9_400].map(Nanos::from_millis).to_vec(),
            up_time: Nanos::from_secs(3600).into(),
            ..RunQos::default()
        };
        let (mean, lo, hi) = CurvePoint::new(0, 0, 1.0, [&run]).detection_ms.unwrap();
        assert!((mean - 6466.667).abs() < 1e-3, "{mean}");
        assert_eq!(lo, 0.0);
        assert!(hi > 13_000.0, "{hi}");
        // One detection: no interval at all, not [0, ∞).
        let one = RunQos {
            detections: vec![Nanos::from_millis(50)],
            ..run
        };
        let (_, lo, hi) = CurvePoint::new(0, 0, 1.0, [&one]).detection_ms.unwrap();
        assert_eq!((lo, hi), (f64::NEG_INFINITY, f64::INFINITY));
    }
}
