//! Sharded runs: `--shard K/N` on each of N machines, then `fdsim merge`,
//! gives the bytes an unsharded run gives, for `run`, `baseline` and
//! `check`; merge refuses what is not one complete run, naming what is
//! missing or twice and the shard that owes it; a killed shard leaves
//! nothing a merge accepts.

use fdsim::run;
use fdsim::scenario::Scenario;
use fdsim::shard::{self, Plan, ShardSpec};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fdsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("fdsim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fdsim-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir`, by relative path, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (x, y) = (snapshot(a), snapshot(b));
    assert_eq!(
        x.keys().collect::<Vec<_>>(),
        y.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (k, v) in &x {
        assert!(
            v == &y[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Runs `cmd ARGS --shard K/N --out DIR/part-K` for K = 1..=N and returns
/// the folders.
fn shards(cmd: &str, args: &[&str], n: u32, dir: &Path) -> Vec<PathBuf> {
    (1..=n)
        .map(|k| {
            let out = dir.join(format!("part-{k}"));
            let spec = format!("{k}/{n}");
            let mut all = vec![cmd];
            all.extend_from_slice(args);
            all.extend_from_slice(&["--shard", &spec, "--out", s(&out)]);
            let o = fdsim(&all);
            assert!(o.status.success(), "shard {spec}: {}", stderr(&o));
            out
        })
        .collect()
}

fn merge(parts: &[PathBuf], extra: &[&str]) -> Output {
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| s(p)));
    args.extend_from_slice(extra);
    fdsim(&args)
}

#[test]
fn four_shards_of_every_bundled_scenario_merge_into_the_unsharded_report_byte_for_byte() {
    // One seed per scenario keeps this to a few seconds of CPU; the
    // Slurm test (deploy/slurm/test-single-node.sh, in CI) runs the
    // scenarios' own seeds.
    let dir = temp_dir("bundled");
    let parts = shards("run", &["scenarios/", "--seeds", "1"], 4, &dir);
    let merged = dir.join("merged");
    let m = merge(&parts, &["--out", s(&merged)]);
    assert!(m.status.success(), "{}", stderr(&m));
    let full = dir.join("full");
    let f = fdsim(&["run", "scenarios/", "--seeds", "1", "--out", s(&full)]);
    assert!(f.status.success(), "{}", stderr(&f));
    assert_same_tree(&full, &merged);
    assert!(m.stdout == f.stdout, "merge prints the tables run prints");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The small scenarios of the property test, loaded from their files (a
/// shard's manifest hashes the file).
fn small(seeds: u64) -> Vec<Scenario> {
    ["small-pair.toml", "small-cluster.toml"]
        .iter()
        .map(|f| {
            let path = Path::new(ROOT).join("tests/fixtures/shard").join(f);
            let mut sc = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            sc.override_seeds(Some(seeds), None).unwrap();
            sc
        })
        .collect()
}

/// Shards `scenarios` N ways in process, as N machines would, and merges
/// the folders given in `order`.
fn shard_and_merge(
    scenarios: &[Scenario],
    n: u32,
    order: &[usize],
    dir: &Path,
) -> Vec<run::ScenarioResult> {
    let plan = Plan::new(scenarios, n);
    let mut folders = Vec::new();
    for k in 1..=n {
        let mine: Vec<run::Unit> = plan
            .of_shard(k - 1)
            .into_iter()
            .map(|i| plan.units[i])
            .collect();
        let outcomes = run::execute(scenarios, &mine, 1, &|_, _| {}).unwrap();
        let spec = ShardSpec { index: k, count: n };
        let m = shard::Manifest::new(shard::Command::Run, spec, scenarios, &mine, None).unwrap();
        let out = dir.join(format!("part-{k}"));
        shard::write_partial(&out, m, outcomes).unwrap();
        folders.push(out);
    }
    let parts: Vec<shard::Partial> = order
        .iter()
        .map(|&i| shard::read_partial(&folders[i]).unwrap())
        .collect();
    shard::agree(&parts).unwrap();
    let outcomes = shard::collect(parts, scenarios, &plan).unwrap();
    run::assemble_all(scenarios.to_vec(), outcomes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// For any shard count (more shards than units too) and any order of
    /// the folders, the merged report and baselines equal the unsharded
    /// ones byte for byte.
    #[test]
    fn merging_any_number_of_shards_in_any_order_reproduces_the_unsharded_outputs(
        n in 1u32..=12,
        seeds in 1u64..=3,
        rotate in 0usize..12,
    ) {
        let dir = temp_dir(&format!("prop-{n}-{seeds}-{rotate}"));
        let scenarios = small(seeds);
        let mut order: Vec<usize> = (0..n as usize).rev().collect();
        order.rotate_left(rotate % n as usize);
        let merged = shard_and_merge(&scenarios, n, &order, &dir);
        let whole = run::run_all(scenarios.clone(), 2, &|_, _| {}).unwrap();
        for (a, b) in merged.iter().zip(&whole) {
            let text = std::fs::read_to_string(&a.scenario.path).unwrap();
            let (x, y) = (
                fdsim::check::Baseline::record(a, &text),
                fdsim::check::Baseline::record(b, &text),
            );
            prop_assert_eq!(
                serde_json::to_string_pretty(&x).unwrap(),
                serde_json::to_string_pretty(&y).unwrap()
            );
        }
        fdsim::report::write_all(&dir.join("merged"), merged).unwrap();
        fdsim::report::write_all(&dir.join("whole"), whole).unwrap();
        assert_same_tree(&dir.join("whole"), &dir.join("merged"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Cheap bundled scenarios that have committed baselines.
const CHEAP: [&str; 3] = [
    "scenarios/asymmetric-partition.toml",
    "scenarios/partition-or-crash.toml",
    "scenarios/replay-example.toml",
];

#[test]
fn merged_baseline_shards_write_the_baselines_an_unsharded_baseline_writes() {
    let dir = temp_dir("baseline");
    let parts = shards("baseline", &CHEAP, 3, &dir);
    let merged = dir.join("merged");
    let m = merge(&parts, &["--out", s(&merged)]);
    assert!(m.status.success(), "{}", stderr(&m));
    let whole = dir.join("whole");
    let mut args = vec!["baseline"];
    args.extend_from_slice(&CHEAP);
    args.extend_from_slice(&["--out", s(&whole)]);
    let w = fdsim(&args);
    assert!(w.status.success(), "{}", stderr(&w));
    assert_same_tree(&whole, &merged);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn merged_check_shards_give_the_verdict_junit_and_exit_code_of_an_unsharded_check() {
    let dir = temp_dir("check");
    let mut args: Vec<&str> = CHEAP.to_vec();
    args.extend_from_slice(&["--baseline", "baselines/", "--tolerance", "undetected=0,0"]);
    let parts = shards("check", &args, 2, &dir);
    let junit_merged = dir.join("merged.xml");
    let m = merge(&parts, &["--junit", s(&junit_merged)]);
    let junit_whole = dir.join("whole.xml");
    let mut whole_args = vec!["check"];
    whole_args.extend_from_slice(&args);
    whole_args.extend_from_slice(&["--junit", s(&junit_whole)]);
    let w = fdsim(&whole_args);
    assert_eq!(m.status.code(), w.status.code(), "{}", stderr(&m));
    assert_eq!(
        String::from_utf8_lossy(&m.stdout),
        String::from_utf8_lossy(&w.stdout)
    );
    assert!(String::from_utf8_lossy(&m.stdout).contains("asymmetric-partition"));
    assert_eq!(
        std::fs::read(&junit_merged).unwrap(),
        std::fs::read(&junit_whole).unwrap()
    );
    // A check merge writes no report.
    let o = merge(&parts, &["--out", s(&dir.join("nope"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shards of fdsim check"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Three shards of the small scenarios, by the binary.
fn three_small_shards(dir: &Path) -> Vec<PathBuf> {
    shards(
        "run",
        &[
            "tests/fixtures/shard/small-pair.toml",
            "tests/fixtures/shard/small-cluster.toml",
        ],
        3,
        dir,
    )
}

fn merge_error(parts: &[PathBuf]) -> String {
    let o = merge(parts, &["--out", "/nonexistent/never-written"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn a_missing_shard_is_named_with_the_units_it_should_have_produced() {
    let dir = temp_dir("missing");
    let parts = three_small_shards(&dir);
    let manifest: shard::Manifest =
        serde_json::from_slice(&std::fs::read(parts[1].join("manifest.json")).unwrap()).unwrap();
    let err = merge_error(&[parts[0].clone(), parts[2].clone()]);
    assert!(err.contains("shard 2/3 should have produced"), "{err}");
    assert!(err.contains(&manifest.units[0]), "{err}");
    assert!(err.contains("missing"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_shard_given_twice_or_a_unit_held_twice_is_refused() {
    let dir = temp_dir("twice");
    let parts = three_small_shards(&dir);
    let err = merge_error(&[parts[0].clone(), parts[1].clone(), parts[0].clone()]);
    assert!(err.contains("shard 1/3 is given twice"), "{err}");
    // The same shard in another folder.
    let copy = dir.join("copy-of-1");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["manifest.json", "results.json"] {
        std::fs::copy(parts[0].join(f), copy.join(f)).unwrap();
    }
    let err = merge_error(&[parts[0].clone(), copy, parts[1].clone(), parts[2].clone()]);
    assert!(err.contains("given twice"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shards_of_different_runs_are_not_merged() {
    let dir = temp_dir("mixed");
    let parts = three_small_shards(&dir);
    // The same scenarios in two shards instead of three.
    let other = shards(
        "run",
        &[
            "tests/fixtures/shard/small-pair.toml",
            "tests/fixtures/shard/small-cluster.toml",
        ],
        2,
        &dir.join("two"),
    );
    let err = merge_error(&[parts[0].clone(), other[1].clone(), parts[2].clone()]);
    assert!(err.contains("not shards of one run"), "{err}");
    assert!(
        err.contains("one of 3 shards, the second one of 2"),
        "{err}"
    );
    // Other seeds.
    let seeds = shards(
        "run",
        &[
            "tests/fixtures/shard/small-pair.toml",
            "tests/fixtures/shard/small-cluster.toml",
            "--seeds",
            "1",
        ],
        3,
        &dir.join("seeds"),
    );
    let err = merge_error(&[parts[0].clone(), seeds[1].clone(), parts[2].clone()]);
    assert!(err.contains("ran different seeds"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_or_altered_shard_folder_is_refused_by_its_checksums() {
    let dir = temp_dir("damaged");
    let parts = three_small_shards(&dir);
    let results = parts[0].join("results.json");
    let mut bytes = std::fs::read(&results).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
    std::fs::write(&results, &bytes).unwrap();
    let err = merge_error(&parts);
    assert!(
        err.contains("results.json") && err.contains("SHA-256"),
        "{err}"
    );
    assert!(err.contains("rerun shard 1/3"), "{err}");
    // A file the manifest does not list.
    std::fs::write(parts[1].join("extra.csv"), "x\n").unwrap();
    let err = merge_error(&parts[1..]);
    assert!(
        err.contains("extra.csv") && err.contains("not listed"),
        "{err}"
    );
    // Another version's manifest.
    let m = parts[2].join("manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    let version = format!("\"fdsim_version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    std::fs::write(&m, text.replace(&version, "\"fdsim_version\": \"0.0.1\"")).unwrap();
    let err = merge_error(&parts[2..]);
    assert!(err.contains("written by fdsim 0.0.1"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_scenario_edited_after_the_shards_ran_is_refused_at_merge() {
    let dir = temp_dir("edited");
    let scenario = dir.join("pair.toml");
    std::fs::copy(
        Path::new(ROOT).join("tests/fixtures/shard/small-pair.toml"),
        &scenario,
    )
    .unwrap();
    let parts = shards("run", &[s(&scenario)], 2, &dir);
    let text = std::fs::read_to_string(&scenario).unwrap();
    std::fs::write(&scenario, text.replace("loss = 0.02", "loss = 0.03")).unwrap();
    let err = merge_error(&parts);
    assert!(err.contains("changed since the shards ran it"), "{err}");
    assert!(err.contains("pair.toml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_killed_shard_leaves_nothing_a_merge_accepts_and_logs_progress_lines() {
    let dir = temp_dir("killed");
    let out = dir.join("part-1");
    // Many seeds on one thread: long enough to be killed mid-way. Progress
    // lines (stderr is a pipe, not a terminal) after every simulation.
    let mut child = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args([
            "run",
            "tests/fixtures/shard/small-pair.toml",
            "--seeds",
            "100000",
            "--jobs",
            "1",
            "--shard",
            "1/2",
            "--out",
            s(&out),
        ])
        .current_dir(ROOT)
        .env("FDSIM_PROGRESS_SECS", "0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let progress = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find(|l| l.starts_with("progress: "))
        .expect("a progress line");
    assert!(progress.starts_with("progress: shard 1/2: "), "{progress}");
    assert!(progress.contains(" simulations ("), "{progress}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.join("manifest.json").exists());
    let err = merge_error(std::slice::from_ref(&out));
    assert!(err.contains("not a finished shard"), "{err}");
    // Whatever it left next to the folder is refused too.
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let err = merge_error(&[e.path()]);
        assert!(
            err.contains("not a finished shard") || err.contains("did not finish"),
            "{}: {err}",
            e.path().display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tune_says_it_runs_on_one_machine() {
    let o = fdsim(&[
        "tune",
        "tests/fixtures/shard/small-pair.toml",
        "--max-mistakes-per-hour",
        "1",
        "--shard",
        "1/2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("tune runs on one machine"),
        "{}",
        stderr(&o)
    );
    let help = fdsim(&["tune", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("tune runs on one machine"));
}

#[test]
fn a_bad_shard_argument_is_a_usage_error() {
    for bad in ["0/4", "5/4", "4", "a/b", "1/0"] {
        let o = fdsim(&[
            "run",
            "tests/fixtures/shard/small-pair.toml",
            "--shard",
            bad,
            "--out",
            "/nonexistent/x",
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains("takes K/N"), "{bad}: {}", stderr(&o));
    }
}

#[test]
fn validate_shows_the_plan_each_shard_then_runs() {
    let files = [
        "tests/fixtures/shard/small-pair.toml",
        "tests/fixtures/shard/small-cluster.toml",
    ];
    let mut args = vec!["validate"];
    args.extend_from_slice(&files);
    args.extend_from_slice(&["--shards", "3", "--seeds", "2"]);
    let o = fdsim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    // 2 seeds x (1 pairwise + 2 protocols x 2 values) = 10 simulations.
    assert!(text.contains("plan for 3 shards"), "{text}");
    assert!(text.contains("): 10 simulations"), "{text}");
    assert!(text.contains("best speed-up over one machine"), "{text}");
    let dir = temp_dir("plan");
    for k in 1..=3 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("shard {k}/3: ")))
            .unwrap_or_else(|| panic!("no line for shard {k}: {text}"));
        let planned = line.trim_start().split(' ').nth(2).unwrap();
        let spec = format!("{k}/3");
        let out = dir.join(format!("part-{k}"));
        let mut run = vec!["run"];
        run.extend_from_slice(&files);
        run.extend_from_slice(&["--seeds", "2", "--shard", &spec, "--out", s(&out)]);
        let r = fdsim(&run);
        assert!(r.status.success(), "{}", stderr(&r));
        assert!(
            stderr(&r).contains(&format!("shard {spec}: {planned} of 10 simulations")),
            "{line} / {}",
            stderr(&r)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
