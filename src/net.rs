//! The network: nodes and directed links on a petgraph graph, with
//! per-link latency, loss (independent or bursty), duplication and
//! latency spikes, and timed (possibly flapping) partitions. Pairs of
//! nodes without a direct link talk over shortest-path routes.

pub mod latency;
pub mod loss;
pub mod partition;
pub mod route;
pub mod spike;
pub mod topology;

pub use latency::Latency;
pub use loss::{BadPeriods, GilbertElliott, Loss};
pub use partition::{Direction, Flap, Partition};
pub use spike::{Spike, SpikeChange};
pub use topology::Topology;

use crate::sim::agent::NodeId;
use crate::sim::rng::Stream;
use crate::sim::time::Nanos;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

/// Senders over the default link from which [`Network::prefetch_sender`]
/// hints anything.
const PREFETCH_FROM_SENDERS: usize = 256;

/// How one directed link behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkModel {
    pub latency: Latency,
    /// How messages are lost.
    pub loss: Loss,
    /// Probability that a message the link does not lose is delivered
    /// twice, the copy with its own delay.
    pub duplicate: f64,
    /// Windows that change the delay of messages sent inside them, in
    /// scenario order.
    pub spikes: Vec<Spike>,
}

impl LinkModel {
    /// A link with this latency and independent loss `loss`, without
    /// duplication or spikes.
    pub fn new(latency: Latency, loss: f64) -> LinkModel {
        LinkModel {
            latency,
            loss: Loss::Independent(loss),
            duplicate: 0.0,
            spikes: Vec::new(),
        }
    }
}

/// A directed link: its model, its own random stream and, for
/// Gilbert–Elliott loss, its state.
#[derive(Clone, Debug)]
pub struct Link {
    pub model: LinkModel,
    rng: Stream,
    /// In the bad state of a Gilbert–Elliott chain.
    bad: bool,
    /// When messages found the chain bad (for attributing mistakes).
    bad_periods: BadPeriods,
}

impl Link {
    /// The periods during which messages found this link's
    /// Gilbert–Elliott chain bad, in time order (none for independent
    /// loss); see [`BadPeriods`].
    pub fn bad_periods(&self) -> impl Iterator<Item = (Nanos, Nanos)> + '_ {
        self.bad_periods.periods()
    }

    /// The record of this link's bad periods, to take finished ones from.
    pub fn bad_periods_mut(&mut self) -> &mut BadPeriods {
        &mut self.bad_periods
    }
}

impl Link {
    /// Draws the fate of a message entering the link at `now`: its delay
    /// (from the distribution in force at `now`), whether it is lost and,
    /// if `may_duplicate` and not lost, whether it is duplicated and the
    /// copy's delay.
    #[inline]
    fn carry(&mut self, now: Nanos, may_duplicate: bool) -> Transmit {
        let Link {
            model,
            rng,
            bad,
            bad_periods,
        } = self;
        let fate = draw(model, rng, bad, now, may_duplicate);
        bad_periods.note(*bad, now);
        fate
    }
}

/// The fate of one message entering a link of `model` at `now`, drawn from
/// `rng` with the Gilbert–Elliott state `bad`: its delay (from the
/// distribution in force at `now`), whether it is lost and, if
/// `may_duplicate` and not lost, whether it is duplicated and the copy's
/// delay.
#[inline]
fn draw(
    model: &LinkModel,
    rng: &mut Stream,
    bad: &mut bool,
    now: Nanos,
    may_duplicate: bool,
) -> Transmit {
    let (dist, add) = spike::delay_model(&model.latency, &model.spikes, now);
    let delay = dist.sample(rng).saturating_add(add);
    if model.loss.lose(bad, rng) {
        return Transmit::Lost;
    }
    if may_duplicate && rng.bernoulli(model.duplicate) {
        let copy = dist.sample(rng).saturating_add(add);
        return Transmit::Duplicate(now + delay, now + copy);
    }
    Transmit::Deliver(now + delay)
}

/// What happened to a message handed to the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// It will arrive at this true time.
    Deliver(Nanos),
    /// It will arrive twice: the original at the first true time, a
    /// duplicate at the second.
    Duplicate(Nanos, Nanos),
    /// The link lost it.
    Lost,
    /// An active partition dropped it.
    Cut,
    /// There is no link from sender to receiver, and no route.
    NoRoute,
}

/// The simulated network.
#[derive(Clone, Debug)]
pub struct Network {
    graph: DiGraph<String, Link>,
    /// Dense lookup from (from, to) to the edge, row-major by `from`;
    /// allocated (n² entries) by the first [`Network::set_link`], so a
    /// network that only has a default link stays O(n) in memory.
    edges: Vec<Option<EdgeIndex>>,
    partitions: Vec<Partition>,
    /// Routes for pairs without a direct link; see [`Network::compute_routes`].
    routes: route::Routes,
    /// The link model of every pair without an explicit link, if set.
    default: Option<DefaultLink>,
}

/// The link used between every pair of nodes that has no explicit link
/// (see [`Network::set_default_link`]): one model, and one random stream
/// and one Gilbert–Elliott state per *sending* node, so its memory is
/// O(n) however many pairs use it.
#[derive(Clone, Debug)]
struct DefaultLink {
    model: LinkModel,
    rngs: Vec<Stream>,
    bad: Vec<bool>,
}

impl Network {
    /// A network of `names.len()` nodes and no links yet.
    pub fn new(names: &[String]) -> Network {
        let mut graph = DiGraph::new();
        for name in names {
            graph.add_node(name.clone());
        }
        Network {
            graph,
            edges: Vec::new(),
            partitions: Vec::new(),
            routes: route::Routes::default(),
            default: None,
        }
    }

    /// Makes `model` the link of every ordered pair of distinct nodes that
    /// has no explicit link ([`Network::set_link`] still overrides it pair
    /// by pair). For clusters too large for a link per pair: the draws of
    /// all messages a node sends over default links come from one stream
    /// per sending node, labelled `net:default:<node name>` under `seed`,
    /// in send order, and a Gilbert–Elliott model keeps one good/bad state
    /// per sending node (drawn from that stream first), so bursts are
    /// shared by everything that node sends. Memory: one stream per node.
    /// A message from a node to itself has no route, as before.
    pub fn set_default_link(&mut self, model: LinkModel, seed: u64) {
        let n = self.node_count();
        let mut rngs = Vec::with_capacity(n);
        let mut bad = Vec::with_capacity(n);
        for i in 0..n {
            let label = format!("net:default:{}", self.name(i as NodeId));
            let mut rng = Stream::new(seed, &label);
            bad.push(model.loss.initial_state(&mut rng));
            rngs.push(rng);
        }
        self.default = Some(DefaultLink { model, rngs, bad });
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn name(&self, node: NodeId) -> &str {
        &self.graph[NodeIndex::new(node as usize)]
    }

    /// Adds (or replaces) the link `from -> to`. Its random stream is
    /// derived from `seed` and the link's endpoint names. A
    /// Gilbert–Elliott link draws its initial state from that stream
    /// first (see [`Loss`]).
    pub fn set_link(&mut self, from: NodeId, to: NodeId, model: LinkModel, seed: u64) {
        let label = format!("link:{}->{}", self.name(from), self.name(to));
        let mut rng = Stream::new(seed, &label);
        let bad = model.loss.initial_state(&mut rng);
        let link = Link {
            model,
            rng,
            bad,
            bad_periods: BadPeriods::default(),
        };
        if self.edges.is_empty() {
            let n = self.node_count();
            self.edges = vec![None; n * n];
        }
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

    /// The explicit link `from` → `to`, if any, to take what it recorded.
    pub fn link_mut(&mut self, from: NodeId, to: NodeId) -> Option<&mut Link> {
        let e = self.edge(from, to)?;
        Some(&mut self.graph[e])
    }

    /// The explicit link `from -> to`, if any (not the default link).
    pub fn link(&self, from: NodeId, to: NodeId) -> Option<&Link> {
        self.edge(from, to).map(|e| &self.graph[e])
    }

    /// Computes the shortest-path routes of every pair of nodes without a
    /// direct link (see [`route`]). Call it once the links are set;
    /// without it such pairs have no route.
    pub fn compute_routes(&mut self) {
        if self.edges.is_empty() {
            // No explicit link at all: nothing to route over.
            self.routes = route::Routes::default();
            return;
        }
        self.routes = route::Routes::compute(&self.graph, &self.edges);
    }

    /// The nodes a message from `from` to `to` passes through, both ends
    /// included: the two ends for a direct link, the whole route
    /// otherwise; `None` when there is neither.
    pub fn path(&self, from: NodeId, to: NodeId) -> Option<Vec<NodeId>> {
        if self.edge(from, to).is_some() {
            return Some(vec![from, to]);
        }
        let hops = self.routes.get(from, to, self.node_count())?;
        let mut nodes = vec![from];
        for i in hops {
            let (_, next) = self.graph.edge_endpoints(self.routes.hop(i))?;
            nodes.push(next.index() as NodeId);
        }
        Some(nodes)
    }

    pub fn add_partition(&mut self, p: Partition) {
        self.partitions.push(p);
    }

    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// True when some active partition drops `from -> to` at `t`.
    #[inline]
    pub fn is_cut(&self, from: NodeId, to: NodeId, t: Nanos) -> bool {
        self.partitions.iter().any(|p| p.cuts(from, to, t))
    }

    /// Hands a message to the network at true time `now`.
    ///
    /// A message cut by a partition at `now` never enters the link and
    /// draws nothing. Otherwise, from the link's stream and in this order:
    /// the delay (from the distribution in force at `now`, see
    /// [`spike::delay_model`]; spike additions are constants); the loss
    /// decision, which steps a Gilbert–Elliott chain first (see
    /// [`Loss::lose`]); and, for a message not lost, whether it is
    /// duplicated, then the duplicate's own delay. A probability of 0 or 1
    /// draws nothing, so a link without duplication draws exactly as
    /// before duplication existed. Between nodes without a direct link the
    /// message follows its route, if [`Network::compute_routes`] found
    /// one; partitions apply to its two ends only, never to the relays.
    #[inline]
    pub fn transmit(&mut self, from: NodeId, to: NodeId, now: Nanos) -> Transmit {
        if self.is_cut(from, to, now) {
            return Transmit::Cut;
        }
        let Some(e) = self.edge(from, to) else {
            if let Some(d) = self.default.as_mut().filter(|_| from != to) {
                let i = from as usize;
                return draw(&d.model, &mut d.rngs[i], &mut d.bad[i], now, true);
            }
            return self.transmit_routed(from, to, now);
        };
        self.graph[e].carry(now, true)
    }

    /// Hints that `from` is about to send over the default link: its
    /// stream is brought into the caches while its agent decides what to
    /// send. Only worth it with many senders, whose streams (about 340
    /// bytes each) no longer stay in the caches.
    #[inline]
    pub fn prefetch_sender(&self, from: NodeId) {
        if let Some(d) = &self.default {
            if d.rngs.len() >= PREFETCH_FROM_SENDERS {
                if let Some(rng) = d.rngs.get(from as usize) {
                    crate::sim::prefetch::prefetch(rng);
                }
            }
        }
    }

    /// A message between nodes without a direct link, over its route:
    /// each hop draws from its own link as a direct message would, at the
    /// time the message enters it, except that only the last hop may
    /// duplicate it. Lost on any hop, it is lost.
    fn transmit_routed(&mut self, from: NodeId, to: NodeId, now: Nanos) -> Transmit {
        let Some(hops) = self.routes.get(from, to, self.node_count()) else {
            return Transmit::NoRoute;
        };
        let last = hops.end - 1;
        let mut at = now;
        for i in hops {
            match self.graph[self.routes.hop(i)].carry(at, i == last) {
                Transmit::Deliver(t) if i < last => at = t,
                done => return done,
            }
        }
        unreachable!("a route has at least one hop")
    }

    fn edge(&self, from: NodeId, to: NodeId) -> Option<EdgeIndex> {
        self.edges.get(self.index(from, to)).copied().flatten()
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
        let model = LinkModel::new(
            Latency::Constant {
                value: Nanos::from_millis(5),
            },
            0.0,
        );
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
            flap: None,
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
            LinkModel::new(Latency::Constant { value: Nanos(1) }, 1.0),
            1,
        );
        assert_eq!(net.transmit(0, 1, Nanos(0)), Transmit::Lost);
    }

    #[test]
    fn the_default_link_serves_every_pair_without_its_own_link() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let mut net = Network::new(&names);
        let lat = Latency::Uniform {
            min: Nanos(0),
            max: Nanos(1_000_000),
        };
        net.set_default_link(LinkModel::new(lat, 0.0), 9);
        net.set_link(
            0,
            1,
            LinkModel::new(Latency::Constant { value: Nanos(7) }, 0.0),
            9,
        );
        assert_eq!(net.transmit(0, 1, Nanos(0)), Transmit::Deliver(Nanos(7)));
        assert!(matches!(net.transmit(1, 0, Nanos(0)), Transmit::Deliver(_)));
        assert_eq!(net.transmit(2, 2, Nanos(0)), Transmit::NoRoute);
        assert!(
            net.link(1, 0).is_none(),
            "the default link is not an explicit one"
        );
    }

    #[test]
    fn default_link_draws_come_from_one_stream_per_sender() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let lat = Latency::Uniform {
            min: Nanos(0),
            max: Nanos(1_000_000_000),
        };
        let mut alone = Network::new(&names);
        alone.set_default_link(LinkModel::new(lat.clone(), 0.0), 4);
        let mut busy = alone.clone();
        // c's sends do not shift a's draws; a's draws are in a's send
        // order whatever the receiver.
        let _ = busy.transmit(2, 1, Nanos(0));
        let first = alone.transmit(0, 1, Nanos(0));
        let second = alone.transmit(0, 2, Nanos(0));
        assert_eq!(busy.transmit(0, 2, Nanos(0)), first);
        assert_eq!(busy.transmit(0, 1, Nanos(0)), second);
        let mut rng = Stream::new(4, "net:default:a");
        assert_eq!(first, Transmit::Deliver(lat.sample(&mut rng)));
    }

    #[test]
    fn a_duplicate_draws_its_own_delay_and_needs_no_draw_when_off() {
        let uniform = Latency::Uniform {
            min: Nanos(0),
            max: Nanos(1_000_000),
        };
        let mut plain = Network::new(&["a".into(), "b".into()]);
        plain.set_link(0, 1, LinkModel::new(uniform.clone(), 0.0), 3);
        let mut twice = plain.clone();
        twice.set_link(
            0,
            1,
            LinkModel {
                duplicate: 1.0,
                ..LinkModel::new(uniform, 0.0)
            },
            3,
        );
        // duplicate = 1 draws nothing for the decision: the original takes
        // draw 1 and its copy draw 2, which the plain link gives its
        // second message.
        let first = plain.transmit(0, 1, Nanos(0));
        let second = plain.transmit(0, 1, Nanos(0));
        let (Transmit::Deliver(a), Transmit::Deliver(b)) = (first, second) else {
            panic!("{first:?} {second:?}");
        };
        assert_ne!(a, b);
        assert_eq!(twice.transmit(0, 1, Nanos(0)), Transmit::Duplicate(a, b));
    }
}
