#!/usr/bin/env bash
# More submissions for the MPI labs of module 3 (test_mpilabs.sh runs
# `lab test` on them): another correct ring, and wrong ones, each failing
# the check it should fail with the message that explains why; and long
# outputs from several ranks reaching t:mpirun line for line. Skips, and
# passes, where Open MPI is not installed.
. "$(dirname "$0")/lib.sh"
SUBS=$SRC/tests/grader/subs
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
  echo "skip  mpirun or mpicc not found (Open MPI is not installed)"
  finish
  exit $?
fi
out=$(mktemp -d)
trap 'rm -rf "$PARLAB_HOME" "$out"' EXIT

run_json() { # LAB SUBMISSION OUTFILE -> sets rc
  "$PARLAB" lab run "$1" --submission "$2" --json >"$3" 2>"$3.err"
  rc=$?
}
field() { # FILE INDEX FIELD
  jget "$1" "d['checks'][$2]['$3']"
}

# ---- long outputs reach t:mpirun line for line ----
# (mpirun tags chunks that end mid-line, and interleaves the ranks' chunks)
"$PARLAB" lab test "$SRC/tests/grader/labs/mpilines" >"$out/lines.txt" 2>&1
expect "6,000 lines from each of 3 ranks, intact (lab test)" "$?" 0

# ---- mpi-ring: the deadlocking starter is told why ----
run_json mpi-ring "$SRC/labs/mpi-ring/starter.c" "$out/ring.json"
expect "ring starter exits 1" "$rc" 1
expect "ring starter: large messages fail" "$(field "$out/ring.json" 2 passed)" False
expect_has "ring starter: deadlock explained" "$(field "$out/ring.json" 2 message)" "This is a deadlock"

# ---- mpi-ring: even/odd ordering is another correct ring ----
run_json mpi-ring "$SUBS/mpi-ring-evenodd.c" "$out/evenodd.json"
expect "even/odd ring gets full marks" "$rc" 0
expect "even/odd ring: score" "$(jget "$out/evenodd.json" "d['score']")" 10

# ---- mpi-allreduce: MPI_Allreduce inside is right but not allowed ----
run_json mpi-allreduce "$SUBS/mpi-allreduce-collective.c" "$out/coll.json"
expect "collective allreduce exits 1" "$rc" 1
expect "collective allreduce: sums are right" "$(field "$out/coll.json" 0 passed)" True
expect "collective allreduce: point-to-point check fails" "$(field "$out/coll.json" 1 passed)" False
expect_has "collective allreduce: collectives named" "$(field "$out/coll.json" 1 message)" \
  "calls to MPI collectives"

# ---- mapreduce-wordcount: a map that emits lines, not words ----
run_json mapreduce-wordcount "$SUBS/mapreduce-wordcount-lines.c" "$out/lines.json"
expect "line map exits 1" "$rc" 1
expect "line map: exact counts fail" "$(field "$out/lines.json" 0 passed)" False
expect_has "line map: the total is wrong" "$(field "$out/lines.json" 0 message)" "the counts add up to"

# ---- data-parallel-sgd: dividing by the local row count ----
run_json data-parallel-sgd "$SUBS/data-parallel-sgd-nlocal.c" "$out/nlocal.json"
expect "n_local division exits 1" "$rc" 1
expect "n_local division: serial run not matched" "$(field "$out/nlocal.json" 0 passed)" False
expect_has "n_local division: 2 ranks named" "$(field "$out/nlocal.json" 0 message)" "2 ranks, rank 0"
finish
