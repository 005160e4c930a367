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
//! [`crate::sim::rng`] catch a change of its results.
//!
//! `sqrt`, `mul_add`, `abs`, `floor`, `ceil`, `round` and the basic
//! operations are exactly rounded by IEEE-754 and stay the std methods.
//! `f64::powi` is not: LLVM may expand it into a chain of multiplications
//! or a call, depending on the platform and the optimisation level, so
//! use a product or [`powf`]. `clippy.toml` forbids the std methods this
//! module replaces, so `cargo clippy` rejects a new `x.ln()`.

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

/// `e^x`.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
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

#[cfg(test)]
mod tests {
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

    #[test]
    fn exp_of_one_is_one_ulp_above_e_as_in_musl() {
        // glibc's exp(1.0) is E exactly; musl's, and so this one, is the
        // next double up: the kind of last-bit difference between C
        // libraries that this module takes off the simulation path.
        assert_eq!(exp(1.0).to_bits(), E.to_bits() + 1);
    }
}
