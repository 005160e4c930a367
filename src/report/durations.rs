//! How long mistakes last: the "Mistake durations" section of
//! `report.md` and `mistake-durations.svg`, the rate of mistakes lasting
//! longer than x against x (a complementary CDF scaled by the mistake
//! rate), drawn by hand as plain SVG.
//!
//! A downing delay D (Akka's `down-removal-margin`, a Consul reap
//! interval) turns only mistakes longer than D into wrong removals, so
//! the figure an operator needs is "mistakes per hour lasting longer than
//! D", read off the plot at x = D.

use super::markdown::rate;
use super::table::human;
use crate::math;
use crate::metrics::curve::CurvePoint;
use crate::metrics::Summary;
use crate::run::ScenarioResult;
use crate::sim::time::Nanos;
use std::fmt::Write;

/// The "Mistake durations" section of `report.md`, or nothing if no
/// setting made a mistake with a recorded duration.
pub fn section(res: &ScenarioResult, points: &[CurvePoint]) -> String {
    let sc = &res.scenario;
    let shown: Vec<&CurvePoint> = points
        .iter()
        .filter(|p| p.summary.mistakes > 0 && p.summary.has_mistake_durations())
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let ds = &sc.report.mistake_longer_than;
    let mut s = String::from(
        "## Mistake durations\n\n\
         How long false suspicions last, over the mistakes of every seed pooled: the median, \
         90th and 99th percentiles (nearest rank; Kaplan–Meier when some mistakes were still \
         open at the end of a run, which are then counted as *censored*), the longest, and the \
         rate of mistakes lasting longer than D per hour of up time (a downing or removal \
         delay of D turns only these into wrong removals). A mistake cut short by a crash \
         ended there; one open at the end of a run counts as longer than D only once its \
         length up to the end exceeds D. Settings without mistakes are left out.\n\n\
         | detector | parameter | mistakes | p50 | p90 | p99 | longest | censored |",
    );
    for d in ds {
        let _ = write!(s, " > {d} per h |");
    }
    s.push_str("\n|---|---|---|---|---|---|---|---|");
    s.push_str(&"---|".repeat(ds.len()));
    s.push('\n');
    for p in shown {
        let cfg = sc.series_at(p.detector);
        let sm = &p.summary;
        let longest = match (sm.mistake_max(), sm.mistake_max_censored()) {
            (m, true) => format!("≥{}", human(m)),
            (m, false) => human(m),
        };
        let _ = write!(
            s,
            "| {} | {} = {} | {} | {} | {} | {} | {} | {} |",
            cfg.label,
            cfg.param,
            cfg.unit.format(p.value),
            sm.mistakes,
            human(sm.mistake_percentile(50.0)),
            human(sm.mistake_percentile(90.0)),
            human(sm.mistake_percentile(99.0)),
            longest,
            sm.mistake_censored.len()
        );
        let hours = sm.up_time.as_hours_f64();
        for &d in ds {
            let cell = match sm.mistakes_longer_than(d) {
                Some(n) if hours > 0.0 => rate(n as f64 / hours),
                _ => "-".into(),
            };
            let _ = write!(s, " {cell} |");
        }
        s.push('\n');
    }
    if sc.report.mistake_duration_plot {
        s.push_str(
            "\n![mistakes per hour lasting longer than x](mistake-durations.svg)\n\n\
             Each line is one setting: at x, the mistakes per hour of up time that lasted \
             longer than x. Dashed lines mark the durations of the table.\n",
        );
    }
    s.push('\n');
    s
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;

/// A colour-blind-safe palette (Okabe and Ito).
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

/// One line of the plot: the rate of mistakes longer than x, as steps.
struct Line {
    series: usize,
    label: String,
    /// (length, mistakes known to be longer than every x below it), by
    /// increasing length: the count drops at each.
    steps: Vec<(f64, u64)>,
    hours: f64,
}

fn line(label: String, series: usize, s: &Summary) -> Option<Line> {
    let hours = s.up_time.as_hours_f64();
    if s.mistakes == 0 || !s.has_mistake_durations() || hours <= 0.0 {
        return None;
    }
    let mut all: Vec<Nanos> = s.mistake_durations.to_sorted_vec();
    all.extend_from_slice(&s.mistake_censored);
    all.sort_unstable();
    let mut steps: Vec<(f64, u64)> = Vec::new();
    let n = all.len() as u64;
    for (i, len) in all.iter().enumerate() {
        let ms = len.as_millis_f64().max(1e-3);
        let before = n - i as u64;
        match steps.last_mut() {
            Some(last) if last.0 == ms => {}
            _ => steps.push((ms, before)),
        }
    }
    Some(Line {
        series,
        label,
        steps,
        hours,
    })
}

/// A log axis from `lo` to `hi` (positive) onto pixels `a` to `b`.
fn log_map(v: f64, lo: f64, hi: f64, a: f64, b: f64) -> f64 {
    let t = (math::log10(v) - math::log10(lo)) / (math::log10(hi) - math::log10(lo));
    a + t * (b - a)
}

/// Decade ticks from `lo` to `hi`, with 2 and 5 between when the range
/// spans at most two decades.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (
        math::log10(lo).floor() as i32,
        math::log10(hi).ceil() as i32,
    );
    let mults: &[f64] = if b - a <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    let mut out = Vec::new();
    for e in a..=b {
        for m in mults {
            let v = m * math::powf(10.0, f64::from(e));
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
    }
    out
}

/// A tick or mark in scenario syntax (`100us`, `1ms`, `2s`, `1m`).
fn ms_label(ms: f64) -> String {
    Nanos((ms * 1e6).round() as u64).to_string()
}

fn rate_label(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let digits = (-math::log10(v)).ceil().max(0.0) as usize;
        format!("{v:.digits$}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `mistake-durations.svg`: for every setting with mistakes, the rate of
/// mistakes lasting longer than x against x, both on log axes, with the
/// `[report] mistake_longer_than` durations marked. `None` when no setting
/// made a mistake with a recorded duration.
pub fn ccdf_svg(res: &ScenarioResult, points: &[CurvePoint]) -> Option<String> {
    let sc = &res.scenario;
    let lines: Vec<Line> = points
        .iter()
        .filter_map(|p| {
            let cfg = sc.series_at(p.detector);
            let label = format!("{}={}", cfg.param, cfg.unit.format(p.value));
            line(label, p.detector, &p.summary)
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let xs = lines.iter().flat_map(|l| l.steps.iter().map(|s| s.0));
    let (xmin, xmax) = xs.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let marks: Vec<f64> = (sc.report.mistake_longer_than.iter())
        .map(|d| d.as_millis_f64())
        .collect();
    let xlo = math::powf(10.0, math::log10(xmin / 1.5).floor());
    let xhi_data = marks.iter().copied().fold(xmax, f64::max) * 1.5;
    let xhi = math::powf(10.0, math::log10(xhi_data).ceil());
    let ys = lines
        .iter()
        .flat_map(|l| l.steps.iter().map(move |s| s.1 as f64 / l.hours));
    let (ymin, ymax) = ys.fold((f64::INFINITY, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
    let ylo = math::powf(10.0, math::log10(ymin).floor());
    let yhi = math::powf(10.0, math::log10(ymax).ceil()).max(ylo * 10.0);
    let (px0, px1) = (LEFT, WIDTH - RIGHT);
    let (py0, py1) = (HEIGHT - BOTTOM, TOP);
    let x = |v: f64| log_map(v, xlo, xhi, px0, px1);
    let y = |v: f64| log_map(v, ylo, yhi, py0, py1);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <title>{}: mistakes per hour lasting longer than x</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{}: how long mistakes last</text>\n",
        escape(&sc.name),
        (px0 + px1) / 2.0,
        escape(&sc.name)
    );
    for t in ticks(xlo, xhi) {
        let tx = x(t);
        let _ = writeln!(
            s,
            "<line x1=\"{tx:.1}\" y1=\"{py1}\" x2=\"{tx:.1}\" y2=\"{py0}\" stroke=\"#e6e6e6\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            py0 + 16.0,
            ms_label(t)
        );
    }
    for t in ticks(ylo, yhi) {
        let ty = y(t);
        let _ = writeln!(
            s,
            "<line x1=\"{px0}\" y1=\"{ty:.1}\" x2=\"{px1}\" y2=\"{ty:.1}\" stroke=\"#e6e6e6\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            px0 - 6.0,
            ty + 4.0,
            rate_label(t)
        );
    }
    let _ = writeln!(
        s,
        "<rect x=\"{px0}\" y=\"{py1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#444\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">mistake duration x (log scale)</text>\n\
         <text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\">mistakes/h lasting longer than x (log scale)</text>",
        px1 - px0,
        py0 - py1,
        (px0 + px1) / 2.0,
        HEIGHT - 14.0,
        (py0 + py1) / 2.0
    );
    for m in &marks {
        let mx = x(*m);
        let _ = writeln!(
            s,
            "<line x1=\"{mx:.1}\" y1=\"{py1}\" x2=\"{mx:.1}\" y2=\"{py0}\" stroke=\"#888\" stroke-dasharray=\"5 4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\">&gt; {}</text>",
            mx + 3.0,
            py1 + 12.0,
            ms_label(*m)
        );
    }
    let mut series_seen: Vec<usize> = Vec::new();
    for l in &lines {
        let k = match series_seen.iter().position(|&d| d == l.series) {
            Some(k) => k,
            None => {
                series_seen.push(l.series);
                series_seen.len() - 1
            }
        };
        let colour = COLOURS[k % COLOURS.len()];
        let dash =
            ["", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 3\""][k / COLOURS.len() % 3];
        let mut path = format!("M{:.1},{:.1}", x(xlo), y(l.steps[0].1 as f64 / l.hours));
        for (i, &(len, _)) in l.steps.iter().enumerate() {
            let _ = write!(path, " H{:.1}", x(len));
            if let Some(next) = l.steps.get(i + 1) {
                let _ = write!(path, " V{:.1}", y(next.1 as f64 / l.hours));
            }
        }
        let (last_len, last_n) = *l.steps.last().expect("a line has a step");
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\" font-size=\"11\">{}</text>",
            px0 + 4.0,
            y(l.steps[0].1 as f64 / l.hours) - 3.0,
            escape(&l.label)
        );
        let _ = writeln!(
            s,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\"{dash}>\
             <title>{}: {} {}</title></path>\
             <circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\"/>",
            escape(sc.series_at(l.series).label),
            escape(&l.label),
            format_args!("(longest {})", ms_label(last_len)),
            x(last_len),
            y(last_n as f64 / l.hours),
        );
    }
    for (k, &d) in series_seen.iter().enumerate() {
        let ly = TOP + 10.0 + 18.0 * k as f64;
        let colour = COLOURS[k % COLOURS.len()];
        let dash =
            ["", " stroke-dasharray=\"6 3\"", " stroke-dasharray=\"2 3\""][k / COLOURS.len() % 3];
        let _ = writeln!(
            s,
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            px1 + 12.0,
            px1 + 36.0,
            px1 + 42.0,
            ly + 4.0,
            escape(sc.series_at(d).label)
        );
    }
    s.push_str("</svg>\n");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_decades_or_one_two_five_in_a_narrow_range() {
        assert_eq!(ticks(1.0, 1000.0), vec![1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(
            ticks(1.0, 100.0),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
    }

    #[test]
    fn a_line_steps_down_once_per_distinct_length() {
        let run = crate::metrics::RunQos {
            mistakes: 4,
            mistake_durations: vec![Nanos::from_millis(5), Nanos::from_millis(5)].into(),
            mistake_censored: vec![Nanos::from_millis(9)],
            up_time: Nanos::from_secs(3600).into(),
            ..Default::default()
        };
        // Four mistakes, three durations: no line without all durations.
        assert!(line("x".into(), 0, &Summary::pool([&run])).is_none());
        let run = crate::metrics::RunQos { mistakes: 3, ..run };
        let l = line("x".into(), 0, &Summary::pool([&run])).unwrap();
        assert_eq!(l.steps, vec![(5.0, 3), (9.0, 1)]);
    }
}
