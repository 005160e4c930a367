//! Same scenario and seed give byte-identical output, whatever `--jobs`.

use std::path::PathBuf;
use std::process::Command;

fn run_to(dir: &str, jobs: &str) -> Vec<u8> {
    let out: PathBuf = std::env::temp_dir().join(format!("fdsim-det-{dir}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args([
            "run",
            "tests/fixtures/ok-small.toml",
            "scenarios/lan-pair.toml",
            "scenarios/cloud-detectors.toml",
            "scenarios/bursty-loss.toml",
            "scenarios/flapping-link.toml",
            "scenarios/clock-drift-nfds.toml",
        ])
        .args([
            "--seeds",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            jobs,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut bytes = o.stdout;
    for name in [
        "ok-small",
        "lan-pair",
        "cloud-detectors",
        "bursty-loss",
        "flapping-link",
        "clock-drift-nfds",
    ] {
        for file in [
            "runs.csv",
            "curve.csv",
            "summary.txt",
            "report.md",
            "tradeoff.svg",
        ] {
            bytes.extend(std::fs::read(out.join(name).join(file)).unwrap());
        }
    }
    bytes.extend(std::fs::read(out.join("index.md")).unwrap());
    std::fs::remove_dir_all(&out).unwrap();
    bytes
}

#[test]
fn same_seed_twice_gives_identical_bytes() {
    assert!(run_to("a", "1") == run_to("b", "1"));
}

#[test]
fn jobs_one_and_four_give_identical_bytes() {
    assert!(run_to("j1", "1") == run_to("j4", "4"));
}

#[test]
fn different_seeds_give_different_draws() {
    let sc = super::scenario(include_str!("../fixtures/ok-small.toml"));
    let a = fdsim::run::run_seed(&sc, 1);
    let b = fdsim::run::run_seed(&sc, 2);
    assert_ne!(a.qos, b.qos);
}

#[test]
fn adding_a_node_does_not_change_the_draws_of_existing_links() {
    // The target -> monitor link draws from its own stream, so a third
    // node (with its own links) leaves the pair's arrivals untouched.
    let base = r#"
        duration = "2m"
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "lognormal", median = "2ms", sigma = 0.8 }
        loss = 0.05
        [[detectors]]
        kind = "fixed"
        timeout = "150ms"
    "#;
    let two = super::scenario(&format!(
        "{base}\n[nodes]\nmonitors = [\"monitor\"]\ntargets = [\"target\"]\n"
    ));
    let three = super::scenario(&format!(
        "{base}\n[nodes]\nmonitors = [\"monitor\"]\ntargets = [\"target\", \"other\"]\n"
    ));
    let arrivals = |sc: &fdsim::scenario::Scenario| {
        let (mut sim, _) = fdsim::run::build_sim(sc, 9);
        sim.run_until(sc.duration);
        sim.agent(0).arrivals_from(1).to_vec()
    };
    let a = arrivals(&two);
    assert!(a.len() > 1000);
    assert_eq!(a, arrivals(&three));
}

/// Every file of the report of every bundled scenario (one seed each, to
/// stay quick), concatenated in path order.
fn all_bundled(jobs: &str) -> Vec<u8> {
    let out: PathBuf =
        std::env::temp_dir().join(format!("fdsim-det-all-{jobs}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(["run", "scenarios/", "--seeds", "1", "--jobs", jobs, "--out"])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut files = Vec::new();
    let mut dirs = vec![out.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 100, "{} files", files.len());
    let mut bytes = o.stdout;
    for f in files {
        bytes.extend(f.strip_prefix(&out).unwrap().to_string_lossy().bytes());
        bytes.extend(std::fs::read(&f).unwrap());
    }
    std::fs::remove_dir_all(&out).unwrap();
    bytes
}

/// Covers every feature a bundled scenario uses: topologies and regions,
/// pauses, churn, pull heartbeats, replay, clock drift, attribution, and
/// the membership protocols (gossip, k-monitor, SWIM).
#[test]
fn every_bundled_scenario_is_byte_identical_across_jobs() {
    assert!(all_bundled("1") == all_bundled("3"));
}

/// `clusters.csv` and `summary.txt` of a scenario with SWIM (packing by
/// bytes, pooled piggyback buffers, timer lanes) and gossip protocols.
fn swim_run(jobs: &str) -> Vec<u8> {
    let out: PathBuf =
        std::env::temp_dir().join(format!("fdsim-det-swim-{jobs}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(["run", "scenarios/gossip-vs-swim.toml", "--seeds", "2"])
        .args(["--out", out.to_str().unwrap(), "--jobs", jobs])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut bytes = Vec::new();
    for file in ["clusters.csv", "summary.txt"] {
        bytes.extend(std::fs::read(out.join("gossip-vs-swim").join(file)).unwrap());
    }
    std::fs::remove_dir_all(&out).unwrap();
    bytes
}

#[test]
fn swim_clusters_are_identical_with_one_or_four_jobs() {
    let one = swim_run("1");
    assert!(String::from_utf8_lossy(&one).contains("tcp_bytes_per_member_s"));
    assert!(one == swim_run("4"));
}
