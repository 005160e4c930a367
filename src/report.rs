//! Reports: the per-seed metrics CSV and the readable summary table.

use crate::metrics::{RunQos, Summary};
use crate::run::ScenarioResult;
use crate::sim::time::Nanos;
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

/// One row of `metrics.csv`: one detector at one swept value in one seed.
/// The header and column order are a stable contract; see
/// `docs/output.md`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MetricsRow {
    pub scenario: String,
    pub detector: String,
    pub kind: String,
    pub param: String,
    pub param_value: f64,
    pub param_unit: String,
    pub seed: u64,
    pub crashes: u32,
    pub detected: u32,
    pub undetected: u32,
    pub detection_ms_mean: Option<f64>,
    pub detection_ms_median: Option<f64>,
    pub detection_ms_p99: Option<f64>,
    pub detection_ms_max: Option<f64>,
    pub mistakes: u64,
    pub mistakes_per_hour: Option<f64>,
    pub mistake_ms_mean: Option<f64>,
    pub query_accuracy: Option<f64>,
    pub up_time_s: f64,
    pub messages_sent: u64,
    pub messages_delivered: u64,
}

fn ms(n: Option<Nanos>) -> Option<f64> {
    n.map(Nanos::as_millis_f64)
}

/// The rows of `metrics.csv` for one scenario, in detector, value, seed
/// order.
pub fn metrics_rows(res: &ScenarioResult) -> Vec<MetricsRow> {
    let sc = &res.scenario;
    let mut rows = Vec::new();
    for (d, cfg) in sc.detectors.iter().enumerate() {
        let unit = cfg.kind.swept.unit;
        for (v, &value) in cfg.values.iter().enumerate() {
            for seed in &res.seeds {
                let q: &RunQos = &seed.qos[d][v];
                let s = Summary::pool([q]);
                rows.push(MetricsRow {
                    scenario: sc.name.clone(),
                    detector: cfg.label.clone(),
                    kind: cfg.kind.name.to_string(),
                    param: cfg.kind.swept.name.to_string(),
                    param_value: unit.display_value(value),
                    param_unit: unit.column_unit().to_string(),
                    seed: seed.seed,
                    crashes: s.crashes,
                    detected: s.detections.len() as u32,
                    undetected: s.undetected,
                    detection_ms_mean: ms(s.detection_mean()),
                    detection_ms_median: ms(s.detection_percentile(50.0)),
                    detection_ms_p99: ms(s.detection_percentile(99.0)),
                    detection_ms_max: ms(s.detection_max()),
                    mistakes: s.mistakes,
                    mistakes_per_hour: s.mistakes_per_hour(),
                    mistake_ms_mean: ms(s.mean_mistake()),
                    query_accuracy: s.query_accuracy(),
                    up_time_s: s.up_time.as_secs_f64(),
                    messages_sent: seed.stats.sent,
                    messages_delivered: seed.stats.delivered,
                });
            }
        }
    }
    rows
}

/// Serializes rows as CSV into memory.
pub fn to_csv<T: Serialize>(rows: &[T]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(io::Error::other)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed and synced, then renamed over the target, so a
/// reader never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("output path has no file name"))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

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

fn accuracy(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x >= 1.0 => "1".into(),
        Some(x) => format!("{x:.6}"),
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
        "P_A".into(),
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
                accuracy(s.query_accuracy()),
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
    fn atomic_write_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("fdsim-atomic-{}", std::process::id()));
        let path = dir.join("out.csv");
        write_atomic(&path, b"a,b\n").unwrap();
        write_atomic(&path, b"c,d\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"c,d\n");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn human_durations_pick_a_readable_unit() {
        assert_eq!(human(Some(Nanos::from_micros(850))), "850us");
        assert_eq!(human(Some(Nanos(152_340_000))), "152.3ms");
        assert_eq!(human(Some(Nanos(2_414_000_000))), "2.41s");
        assert_eq!(human(None), "-");
    }
}
