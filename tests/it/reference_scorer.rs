//! A reference scorer, written from `docs/metrics.md` and nothing else, to
//! check the real one (`fdsim::metrics::qos`) against in
//! [`super::scorer_props`].
//!
//! It shares none of the real scorer's machinery: no segments, no
//! [`Detector::crossing`], no instance shared between thresholds, no
//! incremental bookkeeping. For each threshold x it runs one fresh detector,
//! as a single-threshold deployment would, and writes down the monitor's
//! output as a function of true time on [0, end):
//!
//! - at true time t the monitor's clock reads `clock.local(t)` and it has
//!   received every heartbeat whose true arrival time is at most t; all
//!   arrivals of one instant are applied before the output is read;
//! - the output is *suspect* iff `suspicion(clock.local(t)) ≥ x`.
//!
//! Between two arrival instants the detector's state is fixed and its
//! suspicion never decreases, so the output there is trust up to some
//! instant and suspect after it; that instant is found by bisection on
//! `suspicion()` over true nanoseconds. The resulting step function is
//! then read with plain interval arithmetic: where the target was up or
//! down, where each incarnation's accuracy period starts and ends, which
//! suspect transitions fall inside one, how long each lasted.

use fdsim::detector::{Detector, DetectorKind, Env, Params};
use fdsim::metrics::{RunQos, ScoreInput};

/// Every figure of [`RunQos`] the scorer derives, `causes` aside (the
/// reference knows no fault windows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scored {
    pub detections: Vec<u64>,
    pub undetected: u64,
    pub censored: Vec<u64>,
    pub mistakes: u64,
    pub mistake_time: u128,
    /// The length of each mistake that ended (trust, or a crash), sorted
    /// (shortest first), as [`RunQos`] keeps them.
    pub mistake_durations: Vec<u64>,
    /// The length up to the end of the run of each mistake still open
    /// then.
    pub mistake_censored: Vec<u64>,
    pub up_time: u128,
    pub suspect_time: u128,
}

impl From<&RunQos> for Scored {
    fn from(q: &RunQos) -> Scored {
        // A run keeps its mistake durations in the order they ended; the
        // figures compared are the multiset, sorted as the reference's.
        let mut mistake_durations: Vec<u64> = q.mistake_durations.iter().map(|d| d.0).collect();
        mistake_durations.sort_unstable();
        Scored {
            detections: q.detections.iter().map(|d| d.0).collect(),
            undetected: q.undetected,
            censored: q.censored.iter().map(|c| c.0).collect(),
            mistakes: q.mistakes,
            mistake_time: q.mistake_time.0,
            mistake_durations,
            mistake_censored: q.mistake_censored.iter().map(|d| d.0).collect(),
            up_time: q.up_time.0,
            suspect_time: q.suspect_time.0,
        }
    }
}

/// The monitor's output for one threshold on true time [0, end): a step
/// function, stored as its value at 0 followed by every change.
#[derive(Debug)]
struct Output {
    /// `(t, suspect)`: from t on (until the next entry) the output is
    /// `suspect`. Times strictly increase, values alternate; the first
    /// entry is at 0.
    steps: Vec<(u64, bool)>,
}

impl Output {
    fn set(&mut self, t: u64, suspect: bool) {
        if self.steps.last().is_none_or(|&(_, s)| s != suspect) {
            self.steps.push((t, suspect));
        }
    }

    /// The entry in force at `t`.
    fn entry(&self, t: u64) -> (u64, bool) {
        let k = self.steps.partition_point(|&(at, _)| at <= t);
        self.steps[k - 1]
    }

    fn suspect(&self, t: u64) -> bool {
        self.entry(t).1
    }

    /// The first instant in `[from, to)` at which the monitor trusts.
    fn first_trust(&self, from: u64, to: u64) -> Option<u64> {
        if !self.suspect(from) {
            return Some(from);
        }
        let next = self.steps.iter().find(|&&(at, s)| at > from && !s)?;
        (next.0 < to).then_some(next.0)
    }

    /// How long the monitor suspects within `[from, to)`.
    fn suspect_time(&self, from: u64, to: u64) -> u128 {
        let mut total = 0u128;
        for (k, &(at, s)) in self.steps.iter().enumerate() {
            let until = self.steps.get(k + 1).map_or(u64::MAX, |n| n.0);
            if s {
                let (lo, hi) = (at.max(from), until.min(to));
                total += hi.saturating_sub(lo) as u128;
            }
        }
        total
    }
}

/// Smallest t in `[lo, hi)` with `pred(t)`, for `pred` false then true.
fn first_true(lo: u64, hi: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    if lo >= hi || !pred(hi - 1) {
        return None;
    }
    let (mut lo, mut hi) = (lo, hi - 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo)
}

/// Writes down the output of `det` (state fixed) at threshold `x` on the
/// true interval `[lo, hi)`.
fn silence(out: &mut Output, det: &dyn Detector, x: f64, input: &ScoreInput<'_>, lo: u64, hi: u64) {
    if lo >= hi {
        return;
    }
    let suspect = |t: u64| det.suspicion(input.clock.local(fdsim::sim::Nanos(t))) >= x;
    if suspect(lo) {
        assert!(
            suspect(hi - 1),
            "suspicion fell while nothing arrived, from {lo} to {hi} ns: the detector contract is broken"
        );
        out.set(lo, true);
        return;
    }
    out.set(lo, false);
    if let Some(t) = first_true(lo + 1, hi, suspect) {
        out.set(t, true);
    }
}

/// The output at threshold `x` of one fresh detector fed the run's
/// arrivals.
fn output(
    kind: &DetectorKind,
    params: &Params,
    env: &Env,
    x: f64,
    input: &ScoreInput<'_>,
) -> Output {
    let mut det = (kind.build)(params, x, env);
    let end = input.end.0;
    let mut out = Output { steps: Vec::new() };
    let mut from = 0u64;
    let mut rest: Vec<_> = input
        .arrivals
        .iter()
        .filter(|l| l.true_at.0 < end)
        .collect();
    rest.sort_by_key(|l| l.true_at);
    let mut k = 0;
    while k < rest.len() {
        let t = rest[k].true_at.0;
        silence(&mut out, det.as_ref(), x, input, from, t);
        while k < rest.len() && rest[k].true_at.0 == t {
            let a = &rest[k].arrival;
            let was_suspecting = det.suspicion(a.at) >= x;
            det.heartbeat_judged(a, was_suspecting);
            k += 1;
        }
        from = t;
    }
    silence(&mut out, det.as_ref(), x, input, from, end);
    out
}

/// The target's life on [0, end): up intervals (one per incarnation that
/// starts before the end) and down intervals, each with whether it ended
/// with a restart.
struct Life {
    /// `[from, to)` and whether `from` is a restart.
    up: Vec<(u64, u64, bool)>,
    /// `[crash, to)` and whether `to` is a restart.
    down: Vec<(u64, u64, bool)>,
}

fn life(input: &ScoreInput<'_>) -> Life {
    let end = input.end.0;
    let mut life = Life {
        up: Vec::new(),
        down: Vec::new(),
    };
    let mut up_from = Some((0u64, false));
    for o in input.outages {
        let Some((from, restarted)) = up_from else {
            break;
        };
        if o.crash.0 >= end {
            break;
        }
        life.up.push((from, o.crash.0, restarted));
        let restart = o.restart.map(|r| r.0).filter(|&r| r < end);
        life.down
            .push((o.crash.0, restart.unwrap_or(end), restart.is_some()));
        up_from = restart.map(|r| (r, true));
    }
    if let Some((from, restarted)) = up_from {
        life.up.push((from, end, restarted));
    }
    life
}

/// Reads the scores of one threshold off its output.
fn judge(out: &Output, life: &Life, warmup: u64, end: u64) -> Scored {
    let mut s = Scored::default();
    for &(crash, to, restarted) in &life.down {
        // The output in force just before the restart (or the end): at
        // equal times the restart comes first.
        let (since, suspect) = out.entry(to - 1);
        if suspect {
            s.detections.push(since.max(crash) - crash);
        } else if restarted {
            s.undetected += 1;
        } else {
            s.censored.push(to - crash);
        }
    }
    for &(from, to, restarted) in &life.up {
        let first = if restarted && !out.suspect(from - 1) {
            // Still trusted at the restart.
            Some(from)
        } else {
            out.first_trust(from, to)
        };
        let Some(first) = first else { continue };
        let start = first.max(warmup);
        if start >= to {
            continue;
        }
        s.up_time += (to - start) as u128;
        s.suspect_time += out.suspect_time(start, to);
        for (k, &(at, suspect)) in out.steps.iter().enumerate() {
            if suspect && k > 0 && (start..to).contains(&at) {
                let trust = out.steps.get(k + 1).map_or(u64::MAX, |n| n.0);
                s.mistakes += 1;
                s.mistake_time += (trust.min(to) - at) as u128;
                // Still suspecting when the up period ends: at a crash
                // the mistake is over (suspecting is right from then on);
                // at the end of the run its length is unknown.
                if trust >= to && to == end {
                    s.mistake_censored.push(to - at);
                } else {
                    s.mistake_durations.push(trust.min(to) - at);
                }
            }
        }
    }
    // RunQos keeps them sorted, so that pooling seeds merges sorted runs.
    s.mistake_durations.sort_unstable();
    s
}

/// Scores `kind` at every threshold of `thresholds` (any order, results in
/// the same order), one fresh detector per threshold.
pub fn score(
    kind: &DetectorKind,
    params: &Params,
    env: &Env,
    thresholds: &[f64],
    input: ScoreInput<'_>,
) -> Vec<Scored> {
    let life = life(&input);
    thresholds
        .iter()
        .map(|&x| {
            let out = output(kind, params, env, x, &input);
            judge(&out, &life, input.warmup.0, input.end.0)
        })
        .collect()
}
