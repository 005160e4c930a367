//! The discrete-event engine: virtual time, the event queue, seeded random
//! streams, node clocks, sans-I/O agents and the run loop.

pub mod agent;
pub mod clock;
pub mod engine;
pub mod prefetch;
pub mod queue;
pub mod rng;
pub mod time;
pub mod ziggurat;

pub use agent::{Agent, Ctx, Effect, NodeId, TimerKey};
pub use clock::Clock;
pub use engine::{NetStats, Sim, TraceEvent};
pub use queue::EventQueue;
pub use rng::Stream;
pub use time::{parse_duration, Nanos};
