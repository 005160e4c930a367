//! The run loop: pops events in (time, insertion) order, hands them to
//! agents, and carries out the effects the agents return.

use super::agent::{Agent, Ctx, Effect, NodeId, TimerKey};
use super::clock::Clock;
use super::queue::EventQueue;
use super::rng::Stream;
use super::time::Nanos;
use crate::fault::{FaultAction, FaultTimeline};
use crate::net::{Network, Transmit};

enum Event<M> {
    Deliver {
        from: NodeId,
        to: NodeId,
        sent: Nanos,
        msg: M,
    },
    Timer {
        node: NodeId,
        key: TimerKey,
        epoch: u32,
        gen: u32,
    },
    Crash {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    Leave {
        node: NodeId,
    },
    Pause {
        node: NodeId,
        until: Nanos,
    },
    Resume {
        node: NodeId,
    },
}

struct Node<A> {
    agent: A,
    incarnation: u32,
    clock: Clock,
    rng: Stream,
}

/// Timer keys whose generations a [`Gate`] holds inline.
const INLINE_KEYS: usize = 8;

/// Whether a node is up, and what a popped timer of it must match to
/// fire. Kept for every node in one dense array apart from the agents
/// (64 bytes a node): with thousands of nodes, recognising a stale timer
/// (replaced, cancelled, or of a dead incarnation) or a delivery to a
/// node that is down then reads a warm line instead of a cold agent.
#[derive(Clone, Debug, Default)]
struct Gate {
    up: bool,
    /// Bumped at every crash so timers of a dead incarnation never fire.
    epoch: u32,
    /// Generation per timer key (keys below [`INLINE_KEYS`]); a popped
    /// timer fires only if it matches.
    gen: [u32; INLINE_KEYS],
    /// Generations of the keys from [`INLINE_KEYS`] on, grown on demand.
    more: Vec<u32>,
}

impl Gate {
    #[inline]
    fn gen(&self, key: TimerKey) -> u32 {
        let k = key as usize;
        match k.checked_sub(INLINE_KEYS) {
            None => self.gen[k],
            Some(j) => self.more.get(j).copied().unwrap_or(0),
        }
    }

    /// A new generation for `key` (a timer set or cancelled), returned.
    #[inline]
    fn bump(&mut self, key: TimerKey) -> u32 {
        let k = key as usize;
        let g = match k.checked_sub(INLINE_KEYS) {
            None => &mut self.gen[k],
            Some(j) => {
                if self.more.len() <= j {
                    self.more.resize(j + 1, 0);
                }
                &mut self.more[j]
            }
        };
        *g = g.wrapping_add(1);
        *g
    }

    /// Cancels the pending timer of `key`, if any.
    #[inline]
    fn cancel(&mut self, key: TimerKey) {
        let k = key as usize;
        let g = match k.checked_sub(INLINE_KEYS) {
            None => Some(&mut self.gen[k]),
            Some(j) => self.more.get_mut(j),
        };
        if let Some(g) = g {
            *g = g.wrapping_add(1);
        }
    }
}

/// Message accounting kept by the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetStats {
    /// Messages agents asked to send while up.
    pub sent: u64,
    /// Delivered to an up node.
    pub delivered: u64,
    /// Lost by a link.
    pub lost: u64,
    /// Dropped by an active partition (at send or on arrival).
    pub cut: u64,
    /// Arrived at a node that was down.
    pub dropped_down: u64,
    /// No link between sender and receiver.
    pub no_route: u64,
    /// Still travelling when the run ended.
    pub in_flight: u64,
    /// Extra copies a link made of messages it delivers (`duplicate`);
    /// each copy is then delivered, cut, dropped or in flight on its own.
    pub duplicated: u64,
    /// Bytes of the messages counted in `sent`, by the size function given
    /// to [`Sim::count_bytes_with`] (0 without one). Copies made by a link
    /// are not counted again.
    pub bytes_sent: u64,
    /// Of `bytes_sent`, those of messages sent over a stream (TCP), by the
    /// function given to [`Sim::count_bytes_with`].
    pub stream_bytes_sent: u64,
    /// Events the engine handled, from its queue or its fault timeline
    /// (deliveries, timers, stale timers included, crashes, restarts,
    /// pauses and their ends): the unit of work [`crate::cost`] estimates.
    pub events: u64,
}

impl NetStats {
    /// Every message sent, and every duplicate a link made, is accounted
    /// for exactly once.
    pub fn balanced(&self) -> bool {
        self.sent + self.duplicated
            == self.delivered
                + self.lost
                + self.cut
                + self.dropped_down
                + self.no_route
                + self.in_flight
    }
}

/// A record of what the engine did, kept only when tracing is on (tests,
/// `fdsim trace`). Times are true times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    Delivered {
        from: NodeId,
        to: NodeId,
        sent: Nanos,
        at: Nanos,
    },
    TimerFired {
        node: NodeId,
        key: TimerKey,
        at: Nanos,
    },
    Crashed {
        node: NodeId,
        at: Nanos,
    },
    Restarted {
        node: NodeId,
        at: Nanos,
    },
    Paused {
        node: NodeId,
        at: Nanos,
        until: Nanos,
    },
}

/// A message's size on the wire, and whether it goes over a stream.
type WireSize<M> = (fn(&M) -> u32, fn(&M) -> bool);

/// A simulation of agents of type `A` on a network.
pub struct Sim<A: Agent> {
    now: Nanos,
    queue: EventQueue<Event<A::Msg>>,
    nodes: Vec<Node<A>>,
    /// Per node: up or down, and its timers' generations.
    gates: Vec<Gate>,
    net: Network,
    stats: NetStats,
    effects: Vec<Effect<A::Msg>>,
    trace: Option<Vec<TraceEvent>>,
    started: bool,
    /// Deliveries pushed on the queue and not yet popped.
    in_flight_pending: u64,
    /// Per node: paused until this true time (stop-the-world), if paused.
    paused_until: Vec<Option<Nanos>>,
    /// Per node: deliveries and timers that came due while it was paused,
    /// in order; handled when it resumes.
    deferred: Vec<Vec<Event<A::Msg>>>,
    /// Every pause that took effect, `(node, start, end)` in true time, in
    /// the order they began (a pause while the node is down is not one).
    pauses: Vec<(NodeId, Nanos, Nanos)>,
    /// Per node: windows `[start, end)` during which its timers run slow
    /// by a factor (a gray failure: the process is up but sluggish).
    slow: Vec<Vec<(Nanos, Nanos, f64)>>,
    /// Wire size of a message, for [`NetStats::bytes_sent`], and whether
    /// it goes over a stream.
    /// Wire size of a message, for [`NetStats::bytes_sent`], and whether
    /// it goes over a stream.
    wire_bytes: Option<WireSize<A::Msg>>,
    /// Crashes, restarts and pauses generated as the run reaches them
    /// ([`Sim::set_fault_timeline`]), and the time of the next one.
    faults: Option<FaultTimeline>,
    next_fault: Option<Nanos>,
}

impl<A: Agent> Sim<A> {
    /// Bytes one pending event holds in the queue: its 16-byte key, its
    /// slab slot and a free-list entry (for [`crate::cost`]).
    pub const PENDING_EVENT_BYTES: usize =
        16 + std::mem::size_of::<Option<Event<A::Msg>>>() + std::mem::size_of::<usize>();

    /// A simulation with one agent per network node, in node order. Each
    /// node's random stream is derived from `seed` and the node's name.
    pub fn new(net: Network, agents: Vec<A>, clocks: Vec<Clock>, seed: u64) -> Self {
        assert_eq!(agents.len(), net.node_count(), "one agent per node");
        assert_eq!(clocks.len(), net.node_count(), "one clock per node");
        let n = net.node_count();
        let nodes = agents
            .into_iter()
            .zip(clocks)
            .enumerate()
            .map(|(i, (agent, clock))| Node {
                agent,
                incarnation: 0,
                clock,
                rng: Stream::new(seed, &format!("node:{}", net.name(i as NodeId))),
            })
            .collect();
        Sim {
            now: Nanos::ZERO,
            queue: EventQueue::with_capacity(1024),
            nodes,
            gates: vec![
                Gate {
                    up: true,
                    ..Gate::default()
                };
                n
            ],
            net,
            stats: NetStats::default(),
            effects: Vec::with_capacity(16),
            trace: None,
            started: false,
            in_flight_pending: 0,
            paused_until: vec![None; n],
            deferred: (0..n).map(|_| Vec::new()).collect(),
            pauses: Vec::new(),
            slow: vec![Vec::new(); n],
            wire_bytes: None,
            faults: None,
            next_fault: None,
        }
    }

    /// Takes the crashes, restarts and pauses of the run from `timeline`,
    /// drawn as the run reaches them instead of scheduled up front. At an
    /// instant they come before every other event, in the timeline's
    /// order, exactly as if each had been scheduled before the run with
    /// [`Sim::schedule_crash`], [`Sim::schedule_restart`] and
    /// [`Sim::schedule_pause`] in that order: the run is the same, but
    /// nothing about the faults is kept in proportion to the horizon.
    pub fn set_fault_timeline(&mut self, mut timeline: FaultTimeline) {
        self.next_fault = timeline.peek_time();
        self.faults = Some(timeline);
    }

    /// Counts the bytes of every message sent in [`NetStats::bytes_sent`],
    /// sizing each with `size` (a protocol's wire size), and those for
    /// which `stream` holds in [`NetStats::stream_bytes_sent`] too.
    pub fn count_bytes_with(&mut self, size: fn(&A::Msg) -> u32, stream: fn(&A::Msg) -> bool) {
        self.wire_bytes = Some((size, stream));
    }

    /// Keep a [`TraceEvent`] log of the run.
    pub fn enable_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    pub fn trace(&self) -> &[TraceEvent] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// Schedules a crash of `node` at true time `at`. Faults should be
    /// scheduled before the run starts: being pushed first, they run before
    /// agent events at the same instant.
    pub fn schedule_crash(&mut self, node: NodeId, at: Nanos) {
        self.queue.push(at, Event::Crash { node });
    }

    /// Schedules a stop-the-world pause of `node` on `[at, at + length)`:
    /// what comes due meanwhile waits and is handled, in order, when it
    /// resumes, so its timers fire late as a real timer thread's would.
    /// Overlapping pauses merge; a pause of a node that is down is ignored.
    pub fn schedule_pause(&mut self, node: NodeId, at: Nanos, length: Nanos) {
        let until = at + length;
        self.queue.push(at, Event::Pause { node, until });
    }

    /// Makes `node`'s timers run slow by `factor` when set during
    /// `[start, end)`: a timer set for `d` then takes `d × factor`.
    pub fn add_slow_window(&mut self, node: NodeId, start: Nanos, end: Nanos, factor: f64) {
        self.slow[node as usize].push((start, end, factor));
    }

    /// Schedules a restart (new incarnation) of `node` at true time `at`.
    /// The pauses that took effect so far, `(node, start, end)` in true
    /// time, in the order they began; a pause scheduled while its node was
    /// down is not among them.
    pub fn pauses(&self) -> &[(NodeId, Nanos, Nanos)] {
        &self.pauses
    }

    pub fn schedule_restart(&mut self, node: NodeId, at: Nanos) {
        self.queue.push(at, Event::Restart { node });
    }

    /// Keeps `node` down from the start: it is not started at time zero,
    /// and runs only from a scheduled restart (a member that joins later).
    /// Call before the run starts.
    pub fn start_down(&mut self, node: NodeId) {
        debug_assert!(!self.started, "start_down after the run started");
        self.gates[node as usize].up = false;
    }

    /// Tells `node`'s agent at true time `at` that it is to leave
    /// ([`Agent::on_leave`]); stopping it is a separate, scheduled crash.
    pub fn schedule_leave(&mut self, node: NodeId, at: Nanos) {
        self.queue.push(at, Event::Leave { node });
    }

    pub fn now(&self) -> Nanos {
        self.now
    }

    pub fn stats(&self) -> NetStats {
        self.stats
    }

    pub fn agent(&self, node: NodeId) -> &A {
        &self.nodes[node as usize].agent
    }

    /// The agent of `node`, to take what it logged between two
    /// [`Sim::run_until`] calls (a streaming consumer).
    pub fn agent_mut(&mut self, node: NodeId) -> &mut A {
        &mut self.nodes[node as usize].agent
    }

    /// Takes the pauses that took effect since the last call (see
    /// [`Sim::pauses`]), leaving none kept.
    pub fn take_pauses(&mut self) -> Vec<(NodeId, Nanos, Nanos)> {
        std::mem::take(&mut self.pauses)
    }

    /// Events pending in the queue, for checks that a run's state stays
    /// bounded.
    pub fn pending_events(&self) -> usize {
        self.queue.len() + self.faults.as_ref().map_or(0, FaultTimeline::buffered)
    }

    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The network, to take what its links recorded between two
    /// [`Sim::run_until`] calls.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// Consumes the simulation and returns the agents in node order.
    pub fn into_agents(self) -> Vec<A> {
        self.nodes.into_iter().map(|n| n.agent).collect()
    }

    /// Runs every event strictly before `end`, then stops; events at or
    /// after `end` stay pending and messages among them count as in flight.
    pub fn run_until(&mut self, end: Nanos) {
        if !self.started {
            self.started = true;
            for node in 0..self.nodes.len() as NodeId {
                if self.gates[node as usize].up {
                    self.start_node(node);
                }
            }
        }
        loop {
            // A fault due before `end` comes before every queued event at
            // or after its time, so the queue is popped only below it: one
            // look at the queue per event, and none at the fault timeline.
            let fault = self.next_fault.filter(|&f| f < end);
            let Some((t, event)) = self.queue.pop_before(fault.unwrap_or(end)) else {
                if fault.is_none() {
                    break;
                }
                self.fire_fault();
                continue;
            };
            debug_assert!(t >= self.now, "virtual time went backwards");
            self.now = t;
            self.stats.events += 1;
            self.dispatch(event);
        }
        self.now = self.now.max(end);
        self.stats.in_flight = self.in_flight_pending + self.deferred_deliveries();
    }

    /// Applies the next event of the fault timeline.
    fn fire_fault(&mut self) {
        let timeline = self.faults.as_mut().expect("a fault is due");
        let f = timeline.next().expect("a fault is due");
        self.next_fault = timeline.peek_time();
        debug_assert!(f.at >= self.now, "virtual time went backwards");
        self.now = f.at;
        // Counted as the queued crash, restart or pause it replaces was,
        // so a run counts the same events whichever way its faults come.
        self.stats.events += 1;
        match f.action {
            FaultAction::Crash => self.crash(f.node),
            FaultAction::Restart => self.restart(f.node),
            FaultAction::Pause { until } => self.pause(f.node, until),
        }
    }

    fn dispatch(&mut self, event: Event<A::Msg>) {
        match event {
            Event::Deliver {
                from,
                to,
                sent,
                msg,
            } => self.deliver(from, to, sent, msg),
            Event::Timer {
                node,
                key,
                epoch,
                gen,
            } => self.fire_timer(node, key, epoch, gen),
            Event::Crash { node } => self.crash(node),
            Event::Restart { node } => self.restart(node),
            Event::Leave { node } => self.leave(node),
            Event::Pause { node, until } => self.pause(node, until),
            Event::Resume { node } => self.resume(node),
        }
    }

    fn pause(&mut self, node: NodeId, until: Nanos) {
        if !self.gates[node as usize].up {
            return;
        }
        let slot = &mut self.paused_until[node as usize];
        let merged = slot.map_or(until, |u| u.max(until));
        *slot = Some(merged);
        self.pauses.push((node, self.now, until));
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::Paused {
                node,
                at: self.now,
                until: merged,
            });
        }
        self.queue.push(until, Event::Resume { node });
    }

    /// A paused node hears that it is to leave when it resumes.
    fn leave(&mut self, node: NodeId) {
        if !self.gates[node as usize].up {
            return;
        }
        if self.paused_until[node as usize].is_some() {
            self.deferred[node as usize].push(Event::Leave { node });
            return;
        }
        self.with_agent(node, |agent, ctx| agent.on_leave(ctx));
    }

    fn resume(&mut self, node: NodeId) {
        match self.paused_until[node as usize] {
            Some(until) if until <= self.now => {}
            _ => return, // extended by a later pause, or crashed meanwhile
        }
        self.paused_until[node as usize] = None;
        let waiting = std::mem::take(&mut self.deferred[node as usize]);
        for event in waiting {
            match event {
                Event::Deliver {
                    from,
                    to,
                    sent,
                    msg,
                } => self.receive(from, to, sent, msg),
                Event::Timer {
                    node,
                    key,
                    epoch,
                    gen,
                } => self.fire_timer(node, key, epoch, gen),
                Event::Leave { node } => self.leave(node),
                _ => debug_assert!(false, "only deliveries, timers and leaves are deferred"),
            }
        }
    }

    /// Deliveries held by paused nodes.
    fn deferred_deliveries(&self) -> u64 {
        self.deferred
            .iter()
            .flatten()
            .filter(|e| matches!(e, Event::Deliver { .. }))
            .count() as u64
    }

    #[inline]
    fn deliver(&mut self, from: NodeId, to: NodeId, sent: Nanos, msg: A::Msg) {
        self.in_flight_pending -= 1;
        if self.net.is_cut(from, to, self.now) {
            self.stats.cut += 1;
            return;
        }
        if !self.gates[to as usize].up {
            self.stats.dropped_down += 1;
            return;
        }
        if self.paused_until[to as usize].is_some() {
            let event = Event::Deliver {
                from,
                to,
                sent,
                msg,
            };
            self.deferred[to as usize].push(event);
            return;
        }
        self.receive(from, to, sent, msg);
    }

    /// Hands a message that has arrived to its (up, running) node.
    #[inline]
    fn receive(&mut self, from: NodeId, to: NodeId, sent: Nanos, msg: A::Msg) {
        self.stats.delivered += 1;
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::Delivered {
                from,
                to,
                sent,
                at: self.now,
            });
        }
        self.with_agent(to, |agent, ctx| agent.on_message(from, msg, ctx));
    }

    #[inline]
    fn fire_timer(&mut self, node: NodeId, key: TimerKey, epoch: u32, gen: u32) {
        let g = &self.gates[node as usize];
        if !g.up || g.epoch != epoch || g.gen(key) != gen {
            return;
        }
        if self.paused_until[node as usize].is_some() {
            let event = Event::Timer {
                node,
                key,
                epoch,
                gen,
            };
            self.deferred[node as usize].push(event);
            return;
        }
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::TimerFired {
                node,
                key,
                at: self.now,
            });
        }
        self.with_agent(node, |agent, ctx| agent.on_timer(key, ctx));
    }

    fn crash(&mut self, node: NodeId) {
        let g = &mut self.gates[node as usize];
        if !g.up {
            return;
        }
        g.up = false;
        g.epoch += 1;
        self.paused_until[node as usize] = None;
        for event in std::mem::take(&mut self.deferred[node as usize]) {
            if matches!(event, Event::Deliver { .. }) {
                self.stats.dropped_down += 1;
            }
        }
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::Crashed { node, at: self.now });
        }
    }

    fn restart(&mut self, node: NodeId) {
        let g = &mut self.gates[node as usize];
        if g.up {
            return;
        }
        g.up = true;
        self.nodes[node as usize].incarnation += 1;
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::Restarted { node, at: self.now });
        }
        self.start_node(node);
    }

    fn start_node(&mut self, node: NodeId) {
        self.with_agent(node, |agent, ctx| agent.start(ctx));
    }

    /// Runs one agent callback and applies the effects it produced.
    #[inline]
    fn with_agent(&mut self, node: NodeId, f: impl FnOnce(&mut A, &mut Ctx<'_, A::Msg>)) {
        // The node is about to send, most likely: its stream of the
        // default link comes into the caches while its agent decides.
        self.net.prefetch_sender(node);
        let mut effects = std::mem::take(&mut self.effects);
        effects.clear();
        let n = &mut self.nodes[node as usize];
        let local = n.clock.local(self.now);
        let mut ctx = Ctx::new(local, node, n.incarnation, &mut n.rng, &mut effects);
        f(&mut n.agent, &mut ctx);
        for effect in effects.drain(..) {
            self.apply(node, effect);
        }
        self.effects = effects;
    }

    #[inline]
    fn apply(&mut self, node: NodeId, effect: Effect<A::Msg>) {
        match effect {
            Effect::Send { to, msg } => self.send(node, to, msg),
            Effect::SetTimer { key, after } => {
                let g = &mut self.gates[node as usize];
                let gen = g.bump(key);
                let epoch = g.epoch;
                let factor = self.slow[node as usize]
                    .iter()
                    .find(|(s, e, _)| *s <= self.now && self.now < *e)
                    .map_or(1.0, |w| w.2);
                let span = if factor == 1.0 {
                    after
                } else {
                    Nanos((after.0 as f64 * factor).round() as u64)
                };
                let delay = self.nodes[node as usize].clock.true_span(span);
                let event = Event::Timer {
                    node,
                    key,
                    epoch,
                    gen,
                };
                // Timers set with one delay come due in the order they were
                // set: the queue keeps them in a lane, not the heap.
                self.queue.push_after(self.now, delay, event);
            }
            Effect::CancelTimer { key } => self.gates[node as usize].cancel(key),
        }
    }

    #[inline]
    fn send(&mut self, from: NodeId, to: NodeId, msg: A::Msg) {
        self.stats.sent += 1;
        if let Some((size, stream)) = self.wire_bytes {
            let bytes = u64::from(size(&msg));
            self.stats.bytes_sent += bytes;
            if stream(&msg) {
                self.stats.stream_bytes_sent += bytes;
            }
        }
        let sent = self.now;
        match self.net.transmit(from, to, sent) {
            Transmit::Deliver(at) => {
                self.in_flight_pending += 1;
                self.queue.push(
                    at,
                    Event::Deliver {
                        from,
                        to,
                        sent,
                        msg,
                    },
                );
            }
            Transmit::Duplicate(at, copy_at) => {
                // The original is queued first, so at equal arrival times
                // it is handled first.
                self.in_flight_pending += 2;
                self.stats.duplicated += 1;
                let copy = msg.clone();
                self.queue.push(
                    at,
                    Event::Deliver {
                        from,
                        to,
                        sent,
                        msg,
                    },
                );
                self.queue.push(
                    copy_at,
                    Event::Deliver {
                        from,
                        to,
                        sent,
                        msg: copy,
                    },
                );
            }
            Transmit::Lost => self.stats.lost += 1,
            Transmit::Cut => self.stats.cut += 1,
            Transmit::NoRoute => self.stats.no_route += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Latency, LinkModel};

    /// An agent that records what fires, for checking timer semantics.
    #[derive(Default)]
    struct Probe {
        fired: Vec<(TimerKey, Nanos, u32)>,
        script: Vec<Effect<()>>,
    }

    impl Agent for Probe {
        type Msg = ();
        fn start(&mut self, ctx: &mut Ctx<'_, ()>) {
            for e in self.script.drain(..) {
                match e {
                    Effect::SetTimer { key, after } => ctx.set_timer(key, after),
                    Effect::CancelTimer { key } => ctx.cancel_timer(key),
                    Effect::Send { to, msg } => ctx.send(to, msg),
                }
            }
        }
        fn on_message(&mut self, _: NodeId, _: (), _: &mut Ctx<'_, ()>) {}
        fn on_timer(&mut self, key: TimerKey, ctx: &mut Ctx<'_, ()>) {
            self.fired.push((key, ctx.now(), ctx.incarnation()));
        }
    }

    fn sim(script: Vec<Effect<()>>) -> Sim<Probe> {
        let mut net = Network::new(&["a".into(), "b".into()]);
        let model = LinkModel::new(Latency::Constant { value: Nanos(5) }, 0.0);
        net.set_link(0, 1, model, 1);
        let agents = vec![
            Probe {
                script,
                ..Probe::default()
            },
            Probe::default(),
        ];
        Sim::new(net, agents, vec![Clock::default(); 2], 1)
    }

    #[test]
    fn setting_a_pending_key_replaces_it_and_cancel_forgets_it() {
        let mut s = sim(vec![
            Effect::SetTimer {
                key: 1,
                after: Nanos(10),
            },
            Effect::SetTimer {
                key: 1,
                after: Nanos(30),
            },
            Effect::SetTimer {
                key: 2,
                after: Nanos(20),
            },
            Effect::CancelTimer { key: 2 },
            Effect::SetTimer {
                key: 3,
                after: Nanos(20),
            },
        ]);
        s.run_until(Nanos(100));
        assert_eq!(s.agent(0).fired, vec![(3, Nanos(20), 0), (1, Nanos(30), 0)]);
    }

    #[test]
    fn a_crash_drops_pending_timers_and_messages_to_the_dead_node() {
        let mut s = sim(vec![
            Effect::SetTimer {
                key: 1,
                after: Nanos(50),
            },
            Effect::Send { to: 1, msg: () },
        ]);
        s.schedule_crash(0, Nanos(20));
        s.schedule_crash(1, Nanos(3));
        s.run_until(Nanos(100));
        assert!(
            s.agent(0).fired.is_empty(),
            "timer of the dead incarnation fired"
        );
        let st = s.stats();
        assert_eq!((st.sent, st.dropped_down), (1, 1));
        assert!(st.balanced());
    }

    #[test]
    fn a_restart_starts_a_new_incarnation_with_fresh_timers() {
        let mut s = sim(vec![Effect::SetTimer {
            key: 1,
            after: Nanos(50),
        }]);
        s.schedule_crash(0, Nanos(20));
        s.schedule_restart(0, Nanos(40));
        s.run_until(Nanos(200));
        // The script ran once (at start); after the restart nothing was set,
        // and the timer of incarnation 0 never fires.
        assert!(s.agent(0).fired.is_empty());
        assert_eq!(s.now(), Nanos(200));
    }

    #[test]
    fn events_at_or_after_the_end_stay_pending_and_count_as_in_flight() {
        let mut s = sim(vec![Effect::Send { to: 1, msg: () }]);
        s.run_until(Nanos(5));
        let st = s.stats();
        assert_eq!((st.sent, st.delivered, st.in_flight), (1, 0, 1));
        s.run_until(Nanos(6));
        assert_eq!(s.stats().delivered, 1);
        assert_eq!(s.stats().in_flight, 0);
    }

    #[test]
    fn a_duplicated_message_is_sent_once_and_accounted_for_twice() {
        let mut net = Network::new(&["a".into(), "b".into()]);
        let lat = Latency::Uniform {
            min: Nanos(5),
            max: Nanos(50),
        };
        let model = LinkModel {
            duplicate: 1.0,
            ..LinkModel::new(lat, 0.0)
        };
        net.set_link(0, 1, model, 1);
        let send = Effect::Send { to: 1, msg: () };
        let agents = vec![
            Probe {
                script: vec![send.clone(), send],
                ..Probe::default()
            },
            Probe::default(),
        ];
        let mut s = Sim::new(net, agents, vec![Clock::default(); 2], 1);
        s.run_until(Nanos(5));
        let st = s.stats();
        assert_eq!((st.sent, st.duplicated, st.in_flight), (2, 2, 4));
        assert!(st.balanced());
        s.schedule_crash(1, Nanos(30));
        s.run_until(Nanos(100));
        let st = s.stats();
        assert_eq!(st.delivered + st.dropped_down, 4, "{st:?}");
        assert!(st.balanced(), "{st:?}");
    }

    /// A node that re-arms a periodic timer, like a heartbeat sender.
    struct Ticker {
        period: Nanos,
        fired: Vec<Nanos>,
        got: Vec<Nanos>,
    }

    impl Agent for Ticker {
        type Msg = ();
        fn start(&mut self, ctx: &mut Ctx<'_, ()>) {
            ctx.set_timer(0, self.period);
        }
        fn on_message(&mut self, _: NodeId, _: (), ctx: &mut Ctx<'_, ()>) {
            self.got.push(ctx.now());
        }
        fn on_timer(&mut self, _: TimerKey, ctx: &mut Ctx<'_, ()>) {
            self.fired.push(ctx.now());
            ctx.send(1, ());
            ctx.set_timer(0, self.period);
        }
    }

    fn tickers() -> Sim<Ticker> {
        let mut net = Network::new(&["a".into(), "b".into()]);
        let model = LinkModel::new(Latency::Constant { value: Nanos(5) }, 0.0);
        net.set_link(0, 1, model.clone(), 1);
        net.set_link(1, 0, model, 1);
        let t = || Ticker {
            period: Nanos(100),
            fired: Vec::new(),
            got: Vec::new(),
        };
        Sim::new(net, vec![t(), t()], vec![Clock::default(); 2], 1)
    }

    #[test]
    fn a_pause_delays_the_next_timer_by_the_remainder_of_the_pause() {
        let mut s = tickers();
        // Paused on [150, 420): the tick due at 200 fires at 420, then the
        // period restarts from there.
        s.schedule_pause(0, Nanos(150), Nanos(270));
        s.run_until(Nanos(700));
        assert_eq!(
            s.agent(0).fired,
            vec![Nanos(100), Nanos(420), Nanos(520), Nanos(620)]
        );
    }

    #[test]
    fn messages_to_a_paused_node_are_handled_in_order_when_it_resumes() {
        let mut s = tickers();
        s.schedule_pause(1, Nanos(50), Nanos(300));
        s.run_until(Nanos(500));
        // Sent by node 0 at 100, 200, 300 (arriving 105, 205, 305) and 400.
        assert_eq!(
            s.agent(1).got,
            vec![Nanos(350), Nanos(350), Nanos(350), Nanos(405)]
        );
        assert!(s.stats().balanced());
    }

    #[test]
    fn a_crash_during_a_pause_drops_what_waited() {
        let mut s = tickers();
        s.schedule_pause(1, Nanos(50), Nanos(300));
        s.schedule_crash(1, Nanos(250));
        s.run_until(Nanos(500));
        assert!(s.agent(1).got.is_empty());
        let st = s.stats();
        assert_eq!(st.dropped_down, 4, "{st:?}");
        assert!(st.balanced());
    }

    #[test]
    fn overlapping_pauses_merge_and_the_run_end_counts_waiting_messages_in_flight() {
        let mut s = tickers();
        s.schedule_pause(1, Nanos(50), Nanos(100));
        s.schedule_pause(1, Nanos(120), Nanos(1000));
        s.run_until(Nanos(500));
        assert!(s.agent(1).got.is_empty());
        assert!(s.stats().balanced(), "{:?}", s.stats());
        assert!(s.stats().in_flight >= 4);
    }

    #[test]
    fn a_slow_window_stretches_timers_set_inside_it() {
        let mut s = tickers();
        s.add_slow_window(0, Nanos(150), Nanos(350), 3.0);
        s.run_until(Nanos(1000));
        // Set at 100 (normal) -> 200; set at 200 (slow) -> 500; at 500
        // (normal again) -> 600 ...
        assert_eq!(
            s.agent(0).fired[..5],
            [Nanos(100), Nanos(200), Nanos(500), Nanos(600), Nanos(700)]
        );
    }
}
