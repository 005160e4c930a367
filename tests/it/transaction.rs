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
