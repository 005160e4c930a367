//! Named presets: the failure-detection defaults of systems people run,
//! for a `[[detectors]]` entry to name with `preset = "cassandra"`.
//!
//! A preset fixes the detector kind and a value for *every* parameter of
//! that kind, the swept one included, so a later change to a kind's
//! defaults cannot change what a preset means. Keys written in the entry
//! override the preset's values, and the swept parameter may be given to
//! sweep around the preset's value (see `docs/scenarios.md`).
//!
//! Each preset records where its values come from and the heartbeat
//! interval of the real system. That interval is informational: the
//! scenario's `[heartbeat] interval` still governs the simulation, and a
//! preset's timeout only makes sense with a comparable heartbeat.
//!
//! Adding a preset is one entry in [`PRESETS`]; the tests check that it
//! names a registered kind, sets every parameter of it within range, and
//! that its name is not also a kind's.

use super::registry::{self, ms, DetectorKind};
use crate::sim::time::Nanos;

/// One named preset.
#[derive(Debug)]
pub struct Preset {
    /// The `preset = "..."` name.
    pub name: &'static str,
    /// The detector kind it configures.
    pub kind: &'static str,
    /// One value, in internal units, for every parameter of the kind, the
    /// swept parameter first.
    pub values: &'static [(&'static str, f64)],
    /// The heartbeat interval the real system uses (informational).
    pub heartbeat: Nanos,
    /// The system and the configuration keys the values come from.
    pub source: &'static str,
    /// How the values were derived and what the model leaves out.
    pub note: &'static str,
}

impl Preset {
    /// The registered kind this preset configures (`None` only if the
    /// table names a kind that does not exist, which the tests rule out).
    pub fn detector_kind(&self) -> Option<&'static DetectorKind> {
        registry::find(self.kind)
    }

    /// The preset's value of parameter `name`, in internal units.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// Seconds as internal nanoseconds.
const fn s(v: f64) -> f64 {
    ms(v * 1000.0)
}

/// Every preset, in the order `fdsim detectors --presets` lists them.
static PRESETS: &[Preset] = &[
    Preset {
        name: "akka",
        kind: "phi-akka",
        values: &[
            ("threshold", 8.0),
            ("max_sample_size", 1000.0),
            ("min_std_deviation", ms(100.0)),
            ("acceptable_heartbeat_pause", s(3.0)),
            ("first_heartbeat_estimate", s(1.0)),
        ],
        heartbeat: Nanos::from_secs(1),
        source: "Akka Cluster (and Apache Pekko) reference.conf, akka.cluster.failure-detector: \
                 heartbeat-interval 1 s, threshold 8.0, max-sample-size 1000, \
                 min-std-deviation 100 ms, acceptable-heartbeat-pause 3 s",
        note: "first_heartbeat_estimate is Akka's heartbeat-interval, which Akka uses to seed \
               the window. Akka has each member watched by several others (9 by default, 5 in \
               older versions) and acts on their combined view; fdsim scores each \
               monitor-target pair on its own.",
    },
    Preset {
        name: "akka-cross-dc",
        kind: "fixed",
        values: &[("timeout", s(13.0))],
        heartbeat: Nanos::from_secs(3),
        source: "Akka Cluster multi-data-center reference.conf, \
                 akka.cluster.multi-data-center.failure-detector: heartbeat-interval 3 s, \
                 acceptable-heartbeat-pause 10 s, with Akka's DeadlineFailureDetector",
        note: "Akka's deadline detector declares a node unreachable once the silence since its \
               last heartbeat reaches acceptable-heartbeat-pause + heartbeat-interval, so the \
               timeout is 10 s + 3 s = 13 s.",
    },
    Preset {
        name: "cassandra",
        kind: "phi-exp",
        values: &[
            ("threshold", 8.0),
            ("window", 1000.0),
            ("initial_value", s(2.0)),
            ("max_interval", s(2.0)),
        ],
        heartbeat: Nanos::from_secs(1),
        source: "Apache Cassandra: phi_convict_threshold 8 (cassandra.yaml); \
                 gms/FailureDetector.java ArrivalWindow: 1000 intervals, initial and largest \
                 recorded interval 2 s (twice the 1 s gossip interval)",
        note: "Heartbeats travel by gossip: each node gossips to a random live peer once a \
               second, so a given peer's heartbeat is refreshed about once a second in small \
               clusters and less regularly in large ones.",
    },
    Preset {
        name: "cassandra-ec2",
        kind: "phi-exp",
        values: &[
            ("threshold", 12.0),
            ("window", 1000.0),
            ("initial_value", s(2.0)),
            ("max_interval", s(2.0)),
        ],
        heartbeat: Nanos::from_secs(1),
        source: "as cassandra, with phi_convict_threshold 12: DataStax's Cassandra \
                 documentation advises raising it to 10-12 on Amazon EC2 and other unstable \
                 networks",
        note: "Takes 12, the upper end of the advice; write threshold = 10 for the lower end, \
               or threshold = [10, 12] to compare both.",
    },
    Preset {
        name: "hazelcast",
        kind: "phi-akka",
        values: &[
            ("threshold", 10.0),
            ("max_sample_size", 200.0),
            ("min_std_deviation", ms(100.0)),
            ("acceptable_heartbeat_pause", s(60.0)),
            ("first_heartbeat_estimate", s(5.0)),
        ],
        heartbeat: Nanos::from_secs(5),
        source: "Hazelcast with hazelcast.heartbeat.failuredetector.type = phi-accrual: \
                 hazelcast.heartbeat.phiaccrual.failuredetector.threshold 10, .sample.size 200, \
                 .min.std.dev.millis 100; hazelcast.heartbeat.interval.seconds 5 and \
                 hazelcast.max.no.heartbeat.seconds 60 (defaults)",
        note: "Hazelcast's φ detector is a port of Akka's (logistic CDF, pause added to the \
               mean, intervals that end a suspicion not recorded), hence phi-akka. It takes \
               max.no.heartbeat.seconds as the acceptable pause and the heartbeat interval as \
               the first estimate. Hazelcast's own phi-accrual example sets a 1 s heartbeat: \
               then also write first_heartbeat_estimate = \"1s\". Hazelcast's default detector \
               is the deadline one, a fixed 60 s timeout.",
    },
    Preset {
        name: "etcd",
        kind: "fixed",
        values: &[("timeout", s(1.0))],
        heartbeat: Nanos::from_millis(100),
        source: "etcd: --election-timeout 1000 ms, --heartbeat-interval 100 ms (etcd tuning \
                 guide: heartbeat about the round-trip time, election timeout at least 10 \
                 round trips)",
        note: "A Raft follower that hears nothing from the leader for its election timeout \
               starts an election. etcd draws each follower's timeout between one and two \
               election timeouts; the preset takes the lower end, 1 s.",
    },
    Preset {
        name: "kubernetes",
        kind: "fixed",
        values: &[("timeout", s(40.0))],
        heartbeat: Nanos::from_secs(10),
        source: "Kubernetes kube-controller-manager --node-monitor-grace-period 40 s; the \
                 kubelet renews its node Lease and posts its status every 10 s",
        note: "Kubernetes 1.32 raised the default grace period to 50 s \
               (kubernetes/kubernetes#126287): write timeout = \"50s\" for it. The node \
               controller looks every --node-monitor-period (5 s), so a real cluster marks a \
               node up to 5 s after the grace period.",
    },
    Preset {
        name: "kafka",
        kind: "fixed",
        values: &[("timeout", s(45.0))],
        heartbeat: Nanos::from_secs(3),
        source: "Apache Kafka consumer groups: session.timeout.ms 45000 (since Kafka 3.0, \
                 KIP-735; 10 s before), heartbeat.interval.ms 3000",
        note: "The group coordinator removes a consumer whose heartbeats stop for the session \
               timeout. Under the newer consumer group protocol (KIP-848) the broker sets them: \
               session 45 s, heartbeat 5 s.",
    },
    Preset {
        name: "zookeeper",
        kind: "fixed",
        values: &[("timeout", s(4.0))],
        heartbeat: Nanos::from_millis(1333),
        source: "Apache ZooKeeper: tickTime 2000 ms (the shipped zoo_sample.cfg); \
                 minSessionTimeout defaults to 2 ticks (4 s), maxSessionTimeout to 20 ticks \
                 (40 s)",
        note: "A client asks for a session timeout and the server clamps it into [4 s, 40 s]; \
               the preset takes 4 s, the shortest session the defaults grant (write what your \
               clients ask for instead: zkCli.sh asks for 30 s). The server expires a session \
               it has not heard from for the timeout; the Java client pings after a third of \
               it without sending, 1.333 s at 4 s.",
    },
    Preset {
        name: "redis-cluster",
        kind: "fixed",
        values: &[("timeout", s(15.0))],
        heartbeat: Nanos::from_secs(1),
        source: "Redis Cluster: cluster-node-timeout 15000 ms (redis.conf)",
        note: "A node flags a peer as possibly failing (PFAIL) once it has heard nothing from \
               it for the node timeout with a ping outstanding; the cluster-wide FAIL needs a \
               majority of masters, which fdsim does not model. Each second a node pings one \
               peer (the least recently answered of five random ones), and any peer it has not \
               pinged for half the node timeout, so a given peer is pinged every 1 to 7.5 s.",
    },
    Preset {
        name: "elasticsearch",
        kind: "fixed",
        values: &[("timeout", s(33.0))],
        heartbeat: Nanos::from_secs(1),
        source: "Elasticsearch 7 and later: cluster.fault_detection.follower_check.interval \
                 1 s, .timeout 10 s, .retry_count 3 (the leader checks alike)",
        note: "The master removes a node after 3 consecutive failed checks, each sent 1 s after \
               the previous one ended. A node that falls silent (as fdsim's crashes do) fails \
               each check at its 10 s timeout: removal comes 3 × (1 s + 10 s) = 33 s after \
               the last answered check, modelled as a fixed 33 s timeout. It differs from \
               Elasticsearch in that one answered check between lost ones resets the count \
               there, and a crashed process whose host refuses connections fails its checks \
               at once (removal in about 3 s).",
    },
    Preset {
        name: "rabbitmq-aten",
        kind: "satzger",
        values: &[("threshold", 0.99), ("window", 1000.0), ("factor", 1.5)],
        heartbeat: Nanos::from_millis(100),
        source: "RabbitMQ's aten library (the detector of Ra, behind quorum queues), \
                 aten_detect.erl: detection threshold 0.99, window 1000, samples scaled by \
                 1.5, heartbeat every 100 ms",
        note: "aten's suspicion is the fraction of the last 1000 inter-arrival times, each \
               times 1.5, that the current silence has outlasted.",
    },
];

/// Every preset, in a stable order.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

/// The preset named `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names of every preset, for error messages.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_sets_every_parameter_of_a_registered_kind_within_range() {
        for p in presets() {
            let kind = p
                .detector_kind()
                .unwrap_or_else(|| panic!("{}: unknown kind {}", p.name, p.kind));
            let specs: Vec<_> = std::iter::once(&kind.swept).chain(kind.params).collect();
            assert_eq!(p.values.len(), specs.len(), "{}", p.name);
            assert_eq!(p.values[0].0, kind.swept.name, "{}: swept first", p.name);
            for spec in specs {
                let v = p
                    .value(spec.name)
                    .unwrap_or_else(|| panic!("{} does not set {}", p.name, spec.name));
                spec.check(v).unwrap_or_else(|e| panic!("{}: {e}", p.name));
            }
            assert!(p.heartbeat > Nanos::ZERO);
            assert!(!p.source.is_empty() && !p.note.is_empty(), "{}", p.name);
        }
    }

    #[test]
    fn preset_names_are_unique_and_distinct_from_kind_names() {
        let mut names = names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), presets().len());
        for n in names {
            assert!(registry::find(n).is_none(), "{n} is also a kind");
        }
    }

    #[test]
    fn derived_timeouts_follow_their_stated_arithmetic() {
        // Akka cross-DC: pause 10 s + heartbeat 3 s.
        assert_eq!(find("akka-cross-dc").unwrap().value("timeout"), Some(13e9));
        // Elasticsearch: 3 checks of (1 s interval + 10 s timeout).
        assert_eq!(
            find("elasticsearch").unwrap().value("timeout"),
            Some(3.0 * 11e9)
        );
        // ZooKeeper: 2 ticks of 2 s; the client pings after a third of it.
        let zk = find("zookeeper").unwrap();
        assert_eq!(zk.value("timeout"), Some(4e9));
        assert_eq!(zk.heartbeat, Nanos::from_millis(4000 * 2 / 3 / 2));
    }
}
