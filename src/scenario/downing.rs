//! The validated `[downing]` section: which observers feed the
//! multi-observer rules, where the lease lives, and the downing
//! strategies to compare, each swept over its patience.

use crate::protocol::sbr::{Strategy, Unstable};
use crate::sim::agent::NodeId;
use crate::sim::time::Nanos;

/// How the observers' opinions become one member's view of who is
/// unreachable ([`crate::protocol::reachability`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// Akka: one of the `monitored_by` ring successors suffices.
    Akka,
    /// Rapid: the K/H/L cut detector over `K` pseudo-random rings.
    Rapid,
}

impl Detection {
    pub fn name(self) -> &'static str {
        match self {
            Detection::Akka => "akka",
            Detection::Rapid => "rapid",
        }
    }
}

/// One strategy at one swept value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrategyValue {
    pub strategy: Strategy,
    /// `stable-after` (Akka's strategies; unused by down-after).
    pub stable_after: Nanos,
    pub unstable: Unstable,
    /// The swept patience: `stable_after`, or down-after's `delay`.
    pub patience: Nanos,
}

/// One `[[downing.strategies]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyConfig {
    /// Its label in reports (`name`, or the strategy with the detection).
    pub label: String,
    pub detection: Detection,
    /// One per swept value, in file order.
    pub values: Vec<StrategyValue>,
}

/// The `[downing]` section.
#[derive(Clone, Debug, PartialEq)]
pub struct Downing {
    /// Index in `Scenario::protocols` of the all-to-all k-monitor entry
    /// whose pairwise opinions are the observations.
    pub observers: usize,
    /// The cluster's members: every node but the lease's.
    pub members: Vec<NodeId>,
    /// Akka's `monitored-by-nr-of-members`.
    pub monitored_by: u32,
    /// Rapid's K, H, L.
    pub rapid: (u32, u32, u32),
    /// The node holding the lease (lease-majority), outside the cluster.
    pub lease: Option<NodeId>,
    /// How long a fault's outcome is watched after the fault ends.
    pub settle: Nanos,
    /// How long a downed member takes to restart and ask to rejoin.
    pub rejoin_after: Nanos,
    pub strategies: Vec<StrategyConfig>,
}

/// Defaults of `[downing]`.
pub const SETTLE: Nanos = Nanos(60_000_000_000);
pub const REJOIN_AFTER: Nanos = Nanos(30_000_000_000);
/// Akka's `lease-majority.release-after`.
pub const LEASE_RELEASE_AFTER: Nanos = Nanos(40_000_000_000);
