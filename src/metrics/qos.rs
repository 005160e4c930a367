//! The ground-truth oracle: scores a detector on one monitored pair of one
//! run, exactly and event by event, for many thresholds at once.
//!
//! Definitions (Chen, Toueg, Aguilera, IEEE ToC 51(5), 2002), with the
//! conventions fdsim settles (documented in `docs/metrics.md`):
//!
//! - The output at time t for threshold x is *suspect* iff
//!   suspicion(t) ≥ x. Between arrivals suspicion never decreases, so each
//!   gap holds at most one suspect transition per threshold, found with
//!   [`Detector::crossing`]; trust transitions happen only at arrivals.
//! - **Detection time** T_D of a crash at c: from c to the start of the
//!   suspicion that lasts until the restart (or the end of the run), or 0 if
//!   that suspicion began before c. If the monitor trusts the target at the
//!   restart, the crash is **undetected**: the node came back before the
//!   detector noticed. If it trusts the target at the end of the run, the
//!   crash is **censored**: all we know is that T_D exceeds the time from
//!   the crash to the end, which is kept for survival estimates
//!   ([`super::survival`]). Neither is dropped or averaged in as a time.
//! - **Accuracy periods.** An incarnation's accuracy period starts at the
//!   monitor's first trust of it (a monitor cannot be blamed for suspecting
//!   a node it has not yet heard from) and never before the warm-up ends;
//!   it ends at the crash or at the end of the run.
//! - A **mistake** is a suspect transition inside an accuracy period. Its
//!   duration runs to the next trust transition, cut short by a crash or
//!   the end of the run.
//! - **P_A** is the fraction of accuracy-period time during which the
//!   monitor trusts the target.
//!
//! At equal times, truth changes (crash, restart) come before detector
//! transitions. Suspicion is a function of time: every arrival of one
//! instant (duplicates, a queue delivered at once) is applied before the
//! output is evaluated, so no transition happens between them.
//!
//! Each mistake is also labelled with the fault windows it overlaps
//! ([`super::attribution`]), when the caller gives them.

use super::attribution::{Cursor, FaultWindows, MistakeCauses, Windows};
use super::pooled::{Durations, Ended};
use crate::detector::{Detector, DetectorKind, Env, Params};
use crate::fault::Outage;
use crate::protocol::heartbeat::Logged;
use crate::sim::clock::Clock;
use crate::sim::time::{Nanos, TotalNanos};

/// QoS of one detector at one threshold over one run of one pair.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunQos {
    /// Detection time of every detected crash, in crash order.
    pub detections: Vec<Nanos>,
    /// Crashes the target recovered from before the monitor suspected it
    /// through to the restart.
    pub undetected: u64,
    /// Crashes still undetected when the run ended (right-censored): for
    /// each, the time from the crash to the end of the run, which T_D
    /// exceeds.
    pub censored: Vec<Nanos>,
    /// Suspect transitions inside accuracy periods.
    pub mistakes: u64,
    /// Summed durations of those mistakes.
    pub mistake_time: TotalNanos,
    /// The duration of every mistake that ended inside the run (at a trust
    /// transition, or cut short by a crash: from then on suspecting is
    /// right), in the order they ended: pooling runs answers percentiles
    /// by selection over the runs side by side, with no sorting
    /// ([`super::pooled::Pooled`]).
    pub mistake_durations: Durations,
    /// Mistakes still open when the run ended (right-censored): for each,
    /// the time from its start to the end, which its duration exceeds or
    /// equals. At most one per pair and threshold.
    pub mistake_censored: Vec<Nanos>,
    /// Length of the accuracy periods (up time scored for accuracy).
    pub up_time: TotalNanos,
    /// Time inside accuracy periods during which the monitor suspected.
    pub suspect_time: TotalNanos,
    /// The mistakes broken down by the fault windows they overlap.
    pub causes: MistakeCauses,
}

impl RunQos {
    pub fn crashes(&self) -> u64 {
        self.detections.len() as u64 + self.undetected + self.censored.len() as u64
    }

    /// P_A, or `None` when there was no up time to score.
    pub fn query_accuracy(&self) -> Option<f64> {
        (!self.up_time.is_zero()).then(|| 1.0 - self.suspect_time.0 as f64 / self.up_time.0 as f64)
    }

    /// λ_M in mistakes per hour of up time.
    pub fn mistakes_per_hour(&self) -> Option<f64> {
        (!self.up_time.is_zero()).then(|| self.mistakes as f64 / self.up_time.as_hours_f64())
    }

    /// Mean mistake duration, if there were mistakes.
    pub fn mean_mistake(&self) -> Option<Nanos> {
        self.mistake_time.mean(self.mistakes)
    }
}

/// What the scorer needs about one monitored pair of one run.
#[derive(Clone, Copy, Debug)]
pub struct ScoreInput<'a> {
    /// Heartbeats logged by the monitor from the target, in arrival order.
    pub arrivals: &'a [Logged],
    /// The target's outages, in time order.
    pub outages: &'a [Outage],
    /// The monitor's clock (detectors run on local time).
    pub clock: Clock,
    /// Mistakes before this true time are not scored.
    pub warmup: Nanos,
    /// End of the run (exclusive).
    pub end: Nanos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Truth {
    Crash,
    Restart,
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Up,
    Down { crash: Nanos },
}

/// Per-threshold output state and accumulators.
#[derive(Clone, Debug)]
struct Track {
    suspect: bool,
    since: Nanos,
    accuracy_from: Option<Nanos>,
    open_mistake: Option<Nanos>,
    /// Start of the open mistake's span for attribution: the true send
    /// time of the newest heartbeat received when it began.
    open_from: Nanos,
    /// Causes of windows the open mistake overlapped that were dropped
    /// from a live window store before it ended (see
    /// [`super::attribution::LiveWindows`]).
    carried: u8,
    cursor: Cursor,
    /// The durations of the mistakes ended so far.
    ended: Ended,
    qos: RunQos,
}

impl Track {
    fn new() -> Track {
        // Before the first heartbeat every detector suspects.
        Track {
            suspect: true,
            since: Nanos::ZERO,
            accuracy_from: None,
            open_mistake: None,
            open_from: Nanos::ZERO,
            carried: 0,
            cursor: Cursor::default(),
            ended: Ended::default(),
            qos: RunQos::default(),
        }
    }

    /// Returns whether the transition is a mistake.
    fn suspect_at(&mut self, t: Nanos, phase: Phase) -> bool {
        debug_assert!(!self.suspect);
        self.suspect = true;
        self.since = t;
        let mistake = matches!(phase, Phase::Up) && self.accuracy_from.is_some_and(|a| t >= a);
        if mistake {
            self.qos.mistakes += 1;
            self.open_mistake = Some(t);
        }
        mistake
    }

    fn trust_at(&mut self, t: Nanos, phase: Phase, warmup: Nanos, windows: &impl Windows) {
        debug_assert!(self.suspect);
        if matches!(phase, Phase::Up) {
            self.close_suspicion(t, windows, false);
            if self.accuracy_from.is_none() {
                self.accuracy_from = Some(t.max(warmup));
            }
        }
        self.suspect = false;
        self.since = t;
    }

    /// Books the suspicion that ends at `t` against the accuracy period;
    /// `censored` when `t` is the end of the run rather than a trust
    /// transition or a crash.
    fn close_suspicion(&mut self, t: Nanos, windows: &impl Windows, censored: bool) {
        if let Some(from) = self.accuracy_from {
            let start = self.since.max(from);
            self.qos.suspect_time += t.saturating_sub(start);
        }
        if let Some(m) = self.open_mistake.take() {
            self.qos.mistake_time += t - m;
            if censored {
                self.qos.mistake_censored.push(t - m);
            } else {
                self.ended.push(t - m);
            }
            let mask = windows.mask(&mut self.cursor, self.open_from, t) | self.carried;
            self.carried = 0;
            self.qos.causes.record(mask);
        }
    }

    /// Ends the accuracy period at `t`: a crash, or with `at_end` the end
    /// of the run.
    fn close_period(&mut self, t: Nanos, windows: &impl Windows, at_end: bool) {
        if self.suspect {
            self.close_suspicion(t, windows, at_end);
        }
        if let Some(from) = self.accuracy_from.take() {
            self.qos.up_time += t.saturating_sub(from);
        }
    }

    /// The down period that began at `crash` ends: at a restart, or, with
    /// `end`, cut off by the end of the run.
    fn judge_crash(&mut self, crash: Nanos, end: Option<Nanos>) {
        if self.suspect {
            self.qos.detections.push(self.since.max(crash) - crash);
        } else if let Some(end) = end {
            self.qos.censored.push(end - crash);
        } else {
            self.qos.undetected += 1;
        }
    }

    fn restart(&mut self, r: Nanos, crash: Nanos, warmup: Nanos) {
        self.judge_crash(crash, None);
        if !self.suspect {
            self.accuracy_from = Some(r.max(warmup));
        }
    }
}

/// A detector instance and the contiguous range of thresholds it serves.
/// Detectors whose state does not depend on the threshold have one segment
/// for all values; threshold-dependent ones start with one and split when
/// an arrival finds some of its thresholds suspecting and others not.
struct Segment<'d, D: ?Sized> {
    det: Det<'d, D>,
    lo: usize,
    hi: usize,
    /// Thresholds `lo..suspecting` currently suspect: always a prefix,
    /// since suspicion ≥ x holds for every x up to some level.
    suspecting: usize,
}

enum Det<'d, D: ?Sized> {
    Borrowed(&'d mut D),
    Owned(Box<D>),
}

impl<D: ?Sized> Det<'_, D> {
    #[inline]
    fn get(&self) -> &D {
        match self {
            Det::Borrowed(d) => d,
            Det::Owned(d) => d,
        }
    }
    #[inline]
    fn get_mut(&mut self) -> &mut D {
        match self {
            Det::Borrowed(d) => d,
            Det::Owned(d) => d,
        }
    }
}

/// What the scorer needs of a detector instance beyond [`Detector`]: a
/// copy of itself to split a segment with, and a view as `dyn Detector`
/// for [`Detector::same_state`]. The scorer is compiled once per built-in
/// detector type (so the three detector calls per arrival are direct and
/// inlined) and once for `dyn Detector` (detectors added by users).
trait Instance: Detector {
    fn split(&self) -> Option<Box<Self>>;
    fn as_detector(&self) -> &dyn Detector;
}

impl<'a> Instance for dyn Detector + 'a {
    fn split(&self) -> Option<Box<Self>> {
        // A clone is `'static`, which outlives `'a`.
        self.boxed_clone().map(|d| d as Box<dyn Detector + 'a>)
    }
    fn as_detector(&self) -> &dyn Detector {
        self
    }
}

impl<T: Detector + Clone + 'static> Instance for T {
    fn split(&self) -> Option<Box<Self>> {
        Some(Box::new(self.clone()))
    }
    fn as_detector(&self) -> &dyn Detector {
        self
    }
}

/// The target's outages as truth events (crash, then restart if it comes
/// before the end), read lazily: the whole timeline is never held.
struct TruthFeed<'t> {
    outages: Box<dyn Iterator<Item = Outage> + 't>,
    end: Nanos,
    next: Option<(Nanos, Truth)>,
    restart: Option<Nanos>,
}

impl<'t> TruthFeed<'t> {
    fn new(outages: Box<dyn Iterator<Item = Outage> + 't>, end: Nanos) -> TruthFeed<'t> {
        let mut feed = TruthFeed {
            outages,
            end,
            next: None,
            restart: None,
        };
        feed.next = feed.pull();
        feed
    }

    fn pull(&mut self) -> Option<(Nanos, Truth)> {
        if let Some(r) = self.restart.take() {
            return Some((r, Truth::Restart));
        }
        let end = self.end;
        let o = self.outages.by_ref().find(|o| o.crash < end)?;
        self.restart = o.restart.filter(|&r| r < end);
        Some((o.crash, Truth::Crash))
    }

    fn advance(&mut self) {
        self.next = self.pull();
    }

    /// The time of the next truth event, `Nanos::MAX` without one.
    #[inline(always)]
    fn next_at(&self) -> Nanos {
        self.next.map_or(Nanos::MAX, |(at, _)| at)
    }
}

struct Scorer<'t> {
    thresholds: Vec<f64>,
    tracks: Vec<Track>,
    phase: Phase,
    truth: TruthFeed<'t>,
    warmup: Nanos,
    /// Suspect transitions found in the current gap, reused across gaps.
    pending: Vec<(Nanos, usize)>,
    /// The newest send stamp among the arrivals so far, on the clock of
    /// the node that stamped it (see [`FaultWindows::new`]).
    newest_sent: Nanos,
}

impl Scorer<'_> {
    /// Applies the truth events at or before `t`. Nearly every call finds
    /// none, which is answered inline.
    #[inline(always)]
    fn apply_truth_until(&mut self, t: Nanos, w: &impl Windows) {
        if self.truth.next_at() <= t {
            self.apply_truth_events(t, w);
        }
    }

    #[inline(never)]
    fn apply_truth_events(&mut self, t: Nanos, w: &impl Windows) {
        while let Some((at, what)) = self.truth.next {
            if at > t {
                break;
            }
            self.truth.advance();
            match (what, self.phase) {
                (Truth::Crash, Phase::Up) => {
                    for tr in &mut self.tracks {
                        tr.close_period(at, w, false);
                    }
                    self.phase = Phase::Down { crash: at };
                }
                (Truth::Restart, Phase::Down { crash }) => {
                    for tr in &mut self.tracks {
                        tr.restart(at, crash, self.warmup);
                    }
                    self.phase = Phase::Up;
                }
                _ => debug_assert!(false, "truth events alternate"),
            }
        }
    }

    /// A suspect transition of threshold `i` at true time `at`; a mistake
    /// gets the start of its attribution span.
    fn suspect(&mut self, i: usize, at: Nanos, w: &impl Windows) {
        if self.tracks[i].suspect_at(at, self.phase) && w.has_any() {
            self.tracks[i].open_from = w.sent_true(self.newest_sent);
        }
    }

    /// Index one past the last threshold of `lo..hi` at or below `level`.
    /// A level below the lowest threshold (the common case just after an
    /// arrival) is answered without a search.
    #[inline]
    fn reached(&self, lo: usize, hi: usize, level: f64) -> usize {
        if lo == hi || level < self.thresholds[lo] {
            return lo;
        }
        lo + self.thresholds[lo..hi].partition_point(|&x| x <= level)
    }

    /// [`Scorer::reached`] at `det`'s suspicion at local `at`. Right after
    /// an arrival the suspicion is nearly always below every threshold,
    /// which `below` may tell without computing it.
    #[inline(always)]
    fn reached_at<D: ?Sized + Detector>(&self, det: &D, lo: usize, hi: usize, at: Nanos) -> usize {
        if lo == hi || det.below(at, self.thresholds[lo]) {
            lo
        } else {
            self.reached(lo, hi, det.suspicion(at))
        }
    }

    /// Whether `seg` reaches no further threshold by local `last`: every
    /// threshold already suspects, or the next is not reached.
    #[inline(always)]
    fn quiet<D: ?Sized + Detector>(&self, seg: &Segment<'_, D>, last: Nanos) -> bool {
        seg.suspecting == seg.hi || seg.det.get().below(last, self.thresholds[seg.suspecting])
    }

    /// The silence from local `from` up to (excluding) true time `until`,
    /// the next arrival instant or the end of the run. The monitor's clock
    /// reads at most `clock.local(until - 1)` in it: a fast clock skips
    /// readings, so a level first reached at a reading skipped just before
    /// `until` is never observed (the next arrival is in by then), and a
    /// slow clock repeats them, so the reading at `until` may already be
    /// observed before it.
    fn gap<D: ?Sized + Instance>(
        &mut self,
        segs: &mut [Segment<'_, D>],
        clock: Clock,
        from: Nanos,
        until: Nanos,
        w: &impl Windows,
    ) {
        let Some(before) = until.0.checked_sub(1) else {
            return;
        };
        let last = clock.local(Nanos(before));
        if last < from {
            return;
        }
        // Nearly always no segment reaches its next threshold in the gap,
        // which is told inline; the crossings are found out of line.
        if !segs.iter().all(|seg| self.quiet(seg, last)) {
            self.crossings(segs, clock, from, last, w);
        }
    }

    /// The suspect transitions of a gap in which some segment reaches its
    /// next threshold by local time `last` (see [`Scorer::gap`]).
    #[inline(never)]
    fn crossings<D: ?Sized + Instance>(
        &mut self,
        segs: &mut [Segment<'_, D>],
        clock: Clock,
        from: Nanos,
        last: Nanos,
        w: &impl Windows,
    ) {
        self.pending.clear();
        let single = segs.len() == 1;
        for seg in segs.iter_mut() {
            if self.quiet(seg, last) {
                continue;
            }
            let det = seg.det.get();
            let level = det.suspicion(last);
            let reached = self.reached(seg.lo, seg.hi, level);
            let mut floor = from;
            for i in seg.suspecting..reached.max(seg.suspecting) {
                let c = det.crossing(self.thresholds[i]).unwrap_or(last);
                let c = c.max(floor).min(last);
                floor = c;
                let at = clock.true_time(c);
                if single {
                    // One segment's crossings come in time order (each at
                    // or after the previous): applied as they are found.
                    self.apply_truth_until(at, w);
                    self.suspect(i, at, w);
                } else {
                    self.pending.push((at, i));
                }
            }
            seg.suspecting = seg.suspecting.max(reached);
        }
        if segs.len() > 1 {
            self.pending.sort_unstable();
        }
        for k in 0..self.pending.len() {
            let (at, i) = self.pending[k];
            self.apply_truth_until(at, w);
            self.suspect(i, at, w);
        }
    }

    /// Applies one arrival to every detector instance, without evaluating
    /// the output (see [`Scorer::evaluate`]); `judged` splits
    /// threshold-dependent segments first, on the instance's own view of
    /// the instant, as the detector itself would see it.
    #[inline(always)]
    fn update<D: ?Sized + Instance>(
        &mut self,
        segs: &mut Vec<Segment<'_, D>>,
        logged: &Logged,
        judged: bool,
        w: &impl Windows,
    ) {
        self.apply_truth_until(logged.true_at, w);
        if judged {
            self.update_judged(segs, logged);
        } else {
            for seg in segs.iter_mut() {
                seg.det.get_mut().heartbeat(&logged.arrival);
            }
        }
        self.newest_sent = self.newest_sent.max(logged.arrival.sent);
    }

    /// [`Scorer::update`] of threshold-dependent segments.
    #[inline(never)]
    fn update_judged<D: ?Sized + Instance>(
        &mut self,
        segs: &mut Vec<Segment<'_, D>>,
        logged: &Logged,
    ) {
        let at = logged.arrival.at;
        let mut k = 0;
        while k < segs.len() {
            // Where the segment's thresholds divide into suspecting and
            // not just before the arrival.
            let split = self.reached_at(segs[k].det.get(), segs[k].lo, segs[k].hi, at);
            if split > segs[k].lo && split < segs[k].hi {
                let copy = segs[k]
                    .det
                    .get()
                    .split()
                    .expect("threshold-dependent detectors can be cloned");
                // The output prefix `lo..suspecting` is split with the
                // range; outputs change only in `evaluate`.
                let upper = Segment {
                    det: Det::Owned(copy),
                    lo: split,
                    hi: segs[k].hi,
                    suspecting: segs[k].suspecting.max(split),
                };
                segs[k].hi = split;
                segs[k].suspecting = segs[k].suspecting.min(split);
                segs.insert(k + 1, upper);
            }
            let was_suspecting = split == segs[k].hi;
            segs[k]
                .det
                .get_mut()
                .heartbeat_judged(&logged.arrival, was_suspecting);
            k += 1;
        }
    }

    /// Evaluates every threshold's output at local instant `at` (true time
    /// `t`), once all arrivals of that instant have been applied.
    fn evaluate<D: ?Sized + Instance>(
        &mut self,
        segs: &mut [Segment<'_, D>],
        at: Nanos,
        t: Nanos,
        w: &impl Windows,
    ) {
        for seg in segs.iter_mut() {
            // Usually no threshold suspects at an arrival, and none did.
            let now = self.reached_at(seg.det.get(), seg.lo, seg.hi, at);
            if now != seg.suspecting {
                self.transitions(seg.suspecting, now, t, w);
                seg.suspecting = now;
            }
        }
    }

    /// Thresholds whose output changes at an evaluated instant, from the
    /// suspect prefix ending at `was` to the one ending at `now`: those
    /// from `now` up to `was` trust again, or those from `was` up to `now`
    /// suspect.
    #[inline(never)]
    fn transitions(&mut self, was: usize, now: usize, t: Nanos, w: &impl Windows) {
        if now < was {
            for tr in &mut self.tracks[now..was] {
                tr.trust_at(t, self.phase, self.warmup, w);
            }
        } else {
            for i in was..now {
                self.suspect(i, t, w);
            }
        }
    }

    fn finish(mut self, end: Nanos, w: &impl Windows) -> Vec<RunQos> {
        self.apply_truth_until(end, w);
        for tr in &mut self.tracks {
            match self.phase {
                Phase::Up => tr.close_period(end, w, true),
                Phase::Down { crash } => tr.judge_crash(crash, Some(end)),
            }
            debug_assert_eq!(tr.qos.causes.total(), tr.qos.mistakes);
            tr.qos.mistake_durations = Durations::from(std::mem::take(&mut tr.ended));
        }
        self.tracks.into_iter().map(|t| t.qos).collect()
    }
}

/// Joins neighbouring segments whose detectors have reached the same state
/// again (a window that has slid past the interval on which they
/// disagreed). Called right after an arrival, when each segment's suspect
/// prefix is exactly the thresholds at or below its current suspicion.
fn merge_equal<D: ?Sized + Instance>(segs: &mut Vec<Segment<'_, D>>) {
    let mut k = segs.len();
    while k > 1 {
        k -= 1;
        if (segs[k - 1].det.get()).same_state(segs[k].det.get().as_detector()) {
            let upper = segs.remove(k);
            let lower = &mut segs[k - 1];
            if lower.suspecting == lower.hi {
                lower.suspecting = upper.suspecting;
            }
            lower.hi = upper.hi;
        }
    }
}

/// How often (in arrivals) segments are checked for equal states.
const MERGE_EVERY: usize = 64;

/// One scorer fed arrival by arrival: the exact event-by-event oracle of
/// the module documentation, holding only the detector instances, one
/// track per threshold and the arrivals of the current instant's time,
/// whatever the length of the run. The arrivals must come in the
/// monitor's log order; the first at or after the end stops the scoring.
struct Live<'d, 't, D: ?Sized> {
    s: Scorer<'t>,
    segs: Vec<Segment<'d, D>>,
    judged: bool,
    clock: Clock,
    end: Nanos,
    /// Local time of the last evaluated instant.
    prev: Nanos,
    /// True time of the last evaluated instant.
    evaluated: Nanos,
    /// The instant being filled: its local time and the true time of its
    /// latest arrival; evaluated when a later arrival (or the end) comes.
    instant: Option<(Nanos, Nanos)>,
    n: usize,
    stopped: bool,
}

/// What a scorer needs to know about one pair besides its arrivals.
struct Setting<'t> {
    clock: Clock,
    warmup: Nanos,
    end: Nanos,
    truth: Box<dyn Iterator<Item = Outage> + 't>,
}

impl<'d, 't, D: ?Sized + Instance> Live<'d, 't, D> {
    fn new(
        segs: Vec<Segment<'d, D>>,
        thresholds: Vec<f64>,
        judged: bool,
        setting: Setting<'t>,
    ) -> Live<'d, 't, D> {
        debug_assert!(thresholds.windows(2).all(|w| w[0] <= w[1]));
        let n = thresholds.len();
        Live {
            s: Scorer {
                thresholds,
                tracks: vec![Track::new(); n],
                phase: Phase::Up,
                truth: TruthFeed::new(setting.truth, setting.end),
                warmup: setting.warmup,
                pending: Vec::with_capacity(n),
                newest_sent: Nanos::ZERO,
            },
            segs,
            judged,
            clock: setting.clock,
            end: setting.end,
            prev: setting.clock.local(Nanos::ZERO),
            evaluated: Nanos::ZERO,
            instant: None,
            n: 0,
            stopped: false,
        }
    }

    fn push(&mut self, logged: &Logged, w: &impl Windows) {
        if self.stopped || logged.true_at >= self.end {
            self.stopped = true;
            return;
        }
        // Every arrival of one local instant is applied before evaluating.
        if let Some((at, _)) = self.instant {
            if logged.arrival.at == at {
                self.s.update(&mut self.segs, logged, self.judged, w);
                self.instant = Some((at, logged.true_at));
                return;
            }
            self.close_instant(w);
        }
        self.s
            .gap(&mut self.segs, self.clock, self.prev, logged.true_at, w);
        self.s.update(&mut self.segs, logged, self.judged, w);
        self.instant = Some((logged.arrival.at, logged.true_at));
    }

    #[inline(always)]
    fn close_instant(&mut self, w: &impl Windows) {
        let Some((at, t)) = self.instant.take() else {
            return;
        };
        self.s.evaluate(&mut self.segs, at, t, w);
        if self.judged && self.segs.len() > 1 && self.n % MERGE_EVERY == 0 {
            merge_equal(&mut self.segs);
        }
        self.n += 1;
        self.prev = at;
        self.evaluated = t;
    }

    /// No mistake still open can end before this true time, and none
    /// opened later can start its span before it: fault windows ending by
    /// then can be dropped once [`Live::carry`] has noted them.
    fn horizon(&self, w: &impl Windows) -> Nanos {
        w.sent_true(self.s.newest_sent).min(self.evaluated)
    }

    /// Notes a dropped window of the causes in `mask` ending at `end` in
    /// every open mistake whose span it overlaps.
    fn carry(&mut self, mask: u8, end: Nanos) {
        for tr in &mut self.s.tracks {
            if tr.open_mistake.is_some() && tr.open_from < end {
                tr.carried |= mask;
            }
        }
    }

    fn finish(mut self, w: &impl Windows) -> Vec<RunQos> {
        self.close_instant(w);
        self.s
            .gap(&mut self.segs, self.clock, self.prev, self.end, w);
        self.s.finish(self.end, w)
    }
}

fn run_scorer(
    segs: Vec<Segment<'_, dyn Detector + '_>>,
    thresholds: &[f64],
    input: ScoreInput<'_>,
    judged: bool,
    windows: &FaultWindows,
) -> Vec<RunQos> {
    let setting = Setting {
        clock: input.clock,
        warmup: input.warmup,
        end: input.end,
        truth: Box::new(input.outages.iter().copied()),
    };
    let mut live = Live::new(segs, thresholds.to_vec(), judged, setting);
    for logged in input.arrivals {
        live.push(logged, windows);
    }
    live.finish(windows)
}

/// Scores `det` on one pair for every threshold in `thresholds`, which
/// must be sorted ascending. Returns one [`RunQos`] per threshold. The
/// detector's state must not depend on the threshold.
pub fn score(det: &mut dyn Detector, thresholds: &[f64], input: ScoreInput<'_>) -> Vec<RunQos> {
    score_with(det, thresholds, input, &FaultWindows::NONE)
}

fn score_with(
    det: &mut dyn Detector,
    thresholds: &[f64],
    input: ScoreInput<'_>,
    windows: &FaultWindows,
) -> Vec<RunQos> {
    let seg = Segment {
        det: Det::Borrowed(det),
        lo: 0,
        hi: thresholds.len(),
        suspecting: thresholds.len(),
    };
    run_scorer(vec![seg], thresholds, input, false, windows)
}

/// Scores a threshold-dependent detector at every threshold in
/// `thresholds` (sorted ascending) in one pass: one instance serves all
/// thresholds until an arrival finds some of them suspecting and others
/// not; then it is split (cloned), and split instances that reach the same
/// state again are joined. Each instance learns of an arrival through
/// [`Detector::heartbeat_judged`], with whether its thresholds were
/// suspecting, which is the only way a threshold may shape its state.
pub fn score_shared(
    det: Box<dyn Detector>,
    thresholds: &[f64],
    input: ScoreInput<'_>,
) -> Vec<RunQos> {
    let seg = Segment {
        det: Det::Owned(det),
        lo: 0,
        hi: thresholds.len(),
        suspecting: thresholds.len(),
    };
    run_scorer(vec![seg], thresholds, input, true, &FaultWindows::NONE)
}

/// Scores a registered detector kind at every threshold in `thresholds`
/// (any order; results come back in the same order), all on the same
/// arrival stream. Detectors whose state does not depend on the threshold
/// run once for all values; threshold-dependent ones share instances
/// between values while their states agree ([`score_shared`]), or, if they
/// cannot be cloned, run once per value.
pub fn score_detector(
    kind: &DetectorKind,
    params: &Params,
    env: &Env,
    thresholds: &[f64],
    input: ScoreInput<'_>,
) -> Vec<RunQos> {
    score_detector_attributed(kind, params, env, thresholds, input, &FaultWindows::NONE)
}

/// [`score_detector`], with each mistake labelled by the fault windows of
/// the pair that it overlaps (in [`RunQos::causes`]).
pub fn score_detector_attributed(
    kind: &DetectorKind,
    params: &Params,
    env: &Env,
    thresholds: &[f64],
    input: ScoreInput<'_>,
    windows: &FaultWindows,
) -> Vec<RunQos> {
    let setting = PairSetting {
        clock: input.clock,
        warmup: input.warmup,
        end: input.end,
    };
    let outages = input.outages;
    let truth = || boxed_outages(outages);
    let mut live = DetectorScorer::new(kind, params, env, thresholds, setting, truth);
    live.push_all(input.arrivals, windows);
    live.finish(windows)
}

fn boxed_outages(outages: &[Outage]) -> Box<dyn Iterator<Item = Outage> + '_> {
    Box::new(outages.iter().copied())
}

/// The clock, warm-up and end of the run of one monitored pair, for a
/// [`DetectorScorer`].
#[derive(Clone, Copy, Debug)]
pub struct PairSetting {
    /// The monitor's clock (detectors run on local time).
    pub clock: Clock,
    /// Mistakes before this true time are not scored.
    pub warmup: Nanos,
    /// End of the run (exclusive).
    pub end: Nanos,
}

/// One [`Live`] scorer behind a type-erased face, so that a
/// [`DetectorScorer`] can hold scorers compiled for different detector
/// types; arrivals come in batches, so the indirect call is made once per
/// batch rather than once per arrival and detector.
trait Part<'t, W> {
    fn push_all(&mut self, arrivals: &[Logged], w: &W);
    fn horizon(&self, w: &W) -> Nanos;
    fn carry(&mut self, mask: u8, end: Nanos);
    fn finish(self: Box<Self>, w: &W) -> Vec<RunQos>;
}

impl<'t, W: Windows, D: ?Sized + Instance> Part<'t, W> for Live<'static, 't, D> {
    fn push_all(&mut self, arrivals: &[Logged], w: &W) {
        for logged in arrivals {
            self.push(logged, w);
        }
    }
    fn horizon(&self, w: &W) -> Nanos {
        Live::horizon(self, w)
    }
    fn carry(&mut self, mask: u8, end: Nanos) {
        Live::carry(self, mask, end)
    }
    fn finish(self: Box<Self>, w: &W) -> Vec<RunQos> {
        Live::finish(*self, w)
    }
}

/// A [`Live`] scorer for `det`, compiled for its concrete type when it is
/// one of the built-in detectors (recognised through
/// [`Detector::as_any`]), for `dyn Detector` otherwise.
fn part<'t, W: Windows + 't>(
    det: Box<dyn Detector>,
    values: Vec<f64>,
    judged: bool,
    setting: Setting<'t>,
) -> Box<dyn Part<'t, W> + 't> {
    fn boxed<'t, W: Windows + 't, D: ?Sized + Instance + 'static>(
        det: Box<D>,
        values: Vec<f64>,
        judged: bool,
        setting: Setting<'t>,
    ) -> Box<dyn Part<'t, W> + 't> {
        let seg = Segment {
            det: Det::Owned(det),
            lo: 0,
            hi: values.len(),
            suspecting: values.len(),
        };
        Box::new(Live::new(vec![seg], values, judged, setting))
    }
    use crate::detector::{
        bertier::Bertier, chen::Chen, chen_nfds::ChenNfds, fixed::Fixed, phi::Phi,
        phi_akka::PhiAkka, phi_exp::PhiExp, satzger::Satzger, two_window::TwoWindow,
    };
    macro_rules! built_in {
        ($($t:ty),*) => {
            if let Some(any) = det.as_any() {
                $(if let Some(d) = any.downcast_ref::<$t>() {
                    return boxed(Box::new(d.clone()), values, judged, setting);
                })*
            }
        };
    }
    built_in!(Fixed, ChenNfds, Chen, Bertier, TwoWindow, Phi, PhiAkka, PhiExp, Satzger);
    boxed(det, values, judged, setting)
}

/// One detector kind at every swept value on one monitored pair, scored
/// while the run goes on: arrivals are pushed as the monitor receives
/// them ([`DetectorScorer::push`]) and forgotten at once, so the memory
/// it holds does not grow with the length of the run. Gives exactly what
/// [`score_detector_attributed`] gives on the whole logged stream (which
/// is implemented with it). `W` is the kind of fault windows mistakes are
/// labelled with.
pub struct DetectorScorer<'t, W> {
    /// One scorer for all values, or one per value for threshold-dependent
    /// detectors that cannot be cloned; values in ascending order.
    parts: Vec<Box<dyn Part<'t, W> + 't>>,
    /// `order[k]`: the caller's index of the `k`-th smallest value.
    order: Vec<usize>,
}

impl<'t, W: Windows + 't> DetectorScorer<'t, W> {
    /// A scorer of `kind` at `thresholds` (any order) whose ground truth
    /// is the target's outages, in time order, from `truth` (called once
    /// per internal scorer).
    pub fn new(
        kind: &DetectorKind,
        params: &Params,
        env: &Env,
        thresholds: &[f64],
        setting: PairSetting,
        mut truth: impl FnMut() -> Box<dyn Iterator<Item = Outage> + 't>,
    ) -> DetectorScorer<'t, W> {
        let mut order: Vec<usize> = (0..thresholds.len()).collect();
        order.sort_by(|&a, &b| thresholds[a].total_cmp(&thresholds[b]));
        let sorted: Vec<f64> = order.iter().map(|&i| thresholds[i]).collect();
        let mut part = |det: Box<dyn Detector>, values: Vec<f64>, judged: bool| {
            let s = Setting {
                clock: setting.clock,
                warmup: setting.warmup,
                end: setting.end,
                truth: truth(),
            };
            part(det, values, judged, s)
        };
        let parts = if !kind.threshold_dependent {
            vec![part((kind.build)(params, f64::NAN, env), sorted, false)]
        } else if sorted.len() == 1 {
            // One value: the detector applies its own threshold.
            vec![part((kind.build)(params, sorted[0], env), sorted, false)]
        } else {
            let det = (kind.build)(params, sorted[0], env);
            if det.boxed_clone().is_some() {
                vec![part(det, sorted, true)]
            } else {
                sorted
                    .iter()
                    .map(|&x| part((kind.build)(params, x, env), vec![x], false))
                    .collect()
            }
        };
        DetectorScorer { parts, order }
    }

    /// One arrival, in the monitor's log order.
    pub fn push(&mut self, logged: &Logged, windows: &W) {
        self.push_all(std::slice::from_ref(logged), windows);
    }

    /// Arrivals, in the monitor's log order.
    pub fn push_all(&mut self, arrivals: &[Logged], windows: &W) {
        for p in &mut self.parts {
            p.push_all(arrivals, windows);
        }
    }

    /// The earliest true time a fault window must reach past to still
    /// matter to this scorer ([`Live::horizon`]).
    pub fn horizon(&self, windows: &W) -> Nanos {
        (self.parts.iter().map(|p| p.horizon(windows)))
            .min()
            .unwrap_or(Nanos::ZERO)
    }

    /// Notes a fault window (of the causes in `mask`, ending at `end`)
    /// that the caller drops, in the open mistakes it overlaps.
    pub fn carry(&mut self, mask: u8, end: Nanos) {
        for p in &mut self.parts {
            p.carry(mask, end);
        }
    }

    /// The QoS at each value, in the order the values were given.
    pub fn finish(self, windows: &W) -> Vec<RunQos> {
        let scored = self.parts.into_iter().flat_map(|p| p.finish(windows));
        let mut out = vec![RunQos::default(); self.order.len()];
        for (qos, &i) in scored.zip(&self.order) {
            out[i] = qos;
        }
        out
    }
}

impl RunQos {
    /// Adds another pair's (or run's) QoS into this one. The mistake
    /// durations are appended; merged into an empty one, they are shared,
    /// not copied.
    pub fn merge(&mut self, other: &RunQos) {
        self.detections.extend_from_slice(&other.detections);
        self.undetected += other.undetected;
        self.censored.extend_from_slice(&other.censored);
        self.mistakes += other.mistakes;
        self.mistake_time += other.mistake_time;
        self.mistake_durations.append(&other.mistake_durations);
        (self.mistake_censored).extend_from_slice(&other.mistake_censored);
        self.up_time += other.up_time;
        self.suspect_time += other.suspect_time;
        self.causes.merge(&other.causes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::fixed::Fixed;
    use crate::detector::Arrival;

    fn logged(at_ms: u64, seq: u64) -> Logged {
        let at = Nanos::from_millis(at_ms);
        Logged {
            arrival: Arrival {
                at,
                seq,
                sent: at,
                incarnation: 0,
            },
            true_at: at,
        }
    }

    fn input<'a>(arrivals: &'a [Logged], outages: &'a [Outage], end_ms: u64) -> ScoreInput<'a> {
        ScoreInput {
            arrivals,
            outages,
            clock: Clock::default(),
            warmup: Nanos::ZERO,
            end: Nanos::from_millis(end_ms),
        }
    }

    #[test]
    fn a_late_heartbeat_is_one_mistake_for_short_timeouts_only() {
        // Heartbeats every 100 ms, one arrives 250 ms after the previous.
        let arr = [logged(0, 0), logged(100, 1), logged(350, 2), logged(450, 3)];
        let th = [
            Nanos::from_millis(150).0 as f64,
            Nanos::from_millis(300).0 as f64,
        ];
        let q = score(&mut Fixed::new(), &th, input(&arr, &[], 500));
        assert_eq!(q[0].mistakes, 1);
        assert_eq!(q[0].mistake_time, Nanos::from_millis(100).into()); // 250..350
        assert_eq!(q[0].up_time, Nanos::from_millis(500).into());
        assert_eq!(q[0].query_accuracy(), Some(0.8));
        assert_eq!(q[1].mistakes, 0);
        assert_eq!(q[1].query_accuracy(), Some(1.0));
    }

    #[test]
    fn crash_detection_time_is_last_arrival_plus_timeout_minus_crash() {
        let arr = [logged(0, 0), logged(100, 1), logged(200, 2)];
        let crash = [Outage {
            node: 0,
            crash: Nanos::from_millis(230),
            restart: None,
        }];
        let th = [Nanos::from_millis(150).0 as f64];
        let q = score(&mut Fixed::new(), &th, input(&arr, &crash, 1_000));
        assert_eq!(q[0].detections, vec![Nanos::from_millis(120)]); // 350 - 230
        assert_eq!(q[0].undetected, 0);
        assert_eq!(q[0].up_time, Nanos::from_millis(230).into());
    }

    #[test]
    fn a_crash_not_suspected_before_restart_is_undetected() {
        let arr = [logged(0, 0), logged(100, 1), logged(260, 0)];
        let crash = [Outage {
            node: 0,
            crash: Nanos::from_millis(150),
            restart: Some(Nanos::from_millis(250)),
        }];
        // 1 s timeout: the 150 ms outage is never noticed.
        let q = score(&mut Fixed::new(), &[1e9], input(&arr, &crash, 1_000));
        assert_eq!(q[0].undetected, 1);
        assert!(q[0].detections.is_empty());
        assert_eq!(q[0].crashes(), 1);
        // Accuracy resumes at the restart since the monitor still trusts.
        assert_eq!(q[0].up_time, Nanos::from_millis(150 + 750).into());
    }

    /// A heartbeat at true `t` ns as a monitor on `clock` logs it.
    fn logged_on(clock: Clock, t: u64, seq: u64) -> Logged {
        let at = clock.local(Nanos(t));
        Logged {
            arrival: Arrival {
                at,
                seq,
                sent: Nanos(t),
                incarnation: 0,
            },
            true_at: clock.true_time(at),
        }
    }

    #[test]
    fn a_reading_a_fast_clock_skips_before_an_arrival_is_no_mistake() {
        // At 1.5 local ns per true ns the monitor reads 0, 2, 3, 5 at true
        // 0..=3: it never reads 4. A 4 ns timeout after the heartbeat at 0
        // would expire at 4, but by the first reading past it (5, true 3)
        // the next heartbeat is in: the output never changes. The scorer
        // booked a mistake of 0 ns at true 3.
        let clock = Clock {
            offset: Nanos::ZERO,
            drift_ppm: 500_000.0,
        };
        let arr = [logged_on(clock, 0, 0), logged_on(clock, 3, 1)];
        let mut inp = input(&arr, &[], 0);
        inp.clock = clock;
        inp.end = Nanos(5);
        let q = score(&mut Fixed::new(), &[4.0], inp);
        assert_eq!((q[0].mistakes, q[0].suspect_time), (0, TotalNanos(0)));
        assert_eq!(q[0].up_time, TotalNanos(5));
    }

    #[test]
    fn a_reading_a_slow_clock_reaches_before_the_end_is_scored() {
        // At 0.5 local ns per true ns the monitor reads 4 from true 7 on: a
        // 4 ns timeout after the heartbeat at 0 expires at true 7, inside a
        // run that ends at 8 (whose own reading is 4 too). The scorer
        // stopped at readings below local(end) and missed that mistake.
        let clock = Clock {
            offset: Nanos::ZERO,
            drift_ppm: -500_000.0,
        };
        let arr = [logged_on(clock, 0, 0)];
        let mut inp = input(&arr, &[], 0);
        inp.clock = clock;
        inp.end = Nanos(8);
        let q = score(&mut Fixed::new(), &[4.0], inp);
        assert_eq!((q[0].mistakes, q[0].mistake_time), (1, TotalNanos(1)));
        assert_eq!(q[0].suspect_time, TotalNanos(1));
    }

    #[test]
    fn warmup_excludes_early_mistakes() {
        let arr = [logged(0, 0), logged(300, 1), logged(400, 2), logged(700, 3)];
        let th = [Nanos::from_millis(150).0 as f64];
        let mut inp = input(&arr, &[], 800);
        inp.warmup = Nanos::from_millis(350);
        let q = score(&mut Fixed::new(), &th, inp);
        assert_eq!(q[0].mistakes, 1, "only the mistake at 550 ms counts");
        assert_eq!(q[0].up_time, Nanos::from_millis(450).into());
        assert_eq!(q[0].suspect_time, Nanos::from_millis(150).into());
    }
}
