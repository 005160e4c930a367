//! NFD-S on the real engine against Chen, Toueg and Aguilera's closed form
//! (IEEE ToC 51(5), May 2002; `shared/reference/qos-metrics.md`).
//!
//! Heartbeats m_i are sent at σ_i = iη, lost independently with
//! probability p_L, delayed i.i.d. by D = shift + Exp(mean − shift). With
//! freshness points τ_i = σ_i + δ and, for x ∈ [0, η):
//!
//! ```text
//! p_j(x) = (1 − p_L) · Pr(D < δ + x − jη)      (j ≥ 0)
//! q_0    = (1 − p_L) · Pr(D < δ + η)
//! u(x)   = Π_j (1 − p_j(x)),   p_S = q_0 · u(0)
//! E(T_MR) = η / p_S,  E(T_M) = ∫_0^η u / p_S,  P_A = 1 − (1/η) ∫_0^η u
//! ```
//!
//! The integral is evaluated with composite Simpson on 20 000 panels
//! (error far below the statistical tolerance: u is smooth except for a
//! few kinks, each costing O(h²) locally).
//!
//! **Tolerances, derived rather than guessed.** An S-transition can only
//! happen at a freshness point; let X_i be the indicator that one happens
//! at τ_i. X_i = [m_{i−1} arrived by τ_i] ∧ [no m_j, j ≥ i, arrived by
//! τ_i] depends only on the losses and delays of m_{i−1} … m_{i+⌊δ/η⌋},
//! a block of K = ⌊δ/η⌋ + 2 consecutive heartbeats. So X_i and X_k are
//! independent once |i − k| ≥ K, and for the mistake count M = Σ X_i over
//! N intervals
//!
//! ```text
//! Var(M) = Σ_i Σ_{|i−k|<K} Cov(X_i, X_k) ≤ (2K − 1) · N · p_S(1 − p_S) ≤ (2K − 1) · E(M)
//! ```
//!
//! (|Cov| ≤ Var for identically distributed terms). Likewise the suspect
//! time Y_i inside [τ_i, τ_{i+1}) depends on a block of the same length
//! (m_i … m_{i+⌊δ/η⌋+1}), so with S = Σ Y_i, Var(S) ≤ (2K − 1) · N · E(Y²).
//! E(Y²) is exact too: Y = ∫_0^η Z(x) dx with Z(x) the indicator "no m_j,
//! j ≥ i, arrived by τ_i + x", which only falls from 1 to 0, so
//! Z(x)Z(y) = Z(max(x, y)) and E(Y²) = 2 ∫_0^η x·u(x) dx. Hence, with
//! c = 2K − 1 and every expectation from the closed form:
//!
//! - E(T_MR) = up/M: relative σ ≤ √(c · N · p_S(1 − p_S)) / E(M);
//! - P_A = 1 − S/up: absolute σ ≤ √(c · N · E(Y²)) / up;
//! - E(T_M) = S/M: relative σ ≤ (that of M) + √(c · N · E(Y²)) / E(S)
//!   (the two errors may be correlated either way, so their σ's add).
//!
//! Each check allows 5 σ. The suspect time counted by the scorer is
//! mistake time (every suspicion of an up target is a mistake), so S is
//! `suspect_time` and E(T_M) is `mistake_time / mistakes`.

use fdsim::math;
use fdsim::metrics::RunQos;
use fdsim::run::run_all;
use fdsim::scenario::Scenario;
use std::path::Path;

/// One network and sender, in seconds.
struct Model {
    eta: f64,
    loss: f64,
    /// Minimum delay.
    shift: f64,
    /// Mean delay (shift included).
    mean: f64,
}

impl Model {
    /// Pr(D < y).
    fn cdf(&self, y: f64) -> f64 {
        if y <= self.shift {
            0.0
        } else {
            1.0 - math::exp(-(y - self.shift) / (self.mean - self.shift))
        }
    }

    fn u(&self, delta: f64, x: f64) -> f64 {
        let mut prod = 1.0;
        let mut j = 0.0;
        while delta + x - j * self.eta > self.shift {
            prod *= 1.0 - (1.0 - self.loss) * self.cdf(delta + x - j * self.eta);
            j += 1.0;
        }
        prod
    }

    /// ∫_0^η f(x) dx by composite Simpson on 20 000 panels.
    fn integral(&self, f: impl Fn(f64) -> f64) -> f64 {
        let n = 20_000;
        let h = self.eta / n as f64;
        let mut sum = f(0.0) + f(self.eta);
        for k in 1..n {
            let w = if k % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * f(k as f64 * h);
        }
        sum * h / 3.0
    }

    fn theory(&self, delta: f64) -> Theory {
        let q0 = (1.0 - self.loss) * self.cdf(delta + self.eta);
        let p_s = q0 * self.u(delta, 0.0);
        let int_u = self.integral(|x| self.u(delta, x));
        Theory {
            p_s,
            t_mr: self.eta / p_s,
            t_m: int_u / p_s,
            p_a: 1.0 - int_u / self.eta,
            y2: 2.0 * self.integral(|x| x * self.u(delta, x)),
        }
    }
}

/// The closed form at one δ (seconds).
struct Theory {
    /// Probability of an S-transition at a freshness point.
    p_s: f64,
    t_mr: f64,
    t_m: f64,
    p_a: f64,
    /// E(Y²), Y the suspect time in one interval [τ_i, τ_{i+1}).
    y2: f64,
}

/// Runs `text` and returns the QoS of its one detector, pooled over seeds,
/// one entry per swept δ.
fn simulate(text: &str) -> (Scenario, Vec<RunQos>) {
    let sc = Scenario::parse(Path::new("nfds.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let result = run_all(vec![sc], jobs, &|_, _| {}).expect("thread pool");
    let result = result.into_iter().next().expect("one scenario");
    let mut pooled = vec![RunQos::default(); result.scenario.detectors[0].values.len()];
    for seed in &result.seeds {
        for (acc, q) in pooled.iter_mut().zip(&seed.qos[0]) {
            acc.merge(q);
        }
    }
    (result.scenario, pooled)
}

fn compare(model: &Model, text: &str) {
    let (sc, pooled) = simulate(text);
    for (&delta_ns, q) in sc.detectors[0].values.iter().zip(&pooled) {
        let delta = delta_ns / 1e9;
        let th = model.theory(delta);
        let (t_mr, t_m, p_a) = (th.t_mr, th.t_m, th.p_a);
        let up = q.up_time.0 as f64 / 1e9;
        let n = up / model.eta;
        let c = 2.0 * ((delta / model.eta).floor() + 2.0) - 1.0;
        let sd_m = (c * n * th.p_s * (1.0 - th.p_s)).sqrt() / (n * th.p_s);
        let sd_s = (c * n * th.y2).sqrt();
        let tol_mr = 5.0 * sd_m;
        let tol_m = 5.0 * (sd_m + sd_s / (up * (1.0 - p_a)));
        let tol_pa = 5.0 * sd_s / up;

        let sim_mr = up / q.mistakes as f64;
        let sim_m = q.mistake_time.0 as f64 / 1e9 / q.mistakes as f64;
        let sim_pa = q.query_accuracy().expect("up time");
        println!(
            "η={}s δ={delta}s: {} mistakes; E(T_MR) sim {sim_mr:.5} theory {t_mr:.5} (±{:.2}%); \
             E(T_M) sim {sim_m:.5} theory {t_m:.5} (±{:.2}%); P_A sim {sim_pa:.6} theory {p_a:.6} (±{:.6})",
            model.eta,
            q.mistakes,
            tol_mr * 100.0,
            tol_m * 100.0,
            tol_pa,
        );
        assert!(
            (sim_mr / t_mr - 1.0).abs() <= tol_mr,
            "δ = {delta}: E(T_MR) {sim_mr} vs {t_mr}"
        );
        assert!(
            (sim_m / t_m - 1.0).abs() <= tol_m,
            "δ = {delta}: E(T_M) {sim_m} vs {t_m}"
        );
        assert!(
            (sim_pa - p_a).abs() <= tol_pa,
            "δ = {delta}: P_A {sim_pa} vs {p_a}"
        );
    }
}

#[test]
fn nfds_matches_the_closed_form_on_a_fast_lossy_link() {
    // η = 100 ms, D ~ Exp(mean 20 ms), 1 % loss; δ = 20, 50, 100 ms take
    // the mistake rate from one per 3 heartbeats to one per 60. 4 seeds × 24 h = 3.5 M heartbeats.
    let model = Model {
        eta: 0.1,
        loss: 0.01,
        shift: 0.0,
        mean: 0.02,
    };
    compare(
        &model,
        r#"
        duration = "24h"
        warmup = "1s"
        seeds = 4
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "exponential", mean = "20ms" }
        loss = 0.01
        [[detectors]]
        kind = "chen-nfds"
        delta = ["20ms", "50ms", "100ms"]
        "#,
    );
}

#[test]
fn nfds_matches_the_closed_form_when_delta_spans_several_heartbeats() {
    // η = 1 s, D = 10 ms + Exp(290 ms), 5 % loss; δ = 1.2 s makes
    // freshness depend on two heartbeats (j = 0, 1). 4 seeds × 240 h =
    // 3.5 M heartbeats.
    let model = Model {
        eta: 1.0,
        loss: 0.05,
        shift: 0.01,
        mean: 0.3,
    };
    compare(
        &model,
        r#"
        duration = "240h"
        warmup = "1s"
        seeds = 4
        [heartbeat]
        interval = "1s"
        [network]
        latency = { dist = "exponential", shift = "10ms", mean = "300ms" }
        loss = 0.05
        [[detectors]]
        kind = "chen-nfds"
        delta = ["300ms", "600ms", "1200ms"]
        "#,
    );
}
