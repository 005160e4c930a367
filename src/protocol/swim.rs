//! SWIM membership with Lifeguard, as a sans-I/O agent.
//!
//! SWIM (Das, Gupta and Motivala, DSN 2002): every protocol period each
//! member pings one target; without an ack within the probe timeout it
//! asks `k` helpers to ping the target for it (ping-req); without an ack
//! by the end of the period the target becomes *suspect*. Suspicions,
//! refutations and deaths travel infection-style, piggybacked on the
//! protocol's own messages, each update sent λ·⌈log10(n + 1)⌉ times by
//! each member. A suspected member that hears of it refutes by raising its
//! incarnation number and spreading *alive*; one not refuted within the
//! suspicion timeout is declared *dead*.
//!
//! Lifeguard (Dadgar, Phillips and Currey, 2018), as hashicorp/memberlist
//! implements it, adds four mechanisms, each switchable in
//! [`SwimConfig`]: local health awareness (a score that stretches the
//! member's probe deadline when it seems to be the slow one), suspicion
//! timeouts that shrink as independent confirmations arrive, nacks from
//! helpers (so a prober can tell "the target is silent" from "I am not
//! hearing anyone"), and the buddy system (a ping to a suspected member
//! carries the suspicion, so it refutes at once).
//!
//! Every member knows the members present at the start ([`Roster`]); a
//! member absent at the start is unknown to all until it joins through a
//! seed with a state exchange (memberlist's `Join`), and a member that
//! leaves gracefully broadcasts a dead message about itself, which the
//! others record as Left (memberlist's `Leave`). A member that restarts starts afresh with an incarnation
//! number above any of its previous life (restart count · 2^20), spreads
//! *alive*, and rejoins with a state exchange with a random member, as
//! memberlist's join does. Push-pull anti-entropy repeats that exchange
//! periodically ([`SwimConfig::push_pull_interval`]); and a member that
//! holds the sender of a ping Dead says so on its ack, so a member whose
//! *alive* it missed answers it directly.
//!
//! Updates ride on messages as memberlist packs them: as many as fit in
//! the UDP buffer (`UDPBufferSize`, 1,400 bytes) by memberlist's encoded
//! sizes, the least-transmitted first ([`WireModel`]); push-pull goes
//! over TCP without a budget. The load metrics count the same bytes.
//!
//! What fdsim does differently from memberlist, deliberately: no TCP
//! fallback ping; a leaving member lingers a fixed time instead of
//! waiting for its broadcast to go out; push-pull is one message each way,
//! with the link's latency and loss (no connection set-up, no
//! retransmission); the Dead-on-ack reply is fdsim's own; the member count
//! in the formulas is the number of members not believed dead.

mod agent;
mod broadcast;
mod config;
pub mod lifeguard;
mod msg;
mod view;
mod wire;

pub use agent::{Roster, SwimAgent, SwimStats};
pub use broadcast::BroadcastQueue;
pub use config::{preset, SwimConfig, TargetSelection, MAX_UDP_PAYLOAD, PRESETS};
pub use msg::{Kind, Piggyback, PiggybackPool, SwimMsg, Update, UpdateKind};
pub use view::Snapshot;
pub use wire::{WireModel, NAME_LENGTH, UDP_BUFFER_SIZE};

use crate::net::{LinkModel, Network};
use crate::protocol::membership::Membership;
use crate::sim::{Clock, Sim};

/// A ready-to-run cluster: `n` members named `m0`, `m1`, … running
/// `cfg`, every pair joined by `link` through the network's default link
/// (one random stream per sending member, so memory stays O(n) in the
/// network), perfect clocks, every stream derived from `seed`, and bytes
/// counted by the configuration's [`WireModel`].
pub fn cluster_sim(cfg: SwimConfig, n: usize, link: LinkModel, seed: u64) -> Sim<SwimAgent> {
    let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    let mut net = Network::new(&names);
    net.set_default_link(link, seed);
    let mut sim = Sim::new(
        net,
        SwimAgent::cluster(cfg, n),
        vec![Clock::default(); n],
        seed,
    );
    sim.count_bytes_with(SwimAgent::wire_bytes, SwimAgent::over_stream);
    sim
}
