//! The SWIM agent of one member: probing, dissemination, suspicion and
//! refutation, with the Lifeguard mechanisms its configuration turns on.

use super::broadcast::BroadcastQueue;
use super::config::{SwimConfig, TargetSelection};
use super::lifeguard::{
    push_pull_interval, retransmit_limit, suspicion_timeout, Awareness, Suspicion,
};
use super::msg::{Kind, PiggybackPool, SwimMsg, Update, UpdateKind};
use super::view::{
    Base, Entry, Permutation, Snapshot, View, ALIVE, DEAD, LEFT, SUSPECT, UNKNOWN, VERDICT_MASK,
};
use crate::protocol::membership::{Membership, MembershipEvent, Verdict};
use crate::sim::agent::{Agent, Ctx, NodeId, TimerKey};
use crate::sim::Nanos;

/// The fixed-rate probe ticker.
const TICK: TimerKey = 0;
/// The running probe: its direct timeout, then its deadline.
const PROBE: TimerKey = 1;
/// The earliest suspicion deadline.
const SUSPICION: TimerKey = 2;
/// The gossip round.
const GOSSIP: TimerKey = 3;
/// The push-pull round.
const PUSH_PULL: TimerKey = 4;
/// Helper slot `i` waits on key `RELAY + i`.
const RELAY: TimerKey = 5;

/// Dead or Left: not probed, not counted among the live members.
fn is_out(code: u8) -> bool {
    code == DEAD || code == LEFT
}

/// Who is in the cluster when the run starts, and through whom each
/// member that joins later (or again) does so. Shared by every member.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// Members absent at the start: they join later.
    absent: Vec<bool>,
    /// Per member, the seed its joins go through; `None`: any member
    /// present at the start, drawn at each attempt.
    seeds: Vec<Option<NodeId>>,
    /// How many are absent.
    absent_count: usize,
}

impl Roster {
    /// `absent[m]`: member `m` is not in the cluster at the start;
    /// `seeds[m]`: the member its joins go through, if one is named.
    pub fn new(absent: Vec<bool>, seeds: Vec<Option<NodeId>>) -> Self {
        let absent_count = absent.iter().filter(|&&a| a).count();
        Roster {
            absent,
            seeds,
            absent_count,
        }
    }

    pub(super) fn absent_count(&self) -> usize {
        self.absent_count
    }

    pub(super) fn present_at_start(&self, m: NodeId) -> bool {
        !self.absent.get(m as usize).copied().unwrap_or(false)
    }
}

/// A restart count shifted this far leaves 2^20 refutations per life.
const LIFE_SHIFT: u32 = 20;

/// Where the running probe is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// No probe running.
    Idle,
    /// Ping sent; waiting for the direct ack until the probe timeout.
    Direct,
    /// Ping-reqs sent; waiting for any ack until the deadline.
    Indirect,
}

#[derive(Clone, Copy, Debug)]
struct Probe {
    stage: Stage,
    target: NodeId,
    seq: u32,
    /// End of the probe on the local clock: the (health-scaled) probe
    /// interval after the ping.
    deadline: Nanos,
    expected_nacks: u32,
    nacks: u32,
}

/// A ping this member sends for another (as a ping-req helper).
#[derive(Clone, Copy, Debug)]
struct Relay {
    active: bool,
    local_seq: u32,
    origin: NodeId,
    origin_seq: u32,
}

/// Counters of what an agent did, over all its lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwimStats {
    pub probes: u64,
    pub failed_probes: u64,
    pub refutations: u64,
    /// Push-pull exchanges started (joins included).
    pub push_pulls: u64,
    /// Times this member told a member that held it Dead at an older
    /// incarnation that it is alive.
    pub reannouncements: u64,
    /// Join exchanges sent to a seed (first attempts and retries).
    pub join_attempts: u64,
}

/// One member running SWIM (with Lifeguard as configured).
///
/// A member stores its view as what differs from a view all members
/// share (`view.rs`), and its round-robin order as a keyed permutation,
/// so its memory does not grow with the cluster while its view agrees
/// with most others'; nothing in the message path allocates once the
/// broadcast queue and helper slots have reached their working size.
#[derive(Clone, Debug)]
pub struct SwimAgent {
    cfg: SwimConfig,
    me: NodeId,
    n: usize,
    // Volatile state, rebuilt by `start`.
    /// What this member holds about each member, stored against a view
    /// all members share.
    view: View,
    /// The view has been set up by a start.
    started: bool,
    /// Merge every member of a push-pull, not only where the views can
    /// differ (the unit test that checks the two give the same run).
    merge_all: bool,
    /// Members not believed dead, this one included.
    live: usize,
    /// The round-robin pass: the order of this pass, and the place in it
    /// (`n` when a new pass is due).
    pass: Permutation,
    next_index: usize,
    probe: Probe,
    /// A tick came while a probe was still running (memberlist's ticker
    /// keeps one missed tick): the next probe starts when it ends.
    tick_pending: bool,
    /// Local time of the first gossip round; rounds follow every
    /// `gossip_interval`.
    gossip_phase: Nanos,
    /// The gossip timer is set (it sleeps while there is nothing to send).
    gossip_armed: bool,
    awareness: Awareness,
    queue: BroadcastQueue,
    /// Spare piggyback buffers (kept across restarts: they hold nothing).
    pool: PiggybackPool,
    suspicions: Vec<Suspicion>,
    /// Members declared dead less than `gossip_to_the_dead` ago, and when.
    recently_dead: Vec<(NodeId, Nanos)>,
    relays: Vec<Relay>,
    scratch: Vec<NodeId>,
    /// Announced its leave and is about to stop: it does not refute its
    /// own departure.
    leaving: bool,
    /// Its join exchange has been answered (always true for a member that
    /// did not start by joining).
    joined: bool,
    // Kept across restarts.
    roster: Option<std::sync::Arc<Roster>>,
    /// The next start is a join: it starts knowing nobody and asks a seed
    /// for the member list (absent at the start, or left gracefully).
    joining: bool,
    seq: u32,
    events: Vec<MembershipEvent>,
    probes: Vec<(Nanos, NodeId)>,
    stats: SwimStats,
}

impl SwimAgent {
    /// Member `me` of a cluster of `n` members (ids `0..n`) that all know
    /// each other from the start.
    pub fn new(cfg: SwimConfig, me: NodeId, n: usize) -> Self {
        debug_assert!(cfg.validate().is_ok(), "{:?}", cfg.validate());
        debug_assert!((me as usize) < n);
        SwimAgent {
            cfg,
            me,
            n,
            view: View::new(n, Base::Present(None)),
            started: false,
            merge_all: false,
            live: n,
            pass: Permutation::new(n, 0),
            next_index: n,
            probe: Probe {
                stage: Stage::Idle,
                target: me,
                seq: 0,
                deadline: Nanos::ZERO,
                expected_nacks: 0,
                nacks: 0,
            },
            tick_pending: false,
            gossip_phase: Nanos::ZERO,
            gossip_armed: false,
            awareness: Awareness::new(cfg.awareness_max_multiplier),
            queue: BroadcastQueue::default(),
            pool: PiggybackPool::default(),
            suspicions: Vec::new(),
            recently_dead: Vec::new(),
            relays: Vec::new(),
            scratch: Vec::new(),
            leaving: false,
            joined: true,
            roster: None,
            joining: false,
            seq: 0,
            events: Vec::new(),
            probes: Vec::new(),
            stats: SwimStats::default(),
        }
    }

    /// One agent per member of an `n`-member cluster, in id order.
    pub fn cluster(cfg: SwimConfig, n: usize) -> Vec<SwimAgent> {
        (0..n as NodeId)
            .map(|i| SwimAgent::new(cfg, i, n))
            .collect()
    }

    /// Member `me` of a cluster whose members are given by `roster`: a
    /// member absent at the start is unknown to everyone until it joins,
    /// and starts (at its join) by asking a seed for the member list.
    pub fn with_roster(
        cfg: SwimConfig,
        me: NodeId,
        n: usize,
        roster: std::sync::Arc<Roster>,
    ) -> Self {
        let mut a = SwimAgent::new(cfg, me, n);
        a.joining = !roster.present_at_start(me);
        a.roster = Some(roster);
        a
    }

    fn present_at_start(&self, m: NodeId) -> bool {
        self.roster.as_ref().is_none_or(|r| r.present_at_start(m))
    }

    pub fn config(&self) -> &SwimConfig {
        &self.cfg
    }

    /// This member's opinion of `subject` now.
    pub fn verdict(&self, subject: NodeId) -> Verdict {
        if !self.started || subject as usize >= self.n {
            return Verdict::Alive;
        }
        match self.view.state(subject) & VERDICT_MASK {
            SUSPECT => Verdict::Suspect,
            DEAD => Verdict::Dead,
            LEFT => Verdict::Left,
            _ => Verdict::Alive,
        }
    }

    /// The incarnation this member knows for `subject` (its own for `me`).
    pub fn incarnation_of(&self, subject: NodeId) -> u32 {
        if !self.started || subject as usize >= self.n {
            return 0;
        }
        self.view.inc(subject)
    }

    /// The Lifeguard local health score.
    pub fn health_score(&self) -> u32 {
        self.awareness.score()
    }

    /// The opinion changes logged and not yet taken.
    pub fn events(&self) -> &[MembershipEvent] {
        &self.events
    }

    /// Every probe started (local time, target), when
    /// [`SwimConfig::record_probes`] is on.
    pub fn probes(&self) -> &[(Nanos, NodeId)] {
        &self.probes
    }

    pub fn stats(&self) -> SwimStats {
        self.stats
    }

    // ---- state ----------------------------------------------------------

    fn code(&self, m: NodeId) -> u8 {
        self.view.state(m) & VERDICT_MASK
    }

    /// This member has heard of `m` (always, unless `m` joins later).
    fn known(&self, m: NodeId) -> bool {
        self.view.state(m) & UNKNOWN == 0
    }

    /// Changes the opinion of `m`, logging it when it changes; any
    /// opinion makes `m` known.
    fn set_verdict(&mut self, ctx: &Ctx<'_, SwimMsg>, m: NodeId, code: u8) {
        let old = self.code(m);
        if old == code {
            let s = self.view.state(m);
            if s & UNKNOWN != 0 {
                self.view.set_state(m, s & !UNKNOWN);
            }
            return;
        }
        self.view.set_state(m, code);
        if old == DEAD {
            self.recently_dead.retain(|d| d.0 != m);
        } else if code == DEAD && self.cfg.gossip_interval > Nanos::ZERO {
            self.recently_dead.push((m, ctx.now()));
        }
        match (is_out(old), is_out(code)) {
            (true, false) => self.live += 1,
            (false, true) => self.live -= 1,
            _ => {}
        }
        self.log(ctx, m, code);
    }

    fn log(&mut self, ctx: &Ctx<'_, SwimMsg>, m: NodeId, code: u8) {
        let verdict = match code {
            ALIVE => Verdict::Alive,
            SUSPECT => Verdict::Suspect,
            DEAD => Verdict::Dead,
            _ => Verdict::Left,
        };
        self.events.push(MembershipEvent {
            at: ctx.now(),
            observer: self.me,
            subject: m,
            verdict,
        });
    }

    fn retransmit_limit(&self) -> u32 {
        retransmit_limit(self.cfg.retransmit_mult, self.live)
    }

    /// The probe interval stretched by local health, when that is on.
    fn scaled(&self, t: Nanos) -> Nanos {
        if self.cfg.local_health {
            self.awareness.scale(t)
        } else {
            t
        }
    }

    fn health(&mut self, delta: i32) {
        if self.cfg.local_health {
            self.awareness.apply_delta(delta);
        }
    }

    /// A message with no updates yet, on a spare piggyback buffer.
    fn msg(&mut self, kind: Kind, seq: u32, target: NodeId) -> SwimMsg {
        SwimMsg {
            updates: self.pool.take(),
            ..SwimMsg::new(kind, seq, target)
        }
    }

    /// Sends `msg` with as many queued updates as fit in the rest of the
    /// UDP buffer (none on push-pull, which goes over TCP).
    fn send(&mut self, ctx: &mut Ctx<'_, SwimMsg>, to: NodeId, mut msg: SwimMsg) {
        self.pack(&mut msg);
        self.send_as_is(ctx, to, msg);
    }

    /// Adds the queued updates that fit to `msg`.
    fn pack(&mut self, msg: &mut SwimMsg) {
        let room = self.cfg.wire.room(msg);
        if room > 0 && !self.queue.is_empty() {
            let limit = self.retransmit_limit();
            self.queue.fill(&mut msg.updates, room, limit);
        }
    }

    /// Sends `msg` with what it carries, sized for the load metrics.
    fn send_as_is(&mut self, ctx: &mut Ctx<'_, SwimMsg>, to: NodeId, mut msg: SwimMsg) {
        msg.bytes = self.cfg.wire.bytes(&msg);
        ctx.send(to, msg);
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    // ---- probing --------------------------------------------------------

    fn on_tick(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        ctx.set_timer(TICK, self.cfg.probe_interval);
        if !self.joined {
            // No answer to the join yet (lost, or the seed is down): ask
            // again every period, as an agent retrying its join does.
            self.send_join(ctx);
        }
        if self.probe.stage == Stage::Idle {
            self.start_probe(ctx);
        } else {
            self.tick_pending = true;
        }
    }

    fn start_probe(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        self.tick_pending = false;
        let Some(target) = self.select_target(ctx) else {
            return;
        };
        self.stats.probes += 1;
        if self.cfg.record_probes {
            self.probes.push((ctx.now(), target));
        }
        let seq = self.next_seq();
        let interval = self.scaled(self.cfg.probe_interval);
        self.probe = Probe {
            stage: Stage::Direct,
            target,
            seq,
            deadline: ctx.now() + interval,
            expected_nacks: 0,
            nacks: 0,
        };
        let mut ping = self.msg(Kind::Ping, seq, target);
        if self.cfg.buddy && self.code(target) == SUSPECT {
            // memberlist sends the ping and the suspicion as a compound
            // of their own, without other updates.
            ping.updates.push(self.my_view(UpdateKind::Suspect, target));
            self.send_as_is(ctx, target, ping);
        } else {
            self.send(ctx, target, ping);
        }
        let timeout = if self.cfg.scale_probe_timeout {
            self.scaled(self.cfg.probe_timeout)
        } else {
            self.cfg.probe_timeout
        };
        ctx.set_timer(PROBE, timeout.min(interval));
    }

    fn on_probe_timer(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        match self.probe.stage {
            Stage::Idle => {}
            Stage::Direct => self.ask_helpers(ctx),
            Stage::Indirect => self.probe_failed(ctx),
        }
    }

    /// The direct ping timed out: ask `indirect_checks` random members we
    /// believe alive (not the target) to ping it for us.
    fn ask_helpers(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        let target = self.probe.target;
        let k = self.cfg.indirect_checks as usize;
        let mut helpers = std::mem::take(&mut self.scratch);
        self.pick_random(ctx, k, &mut helpers, |a, m| {
            m != target && a.code(m) == ALIVE
        });
        for &h in &helpers {
            let req = self.msg(Kind::PingReq, self.probe.seq, target);
            self.send(ctx, h, req);
        }
        self.probe.expected_nacks = if self.cfg.nacks {
            helpers.len() as u32
        } else {
            0
        };
        self.scratch = helpers;
        self.probe.stage = Stage::Indirect;
        ctx.set_timer(PROBE, self.probe.deadline.saturating_sub(ctx.now()));
    }

    /// No ack by the deadline: the target becomes suspect.
    fn probe_failed(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        self.stats.failed_probes += 1;
        let Probe {
            target,
            expected_nacks,
            nacks,
            ..
        } = self.probe;
        self.probe.stage = Stage::Idle;
        // memberlist: with nacking helpers, only the nacks that did not
        // come count against our own health; without, any failure does.
        let delta = if expected_nacks > 0 {
            expected_nacks.saturating_sub(nacks)
        } else {
            1
        };
        self.health(delta as i32);
        let accusation = Update {
            kind: UpdateKind::Suspect,
            subject: target,
            incarnation: self.view.inc(target),
            from: self.me,
        };
        self.on_suspect(ctx, accusation);
        if self.tick_pending {
            self.start_probe(ctx);
        }
    }

    fn probe_succeeded(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        self.probe.stage = Stage::Idle;
        ctx.cancel_timer(PROBE);
        self.health(-1);
        if self.tick_pending {
            self.start_probe(ctx);
        }
    }

    fn select_target(&mut self, ctx: &mut Ctx<'_, SwimMsg>) -> Option<NodeId> {
        match self.cfg.selection {
            TargetSelection::RoundRobin => self.next_round_robin(ctx),
            TargetSelection::Uniform => self.uniform_target(ctx),
        }
    }

    /// The next member of this pass's order that this member knows and
    /// does not believe dead. A pass visits every member once, in an
    /// order drawn afresh for each pass (SWIM's round-robin over a list
    /// reshuffled at each pass, with a keyed permutation in place of the
    /// list); a member back from the dead, or one that joins, is probed
    /// when its place in the pass comes, as memberlist's insertion at a
    /// random place in the list does.
    fn next_round_robin(&mut self, ctx: &mut Ctx<'_, SwimMsg>) -> Option<NodeId> {
        if self.live <= 1 {
            return None;
        }
        let mut passes = 0;
        loop {
            if self.next_index >= self.n {
                // Two passes without a target cannot happen while `live`
                // counts a member besides this one; stop rather than spin.
                passes += 1;
                if passes > 2 {
                    return None;
                }
                self.pass = Permutation::new(self.n, ctx.rng().next_u64());
                self.next_index = 0;
            }
            let m = self.pass.at(self.next_index);
            self.next_index += 1;
            if m != self.me && !is_out(self.code(m)) {
                return Some(m);
            }
        }
    }

    /// A uniformly random other member not believed dead.
    fn uniform_target(&mut self, ctx: &mut Ctx<'_, SwimMsg>) -> Option<NodeId> {
        if self.live <= 1 || self.n < 2 {
            return None;
        }
        let others = self.n as u64 - 1;
        for _ in 0..64 {
            let r = ctx.rng().below(others) as NodeId;
            let m = if r >= self.me { r + 1 } else { r };
            if !is_out(self.code(m)) {
                return Some(m);
            }
        }
        // Mostly dead: pick among the live ones directly.
        let j = ctx.rng().below(self.live as u64 - 1);
        (0..self.n as NodeId)
            .filter(|&m| m != self.me && !is_out(self.code(m)))
            .nth(j as usize)
    }

    /// Up to `k` distinct random members other than this one that pass
    /// `keep`, trying at most 3n draws (memberlist `kRandomNodes`).
    fn pick_random(
        &self,
        ctx: &mut Ctx<'_, SwimMsg>,
        k: usize,
        out: &mut Vec<NodeId>,
        keep: impl Fn(&Self, NodeId) -> bool,
    ) {
        out.clear();
        let n = self.n as u64;
        for _ in 0..3 * n {
            if out.len() >= k {
                break;
            }
            let m = ctx.rng().below(n) as NodeId;
            if m != self.me && keep(self, m) && !out.contains(&m) {
                out.push(m);
            }
        }
    }

    // ---- helping --------------------------------------------------------

    fn on_ping_req(&mut self, ctx: &mut Ctx<'_, SwimMsg>, origin: NodeId, msg: &SwimMsg) {
        let local_seq = self.next_seq();
        let relay = Relay {
            active: true,
            local_seq,
            origin,
            origin_seq: msg.seq,
        };
        let slot = match self.relays.iter().position(|r| !r.active) {
            Some(i) => {
                self.relays[i] = relay;
                i
            }
            None => {
                self.relays.push(relay);
                self.relays.len() - 1
            }
        };
        let ping = self.msg(Kind::Ping, local_seq, msg.target);
        self.send(ctx, msg.target, ping);
        ctx.set_timer(RELAY + slot as TimerKey, self.cfg.probe_timeout);
    }

    /// A helper's wait ended without an ack: nack (if on) and forget it.
    fn on_relay_timer(&mut self, ctx: &mut Ctx<'_, SwimMsg>, slot: usize) {
        let Some(r) = self.relays.get(slot).copied() else {
            return;
        };
        if !r.active {
            return;
        }
        self.relays[slot].active = false;
        if self.cfg.nacks {
            let nack = self.msg(Kind::Nack, r.origin_seq, r.origin);
            self.send(ctx, r.origin, nack);
        }
    }

    fn on_ack(&mut self, ctx: &mut Ctx<'_, SwimMsg>, seq: u32) {
        if self.probe.stage != Stage::Idle && seq == self.probe.seq {
            self.probe_succeeded(ctx);
            return;
        }
        let found = self
            .relays
            .iter()
            .position(|r| r.active && r.local_seq == seq);
        if let Some(slot) = found {
            let r = self.relays[slot];
            self.relays[slot].active = false;
            ctx.cancel_timer(RELAY + slot as TimerKey);
            let ack = self.msg(Kind::Ack, r.origin_seq, r.origin);
            self.send(ctx, r.origin, ack);
        }
    }

    // ---- dissemination --------------------------------------------------

    /// Queues an update for piggybacking and wakes the gossip round.
    fn enqueue(&mut self, ctx: &mut Ctx<'_, SwimMsg>, u: Update) {
        self.queue.queue(u, self.cfg.wire.update(&u));
        if !self.gossip_armed && self.cfg.gossip_interval > Nanos::ZERO {
            self.arm_gossip(ctx);
        }
    }

    /// Sets the gossip timer for the next instant of the member's gossip
    /// grid (`gossip_phase` + k · `gossip_interval`) after now. The round
    /// runs on that fixed grid, as memberlist's ticker does; a round with
    /// nothing to send does nothing, so the timer sleeps while the queue
    /// is empty instead of firing for nothing five times a second.
    fn arm_gossip(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        let (now, phase, every) = (ctx.now(), self.gossip_phase, self.cfg.gossip_interval);
        let next = if now < phase {
            phase
        } else {
            let k = (now - phase).as_nanos() / every.as_nanos() + 1;
            phase + Nanos(k * every.as_nanos())
        };
        self.gossip_armed = true;
        ctx.set_timer(GOSSIP, next - now);
    }

    fn on_gossip_timer(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        self.gossip_armed = false;
        if self.queue.is_empty() {
            return;
        }
        let window = self.cfg.gossip_to_the_dead;
        let now = ctx.now();
        self.recently_dead.retain(|d| d.1 + window > now);
        let mut peers = std::mem::take(&mut self.scratch);
        let k = self.cfg.gossip_nodes as usize;
        // memberlist gossips to live and suspect members, and to the
        // recently dead, so a live member declared dead can refute.
        self.pick_random(ctx, k, &mut peers, |a, m| {
            !is_out(a.code(m)) || a.recently_dead.iter().any(|d| d.0 == m)
        });
        for &p in &peers {
            let mut gossip = self.msg(Kind::Gossip, 0, p);
            self.pack(&mut gossip);
            if gossip.updates.is_empty() {
                // memberlist: nothing (more) fits, so the round ends.
                self.pool.give(std::mem::take(&mut gossip.updates));
                break;
            }
            self.send_as_is(ctx, p, gossip);
        }
        self.scratch = peers;
        if !self.queue.is_empty() {
            self.arm_gossip(ctx);
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, SwimMsg>, u: Update) {
        if u.subject as usize >= self.n {
            return;
        }
        match u.kind {
            UpdateKind::Alive => self.on_alive(ctx, u),
            UpdateKind::Suspect => self.on_suspect(ctx, u),
            UpdateKind::Dead => self.on_dead(ctx, u),
        }
    }

    fn on_alive(&mut self, ctx: &mut Ctx<'_, SwimMsg>, u: Update) {
        let s = u.subject;
        if s == self.me {
            if u.incarnation > self.view.inc(s) && !self.leaving {
                self.refute(ctx, u.incarnation);
            }
            return;
        }
        // A member never heard of is taken in at any incarnation
        // (memberlist `aliveNode` adds an unknown node).
        if u.incarnation <= self.view.inc(s) && self.known(s) {
            return;
        }
        self.drop_suspicion(ctx, s);
        self.enqueue(ctx, u);
        self.view.set_inc(s, u.incarnation);
        self.set_verdict(ctx, s, ALIVE);
    }

    fn on_suspect(&mut self, ctx: &mut Ctx<'_, SwimMsg>, u: Update) {
        let s = u.subject;
        if u.incarnation < self.view.inc(s) {
            return;
        }
        if let Some(i) = self.suspicions.iter().position(|x| x.subject == s) {
            if self.suspicions[i].confirm(u.from) {
                self.enqueue(ctx, u);
                self.arm_suspicion_timer(ctx);
            }
            return;
        }
        if self.code(s) != ALIVE {
            return;
        }
        if s == self.me {
            if !self.leaving {
                self.refute(ctx, u.incarnation);
            }
            return;
        }
        self.enqueue(ctx, u);
        self.view.set_inc(s, u.incarnation);
        self.set_verdict(ctx, s, SUSPECT);
        let suspicion = self.new_suspicion(ctx, s, u.from);
        self.suspicions.push(suspicion);
        self.arm_suspicion_timer(ctx);
    }

    /// memberlist `suspectNode`: expect k = suspicion_mult − 2
    /// confirmations (none in a cluster too small to give them), and
    /// time out between min and max.
    fn new_suspicion(&self, ctx: &Ctx<'_, SwimMsg>, s: NodeId, from: NodeId) -> Suspicion {
        let n = self.live;
        let min = suspicion_timeout(self.cfg.suspicion_mult, n, self.cfg.probe_interval);
        let (k, max) = if self.cfg.dynamic_suspicion {
            let k = self.cfg.suspicion_mult.saturating_sub(2);
            let k = if (n as u64) < k as u64 + 2 { 0 } else { k };
            let max = Nanos(
                min.as_nanos()
                    .saturating_mul(self.cfg.suspicion_max_timeout_mult as u64),
            );
            (k, max)
        } else {
            (0, min)
        };
        Suspicion::new(s, from, k, min, max, ctx.now())
    }

    /// A death, or a leave: memberlist's `dead` message, which its
    /// subject sends about itself when it leaves, and which receivers then
    /// record as Left instead of Dead. A member already Dead or Left (or
    /// never heard of) stays as it is.
    fn on_dead(&mut self, ctx: &mut Ctx<'_, SwimMsg>, u: Update) {
        let s = u.subject;
        if u.incarnation < self.view.inc(s) {
            return;
        }
        self.drop_suspicion(ctx, s);
        if is_out(self.code(s)) {
            return;
        }
        if s == self.me {
            if !self.leaving {
                self.refute(ctx, u.incarnation);
            }
            return;
        }
        self.enqueue(ctx, u);
        self.view.set_inc(s, u.incarnation);
        let code = if u.from == s { LEFT } else { DEAD };
        self.set_verdict(ctx, s, code);
    }

    /// Someone believes this member suspect or dead at incarnation
    /// `accused`: beat it and spread alive.
    fn refute(&mut self, ctx: &mut Ctx<'_, SwimMsg>, accused: u32) {
        let inc = self
            .view
            .inc(self.me)
            .saturating_add(1)
            .max(accused.saturating_add(1));
        self.view.set_inc(self.me, inc);
        self.stats.refutations += 1;
        self.health(1);
        let alive = Update {
            kind: UpdateKind::Alive,
            subject: self.me,
            incarnation: inc,
            from: self.me,
        };
        self.enqueue(ctx, alive);
    }

    // ---- repair: dead-telling, push-pull ----------------------------------

    /// This member's view of `subject` (held at its current incarnation),
    /// as an update to tell it.
    fn my_view(&self, kind: UpdateKind, subject: NodeId) -> Update {
        Update {
            kind,
            subject,
            incarnation: self.view.inc(subject),
            from: self.me,
        }
    }

    /// Answers a ping. A member this one holds Dead is told so on the ack,
    /// so that a member restarted (or wrongly declared dead) whose alive
    /// this one missed can answer it; a live member's probes reach every
    /// member within a round-robin pass, so no view stays stale for long.
    fn on_ping(&mut self, ctx: &mut Ctx<'_, SwimMsg>, from: NodeId, seq: u32) {
        let mut ack = self.msg(Kind::Ack, seq, from);
        if from < self.n as NodeId && is_out(self.code(from)) && self.known(from) {
            ack.updates.push(self.record(from));
        }
        self.send(ctx, from, ack);
    }

    /// `from` holds this member Dead at an incarnation below its own (a
    /// leftover of its previous life, or one it has just refuted): tell it
    /// directly, since it will not probe a member it holds Dead and may
    /// have missed the alive that went round.
    fn reannounce(&mut self, ctx: &mut Ctx<'_, SwimMsg>, from: NodeId) {
        if from == self.me || from as usize >= self.n || self.leaving {
            return;
        }
        self.stats.reannouncements += 1;
        let mut msg = self.msg(Kind::Gossip, 0, from);
        msg.updates.push(Update {
            kind: UpdateKind::Alive,
            subject: self.me,
            incarnation: self.view.inc(self.me),
            from: self.me,
        });
        self.send(ctx, from, msg);
    }

    /// This member's record of `m`: its verdict and incarnation, from
    /// this member; a Left member's record is a dead that `m` itself sent
    /// (memberlist's encoding of a leave).
    fn record(&self, m: NodeId) -> Update {
        super::view::record(self.me, m, self.view.get(m))
    }

    /// This member's whole view: one record per member it knows (itself
    /// included, alive at its own incarnation), as memberlist's push-pull
    /// sends it.
    fn view(&self) -> std::sync::Arc<Snapshot> {
        std::sync::Arc::new(self.view.snapshot(self.me))
    }

    /// Starts a state exchange with a random member this one holds alive
    /// (memberlist `pushPull`; its join does the same with the seed).
    fn push_pull(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        let mut peer = std::mem::take(&mut self.scratch);
        self.pick_random(ctx, 1, &mut peer, |a, m| a.code(m) == ALIVE);
        if let Some(&p) = peer.first() {
            self.stats.push_pulls += 1;
            let seq = self.next_seq();
            let msg = SwimMsg {
                state: Some(self.view()),
                ..self.msg(Kind::PushPull, seq, p)
            };
            self.send(ctx, p, msg);
        }
        self.scratch = peer;
    }

    /// Asks a seed for its member list (memberlist `Join`: a push-pull
    /// with a known member): the named seed, or a member present at the
    /// start drawn from this member's stream.
    fn send_join(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        let named = self
            .roster
            .as_ref()
            .and_then(|r| r.seeds.get(self.me as usize).copied().flatten());
        let seed = match named {
            Some(s) => Some(s),
            None => {
                let candidates = (0..self.n as NodeId)
                    .filter(|&m| m != self.me && self.present_at_start(m))
                    .count();
                if candidates == 0 {
                    None
                } else {
                    let j = ctx.rng().below(candidates as u64) as usize;
                    (0..self.n as NodeId)
                        .filter(|&m| m != self.me && self.present_at_start(m))
                        .nth(j)
                }
            }
        };
        let Some(seed) = seed else {
            self.joined = true;
            return;
        };
        self.stats.join_attempts += 1;
        let seq = self.next_seq();
        let msg = SwimMsg {
            state: Some(self.view()),
            ..self.msg(Kind::PushPull, seq, seed)
        };
        self.send(ctx, seed, msg);
    }

    fn on_push_pull_timer(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        // memberlist rescales the interval with the cluster at every round.
        let every = push_pull_interval(self.cfg.push_pull_interval, self.live);
        ctx.set_timer(PUSH_PULL, every);
        self.push_pull(ctx);
    }

    /// Merges a remote view as memberlist's `mergeState` does: records
    /// that agree with this member's verdict are skipped; alive goes
    /// through the alive rule; suspect and dead become a suspicion raised
    /// by this member (memberlist prefers to suspect rather than declare
    /// dead on hearsay), which this member refutes if it is the subject.
    fn merge(&mut self, ctx: &mut Ctx<'_, SwimMsg>, msg: &SwimMsg) {
        let Some(state) = msg.state.clone() else {
            return;
        };
        // Where both views hold their common base's record, they agree
        // and the record is skipped below: only the members where either
        // differs from it (and this member itself) need a look.
        let members: Vec<NodeId> = match state.differing_from(&self.view, self.me) {
            Some(members) if !self.merge_all => members,
            _ => (0..self.n as NodeId).collect(),
        };
        for s in members {
            if s as usize >= self.n {
                continue;
            }
            let Some(r) = state.record(s) else {
                continue;
            };
            let left = r.kind == UpdateKind::Dead && r.from == s;
            let local = self.verdict(s);
            let remote = match r.kind {
                UpdateKind::Alive => Verdict::Alive,
                UpdateKind::Suspect => Verdict::Suspect,
                UpdateKind::Dead if left => Verdict::Left,
                UpdateKind::Dead => Verdict::Dead,
            };
            if s != self.me && local == remote {
                continue;
            }
            if r.kind == UpdateKind::Alive {
                self.on_alive(ctx, r);
            } else if left {
                // memberlist merges a Left record as the leave itself.
                self.on_dead(ctx, r);
            } else {
                let suspect = Update {
                    kind: UpdateKind::Suspect,
                    from: self.me,
                    ..r
                };
                self.on_suspect(ctx, suspect);
            }
        }
    }

    // ---- suspicion timers -----------------------------------------------

    fn drop_suspicion(&mut self, ctx: &mut Ctx<'_, SwimMsg>, s: NodeId) {
        if let Some(i) = self.suspicions.iter().position(|x| x.subject == s) {
            self.suspicions.swap_remove(i);
            self.arm_suspicion_timer(ctx);
        }
    }

    fn arm_suspicion_timer(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        match self.suspicions.iter().map(Suspicion::deadline).min() {
            Some(at) => ctx.set_timer(SUSPICION, at.saturating_sub(ctx.now())),
            None => ctx.cancel_timer(SUSPICION),
        }
    }

    /// Declares dead every suspect whose timeout has passed.
    fn on_suspicion_timer(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        let now = ctx.now();
        while let Some(i) = self.suspicions.iter().position(|x| x.deadline() <= now) {
            let s = self.suspicions.swap_remove(i).subject;
            if self.code(s) == SUSPECT {
                let death = Update {
                    kind: UpdateKind::Dead,
                    subject: s,
                    incarnation: self.view.inc(s),
                    from: self.me,
                };
                self.on_dead(ctx, death);
            }
        }
        self.arm_suspicion_timer(ctx);
    }

    // ---- life -----------------------------------------------------------

    /// The state a member starts with. A member that (re)starts after a
    /// crash believes every member present at the start of the run alive
    /// and knows of no other; one that joins knows nobody but itself.
    /// Logs every opinion that changes, and every member it does not
    /// know (as Left): the scorer takes a starting member to hold every
    /// member Alive.
    fn reset(&mut self, ctx: &mut Ctx<'_, SwimMsg>, join: bool) {
        let n = self.n;
        let base = if join {
            Base::Nobody
        } else {
            Base::Present(self.roster.clone())
        };
        let fresh = |m: NodeId| {
            if m == self.me {
                ALIVE
            } else if join || !self.present_at_start(m) {
                LEFT
            } else {
                ALIVE
            }
        };
        // The members whose opinion may change or is not Alive: every
        // member after a join, with absent members, or from a private
        // view; otherwise those that differ from the base (an unchanged
        // view, and a first start's, is the base: every member Alive).
        let all = join
            || self.view.is_dense()
            || self.roster.as_ref().is_some_and(|r| r.absent_count() > 0);
        let mut changed = Vec::new();
        if all {
            for m in 0..n as NodeId {
                let code = fresh(m);
                let old = if self.started { self.code(m) } else { ALIVE };
                if m != self.me && (old != code || code != ALIVE) {
                    changed.push((m, code));
                }
            }
        } else if let Some(members) = self.view.differing() {
            for m in members {
                let code = fresh(m);
                if m != self.me && self.code(m) != code {
                    changed.push((m, code));
                }
            }
        }
        for (m, code) in changed {
            self.log(ctx, m, code);
        }
        self.view.reset(base);
        // Itself, alive (a joining member's base knows nobody; an absent
        // member's, everyone but it).
        self.view.set(
            self.me,
            Entry {
                inc: 0,
                state: ALIVE,
            },
        );
        self.started = true;
        self.live = if join {
            1
        } else {
            self.roster.as_ref().map_or(n, |r| n - r.absent_count())
                + usize::from(!self.present_at_start(self.me))
        };
        self.next_index = n; // a new pass at the first probe
        self.probe.stage = Stage::Idle;
        self.tick_pending = false;
        self.gossip_armed = false;
        self.awareness = Awareness::new(self.cfg.awareness_max_multiplier);
        self.queue.clear();
        self.suspicions.clear();
        self.recently_dead.clear();
        self.relays.clear();
        self.leaving = false;
        self.joined = true;
    }

    /// The first tick of a ticker of period `every`: at `every`, or at a
    /// random phase in (0, every] when staggered.
    fn first_tick(&self, ctx: &mut Ctx<'_, SwimMsg>, every: Nanos) -> Nanos {
        if self.cfg.stagger {
            Nanos(every.as_nanos() - ctx.rng().below(every.as_nanos()))
        } else {
            every
        }
    }
}

impl Agent for SwimAgent {
    type Msg = SwimMsg;

    fn start(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        let join = std::mem::take(&mut self.joining);
        self.reset(ctx, join);
        let first = self.first_tick(ctx, self.cfg.probe_interval);
        ctx.set_timer(TICK, first);
        if self.cfg.gossip_interval > Nanos::ZERO {
            self.gossip_phase = ctx.now() + self.first_tick(ctx, self.cfg.gossip_interval);
        }
        if self.cfg.push_pull_interval > Nanos::ZERO {
            let every = push_pull_interval(self.cfg.push_pull_interval, self.live);
            let first = self.first_tick(ctx, every);
            ctx.set_timer(PUSH_PULL, first);
        }
        let life = ctx.incarnation().min((1 << (32 - LIFE_SHIFT)) - 1);
        self.view.set_inc(self.me, life << LIFE_SHIFT);
        if join {
            // memberlist `Create` then `Join`: queue its own alive, and
            // ask a seed for the member list; the seed takes it in and
            // gossips its alive.
            let alive = self.my_view(UpdateKind::Alive, self.me);
            self.enqueue(ctx, alive);
            self.joined = false;
            self.send_join(ctx);
        } else if life > 0 {
            // Back from a crash: tell the others, who may think us dead,
            // and rejoin through one of them as memberlist's `Join` does,
            // with a state exchange.
            let alive = Update {
                kind: UpdateKind::Alive,
                subject: self.me,
                incarnation: life << LIFE_SHIFT,
                from: self.me,
            };
            self.enqueue(ctx, alive);
            self.push_pull(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, mut msg: SwimMsg, ctx: &mut Ctx<'_, SwimMsg>) {
        // Updates first, so an ack already carries a refutation that the
        // ping's buddy suspicion provoked.
        let mut held_dead = false;
        for &u in msg.updates.as_slice() {
            self.apply(ctx, u);
            held_dead |= u.kind == UpdateKind::Dead && u.subject == self.me;
        }
        self.pool.give(std::mem::take(&mut msg.updates));
        if held_dead {
            self.reannounce(ctx, from);
        }
        if matches!(msg.kind, Kind::PushPull | Kind::PushPullReply) {
            self.joined = true;
        }
        match msg.kind {
            Kind::Ping => self.on_ping(ctx, from, msg.seq),
            Kind::Ack => self.on_ack(ctx, msg.seq),
            Kind::PingReq => self.on_ping_req(ctx, from, &msg),
            Kind::Nack => {
                if self.probe.stage == Stage::Indirect && msg.seq == self.probe.seq {
                    self.probe.nacks += 1;
                }
            }
            Kind::Gossip => {}
            Kind::PushPull => {
                let reply = SwimMsg {
                    state: Some(self.view()),
                    ..self.msg(Kind::PushPullReply, msg.seq, from)
                };
                self.send(ctx, from, reply);
                self.merge(ctx, &msg);
            }
            Kind::PushPullReply => self.merge(ctx, &msg),
        }
    }

    fn on_timer(&mut self, key: TimerKey, ctx: &mut Ctx<'_, SwimMsg>) {
        match key {
            TICK => self.on_tick(ctx),
            PROBE => self.on_probe_timer(ctx),
            SUSPICION => self.on_suspicion_timer(ctx),
            GOSSIP => self.on_gossip_timer(ctx),
            PUSH_PULL => self.on_push_pull_timer(ctx),
            k => self.on_relay_timer(ctx, (k - RELAY) as usize),
        }
    }

    /// memberlist `Leave`: broadcast a dead message about itself, which
    /// receivers record as Left; it keeps running (and never refutes its
    /// own leave) until the engine stops it, and its next start is a join.
    fn on_leave(&mut self, ctx: &mut Ctx<'_, SwimMsg>) {
        if self.leaving {
            return;
        }
        self.leaving = true;
        self.joining = true;
        let me = self.me;
        let bye = Update {
            kind: UpdateKind::Dead,
            subject: me,
            incarnation: self.view.inc(me),
            from: me,
        };
        self.enqueue(ctx, bye);
    }
}

impl Membership for SwimAgent {
    fn take_events(&mut self) -> Vec<MembershipEvent> {
        std::mem::take(&mut self.events)
    }

    fn wire_bytes(msg: &SwimMsg) -> u32 {
        msg.bytes
    }

    fn over_stream(msg: &SwimMsg) -> bool {
        msg.over_tcp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Latency, LinkModel};
    use crate::protocol::swim::{cluster_sim, preset};

    /// Merging only the members where either view differs from the
    /// common base gives the same run, event for event, as merging every
    /// member: with crashes, restarts (incarnations above the base) and
    /// push-pull every 5 s, through views that switch to private arrays.
    /// (`scenarios/swim-*.toml` and `swim_scale` at 2,000 members gave
    /// byte-identical outputs both ways too when this was written.)
    #[test]
    fn merging_only_where_views_differ_changes_nothing() {
        let n = 40;
        let cfg = SwimConfig {
            push_pull_interval: Nanos::from_secs(5),
            ..preset("memberlist-lan").unwrap()
        };
        let link = LinkModel::new(
            Latency::LogNormal {
                median: 200_000.0,
                sigma: 0.5,
            },
            0.02,
        );
        let mut dense = 0;
        for seed in 0..4 {
            let run = |all: bool| {
                let mut sim = cluster_sim(cfg, n, link.clone(), seed);
                for m in 0..n as NodeId {
                    sim.agent_mut(m).merge_all = all;
                }
                // Every member crashes and restarts once, so the views
                // fill with incarnations above the base.
                for k in 0..n as u64 {
                    let m = ((k * 7 + seed) % n as u64) as NodeId;
                    sim.schedule_crash(m, Nanos::from_secs(10 + 4 * k));
                    sim.schedule_restart(m, Nanos::from_secs(30 + 4 * k));
                }
                sim.run_until(Nanos::from_secs(240));
                sim
            };
            let (fast, full) = (run(false), run(true));
            for m in 0..n as NodeId {
                let (a, b) = (fast.agent(m), full.agent(m));
                assert_eq!(a.events(), b.events(), "seed {seed}, member {m}");
                assert_eq!(a.stats(), b.stats(), "seed {seed}, member {m}");
                dense += usize::from(a.view.is_dense());
            }
            assert!(fast.agent(0).stats().push_pulls > 20);
        }
        assert!(dense > 0, "no view became private");
    }
}
