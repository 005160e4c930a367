//! End-to-end benchmark: simulate, score and report a 24-hour pairwise
//! scenario with all nine detectors, 32 values each, 10 seeds, on two
//! worker threads. See `benches/README.md` for the figures.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use fdsim::report::write_all;
use fdsim::run::run_all;
use fdsim::scenario::Scenario;
use std::path::Path;
use std::time::Duration;

fn end_to_end(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/all-detectors-24h.toml");
    let scenario = Scenario::load(&path).expect("bench scenario is valid");
    let out = std::env::temp_dir().join(format!("fdsim-bench-report-{}", std::process::id()));
    let mut group = c.benchmark_group("end_to_end");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("24h_9_detectors_32_values_10_seeds_2_jobs", |b| {
        b.iter(|| {
            let results = run_all(vec![scenario.clone()], 2, &|_, _| {}).expect("pool");
            write_all(&out, results).expect("report written");
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
