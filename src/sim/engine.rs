//! The run loop: pops events in (time, insertion) order, hands them to
//! agents, and carries out the effects the agents return.

use super::agent::{Agent, Ctx, Effect, NodeId, TimerKey};
use super::clock::Clock;
use super::queue::EventQueue;
use super::rng::Stream;
use super::time::Nanos;
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
}

struct Node<A> {
    agent: A,
    up: bool,
    incarnation: u32,
    /// Bumped at every crash so timers of a dead incarnation never fire.
    epoch: u32,
    /// Generation per timer key; a popped timer fires only if it matches.
    timer_gen: Vec<u32>,
    clock: Clock,
    rng: Stream,
}

/// Message accounting kept by the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

impl NetStats {
    /// Every message sent is accounted for exactly once.
    pub fn balanced(&self) -> bool {
        self.sent
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
}

/// A simulation of agents of type `A` on a network.
pub struct Sim<A: Agent> {
    now: Nanos,
    queue: EventQueue<Event<A::Msg>>,
    nodes: Vec<Node<A>>,
    net: Network,
    stats: NetStats,
    effects: Vec<Effect<A::Msg>>,
    trace: Option<Vec<TraceEvent>>,
    started: bool,
    /// Deliveries pushed on the queue and not yet popped.
    in_flight_pending: u64,
}

impl<A: Agent> Sim<A> {
    /// A simulation with one agent per network node, in node order. Each
    /// node's random stream is derived from `seed` and the node's name.
    pub fn new(net: Network, agents: Vec<A>, clocks: Vec<Clock>, seed: u64) -> Self {
        assert_eq!(agents.len(), net.node_count(), "one agent per node");
        assert_eq!(clocks.len(), net.node_count(), "one clock per node");
        let nodes = agents
            .into_iter()
            .zip(clocks)
            .enumerate()
            .map(|(i, (agent, clock))| Node {
                agent,
                up: true,
                incarnation: 0,
                epoch: 0,
                timer_gen: Vec::new(),
                clock,
                rng: Stream::new(seed, &format!("node:{}", net.name(i as NodeId))),
            })
            .collect();
        Sim {
            now: Nanos::ZERO,
            queue: EventQueue::with_capacity(1024),
            nodes,
            net,
            stats: NetStats::default(),
            effects: Vec::with_capacity(16),
            trace: None,
            started: false,
            in_flight_pending: 0,
        }
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

    /// Schedules a restart (new incarnation) of `node` at true time `at`.
    pub fn schedule_restart(&mut self, node: NodeId, at: Nanos) {
        self.queue.push(at, Event::Restart { node });
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

    pub fn network(&self) -> &Network {
        &self.net
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
                self.start_node(node);
            }
        }
        while let Some(t) = self.queue.peek_time() {
            if t >= end {
                break;
            }
            let (t, event) = self.queue.pop().expect("peeked");
            debug_assert!(t >= self.now, "virtual time went backwards");
            self.now = t;
            self.dispatch(event);
        }
        self.now = self.now.max(end);
        self.stats.in_flight = self.in_flight_pending;
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
        }
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, sent: Nanos, msg: A::Msg) {
        self.in_flight_pending -= 1;
        if self.net.is_cut(from, to, self.now) {
            self.stats.cut += 1;
            return;
        }
        if !self.nodes[to as usize].up {
            self.stats.dropped_down += 1;
            return;
        }
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

    fn fire_timer(&mut self, node: NodeId, key: TimerKey, epoch: u32, gen: u32) {
        let n = &self.nodes[node as usize];
        if !n.up || n.epoch != epoch || n.timer_gen[key as usize] != gen {
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
        let n = &mut self.nodes[node as usize];
        if !n.up {
            return;
        }
        n.up = false;
        n.epoch += 1;
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::Crashed { node, at: self.now });
        }
    }

    fn restart(&mut self, node: NodeId) {
        let n = &mut self.nodes[node as usize];
        if n.up {
            return;
        }
        n.up = true;
        n.incarnation += 1;
        if let Some(trace) = &mut self.trace {
            trace.push(TraceEvent::Restarted { node, at: self.now });
        }
        self.start_node(node);
    }

    fn start_node(&mut self, node: NodeId) {
        self.with_agent(node, |agent, ctx| agent.start(ctx));
    }

    /// Runs one agent callback and applies the effects it produced.
    fn with_agent(&mut self, node: NodeId, f: impl FnOnce(&mut A, &mut Ctx<'_, A::Msg>)) {
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

    fn apply(&mut self, node: NodeId, effect: Effect<A::Msg>) {
        match effect {
            Effect::Send { to, msg } => self.send(node, to, msg),
            Effect::SetTimer { key, after } => {
                let n = &mut self.nodes[node as usize];
                let k = key as usize;
                if n.timer_gen.len() <= k {
                    n.timer_gen.resize(k + 1, 0);
                }
                n.timer_gen[k] = n.timer_gen[k].wrapping_add(1);
                let at = self.now + n.clock.true_span(after);
                let event = Event::Timer {
                    node,
                    key,
                    epoch: n.epoch,
                    gen: n.timer_gen[k],
                };
                self.queue.push(at, event);
            }
            Effect::CancelTimer { key } => {
                let n = &mut self.nodes[node as usize];
                if let Some(g) = n.timer_gen.get_mut(key as usize) {
                    *g = g.wrapping_add(1);
                }
            }
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: A::Msg) {
        self.stats.sent += 1;
        match self.net.transmit(from, to, self.now) {
            Transmit::Deliver(at) => {
                self.in_flight_pending += 1;
                let sent = self.now;
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
        let model = LinkModel {
            latency: Latency::Constant { value: Nanos(5) },
            loss: 0.0,
        };
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
}
