//! The `Detector` contract, checked for every registered detector kind
//! (so a kind added later is covered without touching this file):
//!
//! - **starts suspicious**: before the first arrival suspicion is +∞;
//! - **crossing is exact**: if `crossing(x) == Some(c)` with c after the
//!   last arrival, then `suspicion(c − 1ns) < x ≤ suspicion(c)`; if c is at
//!   or before the last arrival, suspicion there already reaches x; if it
//!   is `None`, suspicion stays below x until the end of time;
//! - **silence never reassures**: while nothing arrives, suspicion never
//!   decreases (and is never NaN).
//!
//! Arrival histories are random: gaps around the heartbeat interval with
//! occasional long silences and bursts, lost heartbeats (sequence jumps),
//! late and duplicate ones (sequence numbers below the highest), one
//! incarnation change with stragglers of the old incarnation after it.
//! Thresholds are drawn from a range derived from each kind's swept
//! `ParamSpec`.

use fdsim::detector::{kinds, Arrival, Detector, DetectorKind, Env, ParamSpec, ParamUnit, Params};
use fdsim::sim::time::Nanos;
use proptest::prelude::*;
use proptest::sample::Index;

/// Heartbeat interval η of every history: 100 ms.
const ETA: u64 = 100_000_000;

/// A value for a parameter without a default: something ordinary for its
/// unit, or the low end of its range if that is not allowed.
fn fallback(p: &ParamSpec) -> f64 {
    let ordinary = match p.unit {
        ParamUnit::Duration => ETA as f64,
        ParamUnit::Count => 10.0,
        ParamUnit::Number => 1.0,
    };
    if p.check(ordinary).is_ok() {
        ordinary
    } else if p.min_inclusive {
        p.min
    } else {
        p.min + (p.max.min(p.min.abs() + 1.0) - p.min) * 0.5
    }
}

/// Every non-swept parameter of `kind` at its default.
fn params_with_defaults(kind: &DetectorKind) -> Params {
    Params::new(
        kind.params
            .iter()
            .map(|p| (p.name, p.default.unwrap_or_else(|| fallback(p))))
            .collect(),
    )
}

/// The range thresholds are drawn from. Durations: −η..5η (negative
/// margins are meaningful queries for deadline-style suspicion, so they
/// are kept unless the kind must be built with a valid threshold);
/// probabilities-like ranges within (0, 1]: that range; other numbers
/// 0..20; counts 1..20. Always clipped to the spec's maximum.
fn threshold_range(kind: &DetectorKind) -> (f64, f64) {
    let s = &kind.swept;
    let (lo, hi) = match s.unit {
        ParamUnit::Duration => (-(ETA as f64), 5.0 * ETA as f64),
        ParamUnit::Number if s.max <= 1.0 => (s.min, s.max),
        ParamUnit::Number => (0.0, 20.0),
        ParamUnit::Count => (1.0, 20.0),
    };
    let lo = if s.unit == ParamUnit::Duration && !kind.threshold_dependent {
        lo
    } else {
        lo.max(s.min)
    };
    (lo, hi.min(s.max))
}

/// The threshold at fraction `u` of the kind's range, or `None` if that
/// lands on a value the kind cannot be built with.
fn threshold(kind: &DetectorKind, u: f64) -> Option<f64> {
    let (lo, hi) = threshold_range(kind);
    let mut x = lo + u * (hi - lo);
    if kind.swept.unit == ParamUnit::Count {
        x = x.round();
    }
    let valid = kind.swept.check(x).is_ok();
    (valid || (!kind.threshold_dependent && x.is_finite())).then_some(x)
}

/// One step of a history: the gap before it, the delay its send time
/// implies, and a roll deciding lost / late / stale / normal.
type Step = (u64, u64, u8);

fn step() -> impl Strategy<Value = Step> {
    let gap = prop_oneof![
        8 => ETA * 8 / 10..ETA * 12 / 10,
        1 => 0..ETA / 10,
        1 => 0..5 * ETA,
    ];
    (gap, 0..2 * ETA, any::<u8>())
}

/// Builds arrivals from steps; the incarnation changes at step `restart`.
fn history(steps: &[Step], restart: usize) -> Vec<Arrival> {
    let mut out = Vec::with_capacity(steps.len());
    let mut at = ETA;
    let mut incarnation = 0u32;
    let mut highest: Option<u64> = None;
    let mut old_highest = 0u64;
    for (i, &(gap, delay, roll)) in steps.iter().enumerate() {
        at += gap;
        let (seq, inc) = if i == restart {
            incarnation += 1;
            old_highest = highest.unwrap_or(0);
            (0, incarnation)
        } else {
            match (roll, highest) {
                // A straggler of the previous incarnation.
                (0..=15, _) if incarnation > 0 => {
                    old_highest += 1;
                    (old_highest, incarnation - 1)
                }
                // Late or duplicate: at most 3 below the highest.
                (16..=40, Some(h)) => (h.saturating_sub(roll as u64 % 4), incarnation),
                // Lost heartbeats: skip one to three.
                (41..=70, Some(h)) => (h + 2 + roll as u64 % 3, incarnation),
                (_, Some(h)) => (h + 1, incarnation),
                (_, None) => (0, incarnation),
            }
        };
        if inc == incarnation {
            highest = Some(highest.map_or(seq, |h| if i == restart { seq } else { h.max(seq) }));
        }
        out.push(Arrival {
            at: Nanos(at),
            seq,
            sent: Nanos(at.saturating_sub(delay)),
            incarnation: inc,
        });
    }
    out
}

fn probe() -> impl Strategy<Value = u64> {
    prop_oneof![0..10u64, 0..ETA / 10, 0..3 * ETA]
}

fn check_unheard(det: &dyn Detector, name: &str) -> Result<(), TestCaseError> {
    // Suspicion is +∞, so every level is already reached; what `crossing`
    // answers then is never asked by the scorer (every threshold starts out
    // suspecting), so it is not checked (`fixed` answers `None`).
    for t in [0, ETA, u64::MAX] {
        prop_assert_eq!(det.suspicion(Nanos(t)), f64::INFINITY, "{}", name);
    }
    Ok(())
}

fn check_crossing(
    det: &dyn Detector,
    name: &str,
    last: Nanos,
    level: f64,
) -> Result<(), TestCaseError> {
    let s = |t: u64| det.suspicion(Nanos(t));
    match det.crossing(level) {
        Some(c) if c > last => {
            prop_assert!(
                s(c.0 - 1) < level && s(c.0) >= level,
                "{}: crossing({}) = {:?} after last arrival {:?}, but suspicion {} at c-1, {} at c",
                name,
                level,
                c,
                last,
                s(c.0 - 1),
                s(c.0)
            );
        }
        Some(c) => prop_assert!(
            s(last.0) >= level,
            "{}: crossing({}) = {:?} at or before the last arrival {:?}, where suspicion is only {}",
            name,
            level,
            c,
            last,
            s(last.0)
        ),
        None => {
            for t in [last.0, last.0.saturating_add(1_000 * ETA), u64::MAX] {
                prop_assert!(
                    s(t) < level,
                    "{}: crossing({}) = None but suspicion({}) = {}",
                    name,
                    level,
                    t,
                    s(t)
                );
            }
        }
    }
    Ok(())
}

fn check_monotone(
    det: &dyn Detector,
    name: &str,
    last: Nanos,
    levels: &[f64],
    probes: &[u64],
) -> Result<(), TestCaseError> {
    let mut times: Vec<u64> = Vec::new();
    let mut t = last.0;
    for p in probes {
        t = t.saturating_add(*p);
        times.push(t);
    }
    // Also right around every crossing.
    for &x in levels {
        if let Some(c) = det.crossing(x).filter(|&c| c > last) {
            times.extend([c.0 - 1, c.0, c.0.saturating_add(1)]);
        }
    }
    times.push(u64::MAX);
    times.sort_unstable();
    let mut prev = det.suspicion(last);
    prop_assert!(!prev.is_nan(), "{}: NaN suspicion at {:?}", name, last);
    for &t in &times {
        let now = det.suspicion(Nanos(t));
        // `below` is exactly `suspicion < level`, at the levels swept and
        // at the suspicion itself and the next number above it.
        let exact = [now, f64::from_bits(now.to_bits().wrapping_add(1))];
        for &x in levels
            .iter()
            .chain(exact.iter().filter(|x| x.is_finite() && **x > 0.0))
        {
            prop_assert_eq!(
                det.below(Nanos(t), x),
                now < x,
                "{}: below({}, {}) disagrees with suspicion {}",
                name,
                t,
                x,
                now
            );
        }
        prop_assert!(
            now >= prev,
            "{}: suspicion fell from {} to {} at {} (last arrival {:?})",
            name,
            prev,
            now,
            t,
            last
        );
        prev = now;
    }
    Ok(())
}

/// Feeds `arrivals` to `det`, checking the contract before the first and
/// after every arrival.
fn check_history(
    det: &mut dyn Detector,
    name: &str,
    arrivals: &[Arrival],
    levels: &[f64],
    probes: &[u64],
) -> Result<(), TestCaseError> {
    check_unheard(det, name)?;
    for a in arrivals {
        det.heartbeat(a);
        for &x in levels {
            check_crossing(det, name, a.at, x)?;
        }
        check_monotone(det, name, a.at, levels, probes)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn every_detector_keeps_the_contract(
        steps in prop::collection::vec(step(), 1..40),
        restart in any::<Index>(),
        fractions in prop::collection::vec(0.0..=1.0f64, 1..5),
        probes in prop::collection::vec(probe(), 1..12),
    ) {
        let arrivals = history(&steps, restart.index(steps.len()));
        let env = Env { interval: Nanos(ETA) };
        for kind in kinds() {
            let params = params_with_defaults(kind);
            let levels: Vec<f64> = fractions.iter().filter_map(|&u| threshold(kind, u)).collect();
            if kind.threshold_dependent {
                for &x in &levels {
                    let mut det = (kind.build)(&params, x, &env);
                    check_history(det.as_mut(), kind.name, &arrivals, &[x], &probes)?;
                }
            } else {
                let mut det = (kind.build)(&params, f64::NAN, &env);
                check_history(det.as_mut(), kind.name, &arrivals, &levels, &probes)?;
            }
        }
    }
}

#[test]
fn histories_hold_lost_late_and_stale_heartbeats_and_a_restart() {
    // The generator itself: a fixed roll sequence gives each case.
    let steps: Vec<Step> = [200u8, 50, 20, 200, 5, 200]
        .iter()
        .map(|&r| (ETA, ETA / 10, r))
        .collect();
    let a = history(&steps, 3);
    let seqs: Vec<(u64, u32)> = a.iter().map(|a| (a.seq, a.incarnation)).collect();
    // normal 0, lost (skip 2 + 50 % 3 = 4), late (4 − 20 % 4 = 4), restart,
    // stale (old 4 + 1 = 5 of incarnation 0), normal 1.
    assert_eq!(seqs, vec![(0, 0), (4, 0), (4, 0), (0, 1), (5, 0), (1, 1)]);
    assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
}
