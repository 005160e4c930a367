//! k-monitor heartbeating: every member is watched by its `k` successors
//! on a ring, each running a pairwise detector live (Akka Cluster's
//! layout); `k = n − 1` is all-to-all heartbeating.
//!
//! Members are placed on the ring in node order. Member `i` sends a
//! heartbeat every `interval` to its monitors `i+1, …, i+k` (mod n), so
//! member `j` watches its `k` predecessors `j−1, …, j−k`. For each watched
//! member a monitor runs one detector of any kind in [`crate::detector`]
//! at one threshold, on its own clock. Instead of polling, it asks the
//! detector when its suspicion will reach the threshold
//! ([`Detector::crossing`]) and sets a timer for exactly that instant, so
//! declarations are as exact as the pairwise scorer's transitions.
//!
//! Choices (documented in `docs/scenarios.md`):
//!
//! - **No suspect phase.** The detector's crossing is the protocol's
//!   decision: the monitor logs [`Verdict::Dead`] when suspicion reaches
//!   the threshold and [`Verdict::Alive`] when a heartbeat brings it back
//!   below. Akka too acts on one monitor's verdict (it marks a member
//!   unreachable as soon as one of its monitors does).
//! - **Unmonitored until trusted.** A monitor watches a member only from
//!   the first heartbeat after which its detector trusts it (Akka does not
//!   watch a member it has never heard from), so it never declares dead a
//!   member it has not heard from.
//! - **Push, not request/response.** Akka's monitors send a heartbeat
//!   request and time the response; here members push heartbeats, as the
//!   pairwise scenarios do, so the detector sees one-way delays.
//! - The first heartbeat goes out at a uniform random phase in
//!   `[0, interval)` after start (from the node's own stream), then every
//!   `interval`. A restarted member starts over: sequence 0, fresh
//!   detectors, every member unmonitored; its log is kept.
//!
//! Wire format: a heartbeat is 24 bytes (sender id and incarnation, 4
//! bytes each; sequence number and send time, 8 bytes each).

use super::heartbeat::Heartbeat;
use super::membership::{Membership, MembershipEvent, Verdict};
use crate::detector::{Arrival, Detector, DetectorKind, Env, Params};
use crate::sim::agent::{Agent, Ctx, NodeId, TimerKey};
use crate::sim::time::Nanos;

/// Parameters of k-monitor heartbeating.
#[derive(Clone, Debug)]
pub struct KMonitorConfig {
    /// Monitors per member (its ring successors); `n − 1` is all-to-all.
    pub k: u32,
    /// Heartbeat period of every member.
    pub interval: Nanos,
    /// The pairwise detector each monitor runs.
    pub detector: &'static DetectorKind,
    /// Its non-swept parameters.
    pub params: Params,
    /// The level of its suspicion (in the unit of its swept parameter) at
    /// which the monitor declares the member dead.
    pub threshold: f64,
}

/// Bytes of a heartbeat on the wire.
pub const HEARTBEAT_BYTES: u32 = 24;

const SEND_TIMER: TimerKey = 0;

/// What a monitor keeps about one watched member.
struct Watch {
    det: Box<dyn Detector>,
    /// Trusted at least once since this monitor started.
    monitored: bool,
    dead: bool,
}

/// The k-monitor agent of one member.
pub struct KMonitorAgent {
    me: NodeId,
    members: u32,
    cfg: KMonitorConfig,
    next_seq: u64,
    /// Per predecessor `me − 1 − d` (d in `0..k`).
    watches: Vec<Watch>,
    log: Vec<MembershipEvent>,
}

impl KMonitorAgent {
    /// Member `me` of a ring of `members` nodes. `cfg.k` must be below
    /// `members` (validation ensures it).
    pub fn new(me: NodeId, members: usize, cfg: KMonitorConfig) -> KMonitorAgent {
        debug_assert!((cfg.k as usize) < members);
        KMonitorAgent {
            me,
            members: members as u32,
            watches: Vec::new(),
            cfg,
            next_seq: 0,
            log: Vec::new(),
        }
    }

    /// The members this one sends heartbeats to: its `k` ring successors.
    pub fn monitors(&self) -> impl Iterator<Item = NodeId> + '_ {
        (1..=self.cfg.k).map(|d| (self.me + d) % self.members)
    }

    /// The members this one watches: its `k` ring predecessors.
    pub fn watched(&self) -> impl Iterator<Item = NodeId> + '_ {
        (1..=self.cfg.k).map(|d| (self.me + self.members - d) % self.members)
    }

    /// The opinion changes logged so far, without taking them.
    pub fn events(&self) -> &[MembershipEvent] {
        &self.log
    }

    /// Index of `from` among the watched members, if watched.
    fn slot(&self, from: NodeId) -> Option<usize> {
        let d = (self.me + self.members - from) % self.members;
        (d >= 1 && d <= self.cfg.k).then(|| (d - 1) as usize)
    }

    fn subject(&self, slot: usize) -> NodeId {
        (self.me + self.members - 1 - slot as u32) % self.members
    }

    fn fresh_detector(&self) -> Box<dyn Detector> {
        let env = Env {
            interval: self.cfg.interval,
        };
        let threshold = if self.cfg.detector.threshold_dependent {
            self.cfg.threshold
        } else {
            f64::NAN
        };
        (self.cfg.detector.build)(&self.cfg.params, threshold, &env)
    }

    fn note(&mut self, at: Nanos, slot: usize, verdict: Verdict) {
        let subject = self.subject(slot);
        self.watches[slot].dead = verdict == Verdict::Dead;
        self.log.push(MembershipEvent {
            at,
            observer: self.me,
            subject,
            verdict,
        });
    }

    fn beat(&mut self, ctx: &mut Ctx<'_, Heartbeat>) {
        let hb = Heartbeat {
            seq: self.next_seq,
            sent: ctx.now(),
            incarnation: ctx.incarnation(),
        };
        self.next_seq += 1;
        for d in 1..=self.cfg.k {
            ctx.send((self.me + d) % self.members, hb);
        }
        ctx.set_timer(SEND_TIMER, self.cfg.interval);
    }

    /// Sets the slot's timer for the detector's crossing, or cancels it.
    fn arm(&mut self, slot: usize, ctx: &mut Ctx<'_, Heartbeat>) {
        let key = slot as TimerKey + 1;
        match self.watches[slot].det.crossing(self.cfg.threshold) {
            Some(at) => ctx.set_timer(key, at.saturating_sub(ctx.now())),
            None => ctx.cancel_timer(key),
        }
    }
}

impl Agent for KMonitorAgent {
    type Msg = Heartbeat;

    fn start(&mut self, ctx: &mut Ctx<'_, Heartbeat>) {
        self.next_seq = 0;
        self.watches = (0..self.cfg.k)
            .map(|_| Watch {
                det: self.fresh_detector(),
                monitored: false,
                dead: false,
            })
            .collect();
        let phase = Nanos(ctx.rng().below(self.cfg.interval.0.max(1)));
        ctx.set_timer(SEND_TIMER, phase);
    }

    fn on_message(&mut self, from: NodeId, hb: Heartbeat, ctx: &mut Ctx<'_, Heartbeat>) {
        let Some(slot) = self.slot(from) else {
            return;
        };
        let now = ctx.now();
        let arrival = Arrival {
            at: now,
            seq: hb.seq,
            sent: hb.sent,
            incarnation: hb.incarnation,
        };
        let x = self.cfg.threshold;
        let w = &mut self.watches[slot];
        if self.cfg.detector.threshold_dependent {
            let was_suspecting = w.det.suspicion(now) >= x;
            w.det.heartbeat_judged(&arrival, was_suspecting);
        } else {
            w.det.heartbeat(&arrival);
        }
        let suspecting = w.det.suspicion(now) >= x;
        if !suspecting {
            w.monitored = true;
        }
        let (monitored, dead) = (w.monitored, w.dead);
        if dead && !suspecting {
            self.note(now, slot, Verdict::Alive);
        } else if monitored && !dead && suspecting {
            self.note(now, slot, Verdict::Dead);
        }
        if monitored && !suspecting {
            self.arm(slot, ctx);
        }
    }

    fn on_timer(&mut self, key: TimerKey, ctx: &mut Ctx<'_, Heartbeat>) {
        if key == SEND_TIMER {
            self.beat(ctx);
            return;
        }
        let slot = (key - 1) as usize;
        let now = ctx.now();
        let w = &self.watches[slot];
        if !w.monitored || w.dead {
            return;
        }
        let due = w.det.crossing(self.cfg.threshold);
        if w.det.suspicion(now) >= self.cfg.threshold || due.is_some_and(|c| c <= now) {
            self.note(now, slot, Verdict::Dead);
        } else {
            // A drifting clock can wake the timer a nanosecond early.
            self.arm(slot, ctx);
        }
    }
}

impl Membership for KMonitorAgent {
    fn take_events(&mut self) -> Vec<MembershipEvent> {
        std::mem::take(&mut self.log)
    }

    fn wire_bytes(_msg: &Heartbeat) -> u32 {
        HEARTBEAT_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::registry;
    use crate::sim::agent::Effect;
    use crate::sim::rng::Stream;

    fn fixed(k: u32, timeout: Nanos) -> KMonitorConfig {
        KMonitorConfig {
            k,
            interval: Nanos::from_secs(1),
            detector: registry::find("fixed").unwrap(),
            params: Params::new(Vec::new()),
            threshold: timeout.0 as f64,
        }
    }

    fn step(
        a: &mut KMonitorAgent,
        now: Nanos,
        f: impl FnOnce(&mut KMonitorAgent, &mut Ctx<'_, Heartbeat>),
    ) -> Vec<Effect<Heartbeat>> {
        let mut rng = Stream::new(1, "test");
        let mut effects = Vec::new();
        let mut ctx = Ctx::new(now, a.me, 0, &mut rng, &mut effects);
        f(a, &mut ctx);
        effects
    }

    fn hb(seq: u64) -> Heartbeat {
        Heartbeat {
            seq,
            sent: Nanos::ZERO,
            incarnation: 0,
        }
    }

    #[test]
    fn members_watch_their_k_ring_predecessors_and_report_to_their_successors() {
        let a = KMonitorAgent::new(1, 5, fixed(3, Nanos::from_secs(3)));
        assert_eq!(a.monitors().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(a.watched().collect::<Vec<_>>(), vec![0, 4, 3]);
        assert_eq!(a.slot(0), Some(0));
        assert_eq!(a.slot(3), Some(2));
        assert_eq!(a.slot(2), None);
        assert_eq!(a.subject(1), 4);
    }

    #[test]
    fn the_timer_is_set_for_the_exact_crossing_and_a_late_heartbeat_revives() {
        let timeout = Nanos::from_millis(2500);
        let mut a = KMonitorAgent::new(0, 4, fixed(2, timeout));
        step(&mut a, Nanos::ZERO, |a, c| a.start(c));
        let at = Nanos::from_millis(1200);
        let fx = step(&mut a, at, |a, c| a.on_message(3, hb(0), c));
        assert_eq!(
            fx,
            vec![Effect::SetTimer {
                key: 1,
                after: timeout
            }]
        );
        step(&mut a, at + timeout, |a, c| a.on_timer(1, c));
        let e = a.events()[0];
        assert_eq!(
            (e.at, e.subject, e.verdict),
            (at + timeout, 3, Verdict::Dead)
        );
        step(&mut a, Nanos::from_secs(9), |a, c| {
            a.on_message(3, hb(1), c)
        });
        assert_eq!(a.events()[1].verdict, Verdict::Alive);
        assert_eq!(a.events().len(), 2);
    }

    #[test]
    fn a_member_never_heard_from_is_not_declared_dead() {
        let mut a = KMonitorAgent::new(0, 4, fixed(3, Nanos::from_secs(1)));
        step(&mut a, Nanos::ZERO, |a, c| a.start(c));
        for key in 1..=3 {
            step(&mut a, Nanos::from_secs(100), |a, c| a.on_timer(key, c));
        }
        assert!(a.events().is_empty());
    }

    #[test]
    fn every_detector_kind_trusts_after_one_heartbeat_and_sets_a_crossing_after_two() {
        for kind in registry::kinds() {
            let params = Params::new(
                kind.params
                    .iter()
                    .map(|p| (p.name, p.default.expect("defaults")))
                    .collect(),
            );
            let threshold = kind.swept.default.unwrap_or(3e9);
            let cfg = KMonitorConfig {
                k: 1,
                interval: Nanos::from_secs(1),
                detector: kind,
                params,
                threshold,
            };
            let mut a = KMonitorAgent::new(0, 2, cfg);
            step(&mut a, Nanos::ZERO, |a, c| a.start(c));
            step(&mut a, Nanos::from_secs(1), |a, c| {
                a.on_message(1, hb(0), c)
            });
            assert!(a.watches[0].monitored, "{} does not trust", kind.name);
            // Some detectors (satzger) need an interval before they can
            // ever suspect: judge after the second heartbeat.
            let fx = step(&mut a, Nanos::from_secs(2), |a, c| {
                a.on_message(1, hb(1), c)
            });
            assert!(
                matches!(fx[..], [Effect::SetTimer { key: 1, after }] if after > Nanos::ZERO),
                "{}: {fx:?}",
                kind.name
            );
        }
    }
}
