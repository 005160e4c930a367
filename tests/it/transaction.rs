//! Reports are written whole or not at all: a run killed at any instant
//! leaves the complete old report or the complete new one, a second run
//! cannot write into a report being written, and what killed runs leave
//! next to the report is cleaned up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fdsim-tx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fdsim(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fdsim"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Every file under `dir`, by relative path, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
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

fn run_to(out: &Path, seeds: &str) {
    let o = fdsim(&[
        "run",
        "tests/fixtures/ok-small.toml",
        "--seeds",
        seeds,
        "--out",
    ])
    .arg(out)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn restore(out: &Path, from: &Path) {
    let _ = std::fs::remove_dir_all(out);
    let o = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(out)
        .status()
        .unwrap();
    assert!(o.success());
}

#[test]
fn a_run_killed_at_any_instant_leaves_the_whole_old_or_the_whole_new_report() {
    let dir = temp_dir("kill");
    let (old_ref, new_ref, out) = (dir.join("old"), dir.join("new"), dir.join("report"));
    run_to(&old_ref, "1");
    run_to(&new_ref, "2");
    let (old, new) = (snapshot(&old_ref), snapshot(&new_ref));
    assert_ne!(old, new);
    // How long a whole run takes, to spread the kills over it.
    restore(&out, &old_ref);
    let t0 = Instant::now();
    run_to(&out, "2");
    let whole = t0.elapsed();
    assert_eq!(snapshot(&out), new);
    let (mut saw_old, mut saw_new) = (0, 0);
    for i in 0..40u64 {
        restore(&out, &old_ref);
        let mut child = fdsim(&[
            "run",
            "tests/fixtures/ok-small.toml",
            "--seeds",
            "2",
            "--out",
        ])
        .arg(&out)
        .spawn()
        .unwrap();
        // Deterministic spread of kill instants over 0..1.3 × a whole run.
        let frac = (i * 37 % 40) as f64 / 40.0 * 1.3;
        std::thread::sleep(whole.mul_f64(frac));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = snapshot(&out);
        if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            panic!(
                "kill {i} at {frac:.2} of a run left a mixed report: {:?}",
                now.keys().collect::<Vec<_>>()
            );
        }
    }
    eprintln!("whole run {whole:?}: old {saw_old}, new {saw_new}");
    assert!(saw_old > 0 && saw_new > 0, "old {saw_old}, new {saw_new}");
    // A later run cleans what killed runs left next to the report.
    run_to(&out, "2");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_report_being_written_by_a_live_process_is_not_written_again() {
    let dir = temp_dir("lock");
    let out = dir.join("report");
    std::fs::create_dir_all(&out).unwrap();
    // This test process holds the lock, as a running fdsim would.
    let lock = dir.join(".report.lock");
    std::fs::write(&lock, std::process::id().to_string()).unwrap();
    let o = fdsim(&[
        "run",
        "tests/fixtures/ok-small.toml",
        "--seeds",
        "1",
        "--out",
    ])
    .arg(&out)
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("another fdsim"), "{err}");
    assert!(snapshot(&out).is_empty(), "nothing written");
    // The lock of a process that is gone is taken over.
    std::fs::write(&lock, "4294967295").unwrap();
    run_to(&out, "1");
    assert!(out.join("ok-small/curve.csv").exists());
    assert!(!lock.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_run_on_a_locked_report_fails_before_simulating() {
    let dir = temp_dir("lock-first");
    let out = dir.join("report");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(dir.join(".report.lock"), std::process::id().to_string()).unwrap();
    let o = fdsim(&["run", "tests/fixtures/ok-small.toml", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("another fdsim"), "{err}");
    // `run` prints each scenario's table as soon as the simulations are
    // done, before writing: nothing on stdout means it stopped before
    // simulating to the end, not after.
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `n` small scenarios (one seed each, distinct names) in `dir`, so that a
/// run spends most of its time writing their reports.
fn many_scenarios(dir: &Path, n: usize) -> PathBuf {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ok-small.toml"),
    )
    .unwrap();
    let folder = dir.join("scenarios");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let text = src
            .replace("name = \"ok-small\"", &format!("name = \"s{i}\""))
            .replace("seeds = 2", "seeds = 1")
            .replace("duration = \"10m\"", "duration = \"2m\"");
        std::fs::write(folder.join(format!("s{i}.toml")), text).unwrap();
    }
    folder
}

/// Entries of the staging folder of process `pid` next to `out`, if it
/// exists.
fn staged(out: &Path, pid: u32) -> Option<usize> {
    let staging = out.with_file_name(format!(".report.staging-{pid}"));
    std::fs::read_dir(staging).ok().map(|d| d.count())
}

#[test]
fn a_run_killed_while_it_writes_its_report_leaves_the_whole_old_or_the_whole_new_one() {
    let dir = temp_dir("kill-write");
    let scenarios = many_scenarios(&dir, 12);
    let (old_ref, new_ref, out) = (dir.join("old"), dir.join("new"), dir.join("report"));
    let run = |out: &Path, seed: &str| {
        fdsim(&["run", "--seed", seed, "--out"])
            .arg(out)
            .arg(&scenarios)
            .spawn()
            .unwrap()
    };
    assert!(run(&old_ref, "1").wait().unwrap().success());
    assert!(run(&new_ref, "2").wait().unwrap().success());
    let (old, new) = (snapshot(&old_ref), snapshot(&new_ref));
    assert_ne!(old, new);
    // The write phase starts when the first entry appears in the staging
    // folder. Measure how long it lasts in one whole run, to spread the
    // kills over it.
    let started_writing = |child: &mut std::process::Child| -> bool {
        loop {
            if staged(&out, child.id()).is_some_and(|n| n > 0) {
                return true;
            }
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
    };
    restore(&out, &old_ref);
    let mut child = run(&out, "2");
    assert!(started_writing(&mut child), "the run wrote nothing");
    let t0 = Instant::now();
    assert!(child.wait().unwrap().success());
    let writing = t0.elapsed();
    assert_eq!(snapshot(&out), new);
    let (mut old_seen, mut new_seen, mut mid_write) = (0, 0, 0);
    for i in 0..24u64 {
        restore(&out, &old_ref);
        let mut child = run(&out, "2");
        let pid = child.id();
        if !started_writing(&mut child) {
            continue;
        }
        // Kill instants spread over 0..1.2 × the write phase.
        let frac = (i * 7 % 24) as f64 / 24.0 * 1.2;
        std::thread::sleep(writing.mul_f64(frac));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = snapshot(&out);
        // A staging folder left with the old report in place: killed
        // while writing, before the swap.
        let killed_writing = staged(&out, pid).is_some() && now == old;
        if now == old {
            old_seen += 1;
        } else if now == new {
            new_seen += 1;
        } else {
            panic!(
                "kill {i} at {frac:.2} of the write phase left a mixed report: {:?}",
                now.keys().collect::<Vec<_>>()
            );
        }
        mid_write += usize::from(killed_writing);
    }
    eprintln!(
        "write phase {writing:?}: {old_seen} kills left the old report ({mid_write} of them \
         mid-write), {new_seen} the new one"
    );
    assert!(
        mid_write > 0,
        "no kill landed in the write phase (old {old_seen}, new {new_seen})"
    );
    // The next run removes what the killed ones left.
    assert!(run(&out, "2").wait().unwrap().success());
    assert_eq!(snapshot(&out), new);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_write_that_fails_midway_as_on_a_full_disk_leaves_the_old_report_intact() {
    // No disk is filled: the file size limit (`ulimit -f 8`: a few KiB, with SIGXFSZ
    // ignored so that writes past it fail with EFBIG as they would with
    // ENOSPC) makes the first larger file fail to write.
    let dir = temp_dir("full");
    let (old_ref, out) = (dir.join("old"), dir.join("report"));
    run_to(&old_ref, "1");
    let old = snapshot(&old_ref);
    restore(&out, &old_ref);
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 8; trap '' XFSZ; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_fdsim"))
        .args([
            "run",
            "tests/fixtures/ok-small.toml",
            "--seeds",
            "2",
            "--out",
        ])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write the report under"), "{err}");
    assert_eq!(snapshot(&out), old, "the old report is intact");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        left.is_empty(),
        "a failed run cleans up after itself: {left:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
