//! Resource estimates: how many events, how much memory and roughly how
//! much CPU each simulation of a scenario needs, read off the validated
//! scenario alone — nothing is simulated and no fault timeline is drawn
//! (counts of crashes, pauses and flaps come from their periods and
//! means), so an estimate costs microseconds whatever the scenario asks.
//!
//! `fdsim validate` prints them; `fdsim run`, `baseline`, `check` and
//! `tune` refuse, before simulating, a scenario whose estimate exceeds
//! `--max-memory` or `--max-events` ([`Limits`], [`check`]), naming the
//! field that drives the cost. The shard planner balances work with
//! [`unit_costs`].
//!
//! Each estimate is a sum of [`Term`]s, one per thing that costs (the
//! heartbeats, a crash loop's crashes, a flapping partition's cut
//! periods, the detectors' windows, ...), each naming the scenario field
//! it comes from. Byte sizes of the simulator's own records come from
//! `size_of`, so they follow the code; the few constants below that
//! cannot be read off the types (per-event CPU, per-member state of the
//! membership protocols, allocator slack) were calibrated by
//! `cargo test --release --test it cost_calibration -- --ignored --nocapture`
//! (tests/it/cost.rs), which runs one seed of every bundled scenario,
//! unit by unit, and prints the estimate beside the events counted by the
//! engine, the peak resident memory (`VmHWM`, reset before each unit
//! through `/proc/self/clear_refs`) and the thread's CPU time. Figures
//! measured on 2026-12-03 on the 2-core development machine are recorded
//! there; estimates aim to be within a factor of 2 of them for memory and
//! events (and above rather than below), and within a factor of 4 for CPU.

use crate::detector::registry::ParamUnit;
use crate::fault::{FaultSpec, Outage, PauseWindow};
use crate::math;
use crate::metrics::Cause;
use crate::net::Latency;
use crate::protocol::heartbeat::{HeartbeatAgent, Logged, Style};
use crate::protocol::membership::MembershipEvent;
use crate::scenario::{ProtocolSettings, Scenario};
use crate::sim::{Nanos, Sim};
use std::fmt;
use std::mem::size_of;

/// CPU per engine event of a pairwise heartbeat simulation (pop, agent,
/// transmit, log), nanoseconds.
const PAIRWISE_NS_PER_EVENT: f64 = 130.0;
/// CPU per arrival per detector value while scoring, nanoseconds.
const SCORE_NS_PER_ARRIVAL: f64 = 15.0;
/// CPU per engine event of a k-monitor simulation (a heartbeat arrival
/// updates one detector and re-arms its timer), nanoseconds.
const KMONITOR_NS_PER_EVENT: f64 = 300.0;
/// CPU per engine event of SWIM, nanoseconds (messages carry piggybacked
/// updates; probes touch the membership list).
const SWIM_NS_PER_EVENT: f64 = 700.0;
/// CPU per event of gossip, plus per member entry merged from a digest.
const GOSSIP_NS_PER_EVENT: f64 = 250.0;
const GOSSIP_NS_PER_ENTRY: f64 = 4.0;
/// Heap bytes of one record a SWIM member stores where its view differs
/// from the shared one (member, incarnation, state: 12), and of one
/// record of a view that has turned private (8).
const SWIM_DIFF_BYTES: f64 = 12.0;
const SWIM_PRIVATE_BYTES: f64 = 8.0;
/// Heap bytes per (observer, subject) pair of the cluster scorer
/// (`metrics::cluster`: opinion, accuracy, false suspicion, and when each
/// pair's Dead and staleness began).
const CLUSTER_SCORER_BYTES_PER_PAIR: f64 = 19.0;
/// Heap bytes of one member's state beyond its per-member tables.
const MEMBER_BASE_BYTES: f64 = 2048.0;
/// Heap bytes of a detector beyond its window.
const DETECTOR_BASE_BYTES: f64 = 256.0;
/// A growing `Vec` holds up to twice its length, and copying it to grow
/// briefly holds both: peak bytes of a log of `n` records are this many
/// times `n` records.
const VEC_SLACK: f64 = 2.0;
/// What every simulation holds whatever its size: the network, agents,
/// buffers (bytes).
const BASE_BYTES: f64 = 256.0 * 1024.0;
/// What the process holds before simulating: code, the scenarios, the
/// thread pool (measured: 5.5 MiB for `fdsim validate`).
const PROCESS_BYTES: f64 = 6.0 * 1024.0 * 1024.0;

/// What one simulation costs: engine events, peak memory and CPU.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cost {
    /// Events the engine handles (its [`crate::sim::NetStats::events`]).
    pub events: f64,
    /// Peak bytes held while it runs.
    pub peak_bytes: f64,
    /// Bytes its result keeps until the report is written.
    pub kept_bytes: f64,
    /// Rough CPU seconds on a current 2–3 GHz core.
    pub cpu_seconds: f64,
    /// The parts of the estimate, each naming what drives it.
    pub terms: Vec<Term>,
}

/// One part of an estimate and the scenario field that drives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// The field, as a reader of the scenario file would find it, e.g.
    /// `` `every` of the crash-loop fault on "target" ``.
    pub field: String,
    /// How many of what it counts, in words (`"3.6e12 crashes"`).
    pub count: String,
    pub events: f64,
    pub bytes: f64,
    pub cpu_seconds: f64,
}

impl Cost {
    fn add(&mut self, field: impl Into<String>, count: String, events: f64, bytes: f64, ns: f64) {
        let cpu_seconds = ns * 1e-9;
        self.events += events;
        self.peak_bytes += bytes;
        self.cpu_seconds += cpu_seconds;
        self.terms.push(Term {
            field: field.into(),
            count,
            events,
            bytes,
            cpu_seconds,
        });
    }

    /// The term holding the most memory.
    pub fn memory_driver(&self) -> Option<&Term> {
        self.terms.iter().max_by(|a, b| a.bytes.total_cmp(&b.bytes))
    }

    /// The term with the most events.
    pub fn events_driver(&self) -> Option<&Term> {
        self.terms
            .iter()
            .max_by(|a, b| a.events.total_cmp(&b.events))
    }
}

/// One simulation `fdsim run` performs per seed: the pairwise heartbeat
/// simulation, or one protocol at one swept value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// The pairwise simulation of `[sweep]` variant `variant` (0 without
    /// a sweep).
    Pairwise { variant: usize },
    /// `protocols[p]` at its `v`-th value.
    Protocol { p: usize, v: usize },
    /// The `[downing]` observation simulation and its strategies' replay.
    Downing,
}

/// The cost of every simulation of one seed of `sc`, in the order
/// [`crate::run::run_all`] lists them (pairwise first, then each protocol
/// × value). Every seed costs the same estimate.
pub fn unit_costs(sc: &Scenario) -> Vec<(Unit, Cost)> {
    let mut out = Vec::new();
    if !sc.detectors.is_empty() {
        for variant in 0..sc.variant_count() {
            out.push((Unit::Pairwise { variant }, pairwise(sc.variant(variant))));
        }
    }
    for (p, cfg) in sc.protocols.iter().enumerate() {
        for v in 0..cfg.values.len() {
            out.push((Unit::Protocol { p, v }, protocol(sc, p, v)));
        }
    }
    if sc.downing.is_some() {
        out.push((Unit::Downing, downing(sc)));
    }
    out
}

/// The `[downing]` unit: it simulates its `observers` k-monitor entry at
/// its first value once more (every member watching every other), then
/// replays each strategy over the recorded opinions, which costs little
/// beside the simulation.
pub fn downing(sc: &Scenario) -> Cost {
    match &sc.downing {
        Some(d) => protocol(sc, d.observers, 0),
        None => Cost::default(),
    }
}

/// The estimate of a whole scenario run.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioCost {
    /// One seed's simulations.
    pub units: Vec<(Unit, Cost)>,
    pub seeds: usize,
}

impl ScenarioCost {
    pub fn of(sc: &Scenario) -> ScenarioCost {
        ScenarioCost {
            units: unit_costs(sc),
            seeds: sc.seeds.len(),
        }
    }

    /// Simulations in the whole run.
    pub fn simulations(&self) -> usize {
        self.units.len() * self.seeds
    }

    pub fn events(&self) -> f64 {
        self.seeds as f64 * self.units.iter().map(|(_, c)| c.events).sum::<f64>()
    }

    pub fn cpu_seconds(&self) -> f64 {
        self.seeds as f64 * self.units.iter().map(|(_, c)| c.cpu_seconds).sum::<f64>()
    }

    /// Peak bytes with `jobs` simulations at once: the `jobs` largest
    /// running together, plus every result kept until the report.
    pub fn peak_bytes(&self, jobs: usize) -> f64 {
        let mut peaks: Vec<f64> = Vec::new();
        for _ in 0..self.seeds.min(jobs.max(1)) {
            peaks.extend(self.units.iter().map(|(_, c)| c.peak_bytes));
        }
        peaks.sort_by(|a, b| b.total_cmp(a));
        let running: f64 = peaks.iter().take(jobs.max(1)).sum();
        let kept: f64 = self.units.iter().map(|(_, c)| c.kept_bytes).sum();
        PROCESS_BYTES + running + kept * self.seeds as f64
    }

    /// The largest single simulation.
    pub fn largest(&self) -> Option<&(Unit, Cost)> {
        self.units
            .iter()
            .max_by(|a, b| a.1.peak_bytes.total_cmp(&b.1.peak_bytes))
    }
}

/// Expected number of crashes of one fault spec in `[0, end)`, and the
/// field that sets it. Uses periods and means only: nothing is drawn.
fn crashes(f: &FaultSpec, end: Nanos) -> (f64, &'static str) {
    let left = |first: Nanos| end.0.saturating_sub(first.0) as f64;
    match f {
        FaultSpec::Crash { at, .. } => (if *at < end { 1.0 } else { 0.0 }, "at"),
        FaultSpec::CrashLoop { first, every, .. } if every.0 > 0 => {
            ((left(*first) / every.0 as f64).ceil(), "every")
        }
        FaultSpec::Churn {
            first, mttf, mttr, ..
        } => {
            let cycle = typical(mttf).max(1.0) + typical(mttr).max(1.0);
            (left(*first) / cycle, "mttf")
        }
        _ => (0.0, ""),
    }
}

/// Expected number of pauses of one fault spec in `[0, end)`.
fn pauses(f: &FaultSpec, end: Nanos) -> f64 {
    match f {
        FaultSpec::Pause { at, .. } => f64::from(u8::from(*at < end)),
        FaultSpec::Pauses {
            first,
            every,
            length,
            ..
        } => end.0.saturating_sub(first.0) as f64 / (every.0 as f64 + typical(length)).max(1.0),
        _ => 0.0,
    }
}

/// The longest share of the run any latency spike of a link covers.
fn spiked_fraction(sc: &Scenario) -> f64 {
    let spikes = sc.links.iter().flat_map(|l| l.2.spikes.iter());
    let longest = spikes
        .map(|s| s.end.min(sc.duration).0.saturating_sub(s.start.0))
        .max()
        .unwrap_or(0);
    longest as f64 / sc.duration.0.max(1) as f64
}

/// Expected pauses of every fault of `sc` in the run.
fn pauses_total(sc: &Scenario) -> f64 {
    sc.faults.iter().map(|f| pauses(f, sc.duration)).sum()
}

/// A delay typical of `l`: its mean where finite, else its scale (a
/// heavy tail without a mean still has most draws near its minimum).
fn typical(l: &Latency) -> f64 {
    l.mean().unwrap_or(match *l {
        Latency::Normal { mean, std } => mean.max(std * 0.4),
        Latency::Pareto { scale, .. } => scale,
        _ => 0.0,
    })
}

fn fault_field(sc: &Scenario, i: usize, f: &FaultSpec, key: &str) -> String {
    let kind = f.kind();
    format!(
        "`{key}` of [[faults]] #{} ({kind} on \"{}\")",
        i + 1,
        sc.nodes[f.node() as usize]
    )
}

/// Cut periods of partition `p` within the run.
fn cut_periods(sc: &Scenario, p: &crate::net::Partition) -> f64 {
    let span = p.end.min(sc.duration).0.saturating_sub(p.start.0) as f64;
    match p.flap {
        None => f64::from(u8::from(span > 0.0)),
        Some(f) => (span / (f.up.0.saturating_add(f.down.0)).max(1) as f64).ceil(),
    }
}

/// How a simulation holds its fault timeline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timeline {
    /// Drawn before the run and queued at once (cluster runs): every
    /// crash, restart and pause is held from the start.
    UpFront,
    /// Drawn one fault period ahead as the run reaches it (pairwise runs):
    /// held in constant memory.
    Lazy,
}

/// Adds the fault timeline's terms: two events for a crash and its
/// restart, two for a pause and its end; with an up-front timeline their
/// records and queue entries are held from the start. `pending` is the
/// bytes of one queue entry of the simulation.
fn add_faults(
    c: &mut Cost,
    sc: &Scenario,
    (pending, timeline): (f64, Timeline),
    ns_per_event: f64,
) {
    let held = |n: f64| {
        if timeline == Timeline::Lazy {
            n.min(1.0)
        } else {
            n
        }
    };
    for (i, f) in sc.faults.iter().enumerate() {
        let (n, key) = crashes(f, sc.duration);
        if n > 0.0 {
            let bytes = held(n) * (VEC_SLACK * size_of::<Outage>() as f64 + 2.0 * pending);
            c.add(
                fault_field(sc, i, f, key),
                format!("{} crashes", count(n)),
                2.0 * n,
                bytes,
                2.0 * n * ns_per_event,
            );
        }
        let n = pauses(f, sc.duration);
        if n > 0.0 {
            // The drawn windows, the engine's log of those that took
            // effect, and the queue entries of their starts and ends.
            let record = (size_of::<PauseWindow>() + 24) as f64;
            let key = if matches!(f, FaultSpec::Pause { .. }) {
                "at"
            } else {
                "every"
            };
            c.add(
                fault_field(sc, i, f, key),
                format!("{} pauses", count(n)),
                2.0 * n,
                held(n) * (VEC_SLACK * record + 2.0 * pending),
                2.0 * n * ns_per_event,
            );
        }
    }
}

/// A count in words: `12`, `3.4 thousand`, `1.8e12`.
pub fn count(n: f64) -> String {
    if n < 1e4 {
        format!("{}", n.round())
    } else if n < 1e9 {
        format!("{:.1} million", n / 1e6)
    } else {
        format!("{n:.1e}")
    }
}

/// The pairwise heartbeat simulation of one seed, and its scoring.
pub fn pairwise(sc: &Scenario) -> Cost {
    let mut c = Cost::default();
    c.add("the simulator itself", String::new(), 0.0, BASE_BYTES, 0.0);
    let pairs = sc
        .monitors
        .iter()
        .map(|m| sc.targets.iter().filter(|t| *t != m).count())
        .sum::<usize>() as f64;
    let values: f64 = sc.detectors.iter().map(|d| d.values.len() as f64).sum();
    let arrivals_per_pair = match &sc.replay {
        Some(r) => r.len() as f64 / pairs.max(1.0),
        None => sc.duration.0 as f64 / sc.interval.0.max(1) as f64,
    };
    let arrivals = pairs * arrivals_per_pair;
    let logged = pairs * arrivals_per_pair.min(crate::run::stretch_beats(pairs as usize) as f64);
    if sc.replay.is_none() {
        // Push: each target's timer and one delivery per monitor; pull:
        // each monitor's timer, a ping and a pong per pair.
        let (timers, messages) = match sc.style {
            Style::Push => (sc.targets.len() as f64, pairs),
            Style::Pull => (sc.monitors.len() as f64, 2.0 * pairs),
        };
        let events = arrivals_per_pair * (timers + messages * (1.0 + duplicates(sc)));
        let pending = Sim::<HeartbeatAgent>::PENDING_EVENT_BYTES as f64;
        let in_flight = messages * (max_latency(sc) / sc.interval.0.max(1) as f64 + 1.0);
        c.add(
            "`duration` over the `[heartbeat] interval`",
            format!("{} heartbeats per pair", count(arrivals_per_pair)),
            events,
            // Arrivals are logged for one stretch of the run, then scored
            // and dropped (`run::stream_pairwise`).
            logged * VEC_SLACK * size_of::<Logged>() as f64 + in_flight * pending,
            events * PAIRWISE_NS_PER_EVENT,
        );
        add_faults(&mut c, sc, (pending, Timeline::Lazy), PAIRWISE_NS_PER_EVENT);
        for (i, p) in sc.partitions.iter().enumerate() {
            // Attribution asks each partition whether a pair was cut at an
            // instant, in constant time and memory; the cut periods cost
            // CPU as the run crosses them, and a pair keeps the windows a
            // mistake can still reach (a few).
            let n = cut_periods(sc, p);
            let window = size_of::<(Cause, Nanos, Nanos)>() as f64;
            let field = if p.flap.is_some() {
                format!("`flap` of [[partitions]] #{}", i + 1)
            } else {
                format!("[[partitions]] #{}", i + 1)
            };
            c.add(
                field,
                format!("{} cut periods", count(n)),
                0.0,
                pairs * VEC_SLACK * window,
                // A period the run never asks about costs nothing: at most
                // one question per heartbeat.
                n.min(arrivals_per_pair) * pairs * 20.0,
            );
        }
    }
    // Scoring: every detector at every value reads every arrival; each
    // result keeps one figure per crash of a target.
    let target_crashes: f64 = sc
        .faults
        .iter()
        .filter(|f| sc.targets.contains(&f.node()))
        .map(|f| crashes(f, sc.duration).0)
        .sum();
    let windows: f64 = sc
        .detectors
        .iter()
        .map(|d| window_samples(d.kind, &d.params) * d.values.len() as f64)
        .sum();
    c.add(
        "the [[detectors]] values",
        format!("{} detector values", count(values)),
        0.0,
        windows * 16.0,
        arrivals * values * SCORE_NS_PER_ARRIVAL,
    );
    // Each result keeps a figure per crash of a target, under the fault
    // that makes the crashes.
    for (i, f) in sc.faults.iter().enumerate() {
        let (n, key) = crashes(f, sc.duration);
        if n > 0.0 && sc.targets.contains(&f.node()) {
            c.add(
                fault_field(sc, i, f, key),
                format!("{} crashes scored by every detector value", count(n)),
                0.0,
                values * n * pairs * 16.0,
                0.0,
            );
        }
    }
    c.kept_bytes = values * (target_crashes * pairs * size_of::<Nanos>() as f64 + 256.0);
    c
}

/// The window size (samples) a detector of this kind keeps at most.
fn window_samples(kind: &crate::detector::DetectorKind, params: &crate::detector::Params) -> f64 {
    kind.params
        .iter()
        .filter(|s| s.unit == ParamUnit::Count)
        .map(|s| {
            params
                .iter()
                .find(|(n, _)| *n == s.name)
                .map_or(0.0, |p| p.1)
        })
        .sum()
}

/// The fraction of messages a link duplicates, at most.
fn duplicates(sc: &Scenario) -> f64 {
    let models = sc.links.iter().map(|l| &l.2).chain(sc.uniform_link.iter());
    models.map(|m| m.duplicate).fold(0.0, f64::max)
}

/// The largest mean one-way delay of any link, nanoseconds.
fn max_latency(sc: &Scenario) -> f64 {
    let models = sc.links.iter().map(|l| &l.2).chain(sc.uniform_link.iter());
    models.map(|m| typical(&m.latency)).fold(0.0, f64::max)
}

/// Protocol `p` of `sc` at its `v`-th value, one seed.
pub fn protocol(sc: &Scenario, p: usize, v: usize) -> Cost {
    let mut c = Cost::default();
    c.add("the simulator itself", String::new(), 0.0, BASE_BYTES, 0.0);
    let n = sc.nodes.len() as f64;
    let label = &sc.protocols[p].label;
    let secs = sc.duration.0 as f64;
    let member_crashes: f64 = sc.faults.iter().map(|f| crashes(f, sc.duration).0).sum();
    let log = size_of::<MembershipEvent>() as f64;
    match &sc.protocols[p].settings[v] {
        ProtocolSettings::KMonitor(cfg) => {
            let k = f64::from(cfg.k);
            let beats = secs / cfg.interval.0.max(1) as f64;
            let pending =
                Sim::<crate::protocol::kmonitor::KMonitorAgent>::PENDING_EVENT_BYTES as f64;
            // Per member per interval: its send timer, k arrivals, and k
            // detector timers re-armed by them (stale ones still pop).
            let events = n * beats * (1.0 + 2.0 * k);
            let window = window_samples(cfg.detector, &cfg.params);
            // The φ detectors allocate their window of 64-bit samples
            // whole up front; the others grow theirs (128-bit sums).
            let (kept, sample) = if cfg.detector.name.starts_with("phi") {
                (window, 8.0)
            } else {
                (window.min(beats), 16.0)
            };
            let detector = DETECTOR_BASE_BYTES + kept * sample;
            // Once the detectors outgrow the caches each arrival is a
            // cache miss or two (measured: 1 µs an event at 200 × 199
            // watches of phi-akka, 0.3 µs at 30 × 5).
            let ns = if n * k * detector > 32.0 * 1024.0 * 1024.0 {
                3.0 * KMONITOR_NS_PER_EVENT
            } else {
                KMONITOR_NS_PER_EVENT
            };
            c.add(
                format!("`k` of [[protocols]] \"{label}\" (with {n} members)"),
                format!("{} watches", count(n * k)),
                events,
                n * k * (detector + 2.0 * pending) + n * MEMBER_BASE_BYTES,
                events * ns,
            );
            // Opinion changes: a Dead and an Alive per crash per monitor.
            let changes = member_crashes * k * 2.0;
            c.add(
                "the crashes of [[faults]]",
                format!("{} opinion changes", count(changes)),
                0.0,
                changes * log * 2.0 * VEC_SLACK,
                0.0,
            );
            add_faults(
                &mut c,
                sc,
                (pending, Timeline::UpFront),
                KMONITOR_NS_PER_EVENT,
            );
        }
        ProtocolSettings::Gossip(cfg) => {
            let rounds = secs / cfg.interval.0.max(1) as f64;
            let fanout = f64::from(cfg.fanout);
            let pending = Sim::<crate::protocol::gossip::GossipAgent>::PENDING_EVENT_BYTES as f64;
            let events = n * rounds * (1.0 + fanout);
            let digest = n * 8.0 + 64.0;
            let in_flight = n * fanout * (max_latency(sc) / cfg.interval.0.max(1) as f64 + 1.0);
            c.add(
                format!("`interval` of [[protocols]] \"{label}\" (with {n} members)"),
                format!("{} gossip rounds per member", count(rounds)),
                events,
                n * (n * 24.0 + MEMBER_BASE_BYTES) + in_flight * (pending + digest),
                events * (GOSSIP_NS_PER_EVENT + GOSSIP_NS_PER_ENTRY * n),
            );
            // A member's heartbeat reaches the others in about
            // log2(n) rounds; a T_fail not well above that makes members
            // declare live ones Dead and take it back, over and over:
            // a rough share of member pairs flapping once per T_fail.
            let spread = cfg.interval.0 as f64 * math::log2(n).max(1.0) / (fanout.max(1.0)).sqrt();
            let risk = math::exp(-2.0 * cfg.fail.0 as f64 / spread.max(1.0));
            let flaps = n * (n - 1.0) * secs / cfg.fail.0.max(1) as f64 * risk;
            c.add(
                format!("`fail` of [[protocols]] \"{label}\""),
                format!("{} false Dead declarations", count(flaps)),
                0.0,
                flaps * 2.0 * log * 2.0 * VEC_SLACK,
                0.0,
            );
            let changes = member_crashes * n * 2.0;
            c.add(
                "the crashes of [[faults]]",
                format!("{} opinion changes", count(changes)),
                0.0,
                changes * log * 2.0 * VEC_SLACK,
                0.0,
            );
            add_faults(
                &mut c,
                sc,
                (pending, Timeline::UpFront),
                GOSSIP_NS_PER_EVENT,
            );
        }
        ProtocolSettings::Swim(s) => {
            let periods = secs / s.period.0.max(1) as f64;
            let pending = Sim::<crate::protocol::swim::SwimAgent>::PENDING_EVENT_BYTES as f64;
            // Per member per period: the probe timer, ping, ack and the
            // probe timeout (measured: 4.5 with the odd indirect probe).
            // Gossip rounds run only while a member has updates to
            // spread: each of the ~3 updates per crash (suspect, dead,
            // alive) is sent retransmit_mult·⌈log10(n+1)⌉ times, about
            // `gossip_nodes` at a time, by every member; a round is a
            // timer and its messages.
            // Latency spikes past the probe timeout keep suspicions, and
            // so gossip, going for as long as they last (measured on
            // swim-vs-lifeguard-slow-members: gossip never idles, and
            // each member logs about 5 opinion changes a period).
            let updates = (member_crashes + pauses_total(sc)) * 3.0;
            let retransmits = f64::from(s.retransmit_mult) * math::log10(n + 1.0).ceil();
            let rounds = secs / s.gossip_interval.0.max(1) as f64;
            let spiked = spiked_fraction(sc);
            let active = (updates * retransmits / f64::from(s.gossip_nodes.max(1)))
                .max(spiked * rounds)
                .min(rounds);
            let events = n * (periods * 4.5 + active * (1.0 + f64::from(s.gossip_nodes)));
            // A member stores the records where its view differs from the
            // shared one: about one per member that crashed or paused;
            // any member, with faults of other kinds (partitions, slow
            // members, clock drift) or latency spikes. Past n/8 + 32 the
            // view turns into a private array (both held while it does).
            let others = sc
                .faults
                .iter()
                .any(|f| crashes(f, sc.duration).0 == 0.0 && pauses(f, sc.duration) == 0.0);
            let subjects = if others || spiked > 0.0 {
                n
            } else {
                (member_crashes + pauses_total(sc)).min(n)
            };
            let private_at = n / 8.0 + 32.0;
            let view = if subjects > private_at {
                n * SWIM_PRIVATE_BYTES + private_at * SWIM_DIFF_BYTES * VEC_SLACK
            } else {
                subjects * SWIM_DIFF_BYTES * VEC_SLACK
            };
            c.add(
                format!("[nodes] of a [[protocols]] \"{label}\" cluster"),
                format!("{} members", count(n)),
                events,
                n * (view + MEMBER_BASE_BYTES + n * CLUSTER_SCORER_BYTES_PER_PAIR)
                    + n * 8.0 * pending,
                events * SWIM_NS_PER_EVENT,
            );
            // Every member hears of every crash and restart.
            let changes = member_crashes * n * 3.0 + spiked * n * periods * 5.0;
            c.add(
                "the crashes of [[faults]] and latency spikes",
                format!("{} opinion changes", count(changes)),
                0.0,
                changes * log * 2.0 * VEC_SLACK,
                0.0,
            );
            add_faults(&mut c, sc, (pending, Timeline::UpFront), SWIM_NS_PER_EVENT);
        }
    }
    c.kept_bytes = member_crashes * 3.0 * 2.0 * size_of::<Nanos>() as f64 + 512.0;
    c
}

/// The limits a run is held to before it starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Bytes the run may hold at its peak.
    pub max_memory: f64,
    /// Engine events the run may handle, over all its simulations.
    pub max_events: f64,
}

impl Limits {
    /// The default event budget: 10^11 events, a few hours of CPU.
    pub const DEFAULT_MAX_EVENTS: f64 = 1e11;

    /// Defaults: half of this machine's memory (Linux: `MemTotal` of
    /// /proc/meminfo; elsewhere, or unreadable, taken as 8 GiB), and
    /// [`Limits::DEFAULT_MAX_EVENTS`]. Half, because other processes need
    /// memory too and an estimate is an estimate; `MemTotal` rather than
    /// what is free now, so that whether a scenario runs does not depend
    /// on what else the machine is doing.
    pub fn defaults() -> Limits {
        Limits {
            max_memory: machine_memory().unwrap_or(8.0 * GIB) / 2.0,
            max_events: Limits::DEFAULT_MAX_EVENTS,
        }
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// `MemTotal` of /proc/meminfo, in bytes.
pub fn machine_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&text)
}

fn parse_meminfo(text: &str) -> Option<f64> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(name)?.strip_prefix(':')?;
            let kib: f64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
            Some(kib * 1024.0)
        })
    };
    field("MemTotal")
}

/// Why a scenario is refused before it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Bytes `fdsim record` holds per heartbeat arrival: the whole run's
/// arrival log, the trace's rows and its text, all held until the trace
/// is written (measured 2026-12-03: 389 bytes per arrival at the peak of a
/// 96-hour 100 ms pair, 3.3 M arrivals in 1.2 GiB).
const RECORD_BYTES_PER_ARRIVAL: f64 = 400.0;

/// The peak memory of `fdsim record` on `sc`, which, unlike a run, keeps
/// every arrival of the seed it records: every monitored pair hears one
/// heartbeat per interval (at most) for the whole `duration`.
pub fn record_bytes(sc: &Scenario) -> f64 {
    let beats = sc.duration.0 as f64 / sc.interval.0.max(1) as f64;
    PROCESS_BYTES + crate::run::pair_count(sc) as f64 * beats * RECORD_BYTES_PER_ARRIVAL
}

/// Holds `fdsim record`'s own memory ([`record_bytes`]) to `limits`.
pub fn check_record(sc: &Scenario, limits: Limits) -> Result<(), Refusal> {
    let need = record_bytes(sc);
    if need.is_nan() || need > limits.max_memory {
        return Err(Refusal {
            message: format!(
                "{} ({}): fdsim record keeps every heartbeat arrival of the run until it \
                 writes the trace, about {} for {} of `duration` at one heartbeat every {}, \
                 more than --max-memory {}; record a shorter `duration` (fdsim run itself \
                 streams and would not hold them), or raise --max-memory",
                sc.path.display(),
                sc.name,
                bytes(need),
                sc.duration,
                sc.interval,
                bytes(limits.max_memory)
            ),
        });
    }
    Ok(())
}

/// Holds one scenario's estimate to `limits` with `jobs` simulations at
/// once.
pub fn check(sc: &Scenario, jobs: usize, limits: Limits) -> Result<ScenarioCost, Refusal> {
    let cost = ScenarioCost::of(sc);
    let peak = cost.peak_bytes(jobs);
    // An estimate that is not a number is refused too.
    if peak.is_nan() || peak > limits.max_memory {
        let driver = cost
            .largest()
            .and_then(|(_, c)| c.memory_driver())
            .map_or(String::new(), |t| {
                format!("; most of it for {} ({})", t.field, t.count)
            });
        return Err(Refusal {
            message: format!(
                "{} ({}) would need about {} of memory, more than --max-memory {}{driver}; \
                 shorten `duration`, ease that field, or raise --max-memory",
                sc.path.display(),
                sc.name,
                bytes(peak),
                bytes(limits.max_memory)
            ),
        });
    }
    let events = cost.events();
    if events.is_nan() || events > limits.max_events {
        let driver = cost
            .units
            .iter()
            .max_by(|a, b| a.1.events.total_cmp(&b.1.events))
            .and_then(|(_, c)| c.events_driver())
            .map_or(String::new(), |t| {
                format!("; most of them from {} ({})", t.field, t.count)
            });
        return Err(Refusal {
            message: format!(
                "{} ({}) would take about {:.1e} simulated events (~{} of CPU), more than \
                 --max-events {:.0e}{driver}; shorten `duration`, ease that field, or raise \
                 --max-events",
                sc.path.display(),
                sc.name,
                events,
                seconds(cost.cpu_seconds()),
                limits.max_events
            ),
        });
    }
    Ok(cost)
}

/// Bytes in binary units: `512 B`, `12.3 MiB`, `8.1 GiB`.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} B")
    } else if v >= 1024.0 {
        format!("{:.1e} {}", v, UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A rough duration: `0.3 s`, `42 s`, `3.5 min`, `2.1 h`, `4.2 days`.
pub fn seconds(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s < 86400.0 * 1e4 {
        format!("{:.1} days", s / 86400.0)
    } else {
        format!("{:.1e} days", s / 86400.0)
    }
}

/// Parses a memory size: `8GiB`, `512MiB`, `2G`, `1000000` (bytes).
pub fn parse_bytes(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size; write it as 512MiB, 8GiB or 2G"))?;
    let scale = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "KB" | "KiB" => 1024.0,
        "M" | "MB" | "MiB" => 1024.0 * 1024.0,
        "G" | "GB" | "GiB" => GIB,
        "T" | "TB" | "TiB" => GIB * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit \"{other}\" in \"{text}\"; use B, KiB, MiB, GiB or TiB"
            ))
        }
    };
    Ok(v * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_total_memory_is_read_in_bytes() {
        let text = "MemFree:  100 kB\nMemTotal:       2048 kB\nMemAvailable:   1000 kB\n";
        assert_eq!(parse_meminfo(text), Some(2048.0 * 1024.0));
        assert_eq!(parse_meminfo("nothing"), None);
    }

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_bytes("8GiB").unwrap(), 8.0 * GIB);
        assert_eq!(parse_bytes("512M").unwrap(), 512.0 * 1024.0 * 1024.0);
        assert_eq!(parse_bytes("100").unwrap(), 100.0);
        assert!(parse_bytes("8 parsecs")
            .unwrap_err()
            .contains("unknown size unit"));
        assert!(parse_bytes("lots").is_err());
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0), "1.5 MiB");
        assert_eq!(bytes(8.0 * GIB), "8.0 GiB");
    }
}
