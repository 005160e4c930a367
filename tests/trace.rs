//! `fdsim trace` on a fixture: the CSV contract, the window, and
//! agreement with the scorer of `fdsim run` on the same seed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};

const FIXTURE: &str = "tests/fixtures/ok-small.toml";
/// The fixture's warm-up and duration, in ms.
const WARMUP_MS: f64 = 10_000.0;
const DURATION_MS: f64 = 600_000.0;
const HEADER: &str = "time_ms,event,monitor,target,target_up,detector,kind,param,param_value,\
param_unit,suspicion,suspicion_before,seq,incarnation,sent_ms";

fn fdsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("fdsim runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fdsim-trace-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Parses CSV text into its header and rows of name → cell.
fn parse(text: &str) -> (String, Vec<HashMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header").clone();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("a well-formed row");
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    (header.iter().collect::<Vec<_>>().join(","), rows)
}

/// Runs `fdsim trace` on the fixture and returns its rows.
fn trace(args: &[&str]) -> Vec<HashMap<String, String>> {
    let mut all = vec!["trace", FIXTURE];
    all.extend_from_slice(args);
    let o = fdsim(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (header, rows) = parse(&String::from_utf8(o.stdout).expect("UTF-8"));
    assert_eq!(header, HEADER);
    rows
}

fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?}", row[col]))
}

#[test]
fn rows_are_sorted_and_inside_the_window() {
    let rows = trace(&["--seed", "2", "--from", "1m30s", "--to", "2m15s"]);
    let times: Vec<f64> = rows.iter().map(|r| num(r, "time_ms")).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times are sorted");
    assert!(times.iter().all(|&t| (90_000.0..135_000.0).contains(&t)));
    let count = |e: &str| rows.iter().filter(|r| r["event"] == e).count();
    // 45 s of heartbeats every 100 ms, less the lost and the crashed.
    assert!((300..=450).contains(&count("heartbeat")));
    assert!(count("suspicion") > 10 * count("heartbeat"));
    for r in rows.iter().filter(|r| r["event"] == "heartbeat") {
        assert_eq!(r["param_value"], "", "fixed has one series for all values");
        assert!(num(r, "suspicion") <= num(r, "suspicion_before"));
        assert!(num(r, "sent_ms") < num(r, "time_ms"));
        r["seq"].parse::<u64>().expect("a sequence number");
    }
    for r in rows.iter().filter(|r| r["event"] == "suspect") {
        assert!(num(r, "suspicion") >= num(r, "param_value"), "{r:?}");
    }
}

#[test]
fn value_selects_one_series_and_bad_input_exits_2() {
    let rows = trace(&["--value", "300ms", "--from", "0", "--to", "2m"]);
    assert!(rows
        .iter()
        .all(|r| r["param_value"].is_empty() || r["param_value"] == "300.0"));
    assert!(rows.iter().any(|r| r["event"] == "trust"));
    for bad in [
        &["--detector", "phi", "--from", "0", "--to", "1m"][..],
        &["--from", "1m", "--to", "1m"],
        &["--from", "0", "--to", "11m"],
        &["--from", "0", "--to", "1m", "--value", "3"],
        &["--from", "soon", "--to", "1m"],
    ] {
        let mut args = vec!["trace", FIXTURE];
        args.extend_from_slice(bad);
        let o = fdsim(&args);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("error"));
    }
}

#[test]
fn out_writes_the_same_csv_to_a_file() {
    let dir = temp_dir("out");
    let file = dir.join("t.csv");
    let args = ["--from", "3m", "--to", "3m5s"];
    let mut with_out = args.to_vec();
    with_out.extend(["--out", file.to_str().unwrap()]);
    let o = fdsim(&[&["trace", FIXTURE][..], &with_out].concat());
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    let stdout = fdsim(&[&["trace", FIXTURE][..], &args].concat()).stdout;
    assert_eq!(std::fs::read(&file).unwrap(), stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Over the whole run, the suspect transitions of each value are the
/// scorer's mistakes and detections for that seed and value:
///
/// suspects = mistakes + detected − overlap + unscored
///
/// Each suspicion (from a suspect transition to the next trust) is scored
/// as a mistake if it began while the target was up after the warm-up,
/// and as a detection each time a restart (or the end of the run) finds it
/// standing after a crash. `overlap` counts suspicions scored twice (a
/// suspicion that began just before a crash and detected it), `unscored`
/// those scored never (begun in the warm-up and ended before any crash, or
/// begun while the target was down and ended by a stale heartbeat). Each
/// term is recounted from the trace; the mistakes and detections recounted
/// this way must equal the scorer's exactly.
#[test]
fn whole_run_suspect_transitions_match_the_scorer() {
    for seed in ["1", "2"] {
        let out = temp_dir(&format!("run-{seed}"));
        let o = fdsim(&[
            "run",
            FIXTURE,
            "--seed",
            seed,
            "--seeds",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success());
        let runs = std::fs::read_to_string(out.join("ok-small/runs.csv")).unwrap();
        let (_, scored) = parse(&runs);
        std::fs::remove_dir_all(&out).unwrap();
        assert_eq!(scored.len(), 4, "four swept timeouts");

        let rows = trace(&[
            "--seed",
            seed,
            "--from",
            "0",
            "--to",
            "10m",
            "--samples-per-interval",
            "0",
        ]);
        for s in &scored {
            let value = &s["param_value"];
            let (mut suspects, mut mistakes, mut detected) = (0u64, 0u64, 0u64);
            let (mut overlap, mut unscored) = (0u64, 0u64);
            // How often the suspicion in force has been scored; None while
            // trusting, and before the first heartbeat (the output starts
            // suspect, which is no transition).
            let mut scored_times: Option<u64> = None;
            let mut down = false;
            let mut close = |scored_times: Option<u64>| match scored_times {
                Some(0) => unscored += 1,
                Some(n) => overlap += n - 1,
                None => {}
            };
            for r in &rows {
                let t = num(r, "time_ms");
                assert!(t < DURATION_MS);
                match r["event"].as_str() {
                    "crash" => down = true,
                    "restart" => {
                        if let Some(n) = scored_times.as_mut() {
                            *n += 1;
                            detected += 1;
                        }
                        down = false;
                    }
                    "suspect" if &r["param_value"] == value => {
                        suspects += 1;
                        let mistake = r["target_up"] == "true" && t >= WARMUP_MS;
                        mistakes += u64::from(mistake);
                        scored_times = Some(u64::from(mistake));
                    }
                    "trust" if &r["param_value"] == value => {
                        close(scored_times);
                        scored_times = None;
                    }
                    _ => {}
                }
            }
            if let Some(n) = scored_times.as_mut() {
                if down {
                    *n += 1;
                    detected += 1;
                }
            }
            close(scored_times);
            let want_mistakes: u64 = s["mistakes"].parse().unwrap();
            let want_detected: u64 = s["detected"].parse().unwrap();
            let what = format!("seed {seed}, timeout {value} ms");
            assert_eq!(mistakes, want_mistakes, "{what}");
            assert_eq!(detected, want_detected, "{what}");
            assert!(want_detected > 0, "{what}: the fixture crashes the target");
            assert_eq!(
                suspects,
                want_mistakes + want_detected - overlap + unscored,
                "{what}"
            );
            eprintln!(
                "{what}: {suspects} suspect transitions = {want_mistakes} mistakes + \
                 {want_detected} detected - {overlap} + {unscored}"
            );
        }
    }
}
