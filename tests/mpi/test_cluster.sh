#!/usr/bin/env bash
# The cluster backend under real mpirun jobs: tests/mpi/cluster_checks.c
# (collectives, MapReduce, parameter server) on 1 to 4 ranks, and the
# backend's own program parlab-mpi (word count self-check, parameter
# server demo, OSU kernels). Skips, and passes, where Open MPI or the
# cluster backend is missing.
. "$(dirname "$0")/../grader/lib.sh"
BUILD=$(dirname "$PARLAB")
if ! command -v mpirun >/dev/null; then
  echo "skip  mpirun not found (Open MPI is not installed)"
  finish
  exit $?
fi
if [ ! -x "$BUILD/test_cluster_mpi" ] || [ ! -x "$BUILD/parlab-mpi" ]; then
  echo "skip  this build has no cluster backend (CMake did not find MPI)"
  finish
  exit $?
fi
# As root, Open MPI wants to be told that it is meant.
ROOT=()
[ "$(id -u)" = 0 ] && ROOT=(--allow-run-as-root)
run() { timeout 300 mpirun "${ROOT[@]}" --oversubscribe --bind-to none "$@"; }
out=$(mktemp -d)
trap 'rm -rf "$PARLAB_HOME" "$out"' EXIT

for n in 1 2 3 4; do
  run -np $n "$BUILD/test_cluster_mpi" >"$out/c$n.txt" 2>&1
  expect "cluster checks on $n rank(s) exit 0" "$?" 0
  expect_has "cluster checks on $n rank(s): none failed" "$(tail -1 "$out/c$n.txt")" " 0 failed"
  grep FAIL "$out/c$n.txt"
done

# Word count: same keys and total on 1 and 3 ranks (the program checks
# that the counts add up to the number of words).
run -np 1 "$BUILD/parlab-mpi" wordcount 300000 9 >"$out/w1.txt" 2>&1
expect "wordcount on 1 rank" "$?" 0
run -np 3 "$BUILD/parlab-mpi" wordcount 300000 9 >"$out/w3.txt" 2>&1
expect "wordcount on 3 ranks" "$?" 0
k1=$(awk '/^wordcount/ {print $7, $9}' "$out/w1.txt")
k3=$(awk '/^wordcount/ {print $7, $9}' "$out/w3.txt")
expect "1 and 3 ranks find the same keys and total" "$k3" "$k1"
expect_has "the total is the number of words" "$k1" " 300000"

# Parameter server: BSP never stale; SSP's clock gap within its bound.
run -np 3 "$BUILD/parlab-mpi" ps bsp --steps 10 >"$out/bsp.txt" 2>&1
expect "ps bsp runs" "$?" 0
expect_has "bsp: staleness 0" "$(cat "$out/bsp.txt")" "staleness mean 0.00 max 0  clock gap max 0"
run -np 4 "$BUILD/parlab-mpi" ps ssp --staleness 1 --steps 10 --straggler 0.005 >"$out/ssp.txt" 2>&1
expect "ps ssp runs" "$?" 0
gap=$(sed -n 's/.*clock gap max \([0-9]*\).*/\1/p' "$out/ssp.txt")
[ -n "$gap" ] && [ "$gap" -le 1 ] && ok "ssp: clock gap $gap <= 1" || bad "ssp: clock gap '$gap' > 1: $(cat "$out/ssp.txt")"
run -np 1 "$BUILD/parlab-mpi" ps asp >"$out/one.txt" 2>&1
expect "ps on one rank is refused (exit 2)" "$?" 2
expect_has "and says why" "$(cat "$out/one.txt")" "at least 2 ranks"

# OSU kernels: one line per size, both latencies positive.
run -np 2 "$BUILD/parlab-mpi" osu bcast 8 64 >"$out/osu.txt" 2>&1
expect "osu bcast runs" "$?" 0
expect "osu: sizes 8 to 64 bytes" "$(awk '/^osu/ {printf "%s ", $2}' "$out/osu.txt")" "8 16 32 64 "
expect "osu: latencies are positive" "$(awk '/^osu/ && ($3 <= 0 || $4 <= 0)' "$out/osu.txt")" ""
finish
