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
//! The window is an order-statistics treap keyed by (sample, ring slot),
//! with subtree sizes: an arrival removes the oldest sample and inserts the
//! new one in O(log n) expected time, the suspicion is a rank query and
//! [`Detector::crossing`] a selection, both O(log n). For level x the
//! crossing is exact: the smallest k with k/n ≥ x (k = ⌈x·n⌉, checked in
//! floating point), then the first nanosecond Δ with a·S₍ₖ₎ ≤ Δ.

use super::phi::{first_reaching, window_spec};
use super::registry::{DetectorKind, ParamSpec, ParamUnit};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;

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
}

impl Satzger {
    pub fn new(window: usize, factor: f64) -> Satzger {
        assert!(window >= 1 && window < NIL as usize, "window out of range");
        Satzger {
            factor,
            cap: window,
            samples: OrderStatistics::with_capacity(window),
            oldest: 0,
            last: None,
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
        let k = Self::rank_for(level, self.samples.len())?;
        let guess = self.samples.select(k) as f64 * self.factor;
        first_reaching(last, guess, |c| self.suspicion(c) >= level)
    }
}

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    value: u64,
    left: u32,
    right: u32,
    size: u32,
    priority: u32,
}

/// A multiset of `u64` in a treap (a binary search tree on (value, slot),
/// a heap on random priorities) with subtree sizes, so insertion,
/// removal, rank and selection are O(log n) expected. Slot `i` is node
/// `i`; [`OrderStatistics::replace`] reuses a slot for a new value.
#[derive(Clone, Debug)]
pub struct OrderStatistics {
    nodes: Vec<Node>,
    root: u32,
    /// xorshift32 state for priorities (fixed seed: deterministic).
    rng: u32,
}

impl OrderStatistics {
    pub fn with_capacity(cap: usize) -> OrderStatistics {
        OrderStatistics {
            nodes: Vec::with_capacity(cap.min(1 << 20)),
            root: NIL,
            rng: 0x9E37_79B9,
        }
    }

    pub fn len(&self) -> usize {
        self.size(self.root) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    /// Adds `value` in a new slot and returns the slot.
    pub fn push(&mut self, value: u64) -> u32 {
        let slot = self.nodes.len() as u32;
        assert!(slot < NIL, "too many slots");
        let node = self.fresh(value);
        self.nodes.push(node);
        self.root = self.insert(self.root, slot);
        slot
    }

    /// Replaces the value in `slot` by `value`.
    pub fn replace(&mut self, slot: u32, value: u64) {
        self.root = self.remove(self.root, slot);
        self.nodes[slot as usize] = self.fresh(value);
        self.root = self.insert(self.root, slot);
    }

    /// The number of values `v` with `pred(v)`, for a predicate that holds
    /// for every value up to some point and for none after it.
    pub fn count_while(&self, pred: impl Fn(u64) -> bool) -> usize {
        let mut t = self.root;
        let mut count = 0;
        while t != NIL {
            let n = &self.nodes[t as usize];
            if pred(n.value) {
                count += self.size(n.left) as usize + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        count
    }

    /// The `k`-th smallest value, 1 ≤ k ≤ len.
    pub fn select(&self, mut k: usize) -> u64 {
        assert!(k >= 1 && k <= self.len(), "rank {k} out of range");
        let mut t = self.root;
        loop {
            let n = &self.nodes[t as usize];
            let left = self.size(n.left) as usize;
            if k <= left {
                t = n.left;
            } else if k == left + 1 {
                return n.value;
            } else {
                k -= left + 1;
                t = n.right;
            }
        }
    }

    fn fresh(&mut self, value: u64) -> Node {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        Node {
            value,
            left: NIL,
            right: NIL,
            size: 1,
            priority: x,
        }
    }

    fn size(&self, t: u32) -> u32 {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size
        }
    }

    fn fix_size(&mut self, t: u32) {
        let n = self.nodes[t as usize];
        self.nodes[t as usize].size = 1 + self.size(n.left) + self.size(n.right);
    }

    /// Order on (value, slot): a total order even with equal values.
    fn less(&self, a: u32, b: u32) -> bool {
        (self.nodes[a as usize].value, a) < (self.nodes[b as usize].value, b)
    }

    /// Splits `t` into the nodes ordered before node `k` and the rest.
    fn split(&mut self, t: u32, k: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.less(t, k) {
            let (l, r) = self.split(self.nodes[t as usize].right, k);
            self.nodes[t as usize].right = l;
            self.fix_size(t);
            (t, r)
        } else {
            let (l, r) = self.split(self.nodes[t as usize].left, k);
            self.nodes[t as usize].left = r;
            self.fix_size(t);
            (l, t)
        }
    }

    /// Joins two treaps whose nodes in `a` all order before those in `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].priority > self.nodes[b as usize].priority {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.fix_size(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.fix_size(b);
            b
        }
    }

    fn insert(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return n;
        }
        if self.nodes[n as usize].priority > self.nodes[t as usize].priority {
            let (l, r) = self.split(t, n);
            self.nodes[n as usize].left = l;
            self.nodes[n as usize].right = r;
            self.fix_size(n);
            return n;
        }
        if self.less(n, t) {
            let l = self.insert(self.nodes[t as usize].left, n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.insert(self.nodes[t as usize].right, n);
            self.nodes[t as usize].right = r;
        }
        self.nodes[t as usize].size += 1;
        t
    }

    fn remove(&mut self, t: u32, n: u32) -> u32 {
        debug_assert!(t != NIL, "slot {n} is not in the tree");
        if t == n {
            let node = self.nodes[t as usize];
            return self.merge(node.left, node.right);
        }
        if self.less(n, t) {
            let l = self.remove(self.nodes[t as usize].left, n);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.remove(self.nodes[t as usize].right, n);
            self.nodes[t as usize].right = r;
        }
        self.nodes[t as usize].size -= 1;
        t
    }

    /// Height of the tree (tests).
    #[cfg(test)]
    fn height(&self, t: u32) -> usize {
        if t == NIL {
            return 0;
        }
        let n = self.nodes[t as usize];
        1 + self.height(n.left).max(self.height(n.right))
    }
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

    /// Compares the treap with a sorted vector on a long pseudo-random
    /// stream with many duplicates.
    #[test]
    fn order_statistics_agree_with_a_sorted_vector() {
        let cap = 257;
        let mut tree = OrderStatistics::with_capacity(cap);
        let mut ring: Vec<u64> = Vec::new();
        let mut oldest = 0;
        let mut x: u64 = 88172645463325252;
        for step in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = x % 500;
            if ring.len() < cap {
                ring.push(v);
                tree.push(v);
            } else {
                ring[oldest] = v;
                tree.replace(oldest as u32, v);
                oldest = (oldest + 1) % cap;
            }
            if step % 97 == 0 {
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
                assert!(tree.height(tree.root) <= 40, "treap degenerated");
            }
        }
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
