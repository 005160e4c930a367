//! Push heartbeats: targets send sequence-numbered heartbeats to their
//! monitors every `interval`; monitors log what arrives.
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
    /// Monitors this node sends heartbeats to (empty if not a target).
    monitors: Vec<NodeId>,
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
    /// A node that sends to `monitors` every `interval` and, if `logs`,
    /// records heartbeats from up to `node_count` senders.
    pub fn new(
        monitors: Vec<NodeId>,
        interval: Nanos,
        logs: bool,
        node_count: usize,
        clock: crate::sim::Clock,
    ) -> Self {
        HeartbeatAgent {
            monitors,
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

    /// Takes the log of arrivals from `sender`, leaving it empty.
    pub fn take_arrivals(&mut self, sender: NodeId) -> Vec<Logged> {
        self.log
            .get_mut(sender as usize)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn beat(&mut self, ctx: &mut Ctx<'_, Heartbeat>) {
        let hb = Heartbeat {
            seq: self.next_seq,
            sent: ctx.now(),
            incarnation: ctx.incarnation(),
        };
        self.next_seq += 1;
        for &m in &self.monitors {
            ctx.send(m, hb);
        }
        let extra = match &self.jitter {
            Some(j) => j.sample(ctx.rng()),
            None => Nanos::ZERO,
        };
        ctx.set_timer(SEND_TIMER, self.interval + extra);
    }
}

impl Agent for HeartbeatAgent {
    type Msg = Heartbeat;

    fn start(&mut self, ctx: &mut Ctx<'_, Heartbeat>) {
        self.next_seq = 0;
        if !self.monitors.is_empty() {
            self.beat(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Heartbeat, ctx: &mut Ctx<'_, Heartbeat>) {
        if !self.logs {
            return;
        }
        let local = ctx.now();
        self.log[from as usize].push(Logged {
            arrival: Arrival {
                at: local,
                seq: msg.seq,
                sent: msg.sent,
                incarnation: msg.incarnation,
            },
            true_at: self.clock.true_time(local),
        });
    }

    fn on_timer(&mut self, key: TimerKey, ctx: &mut Ctx<'_, Heartbeat>) {
        if key == SEND_TIMER {
            self.beat(ctx);
        }
    }
}
