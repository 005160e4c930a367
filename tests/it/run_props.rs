//! A run-level property: for random valid small scenarios, drawn from a
//! small grammar of valid fields (pairwise detectors with faults,
//! partitions, loss and both heartbeat styles; k-monitor, gossip and SWIM
//! clusters), `run` never panics and handles no more events than its
//! estimate ([`fdsim::cost`]) allows: at most twice the estimate, and at
//! least an eighth of it, plus a few hundred events for what starts every
//! run. The estimate is meant as an upper bound (the guards refuse on it);
//! the lower bound keeps it from being uselessly pessimistic. The count is
//! the engine's (`NetStats::events`): no wall clock.

use crate::cost::actual_events;
use fdsim::cost;
use proptest::prelude::*;

/// The numbers a pairwise scenario is built from.
#[derive(Clone, Debug)]
struct Pair {
    duration_s: u64,
    interval_ms: u64,
    latency: u8,
    latency_ms: u64,
    loss_pct: u8,
    pull: bool,
    fault: u8,
    fault_s: (u64, u64),
    pauses: bool,
    flap_s: Option<(u64, u64)>,
    detectors: Vec<(u8, u8)>,
}

fn pair() -> impl Strategy<Value = Pair> {
    (
        (
            10u64..=120,
            prop::sample::select(vec![20u64, 50, 100, 250, 1000]),
        ),
        (0u8..3, 1u64..=30, 0u8..=10, any::<bool>()),
        (0u8..4, (5u64..=30, 1u64..=20), any::<bool>()),
        prop::option::of((1u64..=10, 1u64..=10)),
        prop::collection::vec((0u8..4, 1u8..=3), 1..=3),
    )
        .prop_map(
            |(
                (duration_s, interval_ms),
                (latency, latency_ms, loss_pct, pull),
                (fault, fault_s, pauses),
                flap_s,
                detectors,
            )| Pair {
                duration_s,
                interval_ms,
                latency,
                latency_ms,
                loss_pct,
                pull,
                fault,
                fault_s,
                pauses,
                flap_s,
                detectors,
            },
        )
}

fn latency_text(kind: u8, ms: u64) -> String {
    match kind {
        0 => format!("{{ dist = \"constant\", value = \"{ms}ms\" }}"),
        1 => format!("{{ dist = \"lognormal\", median = \"{ms}ms\", sigma = 0.6 }}"),
        _ => format!(
            "{{ dist = \"uniform\", min = \"1ms\", max = \"{}ms\" }}",
            ms + 1
        ),
    }
}

impl Pair {
    fn text(&self) -> String {
        let mut t = format!(
            "name = \"prop\"\nduration = \"{}s\"\nwarmup = \"1s\"\nseeds = 1\n[heartbeat]\ninterval = \"{}ms\"\nstyle = \"{}\"\n[network]\nlatency = {}\nloss = {}\n",
            self.duration_s,
            self.interval_ms,
            if self.pull { "pull" } else { "push" },
            latency_text(self.latency, self.latency_ms),
            f64::from(self.loss_pct) / 100.0,
        );
        // At most one crash-type fault on the target (they may not
        // overlap), down for at most half of each cycle.
        let (every, down) = (
            self.fault_s.0,
            self.fault_s.1.min(self.fault_s.0 / 2).max(1),
        );
        let fault = match self.fault {
            1 => format!(
                "kind = \"crash\"\nnode = \"target\"\nat = \"{}s\"\nrestart_after = \"{down}s\"\n",
                every.min(self.duration_s / 2)
            ),
            2 => format!("kind = \"crash-loop\"\nnode = \"target\"\nfirst = \"2s\"\nevery = \"{every}s\"\ndown = \"{down}s\"\njitter = \"1s\"\n"),
            3 => format!("kind = \"churn\"\nnode = \"target\"\nfirst = \"1s\"\nmttf = \"{every}s\"\nmttr = \"{down}s\"\n"),
            _ => String::new(),
        };
        if !fault.is_empty() {
            t += &format!("[[faults]]\n{fault}");
        }
        if self.pauses {
            t += "[[faults]]\nkind = \"pauses\"\nnode = \"monitor\"\nevery = \"10s\"\nlength = { dist = \"uniform\", min = \"100ms\", max = \"2s\" }\n";
        }
        if let Some((up, down)) = self.flap_s {
            t += &format!(
                "[[partitions]]\nstart = \"1s\"\nend = \"{}s\"\na = [\"target\"]\nb = [\"monitor\"]\nflap = {{ up = \"{up}s\", down = \"{down}s\" }}\n",
                self.duration_s
            );
        }
        for (i, &(kind, values)) in self.detectors.iter().enumerate() {
            let sweep = |unit: &str, base: u64| -> String {
                let v: Vec<String> = (1..=u64::from(values))
                    .map(|k| format!("\"{}{unit}\"", base * (k + 1)))
                    .collect();
                v.join(", ")
            };
            let numbers: Vec<String> = (1..=values).map(|k| format!("{}", 2 * k)).collect();
            let body = match kind {
                0 => format!(
                    "kind = \"fixed\"\ntimeout = [{}]",
                    sweep("ms", self.interval_ms)
                ),
                1 => format!("kind = \"chen\"\nalpha = [{}]", sweep("ms", 20)),
                2 => format!("kind = \"phi\"\nthreshold = [{}]", numbers.join(", ")),
                _ => format!("kind = \"phi-akka\"\nthreshold = [{}]", numbers.join(", ")),
            };
            t += &format!("[[detectors]]\nname = \"d{i}\"\n{body}\n");
        }
        t
    }
}

/// The numbers a cluster scenario is built from.
#[derive(Clone, Debug)]
struct Cluster {
    members: u32,
    duration_s: u64,
    protocol: u8,
    k: u32,
    loss_pct: u8,
    crash: bool,
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        3u32..=8,
        10u64..=60,
        0u8..3,
        1u32..=7,
        0u8..=3,
        any::<bool>(),
    )
        .prop_map(
            |(members, duration_s, protocol, k, loss_pct, crash)| Cluster {
                members,
                duration_s,
                protocol,
                k: k.min(members - 1),
                loss_pct,
                crash,
            },
        )
}

impl Cluster {
    fn text(&self) -> String {
        let mut t = format!(
            "name = \"prop\"\nduration = \"{}s\"\nwarmup = \"1s\"\nseeds = 1\n[nodes]\nn = {}\n[network]\nlatency = {{ dist = \"lognormal\", median = \"1ms\", sigma = 0.5 }}\nloss = {}\n",
            self.duration_s,
            self.members,
            f64::from(self.loss_pct) / 100.0
        );
        if self.crash {
            t += "[[faults]]\nkind = \"crash-loop\"\nnode = \"m1\"\nfirst = \"3s\"\nevery = \"15s\"\ndown = \"5s\"\n";
        }
        t += &match self.protocol {
            0 => format!("[[protocols]]\nkind = \"k-monitor\"\npreset = \"akka\"\nk = {}\nthreshold = [4, 8]\n", self.k),
            1 => "[[protocols]]\nkind = \"gossip\"\ninterval = \"250ms\"\nfanout = 1\nfail = [\"2s\", \"5s\"]\n".to_string(),
            _ => "[[protocols]]\nkind = \"swim\"\npreset = \"memberlist-lan\"\nsuspicion_mult = [2, 4]\n".to_string(),
        };
        t
    }
}

/// Runs every simulation of one seed of `text` and holds each one's
/// engine events to its estimate.
fn within_estimate(text: &str) -> Result<(), TestCaseError> {
    let sc = crate::scenario(text);
    for (unit, est) in cost::unit_costs(&sc) {
        let got = actual_events(&sc, sc.seeds[0], unit) as f64;
        prop_assert!(
            got <= 2.0 * est.events + 300.0,
            "{unit:?}: {got} events, estimate {} (more than twice):\n{text}",
            est.events
        );
        prop_assert!(
            est.events <= 8.0 * got + 300.0,
            "{unit:?}: {got} events, estimate {} (over eight times):\n{text}",
            est.events
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_small_pairwise_run_never_panics_and_stays_within_its_estimated_events(p in pair()) {
        within_estimate(&p.text())?;
    }

    #[test]
    fn a_small_cluster_run_never_panics_and_stays_within_its_estimated_events(c in cluster()) {
        within_estimate(&c.text())?;
    }
}
