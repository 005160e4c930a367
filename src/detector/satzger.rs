//! Distribution-free accrual detector (Satzger, Pietzowski, Trumler,
//! Ungerer, "A new adaptive accrual failure detector for dependable
//! distributed systems", ACM SAC 2007), in the form rabbitmq/aten
//! (`src/aten_detect.erl`) computes it.
//!
//! The suspicion is the empirical CDF of the window of the last `window`
//! inter-arrival times S₁…Sₙ, with every sample scaled by `factor` a:
//!
//! ```text
//! suspicion(t) = |{ i : a·Sᵢ ≤ t − A_last }| / n
//! ```
//!
//! and the target is suspected iff suspicion ≥ threshold, a level in
//! (0, 1]. Satzger et al. use the plain empirical CDF (a = 1); aten scales
//! the samples by a = 1.5 (its `factor`), so a silence must exceed 1.5× a
//! fraction `threshold` of recent intervals. Another public port scales the
//! elapsed time instead (equivalent to a = 1/scale); fdsim follows aten,
//! the most used implementation, with its defaults: window 1000, factor
//! 1.5, threshold 0.99 (`aten_detector.erl`: `?DEFAULT_THRESHOLD`, down when
//! the probability is ≥ the threshold — the same `≥` as fdsim).
//!
//! As in aten, the first heartbeat records no interval, and with an empty
//! window the suspicion is 0 (aten divides by max(1, n)): a target that
//! sends a single heartbeat and crashes is never suspected. (fdsim still
//! suspects before the first heartbeat, +∞, where aten reports 0.)
//! Incarnations are ignored.
//!
//! The window is kept sorted, in blocks of at most 1024 samples
//! ([`OrderStatistics`]; aten's default window of 1000 is one block): an
//! arrival finds the oldest sample and the new one's place by binary
//! search and moves the samples between the two by one place, a single
//! `memmove`, so the suspicion is a rank query and [`Detector::crossing`]
//! an index. Measured against blocks of 64 with an element-by-element
//! shift, and of 128 and 256: one sorted array of 1000 is the fastest
//! (Satzger alone, 32 thresholds, 10 seeds × 24 h: 1.46–1.50 → 1.38–1.42 s;
//! 128 and 256 were slower than 64), because a memmove of a few kilobytes
//! in the L1 cache costs less than the walk over many blocks. Blocks keep
//! a long window's update from moving more than one block. For level x the
//! pointer chasing. For level x the
//! crossing is exact: the smallest k with k/n ≥ x (k = ⌈x·n⌉, checked in
//! floating point), then the first nanosecond Δ with a·S₍ₖ₎ ≤ Δ, which is
//! ⌈a·S₍ₖ₎⌉ in closed form (silences below 2^53 ns, 104 days, are exact in
//! `f64`; beyond, [`first_reaching`] searches).

use super::phi::{first_reaching, window_spec};
use super::registry::{DetectorKind, ParamSpec, ParamUnit};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;
use std::cell::Cell;

/// Registration of `kind = "satzger"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "satzger",
    summary: "distribution-free accrual: fraction of recent intervals (scaled by `factor`) \
              no longer than the current silence",
    source: "Satzger, Pietzowski, Trumler, Ungerer, ACM SAC 2007; as rabbitmq/aten aten_detect.erl (factor 1.5, threshold 0.99, window 1000)",
    swept: ParamSpec {
        name: "threshold",
        unit: ParamUnit::Number,
        default: Some(0.99),
        min: 0.0,
        min_inclusive: false,
        max: 1.0,
        doc: "suspect once this fraction of the scaled window is at most the silence",
    },
    params: &[
        window_spec("window", "number of most recent inter-arrival times kept"),
        ParamSpec {
            name: "factor",
            unit: ParamUnit::Number,
            default: Some(1.5),
            min: 0.0,
            min_inclusive: false,
            max: 1e6,
            doc: "each interval is multiplied by this before comparing with the silence",
        },
    ],
    threshold_dependent: false,
    build: |p, _, _| Box::new(Satzger::new(p.get("window") as usize, p.get("factor"))),
};

/// The Satzger / aten detector.
#[derive(Clone, Debug)]
pub struct Satzger {
    factor: f64,
    cap: usize,
    samples: OrderStatistics,
    /// Slot of the oldest sample once the window is full.
    oldest: u32,
    last: Option<Nanos>,
    /// (level's bits, window size, rank) of the last [`Satzger::rank`].
    rank_memo: Cell<(u64, usize, Option<usize>)>,
}

impl Satzger {
    pub fn new(window: usize, factor: f64) -> Satzger {
        assert!(
            window >= 1 && window <= u32::MAX as usize,
            "window out of range"
        );
        Satzger {
            factor,
            cap: window,
            samples: OrderStatistics::with_capacity(window),
            oldest: 0,
            last: None,
            // Size 0 is never looked up: an empty window has no rank.
            rank_memo: Cell::new((0, 0, None)),
        }
    }

    /// Number of samples in the window.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.len() == 0
    }

    fn fraction_after(&self, silence: u64) -> f64 {
        let n = self.samples.len();
        if n == 0 {
            return 0.0;
        }
        let silence = silence as f64;
        let below = self
            .samples
            .count_while(|s| s as f64 * self.factor <= silence);
        below as f64 / n as f64
    }

    /// The smallest k with k/n ≥ `level` (as `f64`), for `level` > 0, if
    /// k ≤ n.
    /// [`Satzger::rank_for`] at the window's current size, remembered for
    /// the last level asked: the scorer asks about the same few levels
    /// over and over, and the window is full after its first `cap`
    /// arrivals.
    fn rank(&self, level: f64) -> Option<usize> {
        let n = self.samples.len();
        let (bits, size, k) = self.rank_memo.get();
        if bits == level.to_bits() && size == n {
            return k;
        }
        let k = Self::rank_for(level, n);
        self.rank_memo.set((level.to_bits(), n, k));
        k
    }

    fn rank_for(level: f64, n: usize) -> Option<usize> {
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let mut k = (level * nf).ceil().clamp(0.0, nf + 1.0) as usize;
        while k > 0 && (k - 1) as f64 / nf >= level {
            k -= 1;
        }
        while k <= n && (k as f64 / nf) < level {
            k += 1;
        }
        (k <= n).then_some(k)
    }
}

impl Detector for Satzger {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        if let Some(last) = self.last {
            let sample = arrival.at.saturating_sub(last).0;
            if self.samples.len() < self.cap {
                self.samples.push(sample);
            } else {
                self.samples.replace(self.oldest, sample);
                self.oldest = (self.oldest + 1) % self.cap as u32;
            }
        }
        self.last = Some(arrival.at);
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        match self.last {
            Some(last) => self.fraction_after(now.saturating_sub(last).0),
            None => f64::INFINITY,
        }
    }

    /// Right after an arrival the silence is shorter than the smallest
    /// scaled interval, so the fraction is 0 without counting: scaling by
    /// `factor` > 0 keeps the samples' order, so no sample fits if the
    /// smallest does not.
    ///
    /// Otherwise the fraction is below `level` exactly when fewer samples
    /// fit than the smallest count k with k/n ≥ level, that is when the
    /// k-th smallest sample, scaled, does not fit: one rank lookup instead
    /// of counting.
    fn below(&self, now: Nanos, level: f64) -> bool {
        let Some(last) = self.last else {
            return self.suspicion(now) < level;
        };
        let silence = now.saturating_sub(last).0 as f64;
        match self.samples.min() {
            None => 0.0 < level,
            Some(min) if min as f64 * self.factor > silence => 0.0 < level,
            Some(_) => match self.rank(level) {
                None => true,
                Some(0) => false,
                Some(k) => self.samples.select(k) as f64 * self.factor > silence,
            },
        }
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(last) = self.last else {
            return Some(Nanos::ZERO);
        };
        if level.is_nan() {
            return None;
        }
        if level <= 0.0 {
            return Some(last);
        }
        let k = self.rank(level)?;
        // The expression `fraction_after` compares with the silence.
        let scaled = self.samples.select(k) as f64 * self.factor;
        // Suspicion at silence Δ reaches the level iff at least k scaled
        // samples are ≤ Δ (as f64), iff the k-th is. Up to 2^53 ns every Δ
        // converts exactly, so the first such Δ is ⌈S₍ₖ₎·a⌉, and no search
        // is needed.
        if scaled <= EXACT_SILENCE {
            if let Some(c) = last.0.checked_add(crate::math::ceil_u64(scaled)) {
                return Some(Nanos(c));
            }
        }
        first_reaching(last, scaled, |c| self.suspicion(c) >= level)
    }
}

/// Silences (ns) up to which `u64 as f64` is exact: 2^53.
const EXACT_SILENCE: f64 = 9_007_199_254_740_992.0;

/// Largest block of [`OrderStatistics`] before it is split in two.
const BLOCK: usize = 1024;

/// A multiset of `u64` with slots, kept as a list of sorted blocks of at
/// most [`BLOCK`] values (a one-level "sorted blocks" structure).
/// Insertion and removal move part of one block with one `memmove`
/// (a replacement whose old and new values share a block moves only the
/// values between the two); rank and selection skip whole blocks by their
/// sizes. With a window of n values that is O(log n + n/BLOCK) steps and
/// a move of at most [`BLOCK`] words, held in the cache.
/// Slot `i` holds the value [`OrderStatistics::replace`] later removes.
#[derive(Clone, Debug)]
pub struct OrderStatistics {
    blocks: Vec<Vec<u64>>,
    /// The largest value (the last) of each block, so that finding a block
    /// reads one small array rather than every block. Only an empty set
    /// has an empty block, its only one, with a meaningless entry here.
    maxes: Vec<u64>,
    /// The value in each slot, so a replaced value can be found.
    slots: Vec<u64>,
    len: usize,
}

impl OrderStatistics {
    pub fn with_capacity(cap: usize) -> OrderStatistics {
        OrderStatistics {
            blocks: vec![Vec::new()],
            maxes: vec![0],
            slots: Vec::with_capacity(cap.min(1 << 20)),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `value` in a new slot and returns the slot.
    pub fn push(&mut self, value: u64) -> u32 {
        let slot = u32::try_from(self.slots.len()).expect("too many slots");
        self.slots.push(value);
        self.insert(value);
        slot
    }

    /// Replaces the value in `slot` by `value`.
    pub fn replace(&mut self, slot: u32, value: u64) {
        let old = std::mem::replace(&mut self.slots[slot as usize], value);
        self.exchange(old, value);
    }

    /// The number of values `v` with `pred(v)`, for a predicate that holds
    /// for every value up to some point and for none after it.
    pub fn count_while(&self, pred: impl Fn(u64) -> bool) -> usize {
        if self.len == 0 {
            return 0;
        }
        let mut count = 0;
        for (b, &max) in self.blocks.iter().zip(&self.maxes) {
            if !pred(max) {
                return count + b.partition_point(|&v| pred(v));
            }
            count += b.len();
        }
        count
    }

    /// The `k`-th smallest value, 1 ≤ k ≤ len.
    /// The smallest value, if any.
    #[inline]
    pub fn min(&self) -> Option<u64> {
        self.blocks[0].first().copied()
    }

    pub fn select(&self, mut k: usize) -> u64 {
        assert!(k >= 1 && k <= self.len, "rank {k} out of range");
        if k > self.len / 2 {
            // High ranks (thresholds near 1) are nearer the end.
            let mut r = self.len - k;
            for b in self.blocks.iter().rev() {
                if r < b.len() {
                    return b[b.len() - 1 - r];
                }
                r -= b.len();
            }
            unreachable!("k is within len")
        }
        for b in &self.blocks {
            if k <= b.len() {
                return b[k - 1];
            }
            k -= b.len();
        }
        unreachable!("k is within len")
    }

    /// The block that holds (or would hold) `value`: the first whose
    /// largest value is at least `value`, else the last.
    fn block_for(&self, value: u64) -> usize {
        let i = count_below(&self.maxes, |m| m < value);
        i.min(self.blocks.len() - 1)
    }

    fn insert(&mut self, value: u64) {
        let i = self.block_for(value);
        let b = &mut self.blocks[i];
        // After any equal values.
        let at = b.partition_point(|&v| v <= value);
        b.insert(at, value);
        self.len += 1;
        self.settle(i);
    }

    fn remove(&mut self, value: u64) {
        let i = self.block_for(value);
        let b = &mut self.blocks[i];
        let at = b.partition_point(|&v| v < value);
        debug_assert_eq!(b.get(at), Some(&value), "{value} is not in the set");
        b.remove(at);
        self.len -= 1;
        self.settle(i);
    }

    /// Removes `old` and inserts `new`: when both belong to the same
    /// block, the values between the two places move by one, in one pass.
    fn exchange(&mut self, old: u64, new: u64) {
        let i = self.block_for(old);
        if self.block_for(new) != i {
            self.remove(old);
            self.insert(new);
            return;
        }
        let b = &mut self.blocks[i];
        let from = b.partition_point(|&v| v < old);
        debug_assert_eq!(b.get(from), Some(&old), "{old} is not in the set");
        let to = b.partition_point(|&v| v <= new);
        if to > from {
            b.copy_within(from + 1..to, from);
            b[to - 1] = new;
        } else {
            b.copy_within(to..from, to + 1);
            b[to] = new;
        }
        self.maxes[i] = b[b.len() - 1];
    }

    /// Restores the blocks' invariants after block `i` changed size:
    /// its maximum, at most [`BLOCK`] values, no empty block but the only
    /// one, and no block under a quarter full beside one it fits with.
    fn settle(&mut self, i: usize) {
        let b = &mut self.blocks[i];
        if b.len() > BLOCK {
            let upper = b.split_off(BLOCK / 2);
            let upper_max = upper[upper.len() - 1];
            self.maxes[i] = b[b.len() - 1];
            self.blocks.insert(i + 1, upper);
            self.maxes.insert(i + 1, upper_max);
        } else if let Some(&max) = b.last() {
            self.maxes[i] = max;
            if b.len() < BLOCK / 4 {
                self.join_small(i);
            }
        } else if self.blocks.len() > 1 {
            self.blocks.remove(i);
            self.maxes.remove(i);
        }
    }

    /// Joins block `i`, grown small by removals, with a neighbour when the
    /// two fit in one block: without it, a sliding window's blocks only
    /// split and thin out (1,000 samples end up in about 40 blocks of 25
    /// instead of about 20 of 50), and every walk over them lengthens.
    fn join_small(&mut self, i: usize) {
        let n = self.blocks.len();
        let j = match (i.checked_sub(1), (i + 1 < n).then_some(i + 1)) {
            (Some(a), Some(b)) if self.blocks[a].len() <= self.blocks[b].len() => a,
            (_, Some(b)) => b,
            (Some(a), None) => a,
            (None, None) => return,
        };
        let (lo, hi) = (i.min(j), i.max(j));
        if self.blocks[lo].len() + self.blocks[hi].len() > BLOCK {
            return;
        }
        let upper = self.blocks.remove(hi);
        self.blocks[lo].extend_from_slice(&upper);
        self.maxes.remove(hi);
        self.maxes[lo] = upper[upper.len() - 1];
    }
}

/// `sorted.partition_point(pred)` for the blocks' maxima (a few dozen),
/// by counting: a binary search waits on each load before choosing the
/// next, while a count reads the few cache lines side by side with no
/// branch to mispredict.
#[inline]
fn count_below(sorted: &[u64], pred: impl Fn(u64) -> bool) -> usize {
    sorted.iter().map(|&v| usize::from(pred(v))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(at: u64) -> Arrival {
        Arrival {
            at: Nanos(at),
            seq: 0,
            sent: Nanos(at),
            incarnation: 0,
        }
    }

    fn feed(d: &mut Satzger, times: &[u64]) {
        for &t in times {
            d.heartbeat(&arrival(t));
        }
    }

    #[test]
    fn suspicion_is_the_scaled_empirical_cdf() {
        let mut d = Satzger::new(1000, 1.5);
        assert_eq!(d.suspicion(Nanos(1)), f64::INFINITY);
        feed(&mut d, &[0, 100, 300, 600]); // samples 100, 200, 300
        assert_eq!(d.suspicion(Nanos(600 + 149)), 0.0);
        assert_eq!(d.suspicion(Nanos(600 + 150)), 1.0 / 3.0);
        assert_eq!(d.suspicion(Nanos(600 + 300)), 2.0 / 3.0);
        assert_eq!(d.suspicion(Nanos(600 + 449)), 2.0 / 3.0);
        assert_eq!(d.suspicion(Nanos(600 + 450)), 1.0);
    }

    #[test]
    fn crossing_is_the_kth_scaled_sample() {
        let mut d = Satzger::new(1000, 1.5);
        feed(&mut d, &[0, 100, 300, 600]);
        assert_eq!(d.crossing(0.2), Some(Nanos(600 + 150)));
        assert_eq!(d.crossing(1.0 / 3.0), Some(Nanos(600 + 150)));
        assert_eq!(d.crossing(0.34), Some(Nanos(600 + 300)));
        assert_eq!(d.crossing(0.99), Some(Nanos(600 + 450)));
        assert_eq!(d.crossing(1.0), Some(Nanos(600 + 450)));
        assert_eq!(d.crossing(1.01), None);
        assert_eq!(d.crossing(0.0), Some(Nanos(600)));
        // A fractional scaled sample rounds up: 1.5 · 101 = 151.5.
        let mut e = Satzger::new(10, 1.5);
        feed(&mut e, &[0, 101]);
        assert_eq!(e.crossing(0.5), Some(Nanos(101 + 152)));
    }

    #[test]
    fn one_heartbeat_is_never_suspected() {
        let mut d = Satzger::new(1000, 1.5);
        d.heartbeat(&arrival(10));
        assert_eq!(d.suspicion(Nanos(1 << 60)), 0.0);
        assert_eq!(d.crossing(0.99), None);
    }

    #[test]
    fn the_window_slides() {
        let mut d = Satzger::new(2, 1.0);
        feed(&mut d, &[0, 10, 30, 60]); // 10 dropped; 20, 30 remain
        assert_eq!(d.len(), 2);
        assert_eq!(d.suspicion(Nanos(60 + 19)), 0.0);
        assert_eq!(d.suspicion(Nanos(60 + 20)), 0.5);
        assert_eq!(d.crossing(1.0), Some(Nanos(90)));
    }

    /// Compares the sorted blocks with a sorted vector on a long pseudo-random
    /// stream with many duplicates.
    #[test]
    fn order_statistics_agree_with_a_sorted_vector() {
        // Several blocks, split and joined as the window slides.
        let cap = 3 * BLOCK + 57;
        let mut tree = OrderStatistics::with_capacity(cap);
        let mut ring: Vec<u64> = Vec::new();
        let mut oldest = 0;
        let mut x: u64 = 88172645463325252;
        for step in 0..40_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Many duplicates, and runs of values that stay in one block.
            let v = if step % 3 == 0 { x % 500 } else { x % 5_000 };
            if ring.len() < cap {
                ring.push(v);
                tree.push(v);
            } else {
                ring[oldest] = v;
                tree.replace(oldest as u32, v);
                oldest = (oldest + 1) % cap;
            }
            if step % 997 == 0 {
                let mut sorted = ring.clone();
                sorted.sort_unstable();
                assert_eq!(tree.len(), sorted.len());
                for k in 1..=sorted.len() {
                    assert_eq!(tree.select(k), sorted[k - 1]);
                }
                for probe in [0, 1, 250, 499, 500] {
                    let want = sorted.iter().filter(|&&s| s <= probe).count();
                    assert_eq!(tree.count_while(|s| s <= probe), want);
                }
                assert!(tree.blocks.iter().all(|b| b.len() <= BLOCK));
                assert!(tree.blocks.len() >= 4 || step < cap);
                let maxes: Vec<u64> = tree.blocks.iter().map(|b| *b.last().unwrap()).collect();
                assert_eq!(tree.maxes, maxes);
            }
        }
    }

    /// Blocks thinned by removals are joined: a window of spread values
    /// replaced mostly by values in a narrow range leaves each old block
    /// with a few values, which would stay as many small blocks (21 here
    /// instead of 12), lengthening every walk over them.
    #[test]
    fn thinned_blocks_are_joined() {
        let cap = 8 * BLOCK;
        let mut o = OrderStatistics::with_capacity(cap);
        let mut s = crate::sim::Stream::new(3, "thinned");
        let mut next = || s.next_u64();
        for _ in 0..cap {
            o.push(next() % 1_000_000_000);
        }
        for i in 0..(cap - cap / 8) as u32 {
            o.replace(i, 500_000_000 + next() % 1_000);
        }
        assert_eq!(o.len(), cap);
        assert!(
            o.blocks.len() <= 2 * cap / BLOCK,
            "{} blocks",
            o.blocks.len()
        );
    }

    #[test]
    fn crossing_is_exact_for_every_level_on_a_full_window() {
        let mut d = Satzger::new(100, 1.5);
        let mut t = 0;
        for i in 0..300u64 {
            t += 1_000_000 + (i * 7919) % 50_000;
            d.heartbeat(&arrival(t));
        }
        for j in 1..=100 {
            let level = j as f64 / 100.0 - 1e-12;
            let c = d.crossing(level).unwrap();
            assert!(d.suspicion(c) >= level);
            assert!(d.suspicion(Nanos(c.0 - 1)) < level);
        }
    }
}
