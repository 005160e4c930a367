//! The event queue: events ordered by (time, insertion sequence).
//!
//! Payloads live in a slab, and the order is kept on 16-byte keys in two
//! structures merged at every pop by the same rule: a 4-ary heap, and a
//! few FIFO *lanes*, each holding events pushed with one fixed delay
//! ([`EventQueue::push_after`]). Events pushed `d` after a time that never
//! goes backwards come due in the order they were pushed, so a lane is
//! sorted without sifting: the periodic timers of a protocol (a probe
//! every second, a timeout 500 ms after each probe) cost O(1) each instead
//! of a heap push and pop. Two events at the same time pop in the order
//! they were pushed, whichever structure holds them, which is the stable
//! tie-break rule that makes runs reproducible.

use super::time::Nanos;
use std::collections::VecDeque;

/// Lanes a queue keeps; a delay that finds none free goes to the heap.
const LANES: usize = 8;

/// Slab size from which a pop prefetches the next event's slot: a
/// quarter of a typical L2 cache.
const PREFETCH_FROM_BYTES: usize = 256 << 10;

/// Bits of [`Key::order`] that hold the payload's slab slot at first; the
/// rest hold the insertion sequence number. The queue never refuses an
/// event: when the slab outgrows the slot bits, or the sequence numbers
/// outgrow the rest, the pending keys are renumbered (see
/// [`EventQueue::renumber`]), which keeps their order, so pop order is
/// exactly what it would have been with unbounded numbers.
const SLOT_BITS: u32 = 24;

/// 16 bytes: the time, then the sequence number and slot packed so that
/// comparing `order` compares sequence numbers (slots are unique, and the
/// sequence number sits in the high bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    time: u64,
    order: u64,
}

impl Key {
    fn slot(self, mask: u64) -> usize {
        (self.order & mask) as usize
    }

    /// The key as one number: comparing ranks compares (time, order).
    #[inline]
    fn rank(self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.order)
    }

    #[inline]
    fn from_rank(rank: u128) -> Key {
        Key {
            time: (rank >> 64) as u64,
            order: rank as u64,
        }
    }

    /// Due first: the earlier time, then the earlier push.
    fn before(self, other: Key) -> bool {
        self.rank() < other.rank()
    }
}

/// A min-heap of ranks with four children per node: half the depth of a
/// binary heap, the four children of a node side by side in one 64-byte
/// line, and the smallest child found with comparisons of whole 128-bit
/// numbers, which compile to selects rather than branches.
///
/// A pop leaves its slot at the root empty until the next operation: a
/// simulation nearly always schedules an event right after handling one,
/// and that push then fills the root and sifts down once, where a pop and
/// a push would each walk the heap. Any other next operation removes the
/// root first; a peek in between reads the root's children.
#[derive(Debug, Default)]
struct Heap {
    v: Vec<u128>,
    /// `v[0]` has been popped and waits for the next push to fill it.
    hole: bool,
}

impl Heap {
    fn with_capacity(cap: usize) -> Heap {
        Heap {
            v: Vec::with_capacity(cap),
            hole: false,
        }
    }

    fn len(&self) -> usize {
        self.v.len() - usize::from(self.hole)
    }

    #[inline]
    fn peek(&self) -> Option<u128> {
        if self.hole {
            // The smallest child of the popped root is the next minimum.
            self.v.get(1..5.min(self.v.len()))?.iter().min().copied()
        } else {
            self.v.first().copied()
        }
    }

    #[inline]
    fn push(&mut self, rank: u128) {
        if self.hole {
            self.hole = false;
            self.sift_down(0, rank);
            return;
        }
        self.v.push(rank);
        let last = self.v.len() - 1;
        self.sift_up(last, rank);
    }

    /// Puts `rank` at hole `i` or above it, moving larger parents down.
    #[inline]
    fn sift_up(&mut self, mut i: usize, rank: u128) {
        while i > 0 {
            let parent = (i - 1) / 4;
            let p = self.v[parent];
            if p <= rank {
                break;
            }
            self.v[i] = p;
            i = parent;
        }
        self.v[i] = rank;
    }

    /// Puts `rank` at hole `i` or below it, moving smaller children up.
    #[inline]
    fn sift_down(&mut self, mut i: usize, rank: u128) {
        let n = self.v.len();
        loop {
            let first = 4 * i + 1;
            let (m, k) = if first + 3 < n {
                let c = &self.v[first..first + 4];
                let (a, ia) = if c[1] < c[0] { (c[1], 1) } else { (c[0], 0) };
                let (b, ib) = if c[3] < c[2] { (c[3], 3) } else { (c[2], 2) };
                let (m, im) = if b < a { (b, ib) } else { (a, ia) };
                (m, first + im)
            } else {
                match (first..n).min_by_key(|&k| self.v[k]) {
                    Some(k) => (self.v[k], k),
                    None => break,
                }
            };
            if rank <= m {
                break;
            }
            self.v[i] = m;
            i = k;
        }
        self.v[i] = rank;
    }

    /// Removes the root left empty by the last pop.
    #[inline]
    fn settle(&mut self) {
        if std::mem::take(&mut self.hole) {
            let last = self.v.pop().expect("a popped root is in the heap");
            if !self.v.is_empty() {
                self.sift_down(0, last);
            }
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<u128> {
        self.settle();
        let top = *self.v.first()?;
        self.hole = true;
        Some(top)
    }

    fn iter(&self) -> impl Iterator<Item = u128> + '_ {
        self.v.iter().skip(usize::from(self.hole)).copied()
    }

    /// A heap of `ranks`, any order.
    fn from_vec(mut ranks: Vec<u128>) -> Heap {
        // A sorted array is a heap.
        ranks.sort_unstable();
        Heap {
            v: ranks,
            hole: false,
        }
    }

    fn into_vec(mut self) -> Vec<u128> {
        self.settle();
        self.v
    }
}

/// Events pushed with one delay, due in push order.
#[derive(Debug, Default)]
struct Lane {
    delay: u64,
    keys: VecDeque<Key>,
    /// Latest push time; pushes must not go back before it.
    last_now: u64,
}

/// Where the next event to pop is.
#[derive(Clone, Copy)]
enum Source {
    Heap,
    Lane(usize),
}

/// A priority queue of events of type `E`, earliest first, ties broken by
/// insertion order.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: Heap,
    lanes: Vec<Lane>,
    slab: Vec<Option<E>>,
    free: Vec<usize>,
    next_seq: u64,
    /// Bits of [`Key::order`] holding the slot; [`SLOT_BITS`] until the
    /// slab outgrows them.
    slot_bits: u32,
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
            heap: Heap::with_capacity(cap),
            lanes: Vec::new(),
            slab: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            next_seq: 0,
            slot_bits: SLOT_BITS,
        }
    }

    /// Schedules `event` at `time`. Returns the insertion sequence number
    /// (it restarts from the number of pending events after a renumbering,
    /// which happens at most once per 2^32 events in practice).
    #[inline]
    pub fn push(&mut self, time: Nanos, event: E) -> u64 {
        let key = self.store(time, event);
        self.heap.push(key.rank());
        key.order >> self.slot_bits
    }

    /// Schedules `event` at `now + delay`, where `now` is the caller's
    /// clock, which must never go backwards from one call to the next.
    /// Events with the same delay share a FIFO lane when one is free (the
    /// order is the same as through [`EventQueue::push`]; only the cost
    /// differs). Returns the insertion sequence number.
    #[inline]
    pub fn push_after(&mut self, now: Nanos, delay: Nanos, event: E) -> u64 {
        let key = self.store(now + delay, event);
        match self.lane_for(now.0, delay.0) {
            Some(i) => {
                let lane = &mut self.lanes[i];
                debug_assert!(lane.keys.back().is_none_or(|b| b.before(key)));
                lane.last_now = now.0;
                lane.keys.push_back(key);
            }
            None => self.heap.push(key.rank()),
        }
        key.order >> self.slot_bits
    }

    /// The lane of `delay`, or a free one to take it, or none; a push at
    /// `now` must not precede the lane's last one.
    #[inline]
    fn lane_for(&mut self, now: u64, delay: u64) -> Option<usize> {
        if let Some(i) = self.lanes.iter().position(|l| l.delay == delay) {
            return (self.lanes[i].last_now <= now).then_some(i);
        }
        let free = match self.lanes.iter().position(|l| l.keys.is_empty()) {
            Some(i) => i,
            None if self.lanes.len() < LANES => {
                self.lanes.push(Lane::default());
                self.lanes.len() - 1
            }
            None => return None,
        };
        let lane = &mut self.lanes[free];
        lane.delay = delay;
        lane.last_now = now;
        Some(free)
    }

    /// Puts `event` in the slab and makes its key.
    #[inline]
    fn store(&mut self, time: Nanos, event: E) -> Key {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot] = Some(event);
                slot
            }
            None => {
                self.slab.push(Some(event));
                self.slab.len() - 1
            }
        };
        if slot as u64 > self.slot_mask() || self.next_seq > self.max_seq() {
            self.renumber(slot);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        Key {
            time: time.0,
            order: (seq << self.slot_bits) | slot as u64,
        }
    }

    fn slot_mask(&self) -> u64 {
        (1 << self.slot_bits) - 1
    }

    fn max_seq(&self) -> u64 {
        (1 << (64 - self.slot_bits)) - 1
    }

    /// Makes room for `slot` and for more sequence numbers: widens the
    /// slot bits if `slot` needs it, and gives the pending keys, in the
    /// heap and in the lanes, the sequence numbers 0, 1, … in insertion
    /// order. Ties between equal times are still broken by insertion
    /// order, and every lane stays sorted, since renumbering keeps the
    /// relative order of every pending key. Costs O(n log n) once per
    /// doubling of the pending events, or once per 2^(64 − slot bits)
    /// insertions.
    #[cold]
    fn renumber(&mut self, slot: usize) {
        let old_mask = self.slot_mask();
        while slot as u64 > self.slot_mask() {
            self.slot_bits += 1;
        }
        // Sequence numbers are unique and sit in the high bits: sorting the
        // old orders sorts by insertion, and a key's rank is its new number.
        let mut orders: Vec<u64> = self.heap.iter().map(|r| Key::from_rank(r).order).collect();
        for lane in &self.lanes {
            orders.extend(lane.keys.iter().map(|k| k.order));
        }
        orders.sort_unstable();
        let mut keys: Vec<Key> = (std::mem::take(&mut self.heap).into_vec())
            .into_iter()
            .map(Key::from_rank)
            .collect();
        let lane_keys = self.lanes.iter_mut().flat_map(|l| l.keys.iter_mut());
        for key in keys.iter_mut().chain(lane_keys) {
            let seq = orders.binary_search(&key.order).expect("a pending key") as u64;
            key.order = (seq << self.slot_bits) | (key.order & old_mask);
        }
        self.next_seq = orders.len() as u64;
        assert!(
            self.next_seq <= self.max_seq(),
            "the event queue cannot number 2^{} pending events",
            64 - self.slot_bits
        );
        self.heap = Heap::from_vec(keys.into_iter().map(Key::rank).collect());
    }

    /// The earliest key and where it is.
    #[inline(always)]
    fn earliest(&self) -> Option<(Key, Source)> {
        let mut best = self.heap.peek().map(|r| (Key::from_rank(r), Source::Heap));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(&k) = lane.keys.front() {
                if best.is_none_or(|(b, _)| k.before(b)) {
                    best = Some((k, Source::Lane(i)));
                }
            }
        }
        best
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let (key, source) = self.earliest()?;
        Some(self.take(key, source))
    }

    /// Removes and returns the earliest event if it is due before `end`.
    #[inline(always)]
    pub fn pop_before(&mut self, end: Nanos) -> Option<(Nanos, E)> {
        let (key, source) = self.earliest()?;
        (key.time < end.0).then(|| self.take(key, source))
    }

    #[inline(always)]
    fn take(&mut self, key: Key, source: Source) -> (Nanos, E) {
        match source {
            Source::Heap => {
                self.heap.pop();
            }
            Source::Lane(i) => {
                self.lanes[i].keys.pop_front();
            }
        }
        let slot = key.slot(self.slot_mask());
        let event = self.slab[slot].take().expect("queue slot holds an event");
        self.free.push(slot);
        self.prefetch_next();
        (Nanos(key.time), event)
    }

    /// Asks the processor to fetch the slab slot of the event that is now
    /// earliest, so that it arrives while the caller handles this one: with
    /// tens of thousands of pending events the slot was written long ago
    /// and is out of the caches, and its load was the dearest of a pop.
    /// Only a hint; the order of events is untouched.
    #[inline(always)]
    fn prefetch_next(&self) {
        // A slab of a few hundred kilobytes stays in the caches anyway, and
        // the look for the earliest key is not free.
        if self.slab.len() * std::mem::size_of::<Option<E>>() >= PREFETCH_FROM_BYTES {
            if let Some((key, _)) = self.earliest() {
                if let Some(event) = self.slab.get(key.slot(self.slot_mask())) {
                    crate::sim::prefetch::prefetch(event);
                }
            }
        }
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<Nanos> {
        self.earliest().map(|(k, _)| Nanos(k.time))
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.keys.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// A queue large enough to prefetch (see [`PREFETCH_FROM_BYTES`]) pops
    /// in the same order: time, then insertion, with pushes and pops
    /// interleaved the way a simulation makes them.
    #[test]
    fn a_queue_that_prefetches_pops_in_order() {
        let mut q = EventQueue::new();
        let n = 2 * PREFETCH_FROM_BYTES / std::mem::size_of::<Option<(u64, u64)>>();
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % 1_000
        };
        for i in 0..n as u64 {
            let t = next();
            q.push(Nanos(t), (t, i));
        }
        let mut last = (0, 0);
        for i in n as u64..3 * n as u64 {
            let (t, (time, seq)) = q.pop().unwrap();
            assert_eq!(t.0, time);
            assert!((time, seq) > last, "{last:?} then {:?}", (time, seq));
            last = (time, seq);
            let later = time + next();
            q.push(Nanos(later), (later, i));
        }
    }

    /// A queue whose keys hold only `bits` bits of slot, so that growing
    /// past them and renumbering happen in a small test.
    fn narrow(bits: u32) -> EventQueue<usize> {
        let mut q = EventQueue::new();
        q.slot_bits = bits;
        q
    }

    #[test]
    fn more_pending_events_than_the_slot_bits_hold_widen_them_in_order() {
        let mut q = narrow(2);
        let times = [9u64, 3, 3, 7, 1, 3, 9, 0, 3, 5, 1];
        for (i, &t) in times.iter().enumerate() {
            q.push(Nanos(t), i);
        }
        assert!(q.slot_bits > 2, "the slot bits grew");
        let got: Vec<(u64, usize)> = q
            .drain_ordered()
            .into_iter()
            .map(|(t, i)| (t.0, i))
            .collect();
        let mut want: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
        want.sort();
        assert_eq!(got, want);
    }

    proptest! {
        /// Renumbering, forced often by a tiny sequence space, never
        /// changes the pop order from (time, insertion), whether the
        /// pending keys sit in the heap or in lanes.
        #[test]
        fn renumbering_keeps_time_then_insertion_order(
            ops in proptest::collection::vec((0u64..20, 0u8..4, 0usize..12), 0..1000)
        ) {
            let delays = [0u64, 5, 7, 10, 13, 20, 21, 30, 31, 40, 50, 64];
            let mut q = narrow(56); // 8 bits of sequence: renumbers every few hundred pushes
            let mut model: Vec<(u64, usize)> = Vec::new();
            let mut now = 0u64;
            for (i, (t, op, d)) in ops.into_iter().enumerate() {
                match op {
                    0 | 1 => {
                        model.sort();
                        let want = (!model.is_empty()).then(|| model.remove(0));
                        let got = q.pop().map(|(t, i)| (t.0, i));
                        prop_assert_eq!(got, want);
                        if let Some((t, _)) = got {
                            now = now.max(t);
                        }
                    }
                    2 => {
                        q.push(Nanos(now + t), i);
                        model.push((now + t, i));
                    }
                    _ => {
                        q.push_after(Nanos(now), Nanos(delays[d]), i);
                        model.push((now + delays[d], i));
                    }
                }
            }
        }

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

        /// Pushes at a clock that moves forward, with delays from a small
        /// set (so lanes fill, overflow to the heap and are reused) or
        /// through the heap, interleaved with pops: the pop order is the
        /// heap's own (time, then push order) whichever way each went in.
        #[test]
        fn lanes_pop_in_the_same_order_as_the_heap(
            ops in proptest::collection::vec((0u64..4, 0usize..12, proptest::bool::ANY, 0u8..3), 0..400)
        ) {
            let delays = [0u64, 5, 7, 10, 13, 20, 21, 30, 31, 40, 50, 64];
            let mut q = EventQueue::new();
            let mut reference = EventQueue::new();
            let mut now = 0u64;
            for (id, (step, d, lane, pops)) in ops.into_iter().enumerate() {
                now += step;
                let at = Nanos(now + delays[d]);
                if lane {
                    q.push_after(Nanos(now), Nanos(delays[d]), id);
                } else {
                    q.push(at, id);
                }
                reference.push(at, id);
                for _ in 0..pops {
                    prop_assert_eq!(q.peek_time(), reference.peek_time());
                    prop_assert_eq!(q.pop(), reference.pop());
                }
                prop_assert_eq!(q.len(), reference.len());
            }
            prop_assert_eq!(q.drain_ordered(), reference.drain_ordered());
        }
    }

    #[test]
    fn more_delays_than_lanes_overflow_to_the_heap_in_order() {
        let mut q = EventQueue::new();
        for d in (0..3 * LANES as u64).rev() {
            q.push_after(Nanos(1), Nanos(d), d);
        }
        let got: Vec<u64> = q.drain_ordered().into_iter().map(|(_, e)| e).collect();
        assert_eq!(got, (0..3 * LANES as u64).collect::<Vec<_>>());
        assert!(q.is_empty());
    }
}
