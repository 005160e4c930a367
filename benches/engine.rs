//! Engine benchmarks: the event queue in steady state, one full 24-hour
//! pairwise run, one virtual hour of the SimPy-equivalent pair, and the
//! cost of a normal draw. See `benches/README.md` for what each measures
//! and the figures last recorded.

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use fdsim::math;
use fdsim::net::Latency;
use fdsim::scenario::Scenario;
use fdsim::sim::{EventQueue, Nanos, Stream};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// A small, fast generator for event time increments, so the bench
/// measures the queue and not the random-number generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Mean gap between an event and the one it schedules: 100 ms, the
/// heartbeat interval of the bundled LAN scenarios.
const MEAN_INCREMENT_NS: u64 = 100_000_000;

/// A queue holding `pending` events at times spread over one mean
/// increment, as a simulation in steady state would.
fn filled_queue(pending: usize, rng: &mut XorShift) -> EventQueue<u64> {
    let mut q = EventQueue::with_capacity(pending + 1);
    for i in 0..pending as u64 {
        q.push(Nanos(rng.next() % MEAN_INCREMENT_NS), i);
    }
    q
}

/// Hold model: each step pops the earliest event and schedules one at a
/// later time (uniform on [0, 2 x mean) after it), so the queue size stays
/// constant. Throughput is in events popped and pushed per second.
fn queue_hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue_hold");
    group.throughput(Throughput::Elements(1));
    for pending in [1_000usize, 100_000] {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut q = filled_queue(pending, &mut rng);
        group.bench_with_input(BenchmarkId::from_parameter(pending), &pending, |b, _| {
            b.iter(|| {
                let (t, e) = q.pop().expect("queue never empties");
                let later = t + Nanos(rng.next() % (2 * MEAN_INCREMENT_NS));
                black_box(q.push(later, e));
            })
        });
    }
    group.finish();
}

/// A LAN pair like `scenarios/lan-pair.toml`, one seed: 24 hours of
/// 100 ms heartbeats (864,000 sent), ~144 crashes, 8 fixed timeouts.
const PAIR_24H: &str = r#"
duration = "24h"
warmup = "1m"

[heartbeat]
interval = "100ms"

[network]
latency = { dist = "lognormal", median = "100us", sigma = 0.35 }
loss = 0.0001

[[faults]]
kind = "crash-loop"
node = "target"
first = "5m"
every = "10m"
down = "20s"
jitter = "5m"

[[detectors]]
kind = "fixed"
timeout = ["110ms", "150ms", "190ms", "210ms", "250ms", "300ms", "400ms", "500ms"]
"#;

/// Simulating one seed and scoring every timeout on it.
fn pairwise_run(c: &mut Criterion) {
    let scenario =
        Scenario::parse(Path::new("bench.toml"), PAIR_24H).expect("bench scenario is valid");
    let mut group = c.benchmark_group("pairwise_run");
    // One run per sample: 10 samples of ~0.15 s each.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("24h_100ms_8_timeouts", |b| {
        b.iter(|| black_box(fdsim::run::run_seed(black_box(&scenario), 1)))
    });
    group.finish();
}

/// The sampler `Stream::standard_normal` used until the ziggurat
/// (2026-12-03), for comparison: Box–Muller pairs, two uniform draws, a
/// logarithm and a `sincos` for every two normals, the second kept.
struct BoxMuller {
    spare: Option<f64>,
}

impl BoxMuller {
    fn draw(&mut self, rng: &mut Stream) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = rng.unit_open();
        let u2 = rng.unit_open();
        let r = (-2.0 * math::ln(u1)).sqrt();
        let (sin, cos) = math::sin_cos(std::f64::consts::TAU * u2);
        self.spare = Some(r * sin);
        r * cos
    }
}

/// One standard normal draw from a component's stream (the ziggurat, and
/// the Box–Muller pairs it replaced), one lognormal latency (a normal, an
/// `exp` and a rounding: what every message over a `lognormal` link costs
/// in randomness), and `exp` itself (`math::exp` against `libm::exp`, the
/// one it replaced). Throughput is in draws or calls.
fn normal_draws(c: &mut Criterion) {
    let mut group = c.benchmark_group("normal_draw");
    group.throughput(Throughput::Elements(1));
    let mut rng = Stream::new(42, "link:target->monitor");
    group.bench_function("standard_normal", |b| {
        b.iter(|| black_box(rng.standard_normal()))
    });
    let mut pairs = BoxMuller { spare: None };
    group.bench_function("box_muller_pairs", |b| {
        b.iter(|| black_box(pairs.draw(&mut rng)))
    });
    let lat = Latency::LogNormal {
        median: 100_000.0,
        sigma: 0.35,
    };
    group.bench_function("lognormal_latency", |b| {
        b.iter(|| black_box(lat.sample(&mut rng)))
    });
    group.finish();
    // Independent calls (throughput) and calls each waiting for the last
    // one's result (latency, as a draw's exp on the way to its event's
    // time is), with the arguments of lognormal draws with σ 0.35.
    let mut group = c.benchmark_group("exp");
    group.throughput(Throughput::Elements(1));
    let xs: Vec<f64> = (0..1024).map(|_| 0.35 * rng.standard_normal()).collect();
    for (name, f) in [
        ("math_exp", math::exp as fn(f64) -> f64),
        ("libm_exp", libm::exp as fn(f64) -> f64),
    ] {
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                black_box(f(black_box(xs[i])))
            })
        });
        let mut y = 0.0;
        group.bench_function(format!("{name}_chained"), |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                y = f(xs[i] + y * 1e-300);
                y
            })
        });
    }
    group.finish();
}

/// The SimPy-equivalent pair (`benches/data/simpy-pair.toml`: 100 ms
/// heartbeats, lognormal delay, 1 % loss, a crash loop, four fixed
/// timeouts) for one virtual hour, scored while it simulates. Throughput
/// is in virtual hours; `benches/compare-simpy.sh` puts it beside SimPy.
fn simpy_pair_hour(c: &mut Criterion) {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/data/simpy-pair.toml"
    ));
    let text = std::fs::read_to_string(path).expect("bench scenario is readable");
    let mut scenario = Scenario::parse(path, &text).expect("bench scenario is valid");
    scenario.duration = Nanos::from_secs(3600);
    let mut group = c.benchmark_group("simpy_pair");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    group.bench_function("1h", |b| {
        b.iter(|| black_box(fdsim::run::stream_pairwise(black_box(&scenario), 1, |_| {})))
    });
    group.finish();
}

criterion_group!(
    benches,
    queue_hold,
    pairwise_run,
    simpy_pair_hour,
    normal_draws
);
criterion_main!(benches);
