//! Transcendental functions with the same bits on every platform.
//!
//! `f64::ln`, `exp`, `cos`, `powf`, `log10` and the rest call the C
//! library of the platform (or an LLVM intrinsic that lowers to it), and
//! glibc, musl, macOS and Windows disagree in the last bits of their
//! results. One ulp in a latency draw can round to another nanosecond and
//! move every event after it, so "the same scenario and seed give
//! byte-identical output on any machine" would hold only on machines with
//! the same C library. Every transcendental that can reach an output file
//! (sampling, detectors, scoring, intervals, tuning, reports) therefore
//! comes from here, and here from the [`libm`] crate: a pure-Rust port of
//! musl's libm, compiled as ordinary Rust arithmetic, which gives the same
//! bits wherever IEEE-754 `+ - * /` do. The version is pinned by
//! `Cargo.lock`; the unit tests below and the pinned draws of
//! [`crate::sim::rng`] catch a change of its results. [`exp`], on every
//! message's lognormal delay, is our own table-driven one, built from the
//! same operations (and from libm's `exp2` for its table).
//!
//! `sqrt`, `mul_add`, `abs`, `floor`, `ceil`, `round` and the basic
//! operations are exactly rounded by IEEE-754 and stay the std methods.
//! `f64::powi` is not: LLVM may expand it into a chain of multiplications
//! or a call, depending on the platform and the optimisation level, so
//! use a product or [`powf`]. `clippy.toml` forbids the std methods this
//! module replaces, so `cargo clippy` rejects a new `x.ln()`.

/// `x.round() as u64`, without the call: x86-64's baseline has no
/// rounding instruction, so `f64::round` is a call into the C library,
/// and a latency draw pays one per message. Below 2^52 the fraction
/// `x − ⌊x⌋` is exact, so rounding half away from zero is "up when the
/// fraction is at least ½"; anything else (negative, NaN, huge) takes
/// `round` and the saturating cast, as before.
#[inline]
pub fn round_u64(x: f64) -> u64 {
    const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52
    if (0.0..EXACT).contains(&x) {
        let whole = x as u64;
        whole + u64::from(x - whole as f64 >= 0.5)
    } else {
        x.round() as u64
    }
}

/// `x.ceil() as u64`, without the call (see [`round_u64`]): below 2^52
/// the whole part is exact, so the ceiling is one more when the whole
/// part falls short of `x`; anything else takes `ceil` and the saturating
/// cast, as before.
#[inline]
pub fn ceil_u64(x: f64) -> u64 {
    const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52
    if (0.0..EXACT).contains(&x) {
        let whole = x as u64;
        whole + u64::from((whole as f64) < x)
    } else {
        x.ceil() as u64
    }
}

/// The natural logarithm.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// `ln(1 + x)`, accurate for small `x`.
#[inline]
pub fn ln_1p(x: f64) -> f64 {
    libm::log1p(x)
}

/// The base-10 logarithm.
#[inline]
pub fn log10(x: f64) -> f64 {
    libm::log10(x)
}

/// The base-2 logarithm.
#[inline]
pub fn log2(x: f64) -> f64 {
    libm::log2(x)
}

/// `e^x`, within about one ulp of the exact value.
///
/// Our own, not libm's: `libm::exp` (FreeBSD's) evaluates a rational
/// function with a division on every call, and a lognormal latency draw
/// pays one per message (15 % of a pairwise run). Here `x = k ln2/128 + r`
/// with `|r| ≤ ln2/256`, and `e^x = 2^(k/128) · e^r`: `2^(j/128)` comes
/// from a 128-entry table (built once, with libm's `exp2`) shifted by
/// `⌊k/128⌋` in the exponent, and `e^r` from its Taylor polynomial to the
/// fifth power (the sixth term is below 2⁻⁶⁰ of the result). Only
/// IEEE-754 `+ - *` and exact bit operations are used, so the bits are the
/// same on every platform. Arguments beyond ±707, where the result nears
/// overflow or the subnormals, and NaN go to libm.
#[inline]
pub fn exp(x: f64) -> f64 {
    // A NaN fails the first test and takes the libm path too.
    if x.abs() > 707.0 || x.is_nan() {
        return libm::exp(x);
    }
    // 128 / ln 2, and ln 2 / 128 split Cody–Waite style: the high part has
    // 32 significant bits, so `k * LN2_HI_N` is exact for |k| < 2^21.
    const INV_LN2_N: f64 = 184.664_965_233_787_3;
    const LN2_HI_N: f64 = 6.931_471_803_691_238e-1 / 128.0;
    const LN2_LO_N: f64 = 1.908_214_929_270_587_7e-10 / 128.0;
    // Adding 1.5 · 2^52 rounds to the nearest integer (ties to even).
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let kd = (x * INV_LN2_N + SHIFT) - SHIFT;
    let k = kd as i64;
    let r = (x - kd * LN2_HI_N) - kd * LN2_LO_N;
    let table = exp2_table();
    // 2^(k/128) = 2^(j/128) · 2^m with j = k mod 128 and m = ⌊k/128⌋,
    // the power of two added to the table entry's exponent field.
    let entry = table[(k & (EXP_TABLE_LEN as i64 - 1)) as usize];
    let scale = f64::from_bits(entry.to_bits().wrapping_add(((k >> 7) as u64) << 52));
    // r + r²/2 + r³/6 + r⁴/24 + r⁵/120, grouped so that the two halves
    // evaluate side by side (Estrin) rather than in one chain.
    let r2 = r * r;
    let q = r + r2 * ((0.5 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0)));
    scale + scale * q
}

const EXP_TABLE_LEN: usize = 128;

/// `2^(j/128)` for `j` in `0..128`, each within half an ulp or so
/// (musl's `exp2`, through libm).
fn exp2_table() -> &'static [f64; EXP_TABLE_LEN] {
    static TABLE: std::sync::OnceLock<[f64; EXP_TABLE_LEN]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|j| libm::exp2(j as f64 / EXP_TABLE_LEN as f64)))
}

/// `e^x - 1`, accurate for small `x`.
#[inline]
pub fn exp_m1(x: f64) -> f64 {
    libm::expm1(x)
}

/// `x^y`.
#[inline]
pub fn powf(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// The cube root.
#[inline]
pub fn cbrt(x: f64) -> f64 {
    libm::cbrt(x)
}

/// The sine of `x` radians.
#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}

/// The cosine of `x` radians.
#[inline]
pub fn cos(x: f64) -> f64 {
    libm::cos(x)
}

/// The sine and the cosine of `x` radians, in one argument reduction.
#[inline]
pub fn sin_cos(x: f64) -> (f64, f64) {
    libm::sincos(x)
}

/// The complementary error function, `1 − erf(x)`.
#[inline]
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

#[cfg(test)]
mod tests {

    #[test]
    fn round_u64_and_ceil_u64_are_round_or_ceil_then_cast() {
        let edge = [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.499_999_999_999_999_94,
            1.0 - f64::EPSILON / 2.0,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            4_503_599_627_370_497.0,
            9_007_199_254_740_993.0,
            1e19,
            1.9e19,
            1e300,
            -0.5,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            2_000_000.499_999_9,
            2_000_000.5,
        ];
        for x in edge {
            assert_eq!(round_u64(x), x.round() as u64, "{x:e}");
            assert_eq!(ceil_u64(x), x.ceil() as u64, "{x:e}");
            assert_eq!(ceil_u64(-x), (-x).ceil() as u64, "{x:e}");
        }
        let mut s = crate::sim::Stream::new(9, "round");
        for _ in 0..100_000 {
            let bits = s.next_u64();
            let x = f64::from_bits(bits);
            assert_eq!(round_u64(x), x.round() as u64, "{x:e}");
            assert_eq!(ceil_u64(x), x.ceil() as u64, "{x:e}");
            let y = (bits >> 11) as f64 / 1024.0; // halves and quarters
            assert_eq!(round_u64(y), y.round() as u64, "{y:e}");
            assert_eq!(ceil_u64(y), y.ceil() as u64, "{y:e}");
        }
    }
    use super::*;
    use std::f64::consts::{E, LN_10, LN_2, PI};

    #[test]
    fn exact_cases_come_out_exact() {
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(log10(1000.0), 3.0);
        assert_eq!(powf(2.0, 10.0), 1024.0);
        assert_eq!(powf(10.0, -2.0), 0.01);
        assert_eq!(cbrt(27.0), 3.0);
        assert_eq!(cos(0.0), 1.0);
        assert_eq!(sin_cos(0.0), (0.0, 1.0));
    }

    #[test]
    fn results_are_the_correctly_rounded_constants() {
        // The std constants are correctly rounded; a libm that drifted by
        // an ulp (another version, another algorithm) fails here.
        assert_eq!(ln(2.0).to_bits(), LN_2.to_bits());
        assert_eq!(ln(10.0).to_bits(), LN_10.to_bits());
        assert_eq!(ln_1p(1.0).to_bits(), LN_2.to_bits());
        assert_eq!(exp_m1(LN_2), 1.0);
        assert_eq!(cos(PI).to_bits(), (-1.0f64).to_bits());
    }

    #[test]
    fn values_off_the_exact_cases_are_pinned_bit_for_bit() {
        // Arguments whose results are not representable, pinned so that a
        // change of implementation (and with it every draw) is noticed.
        let got = [
            ln(0.3).to_bits(),
            exp(-2.5).to_bits(),
            cos(1.0).to_bits(),
            powf(0.7, -1.0 / 3.5).to_bits(),
        ];
        assert_eq!(got, PINNED, "{got:x?}");
    }

    const PINNED: [u64; 4] = [
        0xbff3_4378_fcbd_a721,
        0x3fb5_0385_c094_f425,
        0x3fe1_4a28_0fb5_068c,
        0x3ff1_b76b_e4ea_2eee,
    ];

    /// The distance in ulps between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn exp_stays_within_two_ulps_of_libm_everywhere_it_is_finite() {
        // libm's exp is within one ulp of the exact value, so two ulps
        // between the two bounds this one's error by about one. A grid
        // over the whole fast range plus the small arguments that
        // latency draws and detectors use most.
        let mut worst = 0;
        let mut same = 0;
        let n = 2_000_000;
        for i in 0..=n {
            let wide = -707.0 + 1414.0 * i as f64 / n as f64;
            let small = -4.0 + 8.0 * i as f64 / n as f64;
            for x in [wide, small, small * 1e-3] {
                let (got, want) = (exp(x), libm::exp(x));
                let d = ulps(got, want);
                worst = worst.max(d);
                same += (d == 0) as u64;
                assert!(d <= 2, "exp({x:e}) = {got:e}, libm {want:e}: {d} ulps");
            }
        }
        assert!(
            worst >= 1,
            "identical to libm everywhere: the test measures nothing"
        );
        assert!(
            same > 3 * n as u64 / 2,
            "only {same} of {} equal to libm",
            3 * n
        );
    }

    #[test]
    fn exp_handles_the_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(-746.0), 0.0);
        // Either side of the switch to libm at ±707 is continuous.
        let below = exp(706.999_999_999_999_9);
        assert!(ulps(below, libm::exp(707.0)) < 1 << 12);
        assert!(exp(-707.0) > 0.0 && exp(-707.0) < 1e-306);
        // Near a power of two the table's j = 0 entry (1, exactly) is used:
        // 3 · LN_2 is a little below ln 8, and e to it is
        // 7.99999999999999855…, whose nearest double is 8 − 2⁻⁴⁹.
        assert_eq!(
            exp(std::f64::consts::LN_2 * 3.0),
            8.0 - 1.0 / (1u64 << 49) as f64
        );
    }

    #[test]
    fn exp_of_one_is_e_correctly_rounded() {
        // musl's (libm's) exp(1.0) is the double above E; glibc's and this
        // one are E itself: the kind of last-bit difference between
        // implementations that the pinned values above catch.
        assert_eq!(exp(1.0).to_bits(), E.to_bits());
        assert_eq!(libm::exp(1.0).to_bits(), E.to_bits() + 1);
    }
}
