//! One-way latency distributions for links.

use crate::math;
use crate::sim::rng::Stream;
use crate::sim::time::Nanos;
use std::sync::Arc;

/// A one-way delay distribution. Parameters are in nanoseconds unless the
/// name says otherwise; `sample` never returns a negative delay.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    /// Always `value`.
    Constant { value: Nanos },
    /// Uniform on `[min, max]`.
    Uniform { min: Nanos, max: Nanos },
    /// Normal with `mean` and `std`, truncated at zero by redrawing.
    Normal { mean: f64, std: f64 },
    /// Log-normal: `ln(delay)` is normal with mean `ln(median)` and
    /// standard deviation `sigma`.
    LogNormal { median: f64, sigma: f64 },
    /// `shift` plus an exponential with mean `mean - shift`.
    Exponential { shift: Nanos, mean: f64 },
    /// Pareto (type I) with minimum `scale` and tail index `shape`.
    Pareto { scale: f64, shape: f64 },
    /// One of `samples`, chosen uniformly: measured delays replayed.
    /// `source` names where they came from (the file as the scenario
    /// wrote it). The samples are shared, so cloning is cheap.
    Empirical {
        samples: Arc<[Nanos]>,
        source: Arc<str>,
    },
}

impl Latency {
    /// Draws one delay: no draw for `Constant`, one for `Uniform`,
    /// `Exponential`, `Pareto` and `Empirical`; `LogNormal` and each try of
    /// `Normal` (which redraws while negative) take one standard normal,
    /// one draw 98.5 % of the time (see [`Stream::standard_normal`]).
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> Nanos {
        match *self {
            Latency::Constant { value } => value,
            Latency::Uniform { min, max } => {
                let span = max.0 - min.0;
                Nanos(min.0 + rng.below(span + 1))
            }
            Latency::Normal { mean, std } => {
                for _ in 0..64 {
                    let x = mean + std * rng.standard_normal();
                    if x >= 0.0 {
                        return Nanos(math::round_u64(x));
                    }
                }
                Nanos(0)
            }
            Latency::LogNormal { median, sigma } => Nanos(math::round_u64(
                median * math::exp(sigma * rng.standard_normal()),
            )),
            Latency::Exponential { shift, mean } => {
                let excess = mean - shift.0 as f64;
                shift + Nanos(math::round_u64(rng.exponential(excess)))
            }
            Latency::Pareto { scale, shape } => {
                let x = scale * math::powf(rng.unit_open(), -1.0 / shape);
                Nanos(math::round_u64(x.min(u64::MAX as f64 / 4.0)))
            }
            // An empty sample set (which validation never builds) is a
            // zero delay and draws nothing.
            Latency::Empirical { ref samples, .. } => match samples.len() as u64 {
                0 => Nanos::ZERO,
                n => samples[rng.below(n) as usize],
            },
        }
    }

    /// The mean delay in nanoseconds, where it is finite.
    pub fn mean(&self) -> Option<f64> {
        match *self {
            Latency::Constant { value } => Some(value.0 as f64),
            Latency::Uniform { min, max } => Some((min.0 + max.0) as f64 / 2.0),
            // Truncation moves the mean; report the untruncated one only
            // when truncation is negligible.
            Latency::Normal { mean, std } => (mean >= 4.0 * std).then_some(mean),
            Latency::LogNormal { median, sigma } => Some(median * math::exp(sigma * sigma / 2.0)),
            Latency::Exponential { mean, .. } => Some(mean),
            Latency::Pareto { scale, shape } => {
                (shape > 1.0).then(|| scale * shape / (shape - 1.0))
            }
            Latency::Empirical { ref samples, .. } => (!samples.is_empty())
                .then(|| samples.iter().map(|s| s.0 as f64).sum::<f64>() / samples.len() as f64),
        }
    }

    /// The scenario-file name of the distribution.
    pub fn name(&self) -> &'static str {
        match self {
            Latency::Constant { .. } => "constant",
            Latency::Uniform { .. } => "uniform",
            Latency::Normal { .. } => "normal",
            Latency::LogNormal { .. } => "lognormal",
            Latency::Exponential { .. } => "exponential",
            Latency::Pareto { .. } => "pareto",
            Latency::Empirical { .. } => "empirical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_mean(lat: &Latency, n: usize) -> f64 {
        let mut rng = Stream::new(3, "latency-test");
        (0..n).map(|_| lat.sample(&mut rng).0 as f64).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_the_analytic_means() {
        let cases = [
            Latency::Uniform {
                min: Nanos(1_000),
                max: Nanos(3_000),
            },
            Latency::Normal {
                mean: 10_000.0,
                std: 1_000.0,
            },
            Latency::LogNormal {
                median: 5_000.0,
                sigma: 0.5,
            },
            Latency::Exponential {
                shift: Nanos(1_000),
                mean: 4_000.0,
            },
            Latency::Pareto {
                scale: 1_000.0,
                shape: 3.5,
            },
            Latency::Empirical {
                samples: vec![Nanos(1_000), Nanos(2_000), Nanos(9_000)].into(),
                source: "test".into(),
            },
        ];
        for lat in cases {
            let want = lat.mean().unwrap();
            let got = sample_mean(&lat, 200_000);
            // Loose enough for sampling error (< 1 % at this n for these
            // coefficients of variation), tight enough to catch a wrong
            // parameterisation (which is off by 10 % or more).
            assert!((got - want).abs() / want < 0.02, "{lat:?}: {got} vs {want}");
        }
    }

    #[test]
    fn truncated_normal_never_goes_negative() {
        let lat = Latency::Normal {
            mean: 100.0,
            std: 1_000.0,
        };
        let mut rng = Stream::new(1, "n");
        for _ in 0..10_000 {
            let _ = lat.sample(&mut rng); // u64: a negative would have panicked in the cast check below
        }
        assert_eq!(
            Latency::Constant { value: Nanos(7) }.sample(&mut rng),
            Nanos(7)
        );
    }
}
