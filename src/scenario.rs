//! Scenario files: TOML describing the network, the faults and the
//! detectors with their parameter sweeps.
//!
//! Parsing is two steps: serde reads the file into raw structs that keep
//! spans (`raw.rs`), then `validate.rs` checks every field and builds the
//! typed [`Scenario`]. Both steps report errors the same way, with file,
//! line, column and a caret ([`ScenarioError`]).

pub mod downing;
pub mod error;
pub mod protocol;
pub mod raw;
mod syntax;
mod validate;

pub use error::{Diagnostic, ScenarioError};
pub use protocol::{ProtocolConfig, ProtocolSettings, SWIM_PRESETS};

use crate::detector::registry::ParamUnit;
use crate::detector::{DetectorKind, Params};
use crate::fault::FaultSpec;
use crate::net::{LinkModel, Partition, Topology};
use crate::sim::agent::NodeId;
use crate::sim::time::Nanos;
use std::path::{Path, PathBuf};

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub path: PathBuf,
    /// Length of each run.
    pub duration: Nanos,
    /// Mistakes before this time are not scored.
    pub warmup: Nanos,
    /// One run per seed.
    pub seeds: Vec<u64>,
    /// Pairwise heartbeat interval (`[heartbeat]`); zero when the scenario
    /// has no pairwise detectors and gives no `[heartbeat]`.
    pub interval: Nanos,
    /// Extra delay drawn for every heartbeat period (sender jitter), if any.
    pub jitter: Option<crate::net::Latency>,
    /// Push heartbeats (targets send) or pull (monitors ping, targets
    /// answer), from `[heartbeat] style`.
    pub style: crate::protocol::heartbeat::Style,
    /// Node names; a node's id is its index here. Every node is a member
    /// of the cluster the `[[protocols]]` run on.
    pub nodes: Vec<String>,
    /// Pairwise monitors and targets (both empty without `[[detectors]]`).
    pub monitors: Vec<NodeId>,
    pub targets: Vec<NodeId>,
    /// One clock per node, in node order (`[[clocks]]`; perfect if not
    /// listed). Offsets carry a common shift so that none is negative.
    pub clocks: Vec<crate::sim::Clock>,
    /// Which pairs of nodes a direct link joins (`network.topology`);
    /// other pairs talk over shortest-path routes.
    pub topology: Topology,
    /// The `[[regions]]`, in file order; empty without regions.
    pub regions: Vec<Region>,
    /// Every directed link with its model.
    pub links: Vec<(NodeId, NodeId, LinkModel)>,
    /// The one model of every link, in a scenario with membership
    /// protocols only, a full mesh and no per-link settings: then `links`
    /// is empty and each node draws what it sends from its own stream
    /// (`net:default:<name>`), so memory stays O(n).
    pub uniform_link: Option<LinkModel>,
    pub partitions: Vec<Partition>,
    pub faults: Vec<FaultSpec>,
    pub detectors: Vec<DetectorConfig>,
    /// The recorded heartbeats replayed instead of simulating the network
    /// (`[replay]`), shared among clones.
    pub replay: Option<std::sync::Arc<crate::replay::Replay>>,
    /// `[[protocols]]`: membership protocols, each simulated on its own
    /// once per swept value and seed.
    pub protocols: Vec<ProtocolConfig>,
    /// `[downing]`: downing strategies compared on partitions and crashes
    /// (`docs/partitions.md`).
    pub downing: Option<downing::Downing>,
    /// Things validation accepted but that are probably not meant, such
    /// as a preset tuned for another heartbeat interval; the command line
    /// prints them on stderr.
    pub warnings: Vec<Diagnostic>,
    /// `[report]`: what the report shows beyond the defaults.
    pub report: ReportSettings,
    /// `[sweep]`: the scenario once per value of another field. Then
    /// `detectors` holds every variant's detectors, variant by variant,
    /// labelled `LABEL @ FIELD=VALUE`, and each run simulates every
    /// variant.
    pub sweep: Option<Sweep>,
}

/// A second swept field (`[sweep]`): the whole scenario once per value.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The dotted path swept, as written (`heartbeat.interval`).
    pub field: String,
    /// Each value as written (`"100ms"` → `100ms`).
    pub labels: Vec<String>,
    /// The scenario with the field set to each value, without a sweep.
    pub variants: Vec<Scenario>,
}

impl Sweep {
    /// The last key of the field: `interval` for `heartbeat.interval`.
    pub fn leaf(&self) -> &str {
        self.field.rsplit('.').next().unwrap_or(&self.field)
    }
}

/// `[report]` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportSettings {
    /// The durations D of the "mistakes per hour lasting longer than D"
    /// figures: one to three, increasing (default 1 s, 10 s, 1 min).
    pub mistake_longer_than: Vec<Nanos>,
    /// Whether to draw `mistake-durations.svg`, the complementary CDF of
    /// mistake durations (default false).
    pub mistake_duration_plot: bool,
}

impl Default for ReportSettings {
    fn default() -> ReportSettings {
        ReportSettings {
            mistake_longer_than: vec![
                Nanos::from_secs(1),
                Nanos::from_secs(10),
                Nanos::from_secs(60),
            ],
            mistake_duration_plot: false,
        }
    }
}

/// One line of a scenario's trade-off curve: a `[[detectors]]` entry or a
/// `[[protocols]]` entry. Reports number series detectors first, then
/// protocols, each in file order (the index of a result's `qos`).
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    pub label: &'a str,
    /// The detector or protocol kind.
    pub kind: &'static str,
    /// The swept parameter's name and unit.
    pub param: &'static str,
    pub unit: ParamUnit,
    pub values: &'a [f64],
    /// The protocol's index in `protocols`, for a protocol series.
    pub protocol: Option<usize>,
    /// The `[sweep]` variant of a detector series (0 without a sweep).
    pub variant: usize,
}

/// One `[[regions]]` entry: a named group of nodes (a data centre, an
/// availability zone). Every node is in exactly one region when any is
/// declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    pub nodes: Vec<NodeId>,
}

/// One `[[detectors]]` entry.
#[derive(Clone, Debug)]
pub struct DetectorConfig {
    /// Label in tables and CSV (`name`, or the kind).
    pub label: String,
    pub kind: &'static DetectorKind,
    pub params: Params,
    /// Values of the swept parameter, in internal units, as declared.
    pub values: Vec<f64>,
    /// Absolute limits `fdsim check` gates on.
    pub budget: Budget,
    /// The `[sweep]` variant it runs in (0 without a sweep).
    pub variant: usize,
}

/// Absolute accuracy limits for one detector, written in its
/// `[[detectors]]` entry. `fdsim check` passes a detector when at least one
/// of its swept values meets every limit given (observed values).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    pub max_mistakes_per_hour: Option<f64>,
    pub max_detection_ms_mean: Option<f64>,
    pub max_detection_ms_p99: Option<f64>,
}

impl Budget {
    /// The budget keys a `[[detectors]]` entry may hold.
    pub const KEYS: [&'static str; 3] = [
        "max_mistakes_per_hour",
        "max_detection_ms_mean",
        "max_detection_ms_p99",
    ];

    pub fn is_empty(&self) -> bool {
        *self == Budget::default()
    }
}

impl Scenario {
    /// Every series: detectors, then protocols.
    pub fn series(&self) -> Vec<Series<'_>> {
        let detectors = self.detectors.iter().map(|d| Series {
            label: &d.label,
            kind: d.kind.name,
            param: d.kind.swept.name,
            unit: d.kind.swept.unit,
            values: &d.values,
            protocol: None,
            variant: d.variant,
        });
        let protocols = self.protocols.iter().enumerate().map(|(i, p)| Series {
            label: &p.label,
            kind: p.kind.name,
            param: p.swept.name,
            unit: p.swept.unit,
            values: &p.values,
            protocol: Some(i),
            variant: 0,
        });
        detectors.chain(protocols).collect()
    }

    /// Series `i` (detectors first, then protocols).
    pub fn series_at(&self, i: usize) -> Series<'_> {
        self.series()[i]
    }

    /// Reads and validates one scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::parse(path, &read_scenario(path)?)
    }

    /// Validates scenario text; `path` names it in errors and resolves the
    /// default scenario name.
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
        let settings = text
            .lines()
            .map(str::trim)
            .any(|l| !(l.is_empty() || l.starts_with('#')));
        if !settings {
            let what = if text.trim().is_empty() {
                "is empty"
            } else {
                "holds only comments"
            };
            return Err(ScenarioError::at(
                path,
                text,
                None,
                format!(
                    "the file {what}; a scenario needs at least `duration`, a `[network]` table \
                     (or `[replay]`), and a `[[detectors]]` entry (with `[heartbeat]`) or a \
                     `[[protocols]]` entry; see docs/scenarios.md"
                ),
            ));
        }
        let mut raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
            let (span, message) = syntax::explain(text, e.span(), e.message());
            ScenarioError::at(path, text, span, message)
        })?;
        let sweep = raw.sweep.take();
        let base = validate::validate(path, text, raw)?;
        match sweep {
            Some(raw_sweep) => {
                let sweep = validate::second_sweep(path, text, &base, &raw_sweep)?;
                Ok(base.swept(sweep))
            }
            None => Ok(base),
        }
    }

    /// This scenario with `sweep`'s variants in place of its detectors.
    fn swept(mut self, sweep: Sweep) -> Scenario {
        let mut detectors = Vec::new();
        for (k, (value, v)) in sweep.labels.iter().zip(&sweep.variants).enumerate() {
            for d in &v.detectors {
                let mut d = d.clone();
                d.label = format!("{} @ {}={value}", d.label, sweep.leaf());
                d.variant = k;
                detectors.push(d);
            }
        }
        self.detectors = detectors;
        self.sweep = Some(sweep);
        self
    }

    /// The scenario that simulates `variant` (itself without a sweep).
    pub fn variant(&self, variant: usize) -> &Scenario {
        match &self.sweep {
            Some(s) => &s.variants[variant],
            None => self,
        }
    }

    /// How many pairwise simulations one seed takes: one per variant.
    pub fn variant_count(&self) -> usize {
        self.sweep.as_ref().map_or(1, |s| s.variants.len())
    }

    /// Overrides the seeds: `count` seeds from `base` (either may be absent,
    /// keeping the file's value). Fails, changing nothing, if the last seed
    /// would pass `u64::MAX`.
    pub fn override_seeds(&mut self, count: Option<u64>, base: Option<u64>) -> Result<(), String> {
        if count.is_none() && base.is_none() {
            return Ok(());
        }
        let n = count.unwrap_or(self.seeds.len() as u64);
        if self.replay.is_some() && n > 1 {
            return Err(format!(
                "scenario {} replays a recorded trace, which is one run: give at most one seed",
                self.name
            ));
        }
        let b = base.unwrap_or(self.seeds.first().copied().unwrap_or(1));
        if n > 0 && b.checked_add(n - 1).is_none() {
            return Err(format!(
                "seeds {b} to {b} + {} run past the largest seed, {}",
                n - 1,
                u64::MAX
            ));
        }
        self.seeds = (0..n).map(|i| b + i).collect();
        Ok(())
    }
}

/// The largest scenario file read, in bytes: a scenario is a small TOML
/// file, and a device such as `/dev/zero` never ends.
const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// The operating system's reason, in lowercase and without the error number.
pub(crate) fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string().to_lowercase();
    match text.split_once(" (os error") {
        Some((reason, _)) => reason.to_string(),
        None => text,
    }
}

/// The text of the scenario file at `path`. A directory, a FIFO or a
/// socket is refused by name (a FIFO would block), and the operating
/// system's own reason is given for anything else that cannot be read.
fn read_scenario(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let fail = |reason: String| ScenarioError::Io {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(os_reason(&e)))?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(fail(
            "is a directory; give a scenario file (run, validate, baseline and check also \
             take a directory of them)"
                .into(),
        ));
    }
    if !kind.is_file() && !is_char_device(&kind) {
        return Err(fail(format!(
            "is not a regular file ({}); give a scenario file",
            special_kind(&kind)
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(os_reason(&e)))?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(fail(format!(
            "is larger than {} MiB; a scenario is a small TOML file",
            MAX_SCENARIO_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "is not UTF-8 text (byte {} is not valid UTF-8)",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Whether `kind` is a character device (`/dev/null`), which reads like
/// a file.
fn is_char_device(kind: &std::fs::FileType) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        kind.is_char_device()
    }
    #[cfg(not(unix))]
    {
        let _ = kind;
        false
    }
}

/// What a file that is neither a regular file nor a directory is.
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    let _ = kind;
    "a special file"
}

/// Expands files and directories into the list of scenario files: a
/// directory contributes its `*.toml` files (not recursively), sorted by
/// name. Any other path is kept as given, for [`Scenario::load`] to read
/// or to say why it cannot.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| ScenarioError::Io {
                path: p.clone(),
                reason: os_reason(&e),
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "toml") && f.is_file())
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
