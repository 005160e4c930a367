//! The readable summary table printed by `fdsim run`.

use crate::metrics::Summary;
use crate::run::ScenarioResult;
use crate::sim::time::Nanos;

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

/// The readable table of one scenario: one line per detector × value,
/// pooled over seeds.
pub fn table(res: &ScenarioResult) -> String {
    let sc = &res.scenario;
    let mut rows: Vec<[String; 8]> = vec![[
        "detector".into(),
        "parameter".into(),
        "T_D mean".into(),
        "T_D p99".into(),
        "mistakes/h".into(),
        "1-P_A".into(),
        "detected".into(),
        "undetected".into(),
    ]];
    for (d, cfg) in sc.detectors.iter().enumerate() {
        for (v, &value) in cfg.values.iter().enumerate() {
            let s = Summary::pool(res.seeds.iter().map(|seed| &seed.qos[d][v]));
            rows.push([
                cfg.label.clone(),
                format!(
                    "{}={}",
                    cfg.kind.swept.name,
                    cfg.kind.swept.unit.format(value)
                ),
                human(s.detection_mean()),
                human(s.detection_percentile(99.0)),
                rate(s.mistakes_per_hour()),
                unavailability(s.query_accuracy()),
                format!("{}/{}", s.detections.len(), s.crashes),
                s.undetected.to_string(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..8)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "{} — {} seed{} × {} of virtual time, heartbeat every {}\n",
        sc.name,
        sc.seeds.len(),
        if sc.seeds.len() == 1 { "" } else { "s" },
        sc.duration,
        sc.interval
    );
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c < 2 {
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
