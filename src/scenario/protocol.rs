//! `[[protocols]]`: membership protocols run over every node of a
//! scenario, the parameters each kind takes, and the validated
//! configuration of each swept value.
//!
//! Adding a protocol kind: one [`ProtocolKind`] in [`kinds`], one
//! [`ProtocolSettings`] variant built in `validate/protocols.rs`, and one
//! match arm in `run/cluster.rs` that constructs its agent.

use crate::detector::registry::{ms, ParamSpec, ParamUnit};
use crate::protocol::gossip::GossipConfig;
use crate::protocol::kmonitor::KMonitorConfig;
use crate::sim::time::Nanos;

/// One validated `[[protocols]]` entry.
#[derive(Clone, Debug)]
pub struct ProtocolConfig {
    /// Label in tables and CSV (`name`, or the kind).
    pub label: String,
    pub kind: &'static ProtocolKind,
    /// The swept parameter (one per entry; the kind's default if none is
    /// written as a list or range).
    pub swept: ParamSpec,
    /// Its values, internal units, as declared.
    pub values: Vec<f64>,
    /// The full configuration at each value, in the same order.
    pub settings: Vec<ProtocolSettings>,
}

/// A protocol's configuration at one swept value.
#[derive(Clone, Debug)]
pub enum ProtocolSettings {
    Gossip(GossipConfig),
    KMonitor(KMonitorConfig),
    Swim(SwimSettings),
}

/// How SWIM picks the member to probe each period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Round-robin over a list shuffled at every pass (memberlist, SWIM
    /// §4.3): every member is probed once per pass.
    RoundRobin,
    /// A uniformly random other member every period (the SWIM paper's
    /// basic protocol).
    Random,
}

/// SWIM with the Lifeguard extensions, as a plain configuration; the names
/// follow hashicorp/memberlist's `Config` where one exists.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SwimSettings {
    /// Protocol period (memberlist `ProbeInterval`).
    pub period: Nanos,
    /// Wait for a direct ack before probing indirectly (`ProbeTimeout`).
    pub ping_timeout: Nanos,
    /// k: members asked to probe indirectly (`IndirectChecks`).
    pub indirect_probes: u32,
    /// Suspicion timeout = `suspicion_mult` · max(1, log10(n)) · period
    /// (`SuspicionMult`).
    pub suspicion_mult: u32,
    /// Lifeguard: the timeout starts at `suspicion_max_mult` times that
    /// and shrinks with independent confirmations (`SuspicionMaxTimeoutMult`).
    pub suspicion_max_mult: u32,
    /// Each update is piggybacked `retransmit_mult` · ⌈log10(n + 1)⌉ times
    /// (`RetransmitMult`).
    pub retransmit_mult: u32,
    /// Period of the separate gossip of updates (`GossipInterval`).
    pub gossip_interval: Nanos,
    /// Members each gossip round goes to (`GossipNodes`).
    pub gossip_nodes: u32,
    /// A member declared Dead stays among the gossip round's targets this
    /// long (`GossipToTheDeadTime`).
    pub gossip_to_the_dead: Nanos,
    /// Push-pull anti-entropy every this often, scaled up beyond 32
    /// members (`PushPullInterval`); `None` when switched off.
    pub push_pull_interval: Option<Nanos>,
    pub selection: Selection,
    /// Lifeguard local health awareness (LHA-probe): failed probes and
    /// refutations stretch the period and timeout.
    pub awareness: bool,
    /// The largest awareness multiplier (`AwarenessMaxMultiplier`).
    pub awareness_max: u32,
    /// Lifeguard LHA-suspicion: the suspicion timeout shrinks from its
    /// maximum as independent confirmations arrive.
    pub suspicion_confirmations: bool,
    /// Lifeguard: indirect probers send a nack when the target does not
    /// answer them, so the prober can tell its own trouble from the
    /// target's.
    pub nacks: bool,
    /// Lifeguard buddy system: a probe tells its target it is suspected,
    /// so it can refute at once.
    pub buddy: bool,
    /// Largest UDP payload: updates ride on a message while they fit
    /// (`UDPBufferSize`).
    pub udp_buffer_size: u32,
    /// Bytes in every member's name, for message sizes.
    pub member_name_length: u32,
}

impl SwimSettings {
    /// The agent's configuration: these settings, and the agent's own
    /// defaults (memberlist's) for what a scenario does not set.
    pub fn agent_config(&self) -> crate::protocol::swim::SwimConfig {
        use crate::protocol::swim::{SwimConfig, TargetSelection, WireModel};
        SwimConfig {
            probe_interval: self.period,
            probe_timeout: self.ping_timeout,
            indirect_checks: self.indirect_probes,
            retransmit_mult: self.retransmit_mult,
            suspicion_mult: self.suspicion_mult,
            suspicion_max_timeout_mult: self.suspicion_max_mult,
            awareness_max_multiplier: self.awareness_max,
            gossip_interval: self.gossip_interval,
            gossip_nodes: self.gossip_nodes,
            gossip_to_the_dead: self.gossip_to_the_dead,
            push_pull_interval: self.push_pull_interval.unwrap_or(Nanos::ZERO),
            selection: match self.selection {
                Selection::RoundRobin => TargetSelection::RoundRobin,
                Selection::Random => TargetSelection::Uniform,
            },
            local_health: self.awareness,
            dynamic_suspicion: self.suspicion_confirmations,
            nacks: self.nacks,
            buddy: self.buddy,
            wire: WireModel {
                udp_buffer_size: self.udp_buffer_size,
                name_length: self.member_name_length,
            },
            ..SwimConfig::default()
        }
    }
}

impl Default for SwimSettings {
    /// memberlist's LAN configuration with every Lifeguard extension on.
    fn default() -> Self {
        SwimSettings {
            period: Nanos::from_secs(1),
            ping_timeout: Nanos::from_millis(500),
            indirect_probes: 3,
            suspicion_mult: 4,
            suspicion_max_mult: 6,
            retransmit_mult: 4,
            gossip_interval: Nanos::from_millis(200),
            gossip_nodes: 3,
            gossip_to_the_dead: Nanos::from_secs(30),
            push_pull_interval: Some(Nanos::from_secs(30)),
            selection: Selection::RoundRobin,
            awareness: true,
            awareness_max: 8,
            suspicion_confirmations: true,
            nacks: true,
            buddy: true,
            udp_buffer_size: crate::protocol::swim::UDP_BUFFER_SIZE,
            member_name_length: crate::protocol::swim::NAME_LENGTH,
        }
    }
}

/// A parameter a protocol kind takes.
#[derive(Clone, Copy, Debug)]
pub enum ProtocolParam {
    /// A number, count or duration; any one of them may be swept.
    Number(ParamSpec),
    /// `true` or `false`.
    Flag {
        name: &'static str,
        /// What leaving it out means.
        default: &'static str,
        doc: &'static str,
    },
    /// One of a few strings.
    Choice {
        name: &'static str,
        options: &'static [&'static str],
        default: &'static str,
        doc: &'static str,
    },
}

impl ProtocolParam {
    pub fn name(&self) -> &'static str {
        match self {
            ProtocolParam::Number(spec) => spec.name,
            ProtocolParam::Flag { name, .. } | ProtocolParam::Choice { name, .. } => name,
        }
    }
}

/// A protocol kind as scenario files name it.
#[derive(Debug)]
pub struct ProtocolKind {
    /// The `kind = "..."` name.
    pub name: &'static str,
    pub summary: &'static str,
    pub source: &'static str,
    /// The parameter swept when none is written as a list or range;
    /// `None` for `k-monitor`, whose default is its detector's swept one.
    pub default_swept: Option<&'static str>,
    pub params: &'static [ProtocolParam],
}

impl ProtocolKind {
    pub fn param(&self, name: &str) -> Option<&ProtocolParam> {
        self.params.iter().find(|p| p.name() == name)
    }
}

const fn duration(name: &'static str, default: Option<f64>, doc: &'static str) -> ProtocolParam {
    ProtocolParam::Number(ParamSpec {
        name,
        unit: ParamUnit::Duration,
        default,
        min: 0.0,
        min_inclusive: false,
        max: ms(86_400_000.0),
        doc,
    })
}

const fn count(
    name: &'static str,
    default: Option<f64>,
    min: f64,
    max: f64,
    doc: &'static str,
) -> ProtocolParam {
    ProtocolParam::Number(ParamSpec {
        name,
        unit: ParamUnit::Count,
        default,
        min,
        min_inclusive: true,
        max,
        doc,
    })
}

/// `kind = "gossip"`.
pub static GOSSIP: ProtocolKind = ProtocolKind {
    name: "gossip",
    summary: "gossip-style heartbeating: every `interval` a member sends its table of heartbeat \
              counters to `fanout` random members; a counter that stops growing for `fail` means Dead",
    source: "van Renesse, Minsky, Hayden, A Gossip-Style Failure Detection Service, Middleware 1998",
    default_swept: Some("fail"),
    params: &[
        duration("interval", Some(ms(1000.0)), "T_gossip: time between two rounds of a member"),
        count("fanout", Some(1.0), 1.0, 1000.0, "members each round is sent to (at most n − 1)"),
        duration(
            "fail",
            None,
            "T_fail: a member whose counter has not grown for this long is declared Dead (> interval)",
        ),
        duration(
            "cleanup",
            None,
            "T_cleanup: a Dead member is forgotten this long after it was declared (default 2 × fail)",
        ),
    ],
};

/// `kind = "k-monitor"`.
pub static K_MONITOR: ProtocolKind = ProtocolKind {
    name: "k-monitor",
    summary: "every member heartbeats its `k` ring successors, which run a pairwise detector live \
              and declare it Dead when the detector suspects; k = n − 1 is all-to-all",
    source: "Akka Cluster heartbeating (monitored-by-nr-of-members ring successors), with any \
             detector of fdsim",
    default_swept: None,
    params: &[
        count(
            "k",
            Some(5.0),
            1.0,
            1_000_000.0,
            "monitors per member, its ring successors (at most n − 1; n − 1 is all-to-all)",
        ),
        duration(
            "interval",
            None,
            "heartbeat period of every member (default: the detector preset's heartbeat, else 1s)",
        ),
        ProtocolParam::Choice {
            name: "detector",
            options: &[],
            default: "required unless `preset` names a detector preset",
            doc: "the pairwise detector kind every monitor runs (fdsim detectors lists them); its \
                  parameters go in this same table",
        },
        ProtocolParam::Choice {
            name: "preset",
            options: &[],
            default: "none",
            doc: "a detector preset (fdsim detectors --presets) setting the detector, its \
                  parameters and the heartbeat `interval`",
        },
    ],
};

/// `kind = "swim"`.
pub static SWIM: ProtocolKind = ProtocolKind {
    name: "swim",
    summary: "SWIM with Lifeguard: each period probe one member, ask `indirect_probes` others on \
              timeout, suspect, and declare Dead after the suspicion timeout unless refuted",
    source: "Das, Gupta, Motivala, SWIM, DSN 2002; Dadgar, Phillips, Currey, Lifeguard, \
             arXiv:1707.00788; defaults of hashicorp/memberlist",
    default_swept: Some("suspicion_mult"),
    params: &[
        ProtocolParam::Choice {
            name: "preset",
            options: &["memberlist-lan", "memberlist-wan", "memberlist-local"],
            default: "memberlist-lan",
            doc: "memberlist's DefaultLANConfig, DefaultWANConfig or DefaultLocalConfig as the \
                  defaults of every number below",
        },
        duration("period", None, "protocol period (memberlist ProbeInterval)"),
        duration(
            "ping_timeout",
            None,
            "wait for a direct ack before indirect probes (ProbeTimeout; < period)",
        ),
        count(
            "indirect_probes",
            None,
            0.0,
            64.0,
            "k: members asked to probe indirectly (IndirectChecks; at most n − 2 are used)",
        ),
        count(
            "suspicion_mult",
            None,
            1.0,
            1000.0,
            "suspicion timeout = suspicion_mult · max(1, log10 n) · period (SuspicionMult)",
        ),
        count(
            "suspicion_max_mult",
            None,
            1.0,
            1000.0,
            "with confirmations on, the timeout starts this many times higher (SuspicionMaxTimeoutMult)",
        ),
        count(
            "retransmit_mult",
            None,
            1.0,
            1000.0,
            "each update is sent retransmit_mult · ⌈log10(n + 1)⌉ times (RetransmitMult)",
        ),
        duration("gossip_interval", None, "period of the separate gossip of updates (GossipInterval)"),
        count(
            "gossip_nodes",
            None,
            1.0,
            1000.0,
            "members each gossip round goes to (GossipNodes; at most n − 1 are used)",
        ),
        duration(
            "gossip_to_the_dead",
            None,
            "a member declared Dead stays among the gossip round's targets this long, so a live \
             one can refute (GossipToTheDeadTime)",
        ),
        ProtocolParam::Flag {
            name: "push_pull",
            default: "true",
            doc: "periodic push-pull anti-entropy: a full state exchange with a random member",
        },
        duration(
            "push_pull_interval",
            None,
            "period of the push-pull exchange below 33 members, scaled up beyond (PushPullInterval)",
        ),
        ProtocolParam::Choice {
            name: "selection",
            options: &["round-robin", "random"],
            default: "round-robin",
            doc: "probe targets: round-robin over a list shuffled each pass, or uniformly at random",
        },
        ProtocolParam::Flag {
            name: "lifeguard",
            default: "true",
            doc: "default of the four switches below: false gives plain SWIM with suspicion",
        },
        ProtocolParam::Flag {
            name: "awareness",
            default: "`lifeguard`",
            doc: "local health awareness: failed probes stretch this member's period and timeout",
        },
        count(
            "awareness_max",
            None,
            1.0,
            64.0,
            "largest awareness multiplier (AwarenessMaxMultiplier)",
        ),
        ProtocolParam::Flag {
            name: "suspicion_confirmations",
            default: "`lifeguard`",
            doc: "the suspicion timeout shrinks from its maximum with independent confirmations",
        },
        ProtocolParam::Flag {
            name: "nacks",
            default: "`lifeguard`",
            doc: "indirect probers answer with a nack when the target is silent",
        },
        ProtocolParam::Flag {
            name: "buddy",
            default: "`lifeguard`",
            doc: "a probe tells a suspected target it is suspected, so it refutes at once",
        },
        count(
            "udp_buffer_size",
            None,
            64.0,
            65_507.0,
            "bytes of a UDP packet: updates ride on a message while they fit, by memberlist's \
             encoded sizes (UDPBufferSize)",
        ),
        count(
            "member_name_length",
            None,
            1.0,
            255.0,
            "bytes in each member's name, for message sizes (16 in every preset, a host name such as \
             consul-server-07: memberlist names a member after its host)",
        ),
    ],
};

/// memberlist's three configurations: the defaults of every number of
/// `kind = "swim"` (names as in [`SWIM`]).
pub static SWIM_PRESETS: &[(&str, &[(&str, f64)])] = &[
    (
        "memberlist-lan",
        &[
            ("period", ms(1000.0)),
            ("ping_timeout", ms(500.0)),
            ("indirect_probes", 3.0),
            ("suspicion_mult", 4.0),
            ("suspicion_max_mult", 6.0),
            ("retransmit_mult", 4.0),
            ("gossip_interval", ms(200.0)),
            ("gossip_nodes", 3.0),
            ("gossip_to_the_dead", ms(30_000.0)),
            ("push_pull_interval", ms(30_000.0)),
            ("udp_buffer_size", 1400.0),
            ("member_name_length", 16.0),
            ("awareness_max", 8.0),
        ],
    ),
    (
        "memberlist-wan",
        &[
            ("period", ms(5000.0)),
            ("ping_timeout", ms(3000.0)),
            ("indirect_probes", 3.0),
            ("suspicion_mult", 6.0),
            ("suspicion_max_mult", 6.0),
            ("retransmit_mult", 4.0),
            ("gossip_interval", ms(500.0)),
            ("gossip_nodes", 4.0),
            ("gossip_to_the_dead", ms(60_000.0)),
            ("push_pull_interval", ms(60_000.0)),
            ("udp_buffer_size", 1400.0),
            ("member_name_length", 16.0),
            ("awareness_max", 8.0),
        ],
    ),
    (
        "memberlist-local",
        &[
            ("period", ms(1000.0)),
            ("ping_timeout", ms(200.0)),
            ("indirect_probes", 1.0),
            ("suspicion_mult", 3.0),
            ("suspicion_max_mult", 6.0),
            ("retransmit_mult", 2.0),
            ("gossip_interval", ms(100.0)),
            ("gossip_nodes", 3.0),
            ("gossip_to_the_dead", ms(15_000.0)),
            ("push_pull_interval", ms(15_000.0)),
            ("udp_buffer_size", 1400.0),
            ("member_name_length", 16.0),
            ("awareness_max", 8.0),
        ],
    ),
];

static KINDS: &[&ProtocolKind] = &[&GOSSIP, &K_MONITOR, &SWIM];

/// Every protocol kind, in a stable order.
pub fn kinds() -> &'static [&'static ProtocolKind] {
    KINDS
}

/// The kind named `name`.
pub fn find(name: &str) -> Option<&'static ProtocolKind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// Keys every `[[protocols]]` entry may hold besides its kind's parameters.
pub const RESERVED_KEYS: [&str; 2] = ["kind", "name"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::registry;

    #[test]
    fn kinds_have_unique_names_and_documented_parameters() {
        let mut names: Vec<&str> = kinds().iter().map(|k| k.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), kinds().len());
        for k in kinds() {
            for p in k.params {
                if let ProtocolParam::Number(spec) = p {
                    assert!(!spec.doc.is_empty());
                    if let Some(d) = spec.default {
                        spec.check(d).unwrap();
                    }
                }
            }
            if let Some(s) = k.default_swept {
                assert!(matches!(k.param(s), Some(ProtocolParam::Number(_))));
            }
        }
    }

    #[test]
    fn k_monitor_keys_do_not_clash_with_any_detector_parameter() {
        for d in registry::kinds() {
            for p in std::iter::once(&d.swept).chain(d.params) {
                assert!(K_MONITOR.param(p.name).is_none(), "{}", p.name);
                assert!(!RESERVED_KEYS.contains(&p.name));
            }
        }
    }

    #[test]
    fn swim_presets_set_every_number_within_range() {
        for (name, values) in SWIM_PRESETS {
            for p in SWIM.params {
                if let ProtocolParam::Number(spec) = p {
                    let v = values.iter().find(|(n, _)| *n == spec.name);
                    let (_, v) = v.unwrap_or_else(|| panic!("{name} lacks {}", spec.name));
                    spec.check(*v).unwrap();
                }
            }
        }
        let lan = SwimSettings::default();
        assert_eq!(lan.period, Nanos::from_secs(1));
        assert_eq!(SWIM_PRESETS[0].1[0], ("period", ms(1000.0)));
    }
}
