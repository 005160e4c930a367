//! Reports: per-seed and per-curve CSV, the readable table, the trade-off
//! plot, the Markdown report, its HTML rendering and the index of all
//! scenarios.

pub mod decisions;
pub mod durations;
pub mod files;
pub mod html;
pub mod markdown;
pub mod plot;
pub mod rows;
pub mod table;

pub use files::{to_csv, write_atomic, Transaction};
pub use plot::PlotSize;
pub use rows::{cluster_rows, curve_points, curve_rows, run_rows, ClusterRow, CurveRow, RunRow};
pub use table::{human, table};

use crate::metrics::curve::CurvePoint;
use crate::run::ScenarioResult;
use std::io;
use std::path::Path;

/// Options of the written report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// The size the plots are drawn at (default: for a screen).
    pub plot_size: PlotSize,
}

/// Writes every output of every scenario under `out`, the whole report at
/// once ([`Transaction`]: staged next to `out`, then swapped in; other
/// scenarios' folders already under `out` are kept):
/// `NAME/{runs.csv, metrics.csv, curve.csv, tradeoff.svg, report.md,
/// report.html, summary.txt}` (and `clusters.csv` for a scenario with
/// protocols, `mistake-durations.svg` for one asking for it in
/// `[report]`, `decisions.csv` and `decisions.svg` for one with
/// `[downing]`) and the top-level `index.md` and `index.html`, which list
/// every scenario folder present, this run's and the kept ones.
pub fn write_all(out: &Path, results: Vec<ScenarioResult>) -> io::Result<()> {
    write_report(out, results, ReportOptions::default())
}

/// [`write_all`] with options.
pub fn write_report(
    out: &Path,
    results: Vec<ScenarioResult>,
    opts: ReportOptions,
) -> io::Result<()> {
    write_all_in(Transaction::begin(out)?, results, opts).map(drop)
}

/// [`write_report`] into a transaction already begun: `fdsim run` takes
/// the report's lock before simulating, so that a second run on the same
/// folder fails before spending its simulation.
///
/// Returns each scenario's readable table (its `summary.txt`), for the
/// caller to print without pooling the seeds a second time.
pub fn write_all_in(
    tx: Transaction,
    results: Vec<ScenarioResult>,
    opts: ReportOptions,
) -> io::Result<Vec<String>> {
    let dir = tx.dir();
    let mut tables = Vec::with_capacity(results.len());
    for res in results {
        tables.push(write_scenario(dir, &res, opts)?.1);
    }
    // The kept folders first: the index and the navigation cover them.
    tx.keep_previous()?;
    html::write_pages(dir)?;
    tx.commit()?;
    Ok(tables)
}

/// Writes one scenario's outputs (all but `report.html`, which needs the
/// other scenarios: [`html::write_pages`]) under `out/NAME/` and returns
/// its curve and its readable table.
pub fn write_scenario(
    out: &Path,
    res: &ScenarioResult,
    opts: ReportOptions,
) -> io::Result<(Vec<CurvePoint>, String)> {
    let dir = out.join(&res.scenario.name);
    let points = curve_points(res);
    let runs = to_csv(&run_rows(res))?;
    write_atomic(&dir.join("runs.csv"), &runs)?;
    write_atomic(&dir.join("metrics.csv"), &runs)?;
    write_atomic(&dir.join("curve.csv"), &to_csv(&curve_rows(res, &points))?)?;
    if !res.scenario.protocols.is_empty() {
        write_atomic(&dir.join("clusters.csv"), &to_csv(&cluster_rows(res))?)?;
    }
    if res.scenario.downing.is_some() {
        let rows = decisions::decision_rows(res);
        write_atomic(&dir.join("decisions.csv"), &to_csv(&rows)?)?;
        if let Some(svg) = decisions::decisions_svg(res) {
            write_atomic(&dir.join("decisions.svg"), svg.as_bytes())?;
        }
    }
    let svg = plot::tradeoff_svg(res, &points, opts.plot_size);
    write_atomic(&dir.join("tradeoff.svg"), svg.as_bytes())?;
    if res.scenario.report.mistake_duration_plot {
        if let Some(svg) = durations::ccdf_svg(res, &points) {
            write_atomic(&dir.join("mistake-durations.svg"), svg.as_bytes())?;
        }
    }
    write_atomic(
        &dir.join("report.md"),
        markdown::scenario_report(res, &points).as_bytes(),
    )?;
    let text = table::table_of(res, &points);
    write_atomic(&dir.join("summary.txt"), text.as_bytes())?;
    Ok((points, text))
}
