//! The scenario file as written: serde structs that mirror the TOML, with
//! spans kept for error messages. Nothing here is validated yet; see
//! `validate.rs` for the checks and `docs/scenarios.md` for the fields.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub type Text = Spanned<String>;

/// One `[[detectors]]` table: `kind`, optional `name`, and the detector's
/// parameters, read generically because each kind has its own.
pub type RawDetector = Spanned<BTreeMap<String, Spanned<toml::Value>>>;

/// One `[[protocols]]` table: `kind`, optional `name`, and the protocol's
/// parameters, read generically like a detector's.
pub type RawProtocol = Spanned<BTreeMap<String, Spanned<toml::Value>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Text>,
    pub description: Option<String>,
    pub duration: Text,
    pub warmup: Option<Text>,
    pub seeds: Option<Spanned<toml::Value>>,
    pub base_seed: Option<Spanned<i64>>,
    /// Required with `[[detectors]]`; optional for protocols only.
    pub heartbeat: Option<RawHeartbeat>,
    pub nodes: Option<Spanned<RawNodes>>,
    #[serde(default)]
    pub clocks: Vec<Spanned<RawClock>>,
    /// Required unless `replay` is given.
    pub network: Option<Spanned<RawNetwork>>,
    #[serde(default)]
    pub regions: Vec<Spanned<RawRegion>>,
    #[serde(default)]
    pub partitions: Vec<Spanned<RawPartition>>,
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    pub detectors: Option<Spanned<Vec<RawDetector>>>,
    #[serde(default)]
    pub protocols: Vec<RawProtocol>,
    /// Heartbeats from a recorded trace instead of the network model.
    pub replay: Option<Spanned<RawReplay>>,
    /// What the report shows beyond the defaults.
    pub report: Option<Spanned<RawReport>>,
    /// A second swept field (the first is each detector's own sweep).
    pub sweep: Option<Spanned<RawSweep>>,
    /// Partition or crash: multi-observer detection and downing decisions.
    pub downing: Option<Spanned<RawDowning>>,
}

/// `[report]`: `mistake_longer_than = ["1s", "10s", "1m"]`,
/// `mistake_duration_plot = true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub mistake_longer_than: Option<Spanned<Vec<Text>>>,
    pub mistake_duration_plot: Option<Spanned<bool>>,
}

/// `[sweep] field = "heartbeat.interval"`, `values = ["50ms", "100ms"]`:
/// the whole scenario once per value of another field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub field: Text,
    pub values: Spanned<Vec<Spanned<toml::Value>>>,
}

/// `[downing]`: see `docs/partitions.md`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDowning {
    /// The `name` of an all-to-all k-monitor `[[protocols]]` entry.
    pub observers: Text,
    pub monitored_by: Option<Spanned<i64>>,
    pub rapid: Option<Spanned<RawRapid>>,
    pub lease: Option<Text>,
    pub settle: Option<Text>,
    pub rejoin_after: Option<Text>,
    pub strategies: Spanned<Vec<Spanned<RawStrategy>>>,
}

/// `rapid = { k = 10, h = 9, l = 4 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRapid {
    pub k: Spanned<i64>,
    pub h: Spanned<i64>,
    pub l: Spanned<i64>,
}

/// One `[[downing.strategies]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub strategy: Text,
    pub name: Option<Text>,
    pub detection: Option<Text>,
    /// A duration or a list of them (swept).
    pub stable_after: Option<Spanned<toml::Value>>,
    /// down-after's delay: a duration or a list (swept).
    pub delay: Option<Spanned<toml::Value>>,
    /// `true`/`false` or a duration.
    pub down_all_when_unstable: Option<Spanned<toml::Value>>,
    pub quorum: Option<Spanned<i64>>,
    pub down_if_alone: Option<Spanned<bool>>,
}

/// `[replay] file = "data/trace.csv"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplay {
    pub file: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    pub interval: Text,
    pub jitter: Option<Spanned<RawLatency>>,
    /// `"push"` (targets send) or `"pull"` (monitors ping, targets answer).
    pub style: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodes {
    pub monitors: Option<Spanned<Vec<Text>>>,
    pub targets: Option<Spanned<Vec<Text>>>,
    /// A cluster of `n` members named `m0` … `m{n-1}`.
    pub n: Option<Spanned<i64>>,
    /// A cluster of named members.
    pub members: Option<Spanned<Vec<Text>>>,
}

/// One `[[clocks]]` entry: a node's clock drift and offset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClock {
    pub node: Text,
    pub drift_ppm: Option<Spanned<f64>>,
    /// A duration, optionally with a leading `-`.
    pub offset: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub latency: Spanned<RawLatency>,
    pub loss: Option<Spanned<f64>>,
    pub loss_model: Option<Spanned<RawLossModel>>,
    pub duplicate: Option<Spanned<f64>>,
    #[serde(default)]
    pub links: Vec<Spanned<RawLink>>,
    #[serde(default)]
    pub spikes: Vec<Spanned<RawSpike>>,
    /// `"mesh"` (default), `"pair"`, `"star"` or `"ring"`.
    pub topology: Option<Text>,
    /// The centre of a star.
    pub hub: Option<Text>,
    #[serde(default)]
    pub region_links: Vec<Spanned<RawRegionLink>>,
}

/// One `[[regions]]` entry: a named group of nodes and the model of the
/// links inside it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub name: Text,
    pub nodes: Spanned<Vec<Text>>,
    pub latency: Option<Spanned<RawLatency>>,
    pub loss: Option<Spanned<f64>>,
    pub loss_model: Option<Spanned<RawLossModel>>,
    pub duplicate: Option<Spanned<f64>>,
}

/// One `[[network.region_links]]` entry: the model of the links from one
/// region to another (and back, unless `symmetric = false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegionLink {
    pub from: Text,
    pub to: Text,
    pub latency: Spanned<RawLatency>,
    pub loss: Option<Spanned<f64>>,
    pub loss_model: Option<Spanned<RawLossModel>>,
    pub duplicate: Option<Spanned<f64>>,
    pub symmetric: Option<bool>,
}

/// `loss_model = { kind = "gilbert-elliott", ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLossModel {
    pub kind: Text,
    pub p_good_to_bad: Option<Spanned<f64>>,
    pub p_bad_to_good: Option<Spanned<f64>>,
    pub loss_good: Option<Spanned<f64>>,
    pub loss_bad: Option<Spanned<f64>>,
}

/// One `[[network.spikes]]` window.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpike {
    pub start: Text,
    pub end: Text,
    pub links: Option<Spanned<Vec<Spanned<Vec<Text>>>>>,
    pub add: Option<Text>,
    pub latency: Option<Spanned<RawLatency>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    pub dist: Text,
    pub value: Option<Text>,
    pub min: Option<Text>,
    pub max: Option<Text>,
    pub mean: Option<Text>,
    pub std: Option<Text>,
    pub median: Option<Text>,
    pub sigma: Option<Spanned<f64>>,
    pub shift: Option<Text>,
    pub scale: Option<Text>,
    pub shape: Option<Spanned<f64>>,
    pub file: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub from: Text,
    pub to: Text,
    pub latency: Option<Spanned<RawLatency>>,
    pub loss: Option<Spanned<f64>>,
    pub loss_model: Option<Spanned<RawLossModel>>,
    pub duplicate: Option<Spanned<f64>>,
    #[serde(default)]
    pub symmetric: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPartition {
    pub start: Text,
    pub end: Text,
    pub a: Option<Spanned<Vec<Text>>>,
    pub b: Option<Spanned<Vec<Text>>>,
    /// Isolates this region from every other (in place of `a` and `b`).
    pub region: Option<Text>,
    pub direction: Option<Text>,
    pub flap: Option<Spanned<RawFlap>>,
}

/// `flap = { up = "30s", down = "5s" }` in a `[[partitions]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlap {
    pub up: Text,
    pub down: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: Text,
    pub node: Text,
    pub at: Option<Text>,
    pub restart_after: Option<Text>,
    pub first: Option<Text>,
    pub every: Option<Text>,
    pub down: Option<Text>,
    pub jitter: Option<Text>,
    /// Pause length: a duration, or a distribution table like `latency`.
    pub length: Option<Spanned<RawLength>>,
    pub start: Option<Text>,
    pub end: Option<Text>,
    pub factor: Option<Spanned<f64>>,
    /// Churn: up times (mean time to failure), a duration (exponential
    /// mean) or a distribution table.
    pub mttf: Option<Spanned<RawLength>>,
    /// Churn: down times (mean time to repair), as `mttf`.
    pub mttr: Option<Spanned<RawLength>>,
    /// Join: the seed member the joiner contacts.
    pub via: Option<Text>,
    /// Leave: how long the member runs on after announcing its leave.
    pub linger: Option<Text>,
    /// Leave: when it joins again, after the announcement.
    pub rejoin_after: Option<Text>,
}

/// A length that is either one duration (`"500ms"`) or a distribution
/// table (`{ dist = "uniform", min = "200ms", max = "2s" }`). Read through
/// the TOML deserializer itself, so the table's fields keep their spans.
#[derive(Debug)]
pub enum RawLength {
    Duration(String),
    Dist(Box<RawLatency>),
}

impl<'de> Deserialize<'de> for RawLength {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawLength;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration (\"500ms\") or a distribution table")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawLength, E> {
                Ok(RawLength::Duration(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawLength, A::Error> {
                RawLatency::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|d| RawLength::Dist(Box::new(d)))
            }
        }
        d.deserialize_any(V)
    }
}
