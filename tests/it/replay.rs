//! Trace replay (`[replay]`) and `fdsim record`: a recorded trace replays
//! to exactly the scores of the run it was recorded from, and bad traces
//! are refused with the file and line.

use fdsim::run::run_seed;
use fdsim::scenario::Scenario;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fdsim-replay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Everything a replay keeps from the scenario it was recorded from.
const SHARED: &str = r#"
duration = "10m"
warmup = "10s"
[heartbeat]
interval = "100ms"
[nodes]
monitors = ["m1", "m2"]
targets = ["t1", "t2"]
[[clocks]]
node = "m2"
drift_ppm = 40
offset = "-15ms"
[[clocks]]
node = "t1"
offset = "30ms"
[[detectors]]
kind = "fixed"
timeout = ["120ms", "200ms", "400ms"]
[[detectors]]
kind = "chen-nfds"
delta = ["10ms", "60ms"]
[[detectors]]
kind = "chen"
alpha = ["5ms", "50ms"]
window = 50
[[detectors]]
kind = "phi-akka"
threshold = [2, 8]
acceptable_heartbeat_pause = "0s"
first_heartbeat_estimate = "100ms"
[[detectors]]
kind = "satzger"
threshold = [0.9, 0.99]
"#;

const FAULTS: &str = r#"
[[faults]]
kind = "crash-loop"
node = "t1"
every = "2m"
down = "20s"
jitter = "30s"
[[faults]]
kind = "churn"
node = "t2"
mttf = "90s"
mttr = { dist = "uniform", min = "5s", max = "15s" }
"#;

/// A simulated scenario: bursty loss, duplicates, heavy tails, jitter.
fn simulated(style: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        seeds = [7]
        {SHARED}
        [network]
        latency = {{ dist = "lognormal", median = "3ms", sigma = 0.8 }}
        loss_model = {{ kind = "gilbert-elliott", p_good_to_bad = 0.01, p_bad_to_good = 0.3 }}
        duplicate = 0.01
        {FAULTS}
        "#
    ))
    .with_style(style)
}

trait WithStyle {
    fn with_style(self, style: &str) -> Self;
}

impl WithStyle for Scenario {
    fn with_style(mut self, style: &str) -> Scenario {
        if style == "pull" {
            self.style = fdsim::protocol::heartbeat::Style::Pull;
        }
        self
    }
}

fn replayed(file: &Path, extra: &str) -> Scenario {
    super::scenario(&format!(
        "seeds = [7]\n{SHARED}\n{extra}\n[replay]\nfile = \"{}\"\n",
        file.display()
    ))
}

/// The scores with the mistakes' cause labels cleared.
fn uncaused(qos: &[Vec<fdsim::metrics::RunQos>]) -> Vec<Vec<fdsim::metrics::RunQos>> {
    let mut q = qos.to_vec();
    for r in q.iter_mut().flatten() {
        r.causes = Default::default();
    }
    q
}

#[test]
fn a_recorded_trace_replays_to_exactly_the_scores_of_its_run() {
    let dir = temp_dir("exact");
    for style in ["push", "pull"] {
        let sc = simulated(style);
        let file = dir.join(format!("{style}.csv"));
        std::fs::write(&file, fdsim::replay::record(&sc, 7).unwrap()).unwrap();
        let original = run_seed(&sc, 7);
        let replay = replayed(&file, "");
        assert_eq!(replay.seeds, vec![7]);
        let again = run_seed(&replay, 7);
        // A trace knows nothing of the network's fault windows, so its
        // mistakes are all attributed `none`: compare everything else.
        assert_eq!(uncaused(&again.qos), uncaused(&original.qos), "{style}");
        // The run made mistakes and detected crashes, so the equality says
        // something; and the replay sent no message.
        let fixed = &original.qos[0][0];
        assert!(
            fixed.mistakes > 0 && fixed.detections.len() > 5,
            "{fixed:?}"
        );
        assert_eq!(again.stats.sent, 0);
        // Recording the replay writes the same trace.
        let rerecorded = fdsim::replay::record(&replay, 7).unwrap();
        let strip = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .lines()
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&rerecorded), strip(&std::fs::read(&file).unwrap()));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_ground_truth_can_come_from_the_scenarios_faults_instead() {
    let dir = temp_dir("faults");
    let sc = simulated("push");
    let text = String::from_utf8(fdsim::replay::record(&sc, 7).unwrap()).unwrap();
    let heartbeats_only: String = text
        .lines()
        .filter(|l| !l.contains(",crash,") && !l.contains(",restart,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(heartbeats_only.len() < text.len());
    let file = dir.join("hb.csv");
    std::fs::write(&file, heartbeats_only).unwrap();
    // The same faults, the same seed: the same crashes, drawn again.
    let replay = replayed(&file, FAULTS);
    assert_eq!(
        uncaused(&run_seed(&replay, 7).qos),
        uncaused(&run_seed(&sc, 7).qos)
    );
    // Without faults there is no crash to detect.
    let none = run_seed(&replayed(&file, ""), 7);
    assert!(none.qos.iter().flatten().all(|q| q.crashes() == 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A one-pair scenario replaying `trace` (written next to it).
fn minimal(name: &str, trace: &str, extra: &str) -> Result<Scenario, String> {
    minimal_with(name, trace, "", extra)
}

fn minimal_with(name: &str, trace: &str, top: &str, extra: &str) -> Result<Scenario, String> {
    let dir = temp_dir(name);
    std::fs::write(dir.join("t.csv"), trace).unwrap();
    let path = dir.join("s.toml");
    let text = format!(
        "{top}\nduration = \"10s\"\n[heartbeat]\ninterval = \"100ms\"\n{extra}\n[replay]\nfile = \"t.csv\"\n\
         [[detectors]]\nkind = \"fixed\"\ntimeout = [\"150ms\", \"1s\"]\n"
    );
    std::fs::write(&path, &text).unwrap();
    let got = Scenario::load(&path).map_err(|e| e.to_string());
    std::fs::remove_dir_all(&dir).unwrap();
    got
}

#[test]
fn a_bare_column_of_arrival_times_is_a_trace() {
    // Arrivals every 100 ms from 5 ms, with a 600 ms hole after 1.005 s,
    // and a crash at 2.05 s (restart at 3 s): columns are found by name.
    let mut trace = String::from("# measured with tcpdump\ntime_ms,event\n");
    let mut t: f64 = 5.0;
    while t < 10_000.0 {
        if !(1_100.0..1_600.0).contains(&t) && !(2_050.0..3_000.0).contains(&t) {
            trace.push_str(&format!("{t},\n"));
        }
        if (t - 2_005.0).abs() < 1e-9 {
            trace.push_str("2050,crash\n");
        }
        if (t - 2_905.0).abs() < 1e-9 {
            trace.push_str("3000,restart\n");
        }
        t += 100.0;
    }
    let sc = minimal("bare", &trace, "").unwrap();
    assert_eq!(sc.seeds.len(), 1, "a replay is one run");
    let r = sc.replay.as_ref().unwrap();
    let log = r.arrivals(0, 1);
    assert_eq!(log[0].arrival.seq, 0);
    // After the restart the sequence numbers start again in incarnation 1.
    let after = log
        .iter()
        .find(|l| l.arrival.at.0 >= 3_000_000_000)
        .unwrap();
    assert_eq!((after.arrival.seq, after.arrival.incarnation), (0, 1));
    let res = run_seed(&sc, 1);
    let q150 = &res.qos[0][0];
    // The 600 ms hole is one mistake for 150 ms (1.155 s to 1.605 s).
    assert_eq!(q150.mistakes, 1);
    assert_eq!(q150.mistake_time.0, 450_000_000);
    // The crash at 2.05 s: last arrival 2.005 s, suspected from 2.155 s.
    assert_eq!(q150.detections, vec![fdsim::sim::Nanos::from_millis(105)]);
    assert_eq!(res.qos[0][1].mistakes, 0);
}

#[test]
fn bad_traces_are_refused_with_file_and_line() {
    let err = |trace: &str| minimal("bad", trace, "").unwrap_err();
    let cases = [
        ("time_ms\n100\n50\n", "t.csv:3: heartbeat at 50 ms arrives before the previous one of \"target\" -> \"monitor\" (100 ms, line 2); sort the rows by time"),
        ("# c\n\ntime_ms\n1\n2,5\n", "t.csv:5: 2 fields where the header has 1"),
        ("time_ms\n12ms\n", "t.csv:2: time_ms \"12ms\" is not a time in milliseconds"),
        ("time_ms\n-3\n", "t.csv:2: time_ms \"-3\" is not a time"),
        ("arrival,seq\n1,0\n", "t.csv:1: unknown column `arrival`"),
        ("seq\n1\n", "t.csv:1: the header has no `time_ms` column"),
        ("time_ms,target\n1,nobody\n", "t.csv:2: unknown target \"nobody\""),
        ("time_ms,target\n1,monitor\n", "t.csv:2: target \"monitor\" is not one of the scenario's targets"),
        ("time_ms,event\n1,crash\n2,crash\n", "t.csv:3: \"target\" crashes again without a restart after its crash on line 2"),
        ("time_ms,event\n1,restart\n", "t.csv:2: \"target\" restarts without having crashed"),
        ("time_ms,event\n5,crash\n3,restart\n", "t.csv:3: restart of \"target\" at 3 ms is not after"),
        ("time_ms,event\n1,boom\n", "t.csv:2: unknown event \"boom\""),
        ("time_ms\n10000\n", "t.csv:2: time_ms 10000 is at or after the end of the run (10s)"),
        ("time_ms,seq\n1,x\n", "t.csv:2: seq \"x\" is not a whole number"),
        ("time_ms,sent_ms\n1,\n", "t.csv:2: sent_ms is empty"),
        ("time_ms,time_ms\n1,1\n", "t.csv:1: column `time_ms` appears twice"),
        ("# only a comment\n", "the trace is empty"),
    ];
    for (trace, want) in cases {
        let got = err(trace);
        assert!(got.contains(want), "{trace:?}\n  got: {got}\n want: {want}");
        assert!(got.contains("s.toml:"), "{got}");
    }
    // The scenario side.
    let e = minimal(
        "nonet",
        "time_ms\n1\n",
        "[network]\nlatency = { dist = \"constant\", value = \"1ms\" }",
    )
    .unwrap_err();
    assert!(
        e.contains("`[network]` does not apply with `[replay]`"),
        "{e}"
    );
    let e = minimal_with("seeds", "time_ms\n1\n", "seeds = 3", "").unwrap_err();
    assert!(e.contains("a replayed trace is one run"), "{e}");
    let e = minimal(
        "pause",
        "time_ms\n1\n",
        "[[faults]]\nkind = \"pause\"\nnode = \"target\"\nat = \"1s\"\nlength = \"1s\"",
    )
    .unwrap_err();
    assert!(
        e.contains("kind = \"pause\" does not apply with `[replay]`"),
        "{e}"
    );
    let e = minimal(
        "two",
        "time_ms,event\n1,crash\n",
        "[[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"5s\"",
    )
    .unwrap_err();
    assert!(e.contains("give the ground truth once"), "{e}");
    let e = minimal("missing", "", "").unwrap_err();
    assert!(e.contains("the trace is empty"), "{e}");
    let dir = temp_dir("nfds");
    std::fs::write(dir.join("t.csv"), "time_ms\n1\n").unwrap();
    let text = "duration = \"10s\"\n[heartbeat]\ninterval = \"100ms\"\n[replay]\nfile = \"t.csv\"\n[[detectors]]\nkind = \"chen-nfds\"\ndelta = \"1ms\"\n";
    let e = Scenario::parse(&dir.join("s.toml"), text)
        .unwrap_err()
        .to_string();
    assert!(e.contains("has no `sent_ms` column"), "{e}");
    let e = Scenario::parse(&dir.join("s.toml"), &text.replace("t.csv", "nope.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("s.toml:5:8: `replay.file`: cannot read nope.csv"),
        "{e}"
    );
    let no_net = "duration = \"10s\"\n[heartbeat]\ninterval = \"100ms\"\n[[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n";
    let e = Scenario::parse(&dir.join("s.toml"), no_net)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing table `[network]`"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    let mut sc = minimal("override", "time_ms\n1\n", "").unwrap();
    assert!(sc.override_seeds(Some(2), None).is_err());
    assert!(sc.override_seeds(Some(1), Some(9)).is_ok());
}

#[test]
fn the_bundled_replay_example_scores_exactly_as_its_source_scenario() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let source = Scenario::load(&root.join("data/replay-source.toml")).unwrap();
    let replay = Scenario::load(&root.join("replay-example.toml")).unwrap();
    let a = run_seed(&source, source.seeds[0]);
    let b = run_seed(&replay, replay.seeds[0]);
    assert_eq!(
        uncaused(&a.qos),
        uncaused(&b.qos),
        "scenarios/data/replay-trace.csv no longer matches its source; regenerate it with \
         `fdsim record scenarios/data/replay-source.toml --out scenarios/data/replay-trace.csv`"
    );
    assert!(a.qos[0][0].detections.len() >= 4);
    // The bundled trace is exactly what `fdsim record` writes today.
    let shipped = std::fs::read_to_string(root.join("data/replay-trace.csv")).unwrap();
    let fresh = String::from_utf8(fdsim::replay::record(&source, 1).unwrap()).unwrap();
    assert_eq!(shipped, fresh);
}
