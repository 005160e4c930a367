//! Which shard runs which unit: every unit gets an estimated cost, and the
//! units are dealt to shards largest first, each to the shard with the
//! least work so far (longest-processing-time-first). The plan depends
//! only on the scenarios, their seeds and the shard count, so every shard
//! computes the same plan on its own, and a merge can tell which shard
//! owed a missing unit.

use crate::run::Unit;
use crate::scenario::Scenario;

/// Names the cost model in manifests: shards planned with another model
/// deal units differently and cannot be merged with these.
pub const COST_MODEL: &str = "cpu-estimate-v1";

/// The estimated cost of one unit: the CPU time `fdsim validate`
/// estimates for that simulation ([`crate::cost`]), in nanoseconds. Only
/// the ratios between units matter: they decide the balance, never the
/// results.
pub fn unit_cost(scenarios: &[Scenario], unit: Unit) -> u64 {
    let secs = match unit {
        Unit::Pairwise { sc, variant, .. } => {
            crate::cost::pairwise(scenarios[sc].variant(variant)).cpu_seconds
        }
        Unit::Cluster { sc, p, v, .. } => crate::cost::protocol(&scenarios[sc], p, v).cpu_seconds,
        Unit::Downing { sc, .. } => crate::cost::downing(&scenarios[sc]).cpu_seconds,
    };
    nanos(secs)
}

/// Seconds as a positive integer count of nanoseconds.
fn nanos(secs: f64) -> u64 {
    if secs.is_finite() {
        (secs * 1e9).clamp(1.0, u64::MAX as f64 / 1024.0) as u64
    } else {
        1
    }
}

/// The shard (0-based) of each of `costs`' units, for `count` shards:
/// units largest first (ties in list order), each to the shard with the
/// least cost so far (ties to the lowest shard).
pub fn assign(costs: &[u64], count: u32) -> Vec<u32> {
    let count = count.max(1) as usize;
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].cmp(&costs[a]).then(a.cmp(&b)));
    // A min-heap of (load, shard): the lightest shard, lowest index first.
    let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(u128, usize)>> =
        (0..count).map(|s| std::cmp::Reverse((0, s))).collect();
    let mut shard_of = vec![0u32; costs.len()];
    for i in order {
        let std::cmp::Reverse((load, s)) = heap.pop().expect("at least one shard");
        shard_of[i] = s as u32;
        heap.push(std::cmp::Reverse((load + u128::from(costs[i]), s)));
    }
    shard_of
}

/// The plan of a run: its units in result order, their costs, and the
/// shard of each.
#[derive(Clone, Debug)]
pub struct Plan {
    pub units: Vec<Unit>,
    pub costs: Vec<u64>,
    /// 0-based shard of each unit.
    pub shard_of: Vec<u32>,
    pub count: u32,
}

impl Plan {
    pub fn new(scenarios: &[Scenario], count: u32) -> Plan {
        let units = crate::run::units(scenarios);
        // Every seed of a scenario costs the same: estimate each kind once.
        let mut known: std::collections::BTreeMap<(usize, usize, usize), u64> = Default::default();
        let costs: Vec<u64> = units
            .iter()
            .map(|&u| {
                let key = match u {
                    Unit::Pairwise { sc, variant, .. } => (sc, usize::MAX, variant),
                    Unit::Cluster { sc, p, v, .. } => (sc, p, v),
                    Unit::Downing { sc, .. } => (sc, usize::MAX - 1, 0),
                };
                *known.entry(key).or_insert_with(|| unit_cost(scenarios, u))
            })
            .collect();
        let shard_of = assign(&costs, count);
        Plan {
            units,
            costs,
            shard_of,
            count: count.max(1),
        }
    }

    /// The positions (in [`Plan::units`]) of shard `index`'s (0-based)
    /// units, in result order.
    pub fn of_shard(&self, index: u32) -> Vec<usize> {
        (0..self.units.len())
            .filter(|&i| self.shard_of[i] == index)
            .collect()
    }

    /// Each shard's summed cost.
    pub fn loads(&self) -> Vec<u128> {
        let mut loads = vec![0u128; self.count as usize];
        for (c, &s) in self.costs.iter().zip(&self.shard_of) {
            loads[s as usize] += u128::from(*c);
        }
        loads
    }

    pub fn total_cost(&self) -> u128 {
        self.costs.iter().map(|&c| u128::from(c)).sum()
    }

    /// How the run is dealt, for choosing N: each shard's share of the
    /// estimated cost (a summary beyond 16 shards), the best speed-up over
    /// one machine, and the costliest unit, which no number of shards
    /// splits.
    pub fn render(&self, scenarios: &[Scenario]) -> String {
        let total = self.total_cost().max(1) as f64;
        let pct = |c: u128| 100.0 * c as f64 / total;
        let loads = self.loads();
        let mut counts = vec![0usize; self.count as usize];
        for &s in &self.shard_of {
            counts[s as usize] += 1;
        }
        let mut out = format!(
            "plan for {} shards ({} cost model): {} simulations\n",
            self.count,
            COST_MODEL,
            self.units.len()
        );
        if self.count <= 16 {
            for (k, (load, n)) in loads.iter().zip(&counts).enumerate() {
                out += &format!(
                    "  shard {}/{}: {n} simulations, {:.1} % of the estimated cost\n",
                    k + 1,
                    self.count,
                    pct(*load)
                );
            }
        } else {
            let (lo, hi) = (loads.iter().min(), loads.iter().max());
            let empty = counts.iter().filter(|&&n| n == 0).count();
            out += &format!(
                "  shards hold {:.2} % to {:.2} % of the estimated cost; {empty} hold nothing\n",
                pct(lo.copied().unwrap_or(0)),
                pct(hi.copied().unwrap_or(0))
            );
        }
        let largest = loads.iter().max().copied().unwrap_or(0).max(1);
        out += &format!(
            "best speed-up over one machine: {:.1}x (the largest shard holds {:.1} % of the cost)\n",
            total / largest as f64,
            pct(largest)
        );
        if let Some(i) =
            (0..self.units.len()).max_by_key(|&i| (self.costs[i], std::cmp::Reverse(i)))
        {
            let share = pct(u128::from(self.costs[i]));
            out += &format!(
                "the costliest simulation, {}, is {share:.1} % of the cost: no run is shorter, \
                 whatever the number of shards (about {} shards reach it)\n",
                self.units[i].name(scenarios),
                (100.0 / share).ceil() as u64
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_goes_to_exactly_one_shard_within_range() {
        let costs = [5, 1, 9, 9, 3, 7, 2, 2, 8];
        for n in 1..=12 {
            let a = assign(&costs, n);
            assert_eq!(a.len(), costs.len());
            assert!(a.iter().all(|&s| s < n), "{a:?}");
        }
    }

    #[test]
    fn the_heaviest_shard_is_within_one_unit_of_the_lightest() {
        // LPT's guarantee: the most loaded shard exceeds the least loaded
        // by at most the largest single unit.
        let costs: Vec<u64> = (0..40u64).map(|i| (i * 37 + 11) % 23 + 1).collect();
        for n in 1..=9u32 {
            let a = assign(&costs, n);
            let mut loads = vec![0u64; n as usize];
            for (c, s) in costs.iter().zip(&a) {
                loads[*s as usize] += c;
            }
            let (lo, hi) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
            assert!(hi - lo <= *costs.iter().max().unwrap(), "{n}: {loads:?}");
        }
    }

    #[test]
    fn balance_follows_cost_not_count() {
        // One huge unit and many small ones, two shards: the huge one is
        // alone on its shard.
        let mut costs = vec![100u64];
        costs.extend(std::iter::repeat_n(1, 50));
        let a = assign(&costs, 2);
        let big = a[0];
        assert!(a[1..].iter().all(|&s| s != big), "{a:?}");
    }
}
