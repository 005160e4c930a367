//! The network: nodes and directed links on a petgraph graph, with
//! per-link latency and loss, and timed partitions.

pub mod latency;
pub mod partition;

pub use latency::Latency;
pub use partition::{Direction, Partition};

use crate::sim::agent::NodeId;
use crate::sim::rng::Stream;
use crate::sim::time::Nanos;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

/// How one directed link behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkModel {
    pub latency: Latency,
    /// Independent probability that a message is lost.
    pub loss: f64,
}

/// A directed link: its model and its own random stream.
#[derive(Clone, Debug)]
pub struct Link {
    pub model: LinkModel,
    rng: Stream,
}

/// What happened to a message handed to the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// It will arrive at this true time.
    Deliver(Nanos),
    /// The link lost it.
    Lost,
    /// An active partition dropped it.
    Cut,
    /// There is no link from sender to receiver.
    NoRoute,
}

/// The simulated network.
#[derive(Clone, Debug)]
pub struct Network {
    graph: DiGraph<String, Link>,
    /// Dense lookup from (from, to) to the edge, row-major by `from`.
    edges: Vec<Option<EdgeIndex>>,
    partitions: Vec<Partition>,
}

impl Network {
    /// A network of `names.len()` nodes and no links yet.
    pub fn new(names: &[String]) -> Network {
        let mut graph = DiGraph::new();
        for name in names {
            graph.add_node(name.clone());
        }
        let n = names.len();
        Network {
            graph,
            edges: vec![None; n * n],
            partitions: Vec::new(),
        }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn name(&self, node: NodeId) -> &str {
        &self.graph[NodeIndex::new(node as usize)]
    }

    /// Adds (or replaces) the link `from -> to`. Its random stream is
    /// derived from `seed` and the link's endpoint names.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, model: LinkModel, seed: u64) {
        let label = format!("link:{}->{}", self.name(from), self.name(to));
        let link = Link {
            model,
            rng: Stream::new(seed, &label),
        };
        let idx = self.index(from, to);
        match self.edges[idx] {
            Some(e) => self.graph[e] = link,
            None => {
                let e = self.graph.add_edge(
                    NodeIndex::new(from as usize),
                    NodeIndex::new(to as usize),
                    link,
                );
                self.edges[idx] = Some(e);
            }
        }
    }

    pub fn link(&self, from: NodeId, to: NodeId) -> Option<&Link> {
        self.edges[self.index(from, to)].map(|e| &self.graph[e])
    }

    pub fn add_partition(&mut self, p: Partition) {
        self.partitions.push(p);
    }

    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// True when some active partition drops `from -> to` at `t`.
    pub fn is_cut(&self, from: NodeId, to: NodeId, t: Nanos) -> bool {
        self.partitions.iter().any(|p| p.cuts(from, to, t))
    }

    /// Hands a message to the network at true time `now`. Every call on a
    /// link draws latency and then loss from that link's stream, so the
    /// latency draws do not depend on the loss probability.
    pub fn transmit(&mut self, from: NodeId, to: NodeId, now: Nanos) -> Transmit {
        if self.is_cut(from, to, now) {
            return Transmit::Cut;
        }
        let Some(e) = self.edges[self.index(from, to)] else {
            return Transmit::NoRoute;
        };
        let link = &mut self.graph[e];
        let delay = link.model.latency.sample(&mut link.rng);
        if link.rng.bernoulli(link.model.loss) {
            return Transmit::Lost;
        }
        Transmit::Deliver(now + delay)
    }

    fn index(&self, from: NodeId, to: NodeId) -> usize {
        from as usize * self.graph.node_count() + to as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> Network {
        let mut net = Network::new(&["a".into(), "b".into()]);
        let model = LinkModel {
            latency: Latency::Constant {
                value: Nanos::from_millis(5),
            },
            loss: 0.0,
        };
        net.set_link(0, 1, model, 1);
        net
    }

    #[test]
    fn delivers_after_the_link_latency() {
        let mut net = pair();
        assert_eq!(
            net.transmit(0, 1, Nanos(100)),
            Transmit::Deliver(Nanos(5_000_100))
        );
        assert_eq!(net.transmit(1, 0, Nanos(100)), Transmit::NoRoute);
    }

    #[test]
    fn active_partition_cuts_the_link() {
        let mut net = pair();
        net.add_partition(Partition {
            start: Nanos(0),
            end: Nanos(50),
            a: vec![0],
            b: vec![1],
            direction: Direction::Both,
        });
        assert_eq!(net.transmit(0, 1, Nanos(10)), Transmit::Cut);
        assert!(matches!(
            net.transmit(0, 1, Nanos(50)),
            Transmit::Deliver(_)
        ));
    }

    #[test]
    fn loss_probability_one_loses_everything() {
        let mut net = pair();
        net.set_link(
            0,
            1,
            LinkModel {
                latency: Latency::Constant { value: Nanos(1) },
                loss: 1.0,
            },
            1,
        );
        assert_eq!(net.transmit(0, 1, Nanos(0)), Transmit::Lost);
    }
}
