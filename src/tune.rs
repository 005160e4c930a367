//! The tuner answers an operator's two questions for each detector: the
//! fastest setting (lowest mean detection time) whose mistake rate meets a
//! budget with 95 % confidence, or the setting with the fewest mistakes
//! per hour whose mean detection time meets a deadline; either within a
//! budget on heartbeat messages per monitored pair per second.
//!
//! It starts from the scenario's declared sweep and refines around the
//! frontier: between the best value that meets the budget and the nearest
//! value on the other side that does not, it scores a finer grid, a few
//! rounds over. If nothing meets the budget it tries values further out
//! before it gives up, and then says why. The swept parameter of every
//! pairwise detector trades mistakes for detection time monotonically,
//! which is what makes this search sound.
//!
//! With `--certify` ([`certify`]) the chosen setting is then confirmed on
//! fresh seeds, batch by batch, by a sequential test whose 95 % holds
//! however many batches it looks at.

pub mod certify;

use crate::detector::ParamUnit;
use crate::math;
use crate::metrics::curve::CurvePoint;
use crate::report::curve_points;
use crate::run::{cost_per_pair_second, run_all};
use crate::scenario::Scenario;
use serde::Serialize;

/// What the tuner optimises, under which budget.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// The lowest mean detection time whose mistakes per hour meet this
    /// budget with 95 % confidence (the upper end of the rate's interval).
    FastestWithin { max_mistakes_per_hour: f64 },
    /// The fewest mistakes per hour (observed; ties go to the faster
    /// setting) whose mean detection time, in ms, is at most this.
    FewestMistakesWithin { max_detection_ms: f64 },
}

/// How hard the tuner searches, and what it must respect.
#[derive(Clone, Copy, Debug)]
pub struct TuneOptions {
    pub goal: Goal,
    /// Heartbeat messages per monitored pair per second, at most.
    pub max_messages_per_second: Option<f64>,
    /// Confirm the answer on fresh seeds with at most this many batches
    /// ([`certify`]); only with [`Goal::FastestWithin`].
    pub certify_batches: Option<usize>,
    /// Refinement rounds after the declared grid.
    pub rounds: usize,
    /// New values per refinement round.
    pub points_per_round: usize,
    /// Worker threads.
    pub jobs: usize,
}

impl TuneOptions {
    /// The fastest setting within `budget` mistakes per hour.
    pub fn new(budget: f64, jobs: usize) -> TuneOptions {
        TuneOptions::for_goal(
            Goal::FastestWithin {
                max_mistakes_per_hour: budget,
            },
            jobs,
        )
    }

    pub fn for_goal(goal: Goal, jobs: usize) -> TuneOptions {
        TuneOptions {
            goal,
            max_messages_per_second: None,
            certify_batches: None,
            rounds: 4,
            points_per_round: 8,
            jobs,
        }
    }
}

/// The outcome of `--certify` for one detector.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Certification {
    pub verdict: certify::Verdict,
    /// The value the verdict is about, as a scenario file writes it.
    pub value_text: String,
    /// Mistakes and up hours on the fresh seeds of that value.
    pub mistakes: u64,
    pub up_hours: f64,
    /// One-sided bounds of the rate at the per-look level α/K.
    pub mistakes_per_hour_lo: f64,
    pub mistakes_per_hour_hi: f64,
    /// Looks (batches) used in all, of the `max_batches` allowed.
    pub batches: usize,
    pub max_batches: usize,
    /// Every fresh seed simulated, in order, over all values tried.
    pub seeds: Vec<u64>,
    /// Values shown unreachable on the way, as written.
    pub rejected: Vec<String>,
}

/// The tuner's answer for one detector.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TuneResult {
    pub detector: String,
    pub kind: String,
    pub param: String,
    pub param_unit: String,
    /// True when a value meets the budget (with 95 % confidence for a
    /// mistake budget).
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
    /// Heartbeat messages and bytes per monitored pair per second.
    pub messages_per_pair_s: Option<f64>,
    pub bytes_per_pair_s: Option<f64>,
    pub up_hours: f64,
    /// Values scored in all.
    pub evaluated: usize,
    /// Why nothing was found, or a note on the result.
    pub note: String,
    /// The sequential confirmation on fresh seeds, with `--certify`.
    pub certification: Option<Certification>,
}

fn passes(p: &CurvePoint, goal: Goal) -> bool {
    if p.summary.undetected > 0 || p.detection_ms.is_none() {
        return false;
    }
    match goal {
        Goal::FastestWithin {
            max_mistakes_per_hour,
        } => p.certified_within(max_mistakes_per_hour),
        Goal::FewestMistakesWithin { max_detection_ms } => {
            p.mistakes_per_hour.is_some() && p.detection_ms.is_some_and(|d| d.0 <= max_detection_ms)
        }
    }
}

/// One scored set of values: the curve points and the heartbeat cost.
struct Scored {
    points: Vec<CurvePoint>,
    cost: Option<(f64, f64)>,
}

/// Scores `values` of detector `d` of `sc` over all its seeds.
fn score_values(sc: &Scenario, d: usize, values: &[f64], jobs: usize) -> Result<Scored, String> {
    let mut one = sc.clone();
    let mut cfg = sc.detectors[d].clone();
    cfg.values = values.to_vec();
    one.detectors = vec![cfg];
    one.protocols = Vec::new();
    let res = run_all(vec![one], jobs, &|_, _| {}).map_err(|e| e.to_string())?;
    let cost = cost_per_pair_second(&res[0].scenario, res[0].seeds.iter().map(|s| &s.stats));
    Ok(Scored {
        points: curve_points(&res[0]),
        cost,
    })
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
    if let Some(sw) = &sc.sweep {
        return tune_sweep(sc, sw, only, opts);
    }
    if opts.certify_batches.is_some() && !matches!(opts.goal, Goal::FastestWithin { .. }) {
        return Err(
            "--certify confirms a mistake budget: give --max-mistakes-per-hour with it".into(),
        );
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

/// Tunes each `[sweep]` variant on its own, its answers labelled as the
/// swept scenario labels its detectors (`fixed @ interval=100ms`).
fn tune_sweep(
    sc: &Scenario,
    sw: &crate::scenario::Sweep,
    only: Option<&str>,
    opts: TuneOptions,
) -> Result<Vec<TuneResult>, String> {
    let mut out = Vec::new();
    for (k, variant) in sw.variants.iter().enumerate() {
        for mut r in tune(variant, only, opts)? {
            r.detector = format!("{} @ {}={}", r.detector, sw.leaf(), sw.labels[k]);
            out.push(r);
        }
    }
    let _ = sc;
    Ok(out)
}

/// The values scored so far for one detector, and the heartbeat cost.
struct Search<'a> {
    sc: &'a Scenario,
    d: usize,
    jobs: usize,
    seen: Vec<CurvePoint>,
    cost: Option<(f64, f64)>,
}

impl Search<'_> {
    /// Scores the values not seen yet that the parameter allows.
    fn add(&mut self, values: Vec<f64>) -> Result<(), String> {
        let spec = self.sc.detectors[self.d].kind.swept;
        let mut fresh: Vec<f64> = values
            .into_iter()
            .filter(|v| spec.check(*v).is_ok() && !self.seen.iter().any(|p| p.value == *v))
            .collect();
        fresh.sort_by(f64::total_cmp);
        fresh.dedup();
        if !fresh.is_empty() {
            let scored = score_values(self.sc, self.d, &fresh, self.jobs)?;
            self.seen.extend(scored.points);
            self.cost = self.cost.or(scored.cost);
        }
        Ok(())
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.seen.iter().map(|p| p.value)
    }
}

fn tune_one(sc: &Scenario, d: usize, opts: TuneOptions) -> Result<TuneResult, String> {
    let cfg = &sc.detectors[d];
    let spec = cfg.kind.swept;
    let first = score_values(sc, d, &cfg.values, opts.jobs)?;
    let mut s = Search {
        sc,
        d,
        jobs: opts.jobs,
        seen: first.points,
        cost: first.cost,
    };
    if let (Some(max), Some((msgs, _))) = (opts.max_messages_per_second, s.cost) {
        if msgs > max {
            let mut r = describe(sc, d, &s, opts.goal);
            r.found = false;
            clear_answer(&mut r);
            r.note = format!(
                "its heartbeats cost {msgs:.2} messages per monitored pair per second, more than \
                 {max} (a longer heartbeat interval costs less)"
            );
            return Ok(r);
        }
    }
    // Nothing passes: look further out (larger values for a mistake
    // budget, smaller ones for a detection deadline).
    for _ in 0..3 {
        if s.seen.iter().any(|p| passes(p, opts.goal)) {
            break;
        }
        match opts.goal {
            Goal::FastestWithin { .. } => {
                let top = s.values().fold(f64::MIN, f64::max);
                let step = if top > 0.0 { top } else { 1.0 };
                s.add(vec![top + step, top + 3.0 * step])?;
            }
            Goal::FewestMistakesWithin { .. } => {
                let low = s.values().fold(f64::MAX, f64::min);
                let floor = if spec.min_inclusive {
                    spec.min
                } else {
                    spec.min.max(0.0)
                };
                s.add(vec![
                    floor + (low - floor) / 2.0,
                    floor + (low - floor) / 4.0,
                ])?;
            }
        }
    }
    // Under a detection deadline every value may pass: larger ones make
    // fewer mistakes, so look further up until one misses the deadline.
    if let Goal::FewestMistakesWithin { .. } = opts.goal {
        for _ in 0..3 {
            let top = s.values().fold(f64::MIN, f64::max);
            let top_passes = s
                .seen
                .iter()
                .any(|p| p.value == top && passes(p, opts.goal));
            if !top_passes || top >= spec.max {
                break;
            }
            let step = if top > 0.0 { top } else { 1.0 };
            s.add(vec![(top + step).min(spec.max)])?;
        }
    }
    for _ in 0..opts.rounds {
        let Some(best) = best_passing(&s.seen, opts.goal) else {
            break;
        };
        let (lo, hi) = match opts.goal {
            Goal::FastestWithin { .. } => {
                let below = s
                    .values()
                    .filter(|&v| v < best.value)
                    .fold(f64::NEG_INFINITY, f64::max);
                let lo = if below.is_finite() {
                    below
                } else if spec.min_inclusive {
                    spec.min
                } else {
                    spec.min.max(best.value - best.value.abs().max(1.0))
                };
                (lo, best.value)
            }
            Goal::FewestMistakesWithin { .. } => {
                let above = s
                    .seen
                    .iter()
                    .filter(|p| p.value > best.value && !passes(p, opts.goal))
                    .map(|p| p.value)
                    .fold(f64::INFINITY, f64::min);
                if !above.is_finite() {
                    break;
                }
                (best.value, above)
            }
        };
        let grid = between(lo, hi, opts.points_per_round, spec.unit);
        if grid.is_empty() {
            break;
        }
        s.add(grid)?;
    }
    let mut r = describe(sc, d, &s, opts.goal);
    if let (Some(max_batches), true) = (opts.certify_batches, r.found) {
        r.certification = Some(certify_answer(sc, d, &s, opts, max_batches)?);
    }
    Ok(r)
}

fn clear_answer(r: &mut TuneResult) {
    r.value = None;
    r.value_text = None;
    r.detection_ms_mean = None;
    r.detection_ms_mean_lo95 = None;
    r.detection_ms_mean_hi95 = None;
    r.detection_ms_p99 = None;
    r.mistakes_per_hour = None;
    r.mistakes_per_hour_hi95 = None;
}

fn best_passing(seen: &[CurvePoint], goal: Goal) -> Option<CurvePoint> {
    let det = |p: &CurvePoint| p.detection_ms.map_or(f64::MAX, |x| x.0);
    let rate = |p: &CurvePoint| p.mistakes_per_hour.map_or(f64::MAX, |x| x.0);
    seen.iter()
        .filter(|p| passes(p, goal))
        .min_by(|a, b| {
            let by_det = det(a).total_cmp(&det(b));
            match goal {
                Goal::FastestWithin { .. } => by_det,
                Goal::FewestMistakesWithin { .. } => rate(a).total_cmp(&rate(b)).then(by_det),
            }
            .then(a.value.total_cmp(&b.value))
        })
        .cloned()
}

/// The seeds of batch `k` of `size` fresh seeds after `used`.
fn batch_seeds(used: &[u64], size: usize, k: usize) -> Vec<u64> {
    let base = used.iter().copied().max().unwrap_or(0).saturating_add(1);
    let from = base.saturating_add((k * size) as u64);
    (0..size as u64).map(|i| from.saturating_add(i)).collect()
}

/// Confirms the tuner's answer on fresh seeds ([`certify`]): batches of as
/// many seeds as the scenario has, never seen by the search, until the
/// answer is certified or shown unreachable. A value shown unreachable
/// gives way to the next larger value that the search found within the
/// budget, and the looks go on from the same allowance, so the overall
/// error stays at most 5 %.
fn certify_answer(
    sc: &Scenario,
    d: usize,
    s: &Search<'_>,
    opts: TuneOptions,
    max_batches: usize,
) -> Result<Certification, String> {
    let Goal::FastestWithin {
        max_mistakes_per_hour: budget,
    } = opts.goal
    else {
        unreachable!("checked in tune()");
    };
    let unit = sc.detectors[d].kind.swept.unit;
    let best = best_passing(&s.seen, opts.goal).expect("certify runs on a found answer");
    let mut candidates: Vec<f64> = s
        .seen
        .iter()
        .filter(|p| p.value >= best.value && passes(p, opts.goal))
        .map(|p| p.value)
        .collect();
    candidates.sort_by(f64::total_cmp);
    let size = sc.seeds.len().max(1);
    let mut cert = Certification {
        verdict: certify::Verdict::Continue,
        value_text: unit.format(best.value),
        mistakes: 0,
        up_hours: 0.0,
        mistakes_per_hour_lo: 0.0,
        mistakes_per_hour_hi: f64::INFINITY,
        batches: 0,
        max_batches,
        seeds: Vec::new(),
        rejected: Vec::new(),
    };
    let level = certify::ALPHA / max_batches as f64;
    for value in candidates {
        cert.value_text = unit.format(value);
        (cert.mistakes, cert.up_hours) = (0, 0.0);
        while cert.batches < max_batches {
            let seeds = batch_seeds(&sc.seeds, size, cert.batches);
            let mut fresh = sc.clone();
            fresh.seeds = seeds.clone();
            let p = &score_values(&fresh, d, &[value], opts.jobs)?.points[0];
            cert.seeds.extend(seeds);
            cert.batches += 1;
            cert.mistakes += p.summary.mistakes;
            cert.up_hours += p.summary.up_time.as_hours_f64();
            let (lo, hi) = certify::rate_bounds(cert.mistakes, cert.up_hours, level);
            (cert.mistakes_per_hour_lo, cert.mistakes_per_hour_hi) = (lo, hi);
            cert.verdict = certify::look(cert.mistakes, cert.up_hours, budget, max_batches);
            if cert.verdict != certify::Verdict::Continue {
                break;
            }
        }
        match cert.verdict {
            certify::Verdict::Unreachable if cert.batches < max_batches => {
                cert.rejected.push(cert.value_text.clone());
            }
            _ => break,
        }
    }
    Ok(cert)
}

fn describe(sc: &Scenario, d: usize, s: &Search<'_>, goal: Goal) -> TuneResult {
    let cfg = &sc.detectors[d];
    let unit = cfg.kind.swept.unit;
    let seen = &s.seen;
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
        messages_per_pair_s: s.cost.map(|c| c.0),
        bytes_per_pair_s: s.cost.map(|c| c.1),
        up_hours,
        evaluated: seen.len(),
        note: String::new(),
        certification: None,
    };
    match best_passing(seen, goal) {
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
        None => {
            r.note = match goal {
                Goal::FastestWithin {
                    max_mistakes_per_hour,
                } => why_none(seen, max_mistakes_per_hour, up_hours, unit),
                Goal::FewestMistakesWithin { max_detection_ms } => {
                    why_too_slow(seen, max_detection_ms, unit)
                }
            }
        }
    }
    r
}

fn why_too_slow(seen: &[CurvePoint], deadline: f64, unit: ParamUnit) -> String {
    let fastest = seen
        .iter()
        .filter(|p| p.summary.undetected == 0)
        .filter_map(|p| p.detection_ms.map(|d| (d.0, p.value)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match fastest {
        Some((ms, v)) => format!(
            "even the fastest value tried, {}, detects in {ms:.1} ms on average > {deadline} ms",
            unit.format(v)
        ),
        None => "no value tried detected every crash".into(),
    }
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

/// The first line of the answer: what was asked.
fn question(sc: &Scenario, opts: &TuneOptions) -> String {
    let what = match opts.goal {
        Goal::FastestWithin {
            max_mistakes_per_hour,
        } => format!(
            "fastest setting with at most {max_mistakes_per_hour} mistakes/h at 95 % confidence"
        ),
        Goal::FewestMistakesWithin { max_detection_ms } => {
            format!("fewest mistakes/h with a mean detection time of at most {max_detection_ms} ms")
        }
    };
    let msgs = opts.max_messages_per_second.map_or(String::new(), |m| {
        format!(" and at most {m} messages/s per pair")
    });
    format!(
        "{}: {what}{msgs} ({} seeds × {})",
        sc.name,
        sc.seeds.len(),
        sc.duration
    )
}

/// Seeds as ranges: `11-40, 45`.
fn seed_ranges(seeds: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seeds.len() {
        let mut j = i;
        while j + 1 < seeds.len() && seeds[j + 1] == seeds[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            seeds[i].to_string()
        } else {
            format!("{}-{}", seeds[i], seeds[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

fn render_certification(c: &Certification, budget: f64) -> String {
    let level = 100.0 * certify::ALPHA / c.max_batches as f64;
    let figures = format!(
        "{} mistakes in {:.0} h on fresh seeds, one-sided {level:.2} % bounds [{:.4}, {:.4}]/h",
        c.mistakes, c.up_hours, c.mistakes_per_hour_lo, c.mistakes_per_hour_hi
    );
    let verdict = match c.verdict {
        certify::Verdict::Certified => format!(
            "certified at 95 %: {} stays within {budget} mistakes/h ({figures})",
            c.value_text
        ),
        certify::Verdict::Unreachable => format!(
            "shown unreachable at 95 %: {} makes more than {budget} mistakes/h ({figures})",
            c.value_text
        ),
        certify::Verdict::Continue => format!(
            "undecided after {} batches: {} is neither certified nor shown over {budget} \
             mistakes/h ({figures}); allow more with --max-batches",
            c.batches, c.value_text
        ),
    };
    let rejected = if c.rejected.is_empty() {
        String::new()
    } else {
        format!(
            "\n                 shown over the budget first: {}",
            c.rejected.join(", ")
        )
    };
    format!(
        "                 {verdict}{rejected}\n                 seeds used: {} ({} of {} batches)\n",
        seed_ranges(&c.seeds),
        c.batches,
        c.max_batches
    )
}

/// The tuner's answer as a readable table.
pub fn render(sc: &Scenario, opts: &TuneOptions, results: &[TuneResult]) -> String {
    let mut out = format!("{}\n\n", question(sc, opts));
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}ms"));
    for r in results {
        match (&r.value_text, r.found) {
            (Some(v), true) => {
                out.push_str(&format!(
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
                ));
                if let (
                    Some(c),
                    Goal::FastestWithin {
                        max_mistakes_per_hour,
                    },
                ) = (&r.certification, opts.goal)
                {
                    out.push_str(&render_certification(c, max_mistakes_per_hour));
                }
            }
            _ => out.push_str(&format!(
                "  {:<14} no setting meets the budget: {} ({} values tried)\n",
                r.detector, r.note, r.evaluated
            )),
        }
    }
    match &sc.sweep {
        Some(sw) => {
            out.push_str("\nheartbeat cost per monitored pair:\n");
            for label in &sw.labels {
                let suffix = format!(" @ {}={label}", sw.leaf());
                let cost = (results.iter())
                    .filter(|r| r.detector.ends_with(&suffix))
                    .find_map(|r| r.messages_per_pair_s.zip(r.bytes_per_pair_s));
                if let Some((m, b)) = cost {
                    out.push_str(&format!(
                        "  {}={label}: {m:.2} messages/s ({b:.0} B/s)\n",
                        sw.leaf()
                    ));
                }
            }
        }
        None => {
            if let Some(m) = results.iter().find_map(|r| r.messages_per_pair_s) {
                let b = results
                    .iter()
                    .find_map(|r| r.bytes_per_pair_s)
                    .unwrap_or(0.0);
                out.push_str(&format!(
                    "\nheartbeat cost: {m:.2} messages/s ({b:.0} B/s) per monitored pair\n"
                ));
            }
        }
    }
    let key = |r: &TuneResult| match opts.goal {
        Goal::FastestWithin { .. } => (r.detection_ms_mean.unwrap_or(f64::MAX), 0.0),
        Goal::FewestMistakesWithin { .. } => (
            r.mistakes_per_hour.unwrap_or(f64::MAX),
            r.detection_ms_mean.unwrap_or(f64::MAX),
        ),
    };
    let best = results.iter().filter(|r| r.found).min_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    });
    match best {
        Some(b) => out.push_str(&format!(
            "\nbest: {} with {} = {} (mean detection {:.1} ms, {:.4} mistakes/h)\n",
            b.detector,
            b.param,
            b.value_text.as_deref().unwrap_or("?"),
            b.detection_ms_mean.unwrap_or(f64::NAN),
            b.mistakes_per_hour.unwrap_or(f64::NAN)
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

    #[test]
    fn seeds_print_as_ranges() {
        assert_eq!(seed_ranges(&[11, 12, 13, 20, 22, 23]), "11-13, 20, 22-23");
        assert_eq!(seed_ranges(&[]), "");
    }

    #[test]
    fn fresh_batches_follow_the_scenarios_seeds() {
        assert_eq!(batch_seeds(&[1, 2, 3], 3, 0), vec![4, 5, 6]);
        assert_eq!(batch_seeds(&[1, 2, 3], 3, 2), vec![10, 11, 12]);
    }
}
