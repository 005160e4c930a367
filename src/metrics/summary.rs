//! Aggregation of per-run QoS over seeds.

use super::attribution::MistakeCauses;
use super::qos::RunQos;
use crate::sim::time::Nanos;

/// The `p`-th percentile (0 < p ≤ 100) of sorted `values` by the
/// nearest-rank method: the smallest value with at least p % of the values
/// at or below it. `None` for an empty slice.
pub fn percentile(sorted: &[Nanos], p: f64) -> Option<Nanos> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// QoS pooled over several runs (seeds) of one detector at one threshold:
/// detection times are pooled over all crashes, mistakes and times summed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub runs: u32,
    pub crashes: u32,
    pub undetected: u32,
    /// All detection times, sorted.
    pub detections: Vec<Nanos>,
    pub mistakes: u64,
    pub mistake_time: Nanos,
    pub up_time: Nanos,
    pub suspect_time: Nanos,
    /// The mistakes broken down by cause.
    pub causes: MistakeCauses,
}

impl Summary {
    pub fn pool<'a>(runs: impl IntoIterator<Item = &'a RunQos>) -> Summary {
        let mut s = Summary::default();
        for r in runs {
            s.runs += 1;
            s.crashes += r.crashes();
            s.undetected += r.undetected;
            s.detections.extend_from_slice(&r.detections);
            s.mistakes += r.mistakes;
            s.mistake_time += r.mistake_time;
            s.up_time += r.up_time;
            s.suspect_time += r.suspect_time;
            s.causes.merge(&r.causes);
        }
        s.detections.sort_unstable();
        s
    }

    pub fn detection_mean(&self) -> Option<Nanos> {
        let n = self.detections.len() as u128;
        (n > 0).then(|| {
            let sum: u128 = self.detections.iter().map(|d| d.0 as u128).sum();
            Nanos((sum / n) as u64)
        })
    }

    pub fn detection_percentile(&self, p: f64) -> Option<Nanos> {
        percentile(&self.detections, p)
    }

    pub fn detection_max(&self) -> Option<Nanos> {
        self.detections.last().copied()
    }

    pub fn mistakes_per_hour(&self) -> Option<f64> {
        (self.up_time.0 > 0).then(|| self.mistakes as f64 / (self.up_time.0 as f64 / 3.6e12))
    }

    pub fn query_accuracy(&self) -> Option<f64> {
        (self.up_time.0 > 0).then(|| 1.0 - self.suspect_time.0 as f64 / self.up_time.0 as f64)
    }

    pub fn mean_mistake(&self) -> Option<Nanos> {
        (self.mistakes > 0).then(|| Nanos(self.mistake_time.0 / self.mistakes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Nanos> = (1..=100).map(Nanos).collect();
        assert_eq!(percentile(&v, 50.0), Some(Nanos(50)));
        assert_eq!(percentile(&v, 99.0), Some(Nanos(99)));
        assert_eq!(percentile(&v, 100.0), Some(Nanos(100)));
        assert_eq!(percentile(&v[..3], 99.0), Some(Nanos(3)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn pooling_sums_times_and_merges_detections() {
        let a = RunQos {
            detections: vec![Nanos(30), Nanos(10)],
            undetected: 1,
            mistakes: 2,
            mistake_time: Nanos(20),
            up_time: Nanos(3_600_000_000_000),
            suspect_time: Nanos(20),
            causes: MistakeCauses::default(),
        };
        let b = RunQos {
            detections: vec![Nanos(20)],
            up_time: Nanos(3_600_000_000_000),
            ..RunQos::default()
        };
        let s = Summary::pool([&a, &b]);
        assert_eq!(s.crashes, 4);
        assert_eq!(s.detections, vec![Nanos(10), Nanos(20), Nanos(30)]);
        assert_eq!(s.detection_mean(), Some(Nanos(20)));
        assert_eq!(s.mistakes_per_hour(), Some(1.0));
        assert_eq!(s.mean_mistake(), Some(Nanos(10)));
    }
}
