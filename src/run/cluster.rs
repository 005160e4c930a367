//! Running membership protocols: one simulation per protocol × swept value
//! × seed (the protocol's own traffic depends on the value), its members'
//! opinion logs scored with [`crate::metrics::cluster`].
//!
//! Every node of the scenario is a member. The network, clocks and faults
//! are the scenario's, drawn from the same seed as its pairwise simulation
//! (so every value of a sweep sees the same crashes); heartbeat jitter
//! (`[heartbeat] jitter`) applies to pairwise heartbeats only.

use super::{build_network, schedule_faults};
use crate::fault::{self, Absence, Outage};
use crate::metrics::cluster::{score_cluster, ClusterInput, ClusterQos};
use crate::protocol::gossip::GossipAgent;
use crate::protocol::kmonitor::KMonitorAgent;
use crate::protocol::membership::{Membership, MembershipEvent};
use crate::protocol::swim::{Roster, SwimAgent};
use crate::scenario::{ProtocolSettings, Scenario};
use crate::sim::{Clock, NetStats, NodeId, Sim};

/// The outcome of one protocol at one value in one seed.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusterRun {
    pub qos: ClusterQos,
    /// The engine's message accounting, with bytes by the wire size.
    pub stats: NetStats,
}

/// Simulates protocol `p` of `sc` at its `v`-th swept value for `seed`.
pub fn run_protocol(sc: &Scenario, seed: u64, p: usize, v: usize) -> ClusterRun {
    let members = sc.nodes.len();
    match &sc.protocols[p].settings[v] {
        ProtocolSettings::Gossip(cfg) => {
            simulate(sc, seed, |id| GossipAgent::new(id, members, *cfg))
        }
        ProtocolSettings::KMonitor(cfg) => {
            simulate(sc, seed, |id| KMonitorAgent::new(id, members, cfg.clone()))
        }
        ProtocolSettings::Swim(settings) => {
            let cfg = settings.agent_config();
            let roster = std::sync::Arc::new(roster(sc));
            simulate(sc, seed, |id| {
                SwimAgent::with_roster(cfg, id, members, roster.clone())
            })
        }
    }
}

/// Who is in the cluster at the start and through whom the others join,
/// from the scenario's join and leave faults.
pub fn roster(sc: &Scenario) -> Roster {
    let mut absent = vec![false; sc.nodes.len()];
    for a in fault::absences(&sc.faults, sc.duration) {
        if a.leave.is_none() {
            absent[a.node as usize] = true;
        }
    }
    Roster::new(absent, fault::join_seeds(&sc.faults, sc.nodes.len()))
}

/// Builds the simulation of one protocol run: one agent per member from
/// `make`, the scenario's network, clocks and faults, and a byte count by
/// the protocol's wire size. Returns the crashes and the absences (joins
/// and leaves) it scheduled.
pub fn build_cluster_sim<A: Membership>(
    sc: &Scenario,
    seed: u64,
    make: impl FnMut(NodeId) -> A,
) -> (Sim<A>, Vec<Outage>, Vec<Absence>) {
    let net = build_network(sc, seed);
    let agents = (0..sc.nodes.len() as NodeId).map(make).collect();
    let mut sim = Sim::new(net, agents, sc.clocks.clone(), seed);
    sim.count_bytes_with(A::wire_bytes, A::over_stream);
    let outages = schedule_faults(&mut sim, sc, seed);
    let absences = schedule_absences(&mut sim, sc);
    (sim, outages, absences)
}

/// Schedules the joins and leaves: a member absent at the start is kept
/// down until its join (a start as a new incarnation); a leaving member
/// hears of it at the announcement and is stopped `linger` later, and
/// restarts at its rejoin.
fn schedule_absences<A: Membership>(sim: &mut Sim<A>, sc: &Scenario) -> Vec<Absence> {
    let absences = fault::absences(&sc.faults, sc.duration);
    for a in &absences {
        match a.leave {
            None => sim.start_down(a.node),
            Some(at) => {
                sim.schedule_leave(a.node, at);
                sim.schedule_crash(a.node, a.stop);
            }
        }
        if let Some(t) = a.join {
            sim.schedule_restart(a.node, t);
        }
    }
    absences
}

/// Runs one protocol simulation to the end and scores it.
pub fn simulate<A: Membership>(
    sc: &Scenario,
    seed: u64,
    make: impl FnMut(NodeId) -> A,
) -> ClusterRun {
    let (mut sim, outages, absences) = build_cluster_sim(sc, seed, make);
    sim.run_until(sc.duration);
    let stats = sim.stats();
    let events = true_time_events(sim.into_agents(), &sc.clocks);
    let mut qos = score_cluster(ClusterInput {
        members: sc.nodes.len(),
        events: &events,
        outages: &outages,
        absences: &absences,
        warmup: sc.warmup,
        end: sc.duration,
    });
    qos.messages_sent = stats.sent;
    qos.bytes_sent = stats.bytes_sent;
    qos.tcp_bytes_sent = stats.stream_bytes_sent;
    qos.member_seconds = sc.nodes.len() as f64 * sc.duration.as_secs_f64();
    ClusterRun { qos, stats }
}

/// Every member's opinion log with each time converted from the
/// observer's clock to true time, sorted by time (then observer; one
/// observer's events keep their order).
pub fn true_time_events<A: Membership>(agents: Vec<A>, clocks: &[Clock]) -> Vec<MembershipEvent> {
    let mut events = Vec::new();
    for (mut agent, clock) in agents.into_iter().zip(clocks) {
        events.extend(agent.take_events().into_iter().map(|e| MembershipEvent {
            at: clock.true_time(e.at),
            ..e
        }));
    }
    events.sort_by_key(|e| (e.at, e.observer));
    events
}
