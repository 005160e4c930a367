#!/usr/bin/env bash
# Executes every notebook in notebooks/ headless and exits non-zero if any
# cell of any of them fails, so the notebooks cannot rot. Run from anywhere:
#
#   bash notebooks/run-all.sh
#
# Steps: a virtual environment under target/notebook-venv (created once,
# reused while the pinned requirements are unchanged), `cargo build
# --release`, then each notebook run top to bottom with nbclient and FDSIM
# set to the fresh binary. Executed copies, with their outputs and figures,
# go to target/notebook-runs/ (the committed notebooks stay output-free).
#
# Environment: PYTHON (default python3, 3.11 or later), FDSIM (default the
# binary this script builds), CARGO_TARGET_DIR (honoured).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
venv="$target/notebook-venv"
out="$target/notebook-runs"
python="${PYTHON:-python3}"
start=$SECONDS

elapsed() {
    echo "    ($(($SECONDS - $1)) s)"
}

echo "==> notebooks: Python environment in $venv"
t=$SECONDS
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: the notebooks need Python 3.11 or later; $python is $("$python" --version 2>&1)" >&2
    echo "       set PYTHON to another interpreter" >&2
    exit 1
fi
stamp="$venv/.fdsim-requirements"
want=$(cat notebooks/requirements.txt notebooks/requirements-run.txt notebooks/constraints.txt \
    | "$python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r notebooks/requirements-run.txt -c notebooks/constraints.txt
    echo "$want" >"$stamp"
else
    echo "    requirements unchanged: reusing it"
fi
elapsed $t

echo "==> notebooks: cargo build --release"
t=$SECONDS
cargo build --release --quiet
export FDSIM="${FDSIM:-$target/release/fdsim}"
elapsed $t

echo "==> notebooks: executing with FDSIM=$FDSIM"
t=$SECONDS
rm -rf "$out"
mkdir -p "$out"
# Notebooks write their scenarios and reports under a temporary folder;
# point them at one that is removed afterwards.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"
export MPLCONFIGDIR="$scratch/matplotlib"

"$venv/bin/python" - "$out" notebooks/[0-9]*.ipynb <<'EOF'
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

out = Path(sys.argv[1])
paths = [Path(p) for p in sys.argv[2:]]
if not paths:
    sys.exit("error: no notebooks found in notebooks/")
failed = []
for path in paths:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    began = time.monotonic()
    try:
        client.execute()
        status = "ok"
    except CellExecutionError as e:
        status = "FAILED"
        failed.append((path, e))
    nbformat.write(nb, out / path.name)
    print(f"    {status:6} {path.name}  ({time.monotonic() - began:.1f} s)", flush=True)
for path, e in failed:
    print(f"\nerror in {path}:\n{e}", file=sys.stderr)
if failed:
    sys.exit(1)
print(f"    executed copies with outputs: {out}")
EOF
elapsed $t

total=$(($SECONDS - start))
echo "==> notebooks: all ran in $total s"
if [ "$total" -gt 300 ]; then
    echo "warning: over the 5-minute budget for this stage" >&2
fi
