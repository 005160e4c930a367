//! Heartbeats, pushed or pulled.
//!
//! **Push** (the default): targets send sequence-numbered heartbeats to
//! their monitors every `interval`; monitors log what arrives.
//!
//! **Pull**: monitors send a ping to each target every `interval`; a
//! target that is up answers each ping at once with a pong that carries
//! the ping's sequence number, the ping's send time (on the monitor's
//! clock), the target's reply time (on its own clock) and its
//! incarnation. The monitor logs the pongs as its heartbeat stream: the
//! sequence number is the ping's, and the send time is the ping's, read
//! on the monitor's own clock, so a detector comparing it with arrival
//! times (NFD-S) needs no clock synchronization.
//!
//! A node can be a target, a monitor, or both. The monitor does not run
//! detectors itself: it records the arrival stream, and every detector is
//! later scored on that one stream, so all detectors on a monitor see the
//! identical heartbeats.

use crate::detector::Arrival;
use crate::net::Latency;
use crate::sim::agent::{Agent, Ctx, NodeId, TimerKey};
use crate::sim::time::Nanos;

/// A heartbeat message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    pub seq: u64,
    /// Send time on the sender's clock.
    pub sent: Nanos,
    pub incarnation: u32,
}

/// A ping: a monitor asks a target whether it is alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ping {
    /// The monitor's ping round, from 0.
    pub seq: u64,
    /// Send time on the monitor's clock.
    pub sent: Nanos,
}

/// A pong: a target's answer to a ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pong {
    /// The sequence number of the ping it answers.
    pub seq: u64,
    /// The ping's send time, on the monitor's clock (echoed back).
    pub ping_sent: Nanos,
    /// When the target replied, on the target's clock.
    pub replied: Nanos,
    /// The target's incarnation.
    pub incarnation: u32,
}

/// What heartbeat agents exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Heartbeat(Heartbeat),
    Ping(Ping),
    Pong(Pong),
}

impl Message {
    /// Bytes on the wire, payload only (no UDP/IP headers): a heartbeat
    /// carries the sender's id, sequence number, send time and incarnation
    /// (4 + 8 + 8 + 4 = 24 bytes, as the k-monitor protocol's); a ping the
    /// monitor's id, round and send time (20); a pong the target's id, the
    /// round, the echoed send time, its reply time and its incarnation (32).
    pub fn wire_bytes(&self) -> u32 {
        match self {
            Message::Heartbeat(_) => 24,
            Message::Ping(_) => 20,
            Message::Pong(_) => 32,
        }
    }
}

/// Who starts each exchange (`[heartbeat] style`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// Targets send heartbeats on their own timers.
    #[default]
    Push,
    /// Monitors ping targets on their timers; targets answer.
    Pull,
}

impl Style {
    /// The scenario-file name.
    pub fn name(self) -> &'static str {
        match self {
            Style::Push => "push",
            Style::Pull => "pull",
        }
    }
}

/// An arrival as logged by a monitor: the detector's view plus the true
/// time, which only the scorer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logged {
    pub arrival: Arrival,
    pub true_at: Nanos,
}

const SEND_TIMER: TimerKey = 0;

/// The heartbeat agent of one node.
#[derive(Clone, Debug)]
pub struct HeartbeatAgent {
    style: Style,
    /// Push: the monitors this node sends heartbeats to (empty if not a
    /// target). Pull: the targets this node pings (empty if not a monitor).
    peers: Vec<NodeId>,
    interval: Nanos,
    next_seq: u64,
    /// Whether this node logs arrivals (is a monitor).
    logs: bool,
    /// Arrival log per sender, indexed by node id.
    log: Vec<Vec<Logged>>,
    /// Local-to-true mapping of this node's clock, for the log.
    clock: crate::sim::Clock,
    /// Extra delay added to every period, drawn from the node's stream
    /// (a scheduler's timer jitter).
    jitter: Option<Latency>,
}

impl HeartbeatAgent {
    /// A push node that sends to `monitors` every `interval` and, if
    /// `logs`, records heartbeats from up to `node_count` senders.
    pub fn new(
        monitors: Vec<NodeId>,
        interval: Nanos,
        logs: bool,
        node_count: usize,
        clock: crate::sim::Clock,
    ) -> Self {
        HeartbeatAgent {
            style: Style::Push,
            peers: monitors,
            interval,
            next_seq: 0,
            logs,
            log: if logs {
                vec![Vec::new(); node_count]
            } else {
                Vec::new()
            },
            clock,
            jitter: None,
        }
    }

    /// A pull node: it pings `targets` every `interval` and logs their
    /// pongs (if `targets` is empty it only answers pings).
    pub fn pull(
        targets: Vec<NodeId>,
        interval: Nanos,
        node_count: usize,
        clock: crate::sim::Clock,
    ) -> Self {
        let logs = !targets.is_empty();
        HeartbeatAgent {
            style: Style::Pull,
            ..HeartbeatAgent::new(targets, interval, logs, node_count, clock)
        }
    }

    /// Adds timer jitter: every period is `interval` plus a draw from
    /// `jitter` (taken from this node's own random stream).
    pub fn with_jitter(mut self, jitter: Option<Latency>) -> Self {
        self.jitter = jitter;
        self
    }

    /// The arrivals this node logged from `sender`.
    pub fn arrivals_from(&self, sender: NodeId) -> &[Logged] {
        self.log.get(sender as usize).map_or(&[], Vec::as_slice)
    }

    /// The log of arrivals from `sender`, for a consumer that scores them
    /// as the run goes and clears it (keeping its capacity).
    pub fn log_mut(&mut self, sender: NodeId) -> Option<&mut Vec<Logged>> {
        self.log.get_mut(sender as usize)
    }

    /// How many arrivals from `sender` the log holds room for.
    pub fn log_capacity(&self, sender: NodeId) -> usize {
        self.log.get(sender as usize).map_or(0, Vec::capacity)
    }

    /// Takes the log of arrivals from `sender`, leaving it empty.
    pub fn take_arrivals(&mut self, sender: NodeId) -> Vec<Logged> {
        self.log
            .get_mut(sender as usize)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// One period: a heartbeat to every monitor (push) or a ping to every
    /// target (pull), then the timer for the next.
    #[inline]
    fn beat(&mut self, ctx: &mut Ctx<'_, Message>) {
        let (seq, now) = (self.next_seq, ctx.now());
        let msg = match self.style {
            Style::Push => Message::Heartbeat(Heartbeat {
                seq,
                sent: now,
                incarnation: ctx.incarnation(),
            }),
            Style::Pull => Message::Ping(Ping { seq, sent: now }),
        };
        self.next_seq += 1;
        for &peer in &self.peers {
            ctx.send(peer, msg);
        }
        let extra = match &self.jitter {
            Some(j) => j.sample(ctx.rng()),
            None => Nanos::ZERO,
        };
        ctx.set_timer(SEND_TIMER, self.interval + extra);
    }

    #[inline]
    fn record(&mut self, from: NodeId, arrival: Arrival) {
        self.log[from as usize].push(Logged {
            arrival,
            true_at: self.clock.true_time(arrival.at),
        });
    }
}

impl Agent for HeartbeatAgent {
    type Msg = Message;

    fn start(&mut self, ctx: &mut Ctx<'_, Message>) {
        self.next_seq = 0;
        if !self.peers.is_empty() {
            self.beat(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Message, ctx: &mut Ctx<'_, Message>) {
        match msg {
            Message::Ping(ping) => ctx.send(
                from,
                Message::Pong(Pong {
                    seq: ping.seq,
                    ping_sent: ping.sent,
                    replied: ctx.now(),
                    incarnation: ctx.incarnation(),
                }),
            ),
            _ if !self.logs => {}
            Message::Heartbeat(hb) => self.record(
                from,
                Arrival {
                    at: ctx.now(),
                    seq: hb.seq,
                    sent: hb.sent,
                    incarnation: hb.incarnation,
                },
            ),
            Message::Pong(pong) => self.record(
                from,
                Arrival {
                    at: ctx.now(),
                    seq: pong.seq,
                    sent: pong.ping_sent,
                    incarnation: pong.incarnation,
                },
            ),
        }
    }

    fn on_timer(&mut self, key: TimerKey, ctx: &mut Ctx<'_, Message>) {
        if key == SEND_TIMER {
            self.beat(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::agent::Effect;
    use crate::sim::rng::Stream;

    /// Runs one callback of `agent` at local time `now` and returns its effects.
    fn step(
        agent: &mut HeartbeatAgent,
        now: Nanos,
        incarnation: u32,
        f: impl FnOnce(&mut HeartbeatAgent, &mut Ctx<'_, Message>),
    ) -> Vec<Effect<Message>> {
        let mut rng = Stream::new(1, "test");
        let mut effects = Vec::new();
        let mut ctx = Ctx::new(now, 0, incarnation, &mut rng, &mut effects);
        f(agent, &mut ctx);
        effects
    }

    #[test]
    fn a_pull_monitor_pings_every_target_and_logs_pongs_with_its_own_send_time() {
        let clock = crate::sim::Clock::default();
        let mut m = HeartbeatAgent::pull(vec![1, 2], Nanos(100), 3, clock);
        let fx = step(&mut m, Nanos(0), 0, |a, c| a.start(c));
        let ping = Message::Ping(Ping {
            seq: 0,
            sent: Nanos(0),
        });
        assert_eq!(
            fx,
            vec![
                Effect::Send { to: 1, msg: ping },
                Effect::Send { to: 2, msg: ping },
                Effect::SetTimer {
                    key: SEND_TIMER,
                    after: Nanos(100)
                }
            ]
        );
        // A target at incarnation 2 whose clock reads 5000 answers at once.
        let mut t = HeartbeatAgent::pull(Vec::new(), Nanos(100), 3, clock);
        let fx = step(&mut t, Nanos(5_000), 2, |a, c| a.on_message(0, ping, c));
        let pong = Pong {
            seq: 0,
            ping_sent: Nanos(0),
            replied: Nanos(5_000),
            incarnation: 2,
        };
        assert_eq!(
            fx,
            vec![Effect::Send {
                to: 0,
                msg: Message::Pong(pong)
            }]
        );
        step(&mut m, Nanos(40), 0, |a, c| {
            a.on_message(1, Message::Pong(pong), c)
        });
        let want = Arrival {
            at: Nanos(40),
            seq: 0,
            sent: Nanos(0),
            incarnation: 2,
        };
        assert_eq!(m.arrivals_from(1)[0].arrival, want);
        assert!(t.arrivals_from(0).is_empty(), "a target logs nothing");
    }
}
