//! Topologies: which pairs of nodes a direct link joins.
//!
//! A topology only decides *whether* two nodes are linked; the model of
//! each link (latency, loss) comes from `[network]`, `[[regions]]` and
//! `[[network.links]]`. Messages between nodes without a direct link are
//! relayed along the shortest path (see [`super::route`]).

use crate::sim::agent::NodeId;

/// The shape of the network. Every link it creates exists in both
/// directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Topology {
    /// Every node linked to every other (the default).
    #[default]
    Mesh,
    /// Exactly two nodes, linked to each other.
    Pair,
    /// Only links between the hub and each other node (the leaves).
    Star { hub: NodeId },
    /// Node i linked to nodes i − 1 and i + 1, in node order, wrapping
    /// around.
    Ring,
}

impl Topology {
    /// True when the topology links `from` directly to `to` in a network
    /// of `n` nodes.
    pub fn has_link(&self, from: NodeId, to: NodeId, n: usize) -> bool {
        if from == to {
            return false;
        }
        match *self {
            Topology::Mesh | Topology::Pair => true,
            Topology::Star { hub } => from == hub || to == hub,
            Topology::Ring => {
                let (a, b, n) = (from as usize, to as usize, n.max(1));
                (a + 1) % n == b || (b + 1) % n == a
            }
        }
    }

    /// The scenario-file name of the topology.
    pub fn name(&self) -> &'static str {
        match self {
            Topology::Mesh => "mesh",
            Topology::Pair => "pair",
            Topology::Star { .. } => "star",
            Topology::Ring => "ring",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(t: Topology, n: usize) -> Vec<(NodeId, NodeId)> {
        let n32 = n as NodeId;
        (0..n32)
            .flat_map(|a| (0..n32).map(move |b| (a, b)))
            .filter(|&(a, b)| t.has_link(a, b, n))
            .collect()
    }

    #[test]
    fn a_ring_links_neighbours_both_ways_and_wraps_around() {
        assert_eq!(
            links(Topology::Ring, 4),
            vec![
                (0, 1),
                (0, 3),
                (1, 0),
                (1, 2),
                (2, 1),
                (2, 3),
                (3, 0),
                (3, 2)
            ]
        );
    }

    #[test]
    fn a_star_links_the_hub_only() {
        assert_eq!(
            links(Topology::Star { hub: 1 }, 3),
            vec![(0, 1), (1, 0), (1, 2), (2, 1)]
        );
        assert_eq!(links(Topology::Mesh, 3).len(), 6);
    }
}
