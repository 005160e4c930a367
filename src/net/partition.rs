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

/// A partition active on `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    pub start: Nanos,
    pub end: Nanos,
    pub a: Vec<NodeId>,
    pub b: Vec<NodeId>,
    pub direction: Direction,
}

impl Partition {
    pub fn active_at(&self, t: Nanos) -> bool {
        self.start <= t && t < self.end
    }

    /// True when this partition drops a message from `from` to `to` at `t`.
    pub fn cuts(&self, from: NodeId, to: NodeId, t: Nanos) -> bool {
        if !self.active_at(t) {
            return false;
        }
        let a_to_b = self.a.contains(&from) && self.b.contains(&to);
        let b_to_a = self.b.contains(&from) && self.a.contains(&to);
        match self.direction {
            Direction::Both => a_to_b || b_to_a,
            Direction::AToB => a_to_b,
            Direction::BToA => b_to_a,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_way_partition_drops_one_direction_only() {
        let p = Partition {
            start: Nanos(10),
            end: Nanos(20),
            a: vec![0],
            b: vec![1],
            direction: Direction::AToB,
        };
        assert!(p.cuts(0, 1, Nanos(10)));
        assert!(!p.cuts(1, 0, Nanos(10)));
        assert!(!p.cuts(0, 1, Nanos(20)), "end is exclusive");
        assert!(!p.cuts(0, 1, Nanos(9)));
    }
}
