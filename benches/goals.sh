#!/usr/bin/env bash
# The pairwise goals of issue 11, measured in one run (figures in
# benches/README.md). With BEFORE=path/to/an/older/fdsim, the all-detectors
# day is timed with both binaries, alternately, so the two are measured
# side by side under the same load.
#   bash benches/goals.sh
#   BEFORE=/tmp/fdsim-before bash benches/goals.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin fdsim --example bench_pair
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "date: $(date -u +%FT%TZ); load: $(uptime | sed 's/.*load average: //')"
echo "== 1. SimPy-equivalent pair (goal: >= 500x SimPy, <= 120 ns per arrival)"
bash benches/compare-simpy.sh | grep -v '^load'
echo "   the same pair for 240 virtual hours through fdsim run (report included), both binaries:"
sed 's/^duration = "24h"/duration = "240h"/' benches/data/simpy-pair.toml > "$out/pair240.toml"
for round in 1 2; do
  for bin in ${BEFORE:-} ./target/release/fdsim; do
    /usr/bin/time -f "$bin: %e s wall, %U s user, %M KiB peak" \
      "$bin" run "$out/pair240.toml" --out "$out/p" >/dev/null
  done
done 2>&1 | grep wall
echo "== 2. nine detectors x 32 values x 10 seeds x 24 h (goal: < 2 s wall)"
for round in 1 2; do
  for bin in ${BEFORE:-} ./target/release/fdsim; do
    /usr/bin/time -f "$bin: %e s wall, %U s user, %M KiB peak" \
      "$bin" run benches/data/cloud-detectors-32.toml --out "$out/cd" >/dev/null
  done
done 2>&1 | grep wall
echo "== 3. 30-day pair, peak memory (goal: < 50 MiB)"
./target/release/examples/bench_pair benches/data/simpy-pair.toml --hours 720 --reps 1
./target/release/examples/bench_pair benches/data/simpy-pair.toml --hours 720 --reps 1 --logged
echo "== 4. event queue at 1,000 pending (goal: >= 20 M events/s)"
cargo bench --quiet --bench engine -- queue_hold/1000 2>&1 | grep -E 'time:|thrpt:'
echo "load after: $(uptime | sed 's/.*load average: //')"
