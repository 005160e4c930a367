//! SWIM benchmarks: whole clusters of 100, 1,000 and 10,000 members
//! running memberlist's LAN configuration (Lifeguard on) for a minute of
//! virtual time. See
//! `benches/README.md` ("SWIM") for what each measures and the figures
//! last recorded; `examples/swim_scale.rs` runs the large clusters.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use fdsim::net::{Latency, LinkModel};
use fdsim::protocol::swim::{cluster_sim, SwimConfig};
use fdsim::sim::Nanos;
use std::hint::black_box;
use std::time::Duration;

/// A LAN link: 200 µs median one-way delay, lognormal, 0.1 % loss.
fn lan() -> LinkModel {
    LinkModel::new(
        Latency::LogNormal {
            median: 200_000.0,
            sigma: 0.5,
        },
        0.001,
    )
}

/// Builds an `n`-member cluster, crashes one member at 20 s and restarts
/// it at 40 s, and runs 60 s of virtual time.
fn one_minute(n: usize) -> u64 {
    let mut sim = cluster_sim(SwimConfig::default(), n, lan(), 7);
    sim.schedule_crash(1, Nanos::from_secs(20));
    sim.schedule_restart(1, Nanos::from_secs(40));
    sim.run_until(Nanos::from_secs(60));
    sim.stats().delivered
}

fn cluster_minute(c: &mut Criterion) {
    let mut group = c.benchmark_group("swim_cluster_minute");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for n in [100usize, 1000] {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| black_box(one_minute(n)))
        });
    }
    group.finish();
}

/// Issue 11's scale: 10,000 members for a minute of virtual time (the
/// hour is `examples/swim_scale.rs --members 10000 --duration 1h`).
fn large_cluster_minute(c: &mut Criterion) {
    let mut group = c.benchmark_group("swim_cluster_minute");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function(BenchmarkId::from_parameter(10_000), |b| {
        b.iter(|| black_box(one_minute(10_000)))
    });
    group.finish();
}

criterion_group!(benches, cluster_minute, large_cluster_minute);
criterion_main!(benches);
