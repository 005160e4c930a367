//! The queue of updates a member piggybacks: each sent a limited number
//! of times, one per subject, packed into the bytes a packet has left
//! (memberlist `TransmitLimitedQueue.GetBroadcasts`).
//!
//! Priority is memberlist's: the least-transmitted tier first; within a
//! tier the largest update that still fits, then the newest. An update
//! that does not fit is skipped for a smaller one, and each update taken
//! costs its size plus [`COMPOUND_PART`] bytes of the compound message.

use super::msg::{Piggyback, Update};
use super::wire::COMPOUND_PART;
use std::cmp::Reverse;

#[derive(Clone, Copy, Debug)]
struct Entry {
    update: Update,
    /// Its encoded size (without the compound part).
    bytes: u32,
    transmits: u32,
    /// Queue order; a larger id is newer.
    id: u64,
}

impl Entry {
    /// memberlist's order: fewer transmits, then larger, then newer.
    fn priority(&self) -> (u32, Reverse<u32>, Reverse<u64>) {
        (self.transmits, Reverse(self.bytes), Reverse(self.id))
    }
}

/// Updates waiting to be piggybacked.
#[derive(Clone, Debug, Default)]
pub struct BroadcastQueue {
    entries: Vec<Entry>,
    next_id: u64,
}

impl BroadcastQueue {
    /// Queues `u`, encoded in `bytes`, replacing any queued update about
    /// the same subject (a newer opinion invalidates the older one, as
    /// memberlist's named broadcasts do).
    pub fn queue(&mut self, u: Update, bytes: u32) {
        self.entries.retain(|e| e.update.subject != u.subject);
        self.entries.push(Entry {
            update: u,
            bytes,
            transmits: 0,
            id: self.next_id,
        });
        self.next_id += 1;
    }

    /// Moves into `out` the updates that fit in `room` bytes, in priority
    /// order; each counts one transmission, and an update sent `limit`
    /// times leaves the queue. Returns the bytes used.
    pub fn fill(&mut self, out: &mut Piggyback, room: u32, limit: u32) -> u32 {
        if self.entries.is_empty() {
            return 0;
        }
        self.entries.sort_unstable_by_key(Entry::priority);
        let mut used = 0u32;
        for e in self.entries.iter_mut() {
            let free = room.saturating_sub(used + COMPOUND_PART);
            if free == 0 {
                break;
            }
            if e.bytes <= free {
                out.push(e.update);
                used += e.bytes + COMPOUND_PART;
                e.transmits += 1;
            }
        }
        self.entries.retain(|e| e.transmits < limit);
        used
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::super::msg::UpdateKind;
    use super::*;

    fn upd(subject: u32) -> Update {
        Update {
            kind: UpdateKind::Suspect,
            subject,
            incarnation: 0,
            from: 0,
        }
    }

    /// Fills a fresh piggyback from `q` with `room` bytes.
    fn take(q: &mut BroadcastQueue, room: u32, limit: u32) -> Vec<u32> {
        let mut p = Piggyback::default();
        q.fill(&mut p, room, limit);
        p.as_slice().iter().map(|u| u.subject).collect()
    }

    #[test]
    fn least_sent_then_newest_first_and_dropped_at_the_limit() {
        let mut q = BroadcastQueue::default();
        q.queue(upd(1), 50);
        q.queue(upd(2), 50);
        assert_eq!(take(&mut q, 60, 2), [2], "newest first");
        assert_eq!(take(&mut q, 60, 2), [1], "then the least sent");
        assert_eq!(take(&mut q, 1000, 2), [2, 1]);
        assert!(q.is_empty(), "both sent twice, the limit");
    }

    #[test]
    fn within_a_tier_the_largest_that_fits_goes_first_and_a_smaller_one_fills_the_gap() {
        let mut q = BroadcastQueue::default();
        q.queue(upd(1), 70);
        q.queue(upd(2), 40);
        q.queue(upd(3), 100);
        // 100 + 2 fits in 110; then 6 bytes are left, and nothing fits.
        assert_eq!(take(&mut q, 110, 9), [3]);
        // Tier 0 now holds 1 and 2: 70 + 2, then 40 does not fit in the
        // 38 left less its 2, so the tier-1 update is not reached either.
        assert_eq!(take(&mut q, 112, 9), [1]);
        // 2 (tier 0) first although it is the smallest and oldest.
        assert_eq!(take(&mut q, 44, 9), [2]);
    }

    #[test]
    fn a_new_update_replaces_the_queued_one_about_the_same_subject() {
        let mut q = BroadcastQueue::default();
        q.queue(upd(1), 59);
        q.queue(
            Update {
                kind: UpdateKind::Dead,
                ..upd(1)
            },
            59,
        );
        assert_eq!(q.len(), 1);
        let mut p = Piggyback::default();
        q.fill(&mut p, 1000, 3);
        assert_eq!(p.as_slice()[0].kind, UpdateKind::Dead);
    }
}
