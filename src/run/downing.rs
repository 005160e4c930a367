//! Running downing decisions: one observation simulation per seed (the
//! `[downing] observers` k-monitor entry, every member watching every
//! other), then, for every strategy × swept value, the members' views and
//! decisions replayed over it and scored with
//! [`crate::metrics::decisions`].
//!
//! The decision layer is event-driven: it acts at every change of an
//! observer's opinion, of the ground truth (crash, restart, pause, cut,
//! heal) and at every deadline of a strategy (stable-after, delay, lease
//! delay, rejoin). Modelling choices (see `docs/partitions.md`):
//!
//! - **Dissemination is instant along working links.** Member `m` knows
//!   observer `o`'s opinions when `o` is serving and awake and the link
//!   `o → m` is not cut (no gossip delay, no relaying around a cut).
//! - **Each member decides for itself** on its own view (Akka's leader
//!   acts for its side; members of one side see the same and agree).
//!   Down-unreachable removes members from its membership; down-reachable
//!   and down-all shut it down.
//! - **A downed member learns it** as soon as a serving member that has
//!   removed it can send to it, and shuts down.
//! - **Rejoin.** A shut-down or restarted member asks to rejoin
//!   `rejoin_after` after shutting down (at once after a restart) and is
//!   admitted when it can talk both ways with every serving member (or no
//!   member serves); otherwise it asks again every second.

use super::cluster::{build_cluster_sim, true_time_events};
use crate::fault::{self, Outage, PauseWindow};
use crate::metrics::decisions::{DecisionRun, EventOutcome, FaultEvent, Truth};
use crate::net::Direction;
use crate::protocol::kmonitor::KMonitorAgent;
use crate::protocol::membership::{MembershipEvent, Verdict as Opinion};
use crate::protocol::reachability::{
    rapid_observers, rapid_rings, ring_observers, CutDetector, Mode,
};
use crate::protocol::sbr::{
    decide, lease_acquire_delay, Decision, Due, Member, SideView, Stability, Strategy,
    LEASE_DELAY_FOR_MINORITY,
};
use crate::scenario::downing::{Detection, Downing, StrategyValue, LEASE_RELEASE_AFTER};
use crate::scenario::{ProtocolSettings, Scenario};
use crate::sim::agent::NodeId;
use crate::sim::time::{Nanos, TotalNanos};

/// How often a refused rejoin is asked again.
const REJOIN_RETRY: Nanos = Nanos(1_000_000_000);

/// Simulates the observers of `sc` for `seed` and replays every strategy
/// at every value on them: `out[s][v]`.
pub fn run_downing(sc: &Scenario, seed: u64) -> Vec<Vec<DecisionRun>> {
    let d = sc.downing.as_ref().expect("a scenario with [downing]");
    let ProtocolSettings::KMonitor(cfg) = &sc.protocols[d.observers].settings[0] else {
        unreachable!("validation keeps the observers a k-monitor entry");
    };
    let n = sc.nodes.len();
    // Validation refuses joins and leaves with `[downing]`.
    let (mut sim, outages, _absences) =
        build_cluster_sim(sc, seed, |id| KMonitorAgent::new(id, n, cfg.clone()));
    sim.run_until(sc.duration);
    let opinions = true_time_events(sim.into_agents(), &sc.clocks);
    let pauses = fault::pauses(&sc.faults, seed, sc.duration, &sc.nodes);
    let ground = Ground::new(sc, &outages, &pauses);
    let faults = fault_events(sc, d, &outages, &pauses);
    d.strategies
        .iter()
        .map(|s| {
            s.values
                .iter()
                .map(|v| {
                    Decider::new(sc, d, &ground, s.detection, *v, seed).run(&opinions, &faults)
                })
                .collect()
        })
        .collect()
}

/// The ground truth: who is up, who is paused, which links are cut.
struct Ground<'a> {
    sc: &'a Scenario,
    /// Per node: `[crash, restart)` spans.
    down: Vec<Vec<(Nanos, Nanos)>>,
    /// Per node: `[start, end)` pauses.
    paused: Vec<Vec<(Nanos, Nanos)>>,
    /// Every instant at which any of it changes, sorted.
    changes: Vec<Nanos>,
}

fn within(spans: &[(Nanos, Nanos)], t: Nanos) -> bool {
    spans.iter().any(|&(a, b)| a <= t && t < b)
}

impl<'a> Ground<'a> {
    fn new(sc: &'a Scenario, outages: &[Outage], pauses: &[PauseWindow]) -> Ground<'a> {
        let n = sc.nodes.len();
        let (mut down, mut paused) = (vec![Vec::new(); n], vec![Vec::new(); n]);
        let mut changes = Vec::new();
        for o in outages {
            let end = o.restart.unwrap_or(Nanos(u64::MAX));
            down[o.node as usize].push((o.crash, end));
            changes.push(o.crash);
            changes.extend(o.restart);
        }
        for p in pauses {
            let end = Nanos(p.start.0.saturating_add(p.length.0));
            paused[p.node as usize].push((p.start, end));
            changes.extend([p.start, end]);
        }
        for p in &sc.partitions {
            for (a, b) in p.cut_periods(sc.duration) {
                changes.extend([a, b]);
            }
        }
        changes.sort_unstable();
        changes.dedup();
        Ground {
            sc,
            down,
            paused,
            changes,
        }
    }

    fn up(&self, x: NodeId, t: Nanos) -> bool {
        !within(&self.down[x as usize], t)
    }

    fn awake(&self, x: NodeId, t: Nanos) -> bool {
        self.up(x, t) && !within(&self.paused[x as usize], t)
    }

    /// A message from `a` reaches `b` at `t`.
    fn talks(&self, a: NodeId, b: NodeId, t: Nanos) -> bool {
        self.awake(a, t) && self.awake(b, t) && !self.sc.partitions.iter().any(|p| p.cuts(a, b, t))
    }

    fn next_change(&self, t: Nanos) -> Option<Nanos> {
        let i = self.changes.partition_point(|&c| c <= t);
        self.changes.get(i).copied()
    }
}

/// Every fault of the ground truth as an event, in time order, from the
/// warm-up on: crashes of members at one instant (one event), pauses,
/// and every cut period of every partition.
fn fault_events(
    sc: &Scenario,
    d: &Downing,
    outages: &[Outage],
    pauses: &[PauseWindow],
) -> Vec<FaultEvent> {
    let member = |x: NodeId| d.members.contains(&x);
    let mut out: Vec<FaultEvent> = Vec::new();
    let mut crashes: std::collections::BTreeMap<Nanos, (Vec<NodeId>, Nanos)> = Default::default();
    for o in outages.iter().filter(|o| member(o.node)) {
        let e = crashes.entry(o.crash).or_insert((Vec::new(), sc.duration));
        e.0.push(o.node);
        e.1 = e.1.min(o.restart.unwrap_or(sc.duration));
    }
    for (start, (mut nodes, end)) in crashes {
        nodes.sort_unstable();
        out.push(event(Truth::Crash, start, end, nodes));
    }
    for p in pauses.iter().filter(|p| member(p.node)) {
        let end = Nanos(p.start.0.saturating_add(p.length.0)).min(sc.duration);
        out.push(event(Truth::Pause, p.start, end, vec![p.node]));
    }
    for p in &sc.partitions {
        let mut nodes: Vec<NodeId> =
            p.a.iter()
                .chain(&p.b)
                .copied()
                .filter(|&x| member(x))
                .collect();
        nodes.sort_unstable();
        let covers = d.members.iter().all(|m| nodes.contains(m));
        let truth = match p.direction {
            Direction::AToB | Direction::BToA => Truth::OneWay,
            Direction::Both if covers => Truth::Partition,
            Direction::Both => Truth::Partial,
        };
        for (a, b) in p.cut_periods(sc.duration) {
            out.push(event(truth, a, b, nodes.clone()));
        }
    }
    out.retain(|e| e.start >= sc.warmup);
    out.sort_by(|x, y| (x.start, x.truth, &x.nodes).cmp(&(y.start, y.truth, &y.nodes)));
    for i in 0..out.len() {
        let next = out.get(i + 1).map_or(sc.duration, |e| e.start);
        let settled = Nanos(out[i].end.0.saturating_add(d.settle.0)).min(sc.duration);
        out[i].until = settled.min(next).max(out[i].start);
    }
    out
}

fn event(truth: Truth, start: Nanos, end: Nanos, nodes: Vec<NodeId>) -> FaultEvent {
    FaultEvent {
        truth,
        start,
        end,
        nodes,
        until: end,
    }
}

/// One member's state in the decision layer.
struct State {
    /// Up and not shut down: it serves.
    active: bool,
    was_up: bool,
    /// Whom it holds as members (bit per member index), itself included.
    members: u64,
    /// Its view: members it holds unreachable.
    unreachable: u64,
    /// Per member index, since when it is held unreachable.
    since: Vec<Nanos>,
    /// Per member index, when this member removed it.
    removed_at: Vec<Nanos>,
    stability: Stability,
    rejoin_at: Option<Nanos>,
    lease_try_at: Option<Nanos>,
    up_since: Nanos,
}

struct Decider<'a> {
    sc: &'a Scenario,
    d: &'a Downing,
    g: &'a Ground<'a>,
    detection: Detection,
    v: StrategyValue,
    /// Member index of each node (`None` for the lease's node).
    index: Vec<Option<usize>>,
    /// Per subject: its observers (member indices), per ring for Rapid.
    observers: Vec<Vec<usize>>,
    /// `opinion[o]`: bit `s` set when observer `o` holds `s` dead.
    opinion: Vec<u64>,
    st: Vec<State>,
    /// Lease holder (member index) and until when it holds it.
    lease: Option<(usize, Nanos)>,
    run: DecisionRun,
    outcomes: Vec<EventOutcome>,
    /// Per event: members already counted as downed, and as wrongful.
    downed: Vec<(u64, u64)>,
}

fn bits(mask: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |i| mask >> i & 1 == 1)
}

fn overlap(a: Nanos, b: Nanos, c: Nanos, d: Nanos) -> Nanos {
    Nanos(b.min(d).0.saturating_sub(a.max(c).0))
}

impl<'a> Decider<'a> {
    fn new(
        sc: &'a Scenario,
        d: &'a Downing,
        g: &'a Ground<'a>,
        detection: Detection,
        v: StrategyValue,
        seed: u64,
    ) -> Decider<'a> {
        let nm = d.members.len();
        let mut index = vec![None; sc.nodes.len()];
        for (i, &m) in d.members.iter().enumerate() {
            index[m as usize] = Some(i);
        }
        let observers = match detection {
            Detection::Akka => (0..nm as u32)
                .map(|s| {
                    ring_observers(s, nm as u32, d.monitored_by)
                        .map(|o| o as usize)
                        .collect()
                })
                .collect(),
            Detection::Rapid => {
                let rings = rapid_rings(nm as u32, d.rapid.0, seed);
                (0..nm as u32)
                    .map(|s| {
                        rapid_observers(&rings, s)
                            .into_iter()
                            .map(|o| o as usize)
                            .collect()
                    })
                    .collect()
            }
        };
        let all = if nm == 64 { u64::MAX } else { (1u64 << nm) - 1 };
        let st = (0..nm)
            .map(|_| State {
                active: true,
                was_up: true,
                members: all,
                unreachable: 0,
                since: vec![Nanos::ZERO; nm],
                removed_at: vec![Nanos::ZERO; nm],
                stability: Stability::new(v.stable_after, v.unstable),
                rejoin_at: None,
                lease_try_at: None,
                up_since: Nanos::ZERO,
            })
            .collect();
        Decider {
            sc,
            d,
            g,
            detection,
            v,
            index,
            observers,
            opinion: vec![0; nm],
            st,
            lease: None,
            run: DecisionRun::default(),
            outcomes: Vec::new(),
            downed: Vec::new(),
        }
    }

    /// How long after removing a member a side takes over its work:
    /// Akka's `down-removal-margin`, which the SBR sets to `stable-after`;
    /// none for down-after.
    fn margin(&self) -> Nanos {
        if self.v.strategy.waits_for_stability() {
            self.v.stable_after
        } else {
            Nanos::ZERO
        }
    }

    /// `a` has taken over `b`'s work at `t`: it removed `b` at least the
    /// margin ago.
    fn took_over(&self, a: usize, b: usize, t: Nanos) -> bool {
        let s = &self.st[a];
        s.members >> b & 1 == 0 && t.0 >= s.removed_at[b].0.saturating_add(self.margin().0)
    }

    fn all(&self) -> u64 {
        let nm = self.d.members.len();
        if nm == 64 {
            u64::MAX
        } else {
            (1u64 << nm) - 1
        }
    }

    fn node(&self, i: usize) -> NodeId {
        self.d.members[i]
    }

    fn run(mut self, opinions: &[MembershipEvent], faults: &[FaultEvent]) -> DecisionRun {
        self.outcomes = vec![EventOutcome::default(); faults.len()];
        self.downed = vec![(0, 0); faults.len()];
        let end = self.sc.duration;
        let (mut t, mut i) = (Nanos::ZERO, 0);
        loop {
            while let Some(e) = opinions.get(i).filter(|e| e.at <= t) {
                self.note(e);
                i += 1;
            }
            self.step(t, faults);
            let next = self.next_time(t, opinions.get(i).map(|e| e.at)).min(end);
            self.account(t, next, faults);
            if next >= end {
                break;
            }
            t = next;
        }
        let mut run = self.run;
        run.events = faults.iter().cloned().zip(self.outcomes).collect();
        run.member_time = TotalNanos(
            self.d.members.len() as u128 * u128::from(end.0.saturating_sub(self.sc.warmup.0)),
        );
        run
    }

    fn note(&mut self, e: &MembershipEvent) {
        let (Some(o), Some(s)) = (
            self.index[e.observer as usize],
            self.index[e.subject as usize],
        ) else {
            return;
        };
        match e.verdict {
            Opinion::Dead => self.opinion[o] |= 1 << s,
            _ => self.opinion[o] &= !(1 << s),
        }
    }

    /// Member `m` hears observer `o` at `t`.
    fn knows(&self, m: usize, o: usize, t: Nanos) -> bool {
        o == m
            || (self.st[o].active
                && self.st[m].members >> o & 1 == 1
                && self.g.talks(self.node(o), self.node(m), t))
    }

    /// Member `m`'s view at `t`: the members it holds unreachable.
    fn view(&self, m: usize, t: Nanos) -> u64 {
        let held = self.st[m].members & !(1 << m);
        match self.detection {
            Detection::Akka => bits(held)
                .filter(|&s| {
                    self.observers[s]
                        .iter()
                        .any(|&o| self.opinion[o] >> s & 1 == 1 && self.knows(m, o, t))
                })
                .fold(0, |acc, s| acc | 1 << s),
            Detection::Rapid => self.rapid_view(m, held, t),
        }
    }

    fn rapid_view(&self, m: usize, held: u64, t: Nanos) -> u64 {
        let (k, h, l) = self.d.rapid;
        let mut cd = CutDetector::new(k, h, l);
        for s in bits(held) {
            for (ring, &o) in self.observers[s].iter().enumerate() {
                if self.opinion[o] >> s & 1 == 1 && self.knows(m, o, t) {
                    cd.alert(s as NodeId, ring as u32);
                }
            }
        }
        cd.add_implicit_alerts(|s| {
            self.observers[s as usize]
                .iter()
                .map(|&o| o as NodeId)
                .collect()
        });
        match cd.proposal() {
            Some(cut) => cut.into_iter().fold(0, |acc, s| acc | 1 << s) & held,
            None if bits(held).any(|s| cd.mode(s as NodeId) == Mode::Unstable) => {
                self.st[m].unreachable & held
            }
            None => 0,
        }
    }

    fn step(&mut self, t: Nanos, faults: &[FaultEvent]) {
        let nm = self.d.members.len();
        for x in 0..nm {
            self.up_or_down(x, t);
        }
        for x in 0..nm {
            if self.st[x].rejoin_at.is_some_and(|r| r <= t) {
                self.try_rejoin(x, t);
            }
        }
        for m in 0..nm {
            if !(self.st[m].active && self.g.awake(self.node(m), t)) {
                continue;
            }
            let u = self.view(m, t);
            let s = &mut self.st[m];
            if u != s.unreachable {
                if t >= self.sc.warmup {
                    self.run.view_changes += 1;
                }
                s.stability.changed(t, u != 0);
                for x in bits(u & !s.unreachable) {
                    s.since[x] = t;
                }
                s.unreachable = u;
            }
            self.maybe_decide(m, t, faults);
        }
        self.propagate(t, faults);
        self.check_crashes(t, faults);
    }

    fn up_or_down(&mut self, x: usize, t: Nanos) {
        let up = self.g.up(self.node(x), t);
        let s = &mut self.st[x];
        if !up && s.was_up {
            s.active = false;
            s.rejoin_at = None;
            s.lease_try_at = None;
            s.unreachable = 0;
        } else if up && !s.was_up {
            s.rejoin_at = Some(t);
        }
        s.was_up = up;
    }

    fn try_rejoin(&mut self, x: usize, t: Nanos) {
        let nm = self.d.members.len();
        let actives: Vec<usize> = (0..nm).filter(|&a| self.st[a].active).collect();
        let node = self.node(x);
        let ok = actives
            .iter()
            .all(|&a| self.g.talks(node, self.node(a), t) && self.g.talks(self.node(a), node, t));
        if !ok {
            self.st[x].rejoin_at = Some(Nanos(t.0.saturating_add(REJOIN_RETRY.0)));
            return;
        }
        let held = actives
            .iter()
            .fold(!0u64, |acc, &a| acc & self.st[a].members);
        let all = if nm == 64 { u64::MAX } else { (1u64 << nm) - 1 };
        for &a in &actives {
            self.st[a].members |= 1 << x;
        }
        let s = &mut self.st[x];
        s.active = true;
        s.members = (if actives.is_empty() { all } else { held & all }) | 1 << x;
        s.unreachable = 0;
        s.stability = Stability::new(self.v.stable_after, self.v.unstable);
        s.rejoin_at = None;
        s.up_since = t;
    }

    fn side_members(&self, m: usize) -> Vec<Member> {
        let s = &self.st[m];
        bits(s.members)
            .map(|i| Member {
                id: self.node(i),
                up_since: self.st[i].up_since,
                reachable: s.unreachable >> i & 1 == 0,
            })
            .collect()
    }

    fn maybe_decide(&mut self, m: usize, t: Nanos, faults: &[FaultEvent]) {
        let s = &self.st[m];
        if let Strategy::DownAfter { delay } = self.v.strategy {
            let due = bits(s.unreachable)
                .filter(|&x| t.0 >= s.since[x].0.saturating_add(delay.0))
                .fold(0, |acc, x| acc | 1 << x);
            if due != 0 {
                self.remove(m, due, t, faults);
            }
            return;
        }
        match s.stability.due(t, s.unreachable != 0) {
            Due::Wait => self.st[m].lease_try_at = None,
            Due::DownAll => self.apply(m, Decision::DownAll, t, faults),
            Due::Decide => {
                let members = self.side_members(m);
                let mut view = SideView {
                    members: &members,
                    lease_acquired: false,
                };
                if self.v.strategy == Strategy::LeaseMajority {
                    let at =
                        *self.st[m]
                            .lease_try_at
                            .get_or_insert(Nanos(t.0.saturating_add(
                                lease_acquire_delay(&view, LEASE_DELAY_FOR_MINORITY).0,
                            )));
                    if at > t {
                        return;
                    }
                    view.lease_acquired = self.acquire_lease(m, t);
                }
                let decision = decide(self.v.strategy, &view);
                self.apply(m, decision, t, faults);
            }
        }
    }

    /// Member `m` tries to take the lease at `t`.
    fn acquire_lease(&mut self, m: usize, t: Nanos) -> bool {
        let Some(w) = self.d.lease else {
            return false;
        };
        let me = self.node(m);
        if !(self.g.talks(me, w, t) && self.g.talks(w, me, t)) {
            return false;
        }
        let free = match self.lease {
            None => true,
            Some((holder, until)) => {
                t >= until
                    || holder == m
                    || (self.st[holder].active
                        && self.st[m].members >> holder & 1 == 1
                        && self.st[m].unreachable >> holder & 1 == 0)
            }
        };
        if free {
            self.lease = Some((m, Nanos(t.0.saturating_add(LEASE_RELEASE_AFTER.0))));
        }
        free
    }

    fn apply(&mut self, m: usize, decision: Decision, t: Nanos, faults: &[FaultEvent]) {
        self.st[m].lease_try_at = None;
        self.st[m].stability.decided(t);
        match decision {
            Decision::Nothing => {}
            Decision::DownUnreachable => {
                let u = self.st[m].unreachable;
                self.remove(m, u, t, faults);
            }
            Decision::DownReachable | Decision::DownAll => self.shut_down(m, t, faults),
        }
    }

    fn remove(&mut self, m: usize, mask: u64, t: Nanos, faults: &[FaultEvent]) {
        let s = &mut self.st[m];
        s.members &= !mask;
        s.unreachable &= !mask;
        for x in bits(mask) {
            s.removed_at[x] = t;
        }
        for x in bits(mask) {
            self.downed_at(x, t, faults);
        }
    }

    fn shut_down(&mut self, x: usize, t: Nanos, faults: &[FaultEvent]) {
        let s = &mut self.st[x];
        s.active = false;
        s.unreachable = 0;
        s.lease_try_at = None;
        s.rejoin_at = Some(Nanos(t.0.saturating_add(self.d.rejoin_after.0)));
        self.downed_at(x, t, faults);
    }

    /// Member `x` was removed by someone or downed itself at `t`.
    fn downed_at(&mut self, x: usize, t: Nanos, faults: &[FaultEvent]) {
        let node = self.node(x);
        let live = self.g.up(node, t);
        let wrongful = live && self.reaches_majority(node, t);
        for (i, e) in faults.iter().enumerate() {
            if !(e.start <= t && t < e.until) {
                continue;
            }
            let o = &mut self.outcomes[i];
            o.any_downing = true;
            let (seen, wrong) = &mut self.downed[i];
            if live && *seen >> x & 1 == 0 {
                *seen |= 1 << x;
                o.live_downed += 1;
            }
            if wrongful && *wrong >> x & 1 == 0 {
                *wrong |= 1 << x;
                o.wrongful += 1;
            }
        }
    }

    /// `x` talks both ways with more than half of the members up at `t`.
    fn reaches_majority(&self, x: NodeId, t: Nanos) -> bool {
        let up: Vec<NodeId> = self
            .d
            .members
            .iter()
            .copied()
            .filter(|&m| self.g.up(m, t))
            .collect();
        let reach = up
            .iter()
            .filter(|&&m| m == x || (self.g.talks(x, m, t) && self.g.talks(m, x, t)))
            .count();
        2 * reach > up.len()
    }

    /// Downed members that a serving member who removed them can reach
    /// learn it and shut down.
    fn propagate(&mut self, t: Nanos, faults: &[FaultEvent]) {
        let nm = self.d.members.len();
        for m in 0..nm {
            for x in 0..nm {
                let (sm, sx) = (&self.st[m], &self.st[x]);
                if m != x
                    && sm.active
                    && sx.active
                    && sm.members >> x & 1 == 0
                    && self.g.talks(self.node(m), self.node(x), t)
                {
                    self.shut_down(x, t, faults);
                }
            }
        }
    }

    /// Records the time to down of crashes every serving member has
    /// removed by `t`.
    fn check_crashes(&mut self, t: Nanos, faults: &[FaultEvent]) {
        for (i, e) in faults.iter().enumerate() {
            if e.truth != Truth::Crash
                || self.outcomes[i].time_to_down.is_some()
                || !(e.start <= t && t < e.end)
            {
                continue;
            }
            let mask = e
                .nodes
                .iter()
                .filter_map(|&n| self.index[n as usize])
                .fold(0u64, |acc, x| acc | 1 << x);
            let serving: Vec<&State> = self.st.iter().filter(|s| s.active).collect();
            if !serving.is_empty() && serving.iter().all(|s| s.members & mask == 0) {
                self.outcomes[i].time_to_down = Some(Nanos(t.0 - e.start.0));
            }
        }
    }

    fn next_time(&self, t: Nanos, next_opinion: Option<Nanos>) -> Nanos {
        let mut next = Nanos(u64::MAX);
        let mut offer = |x: Nanos| {
            if x > t && x < next {
                next = x;
            }
        };
        next_opinion.map(&mut offer);
        self.g.next_change(t).map(&mut offer);
        for s in &self.st {
            s.rejoin_at.map(&mut offer);
            s.lease_try_at.map(&mut offer);
            if !s.active {
                continue;
            }
            let margin = self.margin().0;
            for x in bits(!s.members & self.all()) {
                offer(Nanos(s.removed_at[x].0.saturating_add(margin)));
            }
            if let Strategy::DownAfter { delay } = self.v.strategy {
                for x in bits(s.unreachable) {
                    offer(Nanos(s.since[x].0.saturating_add(delay.0)));
                }
            } else if s.unreachable != 0 {
                s.stability.next_due().map(&mut offer);
            }
        }
        next
    }

    /// Scores the state held on `[t, next)`.
    fn account(&mut self, t: Nanos, next: Nanos, faults: &[FaultEvent]) {
        let nm = self.d.members.len();
        // A paused member serves nothing while it is paused.
        let serving: Vec<usize> = (0..nm)
            .filter(|&x| self.st[x].active && self.g.awake(self.node(x), t))
            .collect();
        let largest = serving
            .iter()
            .map(|&a| {
                serving
                    .iter()
                    .filter(|&&b| !self.took_over(a, b, t) && !self.took_over(b, a, t))
                    .count()
            })
            .max()
            .unwrap_or(0);
        let split = serving.len() - largest;
        let any_up = (0..nm).any(|x| self.g.up(self.node(x), t));
        let up = (0..nm).filter(|&x| self.g.up(self.node(x), t)).count();
        let outage = serving.is_empty() && any_up;
        let dt = overlap(t, next, self.sc.warmup, self.sc.duration);
        let r = &mut self.run;
        r.serving_time += TotalNanos(largest as u128 * u128::from(dt.0));
        r.member_up_time += TotalNanos(up as u128 * u128::from(dt.0));
        if split > 0 {
            r.split_brain += dt;
            r.split_member_time += TotalNanos(split as u128 * u128::from(dt.0));
        }
        if outage {
            r.outage += dt;
        }
        if split == 0 && !outage {
            return;
        }
        for (e, o) in faults.iter().zip(self.outcomes.iter_mut()) {
            let w = overlap(t, next, e.start, e.until);
            if w == Nanos::ZERO {
                continue;
            }
            if split > 0 {
                o.split_brain += w;
                o.split_member_time += TotalNanos(split as u128 * u128::from(w.0));
            }
            if outage {
                o.outage += w;
            }
        }
    }
}
