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

    /// A standard normal draw (Box–Muller, one output per call).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = self.unit_open();
        let u2 = self.unit_open();
        (-2.0 * math::ln(u1)).sqrt() * math::cos(std::f64::consts::TAU * u2)
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
