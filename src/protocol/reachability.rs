//! Multi-observer detection: how many observers' opinions make a member
//! unreachable. Two rules, as pure functions over the observers' verdicts:
//!
//! - **Akka's reachability.** Each member is watched by its
//!   `monitored-by-nr-of-members` ring successors (9 by default, Akka
//!   2.6+ `akka.cluster.failure-detector.monitored-by-nr-of-members` in
//!   `akka-cluster/src/main/resources/reference.conf`; 5 before 2.6). It
//!   is *unreachable* as soon as one observer records it so, and
//!   *reachable* again only when every observer that recorded it
//!   unreachable records it reachable again. Observations of observers that
//!   are themselves down are dropped.
//! - **Rapid's cut detection** (Suresh et al., "Stable and Consistent
//!   Membership at Scale with Rapid", USENIX ATC 2018). Each member is
//!   watched by `K` observers, its successors on `K` pseudo-random rings.
//!   An observer's alert about a subject counts once per ring. A subject
//!   with at least `H` alerts is in *stable report mode*; one with at
//!   least `L` but fewer than `H` is *unstable*; fewer than `L` is noise.
//!   A cut (view-change proposal) is emitted only when at least one subject
//!   is stable and none is unstable. To avoid waiting for alerts that will
//!   never come, an observer of an unstable subject that is itself stable
//!   or unstable counts as an implicit alert. The paper's values are
//!   `K = 10`, `H = 9`, `L = 4`.
//!
//! Members are node ids `0..n`; rings are indexed `0..K`.

use crate::sim::agent::NodeId;
use std::collections::BTreeMap;

/// Akka's default `monitored-by-nr-of-members`.
pub const AKKA_MONITORED_BY: u32 = 9;
/// Rapid's paper values.
pub const RAPID_K: u32 = 10;
pub const RAPID_H: u32 = 9;
pub const RAPID_L: u32 = 4;

/// Akka's observers of `subject` in a ring of `n` members in id order:
/// its `k` successors (capped at `n − 1`).
pub fn ring_observers(subject: NodeId, n: u32, k: u32) -> impl Iterator<Item = NodeId> {
    (1..=k.min(n.saturating_sub(1))).map(move |d| (subject + d) % n)
}

/// Akka's aggregate: `subject` is unreachable when some live observer
/// holds it unreachable. `unreachable(o)` is observer `o`'s record and
/// `live(o)` whether its observations still count.
pub fn akka_unreachable(
    observers: impl IntoIterator<Item = NodeId>,
    mut unreachable: impl FnMut(NodeId) -> bool,
    mut live: impl FnMut(NodeId) -> bool,
) -> bool {
    observers.into_iter().any(|o| live(o) && unreachable(o))
}

/// A 64-bit mixer (SplitMix64's finaliser): places members on Rapid's
/// rings, the same on every platform.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Rapid's `K` rings over `n` members: for each ring, the members in ring
/// order (sorted by a hash of id and ring, `seed` mixed in).
pub fn rapid_rings(n: u32, k: u32, seed: u64) -> Vec<Vec<NodeId>> {
    (0..k)
        .map(|r| {
            let mut ring: Vec<NodeId> = (0..n).collect();
            let key = |m: NodeId| mix(seed ^ mix((u64::from(r) << 32) | u64::from(m)));
            ring.sort_by_key(|&m| (key(m), m));
            ring
        })
        .collect()
}

/// The observer of `subject` on each ring: its successor there. With
/// few members one observer can sit on several rings; each ring counts.
pub fn rapid_observers(rings: &[Vec<NodeId>], subject: NodeId) -> Vec<NodeId> {
    rings
        .iter()
        .map(|ring| {
            let i = ring.iter().position(|&m| m == subject).expect("member");
            ring[(i + 1) % ring.len()]
        })
        .collect()
}

/// A subject's mode in Rapid's cut detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Fewer than `L` alerts.
    Noise,
    /// At least `L`, fewer than `H`: the cut waits for it.
    Unstable,
    /// At least `H`: ready to be in the cut.
    Stable,
}

/// Rapid's multi-node cut detector: alerts per subject per ring.
#[derive(Clone, Debug)]
pub struct CutDetector {
    pub k: u32,
    pub h: u32,
    pub l: u32,
    /// Per subject, one bit per ring that alerted.
    alerts: BTreeMap<NodeId, u64>,
}

impl CutDetector {
    /// `1 ≤ l ≤ h ≤ k ≤ 64` (validation ensures it).
    pub fn new(k: u32, h: u32, l: u32) -> CutDetector {
        debug_assert!(1 <= l && l <= h && h <= k && k <= 64);
        CutDetector {
            k,
            h,
            l,
            alerts: BTreeMap::new(),
        }
    }

    /// The observer on `ring` alerts about `subject` (a repeat counts once).
    pub fn alert(&mut self, subject: NodeId, ring: u32) {
        *self.alerts.entry(subject).or_default() |= 1 << ring;
    }

    /// Alerts counted for `subject`.
    pub fn count(&self, subject: NodeId) -> u32 {
        self.alerts.get(&subject).map_or(0, |b| b.count_ones())
    }

    /// The mode of `subject`.
    pub fn mode(&self, subject: NodeId) -> Mode {
        let c = self.count(subject);
        if c >= self.h {
            Mode::Stable
        } else if c >= self.l {
            Mode::Unstable
        } else {
            Mode::Noise
        }
    }

    /// Counts implicit alerts: for every unstable subject, the ring whose
    /// observer is itself stable or unstable alerts for it. Repeats until
    /// nothing changes. `observers(s)` lists `s`'s observer per ring.
    pub fn add_implicit_alerts(&mut self, observers: impl Fn(NodeId) -> Vec<NodeId>) {
        loop {
            let mut added = false;
            let reported: Vec<NodeId> = self.alerts.keys().copied().collect();
            for &s in &reported {
                if self.mode(s) != Mode::Unstable {
                    continue;
                }
                for (ring, o) in observers(s).into_iter().enumerate() {
                    let bit = 1u64 << ring;
                    let faulty = self.mode(o) != Mode::Noise;
                    if faulty && self.alerts[&s] & bit == 0 {
                        *self.alerts.get_mut(&s).expect("reported") |= bit;
                        added = true;
                    }
                }
            }
            if !added {
                return;
            }
        }
    }

    /// The cut, if one is ready: every stable subject, in id order, when
    /// at least one is stable and none is unstable.
    pub fn proposal(&self) -> Option<Vec<NodeId>> {
        let modes = || self.alerts.keys().map(|&s| (s, self.mode(s)));
        if modes().any(|(_, m)| m == Mode::Unstable) {
            return None;
        }
        let cut: Vec<NodeId> = modes()
            .filter(|&(_, m)| m == Mode::Stable)
            .map(|(s, _)| s)
            .collect();
        (!cut.is_empty()).then_some(cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper() -> CutDetector {
        CutDetector::new(RAPID_K, RAPID_H, RAPID_L)
    }

    fn alerts(cd: &mut CutDetector, subject: NodeId, rings: std::ops::Range<u32>) {
        for r in rings {
            cd.alert(subject, r);
        }
    }

    #[test]
    fn akka_observers_are_the_ring_successors() {
        let obs: Vec<_> = ring_observers(8, 10, AKKA_MONITORED_BY).collect();
        assert_eq!(obs, [9, 0, 1, 2, 3, 4, 5, 6, 7]);
        // Fewer members than the setting: everyone else watches.
        let small: Vec<_> = ring_observers(1, 4, AKKA_MONITORED_BY).collect();
        assert_eq!(small, [2, 3, 0]);
    }

    #[test]
    fn akka_needs_one_observer_to_make_a_member_unreachable_and_all_to_make_it_reachable() {
        let obs = || ring_observers(0, 10, 9);
        // Only observer 5 holds 0 unreachable: that is enough.
        assert!(akka_unreachable(obs(), |o| o == 5, |_| true));
        // Nobody does: reachable.
        assert!(!akka_unreachable(obs(), |_| false, |_| true));
        // Observer 5's record no longer counts once 5 is down.
        assert!(!akka_unreachable(obs(), |o| o == 5, |o| o != 5));
        // A member that is no observer of 0 has no say.
        assert!(!akka_unreachable(
            ring_observers(0, 10, 3),
            |o| o == 5,
            |_| true
        ));
    }

    #[test]
    fn rapid_rings_hold_every_member_once_and_differ_from_each_other() {
        let rings = rapid_rings(12, RAPID_K, 7);
        assert_eq!(rings.len(), 10);
        for ring in &rings {
            let mut sorted = ring.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..12).collect::<Vec<_>>());
        }
        assert!(rings.windows(2).any(|w| w[0] != w[1]));
        for s in 0..12 {
            assert!(rapid_observers(&rings, s).iter().all(|&o| o != s));
        }
        // Deterministic: the same seed, the same rings.
        assert_eq!(rings, rapid_rings(12, RAPID_K, 7));
    }

    #[test]
    fn a_subject_with_h_alerts_alone_is_a_cut() {
        let mut cd = paper();
        alerts(&mut cd, 3, 0..8);
        assert_eq!(cd.mode(3), Mode::Unstable);
        assert_eq!(cd.proposal(), None);
        cd.alert(3, 8);
        assert_eq!(cd.mode(3), Mode::Stable);
        assert_eq!(cd.proposal(), Some(vec![3]));
    }

    #[test]
    fn an_unstable_subject_holds_back_the_cut_until_it_is_stable() {
        // A at 9 alerts, B at 5 (between L = 4 and H = 9): wait.
        let mut cd = paper();
        alerts(&mut cd, 1, 0..9);
        alerts(&mut cd, 2, 0..5);
        assert_eq!(cd.proposal(), None);
        // B reaches 9: both go in one cut.
        alerts(&mut cd, 2, 5..9);
        assert_eq!(cd.proposal(), Some(vec![1, 2]));
    }

    #[test]
    fn fewer_than_l_alerts_are_noise_and_do_not_block() {
        // A one-way cut seen by 3 observers of C only.
        let mut cd = paper();
        alerts(&mut cd, 1, 0..10);
        alerts(&mut cd, 5, 0..3);
        assert_eq!(cd.mode(5), Mode::Noise);
        assert_eq!(cd.proposal(), Some(vec![1]));
        // One more alert makes C unstable: now the cut waits.
        cd.alert(5, 3);
        assert_eq!(cd.proposal(), None);
    }

    #[test]
    fn observers_in_the_cut_alert_implicitly_for_their_unstable_subjects() {
        // B (7) has 7 alerts; its observers on rings 7 and 8 are A (1),
        // which is stable (it crashed with B and cannot alert). Implicit
        // alerts lift B to 9: the cut is {A, B}.
        let mut cd = paper();
        alerts(&mut cd, 1, 0..10);
        alerts(&mut cd, 7, 0..7);
        let observers = |s: NodeId| -> Vec<NodeId> {
            if s == 7 {
                vec![2, 3, 4, 5, 6, 8, 9, 1, 1, 10]
            } else {
                vec![0; 10]
            }
        };
        assert_eq!(cd.proposal(), None);
        cd.add_implicit_alerts(observers);
        assert_eq!(cd.count(7), 9);
        assert_eq!(cd.proposal(), Some(vec![1, 7]));
    }

    #[test]
    fn implicit_alerts_from_healthy_observers_are_not_invented() {
        let mut cd = paper();
        alerts(&mut cd, 7, 0..5);
        cd.add_implicit_alerts(|_| (10..20).collect());
        assert_eq!(cd.count(7), 5);
        assert_eq!(cd.proposal(), None);
    }
}
