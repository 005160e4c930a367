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

use crate::math;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The random stream of one component.
#[derive(Clone, Debug)]
pub struct Stream {
    rng: ChaCha8Rng,
    /// The second normal of the last Box–Muller pair, not yet handed out.
    spare_normal: Option<f64>,
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
        Stream {
            rng,
            spare_normal: None,
        }
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

    /// A standard normal draw. Box–Muller turns two uniform draws into two
    /// independent normals, `r cos θ` and `r sin θ`; the first call of a
    /// pair draws both uniforms and returns the cosine one, the next call
    /// returns the sine one and draws nothing. So normals cost one `u64`
    /// each on average, and the pair lives in this stream's state: a
    /// component's draws still depend only on its own calls.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = self.unit_open();
        let u2 = self.unit_open();
        let r = (-2.0 * math::ln(u1)).sqrt();
        let (sin, cos) = math::sin_cos(std::f64::consts::TAU * u2);
        self.spare_normal = Some(r * sin);
        r * cos
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
        // Pins the Box–Muller pairs and the libm arithmetic behind them: a
        // change of sampler, of libm, or a platform whose floating point
        // differs fails here before it silently moves every result. (With
        // glibc's log and cos the first normal would end in ...d52e, the
        // second in ...fdc3: one ulp off each.)
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
        0xbfef_2f2a_394b_d52d,
        0x4006_b5e8_2ddd_fdc2,
        0xbf99_f719_4462_1da5,
        0x3fe9_5521_56b2_87bd,
        0xbfcf_80ed_cd6e_d9d7,
    ];
    const PINNED_LOGNORMAL_NS: [u64; 5] = [139_300, 127_802, 97_683, 88_893, 83_097];
    const PINNED_EXPONENTIALS: [u64; 3] = [
        0x4139_3b5d_cb2d_9c86,
        0x4136_a611_b297_63c8,
        0x4139_449f_60e1_7d9f,
    ];

    #[test]
    fn a_pair_of_normals_costs_two_uniform_draws() {
        let mut a = Stream::new(9, "pairs");
        let mut b = a.clone();
        for _ in 0..6 {
            a.standard_normal();
        }
        for _ in 0..6 {
            b.next_u64();
        }
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn normal_draws_have_unit_variance_and_uncorrelated_pair_halves() {
        let n = 200_000;
        let mut s = Stream::new(5, "moments");
        let (mut sum, mut sum_sq, mut cross) = (0.0, 0.0, 0.0);
        for _ in 0..n / 2 {
            let (x, y) = (s.standard_normal(), s.standard_normal());
            sum += x + y;
            sum_sq += x * x + y * y;
            cross += x * y;
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        let corr = cross / (n / 2) as f64;
        // Standard errors: 1/sqrt(n) ≈ 0.0022 for the mean, sqrt(2/n) ≈
        // 0.0032 for the variance, sqrt(2/n) for the pair correlation.
        assert!(mean.abs() < 0.011, "mean {mean}");
        assert!((var - 1.0).abs() < 0.016, "variance {var}");
        assert!(corr.abs() < 0.016, "correlation of a pair's halves {corr}");
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
