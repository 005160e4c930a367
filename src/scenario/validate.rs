//! From raw structs to a typed [`Scenario`], checking every field.

mod downing;
mod protocols;

use super::raw::*;
use super::{Budget, DetectorConfig, Diagnostic, Region, ReportSettings, Scenario, ScenarioError};
use crate::detector::presets::{self, Preset};
use crate::detector::registry::{self, number_text, ParamSpec, ParamUnit, Params};
use crate::detector::DetectorKind;
use crate::fault::FaultSpec;
use crate::math;
use crate::net::{
    Direction, Flap, GilbertElliott, Latency, LinkModel, Loss, Partition, Spike, SpikeChange,
    Topology,
};
use crate::protocol::heartbeat::Style;
use crate::sim::agent::NodeId;
use crate::sim::clock::Clock;
use crate::sim::time::{parse_duration, Nanos};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

type R<T> = Result<T, ScenarioError>;

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    /// Warnings so far, in file order of the checks.
    warnings: std::cell::RefCell<Vec<Diagnostic>>,
}

impl Ctx<'_> {
    /// Records a warning about `span`; validation goes on.
    fn warn(&self, span: Range<usize>, msg: impl Into<String>) {
        let d = Diagnostic::at(self.path, self.text, Some(span), msg.into());
        self.warnings.borrow_mut().push(d);
    }

    fn err<T>(&self, span: Range<usize>, msg: impl Into<String>) -> R<T> {
        Err(ScenarioError::at(
            self.path,
            self.text,
            Some(span),
            msg.into(),
        ))
    }

    /// The span of the key whose value is at `value` (`bogus` in
    /// `bogus = 3`), so that an unknown key is underlined rather than its
    /// value; `value` itself if the text before it is not `key =`.
    fn key_span(&self, value: Range<usize>) -> Range<usize> {
        let before = &self.text[..value.start.min(self.text.len())];
        let Some(eq) = before.trim_end_matches([' ', '\t']).strip_suffix('=') else {
            return value;
        };
        let key = eq.trim_end_matches([' ', '\t']);
        let end = key.len();
        let start = match key.chars().last() {
            Some(q @ ('"' | '\'')) => key[..end - 1].rfind(q).unwrap_or(end - 1),
            _ => key
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || "_-.".contains(c)))
                .map_or(0, |i| i + 1),
        };
        if start == end {
            return value;
        }
        start..end
    }

    /// The span of `key = ...` inside the table written at `table`, or
    /// `table` if it cannot be found.
    fn key_in(&self, table: Range<usize>, key: &str) -> Range<usize> {
        let text = &self.text[table.clone()];
        let mut from = 0;
        while let Some(i) = text[from..].find(key).map(|i| from + i) {
            let after = text[i + key.len()..].trim_start_matches([' ', '\t']);
            let boundary = text[..i]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            if boundary && after.starts_with('=') {
                return table.start + i..table.start + i + key.len();
            }
            from = i + key.len();
        }
        table
    }

    fn duration(&self, field: &str, v: &Text) -> R<Nanos> {
        parse_duration(v.get_ref()).or_else(|e| self.err(v.span(), format!("`{field}`: {e}")))
    }

    fn positive(&self, field: &str, v: &Text) -> R<Nanos> {
        let d = self.duration(field, v)?;
        if d == Nanos::ZERO {
            return self.err(v.span(), format!("`{field}` must be greater than zero"));
        }
        Ok(d)
    }

    fn node(&self, field: &str, names: &[String], v: &Text) -> R<NodeId> {
        match names.iter().position(|n| n == v.get_ref()) {
            Some(i) => Ok(i as NodeId),
            None => self.err(
                v.span(),
                format!(
                    "`{field}`: unknown node \"{}\"; nodes are {}",
                    v.get_ref(),
                    quoted(names)
                ),
            ),
        }
    }

    /// The number `v`, refused if infinite or NaN (`inf`, `nan` are valid
    /// TOML floats).
    fn finite(&self, field: &str, v: &Spanned<f64>) -> R<f64> {
        let x = *v.get_ref();
        if !x.is_finite() {
            return self.err(
                v.span(),
                format!("`{field}` must be a finite number, got {x}"),
            );
        }
        Ok(x)
    }

    fn probability(&self, field: &str, v: &Spanned<f64>) -> R<f64> {
        let p = self.finite(field, v)?;
        if !(0.0..=1.0).contains(&p) {
            return self.err(
                v.span(),
                format!("`{field}` must be in [0, 1], got {}", number_text(p)),
            );
        }
        Ok(p)
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a scenario name would take the place of a file of the report's
/// top level.
fn is_report_file(name: &str) -> bool {
    ["index.md", "index.html"]
        .iter()
        .any(|f| name.eq_ignore_ascii_case(f))
}

/// Why a detector or protocol label cannot appear in tables, CSV and
/// Markdown as it is, if it cannot.
pub(super) fn bad_label(label: &str) -> Option<&'static str> {
    if label.is_empty() {
        Some("is empty")
    } else if label.chars().any(char::is_control) {
        Some("holds a control character (a newline or tab would break the tables)")
    } else if let Some(c) = label.chars().find(|c| ",|<>&`\"\\".contains(*c)) {
        Some(match c {
            ',' => "holds a comma (it would split a CSV cell)",
            '|' => "holds a '|' (it would split a Markdown table cell)",
            _ => "holds one of < > & ` \" \\ (they would be read as HTML or Markdown)",
        })
    } else {
        None
    }
}

pub(super) fn validate(path: &Path, text: &str, raw: RawScenario) -> R<Scenario> {
    let cx = Ctx {
        path,
        text,
        warnings: Default::default(),
    };
    let name = match &raw.name {
        Some(n) if n.get_ref().trim().is_empty() => return cx.err(n.span(), "`name` is empty"),
        Some(n)
            if !n.get_ref().chars().all(|c| c.is_alphanumeric() || "-_.".contains(c))
                || n.get_ref().starts_with('.') =>
        {
            return cx.err(
                n.span(),
                "`name` may hold only letters, digits, '-', '_' and '.', and may not start with '.' \
                 (it names the output folder)",
            )
        }
        Some(n) if is_report_file(n.get_ref()) => {
            return cx.err(
                n.span(),
                format!(
                    "`name` \"{}\" is the name of a report file; a scenario's folder sits next \
                     to index.md and index.html, so choose another name",
                    n.get_ref()
                ),
            )
        }
        Some(n) => n.get_ref().clone(),
        None => {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into());
            let fine = !stem.starts_with('.')
                && stem.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
            if !fine || is_report_file(&stem) {
                return Err(ScenarioError::at(
                    path,
                    text,
                    Some(top_level(text)),
                    format!(
                        "the file name {stem:?} cannot name the output folder (only letters, \
                         digits, '-', '_' and '.', not starting with '.', and not index.md or \
                         index.html): set `name = \"...\"` in the file"
                    ),
                ));
            }
            stem
        }
    };
    let duration = cx.positive("duration", &raw.duration)?;
    let warmup = match &raw.warmup {
        Some(w) => {
            let d = cx.duration("warmup", w)?;
            if d >= duration {
                return cx.err(
                    w.span(),
                    format!("`warmup` ({d}) must be shorter than `duration` ({duration})"),
                );
            }
            d
        }
        None => Nanos::ZERO,
    };
    let seeds = seeds(&cx, &raw)?;
    // Pairwise detectors, if any: they need heartbeats, monitors and targets.
    let pairwise = raw
        .detectors
        .as_ref()
        .filter(|d| !d.get_ref().is_empty() || raw.protocols.is_empty())
        .map(|d| d.span());
    if pairwise.is_none() && raw.protocols.is_empty() {
        return cx.err(
            0..0,
            "nothing to score: add at least one [[detectors]] entry (a pairwise detector) or \
             [[protocols]] entry (a membership protocol)",
        );
    }
    let (interval, jitter) = heartbeat(&cx, raw.heartbeat.as_ref(), pairwise.clone(), duration)?;
    let style = style(&cx, raw.heartbeat.as_ref().and_then(|h| h.style.as_ref()))?;
    let (nodes, monitors, targets) = nodes(&cx, raw.nodes.as_ref(), pairwise.clone())?;
    let clocks = clocks(&cx, &raw.clocks, &nodes)?;
    let mut uniform_link = None;
    let (topology, regions, links) = match (&raw.network, &raw.replay) {
        (Some(net), None) => {
            let net = net.get_ref();
            let topology = topology(&cx, net, &nodes, &monitors)?;
            let regions = regions(&cx, &raw, &nodes)?;
            // A protocol-only full mesh where every link has the default
            // model is kept as one uniform link (O(n) memory, see
            // `Network::set_default_link`) instead of n(n - 1) links, so
            // that clusters of thousands fit.
            if monitors.is_empty()
                && topology == Topology::Mesh
                && regions.is_empty()
                && net.links.is_empty()
                && net.spikes.is_empty()
                && nodes.len() > 1
            {
                uniform_link = Some(default_link(&cx, net)?);
                (topology, regions, Vec::new())
            } else {
                let links = links(&cx, &raw, net, &nodes, topology, &regions)?;
                (topology, regions, links)
            }
        }
        (None, Some(_)) => (Topology::default(), regions(&cx, &raw, &nodes)?, Vec::new()),
        (Some(net), Some(_)) => {
            return cx.err(
                net.span(),
                "`[network]` does not apply with `[replay]`: the heartbeats come from the \
                 trace; remove one of them",
            )
        }
        (None, None) => {
            return Err(ScenarioError::at(
                path,
                text,
                Some(top_level(text)),
                "missing table `[network]` (or `[replay]`, to take the heartbeats from a \
                 recorded trace)"
                    .into(),
            ))
        }
    };
    let partitions = raw
        .partitions
        .iter()
        .map(|p| partition(&cx, p, &nodes, &regions))
        .collect::<R<Vec<_>>>()?;
    let cluster = !raw.protocols.is_empty();
    let faults = faults(
        &cx,
        &raw.faults,
        &nodes,
        (&monitors, &targets, cluster),
        duration,
    )?;
    let detectors = match (&raw.detectors, &pairwise) {
        (Some(d), Some(_)) => detectors(&cx, d, interval)?,
        _ => Vec::new(),
    };
    let taken: Vec<&str> = detectors.iter().map(|d| d.label.as_str()).collect();
    let protocols = protocols::protocols(&cx, &raw.protocols, &nodes, duration, &taken)?;
    let downing = match &raw.downing {
        Some(d) => Some(downing::downing(&cx, d, &nodes, &protocols)?),
        None => None,
    };
    if downing.is_some() {
        // The decision layer's ground truth knows crashes, pauses and cuts,
        // not members that join or leave on purpose.
        if let Some(f) = raw
            .faults
            .iter()
            .find(|f| matches!(f.get_ref().kind.get_ref().as_str(), "join" | "leave"))
        {
            return cx.err(
                f.get_ref().kind.span(),
                "join and leave faults cannot be combined with [downing] in this version: \
                 its ground truth scores crashes, pauses and network cuts only",
            );
        }
    }
    let mut seeds = seeds;
    let replay = match &raw.replay {
        Some(r) => {
            let nodes = (nodes.as_slice(), monitors.as_slice(), targets.as_slice());
            let shape = (&clocks[..], &faults[..], &detectors[..], duration);
            let replay = replay(&cx, &raw, r, nodes, shape)?;
            if raw.seeds.is_none() {
                seeds.truncate(1);
            }
            Some(std::sync::Arc::new(replay))
        }
        None => None,
    };
    Ok(Scenario {
        name,
        description: raw.description.unwrap_or_default().trim().to_string(),
        path: path.to_path_buf(),
        duration,
        warmup,
        seeds,
        interval,
        jitter,
        style,
        nodes,
        monitors,
        targets,
        clocks,
        topology,
        regions,
        links,
        uniform_link,
        partitions,
        faults,
        detectors,
        replay,
        protocols,
        report: report(&cx, raw.report.as_ref())?,
        sweep: None,
        downing,
        warnings: cx.warnings.take(),
    })
}

/// The most "longer than" durations a report shows (curve.csv has a
/// column pair for each).
pub const MAX_LONGER_THAN: usize = 3;

/// `[report]`: one to three increasing positive durations in
/// `mistake_longer_than`.
fn report(cx: &Ctx, raw: Option<&Spanned<RawReport>>) -> R<ReportSettings> {
    let mut out = ReportSettings::default();
    let Some(raw) = raw.map(Spanned::get_ref) else {
        return Ok(out);
    };
    if let Some(plot) = &raw.mistake_duration_plot {
        out.mistake_duration_plot = *plot.get_ref();
    }
    if let Some(list) = &raw.mistake_longer_than {
        let n = list.get_ref().len();
        if n == 0 || n > MAX_LONGER_THAN {
            return cx.err(
                list.span(),
                format!(
                    "`report.mistake_longer_than` needs 1 to {MAX_LONGER_THAN} durations, got {n}"
                ),
            );
        }
        let mut ds = Vec::with_capacity(n);
        for v in list.get_ref() {
            let d = cx.positive("report.mistake_longer_than", v)?;
            if let Some(&prev) = ds.last() {
                if d <= prev {
                    return cx.err(
                        v.span(),
                        format!(
                            "`report.mistake_longer_than` must increase: {d} does not follow {prev}"
                        ),
                    );
                }
            }
            ds.push(d);
        }
        out.mistake_longer_than = ds;
    }
    Ok(out)
}

/// Warns when `preset`, named at `span`, was tuned for another heartbeat
/// interval than `interval`, the one the entry runs with: its timeouts
/// and windows assume the system's own interval.
fn check_preset_interval(
    cx: &Ctx,
    preset: &Preset,
    span: Range<usize>,
    interval: Nanos,
    whose: &str,
) {
    if preset.heartbeat == interval || interval == Nanos::ZERO {
        return;
    }
    cx.warn(
        span,
        format!(
            "preset \"{}\" is tuned for a heartbeat every {}, but {whose} is {interval}; its \
             timeouts assume {} between heartbeats (set the interval to \"{}\", or override \
             the preset's time parameters)",
            preset.name, preset.heartbeat, preset.heartbeat, preset.heartbeat
        ),
    );
}

/// `[heartbeat] style`: `"push"` (the default) or `"pull"`.
fn style(cx: &Ctx, raw: Option<&Text>) -> R<Style> {
    match raw.map(|s| s.get_ref().as_str()) {
        None | Some("push") => Ok(Style::Push),
        Some("pull") => Ok(Style::Pull),
        Some(other) => cx.err(
            raw.expect("matched").span(),
            format!(
                "`heartbeat.style`: unknown style \"{other}\"; expected \"push\" (targets send \
                 heartbeats) or \"pull\" (monitors ping, targets answer)"
            ),
        ),
    }
}

/// `[replay]`: reads the trace and checks that the rest of the scenario
/// fits a replay (nothing that would shape simulated heartbeats, one
/// source of ground truth, send times for the detectors that read them,
/// one seed).
fn replay(
    cx: &Ctx,
    raw: &RawScenario,
    r: &Spanned<RawReplay>,
    (names, monitors, targets): (&[String], &[NodeId], &[NodeId]),
    (clocks, faults, detectors, duration): (&[Clock], &[FaultSpec], &[DetectorConfig], Nanos),
) -> R<crate::replay::Replay> {
    let file = &r.get_ref().file;
    let unused = |span: Range<usize>, what: &str| -> R<()> {
        cx.err(
            span,
            format!(
                "{what} does not apply with `[replay]`: the heartbeats come from the trace, not \
                 from a simulation"
            ),
        )
    };
    if let Some(p) = raw.partitions.first() {
        unused(p.span(), "`[[partitions]]`")?;
    }
    if let Some(j) = raw.heartbeat.as_ref().and_then(|h| h.jitter.as_ref()) {
        unused(j.span(), "`heartbeat.jitter`")?;
    }
    if let Some(s) = raw.heartbeat.as_ref().and_then(|h| h.style.as_ref()) {
        unused(s.span(), "`heartbeat.style`")?;
    }
    for f in &raw.faults {
        let kind = f.get_ref().kind.get_ref().as_str();
        if matches!(kind, "pause" | "pauses" | "slow") {
            unused(f.get_ref().kind.span(), &format!("kind = \"{kind}\""))?;
        }
    }
    if let Some(s) = &raw.seeds {
        let many = match s.get_ref() {
            toml::Value::Integer(n) => *n > 1,
            toml::Value::Array(a) => a.len() > 1,
            _ => false,
        };
        if many {
            return cx.err(
                s.span(),
                "a replayed trace is one run: `seeds` must be 1 (or a list of one seed)",
            );
        }
    }
    let written = file.get_ref();
    let fail = |msg: String| cx.err(file.span(), format!("`replay.file`: {msg}"));
    let text = read_data_file(cx, "replay", file, "a CSV trace of heartbeat arrivals")?;
    let tcx = crate::replay::Context {
        names,
        monitors,
        targets,
        clocks,
        duration,
    };
    let replay = crate::replay::read(written, &text, &tcx)
        .or_else(|e| fail(format!("{written}:{}: {}", e.line, e.message)))?;
    let crashes = faults.iter().any(|f| {
        matches!(
            f,
            FaultSpec::Crash { .. } | FaultSpec::CrashLoop { .. } | FaultSpec::Churn { .. }
        )
    });
    if replay.outages.is_some() && crashes {
        return fail(format!(
            "{written} has crash and restart rows and the scenario has crash faults; give the \
             ground truth once: remove the [[faults]] or the rows"
        ));
    }
    if let Some(d) = detectors.iter().find(|d| d.kind.name == "chen-nfds") {
        if !replay.has_sent {
            return fail(format!(
                "detector \"{}\" (chen-nfds) reads each heartbeat's send time, and {written} has \
                 no `sent_ms` column",
                d.label
            ));
        }
    }
    Ok(replay)
}

/// `[heartbeat]`: the interval and jitter of pairwise heartbeats. Required
/// with pairwise detectors (`pairwise` is the span of their array); without
/// them it may be left out, and the interval is then zero (no heartbeats).
fn heartbeat(
    cx: &Ctx,
    raw: Option<&RawHeartbeat>,
    pairwise: Option<Range<usize>>,
    duration: Nanos,
) -> R<(Nanos, Option<Latency>)> {
    let Some(raw) = raw else {
        return match pairwise {
            Some(span) => cx.err(
                span,
                "pairwise [[detectors]] need a [heartbeat] table with `interval` (the period of \
                 the heartbeats they watch)",
            ),
            None => Ok((Nanos::ZERO, None)),
        };
    };
    let jitter = match &raw.jitter {
        Some(j) => Some(latency(cx, "heartbeat.jitter", j)?),
        None => None,
    };
    let interval = cx.positive("heartbeat.interval", &raw.interval)?;
    if interval >= duration {
        return cx.err(
            raw.interval.span(),
            format!(
                "`heartbeat.interval` ({interval}) must be shorter than `duration` ({duration})"
            ),
        );
    }
    Ok((interval, jitter))
}

fn seeds(cx: &Ctx, raw: &RawScenario) -> R<Vec<u64>> {
    let base = match &raw.base_seed {
        Some(b) if *b.get_ref() < 0 => return cx.err(b.span(), "`base_seed` must be >= 0"),
        Some(b) => *b.get_ref() as u64,
        None => 1,
    };
    let Some(seeds) = &raw.seeds else {
        return Ok((0..10).map(|i| base + i).collect());
    };
    match seeds.get_ref() {
        toml::Value::Integer(n) if (1..=100_000).contains(n) => {
            Ok((0..*n as u64).map(|i| base + i).collect())
        }
        toml::Value::Integer(n) => cx.err(
            seeds.span(),
            format!("`seeds` is a count and must be in [1, 100000], got {n}"),
        ),
        toml::Value::Array(list) => {
            if raw.base_seed.is_some() {
                return cx.err(
                    seeds.span(),
                    "`base_seed` applies only when `seeds` is a count, not a list",
                );
            }
            let mut out = Vec::new();
            for v in list {
                match v {
                    toml::Value::Integer(s) if *s >= 0 && !out.contains(&(*s as u64)) => {
                        out.push(*s as u64)
                    }
                    _ => {
                        return cx.err(
                            seeds.span(),
                            format!(
                                "`seeds` list must hold distinct whole numbers >= 0; found {v}"
                            ),
                        )
                    }
                }
            }
            if out.is_empty() {
                return cx.err(seeds.span(), "`seeds` list is empty");
            }
            Ok(out)
        }
        other => cx.err(
            seeds.span(),
            format!(
                "`seeds` must be a count (10) or a list ([1, 2, 3]), got a {}",
                other.type_str()
            ),
        ),
    }
}

/// The most members a `[nodes]` cluster may have (cluster metrics keep an
/// opinion per ordered pair of members).
const MAX_MEMBERS: i64 = 1000;

/// The node names, and the pairwise monitors and targets (both empty when
/// the scenario has no pairwise detectors; `pairwise` is the span of their
/// array if it has).
fn nodes(
    cx: &Ctx,
    raw: Option<&Spanned<RawNodes>>,
    pairwise: Option<Range<usize>>,
) -> R<(Vec<String>, Vec<NodeId>, Vec<NodeId>)> {
    let Some(spanned) = raw else {
        let (m, t) = if pairwise.is_some() {
            (vec![0], vec![1])
        } else {
            (Vec::new(), Vec::new())
        };
        return Ok((vec!["monitor".into(), "target".into()], m, t));
    };
    let raw = spanned.get_ref();
    let cluster = cluster_members(cx, raw)?;
    let fixed = cluster.is_some();
    let mut names: Vec<String> = cluster.unwrap_or_default();
    let mut ids = |field: &str, list: &Spanned<Vec<Text>>| -> R<Vec<NodeId>> {
        if list.get_ref().is_empty() {
            return cx.err(list.span(), format!("`nodes.{field}` is empty"));
        }
        let mut out = Vec::new();
        for n in list.get_ref() {
            let name = n.get_ref();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return cx.err(n.span(), "node names must be non-empty, without spaces");
            }
            let id = match names.iter().position(|x| x == name) {
                Some(i) => i,
                None if fixed => {
                    return cx.err(
                        n.span(),
                        format!(
                            "`nodes.{field}`: \"{name}\" is not a member; members are {}",
                            members_text(&names)
                        ),
                    )
                }
                None => {
                    names.push(name.clone());
                    names.len() - 1
                }
            } as NodeId;
            if out.contains(&id) {
                return cx.err(
                    n.span(),
                    format!("node \"{name}\" is listed twice in `nodes.{field}`"),
                );
            }
            out.push(id);
        }
        Ok(out)
    };
    let (monitors, targets) = match (&raw.monitors, &raw.targets) {
        (Some(m), Some(t)) => {
            let monitors = ids("monitors", m)?;
            let targets = ids("targets", t)?;
            let pairs = monitors.iter().any(|m| targets.iter().any(|t| t != m));
            if pairwise.is_some() && !pairs {
                return cx.err(
                    t.span(),
                    "no target is watched by a different node: list at least one target that is not also the only monitor",
                );
            }
            (monitors, targets)
        }
        (None, None) if fixed => match pairwise {
            Some(span) => {
                return cx.err(
                    span,
                    "pairwise [[detectors]] need `nodes.monitors` and `nodes.targets`: which \
                     members watch which",
                )
            }
            None => (Vec::new(), Vec::new()),
        },
        (m, _) => {
            let missing = if m.is_some() { "targets" } else { "monitors" };
            return cx.err(
                spanned.span(),
                format!(
                    "`nodes` needs `{missing}`: give both `monitors` and `targets` (who watches \
                     whom), or a cluster with `n` or `members`"
                ),
            );
        }
    };
    if pairwise.is_none() {
        return Ok((names, Vec::new(), Vec::new()));
    }
    Ok((names, monitors, targets))
}

/// The members a `[nodes]` table declares with `n` or `members`, if any.
fn cluster_members(cx: &Ctx, raw: &RawNodes) -> R<Option<Vec<String>>> {
    match (&raw.n, &raw.members) {
        (Some(_), Some(m)) => cx.err(
            m.span(),
            "give `nodes.n` (a count, members m0, m1, …) or `nodes.members` (names), not both",
        ),
        (Some(n), None) => {
            let v = *n.get_ref();
            if !(2..=MAX_MEMBERS).contains(&v) {
                return cx.err(
                    n.span(),
                    format!("`nodes.n` must be in [2, {MAX_MEMBERS}], got {v}"),
                );
            }
            Ok(Some((0..v).map(|i| format!("m{i}")).collect()))
        }
        (None, Some(list)) => {
            let mut names: Vec<String> = Vec::new();
            for n in list.get_ref() {
                let name = n.get_ref();
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return cx.err(n.span(), "node names must be non-empty, without spaces");
                }
                if names.contains(name) {
                    return cx.err(
                        n.span(),
                        format!("node \"{name}\" is listed twice in `nodes.members`"),
                    );
                }
                names.push(name.clone());
            }
            if !(2..=MAX_MEMBERS as usize).contains(&names.len()) {
                return cx.err(
                    list.span(),
                    format!(
                        "`nodes.members` must list between 2 and {MAX_MEMBERS} members, got {}",
                        names.len()
                    ),
                );
            }
            Ok(Some(names))
        }
        (None, None) => Ok(None),
    }
}

/// Member names for an error: all of them when few, else the ends.
fn members_text(names: &[String]) -> String {
    if names.len() <= 8 {
        return quoted(names);
    }
    format!(
        "{}, … , {} ({} members)",
        quoted(&names[..3]),
        quoted(&names[names.len() - 2..]),
        names.len()
    )
}

/// The largest clock drift accepted, in parts per million (1 %).
const MAX_DRIFT_PPM: f64 = 10_000.0;

/// The largest clock offset accepted, either way (one day).
const MAX_OFFSET: Nanos = Nanos::from_secs(86_400);

/// One clock per node from the `[[clocks]]` entries; nodes not listed
/// keep a perfect clock. Offsets may be negative; since only differences
/// between clocks matter, every offset is then raised by the same amount
/// so that none is below zero (which changes no result).
fn clocks(cx: &Ctx, raw: &[Spanned<RawClock>], names: &[String]) -> R<Vec<Clock>> {
    let mut drift = vec![0.0; names.len()];
    let mut offset = vec![0i128; names.len()];
    let mut seen: Vec<NodeId> = Vec::new();
    for entry in raw {
        let c = entry.get_ref();
        let node = cx.node("clocks.node", names, &c.node)?;
        if seen.contains(&node) {
            return cx.err(
                c.node.span(),
                format!(
                    "node \"{}\" has two [[clocks]] entries; give each node one",
                    c.node.get_ref()
                ),
            );
        }
        seen.push(node);
        if let Some(d) = &c.drift_ppm {
            let v = cx.finite("clocks.drift_ppm", d)?;
            if v.abs() > MAX_DRIFT_PPM {
                return cx.err(
                    d.span(),
                    format!(
                        "`clocks.drift_ppm` must be in [-10000, 10000] (parts per million; \
                         10000 is 1 %), got {}",
                        number_text(v)
                    ),
                );
            }
            drift[node as usize] = v;
        }
        if let Some(o) = &c.offset {
            let text = o.get_ref().trim();
            let (negative, magnitude) = match text.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, text),
            };
            let d = parse_duration(magnitude)
                .or_else(|e| cx.err(o.span(), format!("`clocks.offset`: {e}")))?;
            if d > MAX_OFFSET {
                return cx.err(
                    o.span(),
                    format!("`clocks.offset` must be within one day either way, got {text}"),
                );
            }
            let ns = i128::from(d.0);
            offset[node as usize] = if negative { -ns } else { ns };
        }
    }
    let shift = -offset.iter().copied().min().unwrap_or(0).min(0);
    Ok(drift
        .into_iter()
        .zip(offset)
        .map(|(drift_ppm, o)| Clock {
            offset: Nanos((o + shift) as u64),
            drift_ppm,
        })
        .collect())
}

/// The longest delay a network latency distribution may be given as any of
/// its durations (`value`, `min`, `max`, `mean`, `std`, `median`, `shift`,
/// `scale`): one day, as for an empirical file.
const MAX_DELAY: Nanos = Nanos::from_secs(86_400);

/// The longest duration a fault's length, up time or down time
/// distribution may be given: a year.
const MAX_FAULT_TIME: Nanos = Nanos::from_secs(365 * 86_400);

/// The widest lognormal: at sigma = 4 the mean is already ~3,000 times the
/// median and one draw in 10,000 exceeds 2.9 million times it; beyond, the
/// draws overflow any delay a run can hold.
const MAX_SIGMA: f64 = 4.0;

/// The tail indices a Pareto may have: below 0.5 its median is over 4
/// times its minimum and one draw in 10,000 passes 10^8 times it; above
/// 100 it is within 5 % of its minimum at the 99th percentile (write a
/// constant instead).
const PARETO_SHAPE: (f64, f64) = (0.5, 100.0);

fn latency(cx: &Ctx, field: &str, raw: &Spanned<RawLatency>) -> R<Latency> {
    latency_within(cx, field, raw, MAX_DELAY)
}

/// A distribution whose durations are at most `max`.
fn latency_within(cx: &Ctx, field: &str, raw: &Spanned<RawLatency>, max: Nanos) -> R<Latency> {
    let l = raw.get_ref();
    let dist = l.dist.get_ref().as_str();
    let wants: &[&str] = match dist {
        "constant" => &["value"],
        "uniform" => &["min", "max"],
        "normal" => &["mean", "std"],
        "lognormal" => &["median", "sigma"],
        "exponential" => &["mean", "shift"],
        "pareto" => &["scale", "shape"],
        "empirical" => &["file"],
        other => {
            return cx.err(
                l.dist.span(),
                format!(
                    "`{field}.dist`: unknown distribution \"{other}\"; expected one of \
                     constant, uniform, normal, lognormal, exponential, pareto, empirical"
                ),
            )
        }
    };
    let given: [(&str, Option<Range<usize>>); 11] = [
        ("value", l.value.as_ref().map(|v| v.span())),
        ("min", l.min.as_ref().map(|v| v.span())),
        ("max", l.max.as_ref().map(|v| v.span())),
        ("mean", l.mean.as_ref().map(|v| v.span())),
        ("std", l.std.as_ref().map(|v| v.span())),
        ("median", l.median.as_ref().map(|v| v.span())),
        ("sigma", l.sigma.as_ref().map(|v| v.span())),
        ("shift", l.shift.as_ref().map(|v| v.span())),
        ("scale", l.scale.as_ref().map(|v| v.span())),
        ("shape", l.shape.as_ref().map(|v| v.span())),
        ("file", l.file.as_ref().map(|v| v.span())),
    ];
    for (key, span) in &given {
        if let (Some(span), false) = (span, wants.contains(key)) {
            return cx.err(
                span.clone(),
                format!(
                    "`{field}.{key}` does not apply to dist = \"{dist}\", which takes {}",
                    wants.join(" and ")
                ),
            );
        }
    }
    let need = |key: &str, v: &Option<Text>| -> R<Nanos> {
        match v {
            Some(v) => {
                let d = cx.duration(&format!("{field}.{key}"), v)?;
                if d > max {
                    return cx.err(
                        v.span(),
                        format!("`{field}.{key}` ({d}) must be at most {max}"),
                    );
                }
                Ok(d)
            }
            None => cx.err(
                raw.span(),
                format!("`{field}`: dist = \"{dist}\" needs `{key}` (a duration such as \"5ms\")"),
            ),
        }
    };
    let need_f = |key: &str, v: &Option<Spanned<f64>>| -> R<Spanned<f64>> {
        match v {
            Some(v) => {
                cx.finite(&format!("{field}.{key}"), v)?;
                Ok(v.clone())
            }
            None => cx.err(
                raw.span(),
                format!("`{field}`: dist = \"{dist}\" needs `{key}` (a number)"),
            ),
        }
    };
    Ok(match dist {
        "constant" => Latency::Constant {
            value: need("value", &l.value)?,
        },
        "uniform" => {
            let (min, max) = (need("min", &l.min)?, need("max", &l.max)?);
            if min > max {
                return cx.err(
                    l.max.as_ref().expect("checked").span(),
                    format!("`{field}.max` ({max}) is below `{field}.min` ({min})"),
                );
            }
            Latency::Uniform { min, max }
        }
        "normal" => Latency::Normal {
            mean: need("mean", &l.mean)?.0 as f64,
            std: need("std", &l.std)?.0 as f64,
        },
        "lognormal" => {
            let median = need("median", &l.median)?;
            let sigma = need_f("sigma", &l.sigma)?;
            if !(0.0..=MAX_SIGMA).contains(sigma.get_ref()) {
                return cx.err(
                    sigma.span(),
                    format!(
                        "`{field}.sigma` must be in [0, {MAX_SIGMA}], got {}",
                        number_text(*sigma.get_ref())
                    ),
                );
            }
            Latency::LogNormal {
                median: median.0 as f64,
                sigma: *sigma.get_ref(),
            }
        }
        "exponential" => {
            let mean = need("mean", &l.mean)?;
            let shift = match &l.shift {
                Some(_) => need("shift", &l.shift)?,
                None => Nanos::ZERO,
            };
            if mean <= shift {
                return cx.err(
                    l.mean.as_ref().expect("checked").span(),
                    format!("`{field}.mean` ({mean}) must exceed `{field}.shift` ({shift})"),
                );
            }
            Latency::Exponential {
                shift,
                mean: mean.0 as f64,
            }
        }
        "empirical" => match &l.file {
            Some(file) => empirical(cx, field, file)?,
            None => {
                return cx.err(
                    raw.span(),
                    format!(
                        "`{field}`: dist = \"empirical\" needs `file` (a CSV of one-way delays, \
                         relative to the scenario file)"
                    ),
                )
            }
        },
        _ => {
            let scale = need("scale", &l.scale)?;
            let shape = need_f("shape", &l.shape)?;
            if scale == Nanos::ZERO {
                return cx.err(
                    l.scale.as_ref().expect("checked").span(),
                    format!("`{field}.scale` must be greater than zero"),
                );
            }
            let (lo, hi) = PARETO_SHAPE;
            if !(lo..=hi).contains(shape.get_ref()) {
                return cx.err(
                    shape.span(),
                    format!(
                        "`{field}.shape` must be in [{lo}, {hi}], got {}",
                        number_text(*shape.get_ref())
                    ),
                );
            }
            Latency::Pareto {
                scale: scale.0 as f64,
                shape: *shape.get_ref(),
            }
        }
    })
}

/// Reads the data file `file` names (`field.file` in messages), relative
/// to the scenario's folder; `what` says what it should hold.
fn read_data_file(cx: &Ctx, field: &str, file: &Text, what: &str) -> R<String> {
    let written = file.get_ref();
    let fail = |msg: String| cx.err(file.span(), format!("`{field}.file`: {msg}"));
    if written.trim().is_empty() {
        return fail(format!("is empty; name {what}"));
    }
    let resolved = match cx.path.parent() {
        Some(dir) => dir.join(written),
        None => Path::new(written).to_path_buf(),
    };
    std::fs::read_to_string(&resolved).or_else(|e| {
        fail(format!(
            "cannot read {written} (looked for {}): {}",
            resolved.display(),
            super::os_reason(&e)
        ))
    })
}

/// The largest delay an empirical latency file may hold, in milliseconds
/// (one day).
const MAX_EMPIRICAL_MS: f64 = 86_400_000.0;

/// `dist = "empirical"`: the one-way delays in `file`, a path relative to
/// the scenario's folder. The file holds one column: blank lines and lines
/// starting with `#` are skipped, the first other line must be the header
/// `latency_ms`, and every line after it one delay in milliseconds (a
/// number >= 0). Every problem is reported at `file` in the scenario.
fn empirical(cx: &Ctx, field: &str, file: &Text) -> R<Latency> {
    let written = file.get_ref();
    let fail = |msg: String| cx.err(file.span(), format!("`{field}.file`: {msg}"));
    let text = read_data_file(cx, field, file, "a CSV file of one-way delays")?;
    let mut header = false;
    let mut samples: Vec<Nanos> = Vec::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let (n, line) = (i + 1, line.trim());
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !header {
            if line != "latency_ms" {
                return fail(format!(
                    "{written} line {n}: expected the header `latency_ms` (one column of one-way \
                     delays in milliseconds), found \"{line}\""
                ));
            }
            header = true;
            continue;
        }
        let ms: f64 = match line.parse() {
            Ok(x) => x,
            Err(_) => {
                return fail(format!(
                    "{written} line {n}: \"{line}\" is not a delay in milliseconds (one number per line)"
                ))
            }
        };
        if !ms.is_finite() || ms < 0.0 {
            return fail(format!(
                "{written} line {n}: delay {line} ms is negative or not finite"
            ));
        }
        if ms > MAX_EMPIRICAL_MS {
            return fail(format!(
                "{written} line {n}: delay {line} ms is longer than a day"
            ));
        }
        samples.push(Nanos((ms * 1e6).round() as u64));
    }
    if samples.is_empty() {
        let what = if header {
            "has a header but no delays"
        } else {
            "is empty"
        };
        return fail(format!(
            "{written} {what}; write the header `latency_ms`, then one delay in milliseconds per line"
        ));
    }
    Ok(Latency::Empirical {
        samples: samples.into(),
        source: written.as_str().into(),
    })
}

/// The loss set by `loss` or `loss_model` in the table at `prefix`, if
/// either is (giving both is an error).
fn loss(
    cx: &Ctx,
    prefix: &str,
    loss: &Option<Spanned<f64>>,
    model: &Option<Spanned<RawLossModel>>,
) -> R<Option<Loss>> {
    match (loss, model) {
        (Some(_), Some(m)) => cx.err(
            m.span(),
            format!(
                "`{prefix}.loss` and `{prefix}.loss_model` are both set; give one: `loss` for \
                 independent loss, `loss_model` for bursty loss"
            ),
        ),
        (Some(p), None) => Ok(Some(Loss::Independent(
            cx.probability(&format!("{prefix}.loss"), p)?,
        ))),
        (None, Some(m)) => Ok(Some(loss_model(cx, prefix, m)?)),
        (None, None) => Ok(None),
    }
}

fn loss_model(cx: &Ctx, prefix: &str, raw: &Spanned<RawLossModel>) -> R<Loss> {
    let m = raw.get_ref();
    let field = format!("{prefix}.loss_model");
    if m.kind.get_ref() != "gilbert-elliott" {
        return cx.err(
            m.kind.span(),
            format!(
                "`{field}.kind`: unknown loss model \"{}\"; expected \"gilbert-elliott\" \
                 (for independent loss write `loss = p` instead)",
                m.kind.get_ref()
            ),
        );
    }
    let get = |key: &str, v: &Option<Spanned<f64>>, default: Option<f64>| -> R<f64> {
        match (v, default) {
            (Some(v), _) => cx.probability(&format!("{field}.{key}"), v),
            (None, Some(d)) => Ok(d),
            (None, None) => cx.err(
                raw.span(),
                format!("`{field}`: kind = \"gilbert-elliott\" needs `{key}` (a probability)"),
            ),
        }
    };
    let p_good_to_bad = get("p_good_to_bad", &m.p_good_to_bad, None)?;
    let p_bad_to_good = get("p_bad_to_good", &m.p_bad_to_good, None)?;
    if p_bad_to_good == 0.0 {
        return cx.err(
            m.p_bad_to_good.as_ref().expect("checked").span(),
            format!("`{field}.p_bad_to_good` must be above 0, or a bad period would never end"),
        );
    }
    Ok(Loss::GilbertElliott(GilbertElliott {
        p_good_to_bad,
        p_bad_to_good,
        loss_good: get("loss_good", &m.loss_good, Some(0.0))?,
        loss_bad: get("loss_bad", &m.loss_bad, Some(1.0))?,
    }))
}

/// The directed links a spike applies to; `None` means every link.
type LinkSet = Option<Vec<(NodeId, NodeId)>>;

/// One `[[network.spikes]]` entry: the links it applies to and the spike.
fn spike(cx: &Ctx, raw: &Spanned<RawSpike>, names: &[String]) -> R<(LinkSet, Spike)> {
    let s = raw.get_ref();
    let start = cx.duration("network.spikes.start", &s.start)?;
    let end = cx.duration("network.spikes.end", &s.end)?;
    if end <= start {
        return cx.err(
            s.end.span(),
            format!("`network.spikes.end` ({end}) must be after `network.spikes.start` ({start})"),
        );
    }
    let links = match &s.links {
        None => None,
        Some(list) => {
            if list.get_ref().is_empty() {
                return cx.err(
                    list.span(),
                    "`network.spikes.links` is empty; leave it out to change every link",
                );
            }
            let mut pairs = Vec::new();
            for pair in list.get_ref() {
                let [from, to] = pair.get_ref().as_slice() else {
                    return cx.err(
                        pair.span(),
                        "`network.spikes.links`: each link is a pair [\"from\", \"to\"]",
                    );
                };
                let f = cx.node("network.spikes.links", names, from)?;
                let t = cx.node("network.spikes.links", names, to)?;
                if f == t {
                    return cx.err(pair.span(), "a link needs two different nodes");
                }
                if pairs.contains(&(f, t)) {
                    return cx.err(
                        pair.span(),
                        format!(
                            "link \"{}\" -> \"{}\" is listed twice",
                            from.get_ref(),
                            to.get_ref()
                        ),
                    );
                }
                pairs.push((f, t));
            }
            Some(pairs)
        }
    };
    let change = match (&s.add, &s.latency) {
        (Some(add), None) => SpikeChange::Add(cx.duration("network.spikes.add", add)?),
        (None, Some(l)) => SpikeChange::Replace(latency(cx, "network.spikes.latency", l)?),
        (Some(_), Some(l)) => {
            return cx.err(
                l.span(),
                "`network.spikes`: give `add` or `latency`, not both",
            )
        }
        (None, None) => {
            return cx.err(
                raw.span(),
                "`network.spikes`: needs `add` (a duration added to every delay) or `latency` \
                 (a distribution replacing the link's)",
            )
        }
    };
    Ok((links, Spike { start, end, change }))
}

/// Attaches each spike to the links it applies to, in file order, and
/// refuses two replacements that overlap in time on a shared link.
fn attach_spikes(
    cx: &Ctx,
    net: &RawNetwork,
    names: &[String],
    table: &mut BTreeMap<(NodeId, NodeId), LinkModel>,
) -> R<()> {
    let mut seen: Vec<(LinkSet, Spike)> = Vec::new();
    for raw in &net.spikes {
        let (links, sp) = spike(cx, raw, names)?;
        spike_links_exist(cx, raw, links.as_ref(), table)?;
        let applies = |links: &LinkSet, pair: &(NodeId, NodeId)| {
            links.as_ref().is_none_or(|l| l.contains(pair))
        };
        if matches!(sp.change, SpikeChange::Replace(_)) {
            for (earlier_links, earlier) in &seen {
                let overlap = matches!(earlier.change, SpikeChange::Replace(_))
                    && earlier.start < sp.end
                    && sp.start < earlier.end;
                let shared = table
                    .keys()
                    .find(|p| applies(&links, p) && applies(earlier_links, p));
                if let (true, Some(&(f, t))) = (overlap, shared) {
                    return cx.err(
                        raw.span(),
                        format!(
                            "this spike replaces the latency of link \"{}\" -> \"{}\" while an \
                             earlier spike ({}–{}) does too; replacements may not overlap on a link",
                            names[f as usize], names[t as usize], earlier.start, earlier.end
                        ),
                    );
                }
            }
        }
        for (pair, model) in table.iter_mut() {
            if applies(&links, pair) {
                model.spikes.push(sp.clone());
            }
        }
        seen.push((links, sp));
    }
    Ok(())
}

fn links(
    cx: &Ctx,
    raw: &RawScenario,
    net: &RawNetwork,
    names: &[String],
    topology: Topology,
    regions: &[Region],
) -> R<Vec<(NodeId, NodeId, LinkModel)>> {
    let default = default_link(cx, net)?;
    let mut table = topology_links(cx, raw, net, names.len(), topology, regions, &default)?;
    let mut overridden = BTreeSet::new();
    for raw in &net.links {
        let l = raw.get_ref();
        let from = cx.node("network.links.from", names, &l.from)?;
        let to = cx.node("network.links.to", names, &l.to)?;
        if from == to {
            return cx.err(l.to.span(), "a link needs two different nodes");
        }
        let model = LinkModel {
            latency: match &l.latency {
                Some(lat) => latency(cx, "network.links.latency", lat)?,
                None => default.latency.clone(),
            },
            loss: loss(cx, "network.links", &l.loss, &l.loss_model)?
                .unwrap_or_else(|| default.loss.clone()),
            duplicate: match &l.duplicate {
                Some(p) => cx.probability("network.links.duplicate", p)?,
                None => default.duplicate,
            },
            spikes: Vec::new(),
        };
        let mut pairs = vec![(from, to)];
        if l.symmetric {
            pairs.push((to, from));
        }
        for pair in pairs {
            if !table.contains_key(&pair) {
                return cx.err(
                    raw.span(),
                    format!(
                        "`network.links`: topology = \"{}\" has no link \"{}\" -> \"{}\"; \
                         [[network.links]] changes the links of the topology, it does not add any",
                        topology.name(),
                        names[pair.0 as usize],
                        names[pair.1 as usize]
                    ),
                );
            }
            if !overridden.insert(pair) {
                return cx.err(
                    raw.span(),
                    format!(
                        "link \"{}\" -> \"{}\" is set twice",
                        names[pair.0 as usize], names[pair.1 as usize]
                    ),
                );
            }
            table.insert(pair, model.clone());
        }
    }
    attach_spikes(cx, net, names, &mut table)?;
    Ok(table.into_iter().map(|((f, t), m)| (f, t, m)).collect())
}

/// The `[network]` model every link has unless something overrides it.
fn default_link(cx: &Ctx, net: &RawNetwork) -> R<LinkModel> {
    Ok(LinkModel {
        latency: latency(cx, "network.latency", &net.latency)?,
        loss: loss(cx, "network", &net.loss, &net.loss_model)?.unwrap_or(Loss::NONE),
        duplicate: match &net.duplicate {
            Some(p) => cx.probability("network.duplicate", p)?,
            None => 0.0,
        },
        spikes: Vec::new(),
    })
}

/// `network.topology` (and `network.hub` for a star).
fn topology(cx: &Ctx, net: &RawNetwork, names: &[String], monitors: &[NodeId]) -> R<Topology> {
    let hub = match &net.hub {
        Some(h) => Some((cx.node("network.hub", names, h)?, h.span())),
        None => None,
    };
    let (name, span) = match &net.topology {
        Some(t) => (t.get_ref().as_str(), t.span()),
        None => ("mesh", 0..0),
    };
    if let (Some((_, hub_span)), false) = (&hub, name == "star") {
        return cx.err(
            hub_span.clone(),
            format!("`network.hub` applies only to topology = \"star\", not \"{name}\""),
        );
    }
    let n = names.len();
    Ok(match name {
        "mesh" => Topology::Mesh,
        "pair" if n == 2 => Topology::Pair,
        "pair" => {
            return cx.err(
                span,
                format!("topology = \"pair\" needs exactly two nodes; this scenario has {n}"),
            )
        }
        "ring" if n >= 3 => Topology::Ring,
        "ring" => {
            return cx.err(
                span,
                format!("topology = \"ring\" needs at least three nodes; this scenario has {n}"),
            )
        }
        "star" => match (hub, monitors) {
            (Some((hub, _)), _) => Topology::Star { hub },
            (None, [only]) => Topology::Star { hub: *only },
            (None, _) => {
                return cx.err(
                    span,
                    format!(
                        "topology = \"star\" needs a hub: set `network.hub`, or list one monitor \
                         (there are {})",
                        monitors.len()
                    ),
                )
            }
        },
        other => {
            return cx.err(
                span,
                format!(
                    "`network.topology`: unknown topology \"{other}\"; expected \"mesh\", \
                     \"pair\", \"star\" or \"ring\""
                ),
            )
        }
    })
}

/// The `[[regions]]`: each a distinct name and a non-empty list of
/// nodes; with any region declared, every node is in exactly one.
fn regions(cx: &Ctx, raw: &RawScenario, names: &[String]) -> R<Vec<Region>> {
    let mut out: Vec<Region> = Vec::new();
    for entry in &raw.regions {
        let r = entry.get_ref();
        let name = r.name.get_ref();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return cx.err(
                r.name.span(),
                "`regions.name`: region names must be non-empty, without spaces",
            );
        }
        if out.iter().any(|o| &o.name == name) {
            return cx.err(
                r.name.span(),
                format!("`regions.name`: region \"{name}\" is declared twice"),
            );
        }
        if r.nodes.get_ref().is_empty() {
            return cx.err(r.nodes.span(), "`regions.nodes` is empty");
        }
        let mut nodes = Vec::new();
        for n in r.nodes.get_ref() {
            let id = cx.node("regions.nodes", names, n)?;
            let earlier = out.iter().find(|o| o.nodes.contains(&id));
            let home = earlier.map_or(name.as_str(), |o| o.name.as_str());
            if earlier.is_some() || nodes.contains(&id) {
                return cx.err(
                    n.span(),
                    format!(
                        "`regions.nodes`: node \"{}\" is already in region \"{home}\"; a node \
                         belongs to one region",
                        n.get_ref()
                    ),
                );
            }
            nodes.push(id);
        }
        out.push(Region {
            name: name.clone(),
            nodes,
        });
    }
    if let Some(first) = raw.regions.first() {
        for (id, node) in names.iter().enumerate() {
            if !out.iter().any(|r| r.nodes.contains(&(id as NodeId))) {
                let written = raw.nodes.as_ref().and_then(|n| {
                    let n = n.get_ref();
                    [&n.monitors, &n.targets, &n.members]
                        .into_iter()
                        .flatten()
                        .flat_map(|list| list.get_ref())
                        .find(|t| t.get_ref() == node)
                });
                let span = written.map_or(first.get_ref().nodes.span(), |t| t.span());
                return cx.err(
                    span,
                    format!(
                        "node \"{node}\" is in no region; with [[regions]], list every node in \
                         the `nodes` of one region"
                    ),
                );
            }
        }
    }
    Ok(out)
}

/// The model of the links inside one region: its own fields, each
/// defaulting to `[network]`'s.
fn region_model(cx: &Ctx, r: &RawRegion, default: &LinkModel) -> R<LinkModel> {
    Ok(LinkModel {
        latency: match &r.latency {
            Some(l) => latency(cx, "regions.latency", l)?,
            None => default.latency.clone(),
        },
        loss: loss(cx, "regions", &r.loss, &r.loss_model)?.unwrap_or_else(|| default.loss.clone()),
        duplicate: match &r.duplicate {
            Some(p) => cx.probability("regions.duplicate", p)?,
            None => default.duplicate,
        },
        spikes: Vec::new(),
    })
}

/// The region a name refers to, by index.
fn region_index(cx: &Ctx, field: &str, regions: &[Region], v: &Text) -> R<usize> {
    match regions.iter().position(|r| &r.name == v.get_ref()) {
        Some(i) => Ok(i),
        None if regions.is_empty() => cx.err(
            v.span(),
            format!(
                "`{field}`: unknown region \"{}\"; no [[regions]] are declared",
                v.get_ref()
            ),
        ),
        None => {
            let known: Vec<String> = regions.iter().map(|r| r.name.clone()).collect();
            cx.err(
                v.span(),
                format!(
                    "`{field}`: unknown region \"{}\"; regions are {}",
                    v.get_ref(),
                    quoted(&known)
                ),
            )
        }
    }
}

/// The inter-region table of `[[network.region_links]]`: (from region,
/// to region) → model. Each direction may be set once.
fn region_links(
    cx: &Ctx,
    net: &RawNetwork,
    regions: &[Region],
    default: &LinkModel,
) -> R<BTreeMap<(usize, usize), LinkModel>> {
    let mut table = BTreeMap::new();
    for entry in &net.region_links {
        let l = entry.get_ref();
        let from = region_index(cx, "network.region_links.from", regions, &l.from)?;
        let to = region_index(cx, "network.region_links.to", regions, &l.to)?;
        if from == to {
            return cx.err(
                l.to.span(),
                "`network.region_links` joins two different regions; the links inside a region \
                 take the region's `latency`",
            );
        }
        let model = LinkModel {
            latency: latency(cx, "network.region_links.latency", &l.latency)?,
            loss: loss(cx, "network.region_links", &l.loss, &l.loss_model)?
                .unwrap_or_else(|| default.loss.clone()),
            duplicate: match &l.duplicate {
                Some(p) => cx.probability("network.region_links.duplicate", p)?,
                None => default.duplicate,
            },
            spikes: Vec::new(),
        };
        let mut pairs = vec![(from, to)];
        if l.symmetric.unwrap_or(true) {
            pairs.push((to, from));
        }
        for (f, t) in pairs {
            if table.insert((f, t), model.clone()).is_some() {
                return cx.err(
                    entry.span(),
                    format!(
                        "`network.region_links`: region \"{}\" -> \"{}\" is set twice (an entry \
                         sets both directions unless it says `symmetric = false`)",
                        regions[f].name, regions[t].name
                    ),
                );
            }
        }
    }
    Ok(table)
}

/// Every directed link of the topology with its model: `default`, or
/// with regions the model of the region both ends are in, or the
/// `[[network.region_links]]` entry from one end's region to the other's.
#[allow(clippy::too_many_arguments)]
fn topology_links(
    cx: &Ctx,
    raw: &RawScenario,
    net: &RawNetwork,
    n: usize,
    topology: Topology,
    regions: &[Region],
    default: &LinkModel,
) -> R<BTreeMap<(NodeId, NodeId), LinkModel>> {
    if let (true, Some(first)) = (regions.is_empty(), net.region_links.first()) {
        return cx.err(
            first.span(),
            "`network.region_links` needs [[regions]] to place the nodes in",
        );
    }
    let mut region_of = vec![usize::MAX; n];
    for (i, r) in regions.iter().enumerate() {
        for &node in &r.nodes {
            region_of[node as usize] = i;
        }
    }
    let intra = raw
        .regions
        .iter()
        .map(|r| region_model(cx, r.get_ref(), default))
        .collect::<R<Vec<_>>>()?;
    let inter = region_links(cx, net, regions, default)?;
    let mut table = BTreeMap::new();
    for from in 0..n as NodeId {
        for to in (0..n as NodeId).filter(|&to| topology.has_link(from, to, n)) {
            let (a, b) = (region_of[from as usize], region_of[to as usize]);
            let model = if regions.is_empty() {
                default.clone()
            } else if a == b {
                intra[a].clone()
            } else if let Some(m) = inter.get(&(a, b)) {
                m.clone()
            } else {
                return cx.err(
                    raw.regions[a.max(b)].get_ref().name.span(),
                    format!(
                        "`network.region_links`: no entry from region \"{}\" to region \"{}\"; \
                         every pair of regions that a link joins needs one (`symmetric`, on by \
                         default, covers both directions)",
                        regions[a].name, regions[b].name
                    ),
                );
            };
            table.insert((from, to), model);
        }
    }
    Ok(table)
}

/// A spike may only list links the topology has: a routed message sees
/// the spikes of each link it crosses.
fn spike_links_exist(
    cx: &Ctx,
    raw: &Spanned<RawSpike>,
    links: Option<&Vec<(NodeId, NodeId)>>,
    table: &BTreeMap<(NodeId, NodeId), LinkModel>,
) -> R<()> {
    let (Some(links), Some(written)) = (links, &raw.get_ref().links) else {
        return Ok(());
    };
    for (pair, text) in links.iter().zip(written.get_ref()) {
        if !table.contains_key(pair) {
            return cx.err(
                text.span(),
                "`network.spikes.links`: the topology has no such link; list the links a \
                 routed message crosses",
            );
        }
    }
    Ok(())
}

/// `region = "..."` in a `[[partitions]]` entry: the region's nodes as
/// group `a`, every other node as group `b`.
fn isolated_region(
    cx: &Ctx,
    r: &Text,
    names: &[String],
    regions: &[Region],
) -> R<(Vec<NodeId>, Vec<NodeId>)> {
    let i = region_index(cx, "partitions.region", regions, r)?;
    let a = regions[i].nodes.clone();
    let b: Vec<NodeId> = (0..names.len() as NodeId)
        .filter(|n| !a.contains(n))
        .collect();
    if b.is_empty() {
        return cx.err(
            r.span(),
            format!(
                "`partitions.region`: region \"{}\" holds every node; there is nothing to cut it from",
                r.get_ref()
            ),
        );
    }
    Ok((a, b))
}

fn group(cx: &Ctx, field: &str, list: &Spanned<Vec<Text>>, names: &[String]) -> R<Vec<NodeId>> {
    if list.get_ref().is_empty() {
        return cx.err(list.span(), format!("`{field}` is empty"));
    }
    list.get_ref()
        .iter()
        .map(|n| cx.node(field, names, n))
        .collect()
}

fn partition(
    cx: &Ctx,
    raw: &Spanned<RawPartition>,
    names: &[String],
    regions: &[Region],
) -> R<Partition> {
    let p = raw.get_ref();
    let start = cx.duration("partitions.start", &p.start)?;
    let end = cx.duration("partitions.end", &p.end)?;
    if end <= start {
        return cx.err(
            p.end.span(),
            format!("`partitions.end` ({end}) must be after `partitions.start` ({start})"),
        );
    }
    let (a, b) =
        match (&p.region, &p.a, &p.b) {
            (Some(r), None, None) => isolated_region(cx, r, names, regions)?,
            (Some(r), _, _) => return cx.err(
                r.span(),
                "`partitions.region` takes the place of `a` and `b`; give `region`, or `a` and `b`",
            ),
            (None, Some(ra), Some(rb)) => {
                let a = group(cx, "partitions.a", ra, names)?;
                let b = group(cx, "partitions.b", rb, names)?;
                if let Some(n) = a.iter().find(|n| b.contains(n)) {
                    return cx.err(
                        rb.span(),
                        format!(
                            "node \"{}\" is on both sides of the partition",
                            names[*n as usize]
                        ),
                    );
                }
                (a, b)
            }
            (None, _, _) => {
                return cx.err(
                    raw.span(),
                    "`partitions`: give `a` and `b` (two groups of nodes), or `region` (a region \
                 cut off from every other)",
                )
            }
        };
    let direction = match p.direction.as_ref().map(|d| (d.get_ref().as_str(), d.span())) {
        None | Some(("both", _)) => Direction::Both,
        Some(("a-to-b", _)) => Direction::AToB,
        Some(("b-to-a", _)) => Direction::BToA,
        Some((other, span)) => {
            return cx.err(
                span,
                format!(
                    "`partitions.direction`: unknown direction \"{other}\"; expected \"both\", \"a-to-b\" or \"b-to-a\""
                ),
            )
        }
    };
    let flap = match &p.flap {
        Some(f) => Some(Flap {
            up: cx.positive("partitions.flap.up", &f.get_ref().up)?,
            down: cx.positive("partitions.flap.down", &f.get_ref().down)?,
        }),
        None => None,
    };
    Ok(Partition {
        start,
        end,
        a,
        b,
        direction,
        flap,
    })
}

/// How long a leaving member runs on by default after announcing its
/// leave, so the announcement spreads: Serf's `LeavePropagateDelay`.
pub const DEFAULT_LINGER: Nanos = Nanos::from_secs(1);

/// The faults. `roles` holds the pairwise monitors and targets and whether
/// the scenario runs membership protocols: then any node but a pairwise
/// monitor may crash; otherwise only pairwise targets may. Joins and
/// leaves are for members outside the pairwise roles, and need protocols.
fn faults(
    cx: &Ctx,
    raw: &[Spanned<RawFault>],
    names: &[String],
    roles: (&[NodeId], &[NodeId], bool),
    duration: Nanos,
) -> R<Vec<FaultSpec>> {
    let (monitors, targets, cluster) = roles;
    let mut out = Vec::new();
    // Per node, the windows during which each fault may hold it down, with
    // the fault's span and a description for the overlap error.
    let mut windows: Vec<Window> = Vec::new();
    for f in raw {
        let r = f.get_ref();
        let kind = r.kind.get_ref().as_str();
        let allowed: &[&str] = match kind {
            "crash" => &["at", "restart_after"],
            "crash-loop" => &["first", "every", "down", "jitter"],
            "pause" => &["at", "length"],
            "pauses" => &["first", "every", "length"],
            "slow" => &["start", "end", "factor"],
            "churn" => &["first", "mttf", "mttr"],
            "join" => &["at", "via"],
            "leave" => &["at", "linger", "rejoin_after"],
            other => {
                return cx.err(
                    r.kind.span(),
                    format!(
                        "`faults.kind`: unknown fault \"{other}\"; expected \"crash\", \"crash-loop\", \
                         \"churn\", \"pause\", \"pauses\", \"slow\", \"join\" or \"leave\""
                    ),
                )
            }
        };
        let given = [
            ("at", &r.at),
            ("restart_after", &r.restart_after),
            ("first", &r.first),
            ("every", &r.every),
            ("down", &r.down),
            ("jitter", &r.jitter),
            ("start", &r.start),
            ("end", &r.end),
            ("via", &r.via),
            ("linger", &r.linger),
            ("rejoin_after", &r.rejoin_after),
        ];
        let other_given = [
            ("length", r.length.as_ref().map(|v| v.span())),
            ("factor", r.factor.as_ref().map(|v| v.span())),
            ("mttf", r.mttf.as_ref().map(|v| v.span())),
            ("mttr", r.mttr.as_ref().map(|v| v.span())),
        ];
        for (key, span) in other_given {
            if let (Some(span), false) = (span, allowed.contains(&key)) {
                return cx.err(
                    span,
                    format!(
                        "`faults.{key}` does not apply to kind = \"{kind}\", which takes {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        for (key, v) in given {
            if let (Some(v), false) = (v, allowed.contains(&key)) {
                return cx.err(
                    v.span(),
                    format!(
                        "`faults.{key}` does not apply to kind = \"{kind}\", which takes {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        let node = cx.node("faults.node", names, &r.node)?;
        if matches!(kind, "pause" | "pauses" | "slow") {
            out.push(gray_fault(cx, f, node, duration)?);
            continue;
        }
        if matches!(kind, "join" | "leave") {
            let (spec, window) =
                membership_fault(cx, f, names, (monitors, targets, cluster), duration)?;
            windows.push(window);
            out.push(spec);
            continue;
        }
        if monitors.contains(&node) {
            return cx.err(
                r.node.span(),
                format!(
                    "node \"{}\" is a monitor; only targets can crash in this version",
                    r.node.get_ref()
                ),
            );
        }
        if !cluster && !targets.contains(&node) {
            return cx.err(r.node.span(), "only targets can crash");
        }
        let need = |key: &str, v: &Option<Text>| -> R<Nanos> {
            match v {
                Some(v) => cx.duration(&format!("faults.{key}"), v),
                None => cx.err(
                    f.span(),
                    format!("`faults`: kind = \"{kind}\" needs `{key}` (a duration)"),
                ),
            }
        };
        let spec = if kind == "churn" {
            let (first, spec) = churn(cx, f, node, duration)?;
            let what = format!("kind = \"churn\", crashing from {first} on");
            windows.push((node, first, Nanos::MAX, f.span(), what));
            spec
        } else if kind == "crash" {
            let at = need("at", &r.at)?;
            if at >= duration {
                return cx.err(
                    r.at.as_ref().expect("checked").span(),
                    format!("`faults.at` ({at}) is not before the end of the run ({duration})"),
                );
            }
            let restart_after = match &r.restart_after {
                Some(v) => Some(cx.positive("faults.restart_after", v)?),
                None => None,
            };
            let end = restart_after.map_or(Nanos::MAX, |d| at + d);
            let what = match restart_after {
                Some(_) => format!("kind = \"crash\", down from {at} to {end}"),
                None => format!("kind = \"crash\", down from {at} to the end"),
            };
            windows.push((node, at, end, f.span(), what));
            FaultSpec::Crash {
                node,
                at,
                restart_after,
            }
        } else {
            let every = match &r.every {
                Some(v) => cx.positive("faults.every", v)?,
                None => need("every", &None)?,
            };
            let down = match &r.down {
                Some(v) => cx.positive("faults.down", v)?,
                None => need("down", &None)?,
            };
            if down >= every {
                return cx.err(
                    r.down.as_ref().expect("checked").span(),
                    format!("`faults.down` ({down}) must be shorter than `faults.every` ({every})"),
                );
            }
            let jitter = match &r.jitter {
                Some(v) => cx.duration("faults.jitter", v)?,
                None => Nanos::ZERO,
            };
            if jitter > every - down {
                return cx.err(
                    r.jitter.as_ref().expect("checked").span(),
                    format!(
                        "`faults.jitter` ({jitter}) must be at most `every` - `down` ({}) so crashes do not overlap",
                        every - down
                    ),
                );
            }
            let first = match &r.first {
                Some(v) => cx.duration("faults.first", v)?,
                None => every,
            };
            let what = format!("kind = \"crash-loop\", crashing from {first} on");
            windows.push((node, first, Nanos::MAX, f.span(), what));
            FaultSpec::CrashLoop {
                node,
                first,
                every,
                down,
                jitter,
            }
        };
        out.push(spec);
    }
    for (i, a) in windows.iter().enumerate() {
        for b in &windows[..i] {
            if a.0 == b.0 && a.1 < b.2 && b.1 < a.2 {
                let line = cx.text[..b.3.start].matches('\n').count() + 1;
                let membership =
                    |d: &str| d.starts_with("kind = \"join\"") || d.starts_with("kind = \"leave\"");
                let rule = if membership(&a.4) || membership(&b.4) {
                    "a node cannot crash, leave or join while it is down or out of the cluster"
                } else {
                    "a node cannot crash while it is down"
                };
                return cx.err(
                    a.3.clone(),
                    format!(
                        "this fault ({}) can overlap an earlier fault on node \"{}\", the \
                         [[faults]] entry on line {line} ({}); {rule}",
                        a.4, names[a.0 as usize], b.4
                    ),
                );
            }
        }
    }
    seeds_present(cx, raw, &out, names)?;
    Ok(out)
}

/// The window during which a fault may hold a node down or out: node,
/// start, end, the fault's span, and a description for the overlap error.
type Window = (NodeId, Nanos, Nanos, Range<usize>, String);

/// `kind = "join"` (absent from the start until `at`, through `via`) and
/// `kind = "leave"` (announced at `at`, stopped `linger` later, back
/// `rejoin_after` after `at` if given).
fn membership_fault(
    cx: &Ctx,
    f: &Spanned<RawFault>,
    names: &[String],
    roles: (&[NodeId], &[NodeId], bool),
    duration: Nanos,
) -> R<(FaultSpec, Window)> {
    let (monitors, targets, cluster) = roles;
    let r = f.get_ref();
    let kind = r.kind.get_ref().as_str();
    let node = cx.node("faults.node", names, &r.node)?;
    if !cluster {
        return cx.err(
            r.kind.span(),
            format!(
                "kind = \"{kind}\" is a change of membership: it needs a [[protocols]] entry (a \
                 membership protocol); pairwise detectors have no members to join or leave"
            ),
        );
    }
    if monitors.contains(&node) || targets.contains(&node) {
        return cx.err(
            r.node.span(),
            format!(
                "node \"{}\" is a pairwise monitor or target; kind = \"{kind}\" applies to \
                 members watched only by membership protocols",
                r.node.get_ref()
            ),
        );
    }
    let Some(at_text) = &r.at else {
        return cx.err(
            f.span(),
            format!("`faults`: kind = \"{kind}\" needs `at` (a duration)"),
        );
    };
    let at = cx.duration("faults.at", at_text)?;
    if at >= duration {
        return cx.err(
            at_text.span(),
            format!("`faults.at` ({at}) is not before the end of the run ({duration})"),
        );
    }
    if kind == "join" {
        if at == Nanos::ZERO {
            return cx.err(
                at_text.span(),
                "`faults.at` must be after the start for kind = \"join\": a member present at \
                 0s is in the cluster from the start",
            );
        }
        let via = match &r.via {
            Some(v) => {
                let seed = cx.node("faults.via", names, v)?;
                if seed == node {
                    return cx.err(
                        v.span(),
                        format!(
                            "`faults.via` names the joining member \"{}\" itself; a join goes \
                             through a member already in the cluster",
                            v.get_ref()
                        ),
                    );
                }
                Some(seed)
            }
            None => None,
        };
        let what = format!("kind = \"join\", out of the cluster from 0s to {at}");
        let window = (node, Nanos::ZERO, at, f.span(), what);
        return Ok((FaultSpec::Join { node, at, via }, window));
    }
    let linger = match &r.linger {
        Some(v) => cx.duration("faults.linger", v)?,
        None => DEFAULT_LINGER,
    };
    let rejoin_after = match &r.rejoin_after {
        Some(v) => {
            let d = cx.positive("faults.rejoin_after", v)?;
            if d <= linger {
                return cx.err(
                    v.span(),
                    format!(
                        "`faults.rejoin_after` ({d}) must be longer than `faults.linger` \
                         ({linger}): the member joins again after it has stopped"
                    ),
                );
            }
            Some(d)
        }
        None => None,
    };
    let end = rejoin_after.map_or(Nanos::MAX, |d| at + d);
    let what = match rejoin_after {
        Some(_) => format!("kind = \"leave\", out of the cluster from {at} to {end}"),
        None => format!("kind = \"leave\", out of the cluster from {at} to the end"),
    };
    let spec = FaultSpec::Leave {
        node,
        at,
        linger,
        rejoin_after,
    };
    Ok((spec, (node, at, end, f.span(), what)))
}

/// A join's seed (`via`) must be in the cluster from the start: not a
/// member that joins later itself.
fn seeds_present(
    cx: &Ctx,
    raw: &[Spanned<RawFault>],
    faults: &[FaultSpec],
    names: &[String],
) -> R<()> {
    let late: Vec<NodeId> = faults
        .iter()
        .filter_map(|f| match f {
            FaultSpec::Join { node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    for (f, spec) in raw.iter().zip(faults) {
        if let FaultSpec::Join { via: Some(v), .. } = spec {
            if late.contains(v) {
                let span = f.get_ref().via.as_ref().expect("via given").span();
                return cx.err(
                    span,
                    format!(
                        "`faults.via`: \"{}\" joins later itself (kind = \"join\"); a seed \
                         must be in the cluster from the start",
                        names[*v as usize]
                    ),
                );
            }
        }
    }
    Ok(())
}

/// The most crash-restart cycles a churn fault may produce in one run, on
/// average: more is almost surely a unit slip (`"10ms"` for `"10m"`).
const MAX_CHURN_CYCLES: f64 = 1e6;

/// `kind = "churn"`: up times from `mttf`, down times from `mttr`, each a
/// duration (the mean of an exponential) or a distribution table. Returns
/// the start of its window with the spec.
fn churn(cx: &Ctx, f: &Spanned<RawFault>, node: NodeId, duration: Nanos) -> R<(Nanos, FaultSpec)> {
    let r = f.get_ref();
    let first = match &r.first {
        Some(v) => cx.duration("faults.first", v)?,
        None => Nanos::ZERO,
    };
    let get = |key: &str, v: &Option<Spanned<RawLength>>| -> R<Latency> {
        let Some(v) = v else {
            return cx.err(
                f.span(),
                format!(
                    "`faults`: kind = \"churn\" needs `{key}`: a duration (the mean of an \
                     exponential, \"10m\") or a distribution ({{ dist = \"uniform\", min = \"5m\", \
                     max = \"15m\" }})"
                ),
            );
        };
        let field = format!("faults.{key}");
        let dist = match v.get_ref() {
            RawLength::Duration(text) => {
                let mean = cx.positive(&field, &Spanned::new(v.span(), text.clone()))?;
                Latency::Exponential {
                    shift: Nanos::ZERO,
                    mean: mean.0 as f64,
                }
            }
            RawLength::Dist(table) => latency_within(
                cx,
                &field,
                &Spanned::new(v.span(), (**table).clone()),
                MAX_FAULT_TIME,
            )?,
        };
        if dist.mean() == Some(0.0) {
            return cx.err(
                v.span(),
                format!("`{field}` has a mean of zero; up and down times must be positive"),
            );
        }
        Ok(dist)
    };
    let mttf = get("mttf", &r.mttf)?;
    let mttr = get("mttr", &r.mttr)?;
    if let (Some(up), Some(down)) = (mttf.mean(), mttr.mean()) {
        let cycles = duration.0.saturating_sub(first.0) as f64 / (up + down);
        if cycles > MAX_CHURN_CYCLES {
            return cx.err(
                f.span(),
                format!(
                    "`faults`: this churn would crash the node about {cycles:.0} times in one run \
                     (mttf + mttr = {}); at most 1000000: check the units",
                    Nanos((up + down).round() as u64)
                ),
            );
        }
    }
    let spec = FaultSpec::Churn {
        node,
        first,
        mttf,
        mttr,
    };
    Ok((first, spec))
}

/// A fault that leaves the node up: a pause or a slow window. Any node,
/// monitor or target, may suffer one.
fn gray_fault(cx: &Ctx, f: &Spanned<RawFault>, node: NodeId, duration: Nanos) -> R<FaultSpec> {
    let r = f.get_ref();
    let kind = r.kind.get_ref().as_str();
    let need = |key: &str, v: &Option<Text>| -> R<Nanos> {
        match v {
            Some(v) => cx.duration(&format!("faults.{key}"), v),
            None => cx.err(
                f.span(),
                format!("`faults`: kind = \"{kind}\" needs `{key}` (a duration)"),
            ),
        }
    };
    let length = || -> R<Latency> {
        let Some(v) = &r.length else {
            return cx.err(
                f.span(),
                format!(
                    "`faults`: kind = \"{kind}\" needs `length`: a duration (\"500ms\") or a \
                     distribution ({{ dist = \"uniform\", min = \"200ms\", max = \"2s\" }})"
                ),
            );
        };
        match v.get_ref() {
            RawLength::Duration(text) => {
                let d = cx.positive("faults.length", &Spanned::new(v.span(), text.clone()))?;
                Ok(Latency::Constant { value: d })
            }
            RawLength::Dist(table) => latency_within(
                cx,
                "faults.length",
                &Spanned::new(v.span(), (**table).clone()),
                MAX_FAULT_TIME,
            ),
        }
    };
    Ok(match kind {
        "pause" => {
            let at = need("at", &r.at)?;
            FaultSpec::Pause {
                node,
                at,
                length: length()?,
            }
        }
        "pauses" => {
            let every = match &r.every {
                Some(v) => cx.positive("faults.every", v)?,
                None => need("every", &None)?,
            };
            let first = match &r.first {
                Some(v) => cx.duration("faults.first", v)?,
                None => Nanos::ZERO,
            };
            FaultSpec::Pauses {
                node,
                first,
                every,
                length: length()?,
            }
        }
        _ => {
            let start = need("start", &r.start)?;
            let end = need("end", &r.end)?;
            if end <= start {
                return cx.err(
                    r.end.as_ref().expect("checked").span(),
                    format!("`faults.end` ({end}) must be after `faults.start` ({start})"),
                );
            }
            if start >= duration {
                return cx.err(
                    r.start.as_ref().expect("checked").span(),
                    format!(
                        "`faults.start` ({start}) is not before the end of the run ({duration})"
                    ),
                );
            }
            let factor =
                match &r.factor {
                    Some(v) if !v.get_ref().is_finite() => {
                        return cx.err(
                            v.span(),
                            format!(
                                "`faults.factor` must be a finite number, got {}",
                                v.get_ref()
                            ),
                        )
                    }
                    Some(v) if (1.0..=1e6).contains(v.get_ref()) => *v.get_ref(),
                    Some(v) => {
                        return cx.err(
                            v.span(),
                            format!(
                        "`faults.factor` must be in [1, 1000000] (how many times slower), got {}",
                        number_text(*v.get_ref())
                    ),
                        )
                    }
                    None => return cx.err(
                        f.span(),
                        "`faults`: kind = \"slow\" needs `factor` (e.g. 3 for three times slower)",
                    ),
                };
            FaultSpec::Slow {
                node,
                start,
                end,
                factor,
            }
        }
    })
}

fn detectors(cx: &Ctx, raw: &Spanned<Vec<RawDetector>>, interval: Nanos) -> R<Vec<DetectorConfig>> {
    if raw.get_ref().is_empty() {
        return cx.err(
            raw.span(),
            "`detectors` is empty; add at least one [[detectors]] entry",
        );
    }
    let mut out: Vec<DetectorConfig> = Vec::new();
    for entry in raw.get_ref() {
        let table = entry.get_ref();
        let (preset, kind) = preset_and_kind(cx, entry)?;
        if let (Some(p), Some(v)) = (preset, table.get("preset")) {
            check_preset_interval(cx, p, v.span(), interval, "`[heartbeat] interval`");
        }
        let label = match table.get("name") {
            Some(v) => match v.get_ref().as_str() {
                Some(s) if bad_label(s).is_none() => s.to_string(),
                Some(s) => {
                    let why = bad_label(s).unwrap_or_default();
                    return cx.err(v.span(), format!("`detectors.name` {why}"));
                }
                None => return cx.err(v.span(), "`detectors.name` must be a string"),
            },
            None => preset.map_or(kind.name, |p| p.name).to_string(),
        };
        if out.iter().any(|d| d.label == label) {
            let span = table.get("name").map_or(entry.span(), |v| v.span());
            return cx.err(
                span,
                format!("two detectors are labelled \"{label}\"; give each a distinct `name`"),
            );
        }
        for (key, v) in table {
            let reserved = ["kind", "name", "preset"].contains(&key.as_str())
                || Budget::KEYS.contains(&key.as_str());
            if !reserved && kind.param(key).is_none() {
                let known: Vec<&str> = std::iter::once(kind.swept.name)
                    .chain(kind.params.iter().map(|p| p.name))
                    .collect();
                return cx.err(
                    cx.key_span(v.span()),
                    format!(
                        "unknown parameter `{key}` for detector \"{}\"; it takes: {}",
                        kind.name,
                        known.join(", ")
                    ),
                );
            }
        }
        let values = match table.get(kind.swept.name) {
            Some(v) => sweep(cx, &kind.swept, v)?,
            None => match preset
                .and_then(|p| p.value(kind.swept.name))
                .or(kind.swept.default)
            {
                Some(d) => vec![d],
                None => {
                    return cx.err(
                        entry.span(),
                        format!(
                            "detector \"{}\" needs `{}`: one value, a list, or a range {{ from, to, steps }}",
                            kind.name, kind.swept.name
                        ),
                    )
                }
            },
        };
        let mut params = Vec::new();
        for spec in kind.params {
            let v = match table.get(spec.name) {
                Some(v) => scalar(cx, spec, v)?,
                None => match preset.and_then(|p| p.value(spec.name)).or(spec.default) {
                    Some(d) => d,
                    None => {
                        return cx.err(
                            entry.span(),
                            format!("detector \"{}\" needs `{}`", kind.name, spec.name),
                        )
                    }
                },
            };
            params.push((spec.name, v));
        }
        let budget = budget(cx, table)?;
        out.push(DetectorConfig {
            variant: 0,
            label,
            kind,
            params: Params::new(params),
            values,
            budget,
        });
    }
    Ok(out)
}

/// The preset an entry names (`preset = "..."`), if any, and its kind:
/// the preset's, or the `kind` written, which must then agree with it.
fn preset_and_kind(
    cx: &Ctx,
    entry: &RawDetector,
) -> R<(Option<&'static Preset>, &'static DetectorKind)> {
    let table = entry.get_ref();
    let preset = match table.get("preset") {
        None => None,
        Some(v) => match v.get_ref().as_str().map(|n| (n, presets::find(n))) {
            Some((_, Some(p))) => Some(p),
            Some((name, None)) => {
                return cx.err(
                    v.span(),
                    format!(
                        "`detectors.preset`: unknown preset \"{name}\"; known: {} \
                         (fdsim detectors --presets lists them)",
                        presets::names().join(", ")
                    ),
                )
            }
            None => {
                return cx.err(
                    v.span(),
                    format!(
                        "`detectors.preset` must be a preset's name, a string such as \
                         \"cassandra\"; known: {}",
                        presets::names().join(", ")
                    ),
                )
            }
        },
    };
    let Some(kind_v) = table.get("kind") else {
        let Some(p) = preset else {
            return cx.err(
                entry.span(),
                "`detectors`: every entry needs `kind` (a detector) or `preset` (a system's defaults)",
            );
        };
        return match p.detector_kind() {
            Some(k) => Ok((preset, k)),
            None => cx.err(
                table.get("preset").map_or(entry.span(), |v| v.span()),
                format!(
                    "preset \"{}\" names detector \"{}\", which this build lacks",
                    p.name, p.kind
                ),
            ),
        };
    };
    let kind = match kind_v.get_ref().as_str().and_then(registry::find) {
        Some(k) => k,
        None => {
            let known: Vec<&str> = registry::kinds().iter().map(|k| k.name).collect();
            return cx.err(
                kind_v.span(),
                format!(
                    "`detectors.kind`: unknown detector {}; known: {}",
                    kind_v.get_ref(),
                    known.join(", ")
                ),
            );
        }
    };
    if let Some(p) = preset.filter(|p| p.kind != kind.name) {
        return cx.err(
            kind_v.span(),
            format!(
                "preset \"{}\" is a \"{}\" detector, not \"{}\"; leave `kind` out (the preset sets it)",
                p.name, p.kind, kind.name
            ),
        );
    }
    Ok((preset, kind))
}

/// The optional `max_*` budget keys of a `[[detectors]]` entry.
fn budget(cx: &Ctx, table: &std::collections::BTreeMap<String, Spanned<toml::Value>>) -> R<Budget> {
    let get = |key: &str| -> R<Option<f64>> {
        let Some(v) = table.get(key) else {
            return Ok(None);
        };
        let x = match v.get_ref() {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            other => return cx.err(v.span(), format!("`{key}` must be a number, got {other}")),
        };
        if !x.is_finite() {
            return cx.err(
                v.span(),
                format!("`{key}` must be a finite number, got {x}"),
            );
        }
        if x < 0.0 {
            return cx.err(
                v.span(),
                format!("`{key}` must be a number >= 0, got {}", number_text(x)),
            );
        }
        Ok(Some(x))
    };
    Ok(Budget {
        max_mistakes_per_hour: get("max_mistakes_per_hour")?,
        max_detection_ms_mean: get("max_detection_ms_mean")?,
        max_detection_ms_p99: get("max_detection_ms_p99")?,
    })
}

/// One parameter value in internal units, range-checked.
fn scalar(cx: &Ctx, spec: &ParamSpec, v: &Spanned<toml::Value>) -> R<f64> {
    let x = match (spec.unit, v.get_ref()) {
        (ParamUnit::Duration, toml::Value::String(s)) => match parse_duration(s) {
            Ok(d) => d.0 as f64,
            Err(e) => return cx.err(v.span(), format!("`{}`: {e}", spec.name)),
        },
        (ParamUnit::Duration, other) => {
            return cx.err(
                v.span(),
                format!(
                    "`{}` is a duration such as \"150ms\", got {other}",
                    spec.name
                ),
            )
        }
        (_, toml::Value::Integer(i)) => *i as f64,
        (_, toml::Value::Float(f)) => *f,
        (_, other) => {
            return cx.err(
                v.span(),
                format!("`{}` must be a number, got {other}", spec.name),
            )
        }
    };
    match spec.check(x) {
        Ok(()) => Ok(x),
        Err(msg) => cx.err(v.span(), msg),
    }
}

/// The values of a swept parameter: one value, a list, or a range table.
fn sweep(cx: &Ctx, spec: &ParamSpec, v: &Spanned<toml::Value>) -> R<Vec<f64>> {
    let values = match v.get_ref() {
        toml::Value::Array(items) => {
            if items.is_empty() {
                return cx.err(v.span(), format!("`{}` list is empty", spec.name));
            }
            let mut out = Vec::new();
            for item in items {
                let item = Spanned::new(v.span(), item.clone());
                out.push(scalar(cx, spec, &item)?);
            }
            out
        }
        toml::Value::Table(t) => range(cx, spec, v, t)?,
        _ => vec![scalar(cx, spec, v)?],
    };
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return cx.err(v.span(), format!("`{}` lists a value twice", spec.name));
    }
    Ok(values)
}

fn range(cx: &Ctx, spec: &ParamSpec, v: &Spanned<toml::Value>, t: &toml::Table) -> R<Vec<f64>> {
    for key in t.keys() {
        if !["from", "to", "steps", "spacing"].contains(&key.as_str()) {
            return cx.err(
                cx.key_in(v.span(), key),
                format!("unknown key `{key}` in the range for `{}`; a range takes from, to, steps, spacing", spec.name),
            );
        }
    }
    let get = |key: &str| -> R<f64> {
        match t.get(key) {
            Some(x) => scalar(cx, spec, &Spanned::new(v.span(), x.clone())),
            None => cx.err(
                v.span(),
                format!("the range for `{}` needs `{key}`", spec.name),
            ),
        }
    };
    let (from, to) = (get("from")?, get("to")?);
    if to <= from {
        return cx.err(
            v.span(),
            format!("the range for `{}` needs `to` above `from`", spec.name),
        );
    }
    let steps = match t.get("steps") {
        Some(toml::Value::Integer(n)) if (2..=10_000).contains(n) => *n as usize,
        _ => {
            return cx.err(
                v.span(),
                format!(
                    "the range for `{}` needs `steps`, a whole number in [2, 10000]",
                    spec.name
                ),
            )
        }
    };
    let log = match t.get("spacing").map(|s| s.as_str()) {
        None | Some(Some("linear")) => false,
        Some(Some("log")) => true,
        _ => {
            return cx.err(
                v.span(),
                format!(
                    "`spacing` in the range for `{}` must be \"linear\" or \"log\"",
                    spec.name
                ),
            )
        }
    };
    if log && from <= 0.0 {
        return cx.err(v.span(), "a log range needs `from` above zero");
    }
    let round = |x: f64| match spec.unit {
        ParamUnit::Duration | ParamUnit::Count => x.round(),
        ParamUnit::Number => x,
    };
    let exact: Vec<f64> = (0..steps)
        .map(|i| {
            let f = i as f64 / (steps - 1) as f64;
            if log {
                from * math::powf(to / from, f)
            } else {
                from + (to - from) * f
            }
        })
        .collect();
    Ok(readable(&exact, round))
}

/// Rounds range values to the fewest significant digits (three or more)
/// that keep them distinct, so a log range reads `8.84ms`, not
/// `8.835605ms`. The ends of the range are kept exactly.
fn readable(exact: &[f64], round: impl Fn(f64) -> f64) -> Vec<f64> {
    for digits in 3..=15 {
        let mut out: Vec<f64> = exact
            .iter()
            .map(|&v| round(significant(v, digits)))
            .collect();
        if let (Some(first), Some(last)) = (exact.first(), exact.last()) {
            out[0] = round(*first);
            let n = out.len();
            out[n - 1] = round(*last);
        }
        if out.windows(2).all(|w| w[0] < w[1]) {
            return out;
        }
    }
    exact.iter().map(|&v| round(v)).collect()
}

fn significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    // Through decimal text, so 41.4 comes out as the double nearest 41.4
    // rather than 41.400000000000006.
    format!("{:.*e}", (digits - 1) as usize, v)
        .parse()
        .unwrap_or(v)
}

/// The most values a `[sweep]` may list: each is a whole simulation per
/// seed.
pub const MAX_SWEEP_VALUES: usize = 20;

/// Top-level keys a `[sweep]` may not set: they name, seed or shape the
/// report rather than the system simulated.
const UNSWEEPABLE: [&str; 7] = [
    "name",
    "description",
    "seeds",
    "base_seed",
    "sweep",
    "report",
    "replay",
];

/// `[sweep]`: the scenario once per value of `field`, each validated as
/// if the file said `field = value`. Errors in a variant are reported at
/// the value in `values`, with what validation said about it.
pub(super) fn second_sweep(
    path: &Path,
    text: &str,
    base: &Scenario,
    raw: &Spanned<RawSweep>,
) -> R<super::Sweep> {
    let cx = Ctx {
        path,
        text,
        warnings: Default::default(),
    };
    let field = raw.get_ref().field.get_ref().trim().to_string();
    let field_span = raw.get_ref().field.span();
    let keys: Vec<&str> = field.split('.').collect();
    if field.is_empty() || keys.iter().any(|k| k.is_empty()) {
        return cx.err(
            field_span,
            "`sweep.field` must be a dotted path to a setting, such as \"heartbeat.interval\"",
        );
    }
    if UNSWEEPABLE.contains(&keys[0]) {
        return cx.err(
            field_span,
            format!(
                "`sweep.field` cannot be `{}`: sweep a setting of the system simulated \
                 (heartbeat, network, faults' tables, duration, warmup)",
                keys[0]
            ),
        );
    }
    if base.detectors.is_empty() || !base.protocols.is_empty() {
        return cx.err(
            raw.span(),
            "[sweep] needs [[detectors]] and no [[protocols]] (a protocol sweeps its own \
             parameter)",
        );
    }
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        ScenarioError::at(
            path,
            text,
            Some(raw.span()),
            format!("cannot read the file: {e}"),
        )
    })?;
    // The parent of the last key must be a table of the file (created if
    // missing), never an array of tables.
    let mut at: &toml::Table = &doc;
    for (i, k) in keys[..keys.len() - 1].iter().enumerate() {
        match at.get(*k) {
            None => break,
            Some(toml::Value::Table(t)) => at = t,
            Some(_) => {
                let prefix = keys[..=i].join(".");
                return cx.err(
                    field_span,
                    format!(
                        "`sweep.field`: `{prefix}` is not a table (entries of [[...]] lists \
                         cannot be swept; sweep a detector's parameter in its own entry)"
                    ),
                );
            }
        }
    }
    let values = raw.get_ref().values.get_ref();
    if values.is_empty() || values.len() > MAX_SWEEP_VALUES {
        return cx.err(
            raw.get_ref().values.span(),
            format!(
                "`sweep.values` needs 1 to {MAX_SWEEP_VALUES} values, got {}",
                values.len()
            ),
        );
    }
    let mut labels: Vec<String> = Vec::new();
    let mut variants = Vec::new();
    for v in values {
        let value = v.get_ref().clone();
        let label = match &value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
                value.to_string()
            }
            _ => {
                return cx.err(
                    v.span(),
                    "`sweep.values` holds strings, numbers or booleans, one per run of the \
                     scenario",
                )
            }
        };
        if labels.contains(&label) {
            return cx.err(v.span(), format!("`sweep.values`: {label} appears twice"));
        }
        if let Some(why) = bad_label(&label) {
            return cx.err(v.span(), format!("`sweep.values`: {label:?} {why}"));
        }
        let mut variant_doc = doc.clone();
        variant_doc.remove("sweep");
        set_path(&mut variant_doc, &keys, value);
        let variant_text = toml::to_string(&variant_doc).map_err(|e| {
            ScenarioError::at(path, text, Some(v.span()), format!("`sweep.values`: {e}"))
        })?;
        let variant = Scenario::parse(path, &variant_text).map_err(|e| {
            let why = match &e {
                ScenarioError::Invalid(d) => d.message.clone(),
                ScenarioError::Io { reason, .. } => reason.clone(),
            };
            ScenarioError::at(
                path,
                text,
                Some(v.span()),
                format!("`sweep.values`: with {field} = {label}: {why}"),
            )
        })?;
        labels.push(label);
        variants.push(variant);
    }
    Ok(super::Sweep {
        field,
        labels,
        variants,
    })
}

/// Sets `keys` (a dotted path) in `doc` to `value`, creating tables on
/// the way.
fn set_path(doc: &mut toml::Table, keys: &[&str], value: toml::Value) {
    let (last, parents) = keys.split_last().expect("a path has a key");
    let mut at = doc;
    for k in parents {
        let entry = at
            .entry(k.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = match entry {
            toml::Value::Table(t) => t,
            _ => unreachable!("checked to be a table"),
        };
    }
    at.insert(last.to_string(), value);
}

/// Where an error about the file as a whole points: its first line that
/// is neither blank nor a comment (the top-level table's first key), or
/// the start of the file.
fn top_level(text: &str) -> std::ops::Range<usize> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') {
            let start = at + (line.len() - line.trim_start().len());
            return start..at + line.trim_end().len();
        }
        at += line.len();
    }
    0..0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_values_keep_three_significant_digits_unless_that_merges_them() {
        let exact = [1e6, 8.835_605e6, 78.06e6, 689.7e6];
        assert_eq!(
            readable(&exact, f64::round),
            vec![1e6, 8.84e6, 78.1e6, 689.7e6]
        );
        let close = [1.0, 1.0004, 1.0008];
        assert_eq!(readable(&close, |x| x), vec![1.0, 1.0004, 1.0008]);
    }

    /// A table missing from the file as a whole is reported at its first
    /// key (the fuzz test found it reported with no position at all).
    #[test]
    fn a_missing_network_table_points_at_the_top_level() {
        let text =
            "# comment\n\n  name = \"x\"\nduration = \"1m\"\n\n[heartbeat]\ninterval = \"1s\"\n\n\
                    [[detectors]]\nkind = \"fixed\"\ntimeout = \"2s\"\n";
        let Err(ScenarioError::Invalid(d)) = Scenario::parse(Path::new("x.toml"), text) else {
            panic!("a scenario without [network] is rejected");
        };
        assert!(
            d.message.contains("missing table `[network]`"),
            "{}",
            d.message
        );
        assert_eq!((d.line, d.column), (Some(3), Some(3)));
        assert_eq!(top_level("# only\n\n"), 0..0);
    }
}
