//! The queue of updates a member piggybacks: each sent a limited number
//! of times, the least-sent (then the newest) first, one per subject
//! (memberlist `TransmitLimitedQueue`).

use super::msg::{Piggyback, Update};

#[derive(Clone, Copy, Debug)]
struct Entry {
    update: Update,
    transmits: u32,
    /// Queue order; a larger id is newer.
    id: u64,
}

/// Updates waiting to be piggybacked.
#[derive(Clone, Debug, Default)]
pub struct BroadcastQueue {
    entries: Vec<Entry>,
    next_id: u64,
}

impl BroadcastQueue {
    /// Queues `u`, replacing any queued update about the same subject (a
    /// newer opinion invalidates the older one, as memberlist's named
    /// broadcasts do).
    pub fn queue(&mut self, u: Update) {
        self.entries.retain(|e| e.update.subject != u.subject);
        self.entries.push(Entry {
            update: u,
            transmits: 0,
            id: self.next_id,
        });
        self.next_id += 1;
    }

    /// Moves up to `max` updates into `out` (as room allows), the least
    /// transmitted first and the newest first among equals; each counts
    /// one transmission, and an update sent `limit` times leaves the queue.
    pub fn fill(&mut self, out: &mut Piggyback, max: usize, limit: u32) {
        if self.entries.is_empty() {
            return;
        }
        self.entries
            .sort_unstable_by_key(|e| (e.transmits, std::cmp::Reverse(e.id)));
        let room = max.saturating_sub(out.len());
        for e in self.entries.iter_mut().take(room) {
            if !out.push(e.update) {
                break;
            }
            e.transmits += 1;
        }
        self.entries.retain(|e| e.transmits < limit);
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

    #[test]
    fn least_sent_then_newest_first_and_dropped_at_the_limit() {
        let mut q = BroadcastQueue::default();
        q.queue(upd(1));
        q.queue(upd(2));
        let mut p = Piggyback::default();
        q.fill(&mut p, 1, 2);
        assert_eq!(p.as_slice(), &[upd(2)], "newest first");
        let mut p = Piggyback::default();
        q.fill(&mut p, 1, 2);
        assert_eq!(p.as_slice(), &[upd(1)], "then the least sent");
        let mut p = Piggyback::default();
        q.fill(&mut p, 8, 2);
        assert_eq!(p.len(), 2);
        assert!(q.is_empty(), "both sent twice, the limit");
    }

    #[test]
    fn a_new_update_replaces_the_queued_one_about_the_same_subject() {
        let mut q = BroadcastQueue::default();
        q.queue(upd(1));
        q.queue(Update {
            kind: UpdateKind::Dead,
            ..upd(1)
        });
        assert_eq!(q.len(), 1);
        let mut p = Piggyback::default();
        q.fill(&mut p, 8, 3);
        assert_eq!(p.as_slice()[0].kind, UpdateKind::Dead);
    }
}
