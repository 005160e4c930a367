//! The readable summary table printed by `fdsim run`.

use super::rows::curve_points;
use crate::metrics::cluster::ClusterQos;
use crate::metrics::curve::CurvePoint;
use crate::metrics::survival::{mean_time, restricted};
use crate::metrics::Summary;
use crate::run::ScenarioResult;
use crate::sim::time::Nanos;
use std::fmt::Write;

/// A duration in a compact readable form: `850us`, `152.3ms`, `2.41s`.
pub fn human(n: Option<Nanos>) -> String {
    let Some(n) = n else {
        return "-".into();
    };
    let ns = n.0 as f64;
    if ns < 1e6 {
        format!("{:.0}us", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1}ms", ns / 1e6)
    } else {
        format!("{:.2}s", ns / 1e9)
    }
}

fn rate(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(0.0) => "0".into(),
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) if x >= 0.01 => format!("{x:.3}"),
        Some(x) => format!("{x:.2e}"),
    }
}

/// 1 − P_A, the fraction of up time wrongly suspected: scientific
/// notation keeps 0.9999996 from reading as 1.
fn unavailability(pa: Option<f64>) -> String {
    match pa {
        None => "-".into(),
        Some(x) if x >= 1.0 => "0".into(),
        Some(x) => format!("{:.2e}", 1.0 - x),
    }
}

/// The mean detection time, marked `≥` when censoring restricts it to the
/// largest observed time (a lower bound).
pub fn mean_detection(s: &Summary) -> String {
    let m = human(s.detection_mean());
    if s.detection_mean_restricted() {
        format!("≥{m}")
    } else {
        m
    }
}

/// The readable table of one scenario: one line per detector (or
/// protocol) × value, pooled over seeds; then, if the scenario runs
/// membership protocols, their cluster table ([`cluster_table`]).
pub fn table(res: &ScenarioResult) -> String {
    table_of(res, &curve_points(res))
}

/// [`table`] from the scenario's curve ([`curve_points`]), whose points
/// hold the summaries pooled over seeds, in the table's order.
pub fn table_of(res: &ScenarioResult, points: &[CurvePoint]) -> String {
    let sc = &res.scenario;
    let mut rows: Vec<Vec<String>> = vec![vec![
        "detector".into(),
        "parameter".into(),
        "T_D mean".into(),
        "T_D p99".into(),
        "mistakes/h".into(),
        "1-P_A".into(),
        "detected".into(),
        "undetected".into(),
        "censored".into(),
    ]];
    let mut pooled = points.iter().map(|p| &p.summary);
    for cfg in sc.series() {
        for &value in cfg.values {
            let s = pooled.next().expect("one curve point per series and value");
            rows.push(vec![
                cfg.label.to_string(),
                format!("{}={}", cfg.param, cfg.unit.format(value)),
                mean_detection(s),
                human(s.detection_percentile(99.0)),
                rate(s.mistakes_per_hour()),
                unavailability(s.query_accuracy()),
                format!("{}/{}", s.detections.len(), s.crashes),
                s.undetected.to_string(),
                s.censored.len().to_string(),
            ]);
        }
    }
    let what = if let Some(sw) = &sc.sweep {
        format!("{} swept over {}", sw.field, sw.labels.join(", "))
    } else if sc.detectors.is_empty() {
        format!("{} members", sc.nodes.len())
    } else {
        format!("heartbeat every {}", sc.interval)
    };
    let mut out = format!(
        "{} — {} seed{} × {} of virtual time, {what}\n",
        sc.name,
        sc.seeds.len(),
        if sc.seeds.len() == 1 { "" } else { "s" },
        sc.duration,
    );
    out.push_str(&aligned(&rows, 2));
    if !sc.protocols.is_empty() {
        out.push_str(&cluster_table(res));
        let changes = sc.faults.iter().any(|f| {
            matches!(
                f,
                crate::fault::FaultSpec::Join { .. } | crate::fault::FaultSpec::Leave { .. }
            )
        });
        if changes {
            out.push_str(&join_leave_table(res));
        }
    }
    out
}

/// Joins and graceful leaves of every protocol × value, pooled over
/// seeds: how many, the mean and largest time until every live member
/// held the member Alive (a join) or Left (a leave), and how many never
/// got there (before the member changed again or the run ended).
pub fn join_leave_table(res: &ScenarioResult) -> String {
    let sc = &res.scenario;
    let mut rows: Vec<Vec<String>> = vec![[
        "protocol",
        "parameter",
        "joins",
        "all Alive",
        "max",
        "not all Alive",
        "leaves",
        "all Left",
        "max",
        "not all Left",
    ]
    .map(String::from)
    .to_vec()];
    for (p, cfg) in sc.protocols.iter().enumerate() {
        for (v, &value) in cfg.values.iter().enumerate() {
            let q = ClusterQos::pool(res.seeds.iter().map(|s| &s.clusters[p][v].qos));
            rows.push(vec![
                cfg.label.clone(),
                format!("{}={}", cfg.swept.name, cfg.swept.unit.format(value)),
                q.joins.to_string(),
                human(mean_time(&q.join_all_alive, &[])),
                human(q.join_all_alive.last().copied()),
                q.join_not_all_alive.to_string(),
                q.leaves.to_string(),
                human(mean_time(&q.leave_all_left, &[])),
                human(q.leave_all_left.last().copied()),
                q.leave_not_all_left.to_string(),
            ]);
        }
    }
    format!(
        "\njoins and leaves (not failures; mean time until every live member holds the member \
         Alive, or Left):\n{}",
        aligned(&rows, 2)
    )
}

/// The cluster figures of every protocol × value, pooled over seeds: mean
/// times from a crash to the first suspicion, the first Dead declaration
/// and every live member holding it Dead (missed crashes in brackets);
/// false Dead declarations per member-hour and the longest false Dead
/// period; refuted suspicions; load per member.
pub fn cluster_table(res: &ScenarioResult) -> String {
    let sc = &res.scenario;
    let mut rows: Vec<Vec<String>> = vec![[
        "protocol",
        "parameter",
        "1st suspect",
        "1st Dead",
        "all Dead",
        "false Dead/member-h",
        "longest false Dead",
        "refuted",
        "msg/member/s",
        "UDP B/member/s",
        "TCP B/member/s",
    ]
    .map(String::from)
    .to_vec()];
    let mean = |d: &[Nanos], missed: u32, censored: &[Nanos]| {
        let ge = if restricted(d, censored) { "≥" } else { "" };
        let mut m = format!("{ge}{}", human(mean_time(d, censored)));
        if missed > 0 {
            let _ = write!(m, " (+{missed} missed)");
        }
        if !censored.is_empty() {
            let _ = write!(m, " (+{} censored)", censored.len());
        }
        m
    };
    for (p, cfg) in sc.protocols.iter().enumerate() {
        for (v, &value) in cfg.values.iter().enumerate() {
            let q = ClusterQos::pool(res.seeds.iter().map(|s| &s.clusters[p][v].qos));
            rows.push(vec![
                cfg.label.clone(),
                format!("{}={}", cfg.swept.name, cfg.swept.unit.format(value)),
                mean(
                    &q.first_suspicion,
                    q.first_suspicion_missed,
                    &q.first_suspicion_censored,
                ),
                mean(&q.first_dead, q.first_dead_missed, &q.first_dead_censored),
                mean(&q.all_dead, q.all_dead_missed, &q.all_dead_censored),
                rate(q.false_dead_per_member_hour()),
                human((q.false_dead > 0).then_some(q.false_dead_longest)),
                q.refuted_suspicions.to_string(),
                q.messages_per_member_second()
                    .map_or("-".into(), |m| format!("{m:.2}")),
                q.udp_bytes_per_member_second()
                    .map_or("-".into(), |b| format!("{b:.0}")),
                q.tcp_bytes_per_member_second()
                    .map_or("-".into(), |b| format!("{b:.0}")),
            ]);
        }
    }
    format!(
        "\nmembership protocols ({} members; times from a crash, mean over crashes):\n{}",
        sc.nodes.len(),
        aligned(&rows, 2)
    )
}

/// Rows as aligned text: the first `left` columns left-aligned, the rest
/// right-aligned, a rule under the header.
fn aligned(rows: &[Vec<String>], left: usize) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c < left {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_pick_a_readable_unit() {
        assert_eq!(human(Some(Nanos::from_micros(850))), "850us");
        assert_eq!(human(Some(Nanos(152_340_000))), "152.3ms");
        assert_eq!(human(Some(Nanos(2_414_000_000))), "2.41s");
        assert_eq!(human(None), "-");
    }
}
