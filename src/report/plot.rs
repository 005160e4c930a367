//! The trade-off plot: mean detection time (x) against mistakes per hour
//! (y), both on log scales, one line per detector, 95 % confidence bars,
//! points labelled with their parameter value where the label fits, the
//! Pareto front ringed, and a tooltip (`<title>`) on every point with its
//! exact figures.
//!
//! The SVG is written by hand ([`render`] draws any [`Figure`]) so that
//! the ticks, the label placement and the tooltips are ours to get right:
//! tick labels come from [`log_ticks`], which never repeats a label and
//! never lets two overlap; the legend sits below the data; each series has
//! its own colour (Okabe–Ito, safe for colour-blind readers) *and* marker
//! shape.
//!
//! A log axis has no zero, and "no mistakes observed" is the most
//! important result a sweep can give, so zero rates are drawn honestly on
//! a floor row below the scale, with hollow markers, a dashed axis break
//! above it and the tick there labelled "0".

use crate::detector::registry::number_text;
use crate::math;
use crate::metrics::curve::CurvePoint;
use crate::run::ScenarioResult;
use std::fmt::Write;

/// How big a plot is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotSize {
    /// 960 px wide with a title, for a screen (the default).
    #[default]
    Screen,
    /// 7 × 4.7 inches (672 px at 96 per inch), no title, 12 px text (9 pt
    /// at print size): a figure for a two-column paper.
    Paper,
}

/// The fixed dimensions of one plot size.
struct Geometry {
    width: f64,
    plot_height: f64,
    font: f64,
    title: bool,
    marker: f64,
}

impl PlotSize {
    fn geometry(self) -> Geometry {
        match self {
            PlotSize::Screen => Geometry {
                width: 960.0,
                plot_height: 440.0,
                font: 13.0,
                title: true,
                marker: 5.5,
            },
            PlotSize::Paper => Geometry {
                width: 672.0,
                plot_height: 300.0,
                font: 12.0,
                title: false,
                marker: 4.5,
            },
        }
    }
}

/// Okabe–Ito colours (told apart with every common colour-vision
/// deficiency), then a neutral grey for a ninth series.
const PALETTE: [&str; 9] = [
    "#E69F00", "#0072B2", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442",
    "#999999",
];

/// Text colours for the palette: each colour darkened enough to read on
/// white (yellow and sky blue are too light as they are).
const TEXT_PALETTE: [&str; 9] = [
    "#9A6A00", "#0072B2", "#007A5A", "#B04A00", "#2A7FB0", "#A8507F", "#000000", "#7A7000",
    "#666666",
];

/// Marker shapes, one per series with the colour: together they tell
/// series apart in print, in grey and for every reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Plus,
    Cross,
    Star,
    Pentagon,
}

const SHAPES: [Shape; 9] = [
    Shape::Circle,
    Shape::Square,
    Shape::TriangleUp,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Plus,
    Shape::Cross,
    Shape::Star,
    Shape::Pentagon,
];

/// One point of a series, in data units.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotPoint {
    pub x: f64,
    /// The x interval (a horizontal bar), if known.
    pub x_ci: Option<(f64, f64)>,
    /// 0 is drawn on the floor row.
    pub y: f64,
    /// The y interval (a vertical bar); its low end may be 0.
    pub y_ci: Option<(f64, f64)>,
    /// Drawn next to the point where it fits.
    pub label: String,
    /// The exact figures, shown on hover.
    pub tooltip: String,
    /// Ringed (a point on the Pareto front).
    pub ring: bool,
}

/// One line of a plot.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotSeries {
    pub name: String,
    pub points: Vec<PlotPoint>,
}

/// How an axis labels its ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisUnit {
    /// Milliseconds, shown as `50 ms` below a second and `2 s` above.
    Millis,
    /// A plain number: `0.01`, `200`, `10k`.
    Number,
}

impl AxisUnit {
    fn format(self, v: f64) -> String {
        match self {
            AxisUnit::Millis if v >= 1000.0 => format!("{} s", number_text(v / 1000.0)),
            AxisUnit::Millis => format!("{} ms", number_text(v)),
            AxisUnit::Number if v >= 1e6 => format!("{}M", number_text(v / 1e6)),
            AxisUnit::Number if v >= 1e4 => format!("{}k", number_text(v / 1e3)),
            AxisUnit::Number => number_text(v),
        }
    }
}

/// A plot with log-scaled x and y axes.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub title: String,
    pub x_title: String,
    pub x_unit: AxisUnit,
    pub y_title: String,
    pub y_unit: AxisUnit,
    pub series: Vec<PlotSeries>,
    /// The legend entry for ringed points, if any point is ringed.
    pub ring_legend: String,
    /// The note at the axis break, if any point sits on the floor row.
    pub zero_note: String,
}

/// The ticks of one axis: labelled ones (with the grid) and short
/// unlabelled ones between them.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub major: Vec<(f64, String)>,
    pub minor: Vec<f64>,
}

/// Estimated width of `text` at `font` px in a sans-serif face: generous,
/// so that labels spaced by it do not touch in any common font (DejaVu
/// Sans, the widest, included).
pub fn text_width(text: &str, font: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.34,
            'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' => 0.45,
            'm' | 'w' | 'M' | 'W' | '—' => 0.95,
            '0'..='9' => 0.64,
            c if c.is_uppercase() => 0.74,
            _ => 0.64,
        })
        .sum();
    em * font
}

/// The smallest gap, in px, between two tick labels.
const TICK_GAP: f64 = 8.0;

/// At least this many labels are wanted on an axis when they fit.
const MIN_LABELS: usize = 4;

/// Tick values `m × 10^k` for the mantissas `ms`, every `every`-th
/// decade, inside `[lo, hi]`.
fn decade_ticks(lo: f64, hi: f64, ms: &[f64], every: i32) -> Vec<f64> {
    let (k0, k1) = (
        math::log10(lo).floor() as i32,
        math::log10(hi).ceil() as i32,
    );
    let mut out = Vec::new();
    for k in k0..=k1 {
        if k.rem_euclid(every) != 0 {
            continue;
        }
        for &m in ms {
            let v = nice(m * math::powf(10.0, k as f64));
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
    }
    out
}

/// `v` rounded to 12 significant digits, so `3 × 10^-1` is exactly the
/// float 0.3 prints as.
fn nice(v: f64) -> f64 {
    let text = format!("{v:.11e}");
    text.parse().unwrap_or(v)
}

/// Evenly spaced ticks `step` apart inside `[lo, hi]`.
fn linear_ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| nice(i as f64 * step)).collect()
}

/// Whether labels at these positions (px, increasing) with these extents
/// along the axis leave [`TICK_GAP`] between neighbours.
fn fits(pos: &[f64], extent: &[f64]) -> bool {
    pos.windows(2)
        .zip(extent.windows(2))
        .all(|(p, e)| (p[1] - p[0]).abs() >= (e[0] + e[1]) / 2.0 + TICK_GAP)
}

/// The ticks of a log axis over `[lo, hi]` drawn `length` px long.
/// `extent` gives a label's size along the axis (its width on an x axis,
/// its height on a y axis), `format` its text.
///
/// Labels go at every decade when they fit (every second or third decade
/// when they do not), at 1-2-5 or every digit when the range is too narrow
/// to show [`MIN_LABELS`] decades, and at even linear steps when it is
/// narrower than that. Whatever the range: labels are distinct, inside
/// the range, increasing, and never overlap.
pub fn log_ticks(
    lo: f64,
    hi: f64,
    length: f64,
    extent: &dyn Fn(&str) -> f64,
    format: &dyn Fn(f64) -> String,
) -> Ticks {
    let span = math::log10(hi / lo);
    let px = |v: f64| math::log10(v / lo) / span * length;
    let mut candidates: Vec<(Vec<f64>, &[f64])> = vec![
        (
            decade_ticks(lo, hi, &[1.0], 1),
            &[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        ),
        (
            decade_ticks(lo, hi, &[1.0, 2.0, 5.0], 1),
            &[3.0, 4.0, 6.0, 7.0, 8.0, 9.0],
        ),
        (
            decade_ticks(lo, hi, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1),
            &[],
        ),
    ];
    // Linear steps, coarse to fine, for ranges narrower than a decade.
    let mag = math::powf(10.0, math::log10(hi - lo).floor());
    let decades = decade_ticks(lo, hi, &[1.0], 1);
    for step in [mag * 5.0, mag * 2.0, mag, mag / 2.0, mag / 5.0, mag / 10.0] {
        let values = linear_ticks(lo, hi, step);
        // Never at the price of a decade's label.
        if decades.iter().all(|d| values.contains(d)) {
            candidates.push((values, &[]));
        }
    }
    let labelled = |values: &[f64]| -> Option<Vec<(f64, String)>> {
        let labels: Vec<(f64, String)> = values.iter().map(|&v| (v, format(v))).collect();
        let pos: Vec<f64> = values.iter().map(|&v| px(v)).collect();
        let ext: Vec<f64> = labels.iter().map(|(_, t)| extent(t)).collect();
        let distinct = labels
            .windows(2)
            .all(|w| w[0].1 != w[1].1 && w[0].0 < w[1].0);
        (distinct && fits(&pos, &ext)).then_some(labels)
    };
    type Choice<'a> = (Vec<(f64, String)>, &'a [f64]);
    let mut best: Option<Choice> = None;
    for (values, minor) in &candidates {
        let Some(labels) = labelled(values) else {
            continue;
        };
        let more = best.as_ref().is_none_or(|(b, _)| labels.len() > b.len());
        if more {
            best = Some((labels, minor));
        }
        if best.as_ref().is_some_and(|(b, _)| b.len() >= MIN_LABELS) {
            break;
        }
    }
    let (major, minor_ms) = match best {
        Some((labels, minor)) if !labels.is_empty() => (labels, minor),
        // Too many decades for the length: thin them out.
        _ => {
            let thinned = (2..).find_map(|every| {
                let labels = labelled(&decade_ticks(lo, hi, &[1.0], every))?;
                Some(labels).filter(|l| !l.is_empty() || every > 64)
            });
            (thinned.unwrap_or_default(), &[][..])
        }
    };
    // Nothing round enough fits: one label, in the middle, to two digits.
    let major = if major.is_empty() {
        let mid = (lo * hi).sqrt();
        let unit = math::powf(10.0, math::log10(mid).floor() - 1.0);
        let v = nice((mid / unit).round() * unit);
        vec![(v, format(v))]
    } else {
        major
    };
    // Minor ticks only where a decade is long enough to hold them apart.
    let decade_px = length / span.max(1e-9);
    let minor = if decade_px >= 60.0 {
        decade_ticks(lo, hi, minor_ms, 1)
    } else {
        Vec::new()
    };
    Ticks { major, minor }
}

/// Escapes text for SVG or HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A data range widened by a margin of 6 % of its span on a log scale
/// each side, and to at least a factor of 1.5.
fn log_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return None;
    }
    let (mut a, mut b) = (math::log10(lo), math::log10(hi));
    if b - a < 0.18 {
        let mid = (a + b) / 2.0;
        a = mid - 0.09;
        b = mid + 0.09;
    }
    let pad = (b - a) * 0.06;
    Some((math::powf(10.0, a - pad), math::powf(10.0, b + pad)))
}

/// Maps data values to px on a log scale.
#[derive(Clone, Copy, Debug)]
struct Scale {
    lo: f64,
    hi: f64,
    /// px of `lo` and of `hi`.
    from: f64,
    to: f64,
}

impl Scale {
    fn px(&self, v: f64) -> f64 {
        let t = math::log10(v / self.lo) / math::log10(self.hi / self.lo);
        self.from + t * (self.to - self.from)
    }
}

/// A box in px: left, top, right, bottom.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect(f64, f64, f64, f64);

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.0 < o.2 && o.0 < self.2 && self.1 < o.3 && o.1 < self.3
    }
    fn inside(&self, o: &Rect) -> bool {
        self.0 >= o.0 && self.2 <= o.2 && self.1 >= o.1 && self.3 <= o.3
    }
}

/// The SVG path of a marker of `shape` centred on (x, y), radius `r`.
fn marker_path(shape: Shape, x: f64, y: f64, r: f64) -> String {
    let poly = |pts: &[(f64, f64)]| {
        let mut d = String::new();
        for (i, (px, py)) in pts.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                x + px * r,
                y + py * r
            );
        }
        d.push('Z');
        d
    };
    let star = |points: usize, inner: f64, turn: f64| {
        let pts: Vec<(f64, f64)> = (0..points * 2)
            .map(|i| {
                let a = turn + i as f64 * std::f64::consts::PI / points as f64;
                let rr = if i % 2 == 0 { 1.15 } else { inner };
                (rr * math::cos(a), rr * math::sin(a))
            })
            .collect();
        poly(&pts)
    };
    let t = 0.38;
    match shape {
        Shape::Circle => format!(
            "M{:.1},{:.1}a{r:.1},{r:.1} 0 1,0 {:.1},0a{r:.1},{r:.1} 0 1,0 {:.1},0Z",
            x - r,
            y,
            2.0 * r,
            -2.0 * r
        ),
        Shape::Square => poly(&[(-0.9, -0.9), (0.9, -0.9), (0.9, 0.9), (-0.9, 0.9)]),
        Shape::TriangleUp => poly(&[(0.0, -1.2), (1.1, 0.8), (-1.1, 0.8)]),
        Shape::TriangleDown => poly(&[(0.0, 1.2), (1.1, -0.8), (-1.1, -0.8)]),
        Shape::Diamond => poly(&[(0.0, -1.25), (1.1, 0.0), (0.0, 1.25), (-1.1, 0.0)]),
        Shape::Plus => poly(&[
            (-t, -1.1),
            (t, -1.1),
            (t, -t),
            (1.1, -t),
            (1.1, t),
            (t, t),
            (t, 1.1),
            (-t, 1.1),
            (-t, t),
            (-1.1, t),
            (-1.1, -t),
            (-t, -t),
        ]),
        Shape::Cross => star(4, 0.42, std::f64::consts::FRAC_PI_4),
        Shape::Star => star(5, 0.5, -std::f64::consts::FRAC_PI_2),
        Shape::Pentagon => {
            let pts: Vec<(f64, f64)> = (0..5)
                .map(|i| {
                    let a =
                        -std::f64::consts::FRAC_PI_2 + i as f64 * 2.0 * std::f64::consts::PI / 5.0;
                    (1.1 * math::cos(a), 1.1 * math::sin(a))
                })
                .collect();
            poly(&pts)
        }
    }
}

/// The left edge of each legend column: as many columns (up to 4) as
/// fit in `width`, items filling rows left to right, each column as wide
/// as its widest item.
fn legend_columns(items: &[f64], width: f64) -> Vec<f64> {
    for cols in (2..=4usize.min(items.len())).rev() {
        let widths: Vec<f64> = (0..cols)
            .map(|c| {
                items
                    .iter()
                    .skip(c)
                    .step_by(cols)
                    .fold(0.0, |a: f64, &b| a.max(b))
            })
            .collect();
        if widths.iter().sum::<f64>() <= width {
            return widths
                .iter()
                .scan(0.0, |x, w| {
                    let left = *x;
                    *x += w;
                    Some(left)
                })
                .collect();
        }
    }
    vec![0.0]
}

/// Draws a [`Figure`] as a complete SVG document.
pub fn render(fig: &Figure, size: PlotSize) -> String {
    let g = size.geometry();
    let font = g.font;
    let all = || fig.series.iter().flat_map(|s| s.points.iter());
    let xs = all().flat_map(|p| {
        let (a, b) = p.x_ci.unwrap_or((p.x, p.x));
        [p.x, a, b]
    });
    let (x_lo, x_hi) = log_range(xs).unwrap_or((1.0, 1000.0));
    let ys = all().flat_map(|p| {
        let (a, b) = p.y_ci.unwrap_or((p.y, p.y));
        [p.y, a, b]
    });
    let (y_lo, y_hi) = log_range(ys).unwrap_or((1e-3, 1.0));
    let zero_row = all().any(|p| p.y <= 0.0 || p.y_ci.is_some_and(|(a, _)| a <= 0.0));

    // Vertical layout.
    let title_h = if g.title { font * 2.6 } else { font * 0.8 };
    let plot_top = title_h;
    let plot_bottom = plot_top + g.plot_height;
    // With a floor row, the scale stops 46 px above the bottom.
    let scale_bottom = if zero_row {
        plot_bottom - 46.0
    } else {
        plot_bottom
    };
    let break_y = plot_bottom - 30.0;
    let zero_y = plot_bottom - 13.0;
    let y_extent = |_: &str| font;
    let y_ticks = log_ticks(y_lo, y_hi, scale_bottom - plot_top, &y_extent, &|v| {
        fig.y_unit.format(v)
    });
    let widest_y = (y_ticks.major.iter())
        .map(|(_, t)| text_width(t, font))
        .fold(text_width("0", font), f64::max);
    let plot_left = font * 1.6 + 10.0 + widest_y + 8.0;
    let plot_right = g.width - 24.0;
    let xs = Scale {
        lo: x_lo,
        hi: x_hi,
        from: plot_left,
        to: plot_right,
    };
    let ys = Scale {
        lo: y_lo,
        hi: y_hi,
        from: scale_bottom,
        to: plot_top,
    };
    let x_ticks = log_ticks(
        x_lo,
        x_hi,
        plot_right - plot_left,
        &|t| text_width(t, font),
        &|v| fig.x_unit.format(v),
    );
    let y_of = |v: f64| if v <= 0.0 { zero_y } else { ys.px(v) };
    let area = Rect(plot_left, plot_top, plot_right, plot_bottom);

    // The legend, in as many columns as fit under the plot.
    let mut legend: Vec<(Option<usize>, String)> = (fig.series.iter().enumerate())
        .filter(|(_, s)| !s.points.is_empty())
        .map(|(i, s)| (Some(i), s.name.clone()))
        .collect();
    if all().any(|p| p.ring) && !fig.ring_legend.is_empty() {
        legend.push((None, fig.ring_legend.clone()));
    }
    let item_w: Vec<f64> = (legend.iter())
        .map(|(_, t)| 34.0 + text_width(t, font) + 18.0)
        .collect();
    let col_x = legend_columns(&item_w, g.width - 2.0 * 16.0);
    let cols = col_x.len();
    let rows = legend.len().div_ceil(cols);
    let row_h = font * 1.7;
    let legend_top = plot_bottom + font * 4.4;
    let height = (legend_top + rows as f64 * row_h + font).ceil();

    let mut s = String::new();
    let (w, h) = (g.width, height);
    let dims = match size {
        PlotSize::Screen => format!("width=\"{w}\" height=\"{h}\""),
        PlotSize::Paper => format!("width=\"{:.2}in\" height=\"{:.2}in\"", w / 96.0, h / 96.0),
    };
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"fdsim-plot\" {dims} viewBox=\"0 0 {w} {h}\" \
         font-family=\"Helvetica, Arial, sans-serif\" font-size=\"{font}\" role=\"img\">"
    );
    let _ = writeln!(s, "<title>{}</title>", escape(&fig.title));
    let _ = writeln!(s, "<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>");
    if g.title {
        let _ = writeln!(
            s,
            "<text class=\"plot-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{:.0}\" font-weight=\"bold\">{}</text>",
            (plot_left + plot_right) / 2.0,
            font * 1.7,
            font * 1.3,
            escape(&fig.title)
        );
    }
    let _ = writeln!(
        s,
        "<rect class=\"plot-area\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#bbbbbb\"/>",
        area.0,
        area.1,
        area.2 - area.0,
        area.3 - area.1
    );
    // The grid: a light line at each labelled tick, nothing at the minor
    // ones (their short marks on the axes are enough).
    s.push_str("<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n");
    for (v, _) in &x_ticks.major {
        let x = xs.px(*v);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{plot_top:.1}\" x2=\"{x:.1}\" y2=\"{plot_bottom:.1}\"/>"
        );
    }
    for (v, _) in &y_ticks.major {
        let y = ys.px(*v);
        let _ = writeln!(
            s,
            "<line x1=\"{plot_left:.1}\" y1=\"{y:.1}\" x2=\"{plot_right:.1}\" y2=\"{y:.1}\"/>"
        );
    }
    s.push_str("</g>\n");
    // Axes: tick marks and labels.
    s.push_str("<g class=\"axis x-axis\" stroke=\"#333333\">\n");
    for v in &x_ticks.minor {
        let x = xs.px(*v);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{plot_bottom:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
            plot_bottom + 3.0
        );
    }
    for (v, t) in &x_ticks.major {
        let x = xs.px(*v);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{plot_bottom:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>\
             <text class=\"tick-label\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" stroke=\"none\" fill=\"#222222\">{}</text>",
            plot_bottom + 6.0,
            plot_bottom + 6.0 + font * 1.1,
            escape(t)
        );
    }
    let _ = writeln!(
        s,
        "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" stroke=\"none\" fill=\"#222222\">{}</text>",
        (plot_left + plot_right) / 2.0,
        plot_bottom + font * 3.0,
        escape(&fig.x_title)
    );
    s.push_str("</g>\n<g class=\"axis y-axis\" stroke=\"#333333\">\n");
    for v in &y_ticks.minor {
        let y = ys.px(*v);
        let _ = writeln!(
            s,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{plot_left:.1}\" y2=\"{y:.1}\"/>",
            plot_left - 3.0
        );
    }
    let mut y_labels: Vec<(f64, String)> = y_ticks
        .major
        .iter()
        .map(|(v, t)| (ys.px(*v), t.clone()))
        .collect();
    if zero_row {
        y_labels.push((zero_y, "0".into()));
    }
    for (y, t) in &y_labels {
        let _ = writeln!(
            s,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{plot_left:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"tick-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" stroke=\"none\" fill=\"#222222\">{}</text>",
            plot_left - 6.0,
            plot_left - 9.0,
            y + font * 0.36,
            escape(t)
        );
    }
    let _ = writeln!(
        s,
        "<text class=\"axis-title\" transform=\"translate({:.1},{:.1}) rotate(-90)\" text-anchor=\"middle\" stroke=\"none\" fill=\"#222222\">{}</text>",
        font * 1.2,
        (plot_top + plot_bottom) / 2.0,
        escape(&fig.y_title)
    );
    s.push_str("</g>\n");
    // Obstacles for point labels: every marker, and the break note.
    let mut taken: Vec<Rect> = Vec::new();
    if zero_row {
        let _ = writeln!(
            s,
            "<g class=\"axis-break\"><line x1=\"{plot_left:.1}\" y1=\"{break_y:.1}\" x2=\"{plot_right:.1}\" y2=\"{break_y:.1}\" \
             stroke=\"#888888\" stroke-dasharray=\"6,4\"/>\
             <path d=\"M{:.1},{:.1}l8,-6M{:.1},{:.1}l8,-6\" stroke=\"#333333\"/>",
            plot_left - 4.0,
            break_y + 1.0,
            plot_left - 4.0,
            break_y + 5.0
        );
        if !fig.zero_note.is_empty() {
            let note_w = text_width(&fig.zero_note, font);
            let nx = plot_right - 6.0;
            let ny = break_y - 5.0;
            taken.push(Rect(nx - note_w, ny - font, nx, ny + 3.0));
            let _ = write!(
                s,
                "<text class=\"note\" x=\"{nx:.1}\" y=\"{ny:.1}\" text-anchor=\"end\" fill=\"#555555\" \
                 paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"3\">{}</text>",
                escape(&fig.zero_note)
            );
        }
        s.push_str("</g>\n");
    }
    // Series: bars, line, markers with tooltips.
    struct Pending {
        x: f64,
        y: f64,
        text: String,
        color: &'static str,
        ring: bool,
    }
    let mut pending: Vec<Pending> = Vec::new();
    for (i, series) in fig.series.iter().enumerate() {
        if series.points.is_empty() {
            continue;
        }
        let (color, text_color, shape) = (
            PALETTE[i % PALETTE.len()],
            TEXT_PALETTE[i % TEXT_PALETTE.len()],
            SHAPES[i % SHAPES.len()],
        );
        let _ = writeln!(
            s,
            "<g class=\"series\" data-series=\"{}\">",
            escape(&series.name)
        );
        // Error bars first, under everything.
        let _ = writeln!(
            s,
            "<g class=\"bars\" stroke=\"{color}\" stroke-opacity=\"0.6\" stroke-width=\"1.2\">"
        );
        for p in &series.points {
            let (x, y) = (xs.px(p.x), y_of(p.y));
            if let Some((a, b)) = p.y_ci {
                let (ya, yb) = (y_of(a), y_of(b));
                let _ = writeln!(
                    s,
                    "<path d=\"M{x:.1},{ya:.1}V{yb:.1}M{:.1},{yb:.1}h6M{:.1},{ya:.1}h6\"/>",
                    x - 3.0,
                    x - 3.0
                );
            }
            if let Some((a, b)) = p
                .x_ci
                .filter(|(a, b)| a.is_finite() && b.is_finite() && *a > 0.0)
            {
                let (xa, xb) = (xs.px(a), xs.px(b));
                let _ = writeln!(
                    s,
                    "<path d=\"M{xa:.1},{y:.1}H{xb:.1}M{xa:.1},{:.1}v6M{xb:.1},{:.1}v6\"/>",
                    y - 3.0,
                    y - 3.0
                );
            }
        }
        s.push_str("</g>\n");
        let mut d = String::new();
        for (k, p) in series.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if k == 0 { "M" } else { "L" },
                xs.px(p.x),
                y_of(p.y)
            );
        }
        let _ = writeln!(
            s,
            "<path class=\"line\" d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\"/>"
        );
        for p in &series.points {
            let (x, y) = (xs.px(p.x), y_of(p.y));
            let r = g.marker;
            taken.push(Rect(x - r - 2.0, y - r - 2.0, x + r + 2.0, y + r + 2.0));
            let fill = if p.y > 0.0 { color } else { "#ffffff" };
            let stroke = if p.y > 0.0 && color != "#F0E442" {
                "#ffffff"
            } else {
                color
            };
            let ring = if p.ring {
                format!(
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{:.1}\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1.3\"/>",
                    r + 4.5
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "<g class=\"point\"><title>{}</title>{ring}<path d=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/></g>",
                escape(&p.tooltip),
                marker_path(shape, x, y, r),
                if p.y > 0.0 { 0.8 } else { 1.8 }
            );
            pending.push(Pending {
                x,
                y,
                text: p.label.clone(),
                color: text_color,
                ring: p.ring,
            });
        }
        s.push_str("</g>\n");
    }
    // Point labels: ringed points first, each at the first spot around its
    // point that is inside the plot and clear of every marker and label.
    pending.sort_by_key(|p| !p.ring);
    s.push_str("<g class=\"point-labels\" font-size=\"12\" paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\">\n");
    let lf = 12.0;
    for p in &pending {
        if p.text.is_empty() {
            continue;
        }
        let tw = text_width(&p.text, lf);
        let off = g.marker + 3.0;
        // (left edge, baseline) candidates: NE, SE, NW, SW, E, W, N, S.
        let spots = [
            (p.x + off, p.y - off),
            (p.x + off, p.y + off + lf * 0.8),
            (p.x - off - tw, p.y - off),
            (p.x - off - tw, p.y + off + lf * 0.8),
            (p.x + off + 2.0, p.y + lf * 0.35),
            (p.x - off - 2.0 - tw, p.y + lf * 0.35),
            (p.x - tw / 2.0, p.y - off - 3.0),
            (p.x - tw / 2.0, p.y + off + lf + 1.0),
        ];
        let placed = spots.iter().find_map(|&(lx, base)| {
            let b = Rect(lx - 1.0, base - lf * 0.85, lx + tw + 1.0, base + lf * 0.25);
            (b.inside(&area) && !taken.iter().any(|o| o.overlaps(&b))).then_some((lx, base, b))
        });
        if let Some((lx, base, b)) = placed {
            taken.push(b);
            let _ = writeln!(
                s,
                "<text class=\"point-label\" x=\"{lx:.1}\" y=\"{base:.1}\" fill=\"{}\">{}</text>",
                p.color,
                escape(&p.text)
            );
        }
    }
    s.push_str("</g>\n");
    // The legend, below the axis title, outside the data.
    let _ = writeln!(s, "<g class=\"legend\">");
    for (k, (series, name)) in legend.iter().enumerate() {
        let (col, row) = (k % cols, k / cols);
        let lx = 16.0 + col_x[col];
        let ly = legend_top + row as f64 * row_h;
        match series {
            Some(i) => {
                let color = PALETTE[i % PALETTE.len()];
                let _ = write!(
                    s,
                    "<path d=\"M{lx:.1},{ly:.1}h26\" stroke=\"{color}\" stroke-width=\"1.8\"/>\
                     <path d=\"{}\" fill=\"{color}\" stroke=\"#ffffff\" stroke-width=\"0.8\"/>",
                    marker_path(SHAPES[i % SHAPES.len()], lx + 13.0, ly, g.marker)
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{ly:.1}\" r=\"{:.1}\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1.3\"/>",
                    lx + 13.0,
                    g.marker + 4.5
                );
            }
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            lx + 34.0,
            ly + font * 0.36,
            escape(name)
        );
    }
    s.push_str("</g>\n</svg>\n");
    s
}

/// The trade-off figure of one scenario.
pub fn tradeoff_figure(res: &ScenarioResult, points: &[CurvePoint]) -> Figure {
    let sc = &res.scenario;
    let series = (sc.series().into_iter().enumerate())
        .map(|(d, cfg)| {
            let mut mine: Vec<&CurvePoint> = (points.iter())
                .filter(|p| p.detector == d && p.detection_ms.is_some())
                .filter(|p| p.mistakes_per_hour.is_some())
                .collect();
            mine.sort_by(|a, b| a.value.total_cmp(&b.value));
            let name = match cfg.protocol {
                None => format!("{} ({})", cfg.label, cfg.param),
                Some(_) => format!("{} ({}; protocol)", cfg.label, cfg.param),
            };
            let points = mine
                .into_iter()
                .map(|p| {
                    let (dm, dlo, dhi) = p.detection_ms.expect("filtered");
                    let (r, lo, hi) = p.mistakes_per_hour.expect("filtered");
                    let value = cfg.unit.format(p.value);
                    PlotPoint {
                        x: dm,
                        x_ci: (dlo.is_finite() && dhi.is_finite()).then_some((dlo, dhi)),
                        y: r,
                        y_ci: Some((lo, hi)),
                        label: value.clone(),
                        tooltip: tooltip(cfg.label, cfg.param, &value, p),
                        ring: p.pareto,
                    }
                })
                .collect();
            PlotSeries { name, points }
        })
        .collect();
    Figure {
        title: format!("{}: detection time vs false positives", sc.name),
        x_title: if sc.protocols.is_empty() {
            "mean detection time (log scale; bars: 95 % CI)".into()
        } else {
            "mean detection time; protocols: to the first Dead (log scale; bars: 95 % CI)".into()
        },
        x_unit: AxisUnit::Millis,
        y_title: if sc.protocols.is_empty() {
            "mistakes per hour of up time (log scale)".into()
        } else {
            "mistakes per hour; protocols: false Dead per member-hour (log)".into()
        },
        y_unit: AxisUnit::Number,
        series,
        ring_legend: "Pareto front (no point is better on both axes)".into(),
        zero_note: "below the break: no mistakes observed".into(),
    }
}

/// A point's exact figures, for its tooltip.
fn tooltip(label: &str, param: &str, value: &str, p: &CurvePoint) -> String {
    let ms = |v: f64| format!("{} ms", number_text((v * 1000.0).round() / 1000.0));
    let mut t = format!("{label}, {param} = {value}\nT_D mean ");
    if let Some((m, lo, hi)) = p.detection_ms {
        t.push_str(&ms(m));
        if lo.is_finite() && hi.is_finite() {
            let _ = write!(t, " [95 % CI {}, {}]", ms(lo), ms(hi));
        }
        if p.summary.detection_mean_restricted() {
            t.push_str(" (at least: censored crashes)");
        }
    }
    if let Some(p99) = p.summary.detection_percentile(99.0) {
        let _ = write!(t, "\nT_D p99 {}", ms(p99.as_millis_f64()));
    }
    if let Some((r, lo, hi)) = p.mistakes_per_hour {
        let _ = write!(
            t,
            "\nmistakes/h {} [95 % CI {}, {}] ({} mistakes)",
            number_text(r),
            number_text(lo),
            number_text(hi),
            p.summary.mistakes
        );
    }
    if p.pareto {
        t.push_str("\non the Pareto front");
    }
    t
}

/// Renders the trade-off plot of one scenario as an SVG document.
pub fn tradeoff_svg(res: &ScenarioResult, points: &[CurvePoint], size: PlotSize) -> String {
    render(&tradeoff_figure(res, points), size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ticks(lo: f64, hi: f64, length: f64, unit: AxisUnit, vertical: bool) -> Ticks {
        let ext = |t: &str| if vertical { 13.0 } else { text_width(t, 13.0) };
        log_ticks(lo, hi, length, &ext, &|v| unit.format(v))
    }

    fn labels(t: &Ticks) -> Vec<&str> {
        t.major.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn a_range_of_several_decades_is_labelled_at_each_decade_only() {
        let t = ticks(0.0008, 20.0, 440.0, AxisUnit::Number, true);
        assert_eq!(labels(&t), ["0.001", "0.01", "0.1", "1", "10"]);
        assert!(t.minor.contains(&0.002) && t.minor.contains(&9.0), "{t:?}");
    }

    #[test]
    fn the_range_9000_to_11000_ms_gets_distinct_labels_that_do_not_touch() {
        // The old plot wrote "10000" twice and ran "9000" into it.
        let t = ticks(9000.0, 11000.0, 800.0, AxisUnit::Millis, false);
        let l = labels(&t);
        assert!(l.len() >= 3, "{l:?}");
        let mut sorted = l.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), l.len(), "{l:?}");
        assert!(l.contains(&"10 s"), "{l:?}");
    }

    #[test]
    fn a_narrow_range_gets_intermediate_labels() {
        let t = ticks(30.0, 400.0, 800.0, AxisUnit::Millis, false);
        assert_eq!(labels(&t), ["100 ms", "200 ms", "300 ms", "400 ms"]);
        let t = ticks(30.0, 400.0, 400.0, AxisUnit::Millis, false);
        assert_eq!(labels(&t), ["50 ms", "100 ms", "200 ms"]);
        let t = ticks(30.0, 400.0, 300.0, AxisUnit::Number, true);
        assert!(labels(&t).len() >= 3, "{t:?}");
    }

    #[test]
    fn too_many_decades_for_the_axis_are_thinned_not_overlapped() {
        let t = ticks(1e-6, 1e9, 120.0, AxisUnit::Number, false);
        assert!(t.major.len() >= 2, "{t:?}");
        assert!(t.minor.is_empty());
    }

    #[test]
    fn tick_labels_read_as_people_write_numbers() {
        assert_eq!(AxisUnit::Millis.format(0.5), "0.5 ms");
        assert_eq!(AxisUnit::Millis.format(200.0), "200 ms");
        assert_eq!(AxisUnit::Millis.format(2000.0), "2 s");
        assert_eq!(AxisUnit::Number.format(0.0001), "0.0001");
        assert_eq!(AxisUnit::Number.format(30000.0), "30k");
        assert_eq!(AxisUnit::Number.format(1e6), "1M");
    }

    #[test]
    fn names_are_escaped_in_the_svg() {
        let fig = Figure {
            title: "a<b & \"c\"".into(),
            x_title: "x".into(),
            x_unit: AxisUnit::Millis,
            y_title: "y".into(),
            y_unit: AxisUnit::Number,
            series: vec![PlotSeries {
                name: "<script>".into(),
                points: vec![PlotPoint {
                    x: 10.0,
                    x_ci: None,
                    y: 0.0,
                    y_ci: Some((0.0, 0.5)),
                    label: "1&2".into(),
                    tooltip: "t<".into(),
                    ring: true,
                }],
            }],
            ring_legend: "ring".into(),
            zero_note: "zero".into(),
        };
        let svg = render(&fig, PlotSize::Screen);
        assert!(!svg.contains("<script>") && !svg.contains("a<b"), "{svg}");
        assert!(svg.contains("&lt;script&gt;") && svg.contains("1&amp;2"));
        assert!(svg.contains(">0</text>"), "the floor row is labelled 0");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Over any range and axis length: labels distinct, inside the
        /// range, increasing, clear of each other, at least two whenever
        /// two fit, and every decade labelled when decades are far enough
        /// apart for their labels.
        #[test]
        fn tick_labels_never_repeat_or_overlap(
            lo_exp in -5.0f64..6.0,
            span in 0.18f64..9.0,
            length in 120.0f64..1000.0,
            vertical: bool,
            millis: bool,
        ) {
            let lo = math::powf(10.0, lo_exp);
            let hi = lo * math::powf(10.0, span);
            let unit = if millis { AxisUnit::Millis } else { AxisUnit::Number };
            let t = ticks(lo, hi, length, unit, vertical);
            let ext = |s: &str| if vertical { 13.0 } else { text_width(s, 13.0) };
            let px = |v: f64| math::log10(v / lo) / span * length;
            for w in t.major.windows(2) {
                prop_assert!(w[0].0 < w[1].0, "{:?}", t);
                prop_assert!(w[0].1 != w[1].1, "{:?}", t);
                let gap = px(w[1].0) - px(w[0].0);
                prop_assert!(gap >= (ext(&w[0].1) + ext(&w[1].1)) / 2.0 + TICK_GAP, "{:?}", t);
            }
            let mut all: Vec<&str> = labels(&t);
            all.sort();
            all.dedup();
            prop_assert_eq!(all.len(), t.major.len());
            for (v, _) in &t.major {
                prop_assert!(*v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9));
            }
            prop_assert!(!t.major.is_empty(), "{:?}", t);
            let decades = decade_ticks(lo, hi, &[1.0], 1);
            let texts: Vec<String> = decades.iter().map(|&d| unit.format(d)).collect();
            let pos: Vec<f64> = decades.iter().map(|&d| px(d)).collect();
            let ext_d: Vec<f64> = texts.iter().map(|t| ext(t)).collect();
            if fits(&pos, &ext_d) {
                for d in decades {
                    prop_assert!(t.major.iter().any(|(v, _)| *v == d), "decade {} missing: {:?}", d, t);
                }
            }
            if span < 1.0 && length >= 400.0 {
                prop_assert!(t.major.len() >= 2, "{:?}", t);
            }
        }
    }
}
