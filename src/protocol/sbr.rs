//! Downing decisions: Akka's Split Brain Resolver strategies, and a plain
//! down-after-a-fixed-delay rule, as pure functions of what one side of
//! a partition can see.
//!
//! Each side of a partition runs the strategy on its own view
//! ([`SideView`]): the members as last agreed, which of them it can reach,
//! which member is the oldest, and whether it could take a lease. The
//! answer ([`Decision`]) says whom this side downs. Nothing here reads a
//! clock: the stability rule ([`Stability`]) is fed the times of the
//! changes and asked when a decision is due.
//!
//! Defaults are Akka's (`akka-cluster/src/main/resources/reference.conf`,
//! section `akka.cluster.split-brain-resolver`, Akka 2.6–2.8):
//!
//! | setting | default |
//! |---|---|
//! | `active-strategy` | `keep-majority` |
//! | `stable-after` | 20 s |
//! | `down-all-when-unstable` | `on`: ¾ of `stable-after`, at least 4 s |
//! | `static-quorum.quorum-size` | none (must be given) |
//! | `keep-oldest.down-if-alone` | `on` |
//! | `lease-majority.acquire-lease-delay-for-minority` | 2 s |
//!
//! Rules, as Akka documents them (roles, joining members and indirectly
//! connected members are not modelled):
//!
//! - **keep-majority**: the side with more than half of the members
//!   downs the rest; the smaller side downs itself; on an equal split the
//!   side holding the lowest address (node id here) is kept.
//! - **static-quorum** (quorum `q`): a side with at least `q` members
//!   downs the rest, a smaller one downs itself; a cluster of more than
//!   `2q − 1` members downs everyone (both sides could reach `q`).
//! - **keep-oldest**: the side holding the oldest member is kept. With
//!   `down-if-alone`, an oldest member cut off from all the others downs
//!   itself and the others keep going (unless it is the only member left).
//! - **down-all**: any unreachability downs everyone.
//! - **lease-majority**: the side that acquires the lease is kept and the
//!   other downs itself; the minority side (by keep-majority's rule) waits
//!   `acquire-lease-delay-for-minority` before it tries, so the majority
//!   normally wins.
//! - **down-after** (not Akka's: an orchestrator's rule, such as
//!   Kubernetes' node-monitor grace period followed by eviction): every
//!   member unreachable for the fixed delay is downed, with no stability
//!   wait and no look at sizes.

use crate::sim::agent::NodeId;
use crate::sim::time::Nanos;

/// Akka's `stable-after` default.
pub const STABLE_AFTER: Nanos = Nanos(20_000_000_000);
/// Akka's `acquire-lease-delay-for-minority` default.
pub const LEASE_DELAY_FOR_MINORITY: Nanos = Nanos(2_000_000_000);
/// The floor of the derived `down-all-when-unstable` margin.
pub const UNSTABLE_FLOOR: Nanos = Nanos(4_000_000_000);

/// A downing strategy and its own setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    KeepMajority,
    StaticQuorum {
        quorum: u32,
    },
    KeepOldest {
        down_if_alone: bool,
    },
    DownAll,
    LeaseMajority,
    /// Down every member unreachable for this long (no stability wait).
    DownAfter {
        delay: Nanos,
    },
}

impl Strategy {
    /// The strategy's name as scenarios and reports spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::KeepMajority => "keep-majority",
            Strategy::StaticQuorum { .. } => "static-quorum",
            Strategy::KeepOldest { .. } => "keep-oldest",
            Strategy::DownAll => "down-all",
            Strategy::LeaseMajority => "lease-majority",
            Strategy::DownAfter { .. } => "down-after",
        }
    }

    /// True for Akka's strategies, which wait for `stable-after`.
    pub fn waits_for_stability(&self) -> bool {
        !matches!(self, Strategy::DownAfter { .. })
    }
}

/// One member as the strategies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its address; lower ids are lower addresses.
    pub id: NodeId,
    /// When it became Up: the smallest is the oldest (ties broken by the
    /// lower address, as Akka's age ordering does).
    pub up_since: Nanos,
    /// This side can reach it (this side's own members are reachable).
    pub reachable: bool,
}

/// What one side can see when it decides.
#[derive(Clone, Copy, Debug)]
pub struct SideView<'a> {
    /// Every member not yet downed, reachable or not, any order.
    pub members: &'a [Member],
    /// This side holds (or has just acquired) the lease; only
    /// lease-majority looks at it.
    pub lease_acquired: bool,
}

/// What a side decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to decide: every member is reachable.
    Nothing,
    /// Down the members this side cannot reach; keep itself.
    DownUnreachable,
    /// Down this side's own members (the reachable ones).
    DownReachable,
    /// Down every member, reachable or not.
    DownAll,
}

impl Decision {
    /// True when this side keeps serving after the decision.
    pub fn keeps_this_side(self) -> bool {
        matches!(self, Decision::Nothing | Decision::DownUnreachable)
    }
}

impl SideView<'_> {
    fn reachable(&self) -> usize {
        self.members.iter().filter(|m| m.reachable).count()
    }

    fn unreachable(&self) -> usize {
        self.members.len() - self.reachable()
    }

    /// The member with the lowest address.
    fn lowest(&self) -> Option<&Member> {
        self.members.iter().min_by_key(|m| m.id)
    }

    /// The oldest member: earliest Up, then lowest address.
    fn oldest(&self) -> Option<&Member> {
        self.members.iter().min_by_key(|m| (m.up_since, m.id))
    }
}

/// What `strategy` decides on `view`.
pub fn decide(strategy: Strategy, view: &SideView<'_>) -> Decision {
    if view.unreachable() == 0 {
        return Decision::Nothing;
    }
    match strategy {
        Strategy::KeepMajority => keep_majority(view),
        Strategy::StaticQuorum { quorum } => static_quorum(view, quorum),
        Strategy::KeepOldest { down_if_alone } => keep_oldest(view, down_if_alone),
        Strategy::DownAll => Decision::DownAll,
        Strategy::LeaseMajority => lease_majority(view),
        Strategy::DownAfter { .. } => Decision::DownUnreachable,
    }
}

/// Keep-majority: the bigger side, or on a tie the lowest address's side.
fn keep_majority(view: &SideView<'_>) -> Decision {
    if in_majority(view) {
        Decision::DownUnreachable
    } else {
        Decision::DownReachable
    }
}

/// True when keep-majority would keep this side.
pub fn in_majority(view: &SideView<'_>) -> bool {
    let (r, u) = (view.reachable(), view.unreachable());
    match r.cmp(&u) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => view.lowest().is_some_and(|m| m.reachable),
    }
}

fn static_quorum(view: &SideView<'_>, quorum: u32) -> Decision {
    let quorum = quorum as usize;
    if view.members.len() > 2 * quorum - 1 {
        Decision::DownAll
    } else if view.reachable() < quorum {
        Decision::DownReachable
    } else {
        Decision::DownUnreachable
    }
}

fn keep_oldest(view: &SideView<'_>, down_if_alone: bool) -> Decision {
    let Some(oldest) = view.oldest() else {
        return Decision::Nothing;
    };
    let (r, u) = (view.reachable(), view.unreachable());
    if oldest.reachable {
        // The oldest alone here, others elsewhere: it steps aside.
        if down_if_alone && r == 1 && u > 0 {
            Decision::DownReachable
        } else {
            Decision::DownUnreachable
        }
    } else if down_if_alone && u == 1 && r > 0 {
        // Only the oldest is unreachable: the rest remove it.
        Decision::DownUnreachable
    } else {
        Decision::DownReachable
    }
}

fn lease_majority(view: &SideView<'_>) -> Decision {
    if view.lease_acquired {
        Decision::DownUnreachable
    } else {
        Decision::DownReachable
    }
}

/// How long a side waits before it tries to acquire the lease: the
/// minority side (by keep-majority's rule) waits `delay`.
pub fn lease_acquire_delay(view: &SideView<'_>, delay: Nanos) -> Nanos {
    if in_majority(view) {
        Nanos(0)
    } else {
        delay
    }
}

/// The `down-all-when-unstable` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unstable {
    Off,
    /// `on`: ¾ of `stable-after`, at least 4 s.
    Derived,
    After(Nanos),
}

impl Unstable {
    /// The extra margin past `stable-after`, if any.
    pub fn margin(self, stable_after: Nanos) -> Option<Nanos> {
        match self {
            Unstable::Off => None,
            Unstable::Derived => Some(Nanos(stable_after.0 / 4 * 3).max(UNSTABLE_FLOOR)),
            Unstable::After(d) => Some(d),
        }
    }
}

/// What the stability rule says is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet.
    Wait,
    /// The view has been stable for `stable-after`: run the strategy.
    Decide,
    /// Unstable for too long: down everyone.
    DownAll,
}

/// Akka's stability rule for one side: a decision waits until the view
/// has not changed for `stable_after`; if the view keeps changing,
/// everyone is downed `stable_after + margin` after the first
/// unreachability. The clock of instability is reset when nothing is
/// unreachable any more, or after `2 × stable_after` without a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stability {
    pub stable_after: Nanos,
    pub unstable: Unstable,
    last_change: Nanos,
    /// When the current spell of unreachability began.
    first_unreachable: Option<Nanos>,
}

impl Stability {
    pub fn new(stable_after: Nanos, unstable: Unstable) -> Stability {
        Stability {
            stable_after,
            unstable,
            last_change: Nanos(0),
            first_unreachable: None,
        }
    }

    /// The view changed at `now`; `any_unreachable` is its state after.
    pub fn changed(&mut self, now: Nanos, any_unreachable: bool) {
        let quiet =
            now.0.saturating_sub(self.last_change.0) >= self.stable_after.0.saturating_mul(2);
        self.last_change = now;
        if !any_unreachable {
            self.first_unreachable = None;
        } else if self.first_unreachable.is_none() || quiet {
            self.first_unreachable = Some(now);
        }
    }

    /// A decision was carried out at `now`: instability starts over.
    pub fn decided(&mut self, now: Nanos) {
        self.last_change = now;
        self.first_unreachable = None;
    }

    /// What is due at `now`, given whether anything is unreachable.
    pub fn due(&self, now: Nanos, any_unreachable: bool) -> Due {
        let Some(first) = self.first_unreachable.filter(|_| any_unreachable) else {
            return Due::Wait;
        };
        if now.0 >= self.last_change.0.saturating_add(self.stable_after.0) {
            return Due::Decide;
        }
        match self.unstable.margin(self.stable_after) {
            Some(m)
                if now.0
                    >= first
                        .0
                        .saturating_add(self.stable_after.0)
                        .saturating_add(m.0) =>
            {
                Due::DownAll
            }
            _ => Due::Wait,
        }
    }

    /// The next instant at which [`Stability::due`] can change without a
    /// further change of the view, if any.
    pub fn next_due(&self) -> Option<Nanos> {
        let first = self.first_unreachable?;
        let decide = self.last_change.0.saturating_add(self.stable_after.0);
        let all = self.unstable.margin(self.stable_after).map(|m| {
            first
                .0
                .saturating_add(self.stable_after.0)
                .saturating_add(m.0)
        });
        Some(Nanos(all.map_or(decide, |a| a.min(decide))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    /// Members `0..n`, Up in id order (0 the oldest), `reachable` those
    /// on this side.
    fn cluster(n: u32, this_side: &[u32]) -> Vec<Member> {
        (0..n)
            .map(|id| Member {
                id,
                up_since: Nanos(u64::from(id) * S),
                reachable: this_side.contains(&id),
            })
            .collect()
    }

    fn on(strategy: Strategy, members: &[Member]) -> Decision {
        let view = SideView {
            members,
            lease_acquired: false,
        };
        decide(strategy, &view)
    }

    #[test]
    fn keep_majority_with_a_three_two_split_downs_the_two() {
        let three = cluster(5, &[0, 1, 2]);
        let two = cluster(5, &[3, 4]);
        assert_eq!(
            on(Strategy::KeepMajority, &three),
            Decision::DownUnreachable
        );
        assert_eq!(on(Strategy::KeepMajority, &two), Decision::DownReachable);
        // The minority may hold the lowest address: size wins.
        let two_low = cluster(5, &[0, 4]);
        assert_eq!(
            on(Strategy::KeepMajority, &two_low),
            Decision::DownReachable
        );
    }

    #[test]
    fn keep_majority_with_a_two_two_split_keeps_the_side_of_the_lowest_address() {
        let with_zero = cluster(4, &[0, 3]);
        let without = cluster(4, &[1, 2]);
        assert_eq!(
            on(Strategy::KeepMajority, &with_zero),
            Decision::DownUnreachable
        );
        assert_eq!(
            on(Strategy::KeepMajority, &without),
            Decision::DownReachable
        );
    }

    #[test]
    fn a_fully_reachable_view_decides_nothing_whatever_the_strategy() {
        let all = cluster(3, &[0, 1, 2]);
        for s in [
            Strategy::KeepMajority,
            Strategy::StaticQuorum { quorum: 2 },
            Strategy::KeepOldest {
                down_if_alone: true,
            },
            Strategy::DownAll,
            Strategy::LeaseMajority,
        ] {
            assert_eq!(on(s, &all), Decision::Nothing, "{}", s.name());
        }
    }

    #[test]
    fn static_quorum_of_three_with_a_two_two_split_downs_both_sides() {
        let q3 = Strategy::StaticQuorum { quorum: 3 };
        assert_eq!(on(q3, &cluster(4, &[0, 1])), Decision::DownReachable);
        assert_eq!(on(q3, &cluster(4, &[2, 3])), Decision::DownReachable);
        // A 3/1 split: the three reach the quorum, the one does not.
        assert_eq!(on(q3, &cluster(4, &[0, 1, 2])), Decision::DownUnreachable);
        assert_eq!(on(q3, &cluster(4, &[3])), Decision::DownReachable);
    }

    #[test]
    fn static_quorum_downs_everyone_in_a_cluster_of_more_than_twice_the_quorum_less_one() {
        // 6 members, quorum 3: a 3/3 split would let both sides go on.
        let q3 = Strategy::StaticQuorum { quorum: 3 };
        assert_eq!(on(q3, &cluster(6, &[0, 1, 2])), Decision::DownAll);
        assert_eq!(on(q3, &cluster(5, &[0, 1, 2])), Decision::DownUnreachable);
    }

    #[test]
    fn keep_oldest_keeps_the_side_of_the_oldest_even_when_it_is_smaller() {
        let ko = Strategy::KeepOldest {
            down_if_alone: true,
        };
        assert_eq!(on(ko, &cluster(5, &[0, 1])), Decision::DownUnreachable);
        assert_eq!(on(ko, &cluster(5, &[2, 3, 4])), Decision::DownReachable);
    }

    #[test]
    fn keep_oldest_with_down_if_alone_removes_a_lone_oldest_and_keeps_the_rest() {
        let alone = cluster(5, &[0]);
        let rest = cluster(5, &[1, 2, 3, 4]);
        let on_ = Strategy::KeepOldest {
            down_if_alone: true,
        };
        let off = Strategy::KeepOldest {
            down_if_alone: false,
        };
        assert_eq!(on(on_, &alone), Decision::DownReachable);
        assert_eq!(on(on_, &rest), Decision::DownUnreachable);
        // Without it, the lone oldest is kept and the four down themselves
        // (a crash of the oldest takes the whole cluster down).
        assert_eq!(on(off, &alone), Decision::DownUnreachable);
        assert_eq!(on(off, &rest), Decision::DownReachable);
    }

    #[test]
    fn keep_oldest_follows_age_not_address() {
        // Member 3 has been Up longest.
        let mut m = cluster(4, &[2, 3]);
        m[3].up_since = Nanos(0);
        m[0].up_since = Nanos(5 * S);
        let ko = Strategy::KeepOldest {
            down_if_alone: false,
        };
        assert_eq!(on(ko, &m), Decision::DownUnreachable);
    }

    #[test]
    fn down_all_downs_everyone_on_any_unreachability() {
        assert_eq!(
            on(Strategy::DownAll, &cluster(5, &[0, 1, 2, 3])),
            Decision::DownAll
        );
    }

    #[test]
    fn lease_majority_keeps_the_side_holding_the_lease_and_delays_the_minority() {
        let two = cluster(5, &[3, 4]);
        let three = cluster(5, &[0, 1, 2]);
        let with = |m: &[Member], lease| {
            decide(
                Strategy::LeaseMajority,
                &SideView {
                    members: m,
                    lease_acquired: lease,
                },
            )
        };
        assert_eq!(with(&two, true), Decision::DownUnreachable);
        assert_eq!(with(&three, false), Decision::DownReachable);
        let v = |m| SideView {
            members: m,
            lease_acquired: false,
        };
        assert_eq!(
            lease_acquire_delay(&v(&two), LEASE_DELAY_FOR_MINORITY),
            LEASE_DELAY_FOR_MINORITY
        );
        assert_eq!(
            lease_acquire_delay(&v(&three), LEASE_DELAY_FOR_MINORITY),
            Nanos(0)
        );
    }

    #[test]
    fn down_after_downs_the_unreachable_whatever_the_sizes() {
        let d = Strategy::DownAfter { delay: Nanos(S) };
        assert_eq!(on(d, &cluster(5, &[4])), Decision::DownUnreachable);
        assert!(!d.waits_for_stability());
    }

    #[test]
    fn the_derived_unstable_margin_is_three_quarters_of_stable_after_at_least_four_seconds() {
        assert_eq!(Unstable::Derived.margin(STABLE_AFTER), Some(Nanos(15 * S)));
        assert_eq!(Unstable::Derived.margin(Nanos(2 * S)), Some(UNSTABLE_FLOOR));
        assert_eq!(Unstable::Off.margin(STABLE_AFTER), None);
    }

    #[test]
    fn a_decision_waits_for_stable_after_since_the_last_change() {
        let mut st = Stability::new(STABLE_AFTER, Unstable::Off);
        st.changed(Nanos(10 * S), true);
        st.changed(Nanos(25 * S), true);
        assert_eq!(st.due(Nanos(44 * S), true), Due::Wait);
        assert_eq!(st.due(Nanos(45 * S), true), Due::Decide);
        assert_eq!(st.next_due(), Some(Nanos(45 * S)));
        // Healed before the wait ends: nothing to decide.
        st.changed(Nanos(30 * S), false);
        assert_eq!(st.due(Nanos(60 * S), false), Due::Wait);
    }

    #[test]
    fn a_view_that_keeps_changing_downs_all_after_stable_after_plus_the_margin() {
        // First unreachability at 0; a change every 10 s never lets the
        // view be stable for 20 s; 20 + 15 s after the first, all go.
        let mut st = Stability::new(STABLE_AFTER, Unstable::Derived);
        let mut t = 0;
        while t <= 30 {
            st.changed(Nanos(t * S), true);
            t += 10;
        }
        assert_eq!(st.due(Nanos(34 * S), true), Due::Wait);
        assert_eq!(st.due(Nanos(35 * S), true), Due::DownAll);
        assert_eq!(st.next_due(), Some(Nanos(35 * S)));
    }
}
