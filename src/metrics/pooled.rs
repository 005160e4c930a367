//! Mistake durations pooled over runs without copying them.
//!
//! A sweep of many settings records tens of millions of mistake durations
//! (9 detectors × 32 values × 10 seeds of a cloud network: 35 million,
//! 280 MB). Each run keeps its own sorted in a [`Durations`], shared by
//! reference count; a [`Pooled`] view over a setting's runs answers what
//! the report asks of the pooled sample — its size, largest value, how
//! many exceed a length, and nearest-rank percentiles — by searching the
//! runs side by side, instead of copying them into one vector and merging
//! it on the report's thread. [`Pooled::to_sorted_vec`] still builds the
//! merged sample for the rarer questions that walk it whole (a
//! Kaplan–Meier quantile with open mistakes, the durations plot).

use crate::sim::time::Nanos;
use std::ops::Deref;
use std::sync::Arc;

/// One run's mistake durations, sorted (shortest first), shared between
/// the run's [`super::RunQos`] and the summaries that pool it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "Vec<Nanos>", into = "Vec<Nanos>")]
pub struct Durations {
    list: Arc<Vec<Nanos>>,
    /// Whether `list` may be out of order (after [`Durations::append`] or
    /// [`Durations::make_mut`]), so that settling a sorted list costs
    /// nothing.
    unsorted: bool,
}

impl Durations {
    /// Durations already sorted (checked in debug builds).
    pub fn sorted(list: Vec<Nanos>) -> Durations {
        debug_assert!(list.is_sorted());
        Durations {
            list: Arc::new(list),
            unsorted: false,
        }
    }

    /// The durations for changing (copied first if shared).
    pub fn make_mut(&mut self) -> &mut Vec<Nanos> {
        self.unsorted = true;
        Arc::make_mut(&mut self.list)
    }

    /// Appends `other`'s durations; the result is sorted again by
    /// [`Durations::settle`]. Appending to an empty list shares `other`.
    pub fn append(&mut self, other: &Durations) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other.clone();
        } else {
            self.make_mut().extend_from_slice(other);
        }
    }

    /// Sorts the durations if they are not already.
    pub fn settle(&mut self) {
        if self.unsorted {
            // Stable: appended sorted runs are merged in O(n log runs).
            Arc::make_mut(&mut self.list).sort();
            self.unsorted = false;
        }
    }
}

/// Equal when the lists are.
impl PartialEq for Durations {
    fn eq(&self, other: &Durations) -> bool {
        self.list == other.list
    }
}

/// A list in any order.
impl From<Vec<Nanos>> for Durations {
    fn from(list: Vec<Nanos>) -> Durations {
        let unsorted = !list.is_sorted();
        Durations {
            list: Arc::new(list),
            unsorted,
        }
    }
}

impl FromIterator<Nanos> for Durations {
    fn from_iter<I: IntoIterator<Item = Nanos>>(iter: I) -> Durations {
        Durations::from(iter.into_iter().collect::<Vec<Nanos>>())
    }
}

impl From<Durations> for Vec<Nanos> {
    fn from(d: Durations) -> Vec<Nanos> {
        Arc::unwrap_or_clone(d.list)
    }
}

impl Deref for Durations {
    type Target = [Nanos];
    fn deref(&self) -> &[Nanos] {
        &self.list
    }
}

/// The durations of several runs seen as one sorted sample, without
/// merging them.
#[derive(Clone, Debug, Default)]
pub struct Pooled {
    /// Each run's durations, sorted; empty runs left out.
    runs: Vec<Durations>,
    len: usize,
}

impl Pooled {
    /// Pools runs' durations. A run whose durations are not sorted (the
    /// field is public) is sorted in a copy of its own.
    pub fn new<'a>(runs: impl IntoIterator<Item = &'a Durations>) -> Pooled {
        let mut pooled = Pooled::default();
        for d in runs {
            if d.is_empty() {
                continue;
            }
            let mut d = d.clone();
            d.settle();
            pooled.len += d.len();
            pooled.runs.push(d);
        }
        pooled
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The largest duration.
    pub fn max(&self) -> Option<Nanos> {
        self.runs.iter().filter_map(|r| r.last().copied()).max()
    }

    /// How many durations are at most `d`.
    pub fn count_at_most(&self, d: Nanos) -> usize {
        (self.runs.iter())
            .map(|r| r.partition_point(|&x| x <= d))
            .sum()
    }

    /// How many durations are strictly longer than `d`.
    pub fn count_longer(&self, d: Nanos) -> usize {
        self.len - self.count_at_most(d)
    }

    /// The `k`-th smallest duration (from 0), as the merged sample would
    /// hold it at index `k`: the smallest value with more than `k`
    /// durations at or below it, found by bisecting the values between
    /// the runs' smallest and largest (at most 64 steps, each a binary
    /// search per run).
    ///
    /// Each run's part still in play narrows with the bisection (what lies
    /// above a value known to be past the answer, or at or below one known
    /// to be short of it, is out), so the binary searches shrink to a few
    /// cache-resident steps.
    pub fn nth(&self, k: usize) -> Option<Nanos> {
        if k >= self.len {
            return None;
        }
        if let [run] = &self.runs[..] {
            return Some(run[k]);
        }
        let mut lo = self.runs.iter().map(|r| r[0]).min()?.0;
        let mut hi = self.max()?.0;
        // Per run, the range [a, b) of indices not yet decided; `below`
        // counts the values left of every range (all at or below the
        // last value found short of the answer).
        let mut span: Vec<(usize, usize)> = self.runs.iter().map(|r| (0, r.len())).collect();
        let mut below = 0;
        let mut cut = vec![0; self.runs.len()];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            for ((c, r), &(a, b)) in cut.iter_mut().zip(&self.runs).zip(&span) {
                *c = a + r[a..b].partition_point(|&x| x.0 <= mid);
            }
            let at_most = below
                + (cut.iter().zip(&span))
                    .map(|(&c, &(a, _))| c - a)
                    .sum::<usize>();
            if at_most > k {
                hi = mid;
                for (s, &c) in span.iter_mut().zip(&cut) {
                    s.1 = c;
                }
            } else {
                lo = mid + 1;
                below = at_most;
                for (s, &c) in span.iter_mut().zip(&cut) {
                    s.0 = c;
                }
            }
        }
        Some(Nanos(lo))
    }

    /// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method,
    /// exactly [`super::percentile`] of the merged sample.
    pub fn percentile(&self, p: f64) -> Option<Nanos> {
        if self.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.len as f64).ceil() as usize;
        self.nth(rank.clamp(1, self.len) - 1)
    }

    /// The merged sample, sorted.
    pub fn to_sorted_vec(&self) -> Vec<Nanos> {
        let mut all = Vec::with_capacity(self.len);
        for r in &self.runs {
            all.extend_from_slice(r);
        }
        // Stable: merges the sorted runs in O(n log runs).
        all.sort();
        all
    }
}

/// Two pools are equal when they hold the same sample.
impl PartialEq for Pooled {
    fn eq(&self, other: &Pooled) -> bool {
        self.len == other.len && self.to_sorted_vec() == other.to_sorted_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::percentile;
    use proptest::prelude::*;

    fn durations(v: &[u64]) -> Durations {
        let mut v: Vec<Nanos> = v.iter().map(|&x| Nanos(x)).collect();
        v.sort_unstable();
        Durations::from(v)
    }

    #[test]
    fn an_empty_pool_answers_nothing() {
        let p = Pooled::new([&Durations::default(), &durations(&[])]);
        assert!(p.is_empty());
        assert_eq!(p.max(), None);
        assert_eq!(p.percentile(50.0), None);
        assert_eq!(p.nth(0), None);
        assert_eq!(p.count_longer(Nanos(0)), 0);
    }

    #[test]
    fn unsorted_runs_are_sorted_in_a_copy() {
        let raw = Durations::from(vec![Nanos(5), Nanos(1), Nanos(3)]);
        let p = Pooled::new([&raw, &durations(&[2, 4])]);
        assert_eq!(p.to_sorted_vec(), (1..=5).map(Nanos).collect::<Vec<_>>());
        assert_eq!(p.nth(0), Some(Nanos(1)));
        assert_eq!(p.nth(4), Some(Nanos(5)));
        assert_eq!(raw[0], Nanos(5), "the run's own list is left alone");
    }

    #[test]
    fn appending_to_an_empty_list_shares_it() {
        let a = durations(&[1, 2, 3]);
        let mut acc = Durations::default();
        acc.append(&a);
        assert!(Arc::ptr_eq(&acc.list, &a.list));
        acc.append(&durations(&[0, 9]));
        assert_eq!(a.len(), 3, "the shared list is copied before it changes");
        acc.settle();
        assert_eq!(&*acc, &[0, 1, 2, 3, 9].map(Nanos)[..]);
    }

    proptest! {
        /// Every answer equals the same question asked of the merged,
        /// sorted sample, including ties across runs and values near the
        /// ends of the u64 range.
        #[test]
        fn answers_match_the_merged_sample(
            runs in prop::collection::vec(
                prop::collection::vec(
                    prop_oneof![0u64..50, any::<u64>(), (u64::MAX - 3)..=u64::MAX],
                    0..40,
                ),
                0..6,
            ),
            p in 0.001f64..=100.0,
            d in prop_oneof![0u64..50, any::<u64>()],
        ) {
            let runs: Vec<Durations> = runs.iter().map(|r| durations(r)).collect();
            let pooled = Pooled::new(&runs);
            let mut all: Vec<Nanos> = runs.iter().flat_map(|r| r.iter().copied()).collect();
            all.sort_unstable();
            prop_assert_eq!(pooled.len(), all.len());
            prop_assert_eq!(pooled.to_sorted_vec(), all.clone());
            prop_assert_eq!(pooled.max(), all.last().copied());
            prop_assert_eq!(pooled.percentile(p), percentile(&all, p));
            for (k, &x) in all.iter().enumerate() {
                prop_assert_eq!(pooled.nth(k), Some(x));
            }
            let longer = all.iter().filter(|&&x| x > Nanos(d)).count();
            prop_assert_eq!(pooled.count_longer(Nanos(d)), longer);
        }
    }
}
