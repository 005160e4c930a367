//! Attribution: which fault windows each false suspicion overlaps.
//!
//! A mistake is blamed on the windows of injected trouble (a partition, a
//! pause, a slow node, a latency spike, a loss burst) that overlap its
//! *span*: from the true send time of the newest heartbeat the monitor had
//! received when it began to suspect, to the end of the mistake. The span
//! starts at that send time rather than at the suspect transition because
//! the trouble that makes a silence comes before the timeout runs out: the
//! heartbeats whose absence the detector notices were sent after the
//! newest one received, possibly into a loss burst that was over by the
//! time the monitor suspected.
//!
//! The windows of a pair are those of what its heartbeats go through
//! (built in [`crate::run::pair_windows`]): every direction they travel
//! (target → monitor; in pull style also the pings, monitor → target),
//! every link of the route each direction takes, both nodes' pauses, and
//! the slowness of the node whose timer paces them (the target in push,
//! the monitor in pull). A send stamp is read through the clock of the
//! node that wrote it, the same pacing node.
//!
//! Counting rule: each mistake counts once, under the first cause in
//! [`Cause::ALL`] order whose windows overlap its span, or under *none*;
//! so the per-cause counts and *none* add up to the mistakes. Mistakes
//! that overlapped windows of two or more causes are counted again in
//! [`MistakeCauses::multiple`], so the reader knows how much the order
//! decided. Clock error is not a window: its mistakes count as *none*.
//!
//! Cost: the windows of a pair are few and sorted, and each threshold's
//! mistakes come in time order, so a cursor per threshold and cause makes
//! labelling a mistake O(1) amortized; nothing is done per arrival but
//! keeping the newest send stamp.

use crate::net::Partition;
use crate::sim::clock::Clock;
use crate::sim::time::Nanos;

/// A kind of fault window, in priority order: scheduled faults that
/// silence the target completely first, then partial ones, then random
/// loss bursts, which coincide with everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// A partition cutting a direction the pair's messages travel
    /// (each cut period of a flapping one).
    Partition,
    /// A stop-the-world pause of the target or of the monitor.
    Pause,
    /// A slow-node window of the node whose timer paces the heartbeats.
    Slow,
    /// A latency spike on a link the pair's messages cross.
    LatencySpike,
    /// A Gilbert–Elliott bad-state period of a link the pair's messages
    /// cross.
    LossBurst,
}

impl Cause {
    /// Every cause, in priority order (the order of the CSV columns).
    pub const ALL: [Cause; 5] = [
        Cause::Partition,
        Cause::Pause,
        Cause::Slow,
        Cause::LatencySpike,
        Cause::LossBurst,
    ];

    /// The label used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Partition => "partition",
            Cause::Pause => "pause",
            Cause::Slow => "slow",
            Cause::LatencySpike => "latency-spike",
            Cause::LossBurst => "loss-burst",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// This cause's bit in a mask of causes.
    pub fn bit(self) -> u8 {
        1 << self.index()
    }
}

/// Mistakes broken down by cause (see the module documentation for the
/// rule).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MistakeCauses {
    /// Per cause, in [`Cause::ALL`] order: mistakes whose first
    /// overlapping cause is that one.
    pub by_cause: [u64; 5],
    /// Mistakes overlapping no window.
    pub none: u64,
    /// Mistakes overlapping windows of two or more causes (each also
    /// counted once in `by_cause`).
    pub multiple: u64,
}

impl MistakeCauses {
    pub fn get(&self, cause: Cause) -> u64 {
        self.by_cause[cause.index()]
    }

    /// Every mistake counted: the per-cause counts plus `none`.
    pub fn total(&self) -> u64 {
        self.by_cause.iter().sum::<u64>() + self.none
    }

    /// Counts one mistake whose span overlapped the causes in `mask`
    /// (bit i = `Cause::ALL[i]`).
    pub(crate) fn record(&mut self, mask: u8) {
        if mask == 0 {
            self.none += 1;
            return;
        }
        self.by_cause[mask.trailing_zeros() as usize] += 1;
        if mask.count_ones() > 1 {
            self.multiple += 1;
        }
    }

    pub fn merge(&mut self, other: &MistakeCauses) {
        for (a, b) in self.by_cause.iter_mut().zip(other.by_cause) {
            *a += b;
        }
        self.none += other.none;
        self.multiple += other.multiple;
    }
}

/// Where one labeller stands in each cause's list of windows.
pub type Cursor = [u32; 5];

/// The fault windows of one monitored pair, per cause: sorted, disjoint,
/// half-open `[start, end)` intervals of true time (overlapping windows
/// of one cause are merged). Also the clock of the node that stamps the
/// heartbeats' send times (the target in push style, the monitor in
/// pull), which puts true times on those stamps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultWindows {
    lists: [Vec<(Nanos, Nanos)>; 5],
    stamp_clock: Clock,
}

impl FaultWindows {
    /// No windows: every mistake counts as *none*.
    pub const NONE: FaultWindows = FaultWindows {
        lists: [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()],
        stamp_clock: Clock {
            offset: Nanos(0),
            drift_ppm: 0.0,
        },
    };

    /// The windows `(cause, start, end)`, in any order, of a pair whose
    /// send stamps are on `stamp_clock`; empty windows are dropped,
    /// overlapping or touching ones of a cause merged.
    pub fn new(
        stamp_clock: Clock,
        windows: impl IntoIterator<Item = (Cause, Nanos, Nanos)>,
    ) -> FaultWindows {
        let mut lists: [Vec<(Nanos, Nanos)>; 5] = Default::default();
        for (cause, start, end) in windows {
            if start < end {
                lists[cause.index()].push((start, end));
            }
        }
        for list in &mut lists {
            list.sort_unstable();
            let mut merged: Vec<(Nanos, Nanos)> = Vec::with_capacity(list.len());
            for &(s, e) in list.iter() {
                match merged.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            *list = merged;
        }
        FaultWindows { lists, stamp_clock }
    }

    /// The merged windows of one cause, in time order.
    pub fn windows(&self, cause: Cause) -> &[(Nanos, Nanos)] {
        &self.lists[cause.index()]
    }

    pub fn is_empty(&self) -> bool {
        self.lists.iter().all(Vec::is_empty)
    }

    /// The causes whose windows overlap `[from, to)`, as a bit mask.
    /// Successive calls with the same `cursor` must not decrease `from`.
    fn overlapping(&self, cursor: &mut Cursor, from: Nanos, to: Nanos) -> u8 {
        let to = to.max(Nanos(from.0.saturating_add(1)));
        let mut mask = 0u8;
        for (i, list) in self.lists.iter().enumerate() {
            let mut k = cursor[i] as usize;
            while k < list.len() && list[k].1 <= from {
                k += 1;
            }
            cursor[i] = k as u32;
            if k < list.len() && list[k].0 < to {
                mask |= 1 << i;
            }
        }
        mask
    }
}

/// What the scorer asks of a pair's fault windows: whether it has any to
/// blame mistakes on, the true time of a send stamp, and which causes'
/// windows overlap a mistake's span.
pub trait Windows {
    /// False when no window can ever open for the pair (mistakes then
    /// count as *none* without a span being computed).
    fn has_any(&self) -> bool;
    /// The true time at which the stamping node's clock read `local`.
    fn sent_true(&self, local: Nanos) -> Nanos;
    /// The causes whose windows overlap the span `[from, to)` (at least
    /// one nanosecond long), as a bit mask (bit i = `Cause::ALL[i]`).
    /// Successive calls with the same `cursor` must not decrease `from`.
    fn mask(&self, cursor: &mut Cursor, from: Nanos, to: Nanos) -> u8;
}

impl Windows for FaultWindows {
    fn has_any(&self) -> bool {
        !self.is_empty()
    }

    fn sent_true(&self, local: Nanos) -> Nanos {
        self.stamp_clock.true_time(local)
    }

    fn mask(&self, cursor: &mut Cursor, from: Nanos, to: Nanos) -> u8 {
        if self.is_empty() {
            0
        } else {
            self.overlapping(cursor, from, to)
        }
    }
}

/// The fault windows of one pair while its run goes on, without keeping
/// any in proportion to the horizon: partitions are asked directly
/// whether a cut period overlaps a span; slow windows and spikes are the
/// scenario's own (few) windows; pauses and loss bursts are recorded as
/// the engine reports them ([`LiveWindows::record`]), with the loss burst
/// in progress on each crossed link ([`LiveWindows::set_open`]), and
/// dropped ([`LiveWindows::prune`]) once no mistake can still reach them.
/// The masks are exactly those [`FaultWindows`] gives on the whole run:
/// a mistake's span ends by the time it is labelled, and every window
/// starting before then has been recorded by then.
#[derive(Clone, Debug)]
pub struct LiveWindows {
    stamp_clock: Clock,
    any: bool,
    /// The partitions cutting a direction the pair's messages travel, and
    /// the end of the run, which clips their cut periods.
    partitions: Vec<Partition>,
    until: Nanos,
    /// Windows known up front (slow windows, spikes), never dropped.
    fixed: Vec<(u8, Nanos, Nanos)>,
    /// Windows reported during the run (pauses, finished loss bursts).
    recorded: Vec<(u8, Nanos, Nanos)>,
    /// Per watched link: the loss burst in progress, if any.
    open: Vec<Option<(Nanos, Nanos)>>,
}

impl LiveWindows {
    /// The windows of a pair whose send stamps are on `stamp_clock`:
    /// `partitions` cutting it (clipped to `until`), `fixed` windows known
    /// up front, and `links` crossed links whose loss bursts will be
    /// reported. `any` says whether any window can open at all (as
    /// [`FaultWindows::is_empty`] would on the whole run's windows, up to
    /// windows that never open).
    pub fn new(
        stamp_clock: Clock,
        partitions: Vec<Partition>,
        until: Nanos,
        fixed: impl IntoIterator<Item = (Cause, Nanos, Nanos)>,
        links: usize,
        any: bool,
    ) -> LiveWindows {
        LiveWindows {
            stamp_clock,
            any,
            partitions,
            until,
            fixed: (fixed.into_iter())
                .filter(|w| w.1 < w.2)
                .map(|(c, s, e)| (c.bit(), s, e))
                .collect(),
            recorded: Vec::new(),
            open: vec![None; links],
        }
    }

    /// A window the run reported (a pause that took effect, a loss burst
    /// that ended); empty ones are ignored.
    pub fn record(&mut self, cause: Cause, start: Nanos, end: Nanos) {
        if start < end {
            self.recorded.push((cause.bit(), start, end));
        }
    }

    /// The loss burst in progress on the `j`-th crossed link, as far as
    /// the run has gone.
    pub fn set_open(&mut self, j: usize, burst: Option<(Nanos, Nanos)>) {
        self.open[j] = burst;
    }

    /// Drops the recorded windows that end by `horizon` (see
    /// [`crate::metrics::DetectorScorer::horizon`]), handing each
    /// `(mask, end)` to `carry` first so open mistakes keep their causes.
    pub fn prune(&mut self, horizon: Nanos, mut carry: impl FnMut(u8, Nanos)) {
        self.recorded.retain(|&(bit, _, end)| {
            let keep = end > horizon;
            if !keep {
                carry(bit, end);
            }
            keep
        });
    }

    /// Windows held (recorded and in progress), for checks that the store
    /// stays bounded.
    pub fn held(&self) -> usize {
        self.recorded.len() + self.open.iter().flatten().count()
    }
}

impl Windows for LiveWindows {
    fn has_any(&self) -> bool {
        self.any
    }

    fn sent_true(&self, local: Nanos) -> Nanos {
        self.stamp_clock.true_time(local)
    }

    /// Nothing to overlap is answered inline (most runs, at every
    /// mistake); the overlaps are found out of line.
    #[inline]
    fn mask(&self, _: &mut Cursor, from: Nanos, to: Nanos) -> u8 {
        if self.partitions.is_empty()
            && self.fixed.is_empty()
            && self.recorded.is_empty()
            && self.open.iter().all(Option::is_none)
        {
            return 0;
        }
        self.overlaps(from, to)
    }
}

impl LiveWindows {
    #[inline(never)]
    fn overlaps(&self, from: Nanos, to: Nanos) -> u8 {
        let to = to.max(Nanos(from.0.saturating_add(1)));
        let hit = |&(_, s, e): &(u8, Nanos, Nanos)| s < to && e > from;
        let mut mask = 0u8;
        if (self.partitions.iter()).any(|p| p.cuts_during(from, to, self.until)) {
            mask |= Cause::Partition.bit();
        }
        for w in self.fixed.iter().chain(&self.recorded).filter(|w| hit(w)) {
            mask |= w.0;
        }
        if (self.open.iter().flatten()).any(|&(s, e)| hit(&(0, s, e))) {
            mask |= Cause::LossBurst.bit();
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Nanos {
        Nanos::from_millis(v)
    }

    #[test]
    fn windows_of_a_cause_are_sorted_and_merged() {
        let w = FaultWindows::new(
            Clock::default(),
            [
                (Cause::Pause, ms(50), ms(60)),
                (Cause::Pause, ms(10), ms(20)),
                (Cause::Pause, ms(15), ms(30)),
                (Cause::Pause, ms(30), ms(40)),
                (Cause::Slow, ms(5), ms(5)),
            ],
        );
        assert_eq!(
            w.windows(Cause::Pause),
            &[(ms(10), ms(40)), (ms(50), ms(60))]
        );
        assert!(w.windows(Cause::Slow).is_empty());
    }

    #[test]
    fn a_mistake_counts_once_under_its_first_cause_and_once_more_if_several() {
        let w = FaultWindows::new(
            Clock::default(),
            [
                (Cause::LossBurst, ms(0), ms(100)),
                (Cause::Partition, ms(90), ms(200)),
            ],
        );
        let mut c = MistakeCauses::default();
        let mut cur = Cursor::default();
        c.record(w.mask(&mut cur, ms(10), ms(50))); // burst only
        c.record(w.mask(&mut cur, ms(80), ms(95))); // both: partition first
        c.record(w.mask(&mut cur, ms(150), ms(160))); // partition
        c.record(w.mask(&mut cur, ms(200), ms(300))); // ends are exclusive
        assert_eq!(c.get(Cause::LossBurst), 1);
        assert_eq!(c.get(Cause::Partition), 2);
        assert_eq!((c.none, c.multiple, c.total()), (1, 1, 4));
    }
}
