//! What membership protocols report: each member's changing opinion of
//! the others, as a log the cluster metrics score against the ground truth.

use crate::sim::{Nanos, NodeId};

/// One member's opinion of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Believed alive (initial state; also after a refutation or rejoin).
    Alive,
    /// Suspected: not yet declared dead.
    Suspect,
    /// Declared dead (failed, confirmed, removed).
    Dead,
    /// Left the cluster gracefully, or not known to be a member (one that
    /// joins later, before this observer hears of it). Not a failure: the
    /// cluster metrics never count it as a detection or a mistake.
    Left,
}

/// `observer` changed its opinion of `subject` to `verdict` at local time
/// `at` of the observer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MembershipEvent {
    pub at: Nanos,
    pub observer: NodeId,
    pub subject: NodeId,
    pub verdict: Verdict,
}

/// A protocol agent that keeps a log of its opinion changes.
pub trait Membership: crate::sim::agent::Agent {
    /// Takes the events logged so far (the log is left empty).
    fn take_events(&mut self) -> Vec<MembershipEvent>;
    /// Wire size in bytes of a message, for load metrics.
    fn wire_bytes(msg: &Self::Msg) -> u32;
    /// Whether the message goes over a stream (TCP) rather than as a
    /// datagram (UDP); the load metrics split the bytes by it.
    fn over_stream(_msg: &Self::Msg) -> bool {
        false
    }
}
