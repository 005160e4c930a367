//! Cluster metrics: a membership protocol's opinion log scored against the
//! ground truth, exactly and event by event.
//!
//! Input: every member's opinion changes ([`MembershipEvent`]) at **true**
//! times (the run path converts each observer's local times with its
//! clock), and every node's outages. Definitions (see `docs/metrics.md`):
//!
//! - **Opinions.** Every observer starts holding every other member
//!   [`Verdict::Alive`]. An observer that crashes holds no opinion while
//!   down and restarts holding everyone Alive; events it logs while down
//!   are ignored, as are events that repeat the opinion held.
//! - **Detection**, per crash of a member at c, until it restarts (or the
//!   run ends): the time from c to the first moment some live member holds
//!   it Suspect or Dead (*first suspicion*), holds it Dead (*first Dead*),
//!   and at which every live member holds it Dead (*all Dead*). First
//!   suspicion and first Dead count only opinion changes made after c: an
//!   opinion already held at c (a false suspicion, or a Dead left over
//!   from an earlier crash) is not a detection of this one. All Dead is a
//!   state, and counts every Dead held. A crash the member restarts from
//!   before a figure is reached is *missed* for that figure; one the run
//!   ends before is *censored* (the figure is only known to exceed the
//!   time left, [`super::survival`]). Neither is averaged in as a time.
//! - **Accuracy periods** of an (observer, subject) pair, as in the
//!   pairwise metrics: from the start (or the observer's restart) while
//!   the subject is up; after the subject restarts, from the restart if the
//!   observer then holds it Alive, otherwise from the first time it does.
//! - A **false Dead declaration** is a change to Dead inside an accuracy
//!   period at or after the warm-up. Its *false Dead period* runs until
//!   the observer changes its mind, the subject crashes, the observer
//!   crashes, or the run ends.
//! - A **stale Dead**, held by an observer from before the subject's
//!   restart and never taken back, is a false Dead declaration against the
//!   restarted incarnation once it ends (the subject crashes again, the
//!   observer crashes, or the run ends), with a false Dead period from the
//!   restart (or the warm-up). An observer that takes it back is not blamed
//!   for the time it needed to learn of the restart.
//! - A **false suspicion** is a change from Alive to Suspect inside an
//!   accuracy period at or after the warm-up; it is **refuted** if the
//!   observer next changes back to Alive (not to Dead).
//! - A **stale Dead retracted**: an observer that held a member Dead when
//!   it restarted (or joined again) and later takes it back; counted after
//!   the warm-up with the longest time it took, blamed on nobody.
//! - **Joins and leaves** are not failures. A member absent at the start
//!   (it joins later) and a member from its graceful leave (the
//!   announcement) until it joins again are *out*: not up, not counted
//!   as crashed, and no opinion about them is a detection or a mistake.
//!   Per join: the time until every live member holds the joiner Alive
//!   (*all Alive*); per leave: until every live member holds it
//!   [`Verdict::Left`] (*all Left*). A join or leave that does not get
//!   there before the member leaves, crashes or joins again, or before
//!   the run ends, is counted as not converged. An observer's Left
//!   opinion of a live member (one it has not heard of yet) is neither
//!   suspicion nor Dead.
//! - **Up time**: member up time (the sum over members of the time each is
//!   up, after the warm-up) normalises the rates ("per member-hour"); pair
//!   up time (the sum over ordered pairs of distinct members of the time
//!   both are up) normalises the share of time spent wrongly Dead.
//!
//! At equal times, crashes, restarts, leaves and joins (in that order)
//! come before opinion changes.

use super::qos::RunQos;
use crate::fault::{Absence, Outage};
use crate::protocol::membership::{MembershipEvent, Verdict};
use crate::sim::time::{Nanos, TotalNanos};

/// What the cluster scorer needs about one run of one protocol.
#[derive(Clone, Copy, Debug)]
pub struct ClusterInput<'a> {
    /// Number of members (node ids `0..members`).
    pub members: usize,
    /// Opinion changes at true times, sorted by time; one observer's
    /// events keep their logged order.
    pub events: &'a [MembershipEvent],
    /// Outages of every node, any order.
    pub outages: &'a [Outage],
    /// Joins and graceful leaves of every node, any order.
    pub absences: &'a [Absence],
    /// Declarations and suspicions before this true time are not scored,
    /// and up time is counted from it.
    pub warmup: Nanos,
    /// End of the run (exclusive).
    pub end: Nanos,
}

/// Cluster metrics of one run of one protocol at one parameter value.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusterQos {
    /// Crashes of members during the run.
    pub crashes: u32,
    /// Per crash detected: time from the crash to the first suspicion
    /// (Suspect or Dead) by any live member, in crash order.
    pub first_suspicion: Vec<Nanos>,
    /// Crashes the member restarted from before that figure was reached.
    pub first_suspicion_missed: u32,
    /// Crashes the run ended before that figure was reached: the time from
    /// each crash to the end (right-censored, see `docs/metrics.md`).
    pub first_suspicion_censored: Vec<Nanos>,
    /// Per crash detected: time to the first Dead declaration anywhere.
    pub first_dead: Vec<Nanos>,
    pub first_dead_missed: u32,
    pub first_dead_censored: Vec<Nanos>,
    /// Per crash: time until every live member held it Dead.
    pub all_dead: Vec<Nanos>,
    pub all_dead_missed: u32,
    pub all_dead_censored: Vec<Nanos>,
    /// False Dead declarations (live members declared Dead).
    pub false_dead: u64,
    /// Summed length of the false Dead periods.
    pub false_dead_time: TotalNanos,
    /// The longest false Dead period.
    pub false_dead_longest: Nanos,
    /// Suspicions of live members (Alive → Suspect).
    pub false_suspicions: u64,
    /// Of those, the ones the observer took back (Suspect → Alive).
    pub refuted_suspicions: u64,
    /// Sum over members of their up time after the warm-up.
    pub member_up_time: TotalNanos,
    /// Sum over ordered pairs of distinct members of the time both were
    /// up after the warm-up, in nanoseconds.
    pub pair_up_ns: u128,
    /// Messages the members sent (set by the run path from the engine).
    pub messages_sent: u64,
    /// Bytes of those messages, by the protocol's wire size.
    pub bytes_sent: u64,
    /// Of those, the bytes sent over TCP (SWIM's push-pull); the rest
    /// went over UDP.
    pub tcp_bytes_sent: u64,
    /// Members × run length, in seconds: the denominator of the load.
    pub member_seconds: f64,
    /// Dead opinions held at a member's restart (or rejoin) and taken
    /// back later, after the warm-up.
    pub stale_dead_retracted: u64,
    /// The longest time from a restart (or rejoin) to such a retraction.
    pub stale_dead_retracted_longest: Nanos,
    /// Joins during the run (first joins and joins after a leave).
    pub joins: u32,
    /// Per join that got there: time until every live member held the
    /// joiner Alive.
    pub join_all_alive: Vec<Nanos>,
    /// Joins that did not get there before the member left or crashed, or
    /// the run ended.
    pub join_not_all_alive: u32,
    /// Graceful leaves during the run.
    pub leaves: u32,
    /// Per leave that got there: time from the announcement until every
    /// live member held the member Left.
    pub leave_all_left: Vec<Nanos>,
    /// Leaves that did not get there before the member joined again, or
    /// the run ended.
    pub leave_not_all_left: u32,
}

impl ClusterQos {
    /// The run as pairwise QoS, so that protocols share the trade-off
    /// curve, tables and gates with detectors: detection time is the time
    /// to the first Dead declaration, a mistake is a false Dead declaration
    /// (so mistakes per hour are per member-hour), its duration the false
    /// Dead period, and 1 − P_A the share of pair up time some observer
    /// spent wrongly holding a live member Dead.
    pub fn as_run_qos(&self) -> RunQos {
        // false_dead_time × member_up_time / pair_up_ns, exact while the
        // product fits 128 bits and in floating point beyond.
        let (f, m, p) = (
            self.false_dead_time.0,
            self.member_up_time.0,
            self.pair_up_ns,
        );
        let scaled = match f.checked_mul(m) {
            Some(x) => x.checked_div(p).unwrap_or(0),
            None => (f as f64 * (m as f64 / p as f64)) as u128,
        };
        let suspect_time = TotalNanos(scaled);
        RunQos {
            detections: self.first_dead.clone(),
            undetected: u64::from(self.first_dead_missed),
            censored: self.first_dead_censored.clone(),
            mistakes: self.false_dead,
            mistake_time: self.false_dead_time,
            // Single false Dead periods are not kept: no duration figures.
            mistake_durations: Default::default(),
            mistake_censored: Vec::new(),
            up_time: self.member_up_time,
            suspect_time,
            // Cluster mistakes are not attributed to fault windows.
            causes: Default::default(),
        }
    }

    /// Adds `other` to this one (pooling seeds); detection times are
    /// appended unsorted.
    pub fn merge(&mut self, other: &ClusterQos) {
        self.crashes += other.crashes;
        self.first_suspicion
            .extend_from_slice(&other.first_suspicion);
        self.first_suspicion_missed += other.first_suspicion_missed;
        (self.first_suspicion_censored).extend_from_slice(&other.first_suspicion_censored);
        (self.first_dead_censored).extend_from_slice(&other.first_dead_censored);
        (self.all_dead_censored).extend_from_slice(&other.all_dead_censored);
        self.first_dead.extend_from_slice(&other.first_dead);
        self.first_dead_missed += other.first_dead_missed;
        self.all_dead.extend_from_slice(&other.all_dead);
        self.all_dead_missed += other.all_dead_missed;
        self.false_dead += other.false_dead;
        self.false_dead_time += other.false_dead_time;
        self.false_dead_longest = self.false_dead_longest.max(other.false_dead_longest);
        self.false_suspicions += other.false_suspicions;
        self.refuted_suspicions += other.refuted_suspicions;
        self.member_up_time += other.member_up_time;
        self.pair_up_ns += other.pair_up_ns;
        self.messages_sent += other.messages_sent;
        self.bytes_sent += other.bytes_sent;
        self.tcp_bytes_sent += other.tcp_bytes_sent;
        self.member_seconds += other.member_seconds;
        self.stale_dead_retracted += other.stale_dead_retracted;
        self.stale_dead_retracted_longest = self
            .stale_dead_retracted_longest
            .max(other.stale_dead_retracted_longest);
        self.joins += other.joins;
        self.join_all_alive.extend_from_slice(&other.join_all_alive);
        self.join_not_all_alive += other.join_not_all_alive;
        self.leaves += other.leaves;
        self.leave_all_left.extend_from_slice(&other.leave_all_left);
        self.leave_not_all_left += other.leave_not_all_left;
    }

    /// Several runs pooled, with every list of detection times sorted.
    pub fn pool<'a>(runs: impl IntoIterator<Item = &'a ClusterQos>) -> ClusterQos {
        let mut out = ClusterQos::default();
        for r in runs {
            out.merge(r);
        }
        out.first_suspicion.sort_unstable();
        out.first_dead.sort_unstable();
        out.all_dead.sort_unstable();
        out.first_suspicion_censored.sort_unstable();
        out.first_dead_censored.sort_unstable();
        out.all_dead_censored.sort_unstable();
        out.join_all_alive.sort_unstable();
        out.leave_all_left.sort_unstable();
        out
    }

    fn member_hours(&self) -> Option<f64> {
        (!self.member_up_time.is_zero()).then(|| self.member_up_time.as_hours_f64())
    }

    /// False Dead declarations per member-hour of up time.
    pub fn false_dead_per_member_hour(&self) -> Option<f64> {
        self.member_hours().map(|h| self.false_dead as f64 / h)
    }

    /// Refuted suspicions per member-hour of up time.
    pub fn refuted_per_member_hour(&self) -> Option<f64> {
        self.member_hours()
            .map(|h| self.refuted_suspicions as f64 / h)
    }

    /// Share of pair up time spent wrongly holding a live member Dead.
    pub fn false_dead_share(&self) -> Option<f64> {
        (self.pair_up_ns > 0).then(|| self.false_dead_time.0 as f64 / self.pair_up_ns as f64)
    }

    /// Messages sent per member per second of the run.
    pub fn messages_per_member_second(&self) -> Option<f64> {
        (self.member_seconds > 0.0).then(|| self.messages_sent as f64 / self.member_seconds)
    }

    /// Bytes sent per member per second of the run.
    pub fn bytes_per_member_second(&self) -> Option<f64> {
        (self.member_seconds > 0.0).then(|| self.bytes_sent as f64 / self.member_seconds)
    }

    /// Bytes sent over UDP per member per second of the run.
    pub fn udp_bytes_per_member_second(&self) -> Option<f64> {
        (self.member_seconds > 0.0)
            .then(|| (self.bytes_sent - self.tcp_bytes_sent) as f64 / self.member_seconds)
    }

    /// Bytes sent over TCP per member per second of the run.
    pub fn tcp_bytes_per_member_second(&self) -> Option<f64> {
        (self.member_seconds > 0.0).then(|| self.tcp_bytes_sent as f64 / self.member_seconds)
    }
}

/// Marks "no false Dead period open" in [`Scorer::dead_since`].
const NONE: u64 = u64::MAX;

/// The crash of one member being judged.
#[derive(Clone, Copy, Debug)]
struct Pending {
    crash: Nanos,
    suspected: bool,
    dead: bool,
    all: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Truth {
    Crash,
    Restart,
    Leave,
    Join,
}

struct Scorer {
    n: usize,
    warmup: Nanos,
    last: Nanos,
    up: Vec<bool>,
    live: u64,
    /// `[observer * n + subject]` from here on.
    opinion: Vec<Verdict>,
    accurate: Vec<bool>,
    /// Start of the open false Dead period, or [`NONE`].
    dead_since: Vec<u64>,
    /// An open suspicion that would count as refuted.
    false_suspect: Vec<bool>,
    /// Since when the observer has held a restarted subject Dead from
    /// before its restart (a stale Dead), or [`NONE`].
    stale_since: Vec<u64>,
    /// Per subject: live observers holding it Dead.
    dead_count: Vec<u64>,
    pending: Vec<Option<Pending>>,
    /// Per member: when it joined, until every live member holds it Alive.
    joining: Vec<Option<Nanos>>,
    /// Per member: when it announced its leave, until every live member
    /// holds it Left.
    leaving: Vec<Option<Nanos>>,
    qos: ClusterQos,
}

impl Scorer {
    fn new(n: usize, warmup: Nanos) -> Scorer {
        let mut accurate = vec![true; n * n];
        for i in 0..n {
            accurate[i * n + i] = false;
        }
        Scorer {
            n,
            warmup,
            last: Nanos::ZERO,
            up: vec![true; n],
            live: n as u64,
            opinion: vec![Verdict::Alive; n * n],
            accurate,
            dead_since: vec![NONE; n * n],
            false_suspect: vec![false; n * n],
            stale_since: vec![NONE; n * n],
            dead_count: vec![0; n],
            pending: vec![None; n],
            joining: vec![None; n],
            leaving: vec![None; n],
            qos: ClusterQos::default(),
        }
    }

    /// A member absent at the start: out until it joins.
    fn absent(&mut self, x: usize) {
        if self.up[x] {
            self.up[x] = false;
            self.live -= 1;
            for o in 0..self.n {
                self.accurate[o * self.n + x] = false;
            }
        }
    }

    /// Every live member other than `x` holds it `v`.
    fn all_hold(&self, x: usize, v: Verdict) -> bool {
        (0..self.n).all(|o| o == x || !self.up[o] || self.opinion[o * self.n + x] == v)
    }

    /// Records the joins and leaves that have now converged.
    fn check_membership(&mut self, x: usize, t: Nanos) {
        if let Some(j) = self.joining[x] {
            if self.all_hold(x, Verdict::Alive) {
                self.joining[x] = None;
                self.qos.join_all_alive.push(t - j);
            }
        }
        if let Some(l) = self.leaving[x] {
            if self.all_hold(x, Verdict::Left) {
                self.leaving[x] = None;
                self.qos.leave_all_left.push(t - l);
            }
        }
    }

    /// One fewer live observer may complete any join or leave.
    fn check_all_membership(&mut self, t: Nanos) {
        for x in 0..self.n {
            if self.joining[x].is_some() || self.leaving[x].is_some() {
                self.check_membership(x, t);
            }
        }
    }

    /// Counts up time over `[last, t)`, after the warm-up.
    fn advance(&mut self, t: Nanos) {
        let from = self.last.max(self.warmup);
        let to = t.max(self.warmup);
        if to > from {
            let dt = (to - from).0;
            let live = u128::from(self.live);
            self.qos.member_up_time += TotalNanos(live * u128::from(dt));
            self.qos.pair_up_ns += live * live.saturating_sub(1) * u128::from(dt);
        }
        self.last = self.last.max(t);
    }

    fn close_false_dead(&mut self, i: usize, t: Nanos) {
        let since = std::mem::replace(&mut self.dead_since[i], NONE);
        if since != NONE {
            let d = t - Nanos(since);
            self.qos.false_dead_time += d;
            self.qos.false_dead_longest = self.qos.false_dead_longest.max(d);
        }
    }

    /// Ends a stale Dead that was never taken back: a false Dead against
    /// the restarted incarnation, over its stay after the warm-up.
    fn close_stale(&mut self, i: usize, t: Nanos) {
        let since = std::mem::replace(&mut self.stale_since[i], NONE);
        if since == NONE || t <= self.warmup {
            return;
        }
        let d = t - Nanos(since).max(self.warmup);
        self.qos.false_dead += 1;
        self.qos.false_dead_time += d;
        self.qos.false_dead_longest = self.qos.false_dead_longest.max(d);
    }

    fn crash(&mut self, x: usize, t: Nanos) {
        if !self.up[x] {
            return;
        }
        self.go_down(x, t);
        self.qos.crashes += 1;
        // Opinions held now were formed before the crash: only the
        // changes that follow it detect it.
        self.pending[x] = Some(Pending {
            crash: t,
            suspected: false,
            dead: false,
            all: false,
        });
        self.after_down(t);
    }

    /// `x` announces its leave: out of the cluster from now on, which is
    /// no failure.
    fn leave(&mut self, x: usize, t: Nanos) {
        if !self.up[x] {
            return;
        }
        self.go_down(x, t);
        self.qos.leaves += 1;
        self.leaving[x] = Some(t);
        self.check_membership(x, t);
        self.after_down(t);
    }

    /// `x` joins (first, or again after a leave).
    fn join(&mut self, x: usize, t: Nanos) {
        if self.up[x] {
            return;
        }
        self.qos.leave_not_all_left += u32::from(self.leaving[x].take().is_some());
        self.restart(x, t);
        self.qos.joins += 1;
        self.joining[x] = Some(t);
        self.check_membership(x, t);
    }

    /// One fewer live observer may complete "all Dead" for any subject,
    /// and any join or leave.
    fn after_down(&mut self, t: Nanos) {
        for s in 0..self.n {
            self.check_all_dead(s, t);
        }
        self.check_all_membership(t);
    }

    /// `x` stops (crash or leave): its own opinions are forgotten and the
    /// periods about it end.
    fn go_down(&mut self, x: usize, t: Nanos) {
        self.qos.join_not_all_alive += u32::from(self.joining[x].take().is_some());
        let n = self.n;
        for s in (0..n).filter(|&s| s != x) {
            let i = x * n + s;
            if self.opinion[i] == Verdict::Dead {
                self.dead_count[s] -= 1;
            }
            self.close_false_dead(i, t);
            self.close_stale(i, t);
            self.false_suspect[i] = false;
            self.opinion[i] = Verdict::Alive;
            self.accurate[i] = false;
        }
        self.up[x] = false;
        self.live -= 1;
        for o in (0..n).filter(|&o| o != x) {
            let i = o * n + x;
            self.close_false_dead(i, t);
            self.close_stale(i, t);
            self.false_suspect[i] = false;
            self.accurate[i] = false;
        }
    }

    fn check_all_dead(&mut self, s: usize, t: Nanos) {
        if let Some(p) = &mut self.pending[s] {
            if !p.all && self.dead_count[s] == self.live {
                p.all = true;
                self.qos.all_dead.push(t - p.crash);
            }
        }
    }

    /// The crash of `x` ends: at its restart, or cut off by the `end` of
    /// the run, which censors the figures not yet reached.
    fn judge(&mut self, x: usize, end: Option<Nanos>) {
        let Some(p) = self.pending[x].take() else {
            return;
        };
        let q = &mut self.qos;
        match end {
            None => {
                q.first_suspicion_missed += u32::from(!p.suspected);
                q.first_dead_missed += u32::from(!p.dead);
                q.all_dead_missed += u32::from(!p.all);
            }
            Some(end) => {
                let left = end - p.crash;
                for (reached, times) in [
                    (p.suspected, &mut q.first_suspicion_censored),
                    (p.dead, &mut q.first_dead_censored),
                    (p.all, &mut q.all_dead_censored),
                ] {
                    if !reached {
                        times.push(left);
                    }
                }
            }
        }
    }

    fn restart(&mut self, x: usize, t: Nanos) {
        if self.up[x] {
            return;
        }
        self.judge(x, None);
        self.up[x] = true;
        self.live += 1;
        let n = self.n;
        for o in (0..n).filter(|&o| o != x) {
            let i = o * n + x;
            self.accurate[i] = self.up[o] && self.opinion[i] == Verdict::Alive;
            self.accurate[x * n + o] = self.up[o];
            if self.up[o] && self.opinion[i] == Verdict::Dead {
                self.stale_since[i] = t.0;
            }
        }
    }

    fn event(&mut self, e: &MembershipEvent, t: Nanos) {
        let (o, s) = (e.observer as usize, e.subject as usize);
        if o == s || o >= self.n || s >= self.n || !self.up[o] {
            return;
        }
        let i = o * self.n + s;
        let prev = self.opinion[i];
        let v = e.verdict;
        if prev == v {
            return;
        }
        self.opinion[i] = v;
        if prev == Verdict::Dead {
            self.dead_count[s] -= 1;
        }
        if v == Verdict::Dead {
            self.dead_count[s] += 1;
        }
        if self.up[s] {
            // Any change takes back a stale Dead: not blamed.
            let stale = std::mem::replace(&mut self.stale_since[i], NONE);
            if stale != NONE && t >= self.warmup {
                let q = &mut self.qos;
                q.stale_dead_retracted += 1;
                q.stale_dead_retracted_longest =
                    q.stale_dead_retracted_longest.max(t - Nanos(stale));
            }
            self.judge_live(i, prev, v, t);
        } else {
            self.judge_down(s, v, t);
        }
        if (v == Verdict::Alive && self.joining[s].is_some())
            || (v == Verdict::Left && self.leaving[s].is_some())
        {
            self.check_membership(s, t);
        }
    }

    /// An opinion change about a member that is up.
    fn judge_live(&mut self, i: usize, prev: Verdict, v: Verdict, t: Nanos) {
        let scored = self.accurate[i] && t >= self.warmup;
        match v {
            Verdict::Dead => {
                self.false_suspect[i] = false;
                if scored {
                    self.qos.false_dead += 1;
                    self.dead_since[i] = t.0;
                }
            }
            Verdict::Suspect => {
                self.close_false_dead(i, t);
                if prev == Verdict::Alive && scored {
                    self.qos.false_suspicions += 1;
                    self.false_suspect[i] = true;
                }
            }
            Verdict::Alive => {
                self.close_false_dead(i, t);
                if std::mem::take(&mut self.false_suspect[i]) {
                    self.qos.refuted_suspicions += 1;
                }
                self.accurate[i] = true;
            }
            // Not heard of (yet): neither a suspicion nor a death.
            Verdict::Left => {
                self.close_false_dead(i, t);
                self.false_suspect[i] = false;
            }
        }
    }

    /// An opinion change about a member that is down.
    fn judge_down(&mut self, s: usize, v: Verdict, t: Nanos) {
        let Some(p) = &mut self.pending[s] else {
            return;
        };
        if matches!(v, Verdict::Suspect | Verdict::Dead) && !p.suspected {
            p.suspected = true;
            self.qos.first_suspicion.push(t - p.crash);
        }
        if v == Verdict::Dead && !p.dead {
            p.dead = true;
            self.qos.first_dead.push(t - p.crash);
        }
        if v == Verdict::Dead {
            self.check_all_dead(s, t);
        }
    }

    fn finish(mut self, end: Nanos) -> ClusterQos {
        self.advance(end);
        for i in 0..self.dead_since.len() {
            self.close_false_dead(i, end);
            self.close_stale(i, end);
        }
        for x in 0..self.n {
            self.judge(x, Some(end));
            self.qos.join_not_all_alive += u32::from(self.joining[x].is_some());
            self.qos.leave_not_all_left += u32::from(self.leaving[x].is_some());
        }
        self.qos
    }
}

/// Scores one run of a membership protocol.
pub fn score_cluster(input: ClusterInput<'_>) -> ClusterQos {
    let n = input.members;
    let mut truth: Vec<(Nanos, usize, Truth)> = Vec::new();
    for o in input.outages.iter().filter(|o| (o.node as usize) < n) {
        if o.crash < input.end {
            truth.push((o.crash, o.node as usize, Truth::Crash));
            if let Some(r) = o.restart.filter(|&r| r < input.end) {
                truth.push((r, o.node as usize, Truth::Restart));
            }
        }
    }
    for a in input.absences.iter().filter(|a| (a.node as usize) < n) {
        if let Some(l) = a.leave.filter(|&l| l < input.end) {
            truth.push((l, a.node as usize, Truth::Leave));
        }
        if let Some(j) = a.join.filter(|&j| j < input.end) {
            truth.push((j, a.node as usize, Truth::Join));
        }
    }
    truth.sort();
    let mut sc = Scorer::new(n, input.warmup);
    for a in input.absences.iter().filter(|a| a.leave.is_none()) {
        if (a.node as usize) < n {
            sc.absent(a.node as usize);
        }
    }
    let mut events = input.events.iter().filter(|e| e.at < input.end).peekable();
    let mut truth = truth.into_iter().peekable();
    loop {
        let next_truth = truth.peek().map(|t| t.0);
        let next_event = events.peek().map(|e| e.at);
        let truth_first = match (next_truth, next_event) {
            (None, None) => break,
            (Some(a), Some(b)) => a <= b,
            (a, _) => a.is_some(),
        };
        if truth_first {
            let (t, x, what) = truth.next().expect("peeked");
            sc.advance(t);
            match what {
                Truth::Crash => sc.crash(x, t),
                Truth::Restart => sc.restart(x, t),
                Truth::Leave => sc.leave(x, t),
                Truth::Join => sc.join(x, t),
            }
        } else {
            let e = events.next().expect("peeked");
            sc.advance(e.at);
            sc.event(e, e.at);
        }
    }
    sc.finish(input.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Nanos {
        Nanos::from_secs(secs)
    }

    fn ev(at: u64, observer: u32, subject: u32, verdict: Verdict) -> MembershipEvent {
        MembershipEvent {
            at: s(at),
            observer,
            subject,
            verdict,
        }
    }

    /// Three members; member 2 crashes at 40 s and restarts at 70 s,
    /// member 1 crashes at 90 s for good; 10 s warm-up, 100 s run.
    fn hand_made() -> ClusterQos {
        use Verdict::*;
        let events = [
            ev(5, 0, 1, Dead), // before the warm-up: not scored
            ev(6, 0, 1, Alive),
            ev(20, 0, 1, Suspect), // false suspicion 1
            ev(21, 0, 1, Alive),   // ... refuted
            ev(25, 1, 0, Dead),    // false Dead 1, lasts 2 s
            ev(27, 1, 0, Alive),
            ev(30, 2, 0, Suspect), // false suspicion 2, not refuted:
            ev(32, 2, 0, Dead),    // false Dead 2, ended by 2's crash at 40 (8 s)
            ev(43, 0, 2, Suspect), // first suspicion of crash 1: 3 s
            ev(45, 1, 2, Dead),    // first Dead: 5 s
            ev(48, 0, 2, Dead),    // all live members: 8 s
            ev(50, 2, 0, Alive),   // logged while 2 is down: ignored
            ev(72, 0, 2, Alive),   // 0 trusts the new incarnation again
            ev(80, 1, 2, Suspect), // 1 never did: not scored
            ev(81, 1, 2, Dead),
            ev(85, 0, 2, Dead), // false Dead 3, open until the end (15 s)
            ev(95, 2, 1, Dead), // crash 2: first suspicion and Dead at 5 s
        ];
        let outages = [
            Outage {
                node: 2,
                crash: s(40),
                restart: Some(s(70)),
            },
            Outage {
                node: 1,
                crash: s(90),
                restart: None,
            },
        ];
        score_cluster(ClusterInput {
            members: 3,
            events: &events,
            outages: &outages,
            absences: &[],
            warmup: s(10),
            end: s(100),
        })
    }

    #[test]
    fn every_figure_of_a_hand_made_log_is_exact() {
        let q = hand_made();
        assert_eq!(q.crashes, 2);
        assert_eq!(q.first_suspicion, vec![s(3), s(5)]);
        assert_eq!(q.first_suspicion_missed, 0);
        assert_eq!(q.first_dead, vec![s(5), s(5)]);
        assert_eq!(q.first_dead_missed, 0);
        // Crash 2: member 0 has not declared member 1 Dead when the run
        // ends 10 s after the crash: censored, not missed.
        assert_eq!(q.all_dead, vec![s(8)]);
        assert_eq!(q.all_dead_missed, 0);
        assert_eq!(q.all_dead_censored, vec![s(10)]);
        assert!(q.first_dead_censored.is_empty());
        assert_eq!(q.false_dead, 3);
        assert_eq!(q.false_dead_time, s(2 + 8 + 15).into());
        assert_eq!(q.false_dead_longest, s(15));
        assert_eq!((q.false_suspicions, q.refuted_suspicions), (2, 1));
        // Up after the warm-up: 3 members on [10, 40), 2 on [40, 70),
        // 3 on [70, 90), 2 on [90, 100).
        assert_eq!(
            q.member_up_time,
            s(3 * 30 + 2 * 30 + 3 * 20 + 2 * 10).into()
        );
        assert_eq!(
            q.pair_up_ns,
            u128::from(s(6 * 30 + 2 * 30 + 6 * 20 + 2 * 10).0)
        );
    }

    #[test]
    fn the_pairwise_view_counts_false_dead_per_member_hour() {
        let q = hand_made();
        let r = q.as_run_qos();
        assert_eq!(r.detections, vec![s(5), s(5)]);
        assert_eq!((r.undetected, r.mistakes), (0, 3));
        assert_eq!(r.mistake_time, s(25).into());
        assert_eq!(r.up_time, s(230).into());
        // 1 − P_A = 25 s / 380 s of pair up time, carried on 230 s.
        assert_eq!(r.suspect_time, TotalNanos(25_000_000_000 * 230 / 380));
        let per_hour = q.false_dead_per_member_hour().unwrap();
        assert!((per_hour - 3.0 / (230.0 / 3600.0)).abs() < 1e-9);
        assert!((q.false_dead_share().unwrap() - 25.0 / 380.0).abs() < 1e-12);
    }

    #[test]
    fn an_opinion_held_at_the_crash_is_no_detection_but_a_crashed_holdout_completes_all_dead() {
        use Verdict::*;
        let events = [ev(5, 0, 2, Dead), ev(12, 1, 2, Suspect)];
        let outages = [
            Outage {
                node: 2,
                crash: s(10),
                restart: None,
            },
            Outage {
                node: 1,
                crash: s(15),
                restart: Some(s(20)),
            },
        ];
        let q = score_cluster(ClusterInput {
            members: 3,
            events: &events,
            outages: &outages,
            absences: &[],
            warmup: Nanos::ZERO,
            end: s(30),
        });
        // Member 2: held Dead by 0 since 5 s, before its crash, so that is
        // no detection; 1 suspects it 2 s after the crash, and nobody
        // declares it Dead afterwards. All Dead is a state: once member 1,
        // still only suspecting, crashes at 15 s, every live member holds
        // it Dead.
        assert_eq!(q.first_suspicion, vec![s(2)]);
        assert_eq!(q.first_dead, vec![]);
        assert_eq!(q.all_dead, vec![s(5)]);
        // The false Dead of member 2 by 0 at 5 s ended with its crash.
        assert_eq!((q.false_dead, q.false_dead_time), (1, s(5).into()));
        // Member 1's crash: nobody declared it; it restarted at 20 s
        // (missed). Member 2's first Dead is still not reached when the run
        // ends 20 s after its crash (censored).
        assert_eq!(q.crashes, 2);
        assert_eq!(q.first_dead_missed, 1);
        assert_eq!(q.first_dead_censored, vec![s(20)]);
        assert_eq!(q.first_suspicion_missed, 1);
        assert_eq!(q.all_dead_missed, 1);
    }

    /// Member 2 crashes at 10 s (declared Dead by 0 and 1), restarts at
    /// 20 s and crashes again at 40 s; member 0 takes the Dead back at
    /// 21 s, member 1 never does; 5 s warm-up, 60 s run.
    fn stale_dead(second_crash_events: &[MembershipEvent]) -> ClusterQos {
        use Verdict::*;
        let mut events = vec![
            ev(12, 0, 2, Suspect),
            ev(13, 1, 2, Dead),
            ev(14, 0, 2, Dead),
            ev(21, 0, 2, Alive),
        ];
        events.extend_from_slice(second_crash_events);
        let outages = [
            Outage {
                node: 2,
                crash: s(10),
                restart: Some(s(20)),
            },
            Outage {
                node: 2,
                crash: s(40),
                restart: None,
            },
        ];
        score_cluster(ClusterInput {
            members: 3,
            events: &events,
            outages: &outages,
            absences: &[],
            warmup: s(5),
            end: s(60),
        })
    }

    #[test]
    fn a_dead_left_over_from_before_a_restart_is_no_detection_of_the_next_crash() {
        use Verdict::*;
        let q = stale_dead(&[ev(43, 0, 2, Suspect), ev(47, 0, 2, Dead)]);
        assert_eq!(q.crashes, 2);
        // Crash 1 at 10 s: suspected at 12 s, Dead at 13 s, all at 14 s.
        // Crash 2 at 40 s: member 1's Dead of the first life is not a
        // detection; member 0 suspects at 43 s and declares at 47 s, which
        // also completes all Dead.
        assert_eq!(q.first_suspicion, vec![s(2), s(3)]);
        assert_eq!(q.first_dead, vec![s(3), s(7)]);
        assert_eq!(q.all_dead, vec![s(4), s(7)]);
        assert_eq!(q.first_suspicion_missed + q.first_dead_missed, 0);
    }

    #[test]
    fn a_dead_never_taken_back_after_a_restart_is_a_false_dead_of_the_new_life() {
        use Verdict::*;
        let q = stale_dead(&[ev(43, 0, 2, Suspect), ev(47, 0, 2, Dead)]);
        // Member 1 held the second life (20 s to 40 s) Dead throughout;
        // member 0 took 1 s to learn of the restart and is not blamed.
        assert_eq!((q.false_dead, q.false_dead_time), (1, s(20).into()));
        assert_eq!(q.false_dead_longest, s(20));
        // Member 0's retraction 1 s after the restart is reported.
        assert_eq!(q.stale_dead_retracted, 1);
        assert_eq!(q.stale_dead_retracted_longest, s(1));
        // Taken back before the next crash, even late: not blamed, but
        // reported.
        let q = stale_dead(&[ev(39, 1, 2, Alive), ev(43, 0, 2, Suspect)]);
        assert_eq!(q.false_dead, 0);
        assert_eq!(q.stale_dead_retracted, 2);
        assert_eq!(q.stale_dead_retracted_longest, s(19));
        assert_eq!(q.first_suspicion, vec![s(2), s(3)]);
        // Never crashed again: the stale Dead ends with the run.
        let q = score_cluster(ClusterInput {
            members: 3,
            events: &[ev(13, 1, 2, Dead)],
            absences: &[],
            outages: &[Outage {
                node: 2,
                crash: s(10),
                restart: Some(s(20)),
            }],
            warmup: s(30),
            end: s(60),
        });
        assert_eq!((q.false_dead, q.false_dead_time), (1, s(30).into()));
    }

    #[test]
    fn pooling_sums_counts_and_sorts_times() {
        let a = hand_made();
        let p = ClusterQos::pool([&a, &a]);
        assert_eq!(p.crashes, 4);
        assert_eq!(p.first_dead, vec![s(5); 4]);
        assert_eq!(p.false_dead_longest, s(15));
        assert_eq!(p.member_up_time, s(460).into());
    }
}
