#!/usr/bin/env bash
# The pairwise experiment in SimPy and in fdsim, side by side in one run,
# and the ratio of their costs per virtual hour (issue 11 goal: >= 500x).
#   bash benches/compare-simpy.sh            # 1 virtual hour of SimPy, 24 of fdsim
#   HOURS=0.5 FDSIM_HOURS=48 bash benches/compare-simpy.sh
# Needs python3 with simpy (pip install simpy); builds the example first.
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${HOURS:-1}
fd_hours=${FDSIM_HOURS:-24}
cargo build --release --quiet --example bench_pair
echo "load: $(uptime | sed 's/.*load average/load average/')"
py=$(python3 benches/simpy/pair.py --hours "$hours")
echo "$py"
fd=$(./target/release/examples/bench_pair benches/data/simpy-pair.toml --hours "$fd_hours" --reps 3)
echo "$fd"
s_py=$(echo "$py" | sed -n 's/.*, \([0-9.]*\) CPU s per virtual hour.*/\1/p' | head -1)
s_fd=$(echo "$fd" | sed -n 's/.*, \([0-9.]*\) CPU s per virtual hour.*/\1/p' | head -1)
python3 -c "print(f'fdsim is {float(\"$s_py\") / float(\"$s_fd\"):.0f}x SimPy in CPU time per virtual hour (goal: 500x)')"
