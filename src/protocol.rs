//! Protocols: the agents that run on nodes. Today, push heartbeats.

pub mod heartbeat;
