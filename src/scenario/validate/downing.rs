//! `[downing]`: the observers, the lease, and every strategy entry with
//! its swept patience.

use super::{Ctx, R};
use crate::protocol::reachability::{AKKA_MONITORED_BY, RAPID_H, RAPID_K, RAPID_L};
use crate::protocol::sbr::{Strategy, Unstable, STABLE_AFTER};
use crate::scenario::downing::{
    Detection, Downing, StrategyConfig, StrategyValue, REJOIN_AFTER, SETTLE,
};
use crate::scenario::raw::{RawDowning, RawStrategy};
use crate::scenario::{ProtocolConfig, ProtocolSettings};
use crate::sim::agent::NodeId;
use crate::sim::time::{parse_duration, Nanos};
use toml::Spanned;

/// The strategies a scenario may name.
const STRATEGIES: &str =
    "\"keep-majority\", \"static-quorum\", \"keep-oldest\", \"down-all\", \"lease-majority\", \
     \"down-after\"";

/// Validates `[downing]` against the nodes and the protocols.
pub(super) fn downing(
    cx: &Ctx,
    raw: &Spanned<RawDowning>,
    names: &[String],
    protocols: &[ProtocolConfig],
) -> R<Downing> {
    let d = raw.get_ref();
    let obs = &d.observers;
    let Some(observers) = protocols.iter().position(|p| &p.label == obs.get_ref()) else {
        let labels: Vec<String> = protocols
            .iter()
            .map(|p| format!("\"{}\"", p.label))
            .collect();
        return cx.err(
            obs.span(),
            format!(
                "`observers`: no [[protocols]] entry is named \"{}\"; name an all-to-all \
                 k-monitor entry (protocols: {})",
                obs.get_ref(),
                if labels.is_empty() {
                    "none".into()
                } else {
                    labels.join(", ")
                }
            ),
        );
    };
    check_all_to_all(cx, obs, &protocols[observers], names.len())?;
    let lease = match &d.lease {
        Some(l) => Some(cx.node("lease", names, l)?),
        None => None,
    };
    let members: Vec<NodeId> = (0..names.len() as NodeId)
        .filter(|&m| Some(m) != lease)
        .collect();
    if members.len() > 64 {
        return cx.err(
            raw.span(),
            format!(
                "`[downing]` handles at most 64 members; this cluster has {}",
                members.len()
            ),
        );
    }
    let monitored_by = match &d.monitored_by {
        Some(k) => count(cx, "monitored_by", k, 1, 64)?,
        None => AKKA_MONITORED_BY,
    };
    let rapid = match &d.rapid {
        Some(r) => {
            let r2 = r.get_ref();
            let k = count(cx, "rapid.k", &r2.k, 1, 64)?;
            let h = count(cx, "rapid.h", &r2.h, 1, 64)?;
            let l = count(cx, "rapid.l", &r2.l, 1, 64)?;
            if !(l <= h && h <= k) {
                return cx.err(
                    r.span(),
                    format!("`rapid` needs 1 <= l <= h <= k; got k = {k}, h = {h}, l = {l}"),
                );
            }
            (k, h, l)
        }
        None => (RAPID_K, RAPID_H, RAPID_L),
    };
    let settle = opt_duration(cx, "settle", d.settle.as_ref(), SETTLE)?;
    let rejoin_after = opt_duration(cx, "rejoin_after", d.rejoin_after.as_ref(), REJOIN_AFTER)?;
    if d.strategies.get_ref().is_empty() {
        return cx.err(
            d.strategies.span(),
            "`[downing]` needs at least one [[downing.strategies]] entry",
        );
    }
    let mut strategies: Vec<StrategyConfig> = Vec::new();
    for s in d.strategies.get_ref() {
        let cfg = strategy(cx, s, members.len(), lease.is_some())?;
        if strategies.iter().any(|o| o.label == cfg.label) {
            let span = s.get_ref().name.as_ref().map_or(s.span(), |n| n.span());
            return cx.err(
                span,
                format!(
                    "two [[downing.strategies]] entries are labelled \"{}\"; give each a distinct \
                     `name`",
                    cfg.label
                ),
            );
        }
        strategies.push(cfg);
    }
    Ok(Downing {
        observers,
        members,
        monitored_by,
        rapid,
        lease,
        settle,
        rejoin_after,
        strategies,
    })
}

/// The observers must watch every pair: one k-monitor value with
/// `k = n − 1`.
fn check_all_to_all(cx: &Ctx, at: &Spanned<String>, p: &ProtocolConfig, n: usize) -> R<()> {
    let problem = match p.settings.as_slice() {
        [ProtocolSettings::KMonitor(k)] if k.k as usize == n - 1 => return Ok(()),
        [ProtocolSettings::KMonitor(k)] => format!("has k = {}", k.k),
        [ProtocolSettings::KMonitor(_), ..] => format!("sweeps {} values", p.values.len()),
        _ => format!("is of kind {}", p.kind.name),
    };
    cx.err(
        at.span(),
        format!(
            "`observers`: protocol \"{}\" {problem}; the observers must be one k-monitor entry \
             with k = {} (every member watching every other) and no sweep",
            p.label,
            n - 1
        ),
    )
}

fn count(cx: &Ctx, field: &str, v: &Spanned<i64>, lo: i64, hi: i64) -> R<u32> {
    let x = *v.get_ref();
    if x < lo || x > hi {
        return cx.err(
            v.span(),
            format!("`{field}` must be from {lo} to {hi}, got {x}"),
        );
    }
    Ok(x as u32)
}

fn opt_duration(cx: &Ctx, field: &str, v: Option<&Spanned<String>>, default: Nanos) -> R<Nanos> {
    match v {
        Some(v) => cx.positive(field, v),
        None => Ok(default),
    }
}

/// One duration, or a non-empty list of positive durations.
fn durations(cx: &Ctx, field: &str, v: &Spanned<toml::Value>) -> R<Vec<Nanos>> {
    let one = |x: &toml::Value| -> R<Nanos> {
        let toml::Value::String(s) = x else {
            return cx.err(
                v.span(),
                format!("`{field}` is a duration such as \"20s\" or a list of them, got {x}"),
            );
        };
        match parse_duration(s) {
            Ok(d) if d > Nanos::ZERO => Ok(d),
            Ok(_) => cx.err(v.span(), format!("`{field}` must be greater than zero")),
            Err(e) => cx.err(v.span(), format!("`{field}`: {e}")),
        }
    };
    match v.get_ref() {
        toml::Value::Array(items) if items.is_empty() => {
            cx.err(v.span(), format!("`{field}` list is empty"))
        }
        toml::Value::Array(items) => items.iter().map(one).collect(),
        x => Ok(vec![one(x)?]),
    }
}

fn unstable(cx: &Ctx, v: Option<&Spanned<toml::Value>>) -> R<Unstable> {
    let Some(v) = v else {
        return Ok(Unstable::Derived);
    };
    match v.get_ref() {
        toml::Value::Boolean(true) => Ok(Unstable::Derived),
        toml::Value::Boolean(false) => Ok(Unstable::Off),
        toml::Value::String(s) => match parse_duration(s) {
            Ok(d) => Ok(Unstable::After(d)),
            Err(e) => cx.err(v.span(), format!("`down_all_when_unstable`: {e}")),
        },
        x => cx.err(
            v.span(),
            format!("`down_all_when_unstable` is true, false or a duration, got {x}"),
        ),
    }
}

/// A key that does not apply to this strategy.
fn stray<T>(cx: &Ctx, kind: &str, key: &str, v: &Option<Spanned<T>>) -> R<()> {
    match v {
        Some(v) => cx.err(
            cx.key_span(v.span()),
            format!("`{key}` does not apply to strategy \"{kind}\""),
        ),
        None => Ok(()),
    }
}

fn strategy(
    cx: &Ctx,
    raw: &Spanned<RawStrategy>,
    members: usize,
    has_lease: bool,
) -> R<StrategyConfig> {
    let s = raw.get_ref();
    let kind = s.strategy.get_ref().as_str();
    let detection = match s.detection.as_ref().map(|d| (d, d.get_ref().as_str())) {
        None | Some((_, "akka")) => Detection::Akka,
        Some((_, "rapid")) => Detection::Rapid,
        Some((d, other)) => {
            return cx.err(
                d.span(),
                format!("`detection`: unknown rule \"{other}\"; rules are \"akka\", \"rapid\""),
            )
        }
    };
    let base = match kind {
        "keep-majority" => Strategy::KeepMajority,
        "down-all" => Strategy::DownAll,
        "lease-majority" => {
            if !has_lease {
                return cx.err(
                    s.strategy.span(),
                    "strategy \"lease-majority\" needs `lease` in [downing]: the node that holds \
                     the lease",
                );
            }
            Strategy::LeaseMajority
        }
        "static-quorum" => {
            let Some(q) = &s.quorum else {
                return cx.err(
                    raw.span(),
                    "strategy \"static-quorum\" needs `quorum` (Akka has no default quorum-size)",
                );
            };
            Strategy::StaticQuorum {
                quorum: count(cx, "quorum", q, 1, members as i64)?,
            }
        }
        "keep-oldest" => Strategy::KeepOldest {
            down_if_alone: s.down_if_alone.as_ref().is_none_or(|b| *b.get_ref()),
        },
        "down-after" => Strategy::DownAfter { delay: Nanos::ZERO },
        other => {
            return cx.err(
                s.strategy.span(),
                format!("`strategy`: unknown strategy \"{other}\"; strategies are {STRATEGIES}"),
            )
        }
    };
    if kind != "static-quorum" {
        stray(cx, kind, "quorum", &s.quorum)?;
    }
    if kind != "keep-oldest" {
        stray(cx, kind, "down_if_alone", &s.down_if_alone)?;
    }
    let values = if kind == "down-after" {
        stray(cx, kind, "stable_after", &s.stable_after)?;
        stray(
            cx,
            kind,
            "down_all_when_unstable",
            &s.down_all_when_unstable,
        )?;
        let Some(delay) = &s.delay else {
            return cx.err(raw.span(), "strategy \"down-after\" needs `delay`");
        };
        durations(cx, "delay", delay)?
            .into_iter()
            .map(|d| StrategyValue {
                strategy: Strategy::DownAfter { delay: d },
                stable_after: d,
                unstable: Unstable::Off,
                patience: d,
            })
            .collect()
    } else {
        stray(cx, kind, "delay", &s.delay)?;
        let unstable = unstable(cx, s.down_all_when_unstable.as_ref())?;
        let stable = match &s.stable_after {
            Some(v) => durations(cx, "stable_after", v)?,
            None => vec![STABLE_AFTER],
        };
        stable
            .into_iter()
            .map(|d| StrategyValue {
                strategy: base,
                stable_after: d,
                unstable,
                patience: d,
            })
            .collect()
    };
    let label = match &s.name {
        Some(n) => n.get_ref().clone(),
        None if detection == Detection::Akka => kind.to_string(),
        None => format!("{kind}/{}", detection.name()),
    };
    Ok(StrategyConfig {
        label,
        detection,
        values,
    })
}
