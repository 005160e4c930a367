//! The event queue: a binary heap ordered by (time, insertion sequence).
//!
//! Payloads live in a slab so the heap moves only 16-byte keys while it
//! sifts. Two events at the same time pop in the order they were pushed,
//! which is the stable tie-break rule that makes runs reproducible.

use super::time::Nanos;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Bits of [`Key::order`] that hold the payload's slab slot; the rest hold
/// the insertion sequence number. 2^24 pending events and 2^40 events in
/// a run are far beyond any scenario fdsim runs; both are checked.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
const MAX_SEQ: u64 = (1 << (64 - SLOT_BITS)) - 1;

/// 16 bytes: the time, then the sequence number and slot packed so that
/// comparing `order` compares sequence numbers (slots are unique, and the
/// sequence number sits in the high bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    time: u64,
    order: u64,
}

impl Key {
    fn slot(self) -> usize {
        (self.order & SLOT_MASK) as usize
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first.
        (other.time, other.order).cmp(&(self.time, self.order))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A priority queue of events of type `E`, earliest first, ties broken by
/// insertion order.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Key>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(cap: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(cap),
            slab: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`. Returns the insertion sequence number.
    pub fn push(&mut self, time: Nanos, event: E) -> u64 {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        let seq = self.next_seq;
        assert!(seq <= MAX_SEQ, "more than 2^40 events in one run");
        assert!(
            u64::from(slot) <= SLOT_MASK,
            "more than 2^24 pending events"
        );
        self.next_seq += 1;
        self.heap.push(Key {
            time: time.0,
            order: (seq << SLOT_BITS) | u64::from(slot),
        });
        seq
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let key = self.heap.pop()?;
        let slot = key.slot();
        let event = self.slab[slot].take().expect("queue slot holds an event");
        self.free.push(slot as u32);
        Some((Nanos(key.time), event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|k| Nanos(k.time))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Removes every pending event, returning them in pop order.
    pub fn drain_ordered(&mut self) -> Vec<(Nanos, E)> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(item) = self.pop() {
            out.push(item);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(Nanos(5), 'a');
        q.push(Nanos(3), 'b');
        q.push(Nanos(5), 'c');
        q.push(Nanos(3), 'd');
        let order: Vec<char> = q.drain_ordered().into_iter().map(|(_, e)| e).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    proptest! {
        #[test]
        fn pops_sorted_by_time_then_sequence(times in proptest::collection::vec(0u64..50, 0..200)) {
            let mut q = EventQueue::new();
            for (i, t) in times.iter().enumerate() {
                q.push(Nanos(*t), i);
            }
            let popped = q.drain_ordered();
            let mut expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
            expected.sort();
            let got: Vec<(u64, usize)> = popped.into_iter().map(|(t, i)| (t.0, i)).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
