//! Protocols: the agents that run on nodes. Push heartbeats for pairwise
//! detectors, and membership protocols (gossip-style heartbeating,
//! k-monitor heartbeating) that log their opinions of the other members,
//! the rules that turn several observers' opinions into one
//! ([`reachability`]) and the downing decisions taken on them ([`sbr`]).

pub mod gossip;
pub mod heartbeat;
pub mod kmonitor;
pub mod membership;
pub mod reachability;
pub mod sbr;
pub mod swim;
