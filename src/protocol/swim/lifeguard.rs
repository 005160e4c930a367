//! The arithmetic of SWIM and Lifeguard as memberlist computes it: the
//! retransmit limit, the suspicion timeout, the push-pull interval, the
//! local health score and the suspicion timer that shrinks with
//! confirmations.
//!
//! Each function follows memberlist's integer and floating-point steps
//! (hashicorp/memberlist `util.go`, `awareness.go`, `suspicion.go`), so the
//! numbers of its tests carry over exactly; the tests below port them.

use crate::math;
use crate::sim::{Nanos, NodeId};

/// How many times a member piggybacks one update: `mult · ⌈log10(n + 1)⌉`
/// (memberlist `retransmitLimit`).
pub fn retransmit_limit(mult: u32, n: usize) -> u32 {
    let scale = math::log10((n as f64) + 1.0).ceil() as u32;
    mult.saturating_mul(scale)
}

/// The minimum suspicion timeout, `mult · max(1, log10(max(1, n))) ·
/// interval`, with the node scale truncated to thousandths as memberlist's
/// `suspicionTimeout` does (`time.Duration(nodeScale*1000)`).
pub fn suspicion_timeout(mult: u32, n: usize, interval: Nanos) -> Nanos {
    let node_scale = math::log10(n.max(1) as f64).max(1.0);
    let milli = (node_scale * 1000.0) as u128;
    let ns = mult as u128 * milli * interval.as_nanos() as u128 / 1000;
    Nanos(ns.min(u64::MAX as u128) as u64)
}

/// Members up to which the push-pull interval is not scaled (memberlist
/// `pushPullScaleThreshold`).
pub const PUSH_PULL_SCALE_THRESHOLD: usize = 32;

/// The push-pull interval for `n` members: `interval` up to 32 members,
/// then `interval · (⌈log2(n) − log2(32)⌉ + 1)`, so the exchanges a
/// member handles grow with the view they carry only logarithmically
/// (memberlist `pushPullScale`).
pub fn push_pull_interval(interval: Nanos, n: usize) -> Nanos {
    if n <= PUSH_PULL_SCALE_THRESHOLD {
        return interval;
    }
    let excess = math::log2(n as f64) - math::log2(PUSH_PULL_SCALE_THRESHOLD as f64);
    let mult = excess.ceil() as u64 + 1;
    Nanos(interval.as_nanos().saturating_mul(mult))
}

/// Lifeguard's suspicion timeout after `n` of `k` expected confirmations,
/// minus the time already `elapsed` (negative: fire now): the total is
/// `max − (ln(n + 1) / ln(k + 1)) · (max − min)`, floored to whole
/// milliseconds and never below `min` (memberlist
/// `remainingSuspicionTime`). In nanoseconds.
pub fn remaining_suspicion_time(n: u32, k: u32, elapsed: Nanos, min: Nanos, max: Nanos) -> i128 {
    total_suspicion_time(n, k, min, max).as_nanos() as i128 - elapsed.as_nanos() as i128
}

fn total_suspicion_time(n: u32, k: u32, min: Nanos, max: Nanos) -> Nanos {
    if k == 0 {
        // No confirmation to wait for: the minimum from the start
        // (memberlist `newSuspicion`: "if there aren't any confirmations
        // to be made then take the min time").
        return min;
    }
    if n == 0 {
        // The timer starts at the maximum (memberlist `newSuspicion`).
        return max;
    }
    let frac = math::ln((n as f64) + 1.0) / math::ln((k as f64) + 1.0);
    let raw = max.as_secs_f64() - frac * (max.as_secs_f64() - min.as_secs_f64());
    let millis = (1000.0 * raw).floor();
    let timeout = if millis <= 0.0 {
        Nanos::ZERO
    } else {
        Nanos::from_millis(millis as u64)
    };
    timeout.max(min)
}

/// Lifeguard's local health: a score in `[0, max − 1]` that multiplies
/// timeouts by `score + 1` (memberlist `awareness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Awareness {
    max: u32,
    score: u32,
}

impl Awareness {
    /// A healthy score (0) with the given maximum multiplier (at least 1).
    pub fn new(max: u32) -> Self {
        Awareness {
            max: max.max(1),
            score: 0,
        }
    }

    /// Adds `delta`, clamped to `[0, max − 1]`.
    pub fn apply_delta(&mut self, delta: i32) {
        let next = self.score as i64 + delta as i64;
        self.score = next.clamp(0, self.max as i64 - 1) as u32;
    }

    pub fn score(&self) -> u32 {
        self.score
    }

    /// `timeout · (score + 1)`.
    pub fn scale(&self, timeout: Nanos) -> Nanos {
        Nanos(timeout.as_nanos().saturating_mul(self.score as u64 + 1))
    }
}

/// The suspicion of one member, as its observer keeps it: who confirmed
/// it, and when it expires (memberlist `suspicion`). The timer starts at
/// `max` and moves towards `min` with each new independent confirmation,
/// measured from the start of the suspicion, never earlier than `min`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion {
    pub subject: NodeId,
    /// Confirmations that drive the timeout to `min`.
    k: u32,
    /// Independent confirmations so far (the first accuser excluded).
    n: u32,
    min: Nanos,
    max: Nanos,
    start: Nanos,
    /// Who has accused the subject, the first accuser included, so
    /// nobody counts twice.
    accusers: Vec<NodeId>,
}

impl Suspicion {
    /// A suspicion of `subject` raised by `from` at `start`.
    pub fn new(
        subject: NodeId,
        from: NodeId,
        k: u32,
        min: Nanos,
        max: Nanos,
        start: Nanos,
    ) -> Self {
        Suspicion {
            subject,
            k,
            n: 0,
            min,
            max: max.max(min),
            start,
            accusers: vec![from],
        }
    }

    /// Records an accusation by `from`. True when it was new information
    /// (a confirmation that moved the timer): false for a repeated
    /// accuser, or once `k` confirmations have been counted.
    pub fn confirm(&mut self, from: NodeId) -> bool {
        if self.n >= self.k || self.accusers.contains(&from) {
            return false;
        }
        self.accusers.push(from);
        self.n += 1;
        true
    }

    /// Independent confirmations counted so far.
    pub fn confirmations(&self) -> u32 {
        self.n
    }

    /// When the suspect is to be declared dead, on the observer's clock.
    pub fn deadline(&self) -> Nanos {
        self.start + total_suspicion_time(self.n, self.k, self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    /// hashicorp/memberlist `util_test.go`, `TestSuspicionTimeout`.
    #[test]
    fn suspicion_timeout_matches_memberlists_table() {
        let table = [
            (5, 1000),
            (10, 1000),
            (50, 1698),
            (100, 2000),
            (500, 2698),
            (1000, 3000),
        ];
        for (n, want_ms) in table {
            let got = suspicion_timeout(3, n, Nanos::from_secs(1)).as_nanos() / 3;
            assert_eq!(got, want_ms * MS, "n = {n}");
        }
    }

    /// hashicorp/memberlist `util_test.go`, `TestRetransmitLimit`.
    #[test]
    fn retransmit_limit_matches_memberlists_table() {
        assert_eq!(retransmit_limit(3, 0), 0);
        assert_eq!(retransmit_limit(3, 1), 3);
        assert_eq!(retransmit_limit(3, 99), 6);
        // And λ·⌈log10(n + 1)⌉ at the sizes fdsim runs.
        assert_eq!(retransmit_limit(4, 1000), 16);
        assert_eq!(retransmit_limit(4, 999), 12);
    }

    /// hashicorp/memberlist `util_test.go`, `TestPushPullScale`: the
    /// interval up to 32 members, twice it up to 64, three times up to 128.
    #[test]
    fn push_pull_interval_scales_as_memberlists() {
        let sec = Nanos::from_secs(1);
        for (range, mult) in [(0..=32, 1), (33..=64, 2), (65..=128, 3)] {
            for n in range {
                assert_eq!(push_pull_interval(sec, n), Nanos(mult * S), "n = {n}");
            }
        }
        assert_eq!(
            push_pull_interval(Nanos::from_secs(30), 1000),
            Nanos(180 * S)
        );
    }

    /// hashicorp/memberlist `awareness_test.go`, `TestAwareness`: a
    /// maximum multiplier of 8, deltas applied in order, the score and a
    /// 1 s timeout scaled after each.
    #[test]
    fn awareness_follows_memberlists_table() {
        let cases: [(i32, u32, u64); 14] = [
            (0, 0, 1),
            (-1, 0, 1),
            (-10, 0, 1),
            (1, 1, 2),
            (-1, 0, 1),
            (10, 7, 8),
            (-1, 6, 7),
            (-1, 5, 6),
            (-1, 4, 5),
            (-1, 3, 4),
            (-1, 2, 3),
            (-1, 1, 2),
            (-1, 0, 1),
            (-1, 0, 1),
        ];
        let mut a = Awareness::new(8);
        for (i, (delta, score, secs)) in cases.into_iter().enumerate() {
            a.apply_delta(delta);
            assert_eq!(a.score(), score, "case {i}");
            assert_eq!(a.scale(Nanos::from_secs(1)), Nanos(secs * S), "case {i}");
        }
    }

    /// hashicorp/memberlist `suspicion_test.go`,
    /// `TestSuspicion_remainingSuspicionTime`.
    #[test]
    fn remaining_suspicion_time_matches_memberlists_table() {
        let cases: [(u32, u32, u64, u64, u64, i128); 6] = [
            (0, 3, 0, 2 * S, 30 * S, 30 * S as i128),
            (1, 3, 2 * S, 2 * S, 30 * S, 14 * S as i128),
            (2, 3, 3 * S, 2 * S, 30 * S, 4810 * MS as i128),
            (3, 3, 4 * S, 2 * S, 30 * S, -2 * S as i128),
            (4, 3, 5 * S, 2 * S, 30 * S, -3 * S as i128),
            (5, 3, 10 * S, 2 * S, 30 * S, -8 * S as i128),
        ];
        for (i, (n, k, elapsed, min, max, want)) in cases.into_iter().enumerate() {
            let got = remaining_suspicion_time(n, k, Nanos(elapsed), Nanos(min), Nanos(max));
            assert_eq!(got, want, "case {i}");
        }
    }

    /// hashicorp/memberlist `suspicion_test.go`, `TestSuspicion_Timer`:
    /// k = 3, min 500 ms, max 2 s, the suspicion raised by "me"; each
    /// accusation's "new information" answer, the confirmations counted,
    /// and the total timeout. memberlist's test, which sleeps, writes the
    /// two-confirmation case as 810 ms within a ±25 ms window; the exact
    /// value of its formula is 2 − (ln 3 / ln 4) · 1.5 s = 811.28 ms,
    /// floored to 811 ms.
    #[test]
    fn suspicion_timer_shrinks_with_confirmations_as_memberlists() {
        const ME: NodeId = 0;
        const FOO: NodeId = 1;
        const BAR: NodeId = 2;
        const BAZ: NodeId = 3;
        const ZOO: NodeId = 4;
        let me = ME;
        type Case = (u32, &'static [(NodeId, bool)], u64);
        let cases: [Case; 6] = [
            (0, &[], 2000),
            (1, &[(ME, false), (FOO, true)], 1250),
            (
                1,
                &[(ME, false), (FOO, true), (FOO, false), (FOO, false)],
                1250,
            ),
            (2, &[(ME, false), (FOO, true), (BAR, true)], 811),
            (
                3,
                &[(ME, false), (FOO, true), (BAR, true), (BAZ, true)],
                500,
            ),
            (
                3,
                &[
                    (ME, false),
                    (FOO, true),
                    (BAR, true),
                    (BAZ, true),
                    (ZOO, false),
                ],
                500,
            ),
        ];
        for (i, (confirmations, accusations, want_ms)) in cases.into_iter().enumerate() {
            let start = Nanos::from_secs(100);
            let mut s = Suspicion::new(9, me, 3, Nanos(500 * MS), Nanos(2 * S), start);
            for &(from, new_info) in accusations {
                assert_eq!(s.confirm(from), new_info, "case {i}: accuser {from}");
            }
            assert_eq!(s.confirmations(), confirmations, "case {i}");
            assert_eq!(s.deadline(), start + Nanos(want_ms * MS), "case {i}");
        }
    }

    /// hashicorp/memberlist `suspicion_test.go`, `TestSuspicion_Timer_ZeroK`
    /// and `newSuspicion`: with no confirmation to expect (k = 0) the timer
    /// runs for the minimum, not the maximum, and accusations change
    /// nothing.
    #[test]
    fn with_nothing_to_confirm_the_suspicion_lasts_the_minimum() {
        let start = Nanos::from_secs(7);
        let mut s = Suspicion::new(9, 0, 0, Nanos(25 * MS), Nanos(30 * S), start);
        assert_eq!(s.deadline(), start + Nanos(25 * MS));
        assert!(!s.confirm(1));
        assert_eq!(s.deadline(), start + Nanos(25 * MS));
    }

    /// hashicorp/memberlist `suspicion_test.go`,
    /// `TestSuspicion_Timer_Immediate`: k = 1, min 100 ms, max 30 s; a
    /// confirmation 200 ms in puts the deadline in the past, so the
    /// timer fires at once.
    #[test]
    fn a_late_confirmation_makes_the_suspicion_expire_at_once() {
        let mut s = Suspicion::new(9, 0, 1, Nanos(100 * MS), Nanos(30 * S), Nanos::ZERO);
        assert!(s.confirm(1));
        assert!(s.deadline() <= Nanos(200 * MS));
        assert_eq!(
            remaining_suspicion_time(1, 1, Nanos(200 * MS), Nanos(100 * MS), Nanos(30 * S)),
            -100 * MS as i128
        );
    }
}
