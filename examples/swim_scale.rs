//! How far SWIM scales in fdsim: a cluster of N members (Lifeguard on,
//! memberlist's LAN configuration) runs for a stretch of virtual time
//! with a few crashes and restarts; prints the wall time, the engine's
//! message counts and bytes, what the crashes looked like, the CPU time
//! and the peak resident memory (VmHWM from /proc/self/status).
//!
//! ```sh
//! cargo run --release --example swim_scale                      # 1,000 members, 1 h
//! cargo run --release --example swim_scale -- --members 10000 --duration 1h  # issue 11's goal
//! ```
//!
//! Options: `--members N` (1000), `--duration D` (1h), `--crashes K` (5),
//! `--preset NAME` (memberlist-lan), `--seed S` (1). Figures recorded in
//! `benches/README.md` ("SWIM").

use fdsim::net::{Latency, LinkModel};
use fdsim::protocol::membership::{MembershipEvent, Verdict};
use fdsim::protocol::swim::{cluster_sim, preset};
use fdsim::sim::{parse_duration, Nanos, NodeId};
use std::time::Instant;

struct Args {
    members: usize,
    duration: Nanos,
    crashes: usize,
    preset: String,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        members: 1000,
        duration: Nanos::from_secs(3600),
        crashes: 5,
        preset: "memberlist-lan".into(),
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--members" => a.members = value.parse().map_err(|e| bad(&e))?,
            "--duration" => a.duration = parse_duration(&value).map_err(|e| bad(&e))?,
            "--crashes" => a.crashes = value.parse().map_err(|e| bad(&e))?,
            "--preset" => a.preset = value,
            "--seed" => a.seed = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if a.members < 2 {
        return Err("--members must be at least 2".into());
    }
    Ok(a)
}

/// Peak resident set size in KiB, from /proc/self/status (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of this process in seconds, from
/// /proc/self/stat (Linux; clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (in parentheses): utime is the 12th
    // and stime the 13th of those.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let Some(cfg) = preset(&args.preset) else {
        eprintln!("error: unknown preset {}", args.preset);
        std::process::exit(2);
    };
    let n = args.members;
    // A LAN: 200 µs median one-way delay with a lognormal tail, 0.1 % loss.
    let link = LinkModel::new(
        Latency::LogNormal {
            median: 200_000.0,
            sigma: 0.5,
        },
        0.001,
    );
    let wall = Instant::now();
    let mut sim = cluster_sim(cfg, n, link, args.seed);
    let built = wall.elapsed();
    // Crashes spread over the run, each member down for a tenth of it.
    let mut crashes = Vec::new();
    for i in 0..args.crashes {
        let node = ((i * 7919 + 13) % n) as NodeId;
        let at = Nanos(args.duration.as_nanos() / (args.crashes as u64 + 1) * (i as u64 + 1));
        sim.schedule_crash(node, at);
        sim.schedule_restart(node, at + Nanos(args.duration.as_nanos() / 10));
        crashes.push((node, at));
    }
    sim.run_until(args.duration);
    let elapsed = wall.elapsed();
    let stats = sim.stats();
    let mut events: Vec<MembershipEvent> = Vec::new();
    for mut agent in sim.into_agents() {
        events.extend(fdsim::protocol::membership::Membership::take_events(
            &mut agent,
        ));
    }
    println!(
        "{n} members, {} of virtual time, preset {}, seed {}",
        args.duration, args.preset, args.seed
    );
    println!(
        "wall time {:.2} s (building {:.2} s); {:.1} virtual seconds per wall second",
        elapsed.as_secs_f64(),
        built.as_secs_f64(),
        args.duration.as_secs_f64() / elapsed.as_secs_f64()
    );
    println!(
        "messages: {} sent, {} delivered, {} lost, {} to down members ({:.0} per member per second)",
        stats.sent,
        stats.delivered,
        stats.lost,
        stats.dropped_down,
        stats.sent as f64 / n as f64 / args.duration.as_secs_f64()
    );
    let per_member_s = n as f64 * args.duration.as_secs_f64();
    println!(
        "bytes per member per second: {:.0} over UDP, {:.0} over TCP (memberlist's encodings, 16-byte names)",
        (stats.bytes_sent - stats.stream_bytes_sent) as f64 / per_member_s,
        stats.stream_bytes_sent as f64 / per_member_s
    );
    for (node, at) in crashes {
        let about: Vec<_> = events
            .iter()
            .filter(|e| e.subject == node && e.at >= at)
            .collect();
        let first = about
            .iter()
            .filter(|e| e.verdict != Verdict::Alive)
            .map(|e| e.at)
            .min();
        let deaths: Vec<Nanos> = about
            .iter()
            .filter(|e| e.verdict == Verdict::Dead)
            .map(|e| e.at)
            .collect();
        let show = |t: Option<Nanos>| t.map_or("never".into(), |t| format!("{}", t - at));
        println!(
            "crash of m{node} at {at}: first suspicion after {}, declared dead by {} members, the last after {}",
            show(first),
            deaths.len(),
            show(deaths.iter().max().copied())
        );
    }
    let crashed: Vec<NodeId> = events
        .iter()
        .filter(|e| e.verdict == Verdict::Dead)
        .map(|e| e.subject)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    println!(
        "{} membership events; members ever declared dead: {crashed:?}",
        events.len()
    );
    if let Some(cpu) = cpu_seconds() {
        println!("CPU time (user + system) {cpu:.2} s");
    }
    match peak_rss_kib() {
        Some(kib) => println!("peak memory (VmHWM) {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak memory: /proc/self/status not available"),
    }
}
