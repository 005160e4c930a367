//! fdsim: a deterministic discrete-event simulator for heartbeat failure
//! detection.
//!
//! A guided tour, in the order data flows:
//!
//! 1. **Model** — [`sim`] is the engine: integer-nanosecond virtual time,
//!    an event queue ordered by (time, insertion), one seeded ChaCha stream
//!    per component, and sans-I/O [`sim::Agent`]s. [`net`] holds nodes and
//!    links on a petgraph graph with latency distributions, loss and
//!    partitions. [`fault`] turns declared faults into a crash/restart
//!    timeline, and joins and graceful leaves into absences from the
//!    cluster. [`protocol`] holds the agents: push and pull heartbeats, and
//!    the membership protocols (gossip, k-monitor, SWIM with Lifeguard).
//!    [`replay`] reads a recorded heartbeat trace in place of the network.
//!    Every logarithm, exponential and power on the way comes from
//!    [`math`] (a pure-Rust libm), so output is the same on every platform.
//! 2. **Scenario** — [`scenario`] reads a TOML file into a validated
//!    [`scenario::Scenario`], with precise errors.
//! 3. **Run** — [`run`] simulates each scenario once per seed (in parallel,
//!    deterministically) and scores every detector of [`detector`] on the
//!    arrival stream with [`metrics`], for every swept value, while the
//!    simulation runs: arrivals are scored stretch by stretch and
//!    dropped, faults drawn as the run reaches them, so a pairwise run's
//!    memory does not grow with its horizon.
//!    With `[downing]`, the members' views of who is unreachable (Akka's
//!    or Rapid's multi-observer rule) and their split-brain decisions are
//!    replayed over the observers' opinions ([`run::downing`]) and scored
//!    against the ground truth ([`metrics::decisions`]).
//! 4. **Report** — [`report`] writes CSV and readable tables.
//! 5. **Scale out** — [`shard`] splits a run's independent units across
//!    machines (`--shard K/N`: Slurm arrays, Kubernetes Indexed Jobs, CI
//!    matrices) and merges the partial results back into the report an
//!    unsharded run writes, byte for byte.
//!
//! Before any of it runs, [`cost`] estimates from the scenario alone the
//! events, memory and CPU each simulation needs, so that a run that could
//! not finish is refused up front.

pub mod check;
pub mod cost;
pub mod detector;
pub mod fault;
pub mod math;
pub mod metrics;
pub mod net;
pub mod protocol;
pub mod replay;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shard;
pub mod sim;
pub mod trace;
pub mod tune;
