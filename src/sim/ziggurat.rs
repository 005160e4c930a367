//! Standard normal draws by the ziggurat method (Marsaglia and Tsang,
//! "The Ziggurat Method for Generating Random Variables", J. Stat. Softw.
//! 5(8), 2000), with 256 layers.
//!
//! The right half of the bell `f(x) = e^(−x²/2)` is covered by 256 layers
//! of equal area `v`: a base layer (the rectangle `[0, r) × [0, f(r)]`
//! plus the tail beyond `r`) and 255 rectangles stacked on it, layer `i`
//! spanning `[0, x[i])` in width and `[f(x[i]), f(x[i+1])]` in height. One
//! `u64` picks a layer (8 bits), a sign (1 bit) and a point `u · x[i]`
//! across it (the top 53 bits). When the point lies left of `x[i+1]`, the
//! whole column under it is under the curve, and the point is the draw:
//! that happens in 98.5 % of draws, for the price of one `u64`, a
//! multiplication and a comparison. Otherwise the base layer draws from
//! the tail (Marsaglia's method, two logarithms) and the other layers test
//! the point against the curve with one more uniform and an `exp`,
//! starting over when it falls outside.
//!
//! The tables are computed once from `r` with [`crate::math`], so they,
//! and every draw, have the same bits on every platform.

use crate::math;
use std::sync::OnceLock;

/// The number of layers; a layer index is the low 8 bits of a draw.
pub const LAYERS: usize = 256;

/// The right edge of the base layer's rectangle for 256 layers
/// (Marsaglia and Tsang's table; Doornik, 2005, to more digits).
pub const R: f64 = 3.654_152_885_361_009;

/// The layer edges and the bell's height at each.
pub struct Tables {
    /// `x[0] = v / f(r)` (the width the base layer would have as a
    /// rectangle), `x[1] = r`, decreasing to `x[256] = 0`.
    pub x: [f64; LAYERS + 1],
    /// `f[i] = e^(−x[i]²/2)`, increasing to `f[256] = 1`; `f[0]` is unused.
    pub f: [f64; LAYERS + 1],
    /// The area of each layer.
    pub v: f64,
}

/// The bell, unnormalised: `e^(−x²/2)`.
#[inline]
pub fn bell(x: f64) -> f64 {
    math::exp(-0.5 * x * x)
}

pub fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(build)
}

fn build() -> Tables {
    // The base layer's area: its rectangle plus the tail beyond r,
    // ∫_r^∞ e^(−x²/2) dx = √(π/2) erfc(r/√2).
    let v = R * bell(R)
        + (std::f64::consts::PI / 2.0).sqrt() * math::erfc(R / std::f64::consts::SQRT_2);
    let mut x = [0.0; LAYERS + 1];
    x[0] = v / bell(R);
    x[1] = R;
    // Layer i has width x[i] and area v, so the bell reaches height
    // f(x[i]) + v / x[i] at the next edge.
    for i in 1..LAYERS - 1 {
        x[i + 1] = (-2.0 * math::ln(v / x[i] + bell(x[i]))).sqrt();
    }
    x[LAYERS] = 0.0;
    let f = std::array::from_fn(|i| if i == 0 { 0.0 } else { bell(x[i]) });
    Tables { x, f, v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layers_close_at_the_top_with_the_same_area() {
        // r is right when the recursion, started at the bottom, ends with
        // a top layer [0, x[255]) × [f(x[255]), 1] of area v too: a wrong
        // r (or a slip in the recursion) leaves the top layer too big or
        // too small, and the draws would be biased.
        let t = tables();
        let top = t.x[LAYERS - 1] * (1.0 - t.f[LAYERS - 1]);
        assert!((top / t.v - 1.0).abs() < 1e-9, "top layer {top}, v {}", t.v);
        for i in 0..LAYERS {
            assert!(t.x[i] > t.x[i + 1], "edges not decreasing at {i}");
        }
        for i in 1..LAYERS {
            assert!(t.f[i] < t.f[i + 1], "heights not increasing at {i}");
        }
        // The published value of v for 256 layers.
        assert!((t.v - 0.004_928_673_233_99).abs() < 1e-13, "v = {}", t.v);
        // Each layer is drawn with probability 1/256 and its point taken
        // at once when it falls left of the next edge: the fast path's
        // share, which the docs quote as 98.5 %.
        let fast = (0..LAYERS).map(|i| t.x[i + 1] / t.x[i]).sum::<f64>() / LAYERS as f64;
        assert!((fast - 0.985).abs() < 0.0005, "fast path {fast}");
    }
}
