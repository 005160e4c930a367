//! Mistake durations pooled over runs without copying or sorting them.
//!
//! A sweep of many settings records tens of millions of mistake durations
//! (9 detectors × 32 values × 10 seeds of a cloud network: 35 million,
//! 280 MB). Each run keeps its own, in the order they ended, in a
//! [`Durations`] shared by reference count; a [`Pooled`] view over a
//! setting's runs answers what the report asks of the pooled sample — its
//! size, largest value, how many exceed a length, and nearest-rank
//! percentiles — by passes over the runs side by side, instead of copying
//! them into one vector or sorting them. A percentile is found by
//! selection: one pass counts the values into 65,536 ranges, a second
//! gathers the range that holds the wanted rank, and only that range is
//! narrowed further (or sorted, once small). That is two reads of each
//! value where sorting every run (a radix sort: a counting pass and three
//! scatters for durations up to a few seconds) cost about 8.5 ns a value,
//! the largest single cost of scoring a busy detector's mistakes.
//! [`Pooled::to_sorted_vec`] still builds the merged sample for the rarer
//! questions that walk it whole (a Kaplan–Meier quantile with open
//! mistakes, the durations plot).

use super::radix;
use crate::sim::time::Nanos;
use std::sync::{Arc, Mutex};

/// Durations in the order they were added, stored compactly: those under
/// 2^32 ns (4.3 s: nearly every mistake of a heartbeat detector) in 32
/// bits, the others in 64, with the smallest and largest kept as they
/// come. Half the memory of a list of [`Nanos`] — 35 million mistakes of
/// the all-detectors day are 140 MB rather than 280 — and half the bytes
/// for [`Pooled`]'s passes to read.
#[derive(Clone, Debug)]
pub struct Ended {
    short: Vec<u32>,
    long: Vec<Nanos>,
    min: Nanos,
    max: Nanos,
}

impl Default for Ended {
    fn default() -> Ended {
        Ended {
            short: Vec::new(),
            long: Vec::new(),
            min: Nanos::MAX,
            max: Nanos::ZERO,
        }
    }
}

impl Ended {
    #[inline]
    pub fn push(&mut self, d: Nanos) {
        match u32::try_from(d.0) {
            Ok(short) => self.short.push(short),
            Err(_) => self.long.push(d),
        }
        self.min = self.min.min(d);
        self.max = self.max.max(d);
    }

    pub fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The durations: those under 2^32 ns in the order they came, then
    /// the others in theirs.
    pub fn iter(&self) -> impl Iterator<Item = Nanos> + '_ {
        let short = self.short.iter().map(|&x| Nanos(u64::from(x)));
        short.chain(self.long.iter().copied())
    }

    fn extend(&mut self, other: &Ended) {
        self.short.extend_from_slice(&other.short);
        self.long.extend_from_slice(&other.long);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    fn sorted(&self) -> Vec<Nanos> {
        let mut all: Vec<Nanos> = self.iter().collect();
        radix::sort_nanos(&mut all);
        all
    }
}

/// One run's mistake durations, in any order, shared between the run's
/// [`super::RunQos`] and the summaries that pool it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "Vec<Nanos>", into = "Vec<Nanos>")]
pub struct Durations {
    list: Arc<Ended>,
}

impl Durations {
    /// Appends `other`'s durations. Appending to an empty list shares
    /// `other`.
    pub fn append(&mut self, other: &Durations) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other.clone();
        } else {
            Arc::make_mut(&mut self.list).extend(&other.list);
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The durations, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = Nanos> + '_ {
        self.list.iter()
    }

    /// The smallest duration, if any.
    pub fn min(&self) -> Option<Nanos> {
        (!self.is_empty()).then_some(self.list.min)
    }

    /// The largest duration, if any.
    pub fn max(&self) -> Option<Nanos> {
        (!self.is_empty()).then_some(self.list.max)
    }
}

/// Equal when they hold the same durations, in any order.
impl PartialEq for Durations {
    fn eq(&self, other: &Durations) -> bool {
        self.len() == other.len() && self.list.sorted() == other.list.sorted()
    }
}

impl From<Ended> for Durations {
    fn from(list: Ended) -> Durations {
        Durations {
            list: Arc::new(list),
        }
    }
}

impl From<Vec<Nanos>> for Durations {
    fn from(list: Vec<Nanos>) -> Durations {
        list.into_iter().collect()
    }
}

impl FromIterator<Nanos> for Durations {
    fn from_iter<I: IntoIterator<Item = Nanos>>(iter: I) -> Durations {
        let mut list = Ended::default();
        for d in iter {
            list.push(d);
        }
        Durations::from(list)
    }
}

impl From<Durations> for Vec<Nanos> {
    fn from(d: Durations) -> Vec<Nanos> {
        d.iter().collect()
    }
}

/// The durations of several runs seen as one sample, without merging
/// them.
#[derive(Debug, Default)]
pub struct Pooled {
    /// Each run's durations; empty runs left out.
    runs: Vec<Durations>,
    len: usize,
    /// Answers found so far: the report asks the same few ranks and
    /// lengths of every setting, from several tables.
    memo: Mutex<Memo>,
}

#[derive(Clone, Debug, Default)]
struct Memo {
    /// (k, the k-th smallest duration).
    nth: Vec<(usize, Nanos)>,
    /// (d, how many durations are at most d).
    at_most: Vec<(Nanos, usize)>,
}

impl Clone for Pooled {
    fn clone(&self) -> Pooled {
        Pooled {
            runs: self.runs.clone(),
            len: self.len,
            memo: Mutex::new(self.memo().clone()),
        }
    }
}

impl Pooled {
    /// Pools runs' durations (shared, not copied).
    pub fn new<'a>(runs: impl IntoIterator<Item = &'a Durations>) -> Pooled {
        let mut pooled = Pooled::default();
        for d in runs {
            if d.is_empty() {
                continue;
            }
            pooled.len += d.len();
            pooled.runs.push(d.clone());
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
        self.runs.iter().filter_map(Durations::max).max()
    }

    /// The smallest duration.
    fn min(&self) -> Option<Nanos> {
        self.runs.iter().filter_map(Durations::min).min()
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        self.memo.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds and remembers, in one pass over the runs, the `ks`-th
    /// smallest durations (from 0; ranks past the end are ignored) and
    /// the counts of durations at most each of `ds`, for those not known
    /// yet.
    pub fn prepare(&self, ks: &[usize], ds: &[Nanos]) {
        let (mut ks, mut ds) = {
            let memo = self.memo();
            let ks: Vec<usize> = (ks.iter().copied())
                .filter(|&k| k < self.len && !memo.nth.iter().any(|m| m.0 == k))
                .collect();
            let ds: Vec<u64> = (ds.iter())
                .filter(|&&d| !memo.at_most.iter().any(|m| m.0 == d))
                .map(|d| d.0)
                .collect();
            (ks, ds)
        };
        ks.sort_unstable();
        ks.dedup();
        ds.sort_unstable();
        ds.dedup();
        if ks.is_empty() && ds.is_empty() {
            return;
        }
        let parts = Parts {
            short: self.runs.iter().map(|r| &r.list.short[..]).collect(),
            long: self.runs.iter().map(|r| &r.list.long[..]).collect(),
        };
        let (lo, hi) = (
            self.min().unwrap_or_default(),
            self.max().unwrap_or_default(),
        );
        // [`answer`] marks fewer than 255 ranges at a time.
        let (nth, at_most) = if ks.len() + ds.len() < 200 {
            answer(&parts, lo.0, hi.0, &ks, &ds)
        } else {
            let (mut nth, mut at_most) = (Vec::new(), Vec::new());
            for ks in ks.chunks(100) {
                nth.extend(answer(&parts, lo.0, hi.0, ks, &[]).0);
            }
            for ds in ds.chunks(100) {
                at_most.extend(answer(&parts, lo.0, hi.0, &[], ds).1);
            }
            (nth, at_most)
        };
        let mut memo = self.memo();
        for (k, x) in ks.into_iter().zip(nth) {
            if !memo.nth.iter().any(|m| m.0 == k) {
                memo.nth.push((k, x));
            }
        }
        for (d, c) in ds.into_iter().zip(at_most) {
            if !memo.at_most.iter().any(|m| m.0 == Nanos(d)) {
                memo.at_most.push((Nanos(d), c));
            }
        }
    }

    /// How many durations are at most `d` (remembered).
    pub fn count_at_most(&self, d: Nanos) -> usize {
        self.count_at_most_each(&[d])[0]
    }

    /// [`Pooled::count_at_most`] of each of `ds`, found together.
    pub fn count_at_most_each(&self, ds: &[Nanos]) -> Vec<usize> {
        self.prepare(&[], ds);
        let memo = self.memo();
        let known = |d: Nanos| memo.at_most.iter().find(|m| m.0 == d).map(|m| m.1);
        ds.iter().map(|&d| known(d).expect("prepared")).collect()
    }

    /// How many durations are strictly longer than `d`.
    pub fn count_longer(&self, d: Nanos) -> usize {
        self.len - self.count_at_most(d)
    }

    /// The `k`-th smallest duration (from 0), as the merged, sorted sample
    /// would hold it at index `k` (remembered).
    pub fn nth(&self, k: usize) -> Option<Nanos> {
        self.nth_each(&[k])[0]
    }

    /// [`Pooled::nth`] of each of `ks`, found together.
    pub fn nth_each(&self, ks: &[usize]) -> Vec<Option<Nanos>> {
        self.prepare(ks, &[]);
        let memo = self.memo();
        let known = |k: usize| memo.nth.iter().find(|m| m.0 == k).map(|m| m.1);
        ks.iter().map(|&k| known(k)).collect()
    }

    /// The rank (from 0) of the `p`-th percentile by the nearest-rank
    /// method, for a non-empty pool.
    fn rank(&self, p: f64) -> usize {
        let rank = ((p / 100.0) * self.len as f64).ceil() as usize;
        rank.clamp(1, self.len) - 1
    }

    /// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method,
    /// exactly [`super::percentile`] of the merged sample.
    pub fn percentile(&self, p: f64) -> Option<Nanos> {
        self.percentiles(&[p])[0]
    }

    /// [`Pooled::percentile`] of each of `ps`, found together.
    pub fn percentiles(&self, ps: &[f64]) -> Vec<Option<Nanos>> {
        if self.is_empty() {
            return vec![None; ps.len()];
        }
        let ks: Vec<usize> = ps.iter().map(|&p| self.rank(p)).collect();
        self.nth_each(&ks)
    }

    /// [`Pooled::prepare`] for the `ps`-th percentiles and the lengths
    /// `ds`.
    pub fn prepare_percentiles(&self, ps: &[f64], ds: &[Nanos]) {
        let ks: Vec<usize> = if self.is_empty() {
            Vec::new()
        } else {
            ps.iter().map(|&p| self.rank(p)).collect()
        };
        self.prepare(&ks, ds);
    }

    /// The merged sample, sorted.
    pub fn to_sorted_vec(&self) -> Vec<Nanos> {
        let mut all = Vec::with_capacity(self.len);
        for r in &self.runs {
            all.extend(r.iter());
        }
        radix::sort_nanos(&mut all);
        all
    }
}

/// Two pools are equal when they hold the same sample.
impl PartialEq for Pooled {
    fn eq(&self, other: &Pooled) -> bool {
        self.len == other.len && self.to_sorted_vec() == other.to_sorted_vec()
    }
}

/// Runs' durations as [`answer`] reads them: those stored in 32 bits and
/// those in 64.
struct Parts<'a> {
    short: Vec<&'a [u32]>,
    long: Vec<&'a [Nanos]>,
}

impl Parts<'_> {
    fn len(&self) -> usize {
        let short: usize = self.short.iter().map(|p| p.len()).sum();
        short + self.long.iter().map(|p| p.len()).sum::<usize>()
    }

    /// Calls `f` with every value, in nanoseconds.
    #[inline(always)]
    fn each(&self, mut f: impl FnMut(u64)) {
        for p in &self.short {
            for &x in p.iter() {
                f(u64::from(x));
            }
        }
        for p in &self.long {
            for x in p.iter() {
                f(x.0);
            }
        }
    }
}

/// Below this many values a selection sorts them.
const SORT_BELOW: usize = 4096;
/// Bits of value one counting pass of [`answer`] tells apart: 65,536
/// counters (256 KiB, in the L2 cache).
const PASS_BITS: u32 = 16;

/// The `ks`-th smallest values (from 0, each below the total length) of
/// the values in `parts`, all within `lo..=hi`, and the counts of values
/// at most each of `ds`.
///
/// Two passes: one counts the values into at most 2^16 equal ranges of
/// `lo..=hi`; the cumulative counts tell which range holds each rank (and
/// its rank within it) and how many values lie in the ranges wholly below
/// each `d`; a second pass gathers the values of those ranges and of the
/// ranges holding a `d`. A gathered range is narrowed the same way (each
/// time 2^16 times narrower, so at most four rounds for 64-bit values)
/// until it is small enough to sort or holds one value.
///
/// Measured against a sample-then-bracket selection that reads the values
/// once: on x86-64's baseline a 64-bit comparison does not vectorise, and
/// bracketing three ranks and counting three lengths cost more per value
/// than these two passes.
fn answer(parts: &Parts, lo: u64, hi: u64, ks: &[usize], ds: &[u64]) -> (Vec<Nanos>, Vec<usize>) {
    let n = parts.len();
    debug_assert!(ks.iter().all(|&k| k < n) && ks.len() + ds.len() < usize::from(u8::MAX));
    if n <= SORT_BELOW || n > u32::MAX as usize || lo == hi {
        let mut all = Vec::with_capacity(n);
        parts.each(|x| all.push(Nanos(x)));
        radix::sort_nanos(&mut all);
        let nth = ks.iter().map(|&k| all[k]).collect();
        let at_most = (ds.iter())
            .map(|&d| all.partition_point(|x| x.0 <= d))
            .collect();
        return (nth, at_most);
    }
    let span = hi - lo;
    let shift = (64 - span.leading_zeros()).saturating_sub(PASS_BITS);
    let ranges = (span >> shift) as usize + 1;
    let range = |x: u64| ((x - lo) >> shift) as usize;
    let mut count = vec![0u32; ranges];
    parts.each(|x| count[range(x)] += 1);
    // Values in the ranges wholly below each range: `before[r]`.
    let mut before = Vec::with_capacity(ranges);
    let mut total = 0usize;
    for &c in &count {
        before.push(total);
        total += c as usize;
    }
    let home_of_rank = |k: usize| before.partition_point(|&b| b <= k) - 1;
    // The ranges to gather, each marked with its place in `gathered`.
    let mut mark = vec![u8::MAX; ranges];
    let mut gathered: Vec<(usize, Vec<Nanos>)> = Vec::new();
    let mut want = |r: usize, gathered: &mut Vec<(usize, Vec<Nanos>)>| {
        if mark[r] == u8::MAX {
            mark[r] = gathered.len() as u8;
            gathered.push((r, Vec::with_capacity(count[r] as usize)));
        }
    };
    for &k in ks {
        want(home_of_rank(k), &mut gathered);
    }
    for &d in ds {
        if (lo..hi).contains(&d) {
            want(range(d), &mut gathered);
        }
    }
    parts.each(|x| {
        let m = mark[range(x)];
        if m != u8::MAX {
            gathered[m as usize].1.push(Nanos(x));
        }
    });
    let place = |r: usize| &gathered[mark[r] as usize].1;
    let at_most = (ds.iter())
        .map(|&d| match d {
            d if d < lo => 0,
            d if d >= hi => n,
            d => before[range(d)] + place(range(d)).iter().filter(|x| x.0 <= d).count(),
        })
        .collect();
    let nth = (ks.iter())
        .map(|&k| {
            let r = home_of_rank(k);
            let sub_lo = lo + ((r as u64) << shift);
            let sub_hi = hi.min(sub_lo.saturating_add((1u64 << shift) - 1));
            let sub = Parts {
                short: Vec::new(),
                long: vec![place(r)],
            };
            answer(&sub, sub_lo, sub_hi, &[k - before[r]], &[]).0[0]
        })
        .collect();
    (nth, at_most)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::percentile;
    use proptest::prelude::*;

    fn durations(v: &[u64]) -> Durations {
        v.iter().map(|&x| Nanos(x)).collect()
    }

    /// Every question asked of `pooled` against the same question asked
    /// of the merged, sorted sample.
    fn check_against_merged(runs: &[Durations], ps: &[f64], ds: &[u64]) {
        let pooled = Pooled::new(runs);
        let mut all: Vec<Nanos> = runs.iter().flat_map(|r| r.iter()).collect();
        all.sort_unstable();
        assert_eq!(pooled.len(), all.len());
        assert_eq!(pooled.to_sorted_vec(), all);
        assert_eq!(pooled.max(), all.last().copied());
        let want: Vec<Option<Nanos>> = ps.iter().map(|&p| percentile(&all, p)).collect();
        assert_eq!(pooled.percentiles(ps), want);
        for &p in ps.iter().take(3) {
            assert_eq!(pooled.percentile(p), percentile(&all, p));
        }
        for &d in ds {
            let longer = all.iter().filter(|&&x| x > Nanos(d)).count();
            assert_eq!(pooled.count_longer(Nanos(d)), longer, "d = {d}");
            assert_eq!(pooled.count_longer(Nanos(d)), longer, "remembered, d = {d}");
        }
        let at_most: Vec<usize> = ds
            .iter()
            .map(|&d| all.partition_point(|&x| x <= Nanos(d)))
            .collect();
        assert_eq!(pooled.count_at_most_each(&[]), Vec::<usize>::new());
        let ds: Vec<Nanos> = ds.iter().map(|&d| Nanos(d)).collect();
        assert_eq!(pooled.clone().count_at_most_each(&ds), at_most);
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
    fn runs_in_any_order_are_left_alone() {
        let raw = durations(&[5, 1, 3]);
        let p = Pooled::new([&raw, &durations(&[4, 2])]);
        assert_eq!(p.to_sorted_vec(), (1..=5).map(Nanos).collect::<Vec<_>>());
        assert_eq!(p.nth(0), Some(Nanos(1)));
        assert_eq!(p.nth(4), Some(Nanos(5)));
        assert_eq!(p.nth(5), None);
        assert_eq!(
            p.nth_each(&[4, 0, 9, 2]),
            [5, 1, 0, 3].map(|x| (x > 0).then_some(Nanos(x)))
        );
        assert_eq!(
            raw.iter().collect::<Vec<_>>(),
            &[5, 1, 3].map(Nanos)[..],
            "the run's own list is left alone"
        );
    }

    #[test]
    fn appending_to_an_empty_list_shares_it() {
        let a = durations(&[1, 2, 3]);
        let mut acc = Durations::default();
        acc.append(&a);
        assert!(Arc::ptr_eq(&acc.list, &a.list));
        let far = 1 << 40; // stored in 64 bits
        acc.append(&durations(&[far, 0]));
        assert_eq!(a.len(), 3, "the shared list is copied before it changes");
        let held: Vec<u64> = acc.iter().map(|d| d.0).collect();
        assert_eq!(held, [1, 2, 3, 0, far], "32-bit ones first, in order");
        assert_eq!((acc.min(), acc.max()), (Some(Nanos(0)), Some(Nanos(far))));
        assert_eq!(acc, durations(&[0, 1, 2, 3, far]), "equal as multisets");
        assert_ne!(acc, durations(&[0, 1, 2, 3, far + 1]));
        let round_trip: Vec<Nanos> = acc.clone().into();
        assert_eq!(Durations::from(round_trip), acc);
        let boundary = durations(&[u64::from(u32::MAX), u64::from(u32::MAX) + 1]);
        assert_eq!(
            (boundary.list.short.len(), boundary.list.long.len()),
            (1, 1)
        );
    }

    /// Large pools take the counting passes (beyond the sorted small
    /// case) and their narrowing rounds: concentrated, spread, tied and
    /// extreme values, and ranks that share a range.
    #[test]
    fn large_pools_match_the_merged_sample() {
        let mut s = crate::sim::Stream::new(11, "pooled");
        let ps: Vec<f64> = (1..=100)
            .map(f64::from)
            .chain([0.001, 99.9, 99.99])
            .collect();
        let ds = [0, 1, 2_000_000, 50_000_000, 1 << 40, u64::MAX - 1];
        let shapes: [&dyn Fn(&mut crate::sim::Stream) -> u64; 6] = [
            // A cloud network's mistakes: milliseconds, a heavy tail.
            &|s| 1_000_000 + s.below(4_000_000) * (1 + s.below(3) * s.below(1000)),
            &|s| s.next_u64(),
            &|s| 7 + s.below(3),
            &|s| u64::MAX - s.below(100_000),
            &|s| s.next_u64() >> s.below(64),
            // Nearly all in the lowest range of the first pass: a second
            // counting round narrows it.
            &|s| match s.below(1000) {
                0 => u64::MAX / 2,
                _ => 5_000_000 + s.below(1000),
            },
        ];
        for shape in shapes {
            let runs: Vec<Durations> = (0..5)
                .map(|r| (0..3_000 * r).map(|_| Nanos(shape(&mut s))).collect())
                .collect();
            check_against_merged(&runs, &ps, &ds);
            many_questions_at_once(&runs);
        }
    }

    /// More ranks and lengths than one selection marks (they are asked in
    /// groups), against the merged sample.
    fn many_questions_at_once(runs: &[Durations]) {
        let pooled = Pooled::new(runs);
        let mut all: Vec<Nanos> = runs.iter().flat_map(|r| r.iter()).collect();
        all.sort_unstable();
        let ks: Vec<usize> = (0..300).map(|i| i * all.len() / 300).collect();
        let want: Vec<Option<Nanos>> = ks.iter().map(|&k| Some(all[k])).collect();
        assert_eq!(pooled.nth_each(&ks), want);
        let ds: Vec<Nanos> = (0..250).map(|i| all[i * all.len() / 250]).collect();
        let at_most: Vec<usize> = (ds.iter())
            .map(|&d| all.partition_point(|&x| x <= d))
            .collect();
        assert_eq!(pooled.count_at_most_each(&ds), at_most);
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
            check_against_merged(&runs, &[p, 50.0, 99.0], &[d]);
            let pooled = Pooled::new(&runs);
            let mut all: Vec<Nanos> = runs.iter().flat_map(|r| r.iter()).collect();
            all.sort_unstable();
            for (k, &x) in all.iter().enumerate() {
                prop_assert_eq!(pooled.nth(k), Some(x));
            }
        }
    }
}
