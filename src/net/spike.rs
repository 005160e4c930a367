//! Latency spikes: time windows during which a link's delays change.

use super::latency::Latency;
use crate::sim::time::Nanos;

/// What a spike does to the delay of a message sent during its window.
#[derive(Clone, Debug, PartialEq)]
pub enum SpikeChange {
    /// The delay drawn from the link's distribution, plus this much.
    Add(Nanos),
    /// The delay is drawn from this distribution instead.
    Replace(Latency),
}

/// A change of one link's delays for messages sent on `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Spike {
    pub start: Nanos,
    pub end: Nanos,
    pub change: SpikeChange,
}

impl Spike {
    pub fn active_at(&self, t: Nanos) -> bool {
        self.start <= t && t < self.end
    }
}

/// The distribution and the constant extra delay for a message sent at
/// `t` on a link with base distribution `base` and these spikes: every
/// active `Add` is summed, and an active `Replace` replaces `base` (the
/// last one listed wins; validation never lets two overlap on a link).
pub fn delay_model<'a>(base: &'a Latency, spikes: &'a [Spike], t: Nanos) -> (&'a Latency, Nanos) {
    let mut dist = base;
    let mut add = Nanos::ZERO;
    for s in spikes.iter().filter(|s| s.active_at(t)) {
        match &s.change {
            SpikeChange::Add(d) => add = add.saturating_add(*d),
            SpikeChange::Replace(l) => dist = l,
        }
    }
    (dist, add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_sum_and_a_replacement_swaps_the_distribution_inside_the_window_only() {
        let base = Latency::Constant {
            value: Nanos::from_millis(5),
        };
        let spikes = [
            Spike {
                start: Nanos(10),
                end: Nanos(20),
                change: SpikeChange::Add(Nanos(100)),
            },
            Spike {
                start: Nanos(15),
                end: Nanos(30),
                change: SpikeChange::Add(Nanos(7)),
            },
            Spike {
                start: Nanos(18),
                end: Nanos(19),
                change: SpikeChange::Replace(Latency::Constant { value: Nanos(1) }),
            },
        ];
        assert_eq!(delay_model(&base, &spikes, Nanos(9)), (&base, Nanos(0)));
        assert_eq!(delay_model(&base, &spikes, Nanos(10)), (&base, Nanos(100)));
        assert_eq!(delay_model(&base, &spikes, Nanos(15)), (&base, Nanos(107)));
        let (d, add) = delay_model(&base, &spikes, Nanos(18));
        assert_eq!((d.name(), add), ("constant", Nanos(107)));
        assert_ne!(d, &base);
        assert_eq!(delay_model(&base, &spikes, Nanos(20)), (&base, Nanos(7)));
        assert_eq!(delay_model(&base, &spikes, Nanos(30)), (&base, Nanos(0)));
    }
}
