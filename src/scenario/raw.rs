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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Text>,
    pub description: Option<String>,
    pub duration: Text,
    pub warmup: Option<Text>,
    pub seeds: Option<Spanned<toml::Value>>,
    pub base_seed: Option<Spanned<i64>>,
    pub heartbeat: RawHeartbeat,
    pub nodes: Option<RawNodes>,
    pub network: RawNetwork,
    #[serde(default)]
    pub partitions: Vec<Spanned<RawPartition>>,
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    pub detectors: Spanned<Vec<RawDetector>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    pub interval: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodes {
    pub monitors: Spanned<Vec<Text>>,
    pub targets: Spanned<Vec<Text>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub latency: Spanned<RawLatency>,
    pub loss: Option<Spanned<f64>>,
    #[serde(default)]
    pub links: Vec<Spanned<RawLink>>,
}

#[derive(Debug, Deserialize)]
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub from: Text,
    pub to: Text,
    pub latency: Option<Spanned<RawLatency>>,
    pub loss: Option<Spanned<f64>>,
    #[serde(default)]
    pub symmetric: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPartition {
    pub start: Text,
    pub end: Text,
    pub a: Spanned<Vec<Text>>,
    pub b: Spanned<Vec<Text>>,
    pub direction: Option<Text>,
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
}
