//! Node clocks: how a node's local time relates to true simulated time.

use super::time::Nanos;

/// A node's clock. Local time is what agents and detectors read; true time
/// is what the engine schedules on and what scoring uses. The default clock
/// is perfect (local = true).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Clock {
    /// Local reading at true time zero.
    pub offset: Nanos,
    /// Rate error in parts per million (positive runs fast).
    pub drift_ppm: f64,
}

impl Clock {
    fn rate(&self) -> f64 {
        1.0 + self.drift_ppm * 1e-6
    }

    /// Local reading at true time `t`.
    pub fn local(&self, t: Nanos) -> Nanos {
        if self.drift_ppm == 0.0 {
            return self.offset + t;
        }
        self.offset + self.drifted(t)
    }

    // The drifting paths stay out of line: inlined, the compiler hoists
    // their division and rounding call above the `drift_ppm == 0.0` test
    // (both are free of side effects), and every perfect clock pays them.
    #[inline(never)]
    fn drifted(&self, t: Nanos) -> Nanos {
        Nanos((t.0 as f64 * self.rate()).round() as u64)
    }

    /// The earliest true time whose local reading is at least `local`.
    pub fn true_time(&self, local: Nanos) -> Nanos {
        let since = local.saturating_sub(self.offset);
        if self.drift_ppm == 0.0 {
            return since;
        }
        self.true_time_drifting(local, since)
    }

    #[inline(never)]
    fn true_time_drifting(&self, local: Nanos, since: Nanos) -> Nanos {
        let mut t = Nanos((since.0 as f64 / self.rate()).floor() as u64);
        while self.local(t) < local {
            t = Nanos(t.0 + 1);
        }
        while t.0 > 0 && self.local(Nanos(t.0 - 1)) >= local {
            t = Nanos(t.0 - 1);
        }
        t
    }

    /// How much true time passes while the local clock advances by `span`.
    pub fn true_span(&self, span: Nanos) -> Nanos {
        if self.drift_ppm == 0.0 {
            return span;
        }
        self.true_span_drifting(span)
    }

    #[inline(never)]
    fn true_span_drifting(&self, span: Nanos) -> Nanos {
        Nanos((span.0 as f64 / self.rate()).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_clock_is_identity() {
        let c = Clock::default();
        assert_eq!(c.local(Nanos(12345)), Nanos(12345));
        assert_eq!(c.true_time(Nanos(12345)), Nanos(12345));
    }

    #[test]
    fn true_time_inverts_local_time() {
        let c = Clock {
            offset: Nanos(500),
            drift_ppm: 250.0,
        };
        for t in [0u64, 1, 999, 1_000_000_007, 3_600_000_000_000] {
            let l = c.local(Nanos(t));
            let back = c.true_time(l);
            assert!(c.local(back) >= l);
            assert!(back <= Nanos(t));
        }
    }
}
