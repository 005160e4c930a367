//! Chen's NFD-E: suspect once the local time passes the estimated arrival
//! of the next heartbeat by the safety margin α.
//!
//! Source: W. Chen, S. Toueg, M. K. Aguilera, "On the Quality of Service of
//! Failure Detectors", IEEE Transactions on Computers 51(5), May 2002, the
//! algorithm NFD-E (unsynchronized clocks, unknown message behaviour).
//!
//! The target sends heartbeat m_i every η (the scenario's heartbeat
//! interval, [`Env::interval`](super::Env::interval)). The monitor keeps
//! the n most recently received heartbeats, with arrival times A_i on its
//! own clock and sequence numbers s_i. With l the highest sequence number
//! received,
//!
//! ```text
//! EA_{l+1} = (1/n) · Σ_{i in window} (A_i − η·s_i) + (l + 1)·η
//! τ_{l+1}  = EA_{l+1} + α
//! ```
//!
//! and the monitor suspects at t iff t ≥ τ_{l+1}. So
//!
//! ```text
//! suspicion(t) = t − EA_{l+1}      (nanoseconds, negative before EA)
//! ```
//!
//! and the swept threshold is α. Before the window is full, the mean is
//! over the heartbeats received so far. Each A_i − η·s_i is one sample of
//! "send phase + delay", so EA is the nominal send time of m_{l+1} plus
//! the mean delay seen in the window; Chen et al. bound the detection time
//! by T_D ≤ E(D) + α + η.
//!
//! Choices fdsim makes where the paper is silent or the model is richer:
//!
//! - **Late heartbeats.** A heartbeat whose sequence number is not above
//!   the highest seen still enters the window (the paper averages the n
//!   most recently *received* heartbeats, and its A − η·s is an honest
//!   delay sample) but does not move l: only the highest sequence number
//!   counts for freshness, as in NFD-S.
//! - **Incarnations.** The sender's sequence numbers restart at 0 when it
//!   restarts, with a new send phase, so the samples of an older
//!   incarnation say nothing about the new one: the first heartbeat of a
//!   higher incarnation empties the window and restarts l. Heartbeats of
//!   an older incarnation than the newest heard (stragglers sent before the
//!   crash) are ignored.
//! - **Numerics.** Samples A − η·s are exact integers (i128) and the window
//!   sum is kept exactly by adding the new sample and subtracting the one
//!   that leaves, so a run of any length never drifts. The estimate is held
//!   as an exact rational `whole + num/n`; only the final `t − EA` is
//!   rounded to `f64`. Exact while |A − η·s| < 2^64 and n ≤ 10^6 (the sum
//!   then stays below 2^84, far inside i128): any run shorter than 584
//!   years of virtual time.
//!
//! Default window n = 1000: the sampling window of Bertier et al.'s
//! implementation (as ported to ZooKeeper's `common.fd`, `N = 1000`) and
//! the long window of 2W-FD (Tomsic et al. 2015); the Akka and Cassandra
//! accrual detectors keep 1000 samples as well.
//!
//! The window/estimate machinery here is shared with `bertier` and
//! `two-window`, which are built on the same estimate.

use super::registry::{DetectorKind, ParamSpec, ParamUnit};
use super::{Arrival, Detector};
use crate::sim::time::Nanos;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// Largest window any NFD-E-style detector accepts (16 MB of samples).
pub(crate) const MAX_WINDOW: f64 = 1_000_000.0;

/// The `window` parameter shared by the NFD-E family.
pub(crate) const WINDOW: ParamSpec = ParamSpec {
    name: "window",
    unit: ParamUnit::Count,
    default: Some(1000.0),
    min: 1.0,
    min_inclusive: true,
    max: MAX_WINDOW,
    doc: "number n of most recent heartbeats averaged into the arrival estimate (default 1000, as in Bertier et al.'s implementation and 2W-FD's long window)",
};

/// The safety margin α, swept by NFD-E and 2W-FD.
pub(crate) const ALPHA: ParamSpec = ParamSpec {
    name: "alpha",
    unit: ParamUnit::Duration,
    default: None,
    min: 0.0,
    min_inclusive: true,
    max: f64::MAX,
    doc: "safety margin α: suspect once the estimated next arrival is this far in the past",
};

/// Registration of `kind = "chen"`.
pub static KIND: DetectorKind = DetectorKind {
    name: "chen",
    summary: "NFD-E: suspect once the time since the estimated next arrival EA reaches `alpha`",
    source: "Chen, Toueg, Aguilera, \"On the Quality of Service of Failure Detectors\", IEEE ToC 51(5), May 2002 (NFD-E)",
    swept: ALPHA,
    params: &[WINDOW],
    threshold_dependent: false,
    build: |p, _, env| Box::new(Chen::new(p.get("window") as usize, env.interval)),
};

/// Chen's NFD-E.
#[derive(Clone, Debug)]
pub struct Chen {
    eta: Nanos,
    fresh: Freshness,
    window: Window,
    /// EA_{l+1}, once anything has been heard.
    next: Option<Estimate>,
}

impl Chen {
    /// NFD-E over the `window` most recent heartbeats, for a sender that
    /// beats every `interval`.
    pub fn new(window: usize, interval: Nanos) -> Self {
        Chen {
            eta: interval,
            fresh: Freshness::default(),
            window: Window::new(window),
            next: None,
        }
    }

    /// EA_{l+1}, the estimated arrival of the next fresh heartbeat.
    pub fn expected(&self) -> Option<Estimate> {
        self.next
    }
}

impl Detector for Chen {
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn heartbeat(&mut self, arrival: &Arrival) {
        match self.fresh.hear(arrival) {
            Heard::Stale => return,
            Heard::Restart => self.window.clear(),
            Heard::Newer | Heard::Late => {}
        }
        self.window.push(arrival, self.eta);
        self.next = self.window.estimate(self.fresh.next_seq(), self.eta);
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        self.next.map_or(f64::INFINITY, |ea| ea.since(now))
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(ea) = self.next else {
            return Some(Nanos::ZERO);
        };
        first_reaching(self.fresh.last_at, level, ea.as_f64() + level, |t| {
            ea.since(t)
        })
    }
}

/// What one arrival means for freshness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    /// The first heartbeat heard, or the first of a newer incarnation:
    /// sequence-based state starts over.
    Restart,
    /// A sequence number above the highest seen in this incarnation.
    Newer,
    /// Not above the highest seen (reordered or duplicated).
    Late,
    /// From an incarnation older than the newest heard: ignore it.
    Stale,
}

/// The newest incarnation heard, its highest sequence number, and the
/// time of the last arrival of any kind.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Freshness {
    heard: bool,
    incarnation: u32,
    highest: u64,
    /// Last arrival time (ignored arrivals included).
    pub last_at: Nanos,
}

impl Freshness {
    /// Records `a` and classifies it.
    pub fn hear(&mut self, a: &Arrival) -> Heard {
        self.last_at = a.at;
        if self.heard && a.incarnation < self.incarnation {
            return Heard::Stale;
        }
        if !self.heard || a.incarnation > self.incarnation {
            self.heard = true;
            self.incarnation = a.incarnation;
            self.highest = a.seq;
            return Heard::Restart;
        }
        if a.seq > self.highest {
            self.highest = a.seq;
            Heard::Newer
        } else {
            Heard::Late
        }
    }

    /// l + 1, the sequence number whose arrival is awaited.
    pub fn next_seq(&self) -> u64 {
        self.highest.saturating_add(1)
    }
}

/// An estimated arrival time, held exactly as `whole + num/den`
/// nanoseconds with 0 ≤ num < den. Equality and order are by value.
#[derive(Clone, Copy, Debug)]
pub struct Estimate {
    whole: i128,
    num: i128,
    den: i128,
    /// `whole` and `num/den` ready for [`Estimate::since`], which runs on
    /// every arrival: 128-bit to float conversions are slow in software.
    whole64: i64,
    frac: f64,
}

impl Estimate {
    /// `sum/den + offset` nanoseconds; `den` must be positive.
    pub fn ratio(sum: i128, den: i128, offset: i128) -> Estimate {
        debug_assert!(den > 0);
        if den == 1 {
            // A window of one (two-window's short window by default): no
            // division, and the same fields the general path gives.
            let whole = sum.wrapping_add(offset);
            return Estimate {
                whole,
                num: 0,
                den,
                whole64: whole.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
                frac: 0.0,
            };
        }
        if let (Ok(s), Ok(d)) = (i64::try_from(sum), i64::try_from(den)) {
            // The same quotient, remainder and fraction with hardware
            // 64-bit division (the 128-bit one is a software routine).
            let (q, r) = (s.div_euclid(d), s.rem_euclid(d));
            let whole = i128::from(q).wrapping_add(offset);
            return Estimate {
                whole,
                num: i128::from(r),
                den,
                whole64: whole.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
                frac: r as f64 / d as f64,
            };
        }
        let whole = sum.div_euclid(den).wrapping_add(offset);
        let num = sum.rem_euclid(den);
        Estimate {
            whole,
            num,
            den,
            whole64: whole.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            frac: num as f64 / den as f64,
        }
    }

    /// [`Estimate::ratio`] with `den` given as a [`Divisor`]: the same
    /// fields, without a hardware division for a non-negative sum.
    #[inline]
    pub(crate) fn ratio_by(sum: i128, den: Divisor, offset: i128) -> Estimate {
        match u64::try_from(sum) {
            Ok(s) if den.d > 1 && den.d <= i64::MAX as u64 => {
                let (q, r) = den.div_rem(s);
                let whole = i128::from(q).wrapping_add(offset);
                Estimate {
                    whole,
                    num: i128::from(r),
                    den: i128::from(den.d),
                    whole64: whole.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
                    frac: r as f64 / den.d as f64,
                }
            }
            _ => Estimate::ratio(sum, i128::from(den.d), offset),
        }
    }

    /// `t − self` in nanoseconds; non-decreasing in `t`.
    pub fn since(self, t: Nanos) -> f64 {
        let t = i64::try_from(t.0).unwrap_or(i64::MAX);
        t.saturating_sub(self.whole64) as f64 - self.frac
    }

    /// The estimate as a (rounded) number of nanoseconds.
    pub fn as_f64(self) -> f64 {
        self.whole64 as f64 + self.frac
    }
}

impl Ord for Estimate {
    fn cmp(&self, other: &Self) -> Ordering {
        // num/den < 1, so the whole parts decide unless they tie; then
        // cross-multiply (num, den ≤ 10^6: no overflow).
        self.whole
            .cmp(&other.whole)
            .then_with(|| (self.num * other.den).cmp(&(other.num * self.den)))
    }
}

impl PartialEq for Estimate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Estimate {}

impl PartialOrd for Estimate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The n most recent samples A_i − η·s_i, with their exact sum.
#[derive(Clone, Debug)]
pub(crate) struct Window {
    cap: usize,
    samples: VecDeque<i128>,
    sum: i128,
    /// Division by the window's size, ready for [`Window::estimate`].
    size: Divisor,
}

/// Division of a non-negative 64-bit sum by a window's size, which changes
/// only while the window fills: a multiplication by the reciprocal, worked
/// out when the size changes, and a correction, in place of a hardware
/// division at every arrival (an estimate per arrival for chen, two for
/// bertier, one per window for two-window).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divisor {
    d: u64,
    /// ⌊(2^64 − 1)/d⌋.
    inv: u64,
}

impl Divisor {
    pub fn new(d: u64) -> Divisor {
        Divisor {
            d,
            inv: u64::MAX / d.max(1),
        }
    }

    /// (⌊s/d⌋, s mod d). `s·inv/2^64` is below s/d and above s/d − 2, so
    /// the estimated quotient is at most two short.
    #[inline]
    pub fn div_rem(self, s: u64) -> (u64, u64) {
        let mut q = ((u128::from(s) * u128::from(self.inv)) >> 64) as u64;
        let mut r = s - q * self.d;
        while r >= self.d {
            q += 1;
            r -= self.d;
        }
        (q, r)
    }
}

impl Window {
    pub fn new(cap: usize) -> Window {
        Window {
            cap: cap.max(1),
            samples: VecDeque::new(),
            sum: 0,
            size: Divisor::new(0),
        }
    }

    /// Adds the sample of `a`, dropping the oldest if full. O(1).
    pub fn push(&mut self, a: &Arrival, eta: Nanos) {
        let sample = (a.at.0 as i128).wrapping_sub((eta.0 as i128).wrapping_mul(a.seq as i128));
        if self.samples.len() == self.cap {
            let old = self.samples.pop_front().expect("full window");
            self.sum = self.sum.wrapping_sub(old);
        }
        self.samples.push_back(sample);
        self.sum = self.sum.wrapping_add(sample);
        if self.size.d != self.samples.len() as u64 {
            self.size = Divisor::new(self.samples.len() as u64);
        }
    }

    pub fn clear(&mut self) {
        self.samples.clear();
        self.sum = 0;
        self.size = Divisor::new(0);
    }

    /// Chen's estimate of the arrival of sequence number `seq`:
    /// mean sample + seq·η. `None` while empty.
    pub fn estimate(&self, seq: u64, eta: Nanos) -> Option<Estimate> {
        let n = self.samples.len() as i128;
        (n > 0).then(|| Estimate::ratio_by(self.sum, self.size, eta.0 as i128 * seq as i128))
    }
}

/// The earliest integer time c ≥ `from` with `s(c) ≥ level`, or `None` if
/// even `s(Nanos::MAX)` stays below. `s` must be non-decreasing on
/// [`from`, ∞); `guess` is where the caller expects the answer (any value
/// works; a good one makes this O(1) evaluations, a bad one O(64)).
///
/// Searching on the very function the detector reports, rather than
/// inverting its formula in floating point, makes
/// `s(c − 1) < level ≤ s(c)` hold exactly, whatever the rounding.
pub(crate) fn first_reaching(
    from: Nanos,
    level: f64,
    guess: f64,
    s: impl Fn(Nanos) -> f64,
) -> Option<Nanos> {
    // The search itself is shared with the accrual detectors, whose guess
    // is an offset from `from` rather than a time.
    super::phi::first_reaching(from, guess - from.0 as f64, |c| s(c) >= level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(at: u64, seq: u64, incarnation: u32) -> Arrival {
        Arrival {
            at: Nanos(at),
            seq,
            sent: Nanos(seq * 100),
            incarnation,
        }
    }

    fn feed(d: &mut dyn Detector, arrivals: &[Arrival]) {
        for a in arrivals {
            d.heartbeat(a);
        }
    }

    /// The reciprocal division is the hardware one, and an estimate by
    /// it has the fields [`Estimate::ratio`] gives (sums of either sign,
    /// window sizes from 1 to past 2^32, sums near 2^64).
    #[test]
    fn division_by_a_window_size_matches_the_hardware_division() {
        let mut s = crate::sim::Stream::new(5, "divisor");
        let mut next = || s.next_u64();
        for i in 0..200_000u64 {
            let d = match i % 4 {
                0 => 1 + next() % 2_000,
                1 => 1 + (next() >> (next() % 64)),
                2 => [1, 2, 3, 1000, 1 << 20, u64::MAX / 3, u64::MAX][(i / 4 % 7) as usize],
                _ => 1 + next() % 64,
            };
            let s = match i % 3 {
                0 => next(),
                1 => next() >> (next() % 64),
                _ => u64::MAX - next() % 1000,
            };
            assert_eq!(Divisor::new(d).div_rem(s), (s / d, s % d), "{s} / {d}");
            let sum = if i % 5 == 0 {
                -((s >> 1) as i128)
            } else {
                s as i128
            };
            let offset = (next() >> 20) as i128;
            let by = Estimate::ratio_by(sum, Divisor::new(d), offset);
            let plain = Estimate::ratio(sum, d as i128, offset);
            assert_eq!(
                (by.whole, by.num, by.den, by.whole64, by.frac.to_bits()),
                (
                    plain.whole,
                    plain.num,
                    plain.den,
                    plain.whole64,
                    plain.frac.to_bits()
                ),
                "{sum} / {d} + {offset}"
            );
        }
    }

    #[test]
    fn suspects_everything_before_the_first_heartbeat() {
        let d = Chen::new(10, Nanos(100));
        assert_eq!(d.suspicion(Nanos(5)), f64::INFINITY);
        assert_eq!(d.crossing(1e9), Some(Nanos::ZERO));
    }

    #[test]
    fn the_estimate_is_the_mean_offset_plus_the_next_nominal_send_time() {
        // η = 100. Samples A − η·s: 105, 112, 103; mean 320/3 = 106.67.
        // EA_3 = 106.67 + 3·100 = 406.67.
        let mut d = Chen::new(3, Nanos(100));
        feed(&mut d, &[hb(105, 0, 0), hb(212, 1, 0), hb(303, 2, 0)]);
        assert_eq!(d.expected(), Some(Estimate::ratio(320, 3, 300)));
        assert!((d.suspicion(Nanos(410)) - 10.0 / 3.0).abs() < 1e-9);
        assert_eq!(d.crossing(0.0), Some(Nanos(407)));
        assert_eq!(d.crossing(10.0), Some(Nanos(417)));
        // A negative margin: 406.67 − 50 = 356.67.
        assert_eq!(d.crossing(-50.0), Some(Nanos(357)));
        // At or before the last arrival: the last arrival.
        assert_eq!(d.crossing(-200.0), Some(Nanos(303)));
    }

    #[test]
    fn the_window_keeps_only_the_n_most_recent_samples() {
        // n = 2 after three heartbeats: samples 112, 103 → EA_3 = 407.5.
        let mut d = Chen::new(2, Nanos(100));
        feed(&mut d, &[hb(105, 0, 0), hb(212, 1, 0), hb(303, 2, 0)]);
        assert_eq!(d.suspicion(Nanos(408)), 0.5);
        assert_eq!(d.crossing(0.0), Some(Nanos(408)));
        assert_eq!(d.crossing(0.5), Some(Nanos(408)));
        assert_eq!(d.crossing(0.6), Some(Nanos(409)));
    }

    #[test]
    fn a_lost_heartbeat_moves_the_estimate_by_whole_intervals() {
        // Seqs 0 and 3: samples 100, 110 → mean 105; EA_4 = 505.
        let mut d = Chen::new(10, Nanos(100));
        feed(&mut d, &[hb(100, 0, 0), hb(410, 3, 0)]);
        assert_eq!(d.crossing(20.0), Some(Nanos(525)));
    }

    #[test]
    fn a_late_heartbeat_is_a_sample_but_not_fresher() {
        // Seqs 0, 2, then 1 arriving late at 330: samples 100, 100, 230.
        // l stays 2: EA_3 = 430/3 + 300 = 443.33.
        let mut d = Chen::new(10, Nanos(100));
        feed(&mut d, &[hb(100, 0, 0), hb(300, 2, 0), hb(330, 1, 0)]);
        assert_eq!(d.expected(), Some(Estimate::ratio(430, 3, 300)));
        assert_eq!(d.crossing(0.0), Some(Nanos(444)));
    }

    #[test]
    fn a_new_incarnation_empties_the_window_and_old_ones_are_ignored() {
        let mut d = Chen::new(10, Nanos(100));
        feed(&mut d, &[hb(100, 0, 0), hb(200, 1, 0), hb(5_040, 0, 1)]);
        // Only the new incarnation's sample: EA_1 = 5040 + 100.
        assert_eq!(d.crossing(0.0), Some(Nanos(5_140)));
        // A straggler of incarnation 0 with a high seq changes nothing.
        d.heartbeat(&hb(5_050, 2, 0));
        assert_eq!(d.crossing(0.0), Some(Nanos(5_140)));
        assert_eq!(d.suspicion(Nanos(5_100)), -40.0);
    }

    #[test]
    fn levels_beyond_the_end_of_time_are_never_reached() {
        let mut d = Chen::new(10, Nanos(100));
        d.heartbeat(&hb(100, 0, 0));
        assert_eq!(d.crossing(f64::INFINITY), None);
        assert_eq!(d.crossing(f64::NAN), None);
        assert_eq!(d.crossing(2e19), None);
        assert_eq!(d.crossing(f64::NEG_INFINITY), Some(Nanos(100)));
    }

    #[test]
    fn long_runs_keep_the_sum_exact() {
        // 10^6 heartbeats at η = 1 s, 3 ms delay (about 11.6 days): the
        // estimate is exactly the next send time plus 3 ms.
        let eta = 1_000_000_000u64;
        let mut d = Chen::new(1000, Nanos(eta));
        for s in 0..1_000_000u64 {
            d.heartbeat(&hb(s * eta + 3_000_000, s, 0));
        }
        assert_eq!(
            d.expected(),
            Some(Estimate::ratio(0, 1, (1_000_000 * eta + 3_000_000) as i128))
        );
    }

    #[test]
    fn estimates_compare_exactly() {
        let a = Estimate::ratio(1, 3, 10); // 10.333…
        let b = Estimate::ratio(1, 2, 10); // 10.5
        let c = Estimate::ratio(2, 6, 10); // 10.333…
        assert!(a < b);
        assert_eq!(a.cmp(&c), Ordering::Equal);
        assert_eq!(Estimate::ratio(-1, 2, 0).as_f64(), -0.5);
    }

    #[test]
    fn the_search_finds_the_first_time_even_from_a_bad_guess() {
        let s = |t: Nanos| (t.0 as f64 - 1_000.5) / 3.0;
        for guess in [0.0, 900.0, 1_005.0, 1_006.0, 1e18, f64::NAN] {
            assert_eq!(first_reaching(Nanos(10), 2.0, guess, s), Some(Nanos(1_007)));
        }
        assert_eq!(
            first_reaching(Nanos(2_000), 2.0, 0.0, s),
            Some(Nanos(2_000))
        );
    }
}
