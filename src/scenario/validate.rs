//! From raw structs to a typed [`Scenario`], checking every field.

use super::raw::*;
use super::{Budget, DetectorConfig, Scenario, ScenarioError};
use crate::detector::registry::{self, ParamSpec, ParamUnit, Params};
use crate::fault::FaultSpec;
use crate::net::{Direction, Latency, LinkModel, Partition};
use crate::sim::agent::NodeId;
use crate::sim::time::{parse_duration, Nanos};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

type R<T> = Result<T, ScenarioError>;

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err<T>(&self, span: Range<usize>, msg: impl Into<String>) -> R<T> {
        Err(ScenarioError::at(
            self.path,
            self.text,
            Some(span),
            msg.into(),
        ))
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

    fn probability(&self, field: &str, v: &Spanned<f64>) -> R<f64> {
        let p = *v.get_ref();
        if !(0.0..=1.0).contains(&p) {
            return self.err(v.span(), format!("`{field}` must be in [0, 1], got {p}"));
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

pub(super) fn validate(path: &Path, text: &str, raw: RawScenario) -> R<Scenario> {
    let cx = Ctx { path, text };
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
        Some(n) => n.get_ref().clone(),
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into()),
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
    let interval = cx.positive("heartbeat.interval", &raw.heartbeat.interval)?;
    if interval >= duration {
        return cx.err(
            raw.heartbeat.interval.span(),
            format!(
                "`heartbeat.interval` ({interval}) must be shorter than `duration` ({duration})"
            ),
        );
    }
    let (nodes, monitors, targets) = nodes(&cx, raw.nodes.as_ref())?;
    if let Some(n) = &raw.nodes {
        let pairs = monitors.iter().any(|m| targets.iter().any(|t| t != m));
        if !pairs {
            return cx.err(
                n.targets.span(),
                "no target is watched by a different node: list at least one target that is not also the only monitor",
            );
        }
    }
    let links = links(&cx, &raw.network, &nodes)?;
    let partitions = raw
        .partitions
        .iter()
        .map(|p| partition(&cx, p, &nodes))
        .collect::<R<Vec<_>>>()?;
    let faults = faults(&cx, &raw.faults, &nodes, &monitors, &targets, duration)?;
    let detectors = detectors(&cx, &raw.detectors)?;
    Ok(Scenario {
        name,
        description: raw.description.unwrap_or_default().trim().to_string(),
        path: path.to_path_buf(),
        duration,
        warmup,
        seeds,
        interval,
        nodes,
        monitors,
        targets,
        links,
        partitions,
        faults,
        detectors,
    })
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

fn nodes(cx: &Ctx, raw: Option<&RawNodes>) -> R<(Vec<String>, Vec<NodeId>, Vec<NodeId>)> {
    let Some(raw) = raw else {
        return Ok((vec!["monitor".into(), "target".into()], vec![0], vec![1]));
    };
    let mut names: Vec<String> = Vec::new();
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
    let monitors = ids("monitors", &raw.monitors)?;
    let targets = ids("targets", &raw.targets)?;
    Ok((names, monitors, targets))
}

fn latency(cx: &Ctx, field: &str, raw: &Spanned<RawLatency>) -> R<Latency> {
    let l = raw.get_ref();
    let dist = l.dist.get_ref().as_str();
    let wants: &[&str] = match dist {
        "constant" => &["value"],
        "uniform" => &["min", "max"],
        "normal" => &["mean", "std"],
        "lognormal" => &["median", "sigma"],
        "exponential" => &["mean", "shift"],
        "pareto" => &["scale", "shape"],
        other => {
            return cx.err(
                l.dist.span(),
                format!(
                    "`{field}.dist`: unknown distribution \"{other}\"; expected one of \
                     constant, uniform, normal, lognormal, exponential, pareto"
                ),
            )
        }
    };
    let given: [(&str, Option<Range<usize>>); 10] = [
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
            Some(v) => cx.duration(&format!("{field}.{key}"), v),
            None => cx.err(
                raw.span(),
                format!("`{field}`: dist = \"{dist}\" needs `{key}` (a duration such as \"5ms\")"),
            ),
        }
    };
    let need_f = |key: &str, v: &Option<Spanned<f64>>| -> R<Spanned<f64>> {
        match v {
            Some(v) => Ok(v.clone()),
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
            if !(*sigma.get_ref() >= 0.0 && sigma.get_ref().is_finite()) {
                return cx.err(sigma.span(), format!("`{field}.sigma` must be >= 0"));
            }
            Latency::LogNormal {
                median: median.0 as f64,
                sigma: *sigma.get_ref(),
            }
        }
        "exponential" => {
            let mean = need("mean", &l.mean)?;
            let shift = match &l.shift {
                Some(s) => cx.duration(&format!("{field}.shift"), s)?,
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
        _ => {
            let scale = need("scale", &l.scale)?;
            let shape = need_f("shape", &l.shape)?;
            if scale == Nanos::ZERO {
                return cx.err(
                    l.scale.as_ref().expect("checked").span(),
                    format!("`{field}.scale` must be greater than zero"),
                );
            }
            if !(*shape.get_ref() > 0.0 && shape.get_ref().is_finite()) {
                return cx.err(shape.span(), format!("`{field}.shape` must be > 0"));
            }
            Latency::Pareto {
                scale: scale.0 as f64,
                shape: *shape.get_ref(),
            }
        }
    })
}

fn links(cx: &Ctx, net: &RawNetwork, names: &[String]) -> R<Vec<(NodeId, NodeId, LinkModel)>> {
    let default = LinkModel {
        latency: latency(cx, "network.latency", &net.latency)?,
        loss: match &net.loss {
            Some(p) => cx.probability("network.loss", p)?,
            None => 0.0,
        },
    };
    let n = names.len() as NodeId;
    let mut table: BTreeMap<(NodeId, NodeId), LinkModel> = BTreeMap::new();
    for from in 0..n {
        for to in 0..n {
            if from != to {
                table.insert((from, to), default.clone());
            }
        }
    }
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
            loss: match &l.loss {
                Some(p) => cx.probability("network.links.loss", p)?,
                None => default.loss,
            },
        };
        let mut pairs = vec![(from, to)];
        if l.symmetric {
            pairs.push((to, from));
        }
        for pair in pairs {
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
    Ok(table.into_iter().map(|((f, t), m)| (f, t, m)).collect())
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

fn partition(cx: &Ctx, raw: &Spanned<RawPartition>, names: &[String]) -> R<Partition> {
    let p = raw.get_ref();
    let start = cx.duration("partitions.start", &p.start)?;
    let end = cx.duration("partitions.end", &p.end)?;
    if end <= start {
        return cx.err(
            p.end.span(),
            format!("`partitions.end` ({end}) must be after `partitions.start` ({start})"),
        );
    }
    let a = group(cx, "partitions.a", &p.a, names)?;
    let b = group(cx, "partitions.b", &p.b, names)?;
    if let Some(n) = a.iter().find(|n| b.contains(n)) {
        return cx.err(
            p.b.span(),
            format!(
                "node \"{}\" is on both sides of the partition",
                names[*n as usize]
            ),
        );
    }
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
    Ok(Partition {
        start,
        end,
        a,
        b,
        direction,
    })
}

fn faults(
    cx: &Ctx,
    raw: &[Spanned<RawFault>],
    names: &[String],
    monitors: &[NodeId],
    targets: &[NodeId],
    duration: Nanos,
) -> R<Vec<FaultSpec>> {
    let mut out = Vec::new();
    // Per node, the windows during which each fault may hold it down.
    let mut windows: Vec<(NodeId, Nanos, Nanos, Range<usize>)> = Vec::new();
    for f in raw {
        let r = f.get_ref();
        let kind = r.kind.get_ref().as_str();
        let allowed: &[&str] = match kind {
            "crash" => &["at", "restart_after"],
            "crash-loop" => &["first", "every", "down", "jitter"],
            other => {
                return cx.err(
                    r.kind.span(),
                    format!("`faults.kind`: unknown fault \"{other}\"; expected \"crash\" or \"crash-loop\""),
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
        ];
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
        if monitors.contains(&node) {
            return cx.err(
                r.node.span(),
                format!(
                    "node \"{}\" is a monitor; only targets can crash in this version",
                    r.node.get_ref()
                ),
            );
        }
        if !targets.contains(&node) {
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
        let spec = if kind == "crash" {
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
            windows.push((node, at, end, f.span()));
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
            windows.push((node, first, Nanos::MAX, f.span()));
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
                return cx.err(
                    a.3.clone(),
                    format!(
                        "this fault can overlap an earlier fault on node \"{}\"; a node cannot crash while it is down",
                        names[a.0 as usize]
                    ),
                );
            }
        }
    }
    Ok(out)
}

fn detectors(cx: &Ctx, raw: &Spanned<Vec<RawDetector>>) -> R<Vec<DetectorConfig>> {
    if raw.get_ref().is_empty() {
        return cx.err(
            raw.span(),
            "`detectors` is empty; add at least one [[detectors]] entry",
        );
    }
    let mut out: Vec<DetectorConfig> = Vec::new();
    for entry in raw.get_ref() {
        let table = entry.get_ref();
        let Some(kind_v) = table.get("kind") else {
            return cx.err(entry.span(), "`detectors`: every entry needs `kind`");
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
        let label = match table.get("name") {
            Some(v) => match v.get_ref().as_str() {
                Some(s) if !s.is_empty() && !s.contains(',') => s.to_string(),
                _ => {
                    return cx.err(
                        v.span(),
                        "`detectors.name` must be a non-empty string without commas",
                    )
                }
            },
            None => kind.name.to_string(),
        };
        if out.iter().any(|d| d.label == label) {
            let span = table.get("name").map_or(entry.span(), |v| v.span());
            return cx.err(
                span,
                format!("two detectors are labelled \"{label}\"; give each a distinct `name`"),
            );
        }
        for (key, v) in table {
            let reserved = key == "kind" || key == "name" || Budget::KEYS.contains(&key.as_str());
            if !reserved && kind.param(key).is_none() {
                let known: Vec<&str> = std::iter::once(kind.swept.name)
                    .chain(kind.params.iter().map(|p| p.name))
                    .collect();
                return cx.err(
                    v.span(),
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
            None => match kind.swept.default {
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
                None => match spec.default {
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
            label,
            kind,
            params: Params::new(params),
            values,
            budget,
        });
    }
    Ok(out)
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
        if !(x.is_finite() && x >= 0.0) {
            return cx.err(v.span(), format!("`{key}` must be a number >= 0, got {x}"));
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
                v.span(),
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
                from * (to / from).powf(f)
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
}
