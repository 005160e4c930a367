//! Timelines: what one detector saw and did, event by event, in one seed
//! of one scenario — for plotting suspicion against time, and for seeing
//! why a setting made a mistake or how long a crash took to detect.
//!
//! [`trace`] simulates the seed exactly as [`crate::run::run_seed`] does
//! and replays the arrivals through the detector the way the scorer of
//! [`crate::metrics::qos`] does, so its transitions are the scorer's: for
//! swept value x the output is *suspect* iff suspicion ≥ x; in the silence
//! between two arrivals a suspect transition happens at
//! [`Detector::crossing`]`(x)` (clamped into the silence as the scorer
//! clamps it); trust and suspect transitions at an arrival happen at its
//! true arrival time. Detectors whose state depends on the threshold run
//! one instance per value, each built with its value, which is what the
//! scorer's shared instances amount to.
//!
//! Rows ([`TraceRow`]) come in time order; at equal times faults come
//! first (the scorer's "truth before transitions"), then heartbeats, then
//! transitions, then suspicion samples.

use crate::detector::{Detector, DetectorKind, Env, ParamSpec, ParamUnit};
use crate::fault::Outage;
use crate::protocol::heartbeat::Logged;
use crate::run::heartbeats;
use crate::scenario::{DetectorConfig, Scenario};
use crate::sim::{parse_duration, Clock, Nanos, NodeId};
use serde::Serialize;

/// What a row records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// The target crashed.
    Crash,
    /// The target restarted as a new incarnation.
    Restart,
    /// A heartbeat reached the monitor.
    Heartbeat,
    /// The output for `param_value` turned from trust to suspect.
    Suspect,
    /// The output for `param_value` turned from suspect to trust.
    Trust,
    /// The suspicion level sampled between arrivals.
    Suspicion,
}

impl Event {
    /// Order among rows at the same time.
    fn rank(self) -> u8 {
        match self {
            Event::Crash | Event::Restart => 0,
            Event::Heartbeat => 1,
            Event::Suspect | Event::Trust => 2,
            Event::Suspicion => 3,
        }
    }
}

/// One row of a trace CSV. The header and column order are a stable
/// contract; see `docs/output.md`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceRow {
    /// True (simulated) time of the event, in milliseconds from the start.
    pub time_ms: f64,
    pub event: Event,
    /// Monitor and target node names.
    pub monitor: String,
    pub target: String,
    /// Whether the target is up at `time_ms` (a crash at exactly this
    /// time counts as already down). A suspect row with `target_up` is a
    /// false suspicion, scored as a mistake once the warm-up is over.
    pub target_up: bool,
    /// Detector label, kind, swept parameter and its unit.
    pub detector: String,
    pub kind: &'static str,
    pub param: &'static str,
    /// The swept value this row is about: set on suspect and trust rows;
    /// on heartbeat and suspicion rows only for detectors whose state
    /// depends on the value (one series per value); empty otherwise.
    pub param_value: Option<f64>,
    pub param_unit: &'static str,
    /// Suspicion level in the units of `param_value`: at `time_ms` (for a
    /// heartbeat, just after it). Empty on crash and restart rows.
    pub suspicion: Option<f64>,
    /// Heartbeat rows: the suspicion level just before the heartbeat.
    pub suspicion_before: Option<f64>,
    /// Heartbeat rows: sequence number (from 0 in each incarnation), the
    /// sender's incarnation, and the send time on the sender's clock.
    pub seq: Option<u64>,
    pub incarnation: Option<u32>,
    pub sent_ms: Option<f64>,
}

/// What to trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceOptions {
    pub seed: u64,
    /// A detector label or kind; `None` when the scenario has one detector.
    pub detector: Option<String>,
    /// Values of the swept parameter in internal units (nanoseconds for
    /// durations); empty means every value the scenario sweeps.
    pub values: Vec<f64>,
    /// The window of true time to report, `[from, to)`.
    pub from: Nanos,
    pub to: Nanos,
    /// Suspicion samples per heartbeat interval (0: none). Samples lie on
    /// a fixed grid of step `interval / samples_per_interval`, strictly
    /// after each arrival, from the first arrival on.
    pub samples_per_interval: u32,
}

/// The detector of `sc` named `name` (label or kind), or its only one.
pub fn find_detector<'s>(
    sc: &'s Scenario,
    name: Option<&str>,
) -> Result<&'s DetectorConfig, String> {
    let labels = || {
        sc.detectors
            .iter()
            .map(|d| d.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if sc.detectors.is_empty() {
        return Err(format!(
            "scenario {} has no [[detectors]]; fdsim trace follows one pairwise detector, and \
             membership protocols are not traced",
            sc.name
        ));
    }
    let Some(name) = name else {
        return match sc.detectors.as_slice() {
            [only] => Ok(only),
            _ => Err(format!(
                "scenario {} has {} detectors; choose one with --detector (one of: {})",
                sc.name,
                sc.detectors.len(),
                labels()
            )),
        };
    };
    if let Some(d) = sc.detectors.iter().find(|d| d.label == name) {
        return Ok(d);
    }
    let by_kind: Vec<&DetectorConfig> = sc
        .detectors
        .iter()
        .filter(|d| d.kind.name == name)
        .collect();
    match by_kind.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "scenario {} has no detector named \"{name}\"; it has: {}",
            sc.name,
            labels()
        )),
        _ => Err(format!(
            "scenario {} has {} detectors of kind \"{name}\"; name one: {}",
            sc.name,
            by_kind.len(),
            by_kind
                .iter()
                .map(|d| d.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Parses a value of the swept parameter as a scenario file writes it
/// (`"250ms"` for a duration, `8` for a number) into internal units, and
/// checks its range.
pub fn parse_value(spec: &ParamSpec, text: &str) -> Result<f64, String> {
    let v = match spec.unit {
        ParamUnit::Duration => parse_duration(text)
            .map(|n| n.0 as f64)
            .map_err(|e| format!("--value {text}: {e}"))?,
        ParamUnit::Number | ParamUnit::Count => text
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("--value {text}: `{}` takes a number", spec.name))?,
    };
    spec.check(v).map_err(|e| format!("--value {text}: {e}"))?;
    Ok(v)
}

/// The trace of one seed of `sc` for one detector over `[from, to)`.
/// Errors are bad input: an unknown or ambiguous detector, a value out of
/// range, or an empty window or one past the end of the run.
/// Why `trace` and `record` take one variant of a `[sweep]` at a time.
pub fn swept_refusal(sc: &Scenario, sw: &crate::scenario::Sweep) -> String {
    format!(
        "scenario {} sweeps {} ([sweep]): each value is its own simulation; trace or record \
         one of them from a copy of the file with the value set and [sweep] removed",
        sc.name, sw.field
    )
}

pub fn trace(sc: &Scenario, opts: &TraceOptions) -> Result<Vec<TraceRow>, String> {
    if let Some(sw) = &sc.sweep {
        return Err(swept_refusal(sc, sw));
    }
    let cfg = find_detector(sc, opts.detector.as_deref())?;
    if opts.from >= opts.to {
        return Err(format!(
            "--from ({}) must be before --to ({})",
            opts.from, opts.to
        ));
    }
    if opts.to > sc.duration {
        return Err(format!(
            "--to ({}) is past the end of the run ({})",
            opts.to, sc.duration
        ));
    }
    let mut values: Vec<f64> = if opts.values.is_empty() {
        cfg.values.clone()
    } else {
        for &v in &opts.values {
            cfg.kind.swept.check(v)?;
        }
        opts.values.clone()
    };
    values.sort_by(f64::total_cmp);
    values.dedup();

    // Events at or after `to` cannot change rows before it (see `Pair`),
    // so the simulation stops there, and its faults are drawn only up to
    // there: each fault's draws come in time order from its own stream, so
    // those before `to` are the whole run's (a minute of a 500-year
    // scenario queues a minute of crashes, not 500 years of them).
    let mut until = sc.clone();
    until.duration = sc.duration.min(opts.to);
    let crate::run::Heartbeats { log, outages, .. } = heartbeats(&until, opts.seed, opts.to);
    let env = Env {
        interval: sc.interval,
    };
    let step = (opts.samples_per_interval > 0)
        .then(|| Nanos((sc.interval.0 / u64::from(opts.samples_per_interval)).max(1)));
    let mut rows: Vec<(Nanos, u8, TraceRow)> = Vec::new();
    for &m in &sc.monitors {
        for &t in sc.targets.iter().filter(|&&t| t != m) {
            let target_outages: Vec<Outage> =
                outages.iter().copied().filter(|o| o.node == t).collect();
            let mut pair = Pair {
                sc,
                cfg,
                monitor: m,
                target: t,
                outages: &target_outages,
                clock: sc.clocks[m as usize],
                from: opts.from,
                to: opts.to,
                step,
                rows: Vec::new(),
            };
            pair.run(log.arrivals(m, t), lanes(cfg.kind, cfg, &values, &env));
            rows.append(&mut pair.rows);
        }
    }
    // Stable: rows of one pair at equal time and rank keep their order.
    rows.sort_by_key(|(at, rank, _)| (*at, *rank));
    Ok(rows.into_iter().map(|(_, _, r)| r).collect())
}

/// One detector instance and the values it serves, ascending.
struct Lane {
    det: Box<dyn Detector>,
    values: Vec<f64>,
    suspect: Vec<bool>,
    /// Set when the instance serves one value of a threshold-dependent
    /// kind: its heartbeat and suspicion rows name that value.
    own_value: Option<f64>,
    heard: bool,
}

fn lanes(kind: &DetectorKind, cfg: &DetectorConfig, values: &[f64], env: &Env) -> Vec<Lane> {
    // Before the first heartbeat every detector suspects.
    let lane = |det, values: Vec<f64>, own_value| Lane {
        det,
        suspect: vec![true; values.len()],
        values,
        own_value,
        heard: false,
    };
    if kind.threshold_dependent {
        values
            .iter()
            .map(|&x| lane((kind.build)(&cfg.params, x, env), vec![x], Some(x)))
            .collect()
    } else {
        vec![lane(
            (kind.build)(&cfg.params, f64::NAN, env),
            values.to_vec(),
            None,
        )]
    }
}

/// Replays one monitored pair and collects its rows in the window.
///
/// Running the simulation only up to `to` is exact for rows before `to`:
/// arrivals before `to` are the same as in the full run, and in the
/// silence that contains `to` a value whose suspicion is still below it at
/// `to - 1ns` crosses (if at all) at or after `to`, by the detector
/// contract; values above it cross where the scorer finds them.
struct Pair<'a> {
    sc: &'a Scenario,
    cfg: &'a DetectorConfig,
    monitor: NodeId,
    target: NodeId,
    outages: &'a [Outage],
    clock: Clock,
    from: Nanos,
    to: Nanos,
    step: Option<Nanos>,
    rows: Vec<(Nanos, u8, TraceRow)>,
}

impl Pair<'_> {
    fn run(&mut self, arrivals: &[Logged], mut lanes: Vec<Lane>) {
        for o in self.outages {
            self.push(o.crash, Event::Crash, None, |_| {});
            if let Some(r) = o.restart {
                self.push(r, Event::Restart, None, |_| {});
            }
        }
        let mut prev = self.clock.local(Nanos::ZERO);
        let to = self.to;
        for logged in arrivals.iter().take_while(|l| l.true_at < to) {
            for lane in &mut lanes {
                self.gap(lane, prev, logged.arrival.at);
                self.arrival(lane, logged);
            }
            prev = logged.arrival.at;
        }
        let end = self.clock.local(self.to);
        for lane in &mut lanes {
            self.gap(lane, prev, end);
        }
    }

    fn unit(&self) -> ParamUnit {
        self.cfg.kind.swept.unit
    }

    fn is_up(&self, t: Nanos) -> bool {
        !self
            .outages
            .iter()
            .any(|o| o.crash <= t && o.restart.is_none_or(|r| t < r))
    }

    /// Adds a row at true time `at` if it lies in the window.
    fn push(
        &mut self,
        at: Nanos,
        event: Event,
        value: Option<f64>,
        fill: impl FnOnce(&mut TraceRow),
    ) {
        if at < self.from || at >= self.to {
            return;
        }
        let kind = self.cfg.kind;
        let mut row = TraceRow {
            time_ms: at.as_millis_f64(),
            event,
            monitor: self.sc.nodes[self.monitor as usize].clone(),
            target: self.sc.nodes[self.target as usize].clone(),
            target_up: self.is_up(at),
            detector: self.cfg.label.clone(),
            kind: kind.name,
            param: kind.swept.name,
            param_value: value.map(|v| self.unit().display_value(v)),
            param_unit: self.unit().column_unit(),
            suspicion: None,
            suspicion_before: None,
            seq: None,
            incarnation: None,
            sent_ms: None,
        };
        fill(&mut row);
        self.rows.push((at, event.rank(), row));
    }

    /// The silence from local `from` up to (excluding) local `to`: suspect
    /// transitions as the scorer finds them, and suspicion samples.
    fn gap(&mut self, lane: &mut Lane, from: Nanos, to: Nanos) {
        if to <= from {
            return;
        }
        let last = Nanos(to.0 - 1);
        let level = lane.det.suspicion(last);
        let mut floor = from;
        for i in 0..lane.values.len() {
            let x = lane.values[i];
            let reached = level >= x;
            if lane.suspect[i] || !reached {
                continue;
            }
            let c = lane.det.crossing(x).unwrap_or(last).max(floor).min(last);
            floor = c;
            lane.suspect[i] = true;
            let s = self.unit().display_value(lane.det.suspicion(c));
            self.push(self.clock.true_time(c), Event::Suspect, Some(x), |r| {
                r.suspicion = Some(s);
            });
        }
        let Some(step) = self.step.filter(|_| lane.heard) else {
            return;
        };
        // Grid points strictly after `from`, inside the window.
        let first = self.clock.local(self.from).max(Nanos(from.0 + 1));
        let mut g = Nanos(first.0.div_ceil(step.0).saturating_mul(step.0));
        let stop = to.min(self.clock.local(self.to));
        while g < stop {
            let s = self.unit().display_value(lane.det.suspicion(g));
            self.push(
                self.clock.true_time(g),
                Event::Suspicion,
                lane.own_value,
                |r| {
                    r.suspicion = Some(s);
                },
            );
            g += step;
        }
    }

    /// An arrival: the detector learns of it; values whose output changes
    /// get a trust or suspect row at the true arrival time.
    fn arrival(&mut self, lane: &mut Lane, logged: &Logged) {
        let at = logged.arrival.at;
        let before = lane.det.suspicion(at);
        lane.det.heartbeat(&logged.arrival);
        lane.heard = true;
        let after = lane.det.suspicion(at);
        let unit = self.unit();
        self.push(logged.true_at, Event::Heartbeat, lane.own_value, |r| {
            r.suspicion = Some(unit.display_value(after));
            r.suspicion_before = Some(unit.display_value(before));
            r.seq = Some(logged.arrival.seq);
            r.incarnation = Some(logged.arrival.incarnation);
            r.sent_ms = Some(logged.arrival.sent.as_millis_f64());
        });
        for i in 0..lane.values.len() {
            let x = lane.values[i];
            let now = after >= x;
            if now != lane.suspect[i] {
                lane.suspect[i] = now;
                let event = if now { Event::Suspect } else { Event::Trust };
                self.push(logged.true_at, event, Some(x), |r| {
                    r.suspicion = Some(unit.display_value(after));
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::run_seed;
    use std::path::Path;

    const SCENARIO: &str = r#"
        name = "trace-test"
        duration = "3m"
        warmup = "5s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "exponential", shift = "1ms", mean = "20ms" }
        loss = 0.03
        [[faults]]
        kind = "crash-loop"
        node = "target"
        every = "40s"
        down = "5s"
        jitter = "10s"
        [[detectors]]
        kind = "fixed"
        timeout = ["120ms", "250ms"]
        [[detectors]]
        name = "akka"
        kind = "phi-akka"
        threshold = [1, 3, 8]
        acceptable_heartbeat_pause = "0s"
        first_heartbeat_estimate = "100ms"
    "#;

    fn scenario() -> Scenario {
        Scenario::parse(Path::new("t.toml"), SCENARIO).unwrap_or_else(|e| panic!("{e}"))
    }

    fn opts(detector: &str, from: Nanos, to: Nanos) -> TraceOptions {
        TraceOptions {
            seed: 3,
            detector: Some(detector.into()),
            values: Vec::new(),
            from,
            to,
            samples_per_interval: 10,
        }
    }

    /// Mistakes and detections recounted from a whole-run trace with the
    /// scorer's rules, per swept value.
    fn recount(rows: &[TraceRow], value: f64, warmup_ms: f64, end_ms: f64) -> (u64, usize) {
        let mut mistakes = 0;
        let mut detected = 0;
        let mut suspect = true;
        let mut down = false;
        for r in rows {
            match r.event {
                Event::Crash => down = true,
                Event::Restart => {
                    detected += usize::from(suspect);
                    down = false;
                }
                Event::Suspect | Event::Trust if r.param_value == Some(value) => {
                    suspect = r.event == Event::Suspect;
                    mistakes += u64::from(suspect && r.target_up && r.time_ms >= warmup_ms);
                }
                _ => {}
            }
            assert!(r.time_ms < end_ms);
        }
        (mistakes, detected + usize::from(down && suspect))
    }

    #[test]
    fn whole_run_transitions_agree_with_the_scorer() {
        let sc = scenario();
        let scored = run_seed(&sc, 3);
        for (d, name) in [(0, "fixed"), (1, "akka")] {
            let rows = trace(&sc, &opts(name, Nanos::ZERO, sc.duration)).unwrap();
            let cfg = &sc.detectors[d];
            for (v, &x) in cfg.values.iter().enumerate() {
                let shown = cfg.kind.swept.unit.display_value(x);
                let q = &scored.qos[d][v];
                let (mistakes, detected) = recount(
                    &rows,
                    shown,
                    sc.warmup.as_millis_f64(),
                    sc.duration.as_millis_f64(),
                );
                assert_eq!(mistakes, q.mistakes, "{name} at {shown}");
                assert_eq!(detected, q.detections.len(), "{name} at {shown}");
                assert!(q.mistakes + q.detections.len() as u64 > 0);
            }
        }
    }

    #[test]
    fn a_window_is_the_whole_run_cut_to_it() {
        let sc = scenario();
        for name in ["fixed", "akka"] {
            let whole = trace(&sc, &opts(name, Nanos::ZERO, sc.duration)).unwrap();
            let (from, to) = (Nanos::from_secs(37), Nanos::from_millis(61_234));
            let part = trace(&sc, &opts(name, from, to)).unwrap();
            let cut: Vec<&TraceRow> = whole
                .iter()
                .filter(|r| r.time_ms >= 37_000.0 && r.time_ms < 61_234.0)
                .collect();
            assert_eq!(part.iter().collect::<Vec<_>>(), cut, "{name}");
            assert!(part.iter().any(|r| r.event == Event::Crash));
        }
    }

    #[test]
    fn rows_are_in_time_order_with_rising_suspicion_between_arrivals() {
        let sc = scenario();
        let rows = trace(&sc, &opts("fixed", Nanos::ZERO, Nanos::from_secs(20))).unwrap();
        assert!(rows.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
        let mut last: Option<f64> = None;
        for r in &rows {
            match r.event {
                Event::Heartbeat => last = r.suspicion,
                Event::Suspicion => {
                    let s = r.suspicion.unwrap();
                    assert!(last.is_none_or(|l| s >= l), "{r:?}");
                    last = Some(s);
                }
                _ => {}
            }
        }
        let samples = rows.iter().filter(|r| r.event == Event::Suspicion).count();
        // 10 samples per 100 ms for 20 s, less the ones before the first
        // heartbeat.
        assert!((1_900..=2_000).contains(&samples), "{samples}");
    }

    #[test]
    fn bad_input_is_refused() {
        let sc = scenario();
        let err = |o: TraceOptions| trace(&sc, &o).unwrap_err();
        let ok = opts("fixed", Nanos::ZERO, Nanos::from_secs(1));
        assert!(err(TraceOptions {
            detector: Some("nope".into()),
            ..ok.clone()
        })
        .contains("no detector named \"nope\""));
        assert!(err(TraceOptions {
            detector: None,
            ..ok.clone()
        })
        .contains("--detector"));
        assert!(err(TraceOptions {
            from: Nanos::from_secs(1),
            ..ok.clone()
        })
        .contains("must be before"));
        assert!(err(TraceOptions {
            to: Nanos::from_secs(181),
            ..ok.clone()
        })
        .contains("past the end"));
        let spec = &sc.detectors[0].kind.swept;
        assert_eq!(parse_value(spec, "250ms"), Ok(250e6));
        assert!(parse_value(spec, "0s").is_err());
        assert!(parse_value(&sc.detectors[1].kind.swept, "x").is_err());
    }

    #[test]
    fn one_value_of_a_threshold_dependent_detector_matches_the_sweep() {
        let sc = scenario();
        let all = trace(&sc, &opts("akka", Nanos::ZERO, sc.duration)).unwrap();
        let one = trace(
            &sc,
            &TraceOptions {
                values: vec![3.0],
                ..opts("akka", Nanos::ZERO, sc.duration)
            },
        )
        .unwrap();
        let of3: Vec<&TraceRow> = all.iter().filter(|r| r.param_value == Some(3.0)).collect();
        let one3: Vec<&TraceRow> = one.iter().filter(|r| r.param_value.is_some()).collect();
        assert_eq!(of3, one3);
    }
}
