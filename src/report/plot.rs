//! The trade-off plot: mean detection time (x) against mistakes per hour
//! (y, log scale) with one line per detector, 95 % confidence bars, each
//! point labelled with its parameter value, and the Pareto front marked.
//!
//! A log axis has no zero, and "no mistakes observed" is the most
//! important result a sweep can give, so zero rates are drawn honestly on
//! a floor row one decade below the smallest positive figure, with hollow
//! markers, a dashed axis break above it and the tick there labelled "0".

use crate::math;
use crate::metrics::curve::CurvePoint;
use crate::run::ScenarioResult;
use plotters::prelude::*;

const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
];

/// Where zero and the top of the y axis go.
#[derive(Clone, Copy, Debug, PartialEq)]
struct YAxis {
    floor: f64,
    top: f64,
}

impl YAxis {
    fn for_points(points: &[&CurvePoint]) -> YAxis {
        let positive = points
            .iter()
            .filter_map(|p| p.mistakes_per_hour)
            .flat_map(|(r, lo, hi)| [r, lo, hi])
            .filter(|v| *v > 0.0);
        let (min, max) = positive.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        if !min.is_finite() {
            return YAxis {
                floor: 1e-3,
                top: 1.0,
            };
        }
        YAxis {
            floor: math::powf(10.0, math::log10(min).floor() - 1.0),
            top: math::powf(10.0, math::log10(max).ceil()).max(min * 10.0),
        }
    }

    /// A rate clamped onto the plot: zero goes to the floor row.
    fn y(&self, rate: f64) -> f64 {
        rate.max(self.floor)
    }

    /// The axis break: halfway (in log terms) between the floor row and
    /// the next decade.
    fn break_line(&self) -> f64 {
        self.floor * 10f64.sqrt()
    }
}

/// A point label waiting to be placed.
struct Label {
    x: f64,
    y: f64,
    text: String,
    color: RGBColor,
    priority: u8,
}

/// The x range: a little beyond the smallest and largest mean detection
/// times and their intervals, never below 0.1 ms (a log axis has no 0).
fn x_range(points: &[&CurvePoint]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = 0.0f64;
    for (m, l, h) in points.iter().filter_map(|p| p.detection_ms) {
        lo = lo.min(if l.is_finite() { l } else { m });
        hi = hi.max(if h.is_finite() { h } else { m });
    }
    if !lo.is_finite() {
        return (1.0, 1000.0);
    }
    let lo = (lo / 1.25).max(0.1);
    (lo, (hi * 1.25).max(lo * 10.0))
}

/// A tick value as a plain decimal: `100`, `1`, `0.01`, `0.0001`.
fn decimal(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let digits = (-math::log10(v)).ceil().max(0.0) as usize;
        format!("{v:.digits$}")
    }
}

/// Renders the trade-off plot of one scenario as an SVG document.
pub fn tradeoff_svg(res: &ScenarioResult, points: &[CurvePoint]) -> Result<String, String> {
    let sc = &res.scenario;
    let drawable: Vec<&CurvePoint> = points
        .iter()
        .filter(|p| p.detection_ms.is_some() && p.mistakes_per_hour.is_some())
        .collect();
    let axis = YAxis::for_points(&drawable);
    // Detection time on a log axis too: sweeps span decades, and equal
    // ratios (twice as fast) matter more than equal differences.
    let (x_min, x_max) = x_range(&drawable);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let caption = format!("{}: detection time vs false positives", sc.name);
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(76)
            .build_cartesian_2d(
                (x_min..x_max).log_scale(),
                (axis.floor / 2.0..axis.top).log_scale(),
            )
            .map_err(|e| e.to_string())?;
        let floor = axis.floor;
        chart
            .configure_mesh()
            .x_desc(if sc.protocols.is_empty() {
                "mean detection time, ms (log; bars: 95% CI)"
            } else {
                "mean detection time (protocols: to the first Dead), ms (log; bars: 95% CI)"
            })
            .x_label_formatter(&|v| decimal(*v))
            .y_desc(if sc.protocols.is_empty() {
                "mistakes per hour of up time (log; bars: 95% CI)"
            } else {
                "mistakes per hour; protocols: false Dead per member-hour (log)"
            })
            .y_label_formatter(&|v| {
                if (v / floor - 1.0).abs() < 1e-9 {
                    "0".to_string()
                } else {
                    decimal(*v)
                }
            })
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())?;
        let dashed = |y: f64| {
            let ratio = math::powf(x_max / x_min, 1.0 / 80.0);
            (0..40).map(move |i| {
                let a = x_min * math::powf(ratio, (2 * i) as f64);
                PathElement::new(vec![(a, y), (a * ratio, y)], BLACK.mix(0.5))
            })
        };
        chart
            .draw_series(dashed(axis.break_line()))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                "axis break: points below had no mistakes",
                (
                    x_min * math::powf(x_max / x_min, 0.01),
                    axis.break_line() * 0.82,
                ),
                ("sans-serif", 12).into_font().color(&BLACK.mix(0.6)),
            )))
            .map_err(|e| e.to_string())?;
        let mut labels: Vec<Label> = Vec::new();
        for (d, cfg) in sc.series().into_iter().enumerate() {
            let color = PALETTE[d % PALETTE.len()];
            let mut mine: Vec<&&CurvePoint> = drawable.iter().filter(|p| p.detector == d).collect();
            mine.sort_by(|a, b| a.value.total_cmp(&b.value));
            if mine.is_empty() {
                continue;
            }
            let xy = |p: &CurvePoint| {
                let (dm, _, _) = p.detection_ms.expect("drawable");
                let (r, _, _) = p.mistakes_per_hour.expect("drawable");
                (dm, axis.y(r))
            };
            chart
                .draw_series(LineSeries::new(
                    mine.iter().map(|p| xy(p)),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(match cfg.protocol {
                    None => format!("{} ({})", cfg.label, cfg.param),
                    Some(_) => format!("{} ({}; protocol)", cfg.label, cfg.param),
                })
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            for p in &mine {
                let (x, y) = xy(p);
                let (_, dlo, dhi) = p.detection_ms.expect("drawable");
                let (r, lo, hi) = p.mistakes_per_hour.expect("drawable");
                let bar = color.mix(0.55).stroke_width(1);
                let mut bars = vec![PathElement::new(
                    vec![(x, axis.y(lo)), (x, axis.y(hi))],
                    bar,
                )];
                if dlo.is_finite() && dhi.is_finite() {
                    bars.push(PathElement::new(vec![(dlo, y), (dhi, y)], bar));
                }
                chart.draw_series(bars).map_err(|e| e.to_string())?;
                let marker = if r > 0.0 {
                    Circle::new((x, y), 4, color.filled())
                } else {
                    Circle::new((x, y), 4, color.stroke_width(2))
                };
                chart
                    .draw_series(std::iter::once(marker))
                    .map_err(|e| e.to_string())?;
                labels.push(Label {
                    x,
                    y,
                    text: cfg.unit.format(p.value),
                    color,
                    priority: if p.pareto { 0 } else { 1 },
                });
            }
        }
        // Labels last, Pareto points first, each only where it does not
        // cover one already placed: a legible subset beats an unreadable
        // pile. Every value is in report.md and curve.csv anyway.
        labels.sort_by_key(|l| l.priority);
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        for l in labels {
            let (px, py) = chart.backend_coord(&(l.x, l.y));
            let w = 6 * l.text.chars().count() as i32;
            let b = (px + 4, py - 16, px + 8 + w, py - 2);
            if placed
                .iter()
                .any(|o| b.0 < o.2 && o.0 < b.2 && b.1 < o.3 && o.1 < b.3)
            {
                continue;
            }
            placed.push(b);
            let text = EmptyElement::at((l.x, l.y))
                + Text::new(
                    l.text,
                    (6, -15),
                    ("sans-serif", 11).into_font().color(&l.color),
                );
            chart
                .draw_series(std::iter::once(text))
                .map_err(|e| e.to_string())?;
        }
        let mut front: Vec<(f64, f64)> = drawable
            .iter()
            .filter(|p| p.pareto)
            .map(|p| {
                (
                    p.detection_ms.expect("drawable").0,
                    axis.y(p.mistakes_per_hour.expect("drawable").0),
                )
            })
            .collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(
                front
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 8, BLACK.stroke_width(1))),
            )
            .map_err(|e| e.to_string())?
            .label("Pareto front (no point is better on both axes)")
            .legend(|(x, y)| Circle::new((x + 9, y), 6, BLACK.stroke_width(1)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rates_sit_a_decade_below_the_smallest_positive_figure() {
        let a = YAxis {
            floor: 1e-3,
            top: 10.0,
        };
        assert_eq!(a.y(0.0), 1e-3);
        assert_eq!(a.y(0.5), 0.5);
        assert!(a.break_line() > a.floor && a.break_line() < 10.0 * a.floor);
        assert_eq!(decimal(100.0), "100");
        assert_eq!(decimal(0.01), "0.01");
        assert_eq!(decimal(0.0001), "0.0001");
    }
}
