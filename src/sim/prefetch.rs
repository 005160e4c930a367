//! Cache hints for state that an event is about to need.
//!
//! With thousands of nodes, each event touches a few kilobytes scattered
//! over megabytes (the node, its random stream, its queue slot); most of
//! a large run's time is spent waiting for those lines. Asking for a line
//! before the code that reads it lets the wait overlap other work. A hint
//! changes no value, so it cannot change any output.

/// Asks the processor to bring every cache line of `value` into the
/// caches. A no-op on targets other than x86_64.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    prefetch_bytes((value as *const T).cast(), std::mem::size_of::<T>());
}

/// The same for the `len` bytes from `start`, which need not be valid:
/// a prefetch never faults.
#[inline(always)]
pub fn prefetch_bytes(start: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        if len == 0 {
            return;
        }
        const LINE: usize = 64;
        let offset = start as usize % LINE;
        let lines = (offset + len).div_ceil(LINE);
        let first = (start as usize).wrapping_sub(offset);
        for i in 0..lines {
            let line = first.wrapping_add(i * LINE);
            // SAFETY: SSE is part of every x86_64 target, and a prefetch
            // neither faults nor changes memory, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line as *const i8) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_never_faults_and_changes_nothing() {
        let v: Vec<u64> = (0..1_000).collect();
        prefetch(&v[17]);
        prefetch(&v);
        prefetch_bytes(v.as_ptr().cast(), 8_000);
        // Addresses that could not be read: a prefetch must ignore them.
        prefetch_bytes(std::ptr::null(), 4_096);
        prefetch_bytes(usize::MAX as *const u8, 1);
        prefetch_bytes((usize::MAX - 10) as *const u8, 200);
        prefetch_bytes(std::ptr::null(), 0);
        assert_eq!(v.iter().sum::<u64>(), 499_500);
    }
}
