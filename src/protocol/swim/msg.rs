//! SWIM messages: ping, ack, ping-req, nack and gossip, each carrying its
//! piggybacked membership updates out of line in a [`Piggyback`] whose
//! buffer comes from the sending member's [`PiggybackPool`] and returns to
//! the receiving member's, so a message is a few words to move and, once
//! the pools have warmed up, sending one allocates nothing; and the
//! push-pull state exchange, which carries a member's whole view (as
//! what differs from the view members share, allocated once per
//! exchange).

use super::view::Snapshot;
use crate::sim::NodeId;
use std::sync::Arc;

/// What an update says about its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UpdateKind {
    /// The subject is alive at this incarnation (a refutation, or a
    /// member coming back).
    Alive,
    /// `from` suspects the subject at this incarnation.
    Suspect,
    /// `from` declared the subject dead at this incarnation.
    Dead,
}

/// One piggybacked membership update (SWIM's infection-style
/// dissemination; memberlist's `alive`, `suspect` and `dead` messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    pub kind: UpdateKind,
    pub subject: NodeId,
    pub incarnation: u32,
    /// Who raised it: the accuser of a suspicion, counted once towards
    /// Lifeguard's confirmations; the subject itself for `Alive`.
    pub from: NodeId,
}

#[cfg(test)]
const EMPTY: Update = Update {
    kind: UpdateKind::Alive,
    subject: 0,
    incarnation: 0,
    from: 0,
};

/// The updates a message carries, in a buffer out of line: a message
/// moves 24 bytes, not its updates. How many fit is a matter of bytes
/// (the sender's [`super::WireModel`]), not of slots.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Piggyback {
    items: Vec<Update>,
}

impl std::fmt::Debug for Piggyback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Piggyback {
    pub fn push(&mut self, u: Update) {
        self.items.push(u);
    }

    pub fn as_slice(&self) -> &[Update] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Spare piggyback buffers of one member: a message takes one when it is
/// built and the member that receives it keeps the buffer for its own
/// messages, so buffers circulate instead of being allocated and freed.
/// At most [`PiggybackPool::KEEP`] are kept, so a member holds O(1) of
/// them whatever the cluster size.
#[derive(Clone, Debug, Default)]
pub struct PiggybackPool {
    spare: Vec<Vec<Update>>,
}

impl PiggybackPool {
    /// Spare buffers kept per member; the rest are freed.
    pub const KEEP: usize = 4;

    /// An empty piggyback, on a spare buffer when there is one.
    pub fn take(&mut self) -> Piggyback {
        Piggyback {
            items: self.spare.pop().unwrap_or_default(),
        }
    }

    /// Keeps the buffer of a piggyback that has been read.
    pub fn give(&mut self, p: Piggyback) {
        let mut items = p.items;
        if items.capacity() > 0 && self.spare.len() < Self::KEEP {
            items.clear();
            self.spare.push(items);
        }
    }

    /// Spare buffers held now.
    pub fn len(&self) -> usize {
        self.spare.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spare.is_empty()
    }
}

/// The message types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Are you alive? Answered by an ack with the same `seq`.
    Ping,
    /// Answer to the ping `seq` (from the target, or relayed by a helper
    /// with the prober's `seq`).
    Ack,
    /// Please ping `target` for me and relay its ack (`seq` is mine).
    PingReq,
    /// Lifeguard: the helper got no ack from the target within the probe
    /// timeout (`seq` is the prober's).
    Nack,
    /// Only piggybacked updates (memberlist's gossip round).
    Gossip,
    /// The sender's whole view, to be merged; the receiver answers with
    /// its own (memberlist's push-pull, also its join).
    PushPull,
    /// The answer to a `PushPull`: the receiver's view before the merge.
    PushPullReply,
}

/// A SWIM message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwimMsg {
    pub kind: Kind,
    pub seq: u32,
    /// The member to ping (`PingReq`), or the member pinged (`Ping`).
    pub target: NodeId,
    pub updates: Piggyback,
    /// `PushPull` and `PushPullReply`: the sender's view, one record per
    /// member it knows (its incarnation and the sender's verdict), held
    /// as the records where it differs from the view members share.
    pub state: Option<Arc<Snapshot>>,
    /// Its size on the wire, set by the sender when it sends it (by its
    /// [`super::WireModel`]); 0 until then.
    pub bytes: u32,
}

impl SwimMsg {
    pub fn new(kind: Kind, seq: u32, target: NodeId) -> Self {
        SwimMsg {
            kind,
            seq,
            target,
            updates: Piggyback::default(),
            state: None,
            bytes: 0,
        }
    }

    /// Push-pull goes over TCP (a stream, with no packet budget), the
    /// rest over UDP.
    pub fn over_tcp(&self) -> bool {
        matches!(self.kind, Kind::PushPull | Kind::PushPullReply)
    }

    /// Records in the push-pull state (0 for the other kinds).
    pub fn state_len(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_a_few_words_whatever_it_carries() {
        assert!(std::mem::size_of::<SwimMsg>() <= 64);
    }

    #[test]
    fn a_pool_reuses_buffers_and_keeps_a_bounded_number() {
        let mut pool = PiggybackPool::default();
        let mut p = pool.take();
        p.push(EMPTY);
        let buffer = p.as_slice().as_ptr();
        pool.give(p);
        let q = pool.take();
        assert!(q.is_empty());
        assert_eq!(q.items.as_ptr(), buffer, "the same buffer, not a new one");
        for _ in 0..10 {
            let mut p = Piggyback::default();
            p.push(EMPTY);
            pool.give(p);
        }
        assert_eq!(pool.len(), PiggybackPool::KEEP);
        pool.give(Piggyback::default());
        assert_eq!(
            pool.len(),
            PiggybackPool::KEEP,
            "an unallocated buffer is not kept"
        );
    }
}
