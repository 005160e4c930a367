//! Seeded randomness: one independent ChaCha stream per component.
//!
//! A run has one master seed. Each component (a node, a link, a fault)
//! gets its own [`ChaCha8Rng`] whose key comes from the master seed and
//! whose stream id comes from a stable hash of the component's label
//! (`"link:target->monitor"`). Adding a component therefore never shifts
//! the draws of another, and the streams are portable across platforms
//! and releases because ChaCha is a fixed, specified cipher. The
//! transformations of uniform draws into normal and exponential ones use
//! [`crate::math`], so they give the same bits on every platform too.

use super::ziggurat;
use crate::math;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The random stream of one component.
#[derive(Clone, Debug)]
pub struct Stream {
    rng: ChaCha8Rng,
}

impl Stream {
    /// The stream for `label` under `master_seed`.
    pub fn new(master_seed: u64, label: &str) -> Stream {
        let mut key = [0u8; 32];
        let mut state = master_seed;
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(fnv1a64(label.as_bytes()));
        Stream { rng }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform draw in the open interval (0, 1), with 53 bits of precision.
    pub fn unit_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.unit_open() < p
        }
    }

    /// A uniform integer in `[0, n)`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        // Lemire's widening multiply; the bias is below 2^-64 * n.
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A standard normal draw, by the ziggurat method
    /// ([`super::ziggurat`]): one `u64` for 98.5 % of draws, and a few
    /// more, with an `exp` or two logarithms, for the rest.
    pub fn standard_normal(&mut self) -> f64 {
        let t = ziggurat::tables();
        loop {
            let bits = self.next_u64();
            let layer = (bits & 0xff) as usize;
            let x = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * t.x[layer];
            let sign = if bits & 0x100 == 0 { 1.0 } else { -1.0 };
            if x < t.x[layer + 1] {
                return sign * x;
            }
            if layer == 0 {
                return sign * self.normal_tail();
            }
            // Between the column fully under the bell and the layer's
            // right edge: keep the point if it falls under the curve.
            let y = t.f[layer] + self.unit_open() * (t.f[layer + 1] - t.f[layer]);
            if y < ziggurat::bell(x) {
                return sign * x;
            }
        }
    }

    /// A draw of the standard normal conditioned on exceeding
    /// [`ziggurat::R`] (Marsaglia, 1964).
    #[cold]
    fn normal_tail(&mut self) -> f64 {
        loop {
            let x = -math::ln(self.unit_open()) / ziggurat::R;
            let y = -math::ln(self.unit_open());
            if y + y >= x * x {
                return ziggurat::R + x;
            }
        }
    }

    /// An exponential draw with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * math::ln(self.unit_open())
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 64-bit FNV-1a: a stable, specified hash for component labels.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_draws_are_pinned_for_a_fixed_seed() {
        // If this test fails, every recorded result and baseline changes:
        // do not update the numbers without a reason in the commit message.
        let mut s = Stream::new(42, "link:target->monitor");
        let got: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        assert_eq!(got, PINNED, "first draws for seed 42 changed: {got:?}");
    }

    const PINNED: [u64; 3] = [
        204048215157156525,
        5582510572709987549,
        13480146502032143828,
    ];

    #[test]
    fn first_normal_and_lognormal_draws_are_pinned_bit_for_bit() {
        // Pins the ziggurat sampler, its tables and the exp behind the
        // lognormal: a change of sampler, of src/math.rs, or a platform
        // whose floating point differs fails here before it silently
        // moves every result.
        let mut s = Stream::new(42, "link:target->monitor");
        let normals: Vec<u64> = (0..5).map(|_| s.standard_normal().to_bits()).collect();
        assert_eq!(normals, PINNED_NORMALS, "{normals:x?}");
        let lat = crate::net::Latency::LogNormal {
            median: 100_000.0,
            sigma: 0.35,
        };
        let delays: Vec<u64> = (0..5).map(|_| lat.sample(&mut s).0).collect();
        assert_eq!(delays, PINNED_LOGNORMAL_NS);
        let exps: Vec<u64> = (0..3).map(|_| s.exponential(1e6).to_bits()).collect();
        assert_eq!(exps, PINNED_EXPONENTIALS, "{exps:x?}");
    }

    const PINNED_NORMALS: [u64; 5] = [
        0x3f8b_e8ce_14ef_d1d7,
        0x3fd0_8b4b_efc6_1077,
        0xbfe5_e5d4_394a_0131,
        0xbfd2_7efc_c3cc_afcb,
        0xbfe8_d5f1_61f7_23cb,
    ];
    const PINNED_LOGNORMAL_NS: [u64; 5] = [130_117, 68_952, 50_377, 85_866, 76_850];
    const PINNED_EXPONENTIALS: [u64; 3] = [
        0x4139_3b5d_cb2d_9c86,
        0x4136_a611_b297_63c8,
        0x4139_449f_60e1_7d9f,
    ];

    #[test]
    fn most_normals_cost_one_u64() {
        // 98.5 % of ziggurat draws take the fast path (one u64); the rest
        // take one more uniform, or two for the tail, and may start over.
        let n = 1_000_000u64;
        let mut s = Stream::new(9, "cost");
        let before = s.rng.get_word_pos();
        for _ in 0..n {
            s.standard_normal();
        }
        let words = (s.rng.get_word_pos() - before) as u64;
        let per_draw = words as f64 / 2.0 / n as f64;
        assert!(
            per_draw > 1.005 && per_draw < 1.03,
            "{per_draw} u64 per normal"
        );
    }

    use crate::metrics::interval::normal_cdf as phi;

    /// The Kolmogorov–Smirnov distance between sorted draws and `cdf`.
    fn ks_distance(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
        let n = sorted.len() as f64;
        let mut d: f64 = 0.0;
        for (i, &x) in sorted.iter().enumerate() {
            let p = cdf(x);
            d = d
                .max((p - i as f64 / n).abs())
                .max(((i + 1) as f64 / n - p).abs());
        }
        d
    }

    #[test]
    fn normal_draws_follow_the_normal_cdf_in_the_body_and_the_tails() {
        // Kolmogorov–Smirnov over 400,000 draws, and the frequency beyond
        // each of a few points against 1 − Φ, the tail beyond r = 3.654
        // (drawn by its own method) included. A wrong layer table, a wedge
        // test against the wrong curve or a biased tail fails here.
        let n = 400_000;
        let mut s = Stream::new(21, "ks");
        let mut xs: Vec<f64> = (0..n).map(|_| s.standard_normal()).collect();
        xs.sort_by(f64::total_cmp);
        let d = ks_distance(&xs, phi);
        // The 1 % critical value is 1.63 / √n.
        assert!(d < 1.63 / (n as f64).sqrt(), "KS distance {d}");
        let m = 4_000_000;
        let mut beyond = [0u64; 4];
        let points = [1.0, 2.5, ziggurat::R, 4.5];
        for _ in 0..m {
            let z = s.standard_normal().abs();
            for (count, &p) in beyond.iter_mut().zip(&points) {
                *count += (z > p) as u64;
            }
        }
        for (&count, &p) in beyond.iter().zip(&points) {
            let want = 2.0 * (1.0 - phi(p)) * m as f64;
            // Four standard errors of a binomial count.
            assert!(
                (count as f64 - want).abs() < 4.0 * want.sqrt() + 1.0,
                "|z| > {p}: {count} draws, expected {want:.1}"
            );
        }
    }

    #[test]
    fn tail_draws_follow_the_normal_beyond_r() {
        // The base layer's tail method on its own: Kolmogorov–Smirnov
        // against the normal conditioned on exceeding r, whose CDF is
        // 1 − (1 − Φ(x)) / (1 − Φ(r)).
        let n = 200_000;
        let mut s = Stream::new(4, "tail");
        let mut xs: Vec<f64> = (0..n).map(|_| s.normal_tail()).collect();
        xs.sort_by(f64::total_cmp);
        assert!(xs[0] >= ziggurat::R, "a tail draw below r: {}", xs[0]);
        let beyond_r = 1.0 - phi(ziggurat::R);
        let d = ks_distance(&xs, |x| 1.0 - (1.0 - phi(x)) / beyond_r);
        assert!(d < 1.63 / (n as f64).sqrt(), "KS distance {d}");
    }

    #[test]
    fn normal_draws_are_symmetric_with_unit_variance_and_normal_kurtosis() {
        let n = 1_000_000;
        let mut s = Stream::new(5, "moments");
        let (mut m1, mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0, 0.0);
        let mut prev = 0.0;
        let mut lag = 0.0;
        for _ in 0..n {
            let x = s.standard_normal();
            m1 += x;
            m2 += x * x;
            m3 += x * x * x;
            m4 += x * x * x * x;
            lag += x * prev;
            prev = x;
        }
        let n = n as f64;
        let (mean, var, skew, kurt) = (m1 / n, m2 / n, m3 / n, m4 / n);
        // Standard errors at n = 10⁶: 0.001 (mean), 0.0014 (variance),
        // 0.0024 (third moment), 0.0077 (fourth), 0.001 (lag-one).
        assert!(mean.abs() < 0.005, "mean {mean}");
        assert!((var - 1.0).abs() < 0.007, "variance {var}");
        assert!(skew.abs() < 0.012, "third moment {skew}");
        assert!((kurt - 3.0).abs() < 0.04, "fourth moment {kurt}");
        assert!((lag / n).abs() < 0.005, "lag-one correlation {}", lag / n);
    }

    #[test]
    fn streams_with_different_labels_differ_and_same_labels_agree() {
        let a: Vec<u64> = {
            let mut s = Stream::new(7, "node:a");
            (0..4).map(|_| s.next_u64()).collect()
        };
        let a2: Vec<u64> = {
            let mut s = Stream::new(7, "node:a");
            (0..4).map(|_| s.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut s = Stream::new(7, "node:b");
            (0..4).map(|_| s.next_u64()).collect()
        };
        let a_other_seed: Vec<u64> = {
            let mut s = Stream::new(8, "node:a");
            (0..4).map(|_| s.next_u64()).collect()
        };
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_ne!(a, a_other_seed);
    }

    #[test]
    fn unit_open_stays_inside_the_open_interval() {
        let mut s = Stream::new(1, "u");
        for _ in 0..10_000 {
            let u = s.unit_open();
            assert!(u > 0.0 && u < 1.0);
        }
    }

    #[test]
    fn fnv_matches_the_published_test_vector() {
        // FNV-1a 64 of "a" from the reference test suite.
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
    }
}
