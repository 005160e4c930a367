#!/usr/bin/env bash
# Submits a sharded fdsim run to Slurm: an array of N shard tasks and a merge
# job that starts when every task has ended. Prints the two job ids.
#
#   deploy/slurm/submit.sh [-n N] [-d SHARD_DIR] [-m 'MERGE-ARGS'] [-s 'SBATCH-ARGS'] -- FDSIM-ARGS...
#
#   deploy/slurm/submit.sh -n 16 -m '--out report' -- run scenarios/ --seeds 1000
#   deploy/slurm/submit.sh -n 4 -m '--out baselines' -- baseline scenarios/
#   deploy/slurm/submit.sh -n 4 -m '--junit check.xml' -- check scenarios/ --baseline baselines/
#
# -n N           shards (array tasks), default 4; pick it from the cost
#                `fdsim run ... --shard 1/N` reports (docs/scale-out.md)
# -d SHARD_DIR   where the parts go, default shards (on a shared file system)
# -m MERGE-ARGS  arguments for fdsim merge, default '--out report'
# -s SBATCH-ARGS extra sbatch options for both jobs (partition, time, account)
# Run it from the directory the scenario paths are relative to; both jobs
# run there. FDSIM names the fdsim binary (default: fdsim on PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
n=4 dir=shards merge_args='--out report' sbatch_args=''
while getopts 'n:d:m:s:' opt; do
    case $opt in
        n) n=$OPTARG ;;
        d) dir=$OPTARG ;;
        m) merge_args=$OPTARG ;;
        s) sbatch_args=$OPTARG ;;
        *) sed -n '2,20p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
(($# > 0)) || { echo "submit.sh: give the fdsim command after --, e.g. -- run scenarios/" >&2; exit 2; }
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: -n takes a positive number of shards, got '$n'" >&2; exit 2; }
mkdir -p "$dir"

# shellcheck disable=SC2086 # sbatch_args and merge_args are word lists
array=$(sbatch --parsable $sbatch_args --array="1-$n" "$here/fdsim-shard.sbatch" "$dir" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable $sbatch_args --dependency="afterany:$array" \
    "$here/fdsim-merge.sbatch" "$dir" "$n" $merge_args)
merge=${merge%%;*}
echo "$array $merge"
echo "submitted shards as job array $array (1-$n) and the merge as job $merge" >&2
