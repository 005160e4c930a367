//! Gossip-style heartbeating (van Renesse, Minsky and Hayden, "A
//! Gossip-Style Failure Detection Service", Middleware 1998), as a
//! sans-I/O [`Agent`] that logs its opinions ([`Membership`]).
//!
//! Every member keeps one heartbeat counter per member and the local time
//! at which that counter last increased. Every `interval` (T_gossip) it
//! increments its own counter and sends its whole table to `fanout`
//! members chosen at random; a receiver keeps, for each member, the larger
//! of its counter and the one received, and notes the time when it grows.
//! A member whose counter has not grown for `fail` (T_fail) is declared
//! **Dead**; its entry is then kept, frozen and no longer gossiped, for
//! `cleanup` (T_cleanup) more, and then **forgotten**: its counter is
//! erased, so a stale copy of it that arrives later re-adds it as Alive
//! (the resurrection T_cleanup is there to prevent).
//!
//! Choices this implementation makes (documented in `docs/scenarios.md`):
//!
//! - **Static membership.** Every node of the scenario is a member from
//!   the start; there is no join protocol. A member starts believing every
//!   other member Alive, as if each had just been heard from.
//! - **Restarts.** A heartbeat is `incarnation << 40 | counter`, so the
//!   counters of a restarted member (counting again from 1) are larger
//!   than any of its previous incarnation; a restarted member forgets its
//!   whole table.
//! - **Two verdicts.** The protocol has no suspect phase: it logs
//!   [`Verdict::Dead`] at T_fail and [`Verdict::Alive`] when a Dead or
//!   forgotten member's counter grows again.
//! - **Targets.** Each round picks `fanout` distinct members uniformly
//!   among those it does not hold Dead (all others if it holds every one
//!   Dead, so an isolated member keeps trying to heal), from the node's own
//!   random stream. The first round comes at a uniform random phase in
//!   `[0, interval)` after start, so members do not gossip in lock step.
//! - **Exact timeouts.** One timer, never later than the earliest pending
//!   deadline (a T_fail or a T_cleanup), fires exactly when a member is
//!   due.
//!
//! Wire format (what [`GossipAgent::wire_bytes`] counts): an 8-byte header
//! (sender id and entry count, 4 bytes each) and one 8-byte heartbeat per
//! member, in member-id order, 0 for a member not gossiped (Dead or
//! forgotten). Since membership is static, the member id is the entry's
//! position; a protocol with joins would add a 4-byte id per entry. So a
//! message is `8 + 8·n` bytes, about 808 bytes for 100 members. The table
//! is shared among the `fanout` copies of a round through an `Rc<[u64]>`,
//! and reused in place once every copy of the previous round has been
//! delivered or dropped, so rounds normally allocate nothing.

use super::membership::{Membership, MembershipEvent, Verdict};
use crate::sim::agent::{Agent, Ctx, NodeId, TimerKey};
use crate::sim::time::Nanos;
use std::rc::Rc;

/// Parameters of gossip-style heartbeating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GossipConfig {
    /// T_gossip: time between two rounds of a member.
    pub interval: Nanos,
    /// Members each round is sent to.
    pub fanout: u32,
    /// T_fail: a member whose counter has not grown for this long is Dead.
    pub fail: Nanos,
    /// T_cleanup: a Dead member is forgotten this long after its death.
    pub cleanup: Nanos,
}

/// Bytes of a gossip message's header: sender id and entry count.
pub const HEADER_BYTES: u32 = 8;
/// Bytes of one entry: a 64-bit heartbeat.
pub const ENTRY_BYTES: u32 = 8;

/// Bits of a heartbeat that hold the counter; the incarnation is above.
const COUNTER_BITS: u32 = 40;

/// A gossip message: the sender's heartbeat for every member, in member-id
/// order, 0 for a member it does not gossip about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub heartbeats: Rc<[u64]>,
}

/// What a member believes of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Alive,
    Dead,
    Forgotten,
}

const GOSSIP_TIMER: TimerKey = 0;
const CHECK_TIMER: TimerKey = 1;

/// The gossip agent of one member.
#[derive(Debug)]
pub struct GossipAgent {
    me: NodeId,
    cfg: GossipConfig,
    /// Heartbeat per member (0: unknown).
    heartbeats: Vec<u64>,
    /// Per member: local time of the last increase (Alive) or of the Dead
    /// declaration (Dead).
    since: Vec<Nanos>,
    state: Vec<State>,
    counter: u64,
    incarnation: u32,
    /// The deadline the check timer is set for, if any.
    armed: Option<Nanos>,
    /// The table of the last round, shared with the messages carrying it.
    outgoing: Rc<[u64]>,
    /// Scratch list of candidate targets, reused every round.
    candidates: Vec<NodeId>,
    /// Opinion changes, kept across restarts.
    log: Vec<MembershipEvent>,
}

impl GossipAgent {
    /// Member `me` of a cluster of `members` nodes (ids `0..members`).
    pub fn new(me: NodeId, members: usize, cfg: GossipConfig) -> GossipAgent {
        GossipAgent {
            me,
            cfg,
            heartbeats: vec![0; members],
            since: vec![Nanos::ZERO; members],
            state: vec![State::Alive; members],
            counter: 0,
            incarnation: 0,
            armed: None,
            outgoing: Rc::from(Vec::new()),
            candidates: Vec::with_capacity(members),
            log: Vec::new(),
        }
    }

    /// The opinion changes logged so far, without taking them.
    pub fn events(&self) -> &[MembershipEvent] {
        &self.log
    }

    fn note(&mut self, at: Nanos, subject: NodeId, verdict: Verdict) {
        self.log.push(MembershipEvent {
            at,
            observer: self.me,
            subject,
            verdict,
        });
    }

    /// One round: bump the own counter and send the table.
    fn round(&mut self, ctx: &mut Ctx<'_, Digest>) {
        let now = ctx.now();
        self.counter += 1;
        let me = self.me as usize;
        self.heartbeats[me] = (u64::from(self.incarnation) << COUNTER_BITS) | self.counter;
        self.since[me] = now;
        self.fill_outgoing();
        self.pick_targets(ctx);
        let fanout = (self.cfg.fanout as usize).min(self.candidates.len());
        for i in 0..fanout {
            let msg = Digest {
                heartbeats: Rc::clone(&self.outgoing),
            };
            ctx.send(self.candidates[i], msg);
        }
        ctx.set_timer(GOSSIP_TIMER, self.cfg.interval);
    }

    /// Writes the table to gossip into `outgoing`, in place when no message
    /// still holds the previous one.
    fn fill_outgoing(&mut self) {
        let entry = |j: usize| match self.state[j] {
            State::Alive => self.heartbeats[j],
            State::Dead | State::Forgotten => 0,
        };
        let n = self.heartbeats.len();
        match Rc::get_mut(&mut self.outgoing) {
            Some(buf) if buf.len() == n => {
                for (j, slot) in buf.iter_mut().enumerate() {
                    *slot = entry(j);
                }
            }
            _ => self.outgoing = (0..n).map(entry).collect(),
        }
    }

    /// Leaves the round's targets at the front of `candidates`: a partial
    /// Fisher–Yates shuffle over the members not held Dead (or over every
    /// other member if all are).
    fn pick_targets(&mut self, ctx: &mut Ctx<'_, Digest>) {
        self.candidates.clear();
        let me = self.me;
        let n = self.heartbeats.len() as NodeId;
        let alive = (0..n).filter(|&j| j != me && self.state[j as usize] == State::Alive);
        self.candidates.extend(alive);
        if self.candidates.is_empty() {
            self.candidates.extend((0..n).filter(|&j| j != me));
        }
        let len = self.candidates.len();
        for i in 0..(self.cfg.fanout as usize).min(len) {
            let j = i + ctx.rng().below((len - i) as u64) as usize;
            self.candidates.swap(i, j);
        }
    }

    /// Declares Dead every member past T_fail, forgets every one past
    /// T_cleanup, and re-arms the check timer.
    fn check(&mut self, ctx: &mut Ctx<'_, Digest>) {
        let now = ctx.now();
        for j in 0..self.heartbeats.len() {
            if j == self.me as usize {
                continue;
            }
            match self.state[j] {
                State::Alive if now >= self.since[j] + self.cfg.fail => {
                    self.state[j] = State::Dead;
                    self.since[j] = now;
                    self.note(now, j as NodeId, Verdict::Dead);
                }
                State::Dead if now >= self.since[j] + self.cfg.cleanup => {
                    self.state[j] = State::Forgotten;
                    self.heartbeats[j] = 0;
                }
                _ => {}
            }
        }
        self.arm(ctx);
    }

    /// Makes sure the check timer fires no later than the earliest pending
    /// deadline. A timer already set earlier is kept: when it fires early,
    /// [`GossipAgent::check`] finds nobody due and sets it again, which
    /// costs less than moving it at every message.
    fn arm(&mut self, ctx: &mut Ctx<'_, Digest>) {
        let me = self.me as usize;
        let next = (0..self.heartbeats.len())
            .filter(|&j| j != me)
            .filter_map(|j| match self.state[j] {
                State::Alive => Some(self.since[j] + self.cfg.fail),
                State::Dead => Some(self.since[j] + self.cfg.cleanup),
                State::Forgotten => None,
            })
            .min();
        let Some(at) = next else {
            return;
        };
        if self.armed.is_some_and(|armed| armed <= at) {
            return;
        }
        self.armed = Some(at);
        ctx.set_timer(CHECK_TIMER, at.saturating_sub(ctx.now()));
    }

    /// Takes in one received table.
    fn merge(&mut self, table: &[u64], now: Nanos) {
        let me = self.me as usize;
        for (j, &h) in table.iter().enumerate().take(self.heartbeats.len()) {
            if j == me || h <= self.heartbeats[j] {
                continue;
            }
            self.heartbeats[j] = h;
            self.since[j] = now;
            if self.state[j] != State::Alive {
                self.state[j] = State::Alive;
                self.note(now, j as NodeId, Verdict::Alive);
            }
        }
    }
}

impl Agent for GossipAgent {
    type Msg = Digest;

    fn start(&mut self, ctx: &mut Ctx<'_, Digest>) {
        let now = ctx.now();
        self.heartbeats.fill(0);
        self.since.fill(now);
        self.state.fill(State::Alive);
        self.counter = 0;
        self.incarnation = ctx.incarnation();
        self.armed = None;
        let phase = Nanos(ctx.rng().below(self.cfg.interval.0.max(1)));
        ctx.set_timer(GOSSIP_TIMER, phase);
        self.arm(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Digest, ctx: &mut Ctx<'_, Digest>) {
        self.merge(&msg.heartbeats, ctx.now());
        self.arm(ctx);
    }

    fn on_timer(&mut self, key: TimerKey, ctx: &mut Ctx<'_, Digest>) {
        match key {
            GOSSIP_TIMER => self.round(ctx),
            CHECK_TIMER => {
                self.armed = None;
                self.check(ctx);
            }
            _ => {}
        }
    }
}

impl Membership for GossipAgent {
    fn take_events(&mut self) -> Vec<MembershipEvent> {
        std::mem::take(&mut self.log)
    }

    fn wire_bytes(msg: &Digest) -> u32 {
        HEADER_BYTES + ENTRY_BYTES * msg.heartbeats.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::agent::Effect;
    use crate::sim::rng::Stream;

    fn cfg() -> GossipConfig {
        GossipConfig {
            interval: Nanos::from_secs(1),
            fanout: 2,
            fail: Nanos::from_secs(5),
            cleanup: Nanos::from_secs(10),
        }
    }

    /// Runs one callback at local time `now` and returns its effects.
    fn step(
        a: &mut GossipAgent,
        now: u64,
        f: impl FnOnce(&mut GossipAgent, &mut Ctx<'_, Digest>),
    ) -> Vec<Effect<Digest>> {
        let mut rng = Stream::new(1, "test");
        let mut effects = Vec::new();
        let mut ctx = Ctx::new(Nanos::from_secs(now), a.me, 0, &mut rng, &mut effects);
        f(a, &mut ctx);
        effects
    }

    fn table(h: &[u64]) -> Digest {
        Digest {
            heartbeats: Rc::from(h.to_vec()),
        }
    }

    #[test]
    fn a_silent_member_is_declared_dead_at_t_fail_and_forgotten_at_t_cleanup() {
        let mut a = GossipAgent::new(0, 3, cfg());
        step(&mut a, 0, |a, c| a.start(c));
        step(&mut a, 2, |a, c| a.on_message(1, table(&[0, 7, 4]), c));
        // Member 2's counter grew at 2 s, member 1's too.
        let fx = step(&mut a, 5, |a, c| a.on_timer(CHECK_TIMER, c));
        assert!(a.events().is_empty(), "nobody is due at 5 s");
        assert!(fx.contains(&Effect::SetTimer {
            key: CHECK_TIMER,
            after: Nanos::from_secs(2)
        }));
        step(&mut a, 7, |a, c| a.on_timer(CHECK_TIMER, c));
        let dead: Vec<(NodeId, Verdict)> =
            a.events().iter().map(|e| (e.subject, e.verdict)).collect();
        assert_eq!(dead, vec![(1, Verdict::Dead), (2, Verdict::Dead)]);
        assert_eq!(a.events()[0].at, Nanos::from_secs(7));
        // A stale copy (same counter) does not revive a Dead member ...
        step(&mut a, 8, |a, c| a.on_message(2, table(&[0, 7, 4]), c));
        assert_eq!(a.events().len(), 2);
        // ... but after T_cleanup it is forgotten and the same copy re-adds it.
        step(&mut a, 17, |a, c| a.on_timer(CHECK_TIMER, c));
        step(&mut a, 18, |a, c| a.on_message(2, table(&[0, 7, 4]), c));
        let last = a.events().last().unwrap();
        assert_eq!(
            (last.subject, last.verdict, last.at),
            (2, Verdict::Alive, Nanos::from_secs(18))
        );
    }

    #[test]
    fn a_higher_counter_revives_a_dead_member_and_dead_members_are_not_gossiped() {
        let mut a = GossipAgent::new(0, 3, cfg());
        step(&mut a, 0, |a, c| a.start(c));
        step(&mut a, 1, |a, c| a.on_message(1, table(&[0, 3, 3]), c));
        step(&mut a, 6, |a, c| a.on_timer(CHECK_TIMER, c));
        assert_eq!(a.events().len(), 2);
        let fx = step(&mut a, 6, |a, c| a.on_timer(GOSSIP_TIMER, c));
        let sent: Vec<&Digest> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Send { msg, .. } => Some(msg),
                _ => None,
            })
            .collect();
        assert_eq!(sent.len(), 2, "fanout 2 when every other member is Dead");
        assert_eq!(&sent[0].heartbeats[..], &[1, 0, 0]);
        assert_eq!(GossipAgent::wire_bytes(sent[0]), 8 + 3 * 8);
        step(&mut a, 7, |a, c| a.on_message(2, table(&[0, 0, 4]), c));
        let last = a.events().last().unwrap();
        assert_eq!((last.subject, last.verdict), (2, Verdict::Alive));
    }

    #[test]
    fn a_restarted_member_counts_above_its_previous_incarnation() {
        let mut a = GossipAgent::new(1, 2, cfg());
        let mut rng = Stream::new(1, "t");
        let mut fx = Vec::new();
        let mut ctx = Ctx::new(Nanos::ZERO, 1, 3, &mut rng, &mut fx);
        a.start(&mut ctx);
        a.round(&mut ctx);
        assert_eq!(a.heartbeats[1], (3u64 << 40) | 1);
        assert!(a.heartbeats[1] > (2u64 << 40) | 999_999);
    }

    #[test]
    fn rounds_reuse_the_shared_table_once_the_previous_messages_are_gone() {
        let mut a = GossipAgent::new(0, 4, cfg());
        step(&mut a, 0, |a, c| a.start(c));
        let fx = step(&mut a, 1, |a, c| a.round(c));
        let first = Rc::as_ptr(&a.outgoing);
        drop(fx);
        step(&mut a, 2, |a, c| a.round(c));
        assert_eq!(Rc::as_ptr(&a.outgoing), first, "reused in place");
        let held = step(&mut a, 3, |a, c| a.round(c));
        step(&mut a, 4, |a, c| a.round(c));
        assert_ne!(Rc::as_ptr(&a.outgoing), first, "a message still holds it");
        drop(held);
    }
}
