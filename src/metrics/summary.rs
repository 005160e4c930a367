//! Aggregation of per-run QoS over seeds.

use super::attribution::MistakeCauses;
use super::pooled::Pooled;
use super::qos::RunQos;
use super::survival::{mean_time, percentile_time, restricted, KaplanMeier};
use crate::sim::time::{Nanos, TotalNanos};
use std::sync::OnceLock;

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
/// detection times are pooled over all crashes, mistakes and times summed
/// (in 128 bits, so no accepted run overflows them).
///
/// Detection-time statistics take crashes cut off by the end of a run into
/// account ([`KaplanMeier`]); without such crashes they are the plain
/// sample statistics, computed exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub runs: u32,
    pub crashes: u64,
    /// Crashes the target recovered from before any detection.
    pub undetected: u64,
    /// All detection times, sorted.
    pub detections: Vec<Nanos>,
    /// Crashes still undetected at the end of their run: the time from each
    /// crash to that end, sorted.
    pub censored: Vec<Nanos>,
    pub mistakes: u64,
    pub mistake_time: TotalNanos,
    /// The durations of the mistakes that ended inside their run, as one
    /// sorted sample over the runs.
    pub mistake_durations: Pooled,
    /// The mistakes still open at the end of their run: the time from each
    /// start to that end (a lower bound of its duration), sorted.
    pub mistake_censored: Vec<Nanos>,
    pub up_time: TotalNanos,
    pub suspect_time: TotalNanos,
    /// The mistakes broken down by cause.
    pub causes: MistakeCauses,
    /// The mistake-duration percentiles the report shows
    /// ([`STANDARD_PERCENTILES`]), computed once on first use.
    standard: Standard,
}

/// The mistake-duration percentiles every report shows, each asked for
/// twice (`curve.csv`, the report's table): remembered by [`Summary`].
pub const STANDARD_PERCENTILES: [f64; 3] = [50.0, 90.0, 99.0];

/// A remembered answer, derived from the rest of the summary, so it takes
/// no part in comparing summaries.
#[derive(Clone, Debug, Default)]
struct Standard(OnceLock<[Option<Nanos>; 3]>);

impl PartialEq for Standard {
    fn eq(&self, _: &Standard) -> bool {
        true
    }
}

impl Summary {
    pub fn pool<'a>(runs: impl IntoIterator<Item = &'a RunQos>) -> Summary {
        let runs: Vec<&RunQos> = runs.into_iter().collect();
        let total = |f: fn(&RunQos) -> usize| runs.iter().map(|r| f(r)).sum::<usize>();
        let mut s = Summary {
            detections: Vec::with_capacity(total(|r| r.detections.len())),
            censored: Vec::with_capacity(total(|r| r.censored.len())),
            mistake_durations: Pooled::new(runs.iter().map(|r| &r.mistake_durations)),
            mistake_censored: Vec::with_capacity(total(|r| r.mistake_censored.len())),
            ..Summary::default()
        };
        for r in runs {
            s.runs += 1;
            s.crashes += r.crashes();
            s.undetected += r.undetected;
            s.detections.extend_from_slice(&r.detections);
            s.censored.extend_from_slice(&r.censored);
            s.mistakes += r.mistakes;
            s.mistake_time += r.mistake_time;
            (s.mistake_censored).extend_from_slice(&r.mistake_censored);
            s.up_time += r.up_time;
            s.suspect_time += r.suspect_time;
            s.causes.merge(&r.causes);
        }
        // A run's mistake durations are shared, not copied: millions of
        // them over a few seeds are searched side by side ([`Pooled`]).
        s.detections.sort_unstable();
        s.censored.sort_unstable();
        s.mistake_censored.sort_unstable();
        s
    }

    /// Whether every mistake's duration was recorded (pairwise detectors
    /// record them; a membership protocol's pairwise view does not).
    pub fn has_mistake_durations(&self) -> bool {
        (self.mistake_durations.len() + self.mistake_censored.len()) as u64 == self.mistakes
    }

    /// The `p`-th percentile (0 < p ≤ 100) of mistake duration over the
    /// pooled mistakes: nearest rank without censored mistakes, the
    /// Kaplan–Meier quantile with them ([`percentile_time`]). `None`
    /// without mistakes, without recorded durations, or when censoring
    /// leaves the quantile beyond the observed durations.
    pub fn mistake_percentile(&self, p: f64) -> Option<Nanos> {
        if let Some(k) = STANDARD_PERCENTILES.iter().position(|&q| q == p) {
            let standard = (self.standard.0).get_or_init(|| {
                let found = self.compute_mistake_percentiles(&STANDARD_PERCENTILES);
                [found[0], found[1], found[2]]
            });
            return standard[k];
        }
        self.compute_mistake_percentiles(&[p])[0]
    }

    /// Works out together (the same passes over the pooled mistake
    /// durations) the standard percentiles and the counts of mistakes
    /// longer than each of `ds`, which the report's tables ask later.
    pub fn prepare_mistakes(&self, ds: &[Nanos]) {
        if !self.has_mistake_durations() {
            return;
        }
        if self.mistake_censored.is_empty() {
            (self.mistake_durations).prepare_percentiles(&STANDARD_PERCENTILES, ds);
        } else {
            self.mistake_durations.prepare(&[], ds);
        }
        let _ = self.mistake_percentile(STANDARD_PERCENTILES[0]);
    }

    /// [`Summary::mistake_percentile`] of each of `ps`, found together
    /// (one selection, or one merged sample for Kaplan–Meier).
    fn compute_mistake_percentiles(&self, ps: &[f64]) -> Vec<Option<Nanos>> {
        if !self.has_mistake_durations() {
            return vec![None; ps.len()];
        }
        if self.mistake_censored.is_empty() {
            self.mistake_durations.percentiles(ps)
        } else {
            let ended = self.mistake_durations.to_sorted_vec();
            (ps.iter())
                .map(|&p| percentile_time(&ended, &self.mistake_censored, p))
                .collect()
        }
    }

    /// The longest observed mistake, ended or censored (a censored one
    /// lasted at least that long, so this is a lower bound of the longest
    /// when [`Summary::mistake_max_censored`] says so).
    pub fn mistake_max(&self) -> Option<Nanos> {
        if !self.has_mistake_durations() {
            return None;
        }
        let ended = self.mistake_durations.max();
        let open = self.mistake_censored.last().copied();
        ended.max(open)
    }

    /// True when the longest observed mistake was still open at the end of
    /// its run, so that [`Summary::mistake_max`] is a lower bound.
    pub fn mistake_max_censored(&self) -> bool {
        let ended = self.mistake_durations.max();
        self.mistake_censored.last().copied() > ended
    }

    /// The number of mistakes known to have lasted strictly longer than
    /// `d`: ended ones longer than `d`, and censored ones already longer
    /// than `d` at the end of their run. A censored mistake not yet longer
    /// than `d` is not counted (its fate is unknown), so this is exact
    /// without censoring and a lower bound by at most the number of such
    /// censored mistakes otherwise. `None` without recorded durations.
    pub fn mistakes_longer_than(&self, d: Nanos) -> Option<u64> {
        if !self.has_mistake_durations() {
            return None;
        }
        let open = self.mistake_censored.len() - self.mistake_censored.partition_point(|&x| x <= d);
        Some((self.mistake_durations.count_longer(d) + open) as u64)
    }

    /// The Kaplan–Meier estimate of the detection-time distribution.
    pub fn survival(&self) -> KaplanMeier {
        KaplanMeier::new(&self.detections, &self.censored)
    }

    /// Mean detection time: the sample mean, or with censored crashes the
    /// Kaplan–Meier mean restricted to the largest observed time
    /// ([`Summary::detection_mean_restricted`] says when that is a lower
    /// bound). `None` without detections.
    pub fn detection_mean(&self) -> Option<Nanos> {
        mean_time(&self.detections, &self.censored)
    }

    /// True when censoring restricts the mean detection time to the largest
    /// observed time, so that it is a lower bound.
    pub fn detection_mean_restricted(&self) -> bool {
        restricted(&self.detections, &self.censored)
    }

    /// The `p`-th percentile of detection time (nearest rank; with
    /// censored crashes, the Kaplan–Meier quantile, `None` when censoring
    /// leaves it beyond the observed times).
    pub fn detection_percentile(&self, p: f64) -> Option<Nanos> {
        percentile_time(&self.detections, &self.censored, p)
    }

    pub fn detection_max(&self) -> Option<Nanos> {
        self.detections.last().copied()
    }

    pub fn mistakes_per_hour(&self) -> Option<f64> {
        (!self.up_time.is_zero()).then(|| self.mistakes as f64 / self.up_time.as_hours_f64())
    }

    pub fn query_accuracy(&self) -> Option<f64> {
        (!self.up_time.is_zero()).then(|| 1.0 - self.suspect_time.0 as f64 / self.up_time.0 as f64)
    }

    pub fn mean_mistake(&self) -> Option<Nanos> {
        self.mistake_time.mean(self.mistakes)
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
            censored: vec![Nanos(5)],
            mistake_time: TotalNanos(20),
            mistake_durations: vec![Nanos(15)].into(),
            mistake_censored: vec![Nanos(5)],
            up_time: TotalNanos(3_600_000_000_000),
            suspect_time: TotalNanos(20),
            causes: MistakeCauses::default(),
        };
        let b = RunQos {
            detections: vec![Nanos(20)],
            up_time: TotalNanos(3_600_000_000_000),
            ..RunQos::default()
        };
        let s = Summary::pool([&a, &b]);
        assert_eq!(s.crashes, 5);
        assert_eq!(s.detections, vec![Nanos(10), Nanos(20), Nanos(30)]);
        assert_eq!(s.censored, vec![Nanos(5)]);
        // Censored at 5, before every detection: the estimate is the
        // sample's, and the mean is not restricted.
        assert_eq!(s.detection_mean(), Some(Nanos(20)));
        assert!(!s.detection_mean_restricted());
        assert_eq!(s.mistakes_per_hour(), Some(1.0));
        assert_eq!(s.mean_mistake(), Some(Nanos(10)));
    }

    fn durations(ended: &[u64], open: &[u64]) -> Summary {
        let run = RunQos {
            mistakes: (ended.len() + open.len()) as u64,
            mistake_durations: ended.iter().map(|&x| Nanos(x)).collect(),
            mistake_censored: open.iter().map(|&x| Nanos(x)).collect(),
            ..RunQos::default()
        };
        Summary::pool([&run])
    }

    #[test]
    fn mistake_quantiles_are_nearest_rank_without_censoring() {
        let s = durations(&(1..=100).rev().collect::<Vec<_>>(), &[]);
        assert_eq!(s.mistake_percentile(50.0), Some(Nanos(50)));
        assert_eq!(s.mistake_percentile(90.0), Some(Nanos(90)));
        assert_eq!(s.mistake_percentile(99.0), Some(Nanos(99)));
        assert_eq!(s.mistake_max(), Some(Nanos(100)));
        assert!(!s.mistake_max_censored());
        assert_eq!(s.mistakes_longer_than(Nanos(90)), Some(10));
        assert_eq!(s.mistakes_longer_than(Nanos(100)), Some(0));
    }

    #[test]
    fn a_censored_mistake_counts_as_longer_only_once_it_is() {
        // Ended 10, 20, 30; censored at 25 and 5.
        let s = durations(&[10, 20, 30], &[25, 5]);
        assert_eq!(s.mistakes_longer_than(Nanos(15)), Some(3), "20, 30 and 25");
        assert_eq!(s.mistakes_longer_than(Nanos(25)), Some(1), "only 30");
        assert_eq!(s.mistake_max(), Some(Nanos(30)));
        // Kaplan–Meier: 10 (r=4 after 5 leaves): S=3/4; 20 (r=3): S=1/2;
        // 30 (r=1, 25 left): S=0.
        assert_eq!(s.mistake_percentile(50.0), Some(Nanos(20)));
        assert_eq!(s.mistake_percentile(90.0), Some(Nanos(30)));
        let open_longest = durations(&[10], &[40]);
        assert_eq!(open_longest.mistake_max(), Some(Nanos(40)));
        assert!(open_longest.mistake_max_censored());
        // S stays at 1/2 after 10: the median is 10, the p90 unknown.
        assert_eq!(open_longest.mistake_percentile(50.0), Some(Nanos(10)));
        assert_eq!(open_longest.mistake_percentile(90.0), None);
    }

    #[test]
    fn without_recorded_durations_there_are_no_duration_figures() {
        let run = RunQos {
            mistakes: 3,
            ..RunQos::default()
        };
        let s = Summary::pool([&run]);
        assert_eq!(s.mistake_percentile(50.0), None);
        assert_eq!(s.mistakes_longer_than(Nanos(1)), None);
    }
}

#[cfg(test)]
mod overflow {
    use super::*;

    #[test]
    fn pooled_up_time_does_not_saturate_past_two_to_the_64_nanoseconds() {
        // 4,000 runs of 60 days: 2.07e22 ns, beyond u64's 1.8e19.
        let day = 86_400_000_000_000u128;
        let run = RunQos {
            up_time: TotalNanos(60 * day),
            mistakes: 1,
            ..RunQos::default()
        };
        let runs = vec![run; 4000];
        let s = Summary::pool(&runs);
        assert_eq!(s.up_time, TotalNanos(4000 * 60 * day));
        assert_eq!(s.up_time.as_hours_f64(), 5_760_000.0);
        assert_eq!(s.mistakes_per_hour(), Some(4000.0 / 5_760_000.0));
    }
}
