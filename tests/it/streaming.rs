//! Scoring while simulating: a pairwise run scored stretch by stretch
//! gives exactly what scoring the whole logged run gives, and what it
//! holds does not grow with the horizon.

use fdsim::run::{logged_pairwise, stream_pairwise, StreamState};
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;
use std::path::Path;

/// Every bundled scenario with pairwise detectors and a simulated
/// network, cut to `hours` of virtual time.
fn bundled(hours: u64) -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/ is readable")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("scenario is readable");
        let mut sc = Scenario::parse(&f, &text).unwrap_or_else(|e| panic!("{e}"));
        if sc.detectors.is_empty() || sc.replay.is_some() {
            continue;
        }
        sc.duration = sc.duration.min(Nanos::from_secs(3600 * hours));
        out.push(sc);
    }
    out
}

#[test]
fn every_bundled_scenario_scores_the_same_streamed_as_logged() {
    let scenarios = bundled(2);
    assert!(scenarios.len() >= 10, "found {}", scenarios.len());
    for sc in &scenarios {
        for seed in [3, 4] {
            let streamed = stream_pairwise(sc, seed, |_| {});
            let logged = logged_pairwise(sc, seed);
            assert!(streamed == logged, "{} seed {seed} differs", sc.name);
        }
    }
}

/// A pair whose heartbeats take longer than the NFD-S freshness margin
/// allows, so the smallest δ suspect from the first heartbeat to the end:
/// one mistake open across every stretch while loss bursts, pauses and a
/// flapping partition come and go, and their windows are dropped under
/// it.
const LONG_MISTAKES: &str = r#"
duration = "3h"
warmup = "10s"
[heartbeat]
interval = "100ms"
[network]
latency = { dist = "lognormal", median = "150ms", sigma = 0.3 }
loss_model = { kind = "gilbert-elliott", p_good_to_bad = 0.01, p_bad_to_good = 0.3, loss_good = 0, loss_bad = 0.8 }
[[faults]]
kind = "pauses"
node = "monitor"
every = "7m"
length = { dist = "uniform", min = "50ms", max = "3s" }
[[faults]]
kind = "crash-loop"
node = "target"
every = "20m"
down = "30s"
jitter = "5m"
[[partitions]]
a = ["monitor"]
b = ["target"]
start = "30m"
end = "2h"
flap = { up = "9m", down = "2s" }
[[detectors]]
kind = "chen-nfds"
delta = ["1ms", "60ms", "200ms", "1s"]
[[detectors]]
kind = "phi"
threshold = [0.5, 3, 8]
[[detectors]]
kind = "fixed"
timeout = ["120ms", "400ms"]
"#;

fn long_mistakes(duration: &str) -> Scenario {
    let text = LONG_MISTAKES.replace("duration = \"3h\"", &format!("duration = \"{duration}\""));
    super::scenario(&text)
}

#[test]
fn mistakes_open_while_their_windows_are_dropped_keep_their_causes() {
    let sc = long_mistakes("3h");
    for seed in 1..=3 {
        let (streamed, st) = stream_pairwise(&sc, seed, |_| {});
        let (logged, lt) = logged_pairwise(&sc, seed);
        assert_eq!(st, lt);
        assert_eq!(streamed, logged, "seed {seed}");
        let long = &streamed[0][0];
        assert!(long.mistakes >= 1 && long.causes.total() == long.mistakes);
    }
}

/// The most of each kind of held state over a streamed run.
fn peak(sc: &Scenario) -> StreamState {
    let mut most = StreamState::default();
    stream_pairwise(sc, 7, |s| {
        most.pending_events = most.pending_events.max(s.pending_events);
        most.windows_held = most.windows_held.max(s.windows_held);
        most.log_capacity = most.log_capacity.max(s.log_capacity);
        most.unread_windows = most.unread_windows.max(s.unread_windows);
        most.reached = s.reached;
    });
    most
}

#[test]
fn what_a_pairwise_run_holds_does_not_grow_with_its_horizon() {
    let short = peak(&long_mistakes("2h"));
    let long = peak(&long_mistakes("48h"));
    assert_eq!(long.reached, Nanos::from_secs(48 * 3600));
    // Logged whole, 48 h would hold 1.7 M arrivals, 144 crashes and
    // restarts and some 400 pauses up front, and every loss burst.
    assert!(long.pending_events <= 16, "{long:?}");
    assert!(long.windows_held <= 64, "{long:?}");
    assert!(long.log_capacity <= 8_192, "{long:?}");
    assert_eq!(long.unread_windows, 0);
    assert!(
        long.pending_events <= short.pending_events + 4,
        "{short:?} {long:?}"
    );
    assert!(
        long.log_capacity <= short.log_capacity,
        "{short:?} {long:?}"
    );
}
