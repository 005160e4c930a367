//! Shortest-path routes for pairs of nodes without a direct link,
//! computed once when the network is built.
//!
//! A path's cost is the sum of its links' mean delays (in whole
//! nanoseconds). Among paths of equal cost the one with the fewest hops
//! wins, and among those the one that, hop after hop, goes to the node
//! that comes first in node order. Routes are static: spikes, loss and
//! partitions do not change them.

use super::{Latency, Link};
use crate::math;
use crate::sim::agent::NodeId;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::{EdgeRef, Reversed};
use std::ops::Range;

/// Precomputed routes, row-major by sender. Empty when every pair of
/// nodes has a direct link.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    /// Per (from, to): the hops of its route in `hops`; an empty range
    /// means no route (or a direct link, which is used instead).
    spans: Vec<(u32, u32)>,
    /// The links of every route, one after the other.
    hops: Vec<EdgeIndex>,
}

impl Routes {
    /// The routes of every pair of `graph` that `direct` (row-major
    /// `(from, to)` → edge) does not link directly.
    pub fn compute(graph: &DiGraph<String, Link>, direct: &[Option<EdgeIndex>]) -> Routes {
        let n = graph.node_count();
        let missing = |from: usize, to: usize| from != to && direct[from * n + to].is_none();
        if !(0..n).any(|f| (0..n).any(|t| missing(f, t))) {
            return Routes::default();
        }
        // Cost in units of 2^-32 ns plus one per hop: exact integer sums,
        // ties on delay broken by hop count, and every link costs > 0, so
        // walking down the distances can never loop.
        let cost: Vec<u128> = graph
            .edge_weights()
            .map(|l| (u128::from(route_delay(&l.model.latency)) << 32) + 1)
            .collect();
        let mut spans = vec![(0u32, 0u32); n * n];
        let mut hops = Vec::new();
        for to in 0..n {
            if !(0..n).any(|f| missing(f, to)) {
                continue;
            }
            let mut dist = vec![None; n];
            let scores = petgraph::algo::dijkstra(Reversed(graph), NodeIndex::new(to), None, |e| {
                cost[e.id().index()]
            });
            for (node, d) in scores {
                dist[node.index()] = Some(d);
            }
            for from in (0..n).filter(|&f| missing(f, to)) {
                let start = hops.len();
                if walk(graph, &cost, &dist, from, to, &mut hops) {
                    spans[from * n + to] = (start as u32, (hops.len() - start) as u32);
                } else {
                    hops.truncate(start);
                }
            }
        }
        Routes { spans, hops }
    }

    /// The links of the route from `from` to `to`, if one was computed.
    pub fn get(&self, from: NodeId, to: NodeId, n: usize) -> Option<Range<usize>> {
        let &(start, len) = self.spans.get(from as usize * n + to as usize)?;
        (len > 0).then(|| start as usize..(start + len) as usize)
    }

    /// The link at position `i` of the hop list.
    pub fn hop(&self, i: usize) -> EdgeIndex {
        self.hops[i]
    }
}

/// Follows the distances to `to` down from `from`, pushing each link
/// taken. At each node it takes, among the links on a shortest path, the
/// one to the node first in node order. False when `to` is unreachable.
fn walk(
    graph: &DiGraph<String, Link>,
    cost: &[u128],
    dist: &[Option<u128>],
    from: usize,
    to: usize,
    hops: &mut Vec<EdgeIndex>,
) -> bool {
    let mut at = NodeIndex::new(from);
    let Some(mut left) = dist[from] else {
        return false;
    };
    while at.index() != to {
        let on_shortest = |e: &petgraph::graph::EdgeReference<'_, Link>| {
            let rest = left.checked_sub(cost[e.id().index()]);
            rest.is_some() && dist[e.target().index()] == rest
        };
        let next = graph
            .edges(at)
            .filter(on_shortest)
            .min_by_key(|e| e.target().index());
        let Some(e) = next else {
            return false;
        };
        hops.push(e.id());
        left -= cost[e.id().index()];
        at = e.target();
    }
    true
}

/// The delay a link counts for in route costs, in whole nanoseconds: its
/// mean; for a normal whose truncation at zero matters, its `mean`
/// parameter (at least 0); for a Pareto without a finite mean (shape ≤
/// 1), its median.
pub fn route_delay(l: &Latency) -> u64 {
    let ns = match (l.mean(), l) {
        (Some(m), _) => m,
        (None, Latency::Normal { mean, .. }) => mean.max(0.0),
        (None, Latency::Pareto { scale, shape }) => scale * math::powf(2.0, 1.0 / shape),
        (None, _) => 0.0,
    };
    ns.round().min(u64::MAX as f64 / 4.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::Nanos;

    #[test]
    fn route_delays_use_the_mean_or_a_finite_stand_in() {
        let c = Latency::Constant {
            value: Nanos(1_500),
        };
        assert_eq!(route_delay(&c), 1_500);
        let heavy = Latency::Pareto {
            scale: 1_000.0,
            shape: 1.0,
        };
        assert_eq!(route_delay(&heavy), 2_000, "median of a mean-less Pareto");
        let wide = Latency::Normal {
            mean: 1_000.0,
            std: 5_000.0,
        };
        assert_eq!(route_delay(&wide), 1_000);
    }
}
