#!/usr/bin/env bash
# test-single-node.sh: the Slurm launchers of deploy/slurm/ on a real,
# single-node Slurm brought up on this machine, and the merged report
# compared with a local run byte for byte.
#
#   bash deploy/slurm/test-single-node.sh            (as root; CI runs it)
#
# Steps: install slurmctld, slurmd, slurm-client and munge from Debian if
# missing; write a one-node slurm.conf and a private MUNGE key in a temp
# folder; start munged, slurmctld and slurmd in the foreground as children
# of this script; submit.sh submits `fdsim run scenarios/` as a 4-task job
# array and the dependent merge job; wait for them; run the same command
# locally; compare the report folders (diff -r) and the tables the merge
# printed with the local run's (cmp); stop the daemons by their PIDs.
# Exits 0 only if every step worked and the outputs are identical.
#
# Nothing is written to /etc, /run or /var/spool: the configuration,
# state, logs and job outputs live in the temp folder, clients find the
# configuration through SLURM_CONF, and the daemons talk through the
# private munged's socket. No cgroups (proctrack/linuxproc,
# task/none), no accounting database, no systemd: it runs in a container.
#
# Environment:
#   FDSIM                 fdsim binary (default: target/release/fdsim, built if missing)
#   SLURM_TEST_ARGS       the fdsim command (default: run scenarios/)
#   SLURM_TEST_SHARDS     array tasks (default 4)
#   SLURM_TEST_TIMEOUT_S  limit for daemon start-up and for the jobs (default 900)
#   SLURM_TEST_KEEP=1     keep the temp folder (always kept on failure)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
args=${SLURM_TEST_ARGS:-run scenarios/}
shards=${SLURM_TEST_SHARDS:-4}
timeout_s=${SLURM_TEST_TIMEOUT_S:-900}
packages=(slurmctld slurmd slurm-client munge)

work="" munged_pid="" ctld_pid="" slurmd_pid="" policy_rc=0
log() { printf '[slurm-test] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# True while PID runs (a zombie does not count).
running() {
    local stat
    [[ -n $1 ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != [ZX] ]]
}

stop() {
    local name=$1 pid=$2 i
    [[ -n $pid ]] || return 0
    if running "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.2; done
        running "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
    log "stopped $name ($pid)"
}

finish() {
    local rc=$?
    trap - EXIT
    set +e
    [[ $policy_rc == 1 ]] && rm -f /usr/sbin/policy-rc.d
    if [[ $rc != 0 && -n $work ]]; then
        for f in "$work"/log/* "$work"/jobs/*; do
            [[ -f $f ]] && { log "---- tail of $f"; tail -n 20 "$f" >&2; }
        done
    fi
    stop slurmd "$slurmd_pid"
    stop slurmctld "$ctld_pid"
    stop munged "$munged_pid"
    if [[ -n $work ]]; then
        if [[ $rc == 0 && ${SLURM_TEST_KEEP:-0} != 1 ]]; then rm -rf -- "$work"; else log "kept $work"; fi
    fi
    if [[ $rc == 0 ]]; then log "OK"; else log "FAILED (exit $rc)"; fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ install
installed() {
    local p
    for p in "${packages[@]}"; do
        [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == 'install ok installed' ]] || return 1
    done
}
[[ $(id -u) == 0 ]] || die "run as root: the daemons and the package install need it"
if ! installed; then
    log "installing ${packages[*]}"
    apt-cache show slurmd >/dev/null 2>&1 || apt-get update -qq
    # Keep the packages' init scripts from starting system daemons.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        policy_rc=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/tmp/slurm-test-apt.log 2>&1 ||
        { tail -n 30 /tmp/slurm-test-apt.log >&2; die "apt-get install failed"; }
    [[ $policy_rc == 1 ]] && rm -f /usr/sbin/policy-rc.d && policy_rc=0
fi
for b in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol; do
    command -v "$b" >/dev/null || die "missing $b after install"
done

# -------------------------------------------------------------------- fdsim
if [[ -z ${FDSIM:-} ]]; then
    FDSIM=$repo/target/release/fdsim
    [[ -x $FDSIM ]] || (cd "$repo" && cargo build --release --quiet)
fi
[[ -x $FDSIM ]] || die "no fdsim binary at $FDSIM"
export FDSIM

# ---------------------------------------------------------------- configure
work=$(mktemp -d -t fdsim-slurm-test.XXXXXX)
chmod 0755 "$work" # munged wants o+x on its socket's folder
mkdir "$work"/{etc,munge,state,spool,log,jobs,shards}
chmod 0755 "$work"/*
free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
ctld_port=$(free_port 16817)
slurmd_port=$(free_port $((ctld_port + 1)))
mungekey --create --keyfile="$work/munge/munge.key" 2>/dev/null ||
    { dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none &&
        chmod 0600 "$work/munge/munge.key"; }
node=$(uname -n)
node=${node%%.*}
hw=""
for word in $(slurmd -C); do
    case $word in CPUs=* | Boards=* | SocketsPerBoard=* | CoresPerSocket=* | ThreadsPerCore=*) hw+="$word " ;; esac
done
cat >"$work/etc/slurm.conf" <<CONF
ClusterName=fdsimtest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 ${hw}State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/etc/slurm.conf
log "temp folder $work; node $node ($hw); ports $ctld_port, $slurmd_port"

# -------------------------------------------------------------------- start
wait_for() {
    local what=$1 pid=$2 deadline=$((SECONDS + timeout_s))
    shift 2
    until "$@" >/dev/null 2>&1; do
        running "$pid" || die "$what exited"
        ((SECONDS < deadline)) || die "$what: not ready after ${timeout_s}s"
        sleep 0.2
    done
}
munge_ok() { munge -S "$work/munge/munge.sock" -n | unmunge -S "$work/munge/munge.sock"; }
ctld_up() { [[ $(scontrol ping 2>/dev/null) == *"is UP"* ]]; }
node_state() { sinfo -h -n "$node" -o '%T'; }
node_settled() { case $(node_state) in idle | *drain* | *inval*) return 0 ;; *) return 1 ;; esac; }

munged -F --socket="$work/munge/munge.sock" --key-file="$work/munge/munge.key" \
    --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" \
    </dev/null >"$work/log/munged.out" 2>&1 &
munged_pid=$!
wait_for munged "$munged_pid" munge_ok
slurmctld -D -f "$SLURM_CONF" </dev/null >"$work/log/slurmctld.out" 2>&1 &
ctld_pid=$!
wait_for slurmctld "$ctld_pid" ctld_up
slurmd -D -f "$SLURM_CONF" -N "$node" </dev/null >"$work/log/slurmd.out" 2>&1 &
slurmd_pid=$!
wait_for slurmd "$slurmd_pid" node_settled
[[ $(node_state) == idle ]] || die "node $node is $(node_state): $(sinfo -h -R -o '%E')"
log "slurm up: $(sinfo -h -o '%P %a %D %T %N')"

# ------------------------------------------------------------------- submit
cd "$repo"
# shellcheck disable=SC2086 # args is a word list
read -r array merge < <(deploy/slurm/submit.sh -n "$shards" -d "$work/shards" \
    -m "--out $work/report" \
    -s "--chdir=$repo --output=$work/jobs/%x-%A_%a.out --error=$work/jobs/%x-%A_%a.err" \
    -- $args)
[[ -n ${merge:-} ]] || die "submit.sh did not submit both jobs"
log "array job $array ($shards tasks), merge job $merge: fdsim $args"

# --------------------------------------------------------------------- wait
deadline=$((SECONDS + timeout_s))
while :; do
    states=$(squeue -h -r -t all -j "$array,$merge" -o '%i %T') || die "squeue failed"
    grep -qE ' (PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED)$' <<<"$states" || break
    ((SECONDS < deadline)) || die "jobs not done after ${timeout_s}s: $(tr '\n' ' ' <<<"$states")"
    if ! running "$slurmd_pid" || ! running "$ctld_pid"; then die "a slurm daemon died"; fi
    case $(node_state) in *drain* | *down* | *fail*) die "node $node is $(node_state): $(sinfo -h -R -o '%E')" ;; esac
    sleep 1
done
log "final states: $(tr '\n' ' ' <<<"$states")"
[[ $(grep -c ' COMPLETED$' <<<"$states") == $((shards + 1)) ]] || die "not every job completed: $states"

# ------------------------------------------------------------------- verify
for ((k = 1; k <= shards; k++)); do
    [[ -f $work/shards/part-$k/manifest.json ]] || die "shard $k/$shards wrote no manifest"
done
merge_out=$(ls "$work"/jobs/fdsim-merge-*.out)
# shellcheck disable=SC2086 # args is a word list
"$FDSIM" $args --out "$work/local" >"$work/local.out" 2>"$work/local.err" || die "local run failed"
diff -r "$work/local" "$work/report" >&2 || die "the merged report differs from the local run"
cmp "$work/local.out" "$merge_out" || die "the merge printed other tables than the local run"
files=$(find "$work/report" -type f | wc -l)
log "merged report of $shards Slurm array tasks = local run, byte for byte ($files files, and the printed tables)"
