//! Sans-I/O agents: what runs on a node.
//!
//! An agent never reads a clock, a socket or a global RNG. The engine hands
//! it an event together with a [`Ctx`] that carries the node's local time,
//! the node's own random stream and a buffer for effects; the agent answers
//! by pushing effects (send a message, set or cancel a timer) into that
//! buffer, and the engine carries them out. Heartbeat senders, monitors and
//! membership protocols are all agents; the engine knows none of them.

use super::rng::Stream;
use super::time::Nanos;

/// Index of a node in the simulation (its position in the scenario).
pub type NodeId = u32;

/// An agent-chosen timer name. Setting a timer with a key that is already
/// pending replaces it; cancelling a key that is not pending does nothing.
pub type TimerKey = u32;

/// What an agent asks the engine to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<M> {
    /// Send `msg` to node `to` over the network.
    Send { to: NodeId, msg: M },
    /// Fire `key` after `after` of the node's local time.
    SetTimer { key: TimerKey, after: Nanos },
    /// Forget the pending timer `key`, if any.
    CancelTimer { key: TimerKey },
}

/// The view an agent gets of the world while it handles one event.
pub struct Ctx<'a, M> {
    now: Nanos,
    node: NodeId,
    incarnation: u32,
    rng: &'a mut Stream,
    effects: &'a mut Vec<Effect<M>>,
}

impl<'a, M> Ctx<'a, M> {
    /// Builds a context; the engine does this, and so can unit tests of agents.
    pub fn new(
        now: Nanos,
        node: NodeId,
        incarnation: u32,
        rng: &'a mut Stream,
        effects: &'a mut Vec<Effect<M>>,
    ) -> Self {
        Ctx {
            now,
            node,
            incarnation,
            rng,
            effects,
        }
    }

    /// The node's local clock reading.
    pub fn now(&self) -> Nanos {
        self.now
    }
    /// This node's id.
    pub fn node(&self) -> NodeId {
        self.node
    }
    /// Incarnation number: 0 at the start, +1 at each restart.
    pub fn incarnation(&self) -> u32 {
        self.incarnation
    }
    /// The node's own random stream.
    pub fn rng(&mut self) -> &mut Stream {
        self.rng
    }
    pub fn send(&mut self, to: NodeId, msg: M) {
        self.effects.push(Effect::Send { to, msg });
    }
    pub fn set_timer(&mut self, key: TimerKey, after: Nanos) {
        self.effects.push(Effect::SetTimer { key, after });
    }
    pub fn cancel_timer(&mut self, key: TimerKey) {
        self.effects.push(Effect::CancelTimer { key });
    }
}

/// A node's behaviour, driven by the engine.
pub trait Agent {
    /// The message type the agent exchanges with its peers.
    type Msg: Clone;

    /// Called when the node starts: at time zero and after every restart
    /// (with a new incarnation). The agent must forget volatile state here;
    /// all its timers were already dropped by the crash.
    fn start(&mut self, ctx: &mut Ctx<'_, Self::Msg>);

    /// Called for every message delivered to the node while it is up.
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, Self::Msg>);

    /// Called when a timer set by this incarnation fires.
    fn on_timer(&mut self, key: TimerKey, ctx: &mut Ctx<'_, Self::Msg>);

    /// Called when the node is told to leave the cluster gracefully (a
    /// `leave` fault); the engine stops it later. By default nothing
    /// happens: the node just stops, as if it had crashed.
    fn on_leave(&mut self, _ctx: &mut Ctx<'_, Self::Msg>) {}
}
