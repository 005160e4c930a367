//! `[[protocols]]` entries: the kind, the label, every parameter, the one
//! swept parameter, and the full configuration at each swept value.

use super::{check_preset_interval, scalar, sweep, Ctx, R};
use crate::detector::presets::{self, Preset};
use crate::detector::registry::{self, ParamSpec};
use crate::detector::{DetectorKind, Params};
use crate::protocol::gossip::GossipConfig;
use crate::protocol::kmonitor::KMonitorConfig;
use crate::scenario::protocol::{
    self as proto, ProtocolConfig, ProtocolKind, ProtocolParam, ProtocolSettings, Selection,
    SwimSettings, RESERVED_KEYS, SWIM_PRESETS,
};
use crate::scenario::raw::RawProtocol;
use crate::sim::time::Nanos;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

type Table = BTreeMap<String, Spanned<toml::Value>>;

/// Every `[[protocols]]` entry; `taken` holds the detectors' labels, which
/// protocols may not reuse.
pub(super) fn protocols(
    cx: &Ctx,
    raw: &[RawProtocol],
    names: &[String],
    duration: Nanos,
    taken: &[&str],
) -> R<Vec<ProtocolConfig>> {
    let mut labels: Vec<String> = taken.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    for entry in raw {
        let cfg = protocol(cx, entry, names.len(), duration)?;
        let table = entry.get_ref();
        if labels.contains(&cfg.label) {
            let span = table.get("name").map_or(entry.span(), |v| v.span());
            return cx.err(
                span,
                format!(
                    "two entries are labelled \"{}\" (detectors and protocols share labels); give \
                     each a distinct `name`",
                    cfg.label
                ),
            );
        }
        labels.push(cfg.label.clone());
        out.push(cfg);
    }
    Ok(out)
}

/// What one entry's parameters resolved to, before the per-value build.
struct Resolved<'t> {
    table: &'t Table,
    entry_span: Range<usize>,
    /// Every numeric parameter with its values (NaN: not set, no default).
    numbers: Vec<(&'static str, Vec<f64>)>,
    swept: &'static str,
}

impl Resolved<'_> {
    /// The value of `name` at swept value `x`.
    fn get(&self, name: &str, x: f64) -> f64 {
        if name == self.swept {
            return x;
        }
        self.numbers
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(f64::NAN, |(_, v)| v[0])
    }

    /// Where an error about `name` should point: its key, or the entry.
    fn span_of(&self, name: &str) -> Range<usize> {
        self.table
            .get(name)
            .map_or(self.entry_span.clone(), |v| v.span())
    }

    fn flag(&self, cx: &Ctx, name: &str, default: bool) -> R<bool> {
        match self.table.get(name) {
            None => Ok(default),
            Some(v) => match v.get_ref() {
                toml::Value::Boolean(b) => Ok(*b),
                other => cx.err(
                    v.span(),
                    format!("`{name}` must be true or false, got {other}"),
                ),
            },
        }
    }
}

fn ns(v: f64) -> Nanos {
    Nanos(v.round() as u64)
}

fn protocol(cx: &Ctx, entry: &RawProtocol, members: usize, duration: Nanos) -> R<ProtocolConfig> {
    let table = entry.get_ref();
    let kind = kind_of(cx, entry)?;
    let label = label(cx, table, kind)?;
    let (detector, detector_preset) = if kind.name == proto::K_MONITOR.name {
        let (d, p) = detector_of(cx, entry)?;
        (Some(d), p)
    } else {
        (None, None)
    };
    let mut specs: Vec<ParamSpec> = kind
        .params
        .iter()
        .filter_map(|p| match p {
            ProtocolParam::Number(spec) => Some(*spec),
            _ => None,
        })
        .collect();
    if let Some(d) = detector {
        specs.push(d.swept);
        specs.extend_from_slice(d.params);
    }
    check_keys(cx, table, kind, detector)?;
    let swept = swept_key(cx, table, kind, &specs)?;
    let swim_preset = if kind.name == proto::SWIM.name {
        Some(swim_preset(cx, table)?)
    } else {
        None
    };
    let default_of = |spec: &ParamSpec| -> Option<f64> {
        let from_swim = swim_preset.and_then(|p| p.iter().find(|(n, _)| *n == spec.name));
        if let Some((_, v)) = from_swim {
            return Some(*v);
        }
        if let Some(p) = detector_preset {
            if let Some(v) = p.value(spec.name) {
                return Some(v);
            }
            if spec.name == "interval" {
                return Some(p.heartbeat.0 as f64);
            }
        }
        spec.default
    };
    let mut numbers = Vec::new();
    for spec in &specs {
        let values = match table.get(spec.name) {
            Some(v) if Some(spec.name) == swept => sweep(cx, spec, v)?,
            Some(v) => vec![scalar(cx, spec, v)?],
            None => vec![default_of(spec).unwrap_or(f64::NAN)],
        };
        numbers.push((spec.name, values));
    }
    let swept = swept
        .or(kind.default_swept)
        .or(detector.map(|d| d.swept.name))
        .expect("every kind has a default swept parameter");
    let swept_spec = *specs
        .iter()
        .find(|s| s.name == swept)
        .expect("the swept parameter is one of the entry's");
    let values = numbers
        .iter()
        .find(|(n, _)| *n == swept)
        .map(|(_, v)| v.clone())
        .expect("resolved");
    if values.iter().any(|v| v.is_nan()) {
        return cx.err(
            entry.span(),
            format!(
                "protocol \"{}\" needs `{swept}`: one value, a list, or a range {{ from, to, steps }}",
                kind.name
            ),
        );
    }
    let r = Resolved {
        table,
        entry_span: entry.span(),
        numbers,
        swept,
    };
    let mut settings = Vec::with_capacity(values.len());
    for &x in &values {
        let s = match kind.name {
            "gossip" => ProtocolSettings::Gossip(gossip(cx, &r, x, members, duration)?),
            "k-monitor" => {
                let d = detector.expect("k-monitor has a detector");
                ProtocolSettings::KMonitor(kmonitor(cx, &r, x, d, members, duration)?)
            }
            _ => ProtocolSettings::Swim(swim(cx, &r, x, duration)?),
        };
        settings.push(s);
    }
    if let (Some(p), Some(v)) = (detector_preset, table.get("preset")) {
        let mut intervals = values.iter().map(|&x| ns(r.get("interval", x)));
        if let Some(i) = intervals.find(|&i| i != p.heartbeat) {
            check_preset_interval(cx, p, v.span(), i, "this entry's `interval`");
        }
    }
    Ok(ProtocolConfig {
        label,
        kind,
        swept: swept_spec,
        values,
        settings,
    })
}

fn kind_of(cx: &Ctx, entry: &RawProtocol) -> R<&'static ProtocolKind> {
    let known = || {
        proto::kinds()
            .iter()
            .map(|k| k.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(v) = entry.get_ref().get("kind") else {
        return cx.err(
            entry.span(),
            format!("`protocols`: every entry needs `kind`, one of {}", known()),
        );
    };
    match v.get_ref().as_str().and_then(proto::find) {
        Some(k) => Ok(k),
        None => cx.err(
            v.span(),
            format!(
                "`protocols.kind`: unknown protocol {}; known: {}",
                v.get_ref(),
                known()
            ),
        ),
    }
}

fn label(cx: &Ctx, table: &Table, kind: &ProtocolKind) -> R<String> {
    match table.get("name") {
        Some(v) => match v.get_ref().as_str() {
            Some(s) if super::bad_label(s).is_none() => Ok(s.to_string()),
            Some(s) => {
                let why = super::bad_label(s).unwrap_or_default();
                cx.err(v.span(), format!("`protocols.name` {why}"))
            }
            None => cx.err(v.span(), "`protocols.name` must be a string"),
        },
        None => Ok(kind.name.to_string()),
    }
}

/// The detector a k-monitor entry runs: `detector = "kind"`, or the kind
/// of `preset = "..."` (a detector preset), which must then agree.
fn detector_of(
    cx: &Ctx,
    entry: &RawProtocol,
) -> R<(&'static DetectorKind, Option<&'static Preset>)> {
    let table = entry.get_ref();
    let preset = match table.get("preset") {
        None => None,
        Some(v) => match v.get_ref().as_str().and_then(presets::find) {
            Some(p) => Some(p),
            None => {
                return cx.err(
                    v.span(),
                    format!(
                        "`protocols.preset`: unknown detector preset {}; known: {} (fdsim \
                         detectors --presets lists them)",
                        v.get_ref(),
                        presets::names().join(", ")
                    ),
                )
            }
        },
    };
    let Some(v) = table.get("detector") else {
        return match preset.and_then(|p| p.detector_kind().map(|k| (k, p))) {
            Some((k, p)) => Ok((k, Some(p))),
            None => cx.err(
                entry.span(),
                "kind = \"k-monitor\" needs `detector` (a detector kind such as \"phi-akka\") or \
                 `preset` (a detector preset such as \"akka\")",
            ),
        };
    };
    let Some(kind) = v.get_ref().as_str().and_then(registry::find) else {
        let known: Vec<&str> = registry::kinds().iter().map(|k| k.name).collect();
        return cx.err(
            v.span(),
            format!(
                "`protocols.detector`: unknown detector {}; known: {}",
                v.get_ref(),
                known.join(", ")
            ),
        );
    };
    if let Some(p) = preset.filter(|p| p.kind != kind.name) {
        return cx.err(
            v.span(),
            format!(
                "preset \"{}\" is a \"{}\" detector, not \"{}\"; leave `detector` out (the preset \
                 sets it)",
                p.name, p.kind, kind.name
            ),
        );
    }
    Ok((kind, preset))
}

/// Refuses keys the kind (and its detector) do not take.
fn check_keys(
    cx: &Ctx,
    table: &Table,
    kind: &ProtocolKind,
    detector: Option<&DetectorKind>,
) -> R<()> {
    let detector_keys: Vec<&str> = detector.map_or(Vec::new(), |d| {
        std::iter::once(d.swept.name)
            .chain(d.params.iter().map(|p| p.name))
            .collect()
    });
    for (key, v) in table {
        let known = RESERVED_KEYS.contains(&key.as_str())
            || kind.param(key).is_some()
            || detector_keys.contains(&key.as_str());
        if !known {
            let mut takes: Vec<&str> = kind.params.iter().map(|p| p.name()).collect();
            takes.extend(&detector_keys);
            let of_detector = detector.map_or(String::new(), |d| {
                format!(" (with detector \"{}\")", d.name)
            });
            return cx.err(
                cx.key_span(v.span()),
                format!(
                    "unknown parameter `{key}` for protocol \"{}\"{of_detector}; it takes: {}",
                    kind.name,
                    takes.join(", ")
                ),
            );
        }
    }
    Ok(())
}

/// The one key written as a list or a range, if any.
fn swept_key(
    cx: &Ctx,
    table: &Table,
    kind: &ProtocolKind,
    specs: &[ParamSpec],
) -> R<Option<&'static str>> {
    let mut swept: Option<&'static str> = None;
    for (key, v) in table {
        if !matches!(v.get_ref(), toml::Value::Array(_) | toml::Value::Table(_)) {
            continue;
        }
        let Some(spec) = specs.iter().find(|s| s.name == key) else {
            return cx.err(
                v.span(),
                format!(
                    "`{key}` cannot be swept: only a number, count or duration parameter of \
                     protocol \"{}\" can take a list or a range",
                    kind.name
                ),
            );
        };
        if let Some(first) = swept {
            return cx.err(
                v.span(),
                format!(
                    "only one parameter may be swept per entry, and `{first}` already is; give \
                     `{key}` one value (or add another [[protocols]] entry)"
                ),
            );
        }
        swept = Some(spec.name);
    }
    Ok(swept)
}

/// The memberlist configuration named by `preset` (LAN if none).
fn swim_preset(cx: &Ctx, table: &Table) -> R<&'static [(&'static str, f64)]> {
    let names: Vec<&str> = SWIM_PRESETS.iter().map(|(n, _)| *n).collect();
    let Some(v) = table.get("preset") else {
        return Ok(SWIM_PRESETS[0].1);
    };
    match SWIM_PRESETS
        .iter()
        .find(|(n, _)| Some(*n) == v.get_ref().as_str())
    {
        Some((_, values)) => Ok(values),
        None => cx.err(
            v.span(),
            format!(
                "`protocols.preset`: unknown SWIM preset {}; known: {}",
                v.get_ref(),
                names.join(", ")
            ),
        ),
    }
}

/// Checks a duration parameter is shorter than the run.
fn within_run(cx: &Ctx, r: &Resolved, name: &str, v: Nanos, duration: Nanos) -> R<()> {
    if v >= duration {
        return cx.err(
            r.span_of(name),
            format!("`{name}` ({v}) must be shorter than `duration` ({duration})"),
        );
    }
    Ok(())
}

fn gossip(cx: &Ctx, r: &Resolved, x: f64, members: usize, duration: Nanos) -> R<GossipConfig> {
    let interval = ns(r.get("interval", x));
    let fanout = r.get("fanout", x) as u32;
    let fail = ns(r.get("fail", x));
    let cleanup = match r.get("cleanup", x) {
        c if c.is_nan() => Nanos(fail.0.saturating_mul(2)),
        c => ns(c),
    };
    within_run(cx, r, "interval", interval, duration)?;
    if fanout as usize > members - 1 {
        return cx.err(
            r.span_of("fanout"),
            format!(
                "`fanout` ({fanout}) must be at most the number of other members, {}",
                members - 1
            ),
        );
    }
    if fail <= interval {
        return cx.err(
            r.span_of("fail"),
            format!(
                "`fail` ({fail}) must be longer than `interval` ({interval}): a member's counter \
                 grows only once per interval, so every member would be declared Dead"
            ),
        );
    }
    Ok(GossipConfig {
        interval,
        fanout,
        fail,
        cleanup,
    })
}

fn kmonitor(
    cx: &Ctx,
    r: &Resolved,
    x: f64,
    d: &'static DetectorKind,
    members: usize,
    duration: Nanos,
) -> R<KMonitorConfig> {
    let k = r.get("k", x) as u32;
    if k as usize > members - 1 {
        return cx.err(
            r.span_of("k"),
            format!(
                "`k` ({k}) must be at most n − 1 = {} (k = n − 1 is all-to-all heartbeating)",
                members - 1
            ),
        );
    }
    let interval = match r.get("interval", x) {
        v if v.is_nan() => Nanos::from_secs(1),
        v => ns(v),
    };
    within_run(cx, r, "interval", interval, duration)?;
    let mut params = Vec::new();
    for spec in d.params {
        let v = r.get(spec.name, x);
        if v.is_nan() {
            return cx.err(
                r.entry_span.clone(),
                format!("detector \"{}\" needs `{}`", d.name, spec.name),
            );
        }
        params.push((spec.name, v));
    }
    Ok(KMonitorConfig {
        k,
        interval,
        detector: d,
        params: Params::new(params),
        threshold: r.get(d.swept.name, x),
    })
}

fn swim(cx: &Ctx, r: &Resolved, x: f64, duration: Nanos) -> R<SwimSettings> {
    let count = |name: &str| r.get(name, x) as u32;
    let period = ns(r.get("period", x));
    let ping_timeout = ns(r.get("ping_timeout", x));
    within_run(cx, r, "period", period, duration)?;
    if ping_timeout >= period {
        let at = if r.swept == "period" {
            "period"
        } else {
            "ping_timeout"
        };
        return cx.err(
            r.span_of(at),
            format!(
                "`ping_timeout` ({ping_timeout}) must be shorter than `period` ({period}): the \
                 indirect probes happen in the rest of the period"
            ),
        );
    }
    let selection = match r.table.get("selection") {
        None => Selection::RoundRobin,
        Some(v) => match v.get_ref().as_str() {
            Some("round-robin") => Selection::RoundRobin,
            Some("random") => Selection::Random,
            _ => {
                return cx.err(
                    v.span(),
                    format!(
                        "`selection` must be \"round-robin\" or \"random\", got {}",
                        v.get_ref()
                    ),
                )
            }
        },
    };
    let lifeguard = r.flag(cx, "lifeguard", true)?;
    let wire = crate::protocol::swim::WireModel {
        udp_buffer_size: count("udp_buffer_size"),
        name_length: count("member_name_length"),
    };
    if wire.udp_buffer_size < wire.min_buffer() {
        let at = if r.table.get("udp_buffer_size").is_none() {
            "member_name_length"
        } else {
            "udp_buffer_size"
        };
        return cx.err(
            r.span_of(at),
            format!(
                "`udp_buffer_size` ({}) must be at least {} bytes with {}-byte member names: a \
                 ping-req and one update must fit in a packet",
                wire.udp_buffer_size,
                wire.min_buffer(),
                wire.name_length
            ),
        );
    }
    Ok(SwimSettings {
        period,
        ping_timeout,
        indirect_probes: count("indirect_probes"),
        suspicion_mult: count("suspicion_mult"),
        suspicion_max_mult: count("suspicion_max_mult"),
        retransmit_mult: count("retransmit_mult"),
        gossip_interval: ns(r.get("gossip_interval", x)),
        gossip_nodes: count("gossip_nodes"),
        gossip_to_the_dead: ns(r.get("gossip_to_the_dead", x)),
        push_pull_interval: r
            .flag(cx, "push_pull", true)?
            .then(|| ns(r.get("push_pull_interval", x))),
        selection,
        awareness: r.flag(cx, "awareness", lifeguard)?,
        awareness_max: count("awareness_max"),
        suspicion_confirmations: r.flag(cx, "suspicion_confirmations", lifeguard)?,
        nacks: r.flag(cx, "nacks", lifeguard)?,
        buddy: r.flag(cx, "buddy", lifeguard)?,
        udp_buffer_size: wire.udp_buffer_size,
        member_name_length: wire.name_length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::RawScenario;
    use std::path::Path;

    /// The configuration of the first `[[protocols]]` entry of `body`,
    /// bypassing the check that refuses unconnected kinds.
    fn first(body: &str) -> Result<ProtocolConfig, String> {
        let text = format!(
            "duration = \"1h\"\n[network]\nlatency = {{ dist = \"constant\", value = \"1ms\" }}\n\
             [[protocols]]\n{body}"
        );
        let raw: RawScenario = toml::from_str(&text).map_err(|e| e.to_string())?;
        let cx = Ctx {
            path: Path::new("p.toml"),
            text: &text,
            warnings: Default::default(),
        };
        protocol(&cx, &raw.protocols[0], 10, Nanos::from_secs(3600)).map_err(|e| e.to_string())
    }

    fn swim_at(body: &str, i: usize) -> SwimSettings {
        match &first(body).unwrap().settings[i] {
            ProtocolSettings::Swim(s) => *s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn swim_defaults_are_memberlist_lan_with_every_lifeguard_switch_on() {
        let cfg = first("kind = \"swim\"\n").unwrap();
        assert_eq!(cfg.swept.name, "suspicion_mult");
        assert_eq!(cfg.values, vec![4.0]);
        assert_eq!(swim_at("kind = \"swim\"\n", 0), SwimSettings::default());
    }

    #[test]
    fn swim_presets_switches_and_a_sweep_reach_the_config() {
        let body =
            "kind = \"swim\"\npreset = \"memberlist-wan\"\nlifeguard = false\nbuddy = true\n\
                    selection = \"random\"\nperiod = [\"4s\", \"5s\", \"6s\"]\n";
        let cfg = first(body).unwrap();
        assert_eq!(cfg.swept.name, "period");
        assert_eq!(cfg.settings.len(), 3);
        let s = swim_at(body, 2);
        assert_eq!(s.period, Nanos::from_secs(6));
        assert_eq!(s.ping_timeout, Nanos::from_secs(3));
        assert_eq!((s.suspicion_mult, s.gossip_nodes), (6, 4));
        assert_eq!(s.gossip_interval, Nanos::from_millis(500));
        assert_eq!(s.push_pull_interval, Some(Nanos::from_secs(60)));
        let off = swim_at("kind = \"swim\"\npush_pull = false\n", 0);
        assert_eq!(off.push_pull_interval, None);
        assert_eq!(off.agent_config().push_pull_interval, Nanos::ZERO);
        let every = swim_at("kind = \"swim\"\npush_pull_interval = \"10s\"\n", 0);
        assert_eq!(every.push_pull_interval, Some(Nanos::from_secs(10)));
        assert_eq!(s.selection, Selection::Random);
        assert!(!s.awareness && !s.suspicion_confirmations && !s.nacks && s.buddy);
        let local = swim_at("kind = \"swim\"\npreset = \"memberlist-local\"\n", 0);
        assert_eq!((local.indirect_probes, local.retransmit_mult), (1, 2));
        assert_eq!(local.ping_timeout, Nanos::from_millis(200));
    }

    /// Every number of a scenario preset reaches the agent: a scenario
    /// that names a preset runs exactly the agent's preset of that name
    /// (memberlist's `DefaultLANConfig`, `DefaultWANConfig` and
    /// `DefaultLocalConfig`). The WAN preset once ran with the LAN's 30 s
    /// gossip to the dead, and the local one too.
    #[test]
    fn a_scenario_preset_runs_the_agents_preset_of_that_name() {
        for name in ["memberlist-lan", "memberlist-wan", "memberlist-local"] {
            let s = swim_at(&format!("kind = \"swim\"\npreset = \"{name}\"\n"), 0);
            let want = crate::protocol::swim::preset(name).unwrap();
            assert_eq!(s.agent_config(), want, "{name}");
        }
        let s = swim_at("kind = \"swim\"\npreset = \"memberlist-wan\"\n", 0);
        assert_eq!(s.gossip_to_the_dead, Nanos::from_secs(60));
        let s = swim_at("kind = \"swim\"\ngossip_to_the_dead = \"5s\"\n", 0);
        assert_eq!(s.agent_config().gossip_to_the_dead, Nanos::from_secs(5));
    }

    #[test]
    fn swim_errors_point_at_the_field() {
        let e = first("kind = \"swim\"\nping_timeout = \"1s\"\n").unwrap_err();
        assert!(
            e.starts_with("p.toml:6:16: `ping_timeout` (1s) must be shorter than `period` (1s)"),
            "{e}"
        );
        let e = first("kind = \"swim\"\nselection = \"lottery\"\n").unwrap_err();
        assert!(
            e.contains("`selection` must be \"round-robin\" or \"random\""),
            "{e}"
        );
        let e = first("kind = \"swim\"\nnacks = \"yes\"\n").unwrap_err();
        assert!(e.contains("`nacks` must be true or false"), "{e}");
        let e = first("kind = \"swim\"\npreset = \"consul\"\n").unwrap_err();
        assert!(
            e.contains("unknown SWIM preset \"consul\"; known: memberlist-lan"),
            "{e}"
        );
        let e = first("kind = \"swim\"\nselection = [\"random\"]\n").unwrap_err();
        assert!(e.contains("`selection` cannot be swept"), "{e}");
    }
}
