//! Sorting many durations: a least-significant-digit radix sort.
//!
//! A setting of a busy detector can pool millions of mistake durations;
//! its percentiles are found by selection ([`super::pooled`]), but the
//! durations plot and a Kaplan–Meier quantile sort the merged sample.
//! A comparison sort pays about log₂ n comparisons, mostly mispredicted,
//! per element; counting 11-bit digits pays a few sequential passes: one
//! to count every digit, then one scatter per digit that is not the same
//! for all values (four for durations up to 2^44 ns, about 4.9 hours).
//! The values are sorted completely, so the result is the one any sort
//! gives.

use crate::sim::Nanos;

const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
/// Below this length the standard sort is as fast and needs no buffer.
const SMALL: usize = 1 << 10;

/// Sorts `v` in increasing order.
pub fn sort_nanos(v: &mut [Nanos]) {
    if v.len() < SMALL || v.len() > u32::MAX as usize {
        v.sort_unstable();
        return;
    }
    let n = v.len();
    // The digits above the highest set bit of any value are all zero:
    // counted nowhere, scattered never (durations of a second use three).
    let max = v.iter().fold(0, |m, x| m | x.0);
    let used = (64 - max.leading_zeros()).div_ceil(DIGIT_BITS) as usize;
    let mut counts = vec![[0u32; BUCKETS]; used];
    for x in v.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[digit(x.0, d)] += 1;
        }
    }
    let mut scratch = vec![Nanos::ZERO; n];
    let (mut src, mut dst): (&mut [Nanos], &mut [Nanos]) = (v, &mut scratch[..]);
    let mut in_scratch = false;
    for (d, count) in counts.iter().enumerate() {
        if count.contains(&(n as u32)) {
            continue; // every value has the same digit here
        }
        let mut next = [0usize; BUCKETS];
        let mut at = 0;
        for (slot, &c) in next.iter_mut().zip(count) {
            *slot = at;
            at += c as usize;
        }
        for &x in src.iter() {
            let b = digit(x.0, d);
            dst[next[b]] = x;
            next[b] += 1;
        }
        std::mem::swap(&mut src, &mut dst);
        in_scratch = !in_scratch;
    }
    if in_scratch {
        dst.copy_from_slice(src);
    }
}

#[inline]
fn digit(x: u64, d: usize) -> usize {
    ((x >> (d as u32 * DIGIT_BITS)) as usize) & (BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(values: Vec<u64>) {
        let mut got: Vec<Nanos> = values.iter().map(|&x| Nanos(x)).collect();
        let mut want = got.clone();
        sort_nanos(&mut got);
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn sorts_long_inputs_of_every_width() {
        let mut s = crate::sim::Stream::new(3, "radix");
        for bits in [1u32, 11, 12, 33, 44, 63, 64] {
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            check((0..5_000).map(|_| s.next_u64() & mask).collect());
        }
        // Equal high digits (skipped passes), all equal, already sorted,
        // reversed.
        check(
            (0..3_000)
                .map(|i| (7 << 40) | (i * 2_654_435_761 % 4_096))
                .collect(),
        );
        check(vec![42; 2_000]);
        check((0..2_000).collect());
        check((0..2_000).rev().collect());
    }

    proptest! {
        #[test]
        fn sorts_like_the_standard_sort(
            values in proptest::collection::vec(any::<u64>(), 0..3_000),
            shift in 0u32..64,
        ) {
            check(values.into_iter().map(|x| x >> shift).collect());
        }
    }
}
