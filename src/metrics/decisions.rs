//! Scoring downing decisions against the ground truth: per fault event a
//! verdict (downed, kept, split brain, outage), the time to down a crashed
//! member, split-brain time and member-time, total-outage time and
//! wrongful downings; per run the availability and how often members'
//! views of who is unreachable changed. Definitions in
//! `docs/partitions.md`.

use crate::sim::agent::NodeId;
use crate::sim::time::{Nanos, TotalNanos};

/// What a fault really was.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Truth {
    /// One or more members crashed at the same instant.
    Crash,
    /// A symmetric cut between two groups covering every member.
    Partition,
    /// A cut in one direction only.
    OneWay,
    /// A symmetric cut between two groups that leaves other members
    /// hearing both (some pairs only).
    Partial,
    /// A member stopped the world for a while.
    Pause,
}

impl Truth {
    pub const ALL: [Truth; 5] = [
        Truth::Crash,
        Truth::Partition,
        Truth::OneWay,
        Truth::Partial,
        Truth::Pause,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Truth::Crash => "crash",
            Truth::Partition => "partition",
            Truth::OneWay => "one-way",
            Truth::Partial => "partial",
            Truth::Pause => "pause",
        }
    }
}

/// What the cluster did about a fault.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Verdict {
    /// Some member was removed or downed itself, one side kept serving.
    Downed,
    /// Nobody was downed.
    Kept,
    /// For a while more than one group of members served, each having
    /// removed the other.
    SplitBrain,
    /// For a while no member served.
    Outage,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::Downed,
        Verdict::Kept,
        Verdict::SplitBrain,
        Verdict::Outage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Downed => "downed",
            Verdict::Kept => "kept",
            Verdict::SplitBrain => "split brain",
            Verdict::Outage => "outage",
        }
    }
}

/// One fault event of the ground truth.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaultEvent {
    pub truth: Truth,
    pub start: Nanos,
    /// When the fault ended (restart, heal, resume; the run's end if never).
    pub end: Nanos,
    /// The members it struck: crashed or paused ones, or both sides of a cut.
    pub nodes: Vec<NodeId>,
    /// Its outcome is watched on `[start, until)`: to `end` plus the settle
    /// time, cut short by the next event's start.
    pub until: Nanos,
}

/// The outcome of one event.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventOutcome {
    /// Time from a crash until every serving member had removed every
    /// crashed member; `None` if not before the restart or the run's end.
    pub time_to_down: Option<Nanos>,
    /// Some member was removed or downed itself inside the window.
    pub any_downing: bool,
    /// Time with more than one serving group, inside the window.
    pub split_brain: Nanos,
    /// Integral of the serving members outside the largest group.
    pub split_member_time: TotalNanos,
    /// Time with no serving member (while some member was up).
    pub outage: Nanos,
    /// Live members that were removed or downed themselves (the minority
    /// of a partition resolved as intended counts here).
    pub live_downed: u32,
    /// Wrongful downings: of those, the ones that could then still reach
    /// (both ways) more than half of the members that were up.
    pub wrongful: u32,
}

impl EventOutcome {
    /// Split brain beats outage beats a downing beats nothing.
    pub fn verdict(&self) -> Verdict {
        if self.split_brain > Nanos::ZERO {
            Verdict::SplitBrain
        } else if self.outage > Nanos::ZERO {
            Verdict::Outage
        } else if self.any_downing || self.time_to_down.is_some() {
            Verdict::Downed
        } else {
            Verdict::Kept
        }
    }
}

/// One strategy at one value in one seed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecisionRun {
    /// The events and their outcomes, in time order.
    pub events: Vec<(FaultEvent, EventOutcome)>,
    /// Integral of the largest serving group's size, after the warm-up.
    pub serving_time: TotalNanos,
    /// Members × (run length − warm-up).
    pub member_time: TotalNanos,
    /// Split-brain and outage time over the whole run after the warm-up.
    pub split_brain: Nanos,
    pub split_member_time: TotalNanos,
    pub outage: Nanos,
    /// Changes of some member's set of unreachable members (flapping).
    pub view_changes: u64,
    /// Sum over members of their up time after the warm-up.
    pub member_up_time: TotalNanos,
}

impl DecisionRun {
    /// Fraction of member-time spent in the largest serving group.
    pub fn availability(&self) -> Option<f64> {
        (!self.member_time.is_zero())
            .then(|| self.serving_time.0 as f64 / self.member_time.0 as f64)
    }

    /// View changes per member-hour of up time.
    pub fn view_changes_per_member_hour(&self) -> Option<f64> {
        (!self.member_up_time.is_zero())
            .then(|| self.view_changes as f64 / self.member_up_time.as_hours_f64())
    }
}

/// Counts of verdicts per truth, pooled over runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confusion {
    /// `counts[truth][verdict]`, in [`Truth::ALL`] × [`Verdict::ALL`] order.
    pub counts: [[u32; 4]; 5],
}

impl Confusion {
    pub fn of<'a>(runs: impl IntoIterator<Item = &'a DecisionRun>) -> Confusion {
        let mut c = Confusion::default();
        for r in runs {
            for (e, o) in &r.events {
                let t = Truth::ALL
                    .iter()
                    .position(|&t| t == e.truth)
                    .expect("truth");
                let v = Verdict::ALL
                    .iter()
                    .position(|&v| v == o.verdict())
                    .expect("verdict");
                c.counts[t][v] += 1;
            }
        }
        c
    }

    /// Events of truth `t`.
    pub fn total(&self, t: usize) -> u32 {
        self.counts[t].iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_brain_outranks_outage_which_outranks_a_downing() {
        let mut o = EventOutcome::default();
        assert_eq!(o.verdict(), Verdict::Kept);
        o.any_downing = true;
        assert_eq!(o.verdict(), Verdict::Downed);
        o.outage = Nanos(1);
        assert_eq!(o.verdict(), Verdict::Outage);
        o.split_brain = Nanos(1);
        assert_eq!(o.verdict(), Verdict::SplitBrain);
    }

    #[test]
    fn the_confusion_matrix_counts_each_event_once_under_its_truth_and_verdict() {
        let ev = |truth| FaultEvent {
            truth,
            start: Nanos(0),
            end: Nanos(1),
            nodes: vec![0],
            until: Nanos(2),
        };
        let downed = EventOutcome {
            time_to_down: Some(Nanos(5)),
            ..Default::default()
        };
        let split = EventOutcome {
            split_brain: Nanos(3),
            ..Default::default()
        };
        let run = DecisionRun {
            events: vec![
                (ev(Truth::Crash), downed),
                (ev(Truth::Partition), split.clone()),
                (ev(Truth::Partition), split),
            ],
            ..Default::default()
        };
        let c = Confusion::of([&run, &run]);
        assert_eq!(c.counts[0], [2, 0, 0, 0]);
        assert_eq!(c.counts[1], [0, 0, 4, 0]);
        assert_eq!(c.total(1), 4);
        assert_eq!(c.total(4), 0);
    }
}
