//! Confidence intervals and the special functions they need, written out
//! so that the numbers in every report come from one tested place.
//!
//! - [`mean_interval`]: Student-t interval for a mean.
//! - [`poisson_interval`]: the exact (Garwood) interval for a Poisson
//!   count, from chi-square quantiles.

use crate::math;

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error
/// below 1e-14 over the range used here).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return math::ln(pi / math::sin(pi * x)) - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * math::ln(2.0 * std::f64::consts::PI) + (x + 0.5) * math::ln(t) - t + math::ln(a)
}

/// Regularized lower incomplete gamma P(a, x).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x < a + 1.0 {
        gamma_series(a, x)
    } else {
        1.0 - gamma_cont_frac(a, x)
    }
}

/// Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), accurate in
/// the upper tail.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_series(a, x)
    } else {
        gamma_cont_frac(a, x)
    }
}

fn gamma_series(a: f64, x: f64) -> f64 {
    let mut term = 1.0 / a;
    let mut sum = term;
    let mut n = a;
    for _ in 0..10_000 {
        n += 1.0;
        term *= x / n;
        sum += term;
        if term.abs() < sum.abs() * 1e-16 {
            break;
        }
    }
    sum * math::exp(-x + a * math::ln(x) - ln_gamma(a))
}

/// Q(a, x) by Lentz's continued fraction.
fn gamma_cont_frac(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    math::exp(-x + a * math::ln(x) - ln_gamma(a)) * h
}

/// Regularized incomplete beta I_x(a, b).
pub fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front =
        ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * math::ln(x) + b * math::ln(1.0 - x);
    if x < (a + 1.0) / (a + b + 2.0) {
        math::exp(ln_front) * beta_cont_frac(a, b, x) / a
    } else {
        1.0 - math::exp(ln_front) * beta_cont_frac(b, a, 1.0 - x) / b
    }
}

fn beta_cont_frac(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Standard normal CDF Φ(z), via erfc(x) = Q(1/2, x²).
pub fn normal_cdf(z: f64) -> f64 {
    let q = 0.5 * gamma_q(0.5, z * z / 2.0);
    if z >= 0.0 {
        1.0 - q
    } else {
        q
    }
}

/// Inverts an increasing function on `[lo, hi]` by bisection.
fn invert(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi.abs().max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The p-quantile of the standard normal distribution.
pub fn normal_quantile(p: f64) -> f64 {
    invert(normal_cdf, p, -40.0, 40.0)
}

/// Student-t CDF with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * beta_inc(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The p-quantile of Student's t with `df` degrees of freedom (the normal
/// quantile beyond 10⁵ degrees of freedom, where they agree to 1e-5).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if df > 1e5 {
        return normal_quantile(p);
    }
    invert(|t| student_t_cdf(t, df), p, -1e6, 1e6)
}

/// The p-quantile of the chi-square distribution with `k` degrees of
/// freedom (k may be any positive real).
pub fn chi2_quantile(p: f64, k: f64) -> f64 {
    let hi = k + 40.0 * (2.0 * k).sqrt() + 100.0;
    invert(|x| gamma_p(k / 2.0, x / 2.0), p, 0.0, hi)
}

/// Exact (Garwood) two-sided interval for the mean of a Poisson count
/// `k` at confidence `conf` (e.g. 0.95): `[χ²(α/2; 2k)/2, χ²(1−α/2; 2k+2)/2]`,
/// with a lower bound of 0 when k = 0.
pub fn poisson_interval(k: u64, conf: f64) -> (f64, f64) {
    let alpha = 1.0 - conf;
    let lo = if k == 0 {
        0.0
    } else {
        chi2_quantile(alpha / 2.0, 2.0 * k as f64) / 2.0
    };
    let hi = chi2_quantile(1.0 - alpha / 2.0, 2.0 * k as f64 + 2.0) / 2.0;
    (lo, hi)
}

/// A mean with its two-sided Student-t confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanInterval {
    pub n: usize,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Mean of `values` with a Student-t interval at confidence `conf`; with
/// one value the interval is unbounded (±∞), with none there is no mean.
pub fn mean_interval(values: &[f64], conf: f64) -> Option<MeanInterval> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(MeanInterval {
            n,
            mean,
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        });
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    let t = student_t_quantile(1.0 - (1.0 - conf) / 2.0, (n - 1) as f64);
    let half = t * (var / n as f64).sqrt();
    Some(MeanInterval {
        n,
        mean,
        lo: mean - half,
        hi: mean + half,
    })
}

/// Distribution-free interval for the `p`-quantile of `sorted` values:
/// the order statistics x₍ₗ₎ and x₍ᵤ₎ whose ranks bracket n·p by the
/// normal approximation to the binomial count of values below the
/// quantile, at confidence `conf`. `None` for an empty slice.
pub fn quantile_interval(sorted: &[f64], p: f64, conf: f64) -> Option<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let z = normal_quantile(1.0 - (1.0 - conf) / 2.0);
    let nf = n as f64;
    let half = z * (nf * p * (1.0 - p)).sqrt();
    let lo = ((nf * p - half).floor() as isize).clamp(1, n as isize) as usize;
    let hi = ((nf * p + half).ceil() as isize + 1).clamp(1, n as isize) as usize;
    Some((sorted[lo - 1], sorted[hi - 1]))
}

/// One-sided p-value that a Poisson rate rose: `k_new` events in `t_new`
/// against `k_old` in `t_old`. Conditional on the total N, k_new is
/// binomial(N, t_new/(t_old + t_new)) when the rates are equal; this is
/// P(X ≥ k_new) = I_π(k_new, N − k_new + 1) (the exact conditional test).
pub fn poisson_increase_p(k_old: u64, t_old: f64, k_new: u64, t_new: f64) -> f64 {
    if k_new == 0 {
        return 1.0;
    }
    let n = (k_old + k_new) as f64;
    let pi = t_new / (t_old + t_new);
    beta_inc(k_new as f64, n - k_new as f64 + 1.0, pi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        assert!(close(ln_gamma(1.0), 0.0_f64.max(1e-300), 1.0) || ln_gamma(1.0).abs() < 1e-14);
        assert!(close(ln_gamma(11.0), math::ln(3_628_800.0), 1e-14));
        assert!(close(
            ln_gamma(0.5),
            math::ln(std::f64::consts::PI.sqrt()),
            1e-14
        ));
    }

    #[test]
    fn normal_quantiles_match_tables() {
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-9));
        assert!(close(normal_quantile(0.995), 2.575_829_303_548_901, 1e-9));
        assert!(normal_quantile(0.5).abs() < 1e-12);
        assert!(close(normal_cdf(-3.0), 1.349_898_031_630_094_6e-3, 1e-9));
    }

    #[test]
    fn student_t_quantiles_match_tables() {
        // Two-sided 95 % critical values of Student's t.
        assert!(close(student_t_quantile(0.975, 1.0), 12.706_204_736, 1e-8));
        assert!(close(student_t_quantile(0.975, 9.0), 2.262_157_163, 1e-8));
        assert!(close(student_t_quantile(0.975, 30.0), 2.042_272_456, 1e-8));
        assert!(close(student_t_quantile(0.975, 1e6), 1.959_963_985, 1e-8));
    }

    #[test]
    fn chi_square_quantiles_match_tables() {
        // Table values (5-6 significant digits), then exact round trips.
        assert!(close(chi2_quantile(0.95, 1.0), 3.841_459, 1e-6));
        assert!(close(chi2_quantile(0.025, 20.0), 9.590_777, 1e-6));
        assert!(close(chi2_quantile(0.975, 22.0), 36.780_71, 1e-6));
        for (p, k) in [(0.025, 2.0), (0.5, 7.0), (0.975, 400.0)] {
            let q = chi2_quantile(p, k);
            assert!((gamma_p(k / 2.0, q / 2.0) - p).abs() < 1e-12, "{p} {k}");
        }
    }

    #[test]
    fn poisson_intervals_match_garwood_tables() {
        let (lo, hi) = poisson_interval(0, 0.95);
        assert_eq!(lo, 0.0);
        assert!(close(hi, 3.688_879_454, 1e-8)); // −ln(0.025)
        let (lo, hi) = poisson_interval(1, 0.95);
        // k = 1: the lower bound solves 1 − e^−λ = 0.025 exactly.
        assert!(close(lo, -math::ln(0.975), 1e-10));
        assert!(close(hi, 5.571_64, 1e-6));
        let (lo, hi) = poisson_interval(10, 0.95);
        assert!(close(lo, 4.795_39, 1e-6));
        assert!(close(hi, 18.390_36, 1e-6));
    }

    #[test]
    fn quantile_interval_brackets_the_sample_quantile() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        let (lo, hi) = quantile_interval(&v, 0.99, 0.95).unwrap();
        // n·p = 990, half-width 1.96·sqrt(9.9) = 6.17.
        assert_eq!((lo, hi), (983.0, 998.0));
        assert_eq!(quantile_interval(&[5.0], 0.99, 0.95), Some((5.0, 5.0)));
    }

    #[test]
    fn poisson_increase_test_matches_the_binomial_tail() {
        // Equal exposure: X ~ Bin(10, 1/2); P(X >= 8) = 56/1024.
        let p = poisson_increase_p(2, 1.0, 8, 1.0);
        assert!((p - 56.0 / 1024.0).abs() < 1e-12, "{p}");
        assert_eq!(poisson_increase_p(5, 1.0, 0, 1.0), 1.0);
        assert!(poisson_increase_p(10, 100.0, 40, 100.0) < 1e-4);
    }

    #[test]
    fn mean_interval_uses_the_t_critical_value() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let m = mean_interval(&v, 0.95).unwrap();
        assert_eq!(m.mean, 5.5);
        // s = 3.0276504, se = 0.9574271, t(0.975, 9) = 2.2621572
        assert!(
            close(
                m.hi - m.mean,
                3.027_650_4 / 10f64.sqrt() * 2.262_157_2,
                1e-7
            ),
            "{m:?}"
        );
        assert!(mean_interval(&[], 0.95).is_none());
        assert!(mean_interval(&[3.0], 0.95).unwrap().hi.is_infinite());
    }
}
