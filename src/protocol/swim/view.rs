//! A member's view of the cluster, stored as what differs from a view
//! every member shares; the round-robin order as a keyed permutation.
//!
//! Two views are common to all members and need no storage of their own:
//! "every member present at the start is alive at incarnation 0" (a
//! member's view after a start or a restart) and "nobody is known" (a
//! joining member's). A member keeps only the records where its view
//! differs from its base, sorted by member. In a cluster where failures
//! are rare, that is a handful of records per member instead of one per
//! member, so n members take O(n) memory instead of O(n²) (100,000
//! members would need 50 GB of private views), and the shared part is
//! read from a few cache lines. A member whose differences grow past an
//! eighth of the cluster (many restarts, a join) switches to a private
//! array, so the worst case costs what a private view always cost.
//!
//! A push-pull exchange sends a [`Snapshot`]: the base and the
//! differences, not one record per member; the receiver merges only the
//! members where either side differs from the common base, because for
//! every other member both sides hold the same record and merging it
//! changes nothing.

use super::agent::Roster;
use super::msg::{Update, UpdateKind};
use crate::sim::NodeId;
use std::sync::Arc;

pub(super) const VERDICT_MASK: u8 = 0b11;
pub(super) const ALIVE: u8 = 0;
pub(super) const SUSPECT: u8 = 1;
pub(super) const DEAD: u8 = 2;
/// Left the cluster gracefully (memberlist `StateLeft`); with `UNKNOWN`,
/// never heard of.
pub(super) const LEFT: u8 = 3;
/// This member has never heard of the member (it has not joined yet, as
/// far as this one knows).
pub(super) const UNKNOWN: u8 = 0b100;

/// What a member holds about one member: its incarnation and a state byte
/// (verdict, and `UNKNOWN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub inc: u32,
    pub state: u8,
}

/// A record that differs from the base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Diff {
    member: NodeId,
    entry: Entry,
}

/// The view a member's records are stored against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Base {
    /// Every member present at the start (all, without a roster) alive at
    /// incarnation 0; the others unknown.
    Present(Option<Arc<Roster>>),
    /// Nobody known.
    Nobody,
}

const UNKNOWN_ENTRY: Entry = Entry {
    inc: 0,
    state: LEFT | UNKNOWN,
};
const ALIVE_ENTRY: Entry = Entry {
    inc: 0,
    state: ALIVE,
};

impl Base {
    #[inline]
    fn entry(&self, m: NodeId) -> Entry {
        match self {
            Base::Present(None) => ALIVE_ENTRY,
            Base::Present(Some(r)) if r.present_at_start(m) => ALIVE_ENTRY,
            _ => UNKNOWN_ENTRY,
        }
    }

    fn same(&self, other: &Base) -> bool {
        match (self, other) {
            (Base::Nobody, Base::Nobody) => true,
            (Base::Present(a), Base::Present(b)) => match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                _ => false,
            },
            _ => false,
        }
    }

    /// Members this base knows, out of `n`.
    fn known(&self, n: usize) -> usize {
        match self {
            Base::Present(None) => n,
            Base::Present(Some(r)) => n - r.absent_count(),
            Base::Nobody => 0,
        }
    }
}

/// One member's view: its base and where it differs, or a private array.
#[derive(Clone, Debug)]
pub(super) struct View {
    n: usize,
    base: Base,
    /// Sorted by member; empty while `dense` is in use.
    diff: Vec<Diff>,
    dense: Option<Vec<Entry>>,
}

impl View {
    pub fn new(n: usize, base: Base) -> Self {
        View {
            n,
            base,
            diff: Vec::new(),
            dense: None,
        }
    }

    /// The view after a start: `base`, nothing different yet.
    pub fn reset(&mut self, base: Base) {
        self.base = base;
        self.diff.clear();
        self.diff.shrink_to(4);
        self.dense = None;
    }

    pub fn base(&self) -> &Base {
        &self.base
    }

    pub fn is_dense(&self) -> bool {
        self.dense.is_some()
    }

    #[inline]
    pub fn get(&self, m: NodeId) -> Entry {
        match &self.dense {
            Some(d) => d[m as usize],
            None => lookup(&self.diff, &self.base, m),
        }
    }

    #[inline]
    pub fn state(&self, m: NodeId) -> u8 {
        self.get(m).state
    }

    #[inline]
    pub fn inc(&self, m: NodeId) -> u32 {
        self.get(m).inc
    }

    pub fn set_state(&mut self, m: NodeId, state: u8) {
        let inc = self.inc(m);
        self.set(m, Entry { inc, state });
    }

    pub fn set_inc(&mut self, m: NodeId, inc: u32) {
        let state = self.state(m);
        self.set(m, Entry { inc, state });
    }

    pub fn set(&mut self, m: NodeId, entry: Entry) {
        if let Some(d) = &mut self.dense {
            d[m as usize] = entry;
            return;
        }
        match self.diff.binary_search_by_key(&m, |d| d.member) {
            Ok(i) => self.diff[i].entry = entry,
            Err(i) => {
                if entry == self.base.entry(m) {
                    return;
                }
                self.diff.insert(i, Diff { member: m, entry });
                if self.diff.len() > 32 + self.n / 8 {
                    self.densify();
                }
            }
        }
    }

    /// Past an eighth of the members, a private array is smaller than the
    /// sorted differences and faster to change.
    fn densify(&mut self) {
        let mut d: Vec<Entry> = (0..self.n as NodeId).map(|m| self.base.entry(m)).collect();
        for x in self.diff.drain(..) {
            d[x.member as usize] = x.entry;
        }
        self.diff = Vec::new();
        self.dense = Some(d);
    }

    /// The members where this view may differ from its base, ascending
    /// (`None` when it is a private array: any member may).
    pub fn differing(&self) -> Option<impl Iterator<Item = NodeId> + '_> {
        if self.dense.is_some() {
            return None;
        }
        Some(self.diff.iter().map(|d| d.member))
    }

    /// What member `from` sends of this view in a push-pull.
    pub fn snapshot(&self, from: NodeId) -> Snapshot {
        let diff = match &self.dense {
            None => self.diff.clone(),
            Some(d) => (0..self.n as NodeId)
                .filter(|&m| d[m as usize] != self.base.entry(m))
                .map(|m| Diff {
                    member: m,
                    entry: d[m as usize],
                })
                .collect(),
        };
        let known = known_outside(&self.base, &diff, self.n)
            + diff.iter().filter(|d| known(d.entry)).count();
        Snapshot {
            from,
            n: self.n,
            base: self.base.clone(),
            diff,
            known,
        }
    }
}

fn known(e: Entry) -> bool {
    e.state & UNKNOWN == 0
}

/// The record of `m`: its difference, or else the base's.
#[inline]
fn lookup(diff: &[Diff], base: &Base, m: NodeId) -> Entry {
    match diff.binary_search_by_key(&m, |d| d.member) {
        Ok(i) => diff[i].entry,
        Err(_) => base.entry(m),
    }
}

/// Members of `n` that `base` knows and `diff` does not override.
fn known_outside(base: &Base, diff: &[Diff], n: usize) -> usize {
    base.known(n) - diff.iter().filter(|d| known(base.entry(d.member))).count()
}

/// A member's whole view as a push-pull carries it (memberlist's
/// `pushNodeState` list): one record per member the sender knows, held
/// as the sender's base and its differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    from: NodeId,
    n: usize,
    base: Base,
    diff: Vec<Diff>,
    known: usize,
}

impl Snapshot {
    /// Every one of `n` members alive at incarnation 0, as `from` sends it.
    pub fn everyone_alive(n: usize, from: NodeId) -> Snapshot {
        Snapshot {
            from,
            n,
            base: Base::Present(None),
            diff: Vec::new(),
            known: n,
        }
    }

    /// Records carried: the members the sender knows.
    pub fn len(&self) -> usize {
        self.known
    }

    pub fn is_empty(&self) -> bool {
        self.known == 0
    }

    fn entry(&self, m: NodeId) -> Entry {
        lookup(&self.diff, &self.base, m)
    }

    /// The sender's record of `m`, if it knows `m`: its verdict and
    /// incarnation, from the sender; a Left member's record is a dead that
    /// `m` itself sent (memberlist's encoding of a leave).
    pub fn record(&self, m: NodeId) -> Option<Update> {
        let e = self.entry(m);
        known(e).then(|| record(self.from, m, e))
    }

    /// Every record, by member.
    pub fn records(&self) -> impl Iterator<Item = Update> + '_ {
        (0..self.n as NodeId).filter_map(|m| self.record(m))
    }

    /// The sum of `f(incarnation)` over the records, saturating.
    pub fn sum_incarnations(&self, f: impl Fn(u32) -> u32) -> u32 {
        let in_base = known_outside(&self.base, &self.diff, self.n);
        let base = f(0).saturating_mul(u32::try_from(in_base).unwrap_or(u32::MAX));
        self.diff
            .iter()
            .filter(|d| known(d.entry))
            .fold(base, |sum, d| sum.saturating_add(f(d.entry.inc)))
    }

    /// The members where this snapshot and `view` can differ, ascending,
    /// plus `me`: `None` when any member can (different bases, or a
    /// private array).
    pub(super) fn differing_from(&self, view: &View, me: NodeId) -> Option<Vec<NodeId>> {
        if !self.base.same(view.base()) {
            return None;
        }
        let mine = view.differing()?;
        let mut all: Vec<NodeId> = self.diff.iter().map(|d| d.member).chain(mine).collect();
        all.push(me);
        all.sort_unstable();
        all.dedup();
        Some(all)
    }
}

/// `from`'s record of `m` as an update.
pub(super) fn record(from: NodeId, m: NodeId, e: Entry) -> Update {
    let (kind, from) = match e.state & VERDICT_MASK {
        ALIVE => (UpdateKind::Alive, from),
        SUSPECT => (UpdateKind::Suspect, from),
        DEAD => (UpdateKind::Dead, from),
        _ => (UpdateKind::Dead, m),
    };
    Update {
        kind,
        subject: m,
        incarnation: e.inc,
        from,
    }
}

/// A pseudo-random permutation of `0..n` chosen by `key`: a balanced
/// six-round Feistel network on the smallest even number of bits that
/// covers `n`, walking the cycle until it lands below `n` (at most four
/// steps on average). A round-robin pass visits `at(0), at(1), …` and so
/// every member exactly once, in an order that changes with each pass's
/// key, without a list of n members per member.
#[derive(Clone, Copy, Debug)]
pub(super) struct Permutation {
    n: u64,
    half: u32,
    key: u64,
}

impl Permutation {
    pub fn new(n: usize, key: u64) -> Self {
        let bits = (64 - (n.max(2) as u64 - 1).leading_zeros()).max(2);
        Permutation {
            n: n as u64,
            half: bits.div_ceil(2),
            key,
        }
    }

    pub fn at(&self, i: usize) -> NodeId {
        debug_assert!((i as u64) < self.n);
        let mut x = i as u64;
        loop {
            x = self.feistel(x);
            if x < self.n {
                return x as NodeId;
            }
        }
    }

    fn feistel(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half) - 1;
        let (mut l, mut r) = (x >> self.half, x & mask);
        for round in 0..6u64 {
            let f = mix(self.key ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ r) & mask;
            (l, r) = (r, l ^ f);
        }
        (l << self.half) | r
    }
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permutation_visits_every_member_once() {
        for n in 1..300usize {
            for key in [0u64, 1, 0xDEAD_BEEF, u64::MAX] {
                let p = Permutation::new(n, key);
                let mut seen = vec![false; n];
                for i in 0..n {
                    let m = p.at(i) as usize;
                    assert!(!seen[m], "n = {n}, key = {key}: {m} twice");
                    seen[m] = true;
                }
            }
        }
    }

    #[test]
    fn different_keys_give_different_orders() {
        let n = 50;
        let order = |key| {
            (0..n)
                .map(|i| Permutation::new(n, key).at(i))
                .collect::<Vec<_>>()
        };
        let first = order(1);
        let distinct = (2..40u64).filter(|&k| order(k) != first).count();
        assert_eq!(distinct, 38);
        // Each position takes many members over the keys (not a rotation
        // of one order).
        let at0: std::collections::BTreeSet<_> =
            (0..200u64).map(|k| Permutation::new(n, k).at(0)).collect();
        assert!(at0.len() > 35, "{} members first", at0.len());
    }

    /// Over many keys every member takes every place about equally often
    /// (the pass order is as good as a shuffle for when a member is
    /// probed), for a power of four and for a size that needs the walk.
    #[test]
    fn every_member_takes_every_place_about_equally_often() {
        for n in [16usize, 33] {
            let keys = 1000 * n as u64;
            let mut count = vec![0u32; n * n];
            for key in 0..keys {
                let p = Permutation::new(n, mix(key));
                for i in 0..n {
                    count[i * n + p.at(i) as usize] += 1;
                }
            }
            let (lo, hi) = (count.iter().min().unwrap(), count.iter().max().unwrap());
            eprintln!("n = {n}: each place-member pair {lo}..{hi} times, 1000 expected");
            assert!(*lo > 850 && *hi < 1150, "n = {n}: {lo}..{hi}");
        }
    }

    fn roster(n: usize, absent: &[usize]) -> Arc<Roster> {
        let mut a = vec![false; n];
        for &m in absent {
            a[m] = true;
        }
        Arc::new(Roster::new(a, vec![None; n]))
    }

    /// The stored view answers as a private array with every write applied
    /// would, through the switch to a private array.
    #[test]
    fn a_view_reads_back_what_was_written_as_an_array_would() {
        let n = 400;
        for base in [
            Base::Present(None),
            Base::Nobody,
            Base::Present(Some(roster(n, &[3, 7, 399]))),
        ] {
            let mut v = View::new(n, base.clone());
            let mut plain: Vec<Entry> = (0..n as NodeId).map(|m| base.entry(m)).collect();
            let mut z = 7u64;
            for step in 0..3000 {
                z = mix(z);
                let m = (z % n as u64) as NodeId;
                let e = Entry {
                    inc: (z >> 20) as u32 % 3,
                    state: [ALIVE, SUSPECT, DEAD, LEFT, LEFT | UNKNOWN][(z >> 40) as usize % 5],
                };
                v.set(m, e);
                plain[m as usize] = e;
                if step % 97 == 0 {
                    for k in 0..n as NodeId {
                        assert_eq!(v.get(k), plain[k as usize], "step {step} member {k}");
                    }
                    let s = v.snapshot(1);
                    let records: Vec<Update> = s.records().collect();
                    let expect: Vec<Update> = (0..n as NodeId)
                        .filter(|&k| known(plain[k as usize]))
                        .map(|k| record(1, k, plain[k as usize]))
                        .collect();
                    assert_eq!(records, expect);
                    assert_eq!(s.len(), expect.len());
                    let f = |inc: u32| 3 + inc % 5;
                    assert_eq!(
                        s.sum_incarnations(f),
                        expect.iter().map(|r| f(r.incarnation)).sum::<u32>()
                    );
                }
            }
            assert!(v.is_dense(), "3000 random writes make the view private");
        }
    }

    #[test]
    fn a_view_that_differs_little_stays_small() {
        let mut v = View::new(100_000, Base::Present(None));
        for m in 0..100 {
            v.set(
                m * 7,
                Entry {
                    inc: 1,
                    state: SUSPECT,
                },
            );
            v.set(m * 7 + 1, ALIVE_ENTRY); // as the base: not stored
        }
        assert!(!v.is_dense());
        assert_eq!(v.differing().unwrap().count(), 100);
        assert_eq!(v.snapshot(0).len(), 100_000);
    }
}
