//! Partitions: timed cuts between two groups of nodes.

use crate::sim::agent::NodeId;
use crate::sim::time::Nanos;

/// Which directions a partition cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Neither side hears the other.
    Both,
    /// Messages from group `a` to group `b` are dropped; `b` to `a` pass.
    AToB,
    /// Messages from group `b` to group `a` are dropped; `a` to `b` pass.
    BToA,
}

/// A flapping partition: inside its window it alternates a cut period of
/// `down` with a healed period of `up`, starting cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flap {
    /// Length of each healed period (the link is up).
    pub up: Nanos,
    /// Length of each cut period (the link is down); positive.
    pub down: Nanos,
}

/// A partition active on `[start, end)`, throughout or, with `flap`, in
/// the cut periods of its flapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    pub start: Nanos,
    pub end: Nanos,
    pub a: Vec<NodeId>,
    pub b: Vec<NodeId>,
    pub direction: Direction,
    pub flap: Option<Flap>,
}

impl Partition {
    /// True when the partition cuts at `t`: inside `[start, end)` and, if
    /// it flaps, inside a cut period `[start + k·(up + down), start +
    /// k·(up + down) + down)`.
    pub fn active_at(&self, t: Nanos) -> bool {
        if !(self.start <= t && t < self.end) {
            return false;
        }
        match self.flap {
            None => true,
            Some(f) => {
                let period = f.up.0.saturating_add(f.down.0);
                (t.0 - self.start.0) % period < f.down.0
            }
        }
    }

    /// True when this partition drops a message from `from` to `to` at `t`.
    pub fn cuts(&self, from: NodeId, to: NodeId, t: Nanos) -> bool {
        self.active_at(t) && self.separates(from, to)
    }

    /// True when this partition, while active, drops messages from `from`
    /// to `to`.
    pub fn separates(&self, from: NodeId, to: NodeId) -> bool {
        let a_to_b = self.a.contains(&from) && self.b.contains(&to);
        let b_to_a = self.b.contains(&from) && self.a.contains(&to);
        match self.direction {
            Direction::Both => a_to_b || b_to_a,
            Direction::AToB => a_to_b,
            Direction::BToA => b_to_a,
        }
    }

    /// The windows `[start, end)` during which the partition is active,
    /// in time order, up to `until`: its whole window, or each cut period
    /// of its flapping, clipped to its `end`.
    pub fn cut_periods(&self, until: Nanos) -> impl Iterator<Item = (Nanos, Nanos)> + '_ {
        let end = self.end.min(until);
        let (period, down) = match self.flap {
            None => (None, self.end.0 - self.start.0),
            Some(f) => (Some(f.up.0.saturating_add(f.down.0)), f.down.0),
        };
        let next = move |s: &Nanos| period.and_then(|p| s.0.checked_add(p)).map(Nanos);
        std::iter::successors(Some(self.start), next)
            .take_while(move |&s| s < end)
            .map(move |s| (s, Nanos(s.0.saturating_add(down)).min(end)))
    }

    /// True when one of [`Partition::cut_periods`]`(until)` overlaps
    /// `[from, to)`, found in constant time: the first cut period ending
    /// after `from` is the only candidate.
    pub fn cuts_during(&self, from: Nanos, to: Nanos, until: Nanos) -> bool {
        let end = u128::from(self.end.min(until).0);
        let (from, to, start) = (
            u128::from(from.0),
            u128::from(to.0),
            u128::from(self.start.0),
        );
        if end <= from || start >= end || start >= to {
            return false;
        }
        let Some(f) = self.flap else {
            return true;
        };
        let period = u128::from(f.up.0.saturating_add(f.down.0));
        let down = u128::from(f.down.0);
        let k = if start + down > from {
            0
        } else {
            (from - start - down) / period + 1
        };
        let s = start + k * period;
        s < end && s < to
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn cuts_during_agrees_with_the_cut_periods() {
        let flaps = [None, Some((3, 2)), Some((1, 1)), Some((0, 5)), Some((7, 1))];
        for flap in flaps {
            let p = Partition {
                start: Nanos(5),
                end: Nanos(40),
                a: vec![0],
                b: vec![1],
                direction: Direction::Both,
                flap: flap.map(|(up, down)| Flap {
                    up: Nanos(up),
                    down: Nanos(down),
                }),
            };
            for until in [0, 20, 33, 50] {
                for from in 0..45 {
                    for to in from + 1..48 {
                        let want = p
                            .cut_periods(Nanos(until))
                            .any(|(s, e)| s < e && s.0 < to && e.0 > from);
                        let got = p.cuts_during(Nanos(from), Nanos(to), Nanos(until));
                        assert_eq!(got, want, "{flap:?} until {until} [{from}, {to})");
                    }
                }
            }
        }
    }
    use super::*;

    #[test]
    fn one_way_partition_drops_one_direction_only() {
        let p = Partition {
            start: Nanos(10),
            end: Nanos(20),
            a: vec![0],
            b: vec![1],
            direction: Direction::AToB,
            flap: None,
        };
        assert!(p.cuts(0, 1, Nanos(10)));
        assert!(!p.cuts(1, 0, Nanos(10)));
        assert!(!p.cuts(0, 1, Nanos(20)), "end is exclusive");
        assert!(!p.cuts(0, 1, Nanos(9)));
    }

    #[test]
    fn a_flapping_partition_cuts_in_its_down_periods_only_starting_cut() {
        let p = Partition {
            start: Nanos(100),
            end: Nanos(160),
            a: vec![0],
            b: vec![1],
            direction: Direction::Both,
            flap: Some(Flap {
                up: Nanos(20),
                down: Nanos(5),
            }),
        };
        // Cut on [100, 105), [125, 130), [150, 155); healed in between.
        let cut: Vec<u64> = (90..170).filter(|&t| p.cuts(0, 1, Nanos(t))).collect();
        let want: Vec<u64> = (100..105).chain(125..130).chain(150..155).collect();
        assert_eq!(cut, want);
        assert!(p.cuts(1, 0, Nanos(126)));
        let periods: Vec<(u64, u64)> = p.cut_periods(Nanos(152)).map(|(s, e)| (s.0, e.0)).collect();
        assert_eq!(periods, vec![(100, 105), (125, 130), (150, 152)]);
        assert_eq!(p.cut_periods(Nanos(1000)).count(), 3);
        let whole = Partition { flap: None, ..p };
        let periods: Vec<(u64, u64)> = whole
            .cut_periods(Nanos(1000))
            .map(|(s, e)| (s.0, e.0))
            .collect();
        assert_eq!(periods, vec![(100, 160)]);
    }
}
