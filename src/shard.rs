//! Shards: one run split across machines (Slurm job arrays, Kubernetes
//! Indexed Jobs, CI matrices) and merged back into the report of an
//! unsharded run, byte for byte.
//!
//! A run is a list of independent [`Unit`]s ([`crate::run::units`]). For
//! `--shard K/N` every machine computes the same [`Plan`] (units dealt to
//! N shards by estimated cost), simulates the units of shard K only, and
//! writes a partial result folder ([`write_partial`]): `results.json` (each
//! unit's [`Outcome`], floats exact) and `manifest.json` ([`Manifest`]: the
//! fdsim version, the command, the shard, each scenario's path, SHA-256 and
//! seeds, the shard's units and the checksum of every file). The folder is
//! written whole or not at all, so a shard that fails or is killed leaves
//! nothing a merge accepts.
//!
//! [`read_partial`] checks one folder against its manifest, [`agree`] checks
//! that the folders come from one run, and [`collect`] puts the outcomes
//! back in result order, naming any missing or duplicated unit and the
//! shard that owed it. [`crate::run::assemble_all`] then builds the same
//! results an unsharded run builds, and the report is written from them
//! by the same code.

pub mod plan;
pub mod sha256;

pub use plan::{assign, unit_cost, Plan, COST_MODEL};

use crate::report::{write_atomic, Transaction};
use crate::run::{Outcome, Unit};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The layout of partial result folders; bumped when it changes.
pub const FORMAT: &str = "fdsim-shard/1";
/// The manifest's file name inside a partial result folder.
pub const MANIFEST: &str = "manifest.json";
/// The outcomes' file name inside a partial result folder.
pub const RESULTS: &str = "results.json";

/// Shard `index` of `count`, both counted from 1 as on the command line
/// (`--shard 2/4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
}

/// The most shards a run may be split into.
pub const MAX_SHARDS: u32 = 100_000;

impl ShardSpec {
    /// Parses `K/N` with 1 ≤ K ≤ N ≤ [`MAX_SHARDS`].
    pub fn parse(text: &str) -> Result<ShardSpec, String> {
        let usage = || {
            format!(
                "takes K/N, shard K of N shards, with 1 <= K <= N <= {MAX_SHARDS} (e.g. 2/4); got \"{text}\""
            )
        };
        let (k, n) = text.trim().split_once('/').ok_or_else(usage)?;
        let k: u32 = k.trim().parse().map_err(|_| usage())?;
        let n: u32 = n.trim().parse().map_err(|_| usage())?;
        if k == 0 || k > n || n > MAX_SHARDS {
            return Err(usage());
        }
        Ok(ShardSpec { index: k, count: n })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The command whose simulations a shard ran; a merge finishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Run,
    Baseline,
    Check,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Run => "run",
            Command::Baseline => "baseline",
            Command::Check => "check",
        }
    }
}

/// One scenario of a sharded run, as every shard must have seen it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEntry {
    pub name: String,
    /// The path as given on the command line; a merge reads it again.
    pub path: String,
    /// [`scenario_hash`]: the file and the data files it names.
    pub sha256: String,
    /// The seeds simulated (after `--seeds`/`--seed`, or a baseline's).
    pub seeds: Vec<u64>,
}

/// A file of a partial result folder with its checksum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What `fdsim check` compares against, so the merge compares against the
/// same: the baseline folder, each baseline file's checksum, the
/// tolerances given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInputs {
    pub baseline_dir: Option<String>,
    /// `(scenario name, SHA-256 of its baseline file)`, in scenario order.
    pub baselines: Vec<(String, String)>,
    pub tolerances: Vec<String>,
}

/// `manifest.json` of a partial result folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    pub fdsim_version: String,
    pub command: Command,
    pub shard: ShardSpec,
    /// [`COST_MODEL`]: how units were dealt to shards.
    pub cost_model: String,
    pub scenarios: Vec<ScenarioEntry>,
    /// For shards of `fdsim check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckInputs>,
    /// The names ([`Unit::name`]) of this shard's units, in result order.
    pub units: Vec<String>,
    /// Every other file of the folder.
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// The manifest of shard `spec` of `command` over `scenarios`, for the
    /// units `mine`, with no files listed yet.
    pub fn new(
        command: Command,
        spec: ShardSpec,
        scenarios: &[Scenario],
        mine: &[Unit],
        check: Option<CheckInputs>,
    ) -> std::io::Result<Manifest> {
        let entries = scenarios
            .iter()
            .map(|sc| {
                Ok(ScenarioEntry {
                    name: sc.name.clone(),
                    path: sc.path.display().to_string(),
                    sha256: scenario_hash(sc)?,
                    seeds: sc.seeds.clone(),
                })
            })
            .collect::<std::io::Result<_>>()?;
        Ok(Manifest {
            format: FORMAT.into(),
            fdsim_version: env!("CARGO_PKG_VERSION").into(),
            command,
            shard: spec,
            cost_model: COST_MODEL.into(),
            scenarios: entries,
            check,
            units: mine.iter().map(|u| u.name(scenarios)).collect(),
            files: Vec::new(),
        })
    }

    /// Everything but the shard, its units and its files: what every
    /// shard of one run has in common.
    fn run_identity(&self) -> (&str, &str, Command, u32, &str, &[ScenarioEntry]) {
        (
            &self.format,
            &self.fdsim_version,
            self.command,
            self.shard.count,
            &self.cost_model,
            &self.scenarios,
        )
    }
}

/// What went wrong reading or merging shards: a lowercase message naming
/// the folder, file or unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardError(pub String);

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShardError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ShardError> {
    Err(ShardError(msg.into()))
}

/// The SHA-256 of a scenario's inputs: its file, then each data file it
/// names (`file = "..."` anywhere, read relative to the scenario's folder),
/// each preceded by its name. A merge compares it with the shards' to make
/// sure it reports what they simulated.
pub fn scenario_hash(sc: &Scenario) -> std::io::Result<String> {
    let text = std::fs::read(&sc.path)?;
    let mut h = sha256::Sha256::new();
    h.update(&text);
    let dir = sc.path.parent().unwrap_or(Path::new(""));
    let value: Option<toml::Value> = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| toml::from_str(t).ok());
    let mut files = Vec::new();
    if let Some(v) = &value {
        data_files(v, &mut files);
    }
    for f in files {
        h.update(b"\0");
        h.update(f.as_bytes());
        h.update(b"\0");
        h.update(&std::fs::read(dir.join(f))?);
    }
    Ok(h.hex())
}

/// Every string under a key named `file`, in document order.
fn data_files<'a>(v: &'a toml::Value, out: &mut Vec<&'a str>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match v {
                    toml::Value::String(s) if k == "file" => out.push(s),
                    other => data_files(other, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| data_files(v, out)),
        _ => {}
    }
}

/// One unit's outcome as `results.json` stores it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitResult {
    unit: String,
    outcome: Outcome,
}

/// Writes a partial result folder at `out`, replacing whatever was there,
/// whole or not at all ([`Transaction`]): `results.json` holds
/// `outcomes` (one per unit of `manifest.units`, in order) and
/// `manifest.json` is completed with its checksum.
pub fn write_partial(
    out: &Path,
    mut manifest: Manifest,
    outcomes: Vec<Outcome>,
) -> std::io::Result<()> {
    assert_eq!(manifest.units.len(), outcomes.len(), "one outcome per unit");
    let rows: Vec<UnitResult> = manifest
        .units
        .iter()
        .cloned()
        .zip(outcomes)
        .map(|(unit, outcome)| UnitResult { unit, outcome })
        .collect();
    let results = serde_json::to_vec(&rows).map_err(std::io::Error::other)?;
    let tx = Transaction::begin(out)?;
    write_atomic(&tx.dir().join(RESULTS), &results)?;
    manifest.files = vec![FileEntry {
        path: RESULTS.into(),
        bytes: results.len() as u64,
        sha256: sha256::hex(&results),
    }];
    let text = serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)?;
    write_atomic(&tx.dir().join(MANIFEST), format!("{text}\n").as_bytes())?;
    tx.commit_replacing()
}

/// A partial result folder, checked against its manifest.
#[derive(Debug)]
pub struct Partial {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// One outcome per unit of `manifest.units`, in that order.
    pub outcomes: Vec<Outcome>,
}

/// Reads the partial result folder `dir` and checks it: a manifest of this
/// fdsim's format and version, every file it lists present with its size
/// and checksum, no file it does not list, and one outcome per unit listed.
pub fn read_partial(dir: &Path) -> Result<Partial, ShardError> {
    let shown = dir.display();
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with('.') && name.contains(".staging-") {
        return err(format!(
            "{shown} is the staging folder of a shard that did not finish (failed or killed); \
             rerun that shard"
        ));
    }
    if !dir.is_dir() {
        return err(format!(
            "{shown} is not a folder, so not a finished shard (a shard that failed or was \
             killed early leaves none); rerun it"
        ));
    }
    let manifest_path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return err(format!(
                "{shown} holds no {MANIFEST}: it is not a finished shard (a shard that failed or \
                 was killed leaves none); rerun it"
            ))
        }
        Err(e) => {
            return err(format!(
                "cannot read {}: {}",
                manifest_path.display(),
                lower(&e)
            ))
        }
    };
    let manifest = parse_manifest(&manifest_path, &text)?;
    let results = check_files(dir, &manifest)?;
    let rows: Vec<UnitResult> = serde_json::from_slice(&results).map_err(|e| {
        ShardError(format!(
            "{}: not a shard's results: {e}",
            dir.join(RESULTS).display()
        ))
    })?;
    let names: Vec<&str> = rows.iter().map(|r| r.unit.as_str()).collect();
    if names
        != manifest
            .units
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    {
        return err(format!(
            "{}: its units differ from those its manifest lists",
            dir.join(RESULTS).display()
        ));
    }
    Ok(Partial {
        dir: dir.to_path_buf(),
        manifest,
        outcomes: rows.into_iter().map(|r| r.outcome).collect(),
    })
}

fn parse_manifest(path: &Path, text: &str) -> Result<Manifest, ShardError> {
    let shown = path.display();
    // The format and version first, for a clear message across versions.
    let head: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ShardError(format!("{shown}: not a shard manifest: {e}")))?;
    let format = head.get("format").and_then(|v| v.as_str()).unwrap_or("");
    if format != FORMAT {
        return err(format!(
            "{shown}: not a shard manifest of this fdsim (format \"{format}\", expected \"{FORMAT}\")"
        ));
    }
    let version = head
        .get("fdsim_version")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let ours = env!("CARGO_PKG_VERSION");
    if version != ours {
        return err(format!(
            "{shown}: written by fdsim {version}, and this is fdsim {ours}: run every shard and \
             the merge with one fdsim"
        ));
    }
    serde_json::from_value(head).map_err(|e| ShardError(format!("{shown}: {e}")))
}

/// Checks the files of `dir` against `manifest` and returns the results
/// file's bytes.
fn check_files(dir: &Path, manifest: &Manifest) -> Result<Vec<u8>, ShardError> {
    let listed: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    if listed != [RESULTS] {
        return err(format!(
            "{}: lists files {listed:?}; a shard writes exactly [\"{RESULTS}\"]",
            dir.join(MANIFEST).display()
        ));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ShardError(format!("cannot read {}: {}", dir.display(), lower(&e))))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name != MANIFEST && !listed.contains(&name.as_str()) {
            return err(format!(
                "{}: not listed in its shard's manifest (added after the shard finished?); \
                 remove it or rerun the shard",
                e.path().display()
            ));
        }
    }
    let mut out = Vec::new();
    for f in &manifest.files {
        let path = dir.join(&f.path);
        let bytes = std::fs::read(&path).map_err(|e| {
            ShardError(format!(
                "cannot read {} (listed in its manifest): {}",
                path.display(),
                lower(&e)
            ))
        })?;
        let sum = sha256::hex(&bytes);
        if bytes.len() as u64 != f.bytes || sum != f.sha256 {
            return err(format!(
                "{}: {} bytes with SHA-256 {sum}, but its manifest says {} bytes with {}: the \
                 file was damaged or changed; rerun shard {}",
                path.display(),
                bytes.len(),
                f.bytes,
                f.sha256,
                manifest.shard
            ));
        }
        out = bytes;
    }
    Ok(out)
}

/// An I/O error as a lowercase phrase, without the OS error number.
fn lower(e: &std::io::Error) -> String {
    let text = e.to_string().to_lowercase();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Checks that `parts` are shards of one run: one command, shard count,
/// cost model and check inputs, the same scenarios with the same contents
/// and seeds, each shard at most once. Returns the first manifest.
pub fn agree(parts: &[Partial]) -> Result<&Manifest, ShardError> {
    let Some(first) = parts.first() else {
        return err("no shard folders given");
    };
    let a = &first.manifest;
    for p in &parts[1..] {
        let b = &p.manifest;
        if a.run_identity() == b.run_identity() && a.check == b.check {
            continue;
        }
        let what = if a.command != b.command {
            format!(
                "the first is of fdsim {}, the second of fdsim {}",
                a.command.name(),
                b.command.name()
            )
        } else if a.shard.count != b.shard.count {
            format!(
                "the first is one of {} shards, the second one of {}",
                a.shard.count, b.shard.count
            )
        } else if a.cost_model != b.cost_model {
            format!(
                "they were planned with different cost models ({} and {})",
                a.cost_model, b.cost_model
            )
        } else if a.check != b.check {
            "they checked against different baselines or tolerances".to_string()
        } else {
            scenario_difference(&a.scenarios, &b.scenarios)
        };
        return err(format!(
            "{} (shard {}) and {} (shard {}) are not shards of one run: {what}",
            first.dir.display(),
            a.shard,
            p.dir.display(),
            b.shard
        ));
    }
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    for p in parts {
        if let Some(other) = seen.insert(p.manifest.shard.index, &p.dir) {
            return err(format!(
                "shard {} is given twice: {} and {}",
                p.manifest.shard,
                other.display(),
                p.dir.display()
            ));
        }
    }
    Ok(a)
}

fn scenario_difference(a: &[ScenarioEntry], b: &[ScenarioEntry]) -> String {
    for (x, y) in a.iter().zip(b) {
        if x.name != y.name || x.path != y.path {
            return format!(
                "one ran {} ({}) where the other ran {} ({})",
                x.path, x.name, y.path, y.name
            );
        }
        if x.sha256 != y.sha256 {
            return format!(
                "{} had different contents (SHA-256 {} and {})",
                x.path, x.sha256, y.sha256
            );
        }
        if x.seeds != y.seeds {
            return format!("{} ran different seeds", x.path);
        }
    }
    format!("one ran {} scenarios, the other {}", a.len(), b.len())
}

/// Puts the outcomes of `parts` (which [`agree`]) back in the order of
/// `plan`'s units, checking that every unit was produced exactly once, by
/// the shard the plan gives it to. The error names the missing units and
/// the shards that should have produced them, or the folders holding a
/// unit twice.
pub fn collect(
    parts: Vec<Partial>,
    scenarios: &[Scenario],
    plan: &Plan,
) -> Result<Vec<Outcome>, ShardError> {
    let names: Vec<String> = plan.units.iter().map(|u| u.name(scenarios)).collect();
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut slots: Vec<Option<(Outcome, PathBuf)>> = vec![None; plan.units.len()];
    for p in parts {
        let spec = p.manifest.shard;
        for (name, outcome) in p.manifest.units.iter().zip(p.outcomes) {
            let Some(&i) = index.get(name.as_str()) else {
                return err(format!(
                    "{} (shard {spec}) holds unit {name}, which this run does not have",
                    p.dir.display()
                ));
            };
            if plan.shard_of[i] + 1 != spec.index {
                return err(format!(
                    "{} (shard {spec}) holds unit {name}, which the plan gives to shard {}/{}: \
                     shards planned differently cannot be merged",
                    p.dir.display(),
                    plan.shard_of[i] + 1,
                    plan.count
                ));
            }
            if let Some((_, other)) = &slots[i] {
                return err(format!(
                    "unit {name} is produced twice: by {} and by {} (shard {spec})",
                    other.display(),
                    p.dir.display()
                ));
            }
            slots[i] = Some((outcome, p.dir.clone()));
        }
    }
    let missing: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].is_none()).collect();
    if !missing.is_empty() {
        return err(missing_message(&missing, &names, plan));
    }
    Ok(slots.into_iter().flatten().map(|(o, _)| o).collect())
}

/// "3 units are missing: shard 2/4 should have produced a, b, c; ..."
fn missing_message(missing: &[usize], names: &[String], plan: &Plan) -> String {
    let mut by_shard: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for &i in missing {
        by_shard
            .entry(plan.shard_of[i] + 1)
            .or_default()
            .push(&names[i]);
    }
    const SHOWN: usize = 5;
    let parts: Vec<String> = by_shard
        .iter()
        .map(|(s, units)| {
            let mut list = units[..units.len().min(SHOWN)].join(", ");
            if units.len() > SHOWN {
                list.push_str(&format!(" and {} more", units.len() - SHOWN));
            }
            format!("shard {s}/{} should have produced {list}", plan.count)
        })
        .collect();
    let shards: Vec<String> = by_shard
        .keys()
        .map(|s| format!("{s}/{}", plan.count))
        .collect();
    format!(
        "{} unit{} missing: {}; give the folder of shard {} too, or rerun it",
        missing.len(),
        if missing.len() == 1 { " is" } else { "s are" },
        parts.join("; "),
        shards.join(", ")
    )
}
