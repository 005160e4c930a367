//! Protocols: the agents that run on nodes. Today, push heartbeats.

pub mod heartbeat;
pub mod membership;
pub mod swim;
