//! Detector benchmarks: the cost of one heartbeat arrival for every
//! registered detector kind, with default parameters and a full window of
//! 1000 samples. See `benches/README.md` for what each measures and the
//! figures last recorded.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fdsim::detector::{kinds, Arrival, Detector, DetectorKind, Env, ParamUnit, Params};
use fdsim::sim::Nanos;
use std::hint::black_box;
use std::time::Duration;

/// A small, fast generator for network delays, so the bench measures the
/// detector and not the random-number generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Heartbeat interval η: 100 ms, as in the bundled LAN scenarios.
const INTERVAL_NS: u64 = 100_000_000;

/// Arrivals fed before measuring: twice the default window of 1000, so
/// every window is full and the bootstrap samples have left it.
const PREFILL: usize = 2000;

/// An endless stream of heartbeats sent every [`INTERVAL_NS`] and delayed
/// by 1 to 21 ms (uniform), so inter-arrival times vary between 80 and
/// 120 ms. Delays are below η, so arrivals come in order.
struct Stream {
    rng: XorShift,
    seq: u64,
}

impl Stream {
    fn new() -> Stream {
        Stream {
            rng: XorShift(0x9E37_79B9_7F4A_7C15),
            seq: 0,
        }
    }

    fn next(&mut self) -> Arrival {
        let sent = self.seq * INTERVAL_NS;
        let delay = 1_000_000 + self.rng.next() % 20_000_000;
        let a = Arrival {
            at: Nanos(sent + delay),
            seq: self.seq,
            sent: Nanos(sent),
            incarnation: 0,
        };
        self.seq += 1;
        a
    }
}

/// Every parameter of `kind` at its default.
fn default_params(kind: &DetectorKind) -> Params {
    Params::new(
        kind.params
            .iter()
            .map(|p| {
                let v = p.default.unwrap_or_else(|| {
                    panic!("{}.{} has no default", kind.name, p.name);
                });
                (p.name, v)
            })
            .collect(),
    )
}

/// The swept parameter's default, or, for the kinds that have none (all
/// durations: `fixed`, `chen`, `chen-nfds`, `two-window`), two heartbeat
/// intervals.
fn default_threshold(kind: &DetectorKind) -> f64 {
    kind.swept.default.unwrap_or_else(|| {
        assert_eq!(
            kind.swept.unit,
            ParamUnit::Duration,
            "{}: no default for a non-duration threshold",
            kind.name
        );
        2.0 * INTERVAL_NS as f64
    })
}

/// A detector of `kind` with default parameters, fed [`PREFILL`]
/// arrivals, the stream that continues them, and the threshold.
fn warmed_up(kind: &DetectorKind) -> (Box<dyn Detector>, Stream, f64) {
    let threshold = default_threshold(kind);
    let env = Env {
        interval: Nanos(INTERVAL_NS),
    };
    let mut det = (kind.build)(&default_params(kind), threshold, &env);
    let mut stream = Stream::new();
    for _ in 0..PREFILL {
        det.heartbeat(&stream.next());
    }
    (det, stream, threshold)
}

/// Per arrival, what the scorer does on most arrivals: `heartbeat`, then
/// one `suspicion` one nanosecond before the next arrival (the end of the
/// silence it opens).
fn heartbeat_suspicion(c: &mut Criterion) {
    let mut group = c.benchmark_group("heartbeat_suspicion");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for kind in kinds() {
        let (mut det, mut stream, _) = warmed_up(kind);
        let mut next = stream.next();
        group.bench_function(kind.name, |b| {
            b.iter(|| {
                let a = next;
                next = stream.next();
                det.heartbeat(black_box(&a));
                black_box(det.suspicion(Nanos(next.at.0 - 1)))
            })
        });
    }
    group.finish();
}

/// Per arrival: `heartbeat`, then one `crossing` at the default threshold
/// (the per-arrival update and crossing computation).
fn heartbeat_crossing(c: &mut Criterion) {
    let mut group = c.benchmark_group("heartbeat_crossing");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for kind in kinds() {
        let (mut det, mut stream, threshold) = warmed_up(kind);
        group.bench_function(kind.name, |b| {
            b.iter(|| {
                det.heartbeat(black_box(&stream.next()));
                black_box(det.crossing(black_box(threshold)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, heartbeat_suspicion, heartbeat_crossing);
criterion_main!(benches);
