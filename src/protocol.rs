//! Protocols: the agents that run on nodes. Push heartbeats for pairwise
//! detectors, and membership protocols (gossip-style heartbeating,
//! k-monitor heartbeating) that log their opinions of the other members.

pub mod gossip;
pub mod heartbeat;
pub mod kmonitor;
pub mod membership;
pub mod swim;
