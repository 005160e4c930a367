#!/usr/bin/env bash
# The HTML report in a real browser: writes a small report, opens its
# index.html and every scenario page in headless Chromium
# (tests/browser/check.py) and fails on broken links, images that do not
# load, console errors or overlapping tick and point labels. Screenshots
# go to target/browser/*.png (CI keeps them as artifacts).
#
#   bash tests/browser/run.sh          the check (CI runs it; about 30 s)
#   bash tests/browser/run.sh --docs   the same on the scenarios' own seeds,
#                                      then copies two screenshots to docs/img/
#
# The report is three scenarios, then a fourth run alone into the same
# folder: the index must list all four (a partial re-run keeps the others).
# A second report draws the most crowded plot at --plot-size paper.
set -euo pipefail
cd "$(dirname "$0")/../.."

docs=""
[ "${1:-}" = --docs ] && docs=1

if ! command -v chromium >/dev/null 2>&1; then
    echo "chromium is missing: installing the Debian package"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

cargo build --release --quiet
fdsim=./target/release/fdsim
dir=target/browser
rm -rf "$dir"
mkdir -p "$dir"
seeds=(--seeds 1)
[ -n "$docs" ] && seeds=()
$fdsim run scenarios/cloud-detectors.toml scenarios/flapping-link.toml \
    scenarios/gossip-vs-swim.toml "${seeds[@]}" --out "$dir/report" >/dev/null 2>"$dir/run.log"
$fdsim run scenarios/akka-style-k-monitors.toml "${seeds[@]}" --out "$dir/report" \
    >/dev/null 2>>"$dir/run.log"
$fdsim run scenarios/cloud-detectors.toml --seeds 1 --plot-size paper --out "$dir/paper" \
    >/dev/null 2>>"$dir/run.log"

python3 tests/browser/check.py "$dir/report" "$dir" --expect-scenarios 4
python3 tests/browser/check.py "$dir/paper" "$dir/paper-shots" --expect-scenarios 1

if [ -n "$docs" ]; then
    cp "$dir/index.png" docs/img/report-index.png
    cp "$dir/cloud-detectors.png" docs/img/report-scenario.png
    echo "copied docs/img/report-index.png and docs/img/report-scenario.png"
fi
