#!/usr/bin/env bash
# The MPI labs of module 3 (mpi-ring, mpi-allreduce, mapreduce-wordcount,
# data-parallel-sgd): `parlab lab test` on each, with the real thresholds:
# the starter does not get full marks, the reference does. (More
# submissions per lab: test_mpisubs.sh.) Skips, and passes, where Open MPI
# is not installed.
. "$(dirname "$0")/lib.sh"
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
  echo "skip  mpirun or mpicc not found (Open MPI is not installed)"
  finish
  exit $?
fi
out=$(mktemp -d)
trap 'rm -rf "$PARLAB_HOME" "$out"' EXIT
LABS="mpi-ring mpi-allreduce mapreduce-wordcount data-parallel-sgd"

labfield() { # LAB FIELD
  jget "$out/labtest.json" "[l for l in d['labs'] if l['lab']=='$1'][0]['$2']"
}

# ---- lab test: starter vs reference ----
# shellcheck disable=SC2086
"$PARLAB" lab test $LABS --json >"$out/labtest.json" 2>"$out/labtest.err"
expect "lab test of the four MPI labs exits 0" "$?" 0
for lab in $LABS; do
  expect "$lab: lab test ok" "$(labfield "$lab" ok)" True
done
# What each starter earns: the ring works for small messages only; the
# allreduce starter only avoids collectives; the others get nothing.
expect "mpi-ring starter: the small-message points only" "$(labfield mpi-ring starter_score)" 3
expect "mpi-allreduce starter: 1 point" "$(labfield mpi-allreduce starter_score)" 1
expect "mapreduce-wordcount starter: 0 points" "$(labfield mapreduce-wordcount starter_score)" 0
expect "data-parallel-sgd starter: 0 points" "$(labfield data-parallel-sgd starter_score)" 0
grep -E "speedup [0-9.]+x|GB/s" "$out/labtest.err" | sed 's/^ */      figures: /'

finish
