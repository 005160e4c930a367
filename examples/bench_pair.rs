//! Times the pairwise simulation of one scenario (by default the
//! SimPy-equivalent pair of `benches/data/simpy-pair.toml`) per heartbeat
//! arrival and per virtual hour, and reports the process's peak resident
//! memory. `benches/compare-simpy.sh` runs it beside the SimPy model.
//!
//! ```sh
//! cargo run --release --example bench_pair -- --hours 24 --reps 5
//! cargo run --release --example bench_pair -- --hours 720 --reps 1           # a 30-day pair
//! cargo run --release --example bench_pair -- --hours 720 --reps 1 --logged  # logged whole first
//! ```
//!
//! `--logged` scores the run the way fdsim did before it scored while
//! simulating ([`fdsim::run::logged_pairwise`]: every arrival of the run
//! held, then scored), for a side-by-side comparison in one build.

use fdsim::run::{logged_pairwise, stream_pairwise};
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut file = PathBuf::from("benches/data/simpy-pair.toml");
    let (mut hours, mut reps, mut logged, mut seed) = (24.0f64, 3usize, false, 1u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--hours" => hours = val().parse().expect("--hours is a number"),
            "--reps" => reps = val().parse().expect("--reps is a count"),
            "--seed" => seed = val().parse().expect("--seed is a number"),
            "--logged" => logged = true,
            _ => file = PathBuf::from(&a),
        }
    }
    let text = std::fs::read_to_string(&file).expect("scenario file is readable");
    let mut sc = Scenario::parse(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    sc.duration = Nanos((hours * 3.6e12) as u64);
    let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
    let mut arrivals = 0;
    for _ in 0..reps.max(1) {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let (qos, stats) = if logged {
            logged_pairwise(&sc, seed)
        } else {
            stream_pairwise(&sc, seed, |_| {})
        };
        best = best.min(start.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - cpu);
        arrivals = stats.delivered;
        std::hint::black_box(qos);
    }
    let mode = if logged { "logged" } else { "streamed" };
    // CPU time is what compares across loads: on a shared machine the
    // wall time includes waiting for a core.
    println!(
        "fdsim ({mode}): {hours} virtual h, {arrivals} arrivals, best of {reps}: {best:.3} s wall, \
         {best_cpu:.3} s CPU, {:.5} CPU s per virtual hour, {:.0} CPU ns per arrival, \
         peak RSS {:.1} MiB",
        best_cpu / hours,
        best_cpu / arrivals.max(1) as f64 * 1e9,
        peak_rss_kib() as f64 / 1024.0
    );
}

/// CPU time this process has used, in seconds (user and system, all
/// threads), from `/proc/self/stat`'s clock ticks; 0 where /proc is not
/// there.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

/// Peak resident set size of this process (`VmHWM`), in KiB; 0 where
/// /proc is not there.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (status.lines())
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
