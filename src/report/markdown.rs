//! The per-scenario `report.md` and the top-level `index.md`/`index.html`.

use super::html::Entry;
use super::table::human;
use crate::detector::registry::ParamUnit;
use crate::fault::FaultSpec;
use crate::math;
use crate::metrics::cluster::ClusterQos;
use crate::metrics::curve::CurvePoint;
use crate::metrics::survival::{mean_time, restricted};
use crate::net::{Direction, Latency, Topology};
use crate::run::{window_causes, ScenarioResult};
use crate::scenario::{ProtocolSettings, Scenario};
use crate::sim::time::Nanos;
use std::fmt::Write;

/// False-positive budgets the report picks a setting for, in mistakes per
/// hour of up time.
pub const BUDGETS: [(&str, f64); 3] = [
    ("1 per day", 1.0 / 24.0),
    ("1 per week", 1.0 / (24.0 * 7.0)),
    ("1 per year", 1.0 / (24.0 * 365.0)),
];

/// Up time with zero mistakes needed before the 95 % upper bound of the
/// rate falls to `budget`: −ln(0.025)/budget hours.
pub fn hours_to_certify(budget: f64) -> f64 {
    -math::ln(0.025) / budget
}

/// A latency distribution in words.
pub fn describe_latency(l: &Latency) -> String {
    let d = |ns: f64| Nanos(ns.round() as u64).to_string();
    match *l {
        Latency::Constant { value } => format!("constant {value}"),
        Latency::Uniform { min, max } => format!("uniform {min}–{max}"),
        Latency::Normal { mean, std } => {
            format!("normal (mean {}, sd {}, truncated at 0)", d(mean), d(std))
        }
        Latency::LogNormal { median, sigma } => {
            format!("lognormal (median {}, σ {sigma})", d(median))
        }
        Latency::Exponential { shift, mean } => {
            format!("{shift} + exponential (mean {} in all)", d(mean))
        }
        Latency::Pareto { scale, shape } => format!("Pareto (minimum {}, shape {shape})", d(scale)),
        Latency::Empirical {
            ref samples,
            ref source,
        } => format!(
            "empirical ({} samples from {source}, mean {})",
            samples.len(),
            d(l.mean().unwrap_or(0.0))
        ),
    }
}

fn names(sc: &Scenario, ids: &[u32]) -> String {
    ids.iter()
        .map(|&i| sc.nodes[i as usize].as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The topology, the regions and the relayed heartbeat paths, one bullet
/// each; nothing for a full mesh without regions.
fn describe_topology(sc: &Scenario) -> String {
    let mut s = String::new();
    match sc.topology {
        Topology::Mesh => {}
        Topology::Star { hub } => {
            let _ = writeln!(
                s,
                "- **Topology:** star around {}: links only between it and each other node.",
                sc.nodes[hub as usize]
            );
        }
        t => {
            let _ = writeln!(s, "- **Topology:** {}.", t.name());
        }
    }
    if !sc.regions.is_empty() {
        let list: Vec<String> = (sc.regions.iter())
            .map(|r| format!("{} ({})", r.name, names(sc, &r.nodes)))
            .collect();
        let _ = writeln!(s, "- **Regions:** {}.", list.join("; "));
    }
    let net = crate::run::build_network(sc, 0);
    let mut relayed = Vec::new();
    for &t in &sc.targets {
        for &m in sc.monitors.iter().filter(|&&m| m != t) {
            let pair = format!("{} → {}", sc.nodes[t as usize], sc.nodes[m as usize]);
            match net.path(t, m) {
                Some(p) if p.len() > 2 => {
                    relayed.push(format!("{pair} via {}", names(sc, &p[1..p.len() - 1])))
                }
                Some(_) => {}
                None => relayed.push(format!("{pair} unreachable")),
            }
        }
    }
    if !relayed.is_empty() {
        let _ = writeln!(
            s,
            "- **Relayed heartbeats** (shortest path by mean delay): {}.",
            relayed.join("; ")
        );
    }
    s
}

/// The region a partition isolates, if it is exactly one region against
/// every other node (as `region = "..."` writes it).
fn isolated_region<'a>(sc: &'a Scenario, p: &crate::net::Partition) -> Option<&'a str> {
    let r = sc.regions.iter().find(|r| r.nodes == p.a)?;
    let rest = (0..sc.nodes.len() as u32).filter(|n| !r.nodes.contains(n));
    rest.eq(p.b.iter().copied()).then_some(r.name.as_str())
}

/// What the scenario models, as a bullet list.
pub fn describe_model(sc: &Scenario) -> String {
    let mut s = String::new();
    let seeds = match (sc.seeds.first(), sc.seeds.last()) {
        (Some(a), Some(b)) if sc.seeds.len() > 1 => format!("seeds {a}–{b}"),
        (Some(a), _) => format!("seed {a}"),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "- **Runs:** {} × {} of virtual time ({seeds}); mistakes scored after a {} warm-up.",
        sc.seeds.len(),
        sc.duration,
        sc.warmup
    );
    if !sc.protocols.is_empty() {
        s.push_str(&describe_cluster(sc));
    }
    if sc.detectors.is_empty() {
        s.push_str(&describe_links(sc));
    } else {
        s.push_str(&describe_pairwise(sc));
    }
    if sc.replay.is_none() {
        s.push_str(&describe_topology(sc));
    }
    for p in &sc.partitions {
        let dir = match p.direction {
            Direction::Both => "both ways",
            Direction::AToB => "one way, a → b",
            Direction::BToA => "one way, b → a",
        };
        let flap = p.flap.map_or(String::new(), |f| {
            format!(", flapping: cut {} then healed {}, repeated", f.down, f.up)
        });
        let groups = match isolated_region(sc, p) {
            Some(r) => format!("region {r} isolated from the others"),
            None => format!("[{}] | [{}]", names(sc, &p.a), names(sc, &p.b)),
        };
        let _ = writeln!(
            s,
            "- **Partition** {}–{}: {groups}, {dir}{flap}.",
            p.start, p.end
        );
    }
    for f in &sc.faults {
        let line = match *f {
            FaultSpec::Crash { node, at, restart_after } => format!(
                "- **Crash** of {} at {at}{}.",
                sc.nodes[node as usize],
                restart_after.map_or(", for good".to_string(), |r| format!(", restart {r} later"))
            ),
            FaultSpec::CrashLoop { node, first, every, down, jitter } => format!(
                "- **Crash loop** of {}: from {first}, one crash every {every} (+ uniform 0–{jitter}), each down {down}.",
                sc.nodes[node as usize]
            ),
            FaultSpec::Pause { node, at, ref length } => format!(
                "- **Pause** (stop-the-world) of {} at {at}, length {}.",
                sc.nodes[node as usize],
                describe_latency(length)
            ),
            FaultSpec::Pauses { node, first, every, ref length } => format!(
                "- **Pauses** (stop-the-world) of {}: from {first}, on average {every} apart, length {}.",
                sc.nodes[node as usize],
                describe_latency(length)
            ),
            FaultSpec::Slow { node, start, end, factor } => format!(
                "- **Slow node** {}: timers {factor}× slower on {start}–{end}.",
                sc.nodes[node as usize]
            ),
            FaultSpec::Churn { node, first, ref mttf, ref mttr } => format!(
                "- **Churn** of {}: from {first}, up for {} then down for {}, over and over; each restart a new incarnation.",
                sc.nodes[node as usize],
                describe_latency(mttf),
                describe_latency(mttr)
            ),
            FaultSpec::Join { node, at, via } => format!(
                "- **Join** of {} at {at}, through {}; absent from everyone's member list before.",
                sc.nodes[node as usize],
                via.map_or("any member present at the start".to_string(), |v| sc.nodes[v as usize].clone())
            ),
            FaultSpec::Leave { node, at, linger, rejoin_after } => format!(
                "- **Leave** of {} at {at} (graceful: announced, then stopped {linger} later){}.",
                sc.nodes[node as usize],
                rejoin_after.map_or(", for good".to_string(), |r| format!(", joining again {r} after the announcement"))
            ),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// The pairwise heartbeats and the links carrying them, as bullets.
fn describe_pairwise(sc: &Scenario) -> String {
    let mut s = String::new();
    let _ = match sc.style {
        _ if sc.replay.is_some() => writeln!(
            s,
            "- **Heartbeats:** recorded, every {} as the trace's sender was configured.",
            sc.interval
        ),
        crate::protocol::heartbeat::Style::Push => writeln!(
            s,
            "- **Heartbeats:** every {} from {} to {}.",
            sc.interval,
            names(sc, &sc.targets),
            names(sc, &sc.monitors)
        ),
        crate::protocol::heartbeat::Style::Pull => writeln!(
            s,
            "- **Heartbeats (pull):** {} ping {} every {}; each pong is a heartbeat.",
            names(sc, &sc.monitors),
            names(sc, &sc.targets),
            sc.interval
        ),
    };
    let heartbeat_links: Vec<String> = sc
        .links
        .iter()
        .filter(|(f, t, _)| {
            let pull = sc.style == crate::protocol::heartbeat::Style::Pull;
            (sc.targets.contains(f) && sc.monitors.contains(t))
                || (pull && sc.monitors.contains(f) && sc.targets.contains(t))
        })
        .map(|(f, t, m)| {
            let mut line = format!(
                "{} → {}: {}, loss {}",
                sc.nodes[*f as usize],
                sc.nodes[*t as usize],
                describe_latency(&m.latency),
                m.loss
            );
            if m.duplicate > 0.0 {
                let _ = write!(line, ", duplicate {}", m.duplicate);
            }
            if !m.spikes.is_empty() {
                let _ = write!(line, ", {} latency spike(s)", m.spikes.len());
            }
            line
        })
        .collect();
    match &sc.replay {
        Some(r) => {
            let truth = if r.outages.is_some() {
                "its crash and restart rows"
            } else {
                "the scenario's faults"
            };
            let _ = writeln!(
                s,
                "- **Replayed trace:** {} arrivals from {}, not simulated; ground truth from {truth}.",
                r.len(),
                r.file
            );
        }
        None => {
            let _ = writeln!(
                s,
                "- **Links carrying heartbeats:** {}.",
                heartbeat_links.join("; ")
            );
        }
    }
    s
}

/// The links of a scenario without pairwise heartbeats, in one bullet.
fn describe_links(sc: &Scenario) -> String {
    let (first, same) = match (&sc.uniform_link, sc.links.first()) {
        (Some(m), _) => (m, true),
        (None, Some((_, _, first))) => (first, sc.links.iter().all(|(_, _, m)| m == first)),
        (None, None) => return String::new(),
    };
    let mut line = format!(
        "- **Links:** {}{}, loss {}",
        if same { "every link " } else { "by default " },
        describe_latency(&first.latency),
        first.loss
    );
    if first.duplicate > 0.0 {
        let _ = write!(line, ", duplicate {}", first.duplicate);
    }
    if !same {
        line.push_str("; some links differ");
    }
    line.push_str(".\n");
    line
}

/// The cluster members and the membership protocols, as bullets.
fn describe_cluster(sc: &Scenario) -> String {
    let mut s = String::new();
    let n = sc.nodes.len();
    let shown = if n <= 8 {
        sc.nodes.join(", ")
    } else {
        format!("{}, …, {}", sc.nodes[..3].join(", "), sc.nodes[n - 1])
    };
    let _ = writeln!(
        s,
        "- **Cluster:** {n} members ({shown}); each protocol runs on all of them, in a \
         simulation of its own per swept value and seed."
    );
    for p in &sc.protocols {
        let values: Vec<String> = p.values.iter().map(|&v| p.swept.unit.format(v)).collect();
        let _ = writeln!(
            s,
            "- **Protocol** {} (`{}`): {}; `{}` = {}.",
            p.label,
            p.kind.name,
            describe_settings(&p.settings[0], p.swept.name),
            p.swept.name,
            values.join(", ")
        );
    }
    s
}

/// One protocol configuration in words, leaving out the swept parameter.
fn describe_settings(settings: &ProtocolSettings, swept: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut add = |name: &str, text: String| {
        if name != swept {
            parts.push(text);
        }
    };
    match settings {
        ProtocolSettings::Gossip(g) => {
            add("interval", format!("gossip every {}", g.interval));
            add("fanout", format!("to {} random member(s)", g.fanout));
            add("fail", format!("T_fail {}", g.fail));
            add("cleanup", format!("T_cleanup {}", g.cleanup));
        }
        ProtocolSettings::KMonitor(k) => {
            add(
                "k",
                format!("each member watched by its {} ring successor(s)", k.k),
            );
            add("interval", format!("heartbeat every {}", k.interval));
            let spec = &k.detector.swept;
            let mut detector = format!("detector `{}`", k.detector.name);
            if spec.name != swept {
                let _ = write!(
                    detector,
                    " at {} = {}",
                    spec.name,
                    spec.unit.format(k.threshold)
                );
            }
            let params: Vec<String> = k
                .params
                .iter()
                .filter(|(n, _)| *n != swept)
                .map(|(n, v)| {
                    let unit = k.detector.param(n).map_or(ParamUnit::Number, |p| p.unit);
                    format!("{n} {}", unit.format(v))
                })
                .collect();
            if !params.is_empty() {
                let _ = write!(detector, " ({})", params.join(", "));
            }
            parts.push(detector);
        }
        ProtocolSettings::Swim(w) => {
            add("period", format!("period {}", w.period));
            add("ping_timeout", format!("ping timeout {}", w.ping_timeout));
            add(
                "indirect_probes",
                format!("{} indirect probes", w.indirect_probes),
            );
            add(
                "suspicion_mult",
                format!("suspicion mult {}", w.suspicion_mult),
            );
            parts.push(format!(
                "Lifeguard awareness {}, confirmations {}, nacks {}, buddy {}",
                w.awareness, w.suspicion_confirmations, w.nacks, w.buddy
            ));
        }
    }
    parts.join(", ")
}

/// The `report.md` section on membership protocols: the cluster figures
/// of every protocol × value, pooled over seeds.
fn cluster_section(res: &ScenarioResult) -> String {
    let sc = &res.scenario;
    let mut s = format!(
        "## Membership protocols\n\n\
         Each protocol runs on all {} members. For every crash: the time to the first suspicion \
         anywhere (Suspect or Dead), to the first Dead declaration anywhere (the detection time of \
         the table and plot above), and until every live member holds the crashed one Dead; \
         crashes a figure never reached before the restart are counted as missed, and those the \
         run ended before as censored (the figure exceeds the time left; means and percentiles \
         then are Kaplan–Meier estimates, `≥` marking a mean restricted to the longest time \
         observed). \
         False Dead declarations (a live member declared Dead) are counted per member-hour of up \
         time, with the longest false Dead period; refuted suspicions are Suspect → Alive changes \
         about a live member. Load is per member per second, from each protocol's wire size, its bytes split \
         by transport (SWIM's push-pull goes over TCP, the rest over UDP). \
         Definitions: `docs/metrics.md`; columns: `clusters.csv` in `docs/output.md`.\n\n\
         | protocol | parameter | 1st suspicion (missed, censored) | 1st Dead (missed, censored) \
         | all Dead (missed, censored) | \
         false Dead / member-h | longest false Dead | refuted | msg / member / s | UDP bytes / member / s \
         | TCP bytes / member / s |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        sc.nodes.len()
    );
    let time = |d: &[Nanos], missed: u32, censored: &[Nanos]| {
        let ge = if restricted(d, censored) { "≥" } else { "" };
        let mean = human(mean_time(d, censored));
        format!("{ge}{mean} ({missed}, {})", censored.len())
    };
    for (p, cfg) in sc.protocols.iter().enumerate() {
        for (v, &value) in cfg.values.iter().enumerate() {
            let q = ClusterQos::pool(res.seeds.iter().map(|s| &s.clusters[p][v].qos));
            let _ = writeln!(
                s,
                "| {} | {} = {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cfg.label,
                cfg.swept.name,
                cfg.swept.unit.format(value),
                time(
                    &q.first_suspicion,
                    q.first_suspicion_missed,
                    &q.first_suspicion_censored
                ),
                time(&q.first_dead, q.first_dead_missed, &q.first_dead_censored),
                time(&q.all_dead, q.all_dead_missed, &q.all_dead_censored),
                opt(q.false_dead_per_member_hour(), rate),
                human((q.false_dead > 0).then_some(q.false_dead_longest)),
                q.refuted_suspicions,
                opt(q.messages_per_member_second(), |m| format!("{m:.2}")),
                opt(q.udp_bytes_per_member_second(), |b| format!("{b:.0}")),
                opt(q.tcp_bytes_per_member_second(), |b| format!("{b:.0}")),
            );
        }
    }
    s.push('\n');
    let changes = sc
        .faults
        .iter()
        .any(|f| matches!(f, FaultSpec::Join { .. } | FaultSpec::Leave { .. }));
    if changes {
        s.push_str(&join_leave_section(res));
    }
    s
}

/// Joins and leaves, when the scenario has any: not failures; how long
/// until every live member agreed.
fn join_leave_section(res: &ScenarioResult) -> String {
    let sc = &res.scenario;
    let mut s = String::from(
        "Joins and leaves are not failures: a member out of the cluster (before it joins, or \
         from its leave until it joins again) is not a crash, and no opinion about it counts \
         as a detection or a mistake. *All Alive* is the time from a join until every live \
         member holds the joiner Alive, *all Left* from a leave's announcement until every \
         live member holds the leaver Left; joins and leaves that never got there are counted \
         apart.\n\n\
         | protocol | parameter | joins | all Alive (mean, max) | not all Alive | leaves \
         | all Left (mean, max) | not all Left |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (p, cfg) in sc.protocols.iter().enumerate() {
        for (v, &value) in cfg.values.iter().enumerate() {
            let q = ClusterQos::pool(res.seeds.iter().map(|s| &s.clusters[p][v].qos));
            let _ = writeln!(
                s,
                "| {} | {} = {} | {} | {}, {} | {} | {} | {}, {} | {} |",
                cfg.label,
                cfg.swept.name,
                cfg.swept.unit.format(value),
                q.joins,
                human(mean_time(&q.join_all_alive, &[])),
                human(q.join_all_alive.last().copied()),
                q.join_not_all_alive,
                q.leaves,
                human(mean_time(&q.leave_all_left, &[])),
                human(q.leave_all_left.last().copied()),
                q.leave_not_all_left,
            );
        }
    }
    s.push('\n');
    s
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("-".into(), f)
}

/// A rate per hour, compact.
pub(super) fn rate(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// The full `report.md` of one scenario.
pub fn scenario_report(res: &ScenarioResult, points: &[CurvePoint]) -> String {
    let sc = &res.scenario;
    let mut s = format!("# {}\n\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(s, "{}\n", sc.description);
    }
    let _ = writeln!(s, "## What it models\n\n{}", describe_model(sc));
    let _ = writeln!(
        s,
        "## Trade-off\n\n![detection time against mistakes per hour](tradeoff.svg)\n\n\
         Each line is one detector swept over its parameter; each point is labelled with the \
         parameter value where the label fits; each detector has its own colour and marker shape. \
         Bars are 95 % confidence intervals (Student-t for the mean detection \
         time, exact Poisson for the mistake rate). Hollow points below the dashed axis break had \
         no mistakes. Ringed points are on the Pareto front: no other setting is faster *and* \
         makes fewer mistakes. In `report.html`, hovering over a point shows its exact figures.\n"
    );
    if !sc.protocols.is_empty() {
        s.push_str(
            "Membership protocols are drawn and tabulated on the same terms: their detection time \
             is the time from a crash to the first Dead declaration by any member, a mistake is a \
             false Dead declaration (a live member declared Dead by one member), counted per \
             member-hour of up time, and 1 − P_A is the share of (observer, member) up time spent \
             wrongly holding a live member Dead. The section *Membership protocols* below has the \
             cluster figures.\n\n",
        );
    }
    s.push_str("## Table\n\n");
    s.push_str("| detector | parameter | T_D mean [95 % CI] | median | p99 | max | mistakes/h [95 % CI] | 1 − P_A | mean mistake | undetected | censored | front |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for p in points {
        let cfg = sc.series_at(p.detector);
        let sm = &p.summary;
        let ge = if sm.detection_mean_restricted() {
            "≥"
        } else {
            ""
        };
        let td = p.detection_ms.map_or("-".into(), |(m, lo, hi)| {
            if lo.is_finite() {
                format!("{ge}{} [{}, {}]", ms(m), ms(lo), ms(hi))
            } else {
                format!("{ge}{}", ms(m))
            }
        });
        let mph = p.mistakes_per_hour.map_or("-".into(), |(r, lo, hi)| {
            format!("{} [{}, {}]", rate(r), rate(lo), rate(hi))
        });
        let _ = writeln!(
            s,
            "| {} | {} = {} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {} | {} |",
            cfg.label,
            cfg.param,
            cfg.unit.format(p.value),
            td,
            human(sm.detection_percentile(50.0)),
            human(sm.detection_percentile(99.0)),
            human(sm.detection_max()),
            mph,
            opt(p.unavailability(), |u| if u == 0.0 {
                "0".into()
            } else {
                format!("{u:.2e}")
            }),
            human(sm.mean_mistake()),
            sm.undetected,
            sm.crashes,
            sm.censored.len(),
            if p.pareto { "●" } else { "" }
        );
    }
    s.push('\n');
    s.push_str(&super::durations::section(res, points));
    s.push_str(&causes_section(res, points));
    if !sc.protocols.is_empty() {
        s.push_str(&cluster_section(res));
    }
    s.push_str(&super::decisions::decisions_markdown(res));
    s.push_str(&budget_section(res, points));
    s.push_str(
        "\n## Files\n\n- `curve.csv`: the table above, one row per detector × value.\n\
         - `runs.csv`: one row per detector × value × seed (`metrics.csv` holds the same rows).\n\
         - `tradeoff.svg`: the picture.\n- `summary.txt`: the table printed by `fdsim run`.\n\
         - `report.html`: this page for a browser, with the plot's tooltips.\n",
    );
    if !sc.protocols.is_empty() {
        s.push_str(
            "- `clusters.csv`: the membership-protocol table, one row per protocol × value.\n",
        );
    }
    if sc.downing.is_some() {
        s.push_str(
            "- `decisions.csv`: one row per downing strategy × patience × seed × fault event.\n\
             - `decisions.svg`: time to down a crashed member against split brains.\n",
        );
    }
    s.push_str("\nColumn definitions: `docs/output.md`; metric definitions: `docs/metrics.md`.\n");
    s
}

fn ms(v: f64) -> String {
    human(Some(Nanos((v.max(0.0) * 1e6).round() as u64)))
}

/// The "Mistakes by cause" table, for scenarios with fault windows: one
/// column per cause the scenario has windows of, then none and the
/// mistakes that overlapped windows of more than one cause.
fn causes_section(res: &ScenarioResult, points: &[CurvePoint]) -> String {
    let causes = window_causes(&res.scenario);
    if causes.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "## Mistakes by cause

\
         Each mistake is labelled with the fault windows that overlap it, from the send time of \
         the newest heartbeat the monitor had received when it began to suspect, to the end of \
         the mistake. It counts once, under the first overlapping cause in the order of the \
         columns, or under *none*, so each row adds up to its mistakes; *multiple causes* counts \
         the mistakes that overlapped windows of more than one cause (counted once, under the \
         first). Clock error is not a window: its mistakes count as *none*. Definitions: \
         `docs/metrics.md`.\n\n| detector | parameter | mistakes |",
    );
    for c in &causes {
        let _ = write!(s, " {} |", c.name());
    }
    s.push_str(" none | multiple causes |\n|---|---|---|");
    s.push_str(&"---|".repeat(causes.len() + 2));
    s.push('\n');
    for p in points {
        let cfg = &res.scenario.detectors[p.detector];
        let c = &p.summary.causes;
        let _ = write!(
            s,
            "| {} | {} = {} | {} |",
            cfg.label,
            cfg.kind.swept.name,
            cfg.kind.swept.unit.format(p.value),
            p.summary.mistakes
        );
        for &cause in &causes {
            let _ = write!(s, " {} |", c.get(cause));
        }
        let _ = writeln!(s, " {} | {} |", c.none, c.multiple);
    }
    s.push('\n');
    s
}

/// For each detector and budget: the fastest setting whose observed rate
/// meets the budget, and the fastest whose 95 % upper bound does.
fn budget_section(res: &ScenarioResult, points: &[CurvePoint]) -> String {
    let sc = &res.scenario;
    let hours = points
        .first()
        .map_or(0.0, |p| p.summary.up_time.as_hours_f64());
    let mut s = format!(
        "## Best setting per false-positive budget\n\n\
         For each detector, the setting with the lowest mean detection time whose mistake rate \
         meets the budget: *observed* uses the measured rate, *certified* the upper end of its \
         95 % interval. With {hours:.0} hours of up time simulated, zero mistakes certify a rate \
         of at most {} per hour; certifying 1 per year needs {:.0} mistake-free hours (more seeds \
         or a longer `duration`). Settings with undetected crashes (the target recovered before \
         any detection) are skipped; crashes cut off by the end of a run (censored) are not held \
         against a setting.\n\n\
         | detector | budget | observed: setting | T_D mean | certified: setting | T_D mean |\n\
         |---|---|---|---|---|---|\n",
        rate(3.688_879_454 / hours.max(1e-9)),
        hours_to_certify(BUDGETS[2].1)
    );
    for (d, cfg) in sc.series().into_iter().enumerate() {
        for (name, budget) in BUDGETS {
            let best = |ok: &dyn Fn(&CurvePoint) -> bool| {
                points
                    .iter()
                    .filter(|p| p.detector == d && p.summary.undetected == 0 && ok(p))
                    .filter_map(|p| p.detection_ms.map(|(m, _, _)| (m, p)))
                    .min_by(|a, b| a.0.total_cmp(&b.0))
            };
            let show = |b: Option<(f64, &CurvePoint)>| match b {
                Some((m, p)) => (
                    format!("{} = {}", cfg.param, cfg.unit.format(p.value)),
                    ms(m),
                ),
                None => ("none".into(), "-".into()),
            };
            let (o, om) = show(best(&|p| p.observed_within(budget)));
            let (c, cm) = show(best(&|p| p.certified_within(budget)));
            let _ = writeln!(s, "| {} | {name} | {o} | {om} | {c} | {cm} |", cfg.label);
        }
    }
    s
}

/// The top-level `index.md`: one section per scenario folder of the
/// report (this run's and those kept from earlier runs), in name order.
pub fn index_md(entries: &[Entry]) -> String {
    let mut s = format!(
        "# fdsim report\n\n{} scenario(s). One section per scenario: its description, its \
         picture, and links to its full report and its data.\n\n",
        entries.len()
    );
    for e in entries {
        let n = &e.name;
        let _ = writeln!(
            s,
            "## [{n}]({n}/report.md)\n\n{}\n",
            if e.description.is_empty() {
                "(no description)"
            } else {
                &e.description
            }
        );
        let _ = write!(
            s,
            "{} detector setting(s) on the Pareto front of {}. Data: [curve.csv]({n}/curve.csv)",
            e.front, e.points
        );
        if e.runs {
            let _ = write!(s, ", [runs.csv]({n}/runs.csv)");
        }
        s.push_str(".\n\n");
        if e.plot {
            let _ = writeln!(
                s,
                "![{n}: detection time against mistakes per hour]({n}/tradeoff.svg)\n"
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certifying_one_mistake_per_year_needs_about_32_thousand_hours() {
        let h = hours_to_certify(1.0 / (24.0 * 365.0));
        assert!((h - 32_314.6).abs() < 1.0, "{h}");
    }
}
