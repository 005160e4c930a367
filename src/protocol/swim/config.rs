//! SWIM configuration: a plain struct whose `Default` is memberlist's LAN
//! configuration, and the named presets.

use super::wire::WireModel;
use crate::sim::Nanos;

/// How a member picks the member it probes in each protocol period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetSelection {
    /// Round-robin over the other members in an order drawn afresh for
    /// every pass (SWIM §4.3; memberlist `probe` and `resetNodes`), a
    /// pseudo-random permutation keyed by one draw per pass instead of a
    /// shuffled list per member. Members this one believes dead are
    /// skipped; a member that comes back is probed when its place in the
    /// pass comes (memberlist inserts it at a random position). Every
    /// live member is probed within 2n − 1 periods of any instant.
    RoundRobin,
    /// A uniformly random other member not believed dead, independently
    /// every period: the protocol analysed in SWIM §3.1, whose expected
    /// number of rounds up to the first probe of a crashed member tends to
    /// e/(e − 1) when members tick in lockstep (with random tick phases
    /// the expected wait tends to one period; `docs/swim.md`).
    Uniform,
}

/// Everything a [`super::SwimAgent`] needs; every member of a cluster
/// normally shares one. The defaults are memberlist's
/// `DefaultLANConfig()` (hashicorp/memberlist `config.go`) with every
/// Lifeguard mechanism on, and fdsim's own choices for what memberlist
/// does not have (`selection`, `stagger`, `record_probes`), and the
/// size model's member name length (`wire`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SwimConfig {
    /// Base protocol period: one probe per period. Default 1 s
    /// (memberlist `ProbeInterval`).
    pub probe_interval: Nanos,
    /// How long the direct ping waits for an ack before `indirect_checks`
    /// helpers are asked to ping the target; also how long a helper waits
    /// before it sends a nack. Must be below `probe_interval`. Default
    /// 500 ms (memberlist `ProbeTimeout`).
    pub probe_timeout: Nanos,
    /// Helpers asked to ping a target that missed its direct ping (SWIM's
    /// k). Default 3 (memberlist `IndirectChecks`).
    pub indirect_checks: u32,
    /// λ: each update is piggybacked `retransmit_mult · ⌈log10(n + 1)⌉`
    /// times by each member that queues it. Default 4 (memberlist
    /// `RetransmitMult`).
    pub retransmit_mult: u32,
    /// Suspicion timeout multiplier: the minimum suspicion timeout is
    /// `suspicion_mult · max(1, log10(n)) · probe_interval`. Default 4
    /// (memberlist `SuspicionMult`).
    pub suspicion_mult: u32,
    /// Lifeguard: the suspicion timeout starts at this multiple of the
    /// minimum and shrinks to the minimum as confirmations arrive.
    /// Default 6 (memberlist `SuspicionMaxTimeoutMult`).
    pub suspicion_max_timeout_mult: u32,
    /// Lifeguard: the local health score runs from 0 to this value − 1
    /// and stretches the probe deadline by (score + 1). Default 8
    /// (memberlist `AwarenessMaxMultiplier`).
    pub awareness_max_multiplier: u32,
    /// Interval of the extra gossip round that sends pending updates to
    /// `gossip_nodes` random members; zero turns it off (pure SWIM
    /// piggybacking). Default 200 ms (memberlist `GossipInterval`).
    pub gossip_interval: Nanos,
    /// Members sent to per gossip round. Default 3 (memberlist
    /// `GossipNodes`).
    pub gossip_nodes: u32,
    /// A member declared dead stays among the gossip round's candidates
    /// this long, so that a live member wrongly declared dead hears of it
    /// and refutes. Default 30 s (memberlist `GossipToTheDeadTime`).
    pub gossip_to_the_dead: Nanos,
    /// Push-pull anti-entropy: every this often (scaled up with the
    /// cluster size beyond 32 members, memberlist `pushPullScale`) a
    /// member sends its whole view to one random member it holds alive,
    /// which merges it and answers with its own; zero turns it off. A
    /// restarted member always does one exchange (its join). Default 30 s
    /// (memberlist `PushPullInterval`).
    pub push_pull_interval: Nanos,
    /// Message sizes: updates are piggybacked while they fit in
    /// `wire.udp_buffer_size` bytes (memberlist `UDPBufferSize`, 1,400),
    /// and the load metrics count bytes by the same model, with member
    /// names `wire.name_length` bytes long (16). See [`WireModel`].
    pub wire: WireModel,
    /// Target selection. Default round-robin (memberlist).
    pub selection: TargetSelection,
    /// Start each member's probe and gossip tickers at a random phase
    /// (drawn from the member's stream), as members that start at
    /// different times do; off, every member ticks at multiples of the
    /// interval. Default on.
    pub stagger: bool,
    /// Lifeguard local health awareness (LHA): the score rises by one on
    /// a failed probe without nacking helpers, by one per expected nack
    /// that did not come, and by one at each refutation; it falls by one
    /// at each successful probe. Default on.
    pub local_health: bool,
    /// Lifeguard dynamic suspicion: the timeout shrinks from the maximum
    /// to the minimum with independent confirmations. Off, a suspect is
    /// declared dead after the minimum (memberlist before Lifeguard).
    /// Default on.
    pub dynamic_suspicion: bool,
    /// Lifeguard: helpers that get no ack within `probe_timeout` send a
    /// nack, and missing nacks raise the prober's health score. Default on.
    pub nacks: bool,
    /// Lifeguard buddy system: a ping to a member the prober suspects
    /// carries the suspicion, so the member can refute at once. Default on.
    pub buddy: bool,
    /// Stretch the direct ping's timeout by the health multiplier too, as
    /// the Lifeguard paper describes; memberlist does not (its comment:
    /// waiting longer will not get the UDP ping through). Default off.
    pub scale_probe_timeout: bool,
    /// Keep a log of every probe started (time, target), for tests and
    /// traces. Default off.
    pub record_probes: bool,
}

impl Default for SwimConfig {
    fn default() -> Self {
        SwimConfig {
            probe_interval: Nanos::from_secs(1),
            probe_timeout: Nanos::from_millis(500),
            indirect_checks: 3,
            retransmit_mult: 4,
            suspicion_mult: 4,
            suspicion_max_timeout_mult: 6,
            awareness_max_multiplier: 8,
            gossip_interval: Nanos::from_millis(200),
            gossip_nodes: 3,
            gossip_to_the_dead: Nanos::from_secs(30),
            push_pull_interval: Nanos::from_secs(30),
            wire: WireModel::default(),
            selection: TargetSelection::RoundRobin,
            stagger: true,
            local_health: true,
            dynamic_suspicion: true,
            nacks: true,
            buddy: true,
            scale_probe_timeout: false,
            record_probes: false,
        }
    }
}

/// The largest UDP payload over IPv4.
pub const MAX_UDP_PAYLOAD: u32 = 65_507;

/// The named presets: name, what it is, and where the values come from.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "memberlist-lan",
        "memberlist DefaultLANConfig (Consul, Serf LAN): probe 1s, timeout 500ms, 3 indirect, \
         retransmit 4, suspicion 4 (max 6x), health max 8, gossip 200ms x 3, gossip to the \
         dead 30s, push-pull 30s; Lifeguard on \
         (hashicorp/memberlist config.go)",
    ),
    (
        "memberlist-wan",
        "memberlist DefaultWANConfig: probe 5s, timeout 3s, 3 indirect, retransmit 4, \
         suspicion 6 (max 6x), health max 8, gossip 500ms x 4, gossip to the dead 60s, \
         push-pull 60s; Lifeguard on \
         (hashicorp/memberlist config.go)",
    ),
    (
        "memberlist-local",
        "memberlist DefaultLocalConfig: probe 1s, timeout 200ms, 1 indirect, retransmit 2, \
         suspicion 3 (max 6x), health max 8, gossip 100ms x 3, gossip to the dead 15s, \
         push-pull 15s; Lifeguard on \
         (hashicorp/memberlist config.go)",
    ),
    (
        "swim",
        "SWIM as published (Das, Gupta, Motivala, DSN 2002): memberlist-lan's timing with \
         Lifeguard off, no separate gossip round (updates travel only on pings, acks, \
         ping-reqs and nacks) and no push-pull",
    ),
];

/// The configuration of a named preset (see [`PRESETS`]), or `None`.
pub fn preset(name: &str) -> Option<SwimConfig> {
    let lan = SwimConfig::default();
    match name {
        "memberlist-lan" => Some(lan),
        // DefaultWANConfig changes SuspicionMult, PushPullInterval,
        // ProbeTimeout, ProbeInterval, GossipNodes, GossipInterval and
        // GossipToTheDeadTime.
        "memberlist-wan" => Some(SwimConfig {
            push_pull_interval: Nanos::from_secs(60),
            suspicion_mult: 6,
            probe_timeout: Nanos::from_secs(3),
            probe_interval: Nanos::from_secs(5),
            gossip_nodes: 4,
            gossip_interval: Nanos::from_millis(500),
            gossip_to_the_dead: Nanos::from_secs(60),
            ..lan
        }),
        // DefaultLocalConfig changes IndirectChecks, RetransmitMult,
        // SuspicionMult, PushPullInterval, ProbeTimeout, GossipInterval
        // and GossipToTheDeadTime.
        "memberlist-local" => Some(SwimConfig {
            push_pull_interval: Nanos::from_secs(15),
            indirect_checks: 1,
            retransmit_mult: 2,
            suspicion_mult: 3,
            probe_timeout: Nanos::from_millis(200),
            gossip_interval: Nanos::from_millis(100),
            gossip_to_the_dead: Nanos::from_secs(15),
            ..lan
        }),
        "swim" => Some(lan.without_lifeguard().without_gossip().without_push_pull()),
        _ => None,
    }
}

impl SwimConfig {
    /// The same configuration with all four Lifeguard mechanisms off.
    pub fn without_lifeguard(self) -> Self {
        SwimConfig {
            local_health: false,
            dynamic_suspicion: false,
            nacks: false,
            buddy: false,
            ..self
        }
    }

    /// The same configuration without the separate gossip round.
    pub fn without_gossip(self) -> Self {
        SwimConfig {
            gossip_interval: Nanos::ZERO,
            ..self
        }
    }

    /// The same configuration without periodic push-pull (a restarted
    /// member still does its join exchange).
    pub fn without_push_pull(self) -> Self {
        SwimConfig {
            push_pull_interval: Nanos::ZERO,
            ..self
        }
    }

    /// Checks the invariants the agent relies on; the error is a phrase
    /// naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.probe_interval == Nanos::ZERO {
            return Err("`probe_interval` must be positive".into());
        }
        if self.probe_timeout == Nanos::ZERO || self.probe_timeout >= self.probe_interval {
            return Err(format!(
                "`probe_timeout` ({}) must be positive and below `probe_interval` ({})",
                self.probe_timeout, self.probe_interval
            ));
        }
        let at_least_one = [
            ("retransmit_mult", self.retransmit_mult),
            ("suspicion_mult", self.suspicion_mult),
            (
                "suspicion_max_timeout_mult",
                self.suspicion_max_timeout_mult,
            ),
            ("awareness_max_multiplier", self.awareness_max_multiplier),
        ];
        for (field, value) in at_least_one {
            if value == 0 {
                return Err(format!("`{field}` must be at least 1"));
            }
        }
        let min = self.wire.min_buffer();
        if !(min..=MAX_UDP_PAYLOAD).contains(&self.wire.udp_buffer_size) {
            return Err(format!(
                "`udp_buffer_size` ({}) must be in [{min}, {MAX_UDP_PAYLOAD}]: at least a \
                 ping-req and one update at this name length",
                self.wire.udp_buffer_size
            ));
        }
        if !(1..=255).contains(&self.wire.name_length) {
            return Err(format!(
                "`name_length` ({}) must be in [1, 255]",
                self.wire.name_length
            ));
        }
        if self.gossip_interval > Nanos::ZERO && self.gossip_nodes == 0 {
            return Err("`gossip_nodes` must be at least 1 when gossip is on".into());
        }
        if self.indirect_checks > 64 || self.gossip_nodes > 64 {
            return Err("`indirect_checks` and `gossip_nodes` must be at most 64".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_preset_exists_and_validates() {
        for (name, _) in PRESETS {
            let cfg = preset(name).unwrap_or_else(|| panic!("{name} listed but missing"));
            cfg.validate().unwrap();
        }
        assert!(preset("memberlist").is_none());
        assert_eq!(preset("memberlist-lan"), Some(SwimConfig::default()));
    }

    #[test]
    fn presets_carry_memberlists_defaults() {
        // hashicorp/memberlist config.go: DefaultLANConfig,
        // DefaultWANConfig, DefaultLocalConfig.
        let row = |c: SwimConfig| {
            (
                c.probe_interval.as_nanos() / 1_000_000,
                c.probe_timeout.as_nanos() / 1_000_000,
                c.indirect_checks,
                c.suspicion_mult,
                c.suspicion_max_timeout_mult,
                c.gossip_interval.as_nanos() / 1_000_000,
                c.gossip_nodes,
                c.retransmit_mult,
            )
        };
        let lan = preset("memberlist-lan").unwrap();
        let wan = preset("memberlist-wan").unwrap();
        let local = preset("memberlist-local").unwrap();
        assert_eq!(row(lan), (1000, 500, 3, 4, 6, 200, 3, 4));
        assert_eq!(row(wan), (5000, 3000, 3, 6, 6, 500, 4, 4));
        assert_eq!(row(local), (1000, 200, 1, 3, 6, 100, 3, 2));
        let dead = |c: SwimConfig| c.gossip_to_the_dead.as_nanos() / 1_000_000_000;
        assert_eq!((dead(lan), dead(wan), dead(local)), (30, 60, 15));
        let push_pull = |c: SwimConfig| c.push_pull_interval.as_nanos() / 1_000_000_000;
        assert_eq!(
            (push_pull(lan), push_pull(wan), push_pull(local)),
            (30, 60, 15)
        );
        for c in [lan, wan, local] {
            assert_eq!(c.awareness_max_multiplier, 8);
            assert!(c.local_health && c.dynamic_suspicion && c.nacks && c.buddy);
        }
        let swim = preset("swim").unwrap();
        assert!(!(swim.local_health || swim.dynamic_suspicion || swim.nacks || swim.buddy));
        assert_eq!(swim.gossip_interval, Nanos::ZERO);
        assert_eq!(swim.push_pull_interval, Nanos::ZERO);
    }

    #[test]
    fn validation_names_the_offending_field() {
        let bad = SwimConfig {
            probe_timeout: Nanos::from_secs(2),
            ..SwimConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("probe_timeout"));
        let bad = SwimConfig {
            wire: WireModel {
                udp_buffer_size: 100,
                ..WireModel::default()
            },
            ..SwimConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("udp_buffer_size"));
        let bad = SwimConfig {
            suspicion_mult: 0,
            ..SwimConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("suspicion_mult"));
    }
}
