//! The `[downing]` outputs: `decisions.csv` (one row per strategy ×
//! value × seed × fault event), the summary and confusion matrix of
//! `report.md`, and `decisions.svg`, the time to down a crashed member
//! against the share of cuts and pauses that ended in a split brain or a
//! wrongful downing, one line per strategy over its patience.

use crate::metrics::decisions::{Confusion, DecisionRun, Truth, Verdict};
use crate::run::ScenarioResult;
use crate::sim::time::{Nanos, TotalNanos};
use serde::Serialize;
use std::fmt::Write as _;

/// One row of `decisions.csv`; columns in `docs/output.md`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DecisionRow {
    pub scenario: String,
    pub strategy: String,
    pub kind: &'static str,
    pub detection: &'static str,
    pub patience_s: f64,
    pub seed: u64,
    pub event: usize,
    pub truth: &'static str,
    pub start_s: f64,
    pub end_s: f64,
    pub nodes: String,
    pub verdict: &'static str,
    pub time_to_down_ms: Option<f64>,
    pub split_brain_ms: f64,
    pub split_brain_member_s: f64,
    pub outage_ms: f64,
    pub live_downed: u32,
    pub wrongful_downings: u32,
}

fn secs(t: Nanos) -> f64 {
    t.as_secs_f64()
}

/// Every row of `decisions.csv`, strategies and values in file order,
/// then seeds, then events in time order.
pub fn decision_rows(res: &ScenarioResult) -> Vec<DecisionRow> {
    let Some(d) = &res.scenario.downing else {
        return Vec::new();
    };
    let names = &res.scenario.nodes;
    let mut out = Vec::new();
    for (s, cfg) in d.strategies.iter().enumerate() {
        for (v, val) in cfg.values.iter().enumerate() {
            for seed in &res.seeds {
                for (i, (e, o)) in seed.decisions[s][v].events.iter().enumerate() {
                    let nodes: Vec<&str> = e
                        .nodes
                        .iter()
                        .map(|&n| names[n as usize].as_str())
                        .collect();
                    out.push(DecisionRow {
                        scenario: res.scenario.name.clone(),
                        strategy: cfg.label.clone(),
                        kind: val.strategy.name(),
                        detection: cfg.detection.name(),
                        patience_s: secs(val.patience),
                        seed: seed.seed,
                        event: i,
                        truth: e.truth.name(),
                        start_s: secs(e.start),
                        end_s: secs(e.end),
                        nodes: nodes.join(" "),
                        verdict: o.verdict().name(),
                        time_to_down_ms: o.time_to_down.map(|t| t.as_millis_f64()),
                        split_brain_ms: o.split_brain.as_millis_f64(),
                        split_brain_member_s: o.split_member_time.as_secs_f64(),
                        outage_ms: o.outage.as_millis_f64(),
                        live_downed: o.live_downed,
                        wrongful_downings: o.wrongful,
                    });
                }
            }
        }
    }
    out
}

/// One strategy at one value, pooled over seeds.
struct Pooled {
    label: String,
    patience: Nanos,
    crashes: u32,
    downed: Vec<Nanos>,
    /// Cuts and pauses, and of those the ones that ended badly.
    others: u32,
    bad: u32,
    split_brains: u32,
    outages: u32,
    wrongful: u32,
    split_member: TotalNanos,
    availability: Option<f64>,
    view_changes: Option<f64>,
    confusion: Confusion,
}

fn pooled(res: &ScenarioResult) -> Vec<Pooled> {
    let Some(d) = &res.scenario.downing else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (s, cfg) in d.strategies.iter().enumerate() {
        for (v, val) in cfg.values.iter().enumerate() {
            let runs: Vec<&DecisionRun> = res.seeds.iter().map(|x| &x.decisions[s][v]).collect();
            let mut p = Pooled {
                label: cfg.label.clone(),
                patience: val.patience,
                crashes: 0,
                downed: Vec::new(),
                others: 0,
                bad: 0,
                split_brains: 0,
                outages: 0,
                wrongful: 0,
                split_member: TotalNanos(0),
                availability: None,
                view_changes: None,
                confusion: Confusion::of(runs.iter().copied()),
            };
            let (mut serving, mut member, mut changes, mut up) = (0u128, 0u128, 0u64, 0u128);
            for r in &runs {
                serving += r.serving_time.0;
                member += r.member_time.0;
                changes += r.view_changes;
                up += r.member_up_time.0;
                p.split_member += r.split_member_time;
                for (e, o) in &r.events {
                    let verdict = o.verdict();
                    p.split_brains += u32::from(verdict == Verdict::SplitBrain);
                    p.outages += u32::from(verdict == Verdict::Outage);
                    p.wrongful += o.wrongful;
                    if e.truth == Truth::Crash {
                        p.crashes += 1;
                        p.downed.extend(o.time_to_down);
                    } else {
                        p.others += 1;
                        p.bad += u32::from(verdict == Verdict::SplitBrain || o.wrongful > 0);
                    }
                }
            }
            p.availability = (member > 0).then(|| serving as f64 / member as f64);
            p.view_changes = (up > 0).then(|| changes as f64 / TotalNanos(up).as_hours_f64());
            out.push(p);
        }
    }
    out
}

impl Pooled {
    fn mean_down_s(&self) -> Option<f64> {
        (!self.downed.is_empty()).then(|| {
            self.downed.iter().map(|t| t.as_secs_f64()).sum::<f64>() / self.downed.len() as f64
        })
    }

    fn bad_share(&self) -> Option<f64> {
        (self.others > 0).then(|| f64::from(self.bad) / f64::from(self.others))
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{:.3}%", 100.0 * x))
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

/// The `report.md` section: the summary per strategy × patience and the
/// confusion matrix; empty without `[downing]`.
pub fn decisions_markdown(res: &ScenarioResult) -> String {
    let pools = pooled(res);
    if pools.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    let _ = writeln!(s, "## Partition or crash: downing decisions\n");
    let _ = writeln!(
        s,
        "Every fault of the ground truth, scored for each strategy at each patience (stable-after, \
         or down-after's delay), pooled over {} seed(s); definitions in docs/partitions.md, every \
         event in decisions.csv, the trade-off in decisions.svg.\n",
        res.seeds.len()
    );
    let _ = writeln!(
        s,
        "| strategy | patience | crashes downed | time to down, mean s | cuts and pauses | split \
         brains | outages | wrongful downings | split-brain member-s | availability | view \
         changes / member-h |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for p in &pools {
        let _ = writeln!(
            s,
            "| {} | {} | {}/{} | {} | {} | {} | {} | {} | {:.1} | {} | {} |",
            p.label,
            crate::report::human(Some(p.patience)),
            p.downed.len(),
            p.crashes,
            opt(p.mean_down_s(), 1),
            p.others,
            p.split_brains,
            p.outages,
            p.wrongful,
            p.split_member.as_secs_f64(),
            pct(p.availability),
            opt(p.view_changes, 1),
        );
    }
    let _ = writeln!(s, "\n### Confusion matrix: truth against verdict\n");
    let _ = write!(s, "| strategy | patience | truth |");
    for v in Verdict::ALL {
        let _ = write!(s, " {} |", v.name());
    }
    let _ = writeln!(s, "\n|---|---|---|---|---|---|---|");
    for p in &pools {
        for (t, truth) in Truth::ALL.iter().enumerate() {
            if p.confusion.total(t) == 0 {
                continue;
            }
            let c = p.confusion.counts[t];
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                p.label,
                crate::report::human(Some(p.patience)),
                truth.name(),
                c[0],
                c[1],
                c[2],
                c[3]
            );
        }
    }
    s
}

/// Okabe–Ito, colour-blind safe (the trade-off plot's palette).
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442",
];

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 560.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 60.0;

/// Ticks at a step of 1, 2 or 5 × 10^k giving four to eight of them over
/// `[0, hi]`.
fn linear_ticks(hi: f64) -> Vec<f64> {
    let raw = hi.max(1e-9) / 5.0;
    let mag = crate::math::powf(10.0, crate::math::log10(raw).floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|&st| hi / st <= 8.0)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|k| f64::from(k) * step)
        .take_while(|&v| v <= hi * (1.0 + 1e-9))
        .collect()
}

/// A tick label without needless digits: `0`, `0.2`, `15`, `2.5`.
fn tick_label(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The time-to-down vs split-brain plot, drawn as plain SVG: one line per
/// strategy over its patience, each point labelled with it and carrying
/// the exact figures as a tooltip, the legend outside the data; `None`
/// without `[downing]` results.
pub fn decisions_svg(res: &ScenarioResult) -> Option<String> {
    let pools = pooled(res);
    let mut labels: Vec<String> = Vec::new();
    for p in &pools {
        if !labels.contains(&p.label) {
            labels.push(p.label.clone());
        }
    }
    // Without a crash to down (cuts and pauses only), the x axis is the
    // patience itself: how long a strategy waits against what it costs.
    let by_patience = !pools.iter().any(|p| p.mean_down_s().is_some());
    let pts: Vec<(usize, f64, f64, Nanos)> = pools
        .iter()
        .filter_map(|p| {
            let line = labels.iter().position(|l| *l == p.label)?;
            let x = if by_patience {
                p.patience.0 as f64 / 1e9
            } else {
                p.mean_down_s()?
            };
            Some((line, x, p.bad_share().unwrap_or(0.0), p.patience))
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    let x_ticks = linear_ticks(pts.iter().map(|p| p.1).fold(1.0f64, f64::max) * 1.1);
    let x_max = *x_ticks.last().expect("at least one tick");
    let x_max = if x_max < pts.iter().map(|p| p.1).fold(0.0, f64::max) {
        x_max + x_ticks[1]
    } else {
        x_max
    };
    let y_ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
    let (x0, x1) = (LEFT, WIDTH - RIGHT);
    let (y0, y1) = (HEIGHT - BOTTOM, TOP);
    let sx = |v: f64| x0 + (x1 - x0) * v / x_max;
    let sy = |v: f64| y0 - (y0 - y1) * (v + 0.02) / 1.07;
    let esc = super::plot::escape;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"13\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"28\" font-size=\"18\" text-anchor=\"middle\">{}: {} vs split brain</text>",
        (x0 + x1) / 2.0,
        esc(&res.scenario.name),
        if by_patience { "patience" } else { "time to down" }
    );
    for &t in &x_ticks {
        let x = sx(t);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{y1}\" x2=\"{x:.1}\" y2=\"{y0}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y0 + 18.0,
            tick_label(t)
        );
    }
    for &t in &y_ticks {
        let y = sy(t);
        let _ = writeln!(
            svg,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 - 8.0,
            y + 4.0,
            tick_label(t)
        );
    }
    let _ = writeln!(
        svg,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n\
         <text transform=\"translate(20 {:.1}) rotate(-90)\" text-anchor=\"middle\">share of cuts and pauses ending in split brain or a wrongful downing</text>",
        x1 - x0,
        y0 - y1,
        (x0 + x1) / 2.0,
        HEIGHT - 16.0,
        if by_patience {
            "patience (stable-after, or down-after's delay), s: no crash to down here"
        } else {
            "mean time to down a crashed member, s"
        },
        (y0 + y1) / 2.0
    );
    // Dashes tell apart lines that fall on one another (two strategies
    // deciding alike).
    const DASHES: [&str; 4] = ["", "8 4", "2 3", "10 3 2 3"];
    let mut legend_row = 0.0;
    for (line, label) in labels.iter().enumerate() {
        let colour = COLOURS[line % COLOURS.len()];
        let dash = DASHES[line % DASHES.len()];
        let mine: Vec<&(usize, f64, f64, Nanos)> = pts.iter().filter(|p| p.0 == line).collect();
        if mine.is_empty() {
            continue;
        }
        let path: Vec<String> = mine
            .iter()
            .map(|p| format!("{:.1},{:.1}", sx(p.1), sy(p.2)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" \
             stroke-dasharray=\"{dash}\"/>",
            path.join(" ")
        );
        for p in mine {
            let patience = crate::report::human(Some(p.3));
            let downed = if by_patience {
                String::new()
            } else {
                format!("crashed members downed after {:.2} s on average; ", p.1)
            };
            let _ = writeln!(
                svg,
                "<g><title>{}, patience {}: {downed}\
                 {:.1} % of cuts and pauses ended in split brain or a wrongful downing</title>\
                 <circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4.5\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"{colour}\">{}</text></g>",
                esc(label),
                esc(&patience),
                100.0 * p.2,
                sx(p.1),
                sy(p.2),
                sx(p.1) + 6.0,
                sy(p.2) - 8.0,
                esc(&patience)
            );
        }
        let ly = TOP + 10.0 + 22.0 * legend_row;
        legend_row += 1.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"3\" \
             stroke-dasharray=\"{dash}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x1 + 16.0,
            x1 + 36.0,
            x1 + 42.0,
            ly + 4.0,
            esc(label)
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}
