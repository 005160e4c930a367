//! The `fdsim` binary on fixture scenarios: success paths, precise errors
//! and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fdsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("fdsim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fdsim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `validate` on a fixture and returns (exit code, stderr).
fn validate(fixture: &str) -> (i32, String) {
    let path = format!("tests/fixtures/{fixture}");
    let o = fdsim(&["validate", &path]);
    (o.status.code().unwrap_or(-1), stderr(&o))
}

#[test]
fn run_writes_metrics_csv_and_prints_the_table() {
    let out = temp_dir("run");
    let o = fdsim(&[
        "run",
        "tests/fixtures/ok-small.toml",
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("T_D mean"), "{stdout}");
    assert!(stdout.contains("timeout=120ms"), "{stdout}");
    let csv = std::fs::read_to_string(out.join("ok-small/metrics.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("scenario,detector,kind,param,param_value,param_unit,seed,"));
    assert!(header.contains("detection_ms_p99") && header.contains("mistakes_per_hour"));
    // 4 log-spaced timeouts x 2 seeds.
    assert_eq!(lines.count(), 8);
    assert!(out.join("ok-small/summary.txt").exists());
    let leftovers: Vec<_> = std::fs::read_dir(out.join("ok-small"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn validate_accepts_every_bundled_scenario() {
    let o = fdsim(&["validate", "scenarios/"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("ok: "), "{stdout}");
}

#[test]
fn out_of_range_loss_names_file_line_column_and_field() {
    let (code, err) = validate("bad-loss.toml");
    assert_eq!(code, 2);
    assert!(
        err.contains("tests/fixtures/bad-loss.toml:9:8: `network.loss` must be in [0, 1], got 1.5"),
        "{err}"
    );
    assert!(
        err.contains("9 | loss = 1.5") && err.contains("^^^"),
        "{err}"
    );
}

#[test]
fn unknown_field_is_an_error_with_its_position() {
    let (code, err) = validate("bad-syntax.toml");
    assert_eq!(code, 2);
    assert!(err.contains("bad-syntax.toml:9:1:"), "{err}");
    assert!(err.contains("unknown field `lose`"), "{err}");
}

#[test]
fn toml_syntax_error_is_reported_with_position() {
    let (code, err) = validate("bad-toml.toml");
    assert_eq!(code, 2);
    assert!(err.contains("bad-toml.toml:2:"), "{err}");
}

#[test]
fn min_above_max_is_a_semantic_error_at_the_max() {
    let (code, err) = validate("bad-uniform.toml");
    assert_eq!(code, 2);
    assert!(
        err.contains("bad-uniform.toml:8:50: `network.latency.max` (2ms) is below `network.latency.min` (5ms)"),
        "{err}"
    );
}

#[test]
fn partition_ending_before_it_starts_is_rejected() {
    let (code, err) = validate("bad-partition.toml");
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "bad-partition.toml:12:7: `partitions.end` (5m) must be after `partitions.start` (10m)"
        ),
        "{err}"
    );
}

#[test]
fn unreadable_duration_explains_the_format() {
    let (code, err) = validate("bad-duration.toml");
    assert_eq!(code, 2);
    assert!(err.contains("bad-duration.toml:2:12: `duration`:"), "{err}");
    assert!(err.contains("\"150ms\""), "{err}");
}

#[test]
fn out_of_range_detector_parameter_is_rejected() {
    let (code, err) = validate("bad-detector.toml");
    assert_eq!(code, 2);
    assert!(
        err.contains("bad-detector.toml:12:11: `timeout` must be > 0s, got 0s"),
        "{err}"
    );
}

#[test]
fn run_refuses_bad_input_and_writes_nothing() {
    let out = temp_dir("bad");
    let o = fdsim(&[
        "run",
        "tests/fixtures/ok-small.toml",
        "tests/fixtures/bad-loss.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !out.exists(),
        "no output may be written when any input is bad"
    );
}

#[test]
fn missing_file_is_bad_input() {
    let (code, err) = validate("does-not-exist.toml");
    assert_eq!(code, 2);
    assert!(
        err.contains("does-not-exist.toml") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_with_two() {
    let o = fdsim(&["run"]);
    assert_eq!(o.status.code(), Some(2));
    let o = fdsim(&["run", "scenarios/", "--jobs", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [&["--help"][..], &["run", "--help"], &["validate", "--help"]] {
        let o = fdsim(cmd);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("fdsim run scenarios/") || text.contains("fdsim validate"),
            "{text}"
        );
    }
}

#[test]
fn fixtures_exist() {
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ok-small.toml")
        .exists());
}

#[test]
fn detectors_lists_every_kind_and_details_one() {
    let o = fdsim(&["detectors"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for k in fdsim::detector::kinds() {
        assert!(text.contains(k.name), "{text}");
    }
    let o = fdsim(&["detectors", "fixed"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("timeout"));
    let o = fdsim(&["detectors", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown detector \"nope\""));
}

#[test]
fn record_writes_a_trace_that_validates_as_a_replay() {
    let dir = temp_dir("record");
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.csv");
    let o = fdsim(&[
        "record",
        "scenarios/data/replay-source.toml",
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.starts_with("# heartbeat trace recorded by fdsim"));
    assert_eq!(
        text.lines().nth(1),
        Some("time_ms,event,monitor,target,seq,sent_ms,incarnation")
    );
    let sc = dir.join("r.toml");
    std::fs::write(
        &sc,
        "duration = \"20m\"\n[heartbeat]\ninterval = \"1s\"\n[replay]\nfile = \"t.csv\"\n\
         [[detectors]]\nkind = \"fixed\"\ntimeout = \"2s\"\n",
    )
    .unwrap();
    let o = fdsim(&["validate", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A bad row is reported with the scenario, the trace and its line.
    std::fs::write(
        &trace,
        text.replacen("heartbeat,monitor", "heartbeat,nobody", 1),
    )
    .unwrap();
    let o = fdsim(&["validate", sc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`replay.file`: t.csv:3: unknown monitor \"nobody\""),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs fdsim with its standard output a pipe whose reading end is already
/// closed (as `fdsim ... | head` is once `head` has had its lines), so its
/// first write fails with a broken pipe.
fn into_closed_pipe(args: &[&str]) -> Output {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true runs");
    let write_end = reader.stdin.take().expect("a piped stdin");
    reader.wait().expect("true exits");
    Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::from(write_end))
        .output()
        .expect("fdsim runs")
}

#[test]
fn a_closed_pipe_on_standard_output_is_not_a_failure() {
    let out = temp_dir("pipe");
    let out_dir = out.to_str().unwrap();
    let commands: [&[&str]; 7] = [
        &[
            "trace",
            "tests/fixtures/ok-small.toml",
            "--from",
            "0",
            "--to",
            "10m",
        ],
        &["record", "tests/fixtures/ok-small.toml"],
        &[
            "run",
            "tests/fixtures/ok-small.toml",
            "--out",
            out_dir,
            "--jobs",
            "1",
        ],
        &[
            "validate",
            "scenarios/lan-pair.toml",
            "scenarios/wan-pair.toml",
        ],
        &["detectors"],
        &["detectors", "--presets"],
        &["detectors", "cassandra"],
    ];
    for args in commands {
        let o = into_closed_pipe(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            !err.contains("error") && !err.contains("panick"),
            "{args:?}: {err}"
        );
        if args[0] != "run" {
            assert_eq!(err, "", "{args:?}");
        }
    }
    // The report is still written in full although nobody read the table.
    assert!(out.join("ok-small/metrics.csv").exists());
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn record_piped_into_a_reader_that_stops_after_one_line_exits_zero() {
    use std::io::{BufRead, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(["record", "tests/fixtures/ok-small.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fdsim runs");
    let mut first = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("# heartbeat trace"), "{first}");
    // Ten minutes of 100 ms heartbeats is far more than a pipe holds, so
    // fdsim is still writing when the reader goes away.
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

/// `validate PATH`'s exit code and standard error.
fn validate_path(path: &Path) -> (i32, String) {
    let o = fdsim(&["validate", path.to_str().unwrap()]);
    (o.status.code().unwrap_or(-1), stderr(&o))
}

#[cfg(unix)]
#[test]
fn unreadable_scenario_paths_give_the_real_reason() {
    let dir = temp_dir("paths");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, err) = validate_path(Path::new("/dev/null"));
    assert_eq!(code, 2);
    assert!(
        err.contains("/dev/null: the file is empty; a scenario needs at least `duration`"),
        "{err}"
    );
    let fifo = dir.join("fifo.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, err) = validate_path(&fifo);
    assert_eq!(code, 2);
    assert!(
        err.contains("fifo.toml: is not a regular file (a FIFO)"),
        "{err}"
    );
    let (a, b) = (dir.join("a.toml"), dir.join("b.toml"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let (code, err) = validate_path(&a);
    assert_eq!(code, 2);
    assert!(
        err.contains("a.toml: too many levels of symbolic links\n"),
        "{err}"
    );
    // A directory where one file is needed says so.
    let sub = dir.join("sub.toml");
    std::fs::create_dir_all(&sub).unwrap();
    let o = fdsim(&["record", sub.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("sub.toml: is a directory; give a scenario file"),
        "{}",
        stderr(&o)
    );
    // A directory without scenarios is named.
    let (code, err) = validate_path(&sub);
    assert_eq!(code, 2);
    assert!(
        err.contains("no scenario files (*.toml) found in ") && err.contains("sub.toml"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unusable_output_folder_is_refused_before_any_work() {
    let dir = temp_dir("bad-out");
    std::fs::create_dir_all(&dir).unwrap();
    // A regular file where the folder should be.
    let file = dir.join("report-file");
    std::fs::write(&file, b"keep me").unwrap();
    let o = fdsim(&[
        "run",
        "tests/fixtures/ok-small.toml",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a folder"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("simulating"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    // A folder below a regular file cannot be created.
    let below = file.join("sub");
    let o = fdsim(&[
        "baseline",
        "tests/fixtures/ok-small.toml",
        "--out",
        below.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot create the output folder"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn names_that_would_break_the_report_are_refused_with_their_position() {
    let dir = temp_dir("bad-names");
    std::fs::create_dir_all(&dir).unwrap();
    let base = std::fs::read_to_string("tests/fixtures/ok-small.toml").unwrap();
    let cases = [
        (
            base.replace("name = \"ok-small\"", "name = \"index.md\""),
            "is the name of a report file",
        ),
        (
            format!("{base}name = \"a|b\"\n"),
            "`detectors.name` holds a '|'",
        ),
        (
            format!("{base}name = \"a\\nb\"\n"),
            "`detectors.name` holds a control character",
        ),
        (
            format!("{base}name = \"<b>x</b>\"\n"),
            "would be read as HTML",
        ),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let o = fdsim(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
        assert!(err.contains(&format!("case{i}.toml:")), "a position: {err}");
        assert!(!dir.join("out").exists(), "nothing written: {err}");
    }
    // A file whose name cannot name a folder must set `name`.
    let odd = dir.join("my scenario.toml");
    std::fs::write(&odd, base.replace("name = \"ok-small\"\n", "")).unwrap();
    let o = fdsim(&["validate", odd.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("set `name"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
