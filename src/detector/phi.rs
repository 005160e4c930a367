//! φ accrual with the exact normal distribution (Hayashibara, Défago,
//! Yared, Katayama, "The φ accrual failure detector", SRDS 2004).
//!
//! The detector keeps the last `window` inter-arrival times S₁…Sₙ and fits
//! a normal distribution to them:
//!
//! ```text
//! μ = (1/n) Σ Sᵢ + P                  P = acceptable_heartbeat_pause
//! σ = max(√((1/n) Σ Sᵢ² − ((1/n) Σ Sᵢ)²), σ_min)
//! y(t) = (t − A_last − μ) / σ
//! φ(t) = −log₁₀ Q(y(t)),   Q(y) = 1 − Φ(y) = ½ erfc(y / √2)
//! ```
//!
//! and suspects iff φ(t) ≥ threshold. φ is computed as
//! `−ln Q(y) / ln 10` with `ln Q` evaluated directly in the tail (from the
//! continued fraction of the upper incomplete gamma function
//! Γ(½, y²/2) = √π erfc(y/√2)), so it stays finite and accurate far beyond
//! the point where `1 − F` underflows: φ(y = 40) ≈ 349.4, where
//! `1 − F ≈ 3.7e−350` is not a representable `f64`. Below the tail,
//! erf is summed from its series (Σ Xⁿ / (½·3/2⋯(n+½)), X = y²/2, all
//! terms positive). Both are accurate to about 1e−15 relative.
//!
//! Choices, all shared with the Akka form ([`super::phi_akka`]) so that the
//! two differ only in the CDF, the default pause and the recording rule:
//! - the variance is the population variance of the window, computed
//!   exactly from integer running sums (O(1) per arrival);
//! - σ is clamped below by `min_std_deviation` (default 100 ms, Akka's),
//!   without which a jitter-free simulated network gives σ = 0;
//! - the first heartbeat seeds the window with two samples
//!   `E − E/4` and `E + E/4` (E = `first_heartbeat_estimate`, default
//!   1 s), as Akka does, so a target heard from once is still suspected
//!   after a crash; the seeds leave the window as real samples push them
//!   out;
//! - `acceptable_heartbeat_pause` (default 0, the paper has none) is added
//!   to μ as in Akka;
//! - every interval is recorded, as in the paper (Akka drops the one that
//!   ends a suspicion).
//!
//! Heartbeat incarnations are ignored: the interval across a restart is an
//! interval like any other. Suspicion before the first arrival is +∞.
//!
//! [`Detector::crossing`] inverts Q by Newton's method on `ln Q` (bracketed,
//! in y, to full precision, and remembered per level: the scorer asks for
//! the same thresholds throughout), converts to nanoseconds and rounds up,
//! which nearly always gives the answer c itself. It then checks
//! φ(c − 1) < x ≤ φ(c), computing both values at once (their continued
//! fractions side by side, bit for bit what [`Detector::suspicion`]
//! returns), and only when that fails settles the exact nanosecond with
//! [`first_reaching`].

use super::registry::{ms, DetectorKind, ParamSpec, ParamUnit, Params};
use super::{Arrival, Detector};
use crate::math;
use crate::sim::time::Nanos;
use std::cell::Cell;
use std::collections::VecDeque;
use std::f64::consts::{FRAC_1_SQRT_2, LN_10, LN_2};

/// The swept parameter of both φ detectors.
pub(crate) const THRESHOLD: ParamSpec = ParamSpec {
    name: "threshold",
    unit: ParamUnit::Number,
    default: Some(8.0),
    min: 0.0,
    min_inclusive: false,
    max: f64::MAX,
    doc: "suspect once φ reaches this value (mistake probability about 10^-threshold)",
};

/// Window sizes: at least one sample, at most a million.
pub(crate) const fn window_spec(name: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        unit: ParamUnit::Count,
        default: Some(1000.0),
        min: 1.0,
        min_inclusive: true,
        max: 1_000_000.0,
        doc,
    }
}

/// A duration parameter with a default, range `min` (exclusive or not) up
/// to one day.
pub(crate) const fn duration_spec(
    name: &'static str,
    default: f64,
    min_inclusive: bool,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        unit: ParamUnit::Duration,
        default: Some(default),
        min: 0.0,
        min_inclusive,
        max: 86_400e9,
        doc,
    }
}

/// Registration of `kind = "phi"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "phi",
    summary: "φ accrual: −log10 of the exact normal tail probability of the current silence",
    source: "Hayashibara, Défago, Yared, Katayama, SRDS 2004 (exact normal CDF; window, clamp and bootstrap as Akka/Pekko PhiAccrualFailureDetector)",
    swept: THRESHOLD,
    params: &[
        window_spec("window", "number of most recent inter-arrival times kept"),
        duration_spec(
            "min_std_deviation",
            ms(100.0),
            false,
            "lower bound on the standard deviation of the fitted normal",
        ),
        duration_spec(
            "acceptable_heartbeat_pause",
            0.0,
            true,
            "added to the mean inter-arrival time",
        ),
        duration_spec(
            "first_heartbeat_estimate",
            ms(1000.0),
            false,
            "the first heartbeat seeds the window with this mean ± a quarter",
        ),
    ],
    threshold_dependent: false,
    build: |p, _, _| Box::new(Phi::new(PhiConfig::from_params(p))),
};

/// Parameters of a φ detector (also used by [`super::phi_akka`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhiConfig {
    /// Window size (samples).
    pub window: usize,
    /// Lower bound on σ, nanoseconds.
    pub min_std_deviation: f64,
    /// Added to μ, nanoseconds.
    pub acceptable_heartbeat_pause: f64,
    /// Bootstrap mean, nanoseconds.
    pub first_heartbeat_estimate: u64,
}

impl PhiConfig {
    /// Reads the parameters named as in [`KIND`].
    pub fn from_params(p: &Params) -> PhiConfig {
        PhiConfig {
            window: p.get("window") as usize,
            min_std_deviation: p.get("min_std_deviation"),
            acceptable_heartbeat_pause: p.get("acceptable_heartbeat_pause"),
            first_heartbeat_estimate: p.get("first_heartbeat_estimate").round() as u64,
        }
    }
}

/// `x as f64` (rounded to nearest, ties to even), without the software
/// routine `u128 as f64` calls: through the hardware 64-bit conversion,
/// directly when `x` fits in 64 bits, else on its top 64 bits with the
/// bits shifted out folded into the lowest one (a sticky bit: the 64-bit
/// value keeps 11 bits below the 53 an `f64` holds, so the rounding sees
/// the same round bit and the same "anything below it" as on `x`), then
/// scaled back by an exact power of two. The window sums this converts
/// exceed 64 bits for every sample variance above ~18 ms² at n = 1000.
#[inline]
pub(crate) fn u128_to_f64(x: u128) -> f64 {
    match u64::try_from(x) {
        Ok(small) => small as f64,
        Err(_) => {
            let shift = 64 - x.leading_zeros();
            let top = (x >> shift) as u64;
            let sticky = u64::from(x & ((1u128 << shift) - 1) != 0);
            // 2^shift, shift in 1..=64, built from its exponent bits.
            let scale = f64::from_bits(u64::from(1023 + shift) << 52);
            (top | sticky) as f64 * scale
        }
    }
}

/// A bounded window of inter-arrival times with exact running sums.
#[derive(Clone, Debug)]
pub struct IntervalWindow {
    cap: usize,
    samples: VecDeque<u64>,
    sum: u128,
    sum_sq: u128,
}

impl IntervalWindow {
    pub fn new(cap: usize) -> IntervalWindow {
        assert!(cap >= 1, "a window holds at least one sample");
        IntervalWindow {
            cap,
            samples: VecDeque::with_capacity(cap.min(1 << 16)),
            sum: 0,
            sum_sq: 0,
        }
    }

    /// Appends a sample, dropping the oldest if the window is full.
    pub fn push(&mut self, x: u64) {
        if self.samples.len() == self.cap {
            let old = self.samples.pop_front().expect("cap >= 1");
            self.sum -= u128::from(old);
            self.sum_sq -= u128::from(old) * u128::from(old);
        }
        self.samples.push_back(x);
        self.sum += u128::from(x);
        self.sum_sq += u128::from(x) * u128::from(x);
    }

    /// Akka's bootstrap: the two samples `e − e/4` and `e + e/4` (integer
    /// division), pushed through the bounded window.
    pub fn seed(&mut self, estimate: u64) {
        let dev = estimate / 4;
        self.push(estimate - dev);
        self.push(estimate.saturating_add(dev));
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when both hold the same samples in the same order.
    pub fn samples_eq(&self, other: &IntervalWindow) -> bool {
        self.cap == other.cap && self.sum == other.sum && self.samples == other.samples
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn mean(&self) -> f64 {
        u128_to_f64(self.sum) / self.len() as f64
    }

    /// Population variance, exactly (n Σx² − (Σx)²) / n² when that fits
    /// in 128 bits, else from the same sums in floating point.
    pub fn variance(&self) -> f64 {
        let n = self.len() as u128;
        let exact = n
            .checked_mul(self.sum_sq)
            .zip(self.sum.checked_mul(self.sum))
            .map(|(a, b)| a - b);
        match exact {
            Some(num) => u128_to_f64(num) / u128_to_f64(n * n),
            None => {
                let m = self.mean();
                (u128_to_f64(self.sum_sq) / n as f64 - m * m).max(0.0)
            }
        }
    }

    pub fn std_deviation(&self) -> f64 {
        self.variance().sqrt()
    }
}

/// The exact-normal φ detector.
#[derive(Clone, Debug)]
pub struct Phi {
    cfg: PhiConfig,
    window: IntervalWindow,
    last: Option<Nanos>,
    /// μ including the acceptable pause, ns.
    mean: f64,
    /// Clamped σ, ns.
    std: f64,
    /// Standard-normal quantiles of the levels asked for, for the
    /// crossing's first guess.
    quantiles: QuantileMemo,
}

impl Phi {
    pub fn new(cfg: PhiConfig) -> Phi {
        Phi {
            window: IntervalWindow::new(cfg.window),
            cfg,
            last: None,
            mean: f64::NAN,
            std: f64::NAN,
            quantiles: QuantileMemo::new(),
        }
    }

    /// The window of inter-arrival times (seeds included).
    pub fn window(&self) -> &IntervalWindow {
        &self.window
    }

    fn phi_after(&self, silence: u64) -> f64 {
        phi_normal(silence as f64, self.mean, self.std)
    }
}

impl Detector for Phi {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        match self.last {
            None => self.window.seed(self.cfg.first_heartbeat_estimate),
            Some(last) => self.window.push(arrival.at.saturating_sub(last).0),
        }
        self.last = Some(arrival.at);
        self.mean = self.window.mean() + self.cfg.acceptable_heartbeat_pause;
        self.std = self.window.std_deviation().max(self.cfg.min_std_deviation);
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        match self.last {
            Some(last) => self.phi_after(now.saturating_sub(last).0),
            None => f64::INFINITY,
        }
    }

    /// φ < level exactly when the standardised silence y is below the
    /// level's quantile, which the crossing remembers per level: a silence
    /// well below it (by far more than the rounding of either side) is
    /// answered without evaluating φ's tail.
    fn below(&self, now: Nanos, level: f64) -> bool {
        if let Some(last) = self.last {
            if level >= FAST_BELOW_FROM {
                let y = (now.saturating_sub(last).0 as f64 - self.mean) / self.std;
                let q = self
                    .quantiles
                    .get(level, |l| upper_tail_quantile(-l * LN_10));
                if y < q - QUANTILE_MARGIN * (1.0 + q.abs()) {
                    return true;
                }
            }
        }
        self.suspicion(now) < level
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(last) = self.last else {
            return Some(Nanos::ZERO);
        };
        if level.is_nan() {
            return None;
        }
        let y = if level <= 0.0 {
            f64::NEG_INFINITY
        } else {
            self.quantiles
                .get(level, |l| upper_tail_quantile(-l * LN_10))
        };
        let guess = self.mean + self.std * y;
        // With y to full precision the guess nearly always rounds up to the
        // answer c itself: check φ(c − 1) < level ≤ φ(c) with both values
        // computed at once. Otherwise (or before a silence of 1 ns) search.
        let g = last.0.saturating_add(math::ceil_u64(guess));
        if g > last.0 {
            let silence = g - last.0;
            let [before, at] =
                phi_normal_pair([(silence - 1) as f64, silence as f64], self.mean, self.std);
            if before < level && at >= level {
                return Some(Nanos(g));
            }
        }
        first_reaching(last, guess, |c| self.suspicion(c) >= level)
    }
}

/// How far below a level's quantile (relative to 1 + |quantile|) a
/// standardised silence must be for [`Detector::below`] to answer without
/// evaluating φ: the quantiles are exact to a few ulps and φ's evaluation
/// to about 1e-15 relative, a billion times inside this margin.
pub(crate) const QUANTILE_MARGIN: f64 = 1e-6;

/// The smallest level [`Detector::below`] answers from the quantile: φ is
/// computed to about 1e-16 in absolute terms (Akka's formula subtracts
/// from 1 below the mean), so only levels well above that are compared in
/// y; smaller ones, which no sweep uses, evaluate φ.
pub(crate) const FAST_BELOW_FROM: f64 = 1e-6;

/// Slots of a [`QuantileMemo`] (a power of two).
const MEMO_SLOTS: usize = 32;

/// A detector's quantile function, remembered for the last levels asked
/// for (direct-mapped on the level's bits). The scorer asks for the same
/// few thresholds all run long, and the exact normal quantile costs a few
/// continued-fraction evaluations. The quantile only seeds the crossing's
/// search, which checks its answer on the suspicion itself, so the memo
/// changes no result; and being a function of the level alone it needs no
/// invalidation.
#[derive(Clone)]
pub(crate) struct QuantileMemo {
    /// (level bits, quantile); a NaN level marks an empty slot.
    slots: [Cell<(u64, f64)>; MEMO_SLOTS],
}

impl QuantileMemo {
    pub(crate) fn new() -> QuantileMemo {
        QuantileMemo {
            slots: std::array::from_fn(|_| Cell::new((f64::NAN.to_bits(), f64::NAN))),
        }
    }

    /// `quantile(level)`, computed once per level while it stays in the
    /// memo; `level` is not NaN.
    #[inline]
    pub(crate) fn get(&self, level: f64, quantile: impl FnOnce(f64) -> f64) -> f64 {
        debug_assert!(!level.is_nan());
        let key = level.to_bits();
        let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - MEMO_SLOTS.trailing_zeros());
        let slot = &self.slots[hash as usize];
        let (k, y) = slot.get();
        if k == key {
            return y;
        }
        let y = quantile(level);
        slot.set((key, y));
        y
    }
}

impl std::fmt::Debug for QuantileMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuantileMemo")
    }
}

/// φ of a silence `delta` under N(`mean`, `std`²): −log₁₀(1 − Φ((δ−μ)/σ)).
/// Never NaN for finite `delta`, `mean` and positive `std`; +∞ only when
/// (δ−μ)/σ overflows its square.
pub fn phi_normal(delta: f64, mean: f64, std: f64) -> f64 {
    let y = (delta - mean) / std;
    -ln_upper_tail(y) / LN_10 + 0.0
}

/// φ at two silences under the same N(`mean`, `std`²), each result bit
/// for bit [`phi_normal`]'s: in the tail the two continued fractions run
/// side by side ([`gamma_half_fraction_pair`]), elsewhere each value is
/// [`phi_normal`] itself.
fn phi_normal_pair(delta: [f64; 2], mean: f64, std: f64) -> [f64; 2] {
    // The operations of phi_normal → ln_upper_tail → ln_erfc, lane by lane.
    let y = delta.map(|d| (d - mean) / std);
    let x = y.map(|y| y * FRAC_1_SQRT_2);
    let xx = x.map(|x| x * x);
    let in_tail = |k: usize| y[k] >= 0.0 && xx[k] >= SERIES_LIMIT && xx[k].is_finite();
    if !(in_tail(0) && in_tail(1)) {
        return delta.map(|d| phi_normal(d, mean, std));
    }
    let h = gamma_half_fraction_pair(xx);
    [0, 1].map(|k| {
        let ln_erfc = -xx[k] + math::ln(x[k] * h[k]) - LN_SQRT_PI;
        let ln_q = -LN_2 + ln_erfc;
        -ln_q / LN_10 + 0.0
    })
}

const SQRT_PI: f64 = 1.772_453_850_905_516;
/// ln √π.
const LN_SQRT_PI: f64 = 0.572_364_942_924_700_1;
/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
/// Below X = x² = 1.5 erf's series converges fast; above, the continued
/// fraction does (Numerical Recipes' split for Γ(a, X): X < a + 1).
const SERIES_LIMIT: f64 = 1.5;
const TINY: f64 = 1e-300;

/// erf(x) for x ≥ 0 from the series of the lower incomplete gamma
/// function: erf(x) = e^(−X) x/√π Σₙ Xⁿ / (½·(3/2)⋯(n+½)), X = x².
fn erf_series(x: f64, xx: f64) -> f64 {
    let mut term = 2.0;
    let mut sum = 2.0;
    let mut a = 0.5;
    for _ in 0..200 {
        a += 1.0;
        term *= xx / a;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    x * math::exp(-xx) * sum / SQRT_PI
}

/// The continued fraction h(X) of Γ(½, X) = e^(−X) √X h(X), by the
/// modified Lentz method; converges quickly for X ≥ 1.5.
fn gamma_half_fraction(xx: f64) -> f64 {
    Lentz::start(xx).finish(1)
}

/// [`gamma_half_fraction`] at two points at once, each result bit for bit
/// the one-point value: every lane performs the same operations in the
/// same order. The Lentz recurrence is a chain of dependent divisions, so
/// a single evaluation leaves the divider mostly idle; two independent
/// chains side by side take about the time of one.
fn gamma_half_fraction_pair(xx: [f64; 2]) -> [f64; 2] {
    let mut a = Lentz::start(xx[0]);
    let mut b = Lentz::start(xx[1]);
    for i in 1..LENTZ_TERMS {
        let a_done = a.step(i);
        let b_done = b.step(i);
        if a_done || b_done {
            let ha = if a_done { a.h } else { a.finish(i + 1) };
            let hb = if b_done { b.h } else { b.finish(i + 1) };
            return [ha, hb];
        }
    }
    [a.h, b.h]
}

/// Terms of the continued fraction are taken for i in 1..LENTZ_TERMS.
const LENTZ_TERMS: u32 = 500;

/// The state of the modified Lentz method for h(X).
#[derive(Clone, Copy)]
struct Lentz {
    b: f64,
    c: f64,
    d: f64,
    h: f64,
}

impl Lentz {
    #[inline(always)]
    fn start(xx: f64) -> Lentz {
        let b = xx + 0.5;
        let d = 1.0 / b;
        Lentz {
            b,
            c: 1.0 / TINY,
            d,
            h: d,
        }
    }

    /// Applies term `i`; true once the fraction has converged.
    #[inline(always)]
    fn step(&mut self, i: u32) -> bool {
        let i = f64::from(i);
        let an = -i * (i - 0.5);
        self.b += 2.0;
        let mut d = an * self.d + self.b;
        if d.abs() < TINY {
            d = TINY;
        }
        let mut c = self.b + an / self.c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        self.c = c;
        self.d = d;
        self.h *= del;
        (del - 1.0).abs() < 1e-16
    }

    /// Applies terms `from..LENTZ_TERMS` until convergence; h.
    #[inline(always)]
    fn finish(mut self, from: u32) -> f64 {
        for i in from..LENTZ_TERMS {
            if self.step(i) {
                break;
            }
        }
        self.h
    }
}

/// ln erfc(x) for x ≥ 0, finite for every finite x.
pub fn ln_erfc(x: f64) -> f64 {
    debug_assert!(x >= 0.0);
    let xx = x * x;
    if xx < SERIES_LIMIT {
        math::ln(1.0 - erf_series(x, xx))
    } else if xx.is_infinite() {
        f64::NEG_INFINITY
    } else {
        -xx + math::ln(x * gamma_half_fraction(xx)) - LN_SQRT_PI
    }
}

/// erfc(x) for every x, accurate to about 1e−15 relative.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else if x >= 0.0 {
        math::exp(ln_erfc(x))
    } else {
        2.0 - math::exp(ln_erfc(-x))
    }
}

/// ln Q(y), Q(y) = 1 − Φ(y) the standard normal upper tail.
pub fn ln_upper_tail(y: f64) -> f64 {
    if y >= 0.0 {
        -LN_2 + ln_erfc(y * FRAC_1_SQRT_2)
    } else if y < 0.0 {
        // Q(y) = 1 − Q(−y), with Q(−y) ≤ ½.
        math::ln_1p(-math::exp(ln_upper_tail(-y)))
    } else {
        f64::NAN
    }
}

/// The y ≥ 0 with ln Q(y) = `t`, for `t` ≤ ln ½, to within `tol` (plus
/// rounding); by Newton's method on ln Q, kept inside a bracket.
fn positive_quantile(t: f64, tol: f64) -> f64 {
    let a = -t;
    let mut lo = 0.0;
    let mut hi = (2.0 * a).sqrt().max(1.0); // ln Q(y) ≤ −y²/2 for y ≥ 0.4
    if hi.is_infinite() {
        return hi;
    }
    // Mills-ratio asymptote: −ln Q(y) ≈ y²/2 + ln(y√(2π)).
    let mut y = (2.0 * a - math::ln(4.0 * std::f64::consts::PI * a))
        .max(0.0)
        .sqrt()
        .clamp(lo, hi);
    for _ in 0..200 {
        let lq = ln_upper_tail(y);
        let f = lq - t;
        if f == 0.0 {
            return y;
        }
        if f > 0.0 {
            lo = y;
        } else {
            hi = y;
        }
        // d/dy ln Q(y) = −pdf(y) / Q(y).
        let slope = -math::exp(-0.5 * y * y - LN_SQRT_2PI - lq);
        let mut next = y - f / slope;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let tol = tol.max(1e-15 * y.max(1.0));
        if (next - y).abs() <= tol || hi - lo <= tol {
            return next;
        }
        y = next;
    }
    y
}

/// The y with ln Q(y) = `t` (t ≤ 0): the inverse of the upper tail.
pub fn upper_tail_quantile(t: f64) -> f64 {
    quantile_within(t, 0.0)
}

/// [`upper_tail_quantile`] to within about `tol` in y.
fn quantile_within(t: f64, tol: f64) -> f64 {
    if t.is_nan() {
        t
    } else if t <= -LN_2 {
        positive_quantile(t, tol)
    } else if t >= 0.0 {
        f64::NEG_INFINITY
    } else {
        // Q(y) = e^t > ½ ⇔ Q(−y) = 1 − e^t.
        -positive_quantile(math::ln(-math::exp_m1(t)), tol)
    }
}

/// The earliest local time `c ≥ from` with `reached(c)`, for a predicate
/// that is monotone (false then true) on `[from, Nanos::MAX]`, or `None`
/// if it never holds. `guess` is an estimate of `c − from` in nanoseconds
/// (any `f64`); the search gallops from it and bisects, so a guess within
/// a nanosecond costs two evaluations.
pub fn first_reaching(from: Nanos, guess: f64, reached: impl Fn(Nanos) -> bool) -> Option<Nanos> {
    // `f64 as u64` saturates and maps NaN to 0.
    let g = from.0.saturating_add(math::ceil_u64(guess));
    // Invariant once found: `lo` < answer ≤ `hi`, with `lo` known not
    // reached (or `lo + 1 == from`, nothing known) and `hi` reached.
    let (mut lo, mut hi);
    if reached(Nanos(g)) {
        hi = g;
        let mut step = 1u64;
        loop {
            if hi == from.0 {
                return Some(from);
            }
            let cand = hi.saturating_sub(step).max(from.0);
            if !reached(Nanos(cand)) {
                lo = cand;
                break;
            }
            hi = cand;
            step = step.saturating_mul(2);
        }
    } else {
        lo = g;
        let mut step = 1u64;
        loop {
            if lo == u64::MAX {
                return None;
            }
            let cand = lo.saturating_add(step);
            if reached(Nanos(cand)) {
                hi = cand;
                break;
            }
            lo = cand;
            step = step.saturating_mul(2);
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reached(Nanos(mid)) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(Nanos(hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(at: u64) -> Arrival {
        Arrival {
            at: Nanos(at),
            seq: 0,
            sent: Nanos(at),
            incarnation: 0,
        }
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    fn config() -> PhiConfig {
        PhiConfig {
            window: 1000,
            min_std_deviation: ms(100.0),
            acceptable_heartbeat_pause: 0.0,
            first_heartbeat_estimate: Nanos::from_secs(1).0,
        }
    }

    // Reference values computed with mpmath at 30 digits.
    #[test]
    fn erfc_is_accurate_to_a_few_ulps() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.4795001221869535),
            (1.0, 0.15729920705028513),
            (2.0, 0.004677734981047266),
            (3.0, 2.209049699858544e-05),
            (5.0, 1.537459794428035e-12),
        ] {
            assert!(close(erfc(x), want, 4e-15), "erfc({x}) = {}", erfc(x));
        }
        assert!(close(erfc(-1.0), 2.0 - 0.15729920705028513, 1e-15));
    }

    #[test]
    fn phi_matches_the_exact_normal_tail() {
        for (y, want) in [
            (-3.0, 0.0005866493137900667),
            (-1.0, 0.07502601295781802),
            (0.0, std::f64::consts::LOG10_2),
            (0.6, 0.5618484266011764),
            (1.0, 0.7995455414919705),
            (1.5, 1.1751767216148163),
            (2.0, 1.643016080140937),
            (4.0, 4.499334907556479),
            (6.0, 9.005864327476704),
            (8.0, 15.206142551017155),
            (20.0, 88.56009534307559),
            (38.5, 323.8513410684794),
            (40.0, 349.43700645934587),
        ] {
            let got = phi_normal(y, 0.0, 1.0);
            assert!(close(got, want, 1e-13), "φ({y}) = {got}, want {want}");
        }
        assert_eq!(phi_normal(-50.0, 0.0, 1.0), 0.0);
        assert!(phi_normal(-50.0, 0.0, 1.0).is_sign_positive());
        assert_eq!(phi_normal(1e200, 0.0, 1.0), f64::INFINITY);
    }

    #[test]
    fn the_quantile_inverts_the_tail() {
        for y in [
            -7.0, -2.0, -0.3, 0.0, 0.1, 1.0, 3.0, 6.0, 15.0, 35.0, 100.0, 1e4,
        ] {
            let back = upper_tail_quantile(ln_upper_tail(y));
            assert!((back - y).abs() <= 1e-9 * y.abs().max(1.0), "{y} -> {back}");
        }
    }

    #[test]
    fn one_heartbeat_bootstraps_mean_one_second_std_a_quarter() {
        let mut d = Phi::new(config());
        assert_eq!(d.suspicion(Nanos(3)), f64::INFINITY);
        assert_eq!(d.crossing(8.0), Some(Nanos::ZERO));
        d.heartbeat(&arrival(0));
        assert_eq!(d.window().len(), 2);
        assert_eq!(d.window().mean(), 1e9);
        assert_eq!(d.window().std_deviation(), 250e6);
        // Δ = 1 s is the mean: Q = ½.
        assert!(close(
            d.suspicion(Nanos::from_secs(1)),
            std::f64::consts::LOG10_2,
            1e-14
        ));
        // Δ = 2 s is 4σ above the mean.
        assert!(close(
            d.suspicion(Nanos::from_secs(2)),
            4.499_334_907_556_479,
            1e-13
        ));
    }

    #[test]
    fn crossing_is_the_exact_nanosecond() {
        let mut d = Phi::new(config());
        for i in 0..20u64 {
            d.heartbeat(&arrival(i * 1_000_000_000 + (i % 3) * 7_000_000));
        }
        let last = Nanos(19 * 1_000_000_000 + 7_000_000);
        for level in [0.01, 0.3, 0.302, 1.0, 8.0, 12.5, 100.0, 340.0, 1e4] {
            let c = d.crossing(level).expect("finite levels are reached");
            assert!(c > last);
            assert!(d.suspicion(c) >= level, "level {level}");
            assert!(d.suspicion(Nanos(c.0 - 1)) < level, "level {level}");
        }
        assert_eq!(d.crossing(0.0), Some(last));
        assert_eq!(d.crossing(f64::INFINITY), None);
        assert_eq!(d.crossing(f64::NAN), None);
    }

    #[test]
    fn suspicion_never_decreases_during_a_silence() {
        let mut d = Phi::new(config());
        d.heartbeat(&arrival(0));
        d.heartbeat(&arrival(1_000_000_000));
        let mut prev = 0.0;
        for k in 0..20_000u64 {
            let s = d.suspicion(Nanos(1_000_000_000 + k * 1_000_000));
            assert!(s >= prev && !s.is_nan(), "at {k} ms: {s} < {prev}");
            prev = s;
        }
    }

    #[test]
    fn pause_shifts_the_mean() {
        let cfg = PhiConfig {
            acceptable_heartbeat_pause: ms(3000.0),
            ..config()
        };
        let mut d = Phi::new(cfg);
        d.heartbeat(&arrival(0));
        // μ = 1 s + 3 s: at Δ = 4 s, Q = ½.
        assert!(close(
            d.suspicion(Nanos::from_secs(4)),
            std::f64::consts::LOG10_2,
            1e-14
        ));
    }

    #[test]
    fn window_variance_is_exact_for_large_nanosecond_values() {
        let mut w = IntervalWindow::new(3);
        for x in [1_000_000_000_123u64, 1_000_000_000_123, 1_000_000_000_123] {
            w.push(x);
        }
        assert_eq!(w.variance(), 0.0);
        w.push(1_000_000_000_126); // window 123, 123, 126
        assert_eq!(w.variance(), 2.0);
    }

    #[test]
    fn u128_to_f64_rounds_as_the_cast_does() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut values: Vec<u128> = vec![0, 1, u128::from(u64::MAX), 1 << 64, u128::MAX];
        for bits in 54..=128u32 {
            // Halfway cases and their neighbours at every width.
            let one = 1u128 << (bits - 1);
            let half_ulp = 1u128 << (bits - 54);
            for base in [one, one | (1 << (bits - 53)), u128::MAX >> (128 - bits)] {
                for d in [0, 1, half_ulp - 1, half_ulp, half_ulp + 1] {
                    values.push(base.wrapping_add(d));
                    values.push(base.wrapping_sub(d));
                }
            }
        }
        for _ in 0..100_000 {
            let v = (u128::from(next()) << 64) | u128::from(next());
            values.push(v >> (next() % 128));
        }
        for v in values {
            assert_eq!(u128_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
        }
    }

    #[test]
    fn first_reaching_finds_boundaries_from_any_guess() {
        let from = Nanos(10);
        for boundary in [11u64, 12, 1000, 1 << 40, u64::MAX] {
            for guess in [f64::NAN, -5.0, 0.0, 3.0, 1e6, 1e30, f64::INFINITY] {
                let got = first_reaching(from, guess, |c| c.0 >= boundary);
                assert_eq!(
                    got,
                    Some(Nanos(boundary)),
                    "boundary {boundary} guess {guess}"
                );
            }
        }
        assert_eq!(first_reaching(from, 5.0, |_| false), None);
        assert_eq!(first_reaching(from, 5.0, |_| true), Some(from));
    }
}
