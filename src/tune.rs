//! The tuner: for each detector, the parameter value with the lowest mean
//! detection time whose mistake rate meets a budget with 95 % confidence.
//!
//! It starts from the scenario's declared sweep and refines around the
//! frontier: between the fastest value that meets the budget and the
//! largest faster value that does not, it scores a finer grid, a few
//! rounds over. If nothing meets the budget it tries larger values before
//! it gives up, and then says why (too many mistakes observed, or too
//! little simulated up time to certify so small a rate). The swept
//! parameter of every pairwise detector trades mistakes for detection time
//! monotonically, which is what makes this search sound.

use crate::detector::ParamUnit;
use crate::math;
use crate::metrics::curve::CurvePoint;
use crate::report::curve_points;
use crate::run::run_all;
use crate::scenario::Scenario;
use serde::Serialize;

/// How hard the tuner searches.
#[derive(Clone, Copy, Debug)]
pub struct TuneOptions {
    /// Mistakes per hour of up time that the 95 % upper bound must meet.
    pub budget: f64,
    /// Refinement rounds after the declared grid.
    pub rounds: usize,
    /// New values per refinement round.
    pub points_per_round: usize,
    /// Worker threads.
    pub jobs: usize,
}

impl TuneOptions {
    pub fn new(budget: f64, jobs: usize) -> TuneOptions {
        TuneOptions {
            budget,
            rounds: 4,
            points_per_round: 8,
            jobs,
        }
    }
}

/// The tuner's answer for one detector.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TuneResult {
    pub detector: String,
    pub kind: String,
    pub param: String,
    pub param_unit: String,
    /// True when a value meets the budget with 95 % confidence.
    pub found: bool,
    /// The chosen value in display units (ms for durations).
    pub value: Option<f64>,
    /// The chosen value as a scenario file would write it.
    pub value_text: Option<String>,
    pub detection_ms_mean: Option<f64>,
    pub detection_ms_mean_lo95: Option<f64>,
    pub detection_ms_mean_hi95: Option<f64>,
    pub detection_ms_p99: Option<f64>,
    pub mistakes_per_hour: Option<f64>,
    pub mistakes_per_hour_hi95: Option<f64>,
    pub up_hours: f64,
    /// Values scored in all.
    pub evaluated: usize,
    /// Why nothing was found, or a note on the result.
    pub note: String,
}

fn passes(p: &CurvePoint, budget: f64) -> bool {
    p.summary.undetected == 0 && p.detection_ms.is_some() && p.certified_within(budget)
}

/// Scores `values` of detector `d` of `sc` over all its seeds.
fn score_values(
    sc: &Scenario,
    d: usize,
    values: &[f64],
    jobs: usize,
) -> Result<Vec<CurvePoint>, String> {
    let mut one = sc.clone();
    let mut cfg = sc.detectors[d].clone();
    cfg.values = values.to_vec();
    one.detectors = vec![cfg];
    one.protocols = Vec::new();
    let res = run_all(vec![one], jobs, &|_, _| {}).map_err(|e| e.to_string())?;
    Ok(curve_points(&res[0]))
}

/// About `n` evenly spaced values strictly between `lo` and `hi`, rounded
/// to a power of ten no coarser than the spacing (so a refined timeout
/// reads `197ms`, not `197.312841ms`), without duplicates.
fn between(lo: f64, hi: f64, n: usize, unit: ParamUnit) -> Vec<f64> {
    let step = (hi - lo) / (n + 1) as f64;
    let mut res = math::powf(10.0, math::log10(step).floor());
    if unit != ParamUnit::Number {
        res = res.max(1.0);
    }
    let mut out: Vec<f64> = (1..=n)
        .map(|i| ((lo + step * i as f64) / res).round() * res)
        .filter(|&v| v > lo && v < hi)
        .collect();
    out.dedup();
    out
}

/// Tunes every detector of `sc` (or only the one labelled `only`).
pub fn tune(
    sc: &Scenario,
    only: Option<&str>,
    opts: TuneOptions,
) -> Result<Vec<TuneResult>, String> {
    if sc.detectors.is_empty() {
        return Err(format!(
            "scenario {} has no [[detectors]]; fdsim tune tunes pairwise detectors (for \
             [[protocols]], read clusters.csv from fdsim run)",
            sc.name
        ));
    }
    let chosen: Vec<usize> = (0..sc.detectors.len())
        .filter(|&d| {
            only.is_none_or(|n| sc.detectors[d].label == n || sc.detectors[d].kind.name == n)
        })
        .collect();
    if chosen.is_empty() {
        let labels: Vec<&str> = sc.detectors.iter().map(|d| d.label.as_str()).collect();
        return Err(format!(
            "scenario {} has no detector named \"{}\"; it has: {}",
            sc.name,
            only.unwrap_or(""),
            labels.join(", ")
        ));
    }
    chosen.into_iter().map(|d| tune_one(sc, d, opts)).collect()
}

fn tune_one(sc: &Scenario, d: usize, opts: TuneOptions) -> Result<TuneResult, String> {
    let cfg = &sc.detectors[d];
    let spec = cfg.kind.swept;
    let mut seen: Vec<CurvePoint> = score_values(sc, d, &cfg.values, opts.jobs)?;
    let add = |seen: &mut Vec<CurvePoint>, values: Vec<f64>| -> Result<(), String> {
        let fresh: Vec<f64> = values
            .into_iter()
            .filter(|v| spec.check(*v).is_ok() && !seen.iter().any(|p| p.value == *v))
            .collect();
        if !fresh.is_empty() {
            seen.extend(score_values(sc, d, &fresh, opts.jobs)?);
        }
        Ok(())
    };
    // Nothing passes: look further out, doubling the largest value.
    for _ in 0..3 {
        if seen.iter().any(|p| passes(p, opts.budget)) {
            break;
        }
        let top = seen.iter().map(|p| p.value).fold(f64::MIN, f64::max);
        let step = if top > 0.0 { top } else { 1.0 };
        add(&mut seen, vec![top + step, top + 3.0 * step])?;
    }
    for _ in 0..opts.rounds {
        let Some(best) = best_passing(&seen, opts.budget) else {
            break;
        };
        let below = seen
            .iter()
            .filter(|p| p.value < best.value)
            .map(|p| p.value)
            .fold(f64::NEG_INFINITY, f64::max);
        let lo = if below.is_finite() {
            below
        } else if spec.min_inclusive {
            spec.min
        } else {
            spec.min.max(best.value - best.value.abs().max(1.0))
        };
        let grid = between(lo, best.value, opts.points_per_round, spec.unit);
        if grid.is_empty() {
            break;
        }
        add(&mut seen, grid)?;
    }
    Ok(describe(sc, d, &seen, opts.budget))
}

fn best_passing(seen: &[CurvePoint], budget: f64) -> Option<CurvePoint> {
    seen.iter()
        .filter(|p| passes(p, budget))
        .min_by(|a, b| {
            let (da, db) = (
                a.detection_ms.map_or(f64::MAX, |x| x.0),
                b.detection_ms.map_or(f64::MAX, |x| x.0),
            );
            da.total_cmp(&db).then(a.value.total_cmp(&b.value))
        })
        .cloned()
}

fn describe(sc: &Scenario, d: usize, seen: &[CurvePoint], budget: f64) -> TuneResult {
    let cfg = &sc.detectors[d];
    let unit = cfg.kind.swept.unit;
    let up_hours = seen
        .first()
        .map_or(0.0, |p| p.summary.up_time.as_hours_f64());
    let mut r = TuneResult {
        detector: cfg.label.clone(),
        kind: cfg.kind.name.to_string(),
        param: cfg.kind.swept.name.to_string(),
        param_unit: unit.column_unit().to_string(),
        found: false,
        value: None,
        value_text: None,
        detection_ms_mean: None,
        detection_ms_mean_lo95: None,
        detection_ms_mean_hi95: None,
        detection_ms_p99: None,
        mistakes_per_hour: None,
        mistakes_per_hour_hi95: None,
        up_hours,
        evaluated: seen.len(),
        note: String::new(),
    };
    match best_passing(seen, budget) {
        Some(p) => {
            let (m, lo, hi) = p.detection_ms.expect("passing points have detections");
            let (rate, _, rhi) = p.mistakes_per_hour.expect("passing points have up time");
            r.found = true;
            r.value = Some(unit.display_value(p.value));
            r.value_text = Some(unit.format(p.value));
            r.detection_ms_mean = Some(m);
            r.detection_ms_mean_lo95 = Some(lo).filter(|x| x.is_finite());
            r.detection_ms_mean_hi95 = Some(hi).filter(|x| x.is_finite());
            r.detection_ms_p99 = p
                .summary
                .detection_percentile(99.0)
                .map(|n| n.as_millis_f64());
            r.mistakes_per_hour = Some(rate);
            r.mistakes_per_hour_hi95 = Some(rhi);
            r.note = format!(
                "{} mistakes in {up_hours:.0} h of up time",
                p.summary.mistakes
            );
        }
        None => r.note = why_none(seen, budget, up_hours, unit),
    }
    r
}

fn why_none(seen: &[CurvePoint], budget: f64, up_hours: f64, unit: ParamUnit) -> String {
    let floor = -math::ln(0.025) / up_hours.max(1e-12);
    if floor > budget {
        return format!(
            "{up_hours:.0} h of simulated up time cannot certify {budget} mistakes/h: even zero \
             mistakes only bounds the rate by {floor:.3}/h at 95 %; run at least {:.0} h \
             (more seeds or a longer duration)",
            -math::ln(0.025) / budget
        );
    }
    let Some(top) = seen.iter().max_by(|a, b| a.value.total_cmp(&b.value)) else {
        return "no value could be scored".into();
    };
    if top.summary.undetected > 0 {
        return format!(
            "the largest value tried, {}, leaves {} crash(es) undetected before the restart; \
             smaller values make too many mistakes",
            unit.format(top.value),
            top.summary.undetected
        );
    }
    let (rate, _, hi) = top
        .mistakes_per_hour
        .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
    format!(
        "even the largest value tried, {}, makes {} mistakes ({rate:.3}/h, 95 % upper bound \
         {hi:.3}/h > {budget}/h)",
        unit.format(top.value),
        top.summary.mistakes
    )
}

/// The tuner's answer as a readable table.
pub fn render(sc: &Scenario, budget: f64, results: &[TuneResult]) -> String {
    let mut out = format!(
        "{}: fastest setting with at most {budget} mistakes/h at 95 % confidence ({} seeds × {})\n\n",
        sc.name,
        sc.seeds.len(),
        sc.duration
    );
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}ms"));
    for r in results {
        match (&r.value_text, r.found) {
            (Some(v), true) => out.push_str(&format!(
                "  {:<14} {}={:<10} T_D mean {} [{}, {}], p99 {}; mistakes/h {:.4} (95 % upper {:.4}); {} values tried\n",
                r.detector,
                r.param,
                v,
                ms(r.detection_ms_mean),
                ms(r.detection_ms_mean_lo95),
                ms(r.detection_ms_mean_hi95),
                ms(r.detection_ms_p99),
                r.mistakes_per_hour.unwrap_or(f64::NAN),
                r.mistakes_per_hour_hi95.unwrap_or(f64::NAN),
                r.evaluated
            )),
            _ => out.push_str(&format!(
                "  {:<14} no setting meets the budget: {} ({} values tried)\n",
                r.detector, r.note, r.evaluated
            )),
        }
    }
    let best = results.iter().filter(|r| r.found).min_by(|a, b| {
        a.detection_ms_mean
            .unwrap_or(f64::MAX)
            .total_cmp(&b.detection_ms_mean.unwrap_or(f64::MAX))
    });
    match best {
        Some(b) => out.push_str(&format!(
            "\nbest: {} with {} = {} (mean detection {:.1} ms)\n",
            b.detector,
            b.param,
            b.value_text.as_deref().unwrap_or("?"),
            b.detection_ms_mean.unwrap_or(f64::NAN)
        )),
        None => out.push_str("\nno detector meets the budget\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refined_values_are_round_and_strictly_inside() {
        let v = between(190e6, 200e6, 8, ParamUnit::Duration);
        assert_eq!(v.first(), Some(&191e6));
        assert!(
            v.iter().all(|x| x % 1e6 == 0.0 && *x > 190e6 && *x < 200e6),
            "{v:?}"
        );
        let w = between(0.5, 0.51, 8, ParamUnit::Number);
        assert!(w.iter().all(|x| *x > 0.5 && *x < 0.51), "{w:?}");
        assert!(between(5.0, 6.0, 8, ParamUnit::Duration).is_empty());
    }
}
