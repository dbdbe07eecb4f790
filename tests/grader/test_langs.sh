#!/usr/bin/env bash
# Submission languages beyond C: CUDA (built with nvcc; GPU checks skipped
# with the reason where no GPU exists) and MPI (built with mpicc, run under
# mpirun inside the sandbox).
. "$(dirname "$0")/lib.sh"
LABS=$SRC/tests/grader/labs
out=$(mktemp -d)

# MPI: the reference passes, the starter fails with the rank that was wrong.
"$PARLAB" lab run "$LABS/mpismoke" --submission "$LABS/mpismoke/solution.c" --json >"$out/mpi.json" 2>"$out/mpi.err"
expect "mpi reference exits 0" "$?" 0
expect "mpi reference passes" "$(jget "$out/mpi.json" "d['checks'][0]['passed']")" True
"$PARLAB" lab run "$LABS/mpismoke" --submission "$LABS/mpismoke/starter.c" --json >"$out/mpis.json" 2>/dev/null
expect "mpi starter exits 1" "$?" 1
expect_has "mpi starter: rank 1 named" "$(jget "$out/mpis.json" "d['checks'][0]['message']")" "rank 1"

# CUDA: compiles with nvcc where the toolkit exists; without a GPU the
# check is skipped (not failed, not passed) with its reason.
if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  PARLAB_NO_GPU=1 "$PARLAB" lab run "$LABS/cudasmoke" --submission "$LABS/cudasmoke/solution.cu" --json >"$out/cuda.json" 2>"$out/cuda.err"
  expect "cuda without GPU exits 0 (nothing failed)" "$?" 0
  expect "cuda compiled with nvcc" "$(jget "$out/cuda.json" "d['compiled']")" True
  expect "gpu check skipped" "$(jget "$out/cuda.json" "d['checks'][0]['skipped']")" True
  expect "gpu check not passed" "$(jget "$out/cuda.json" "d['checks'][0]['passed']")" False
  expect_has "skip reason given" "$(jget "$out/cuda.json" "d['checks'][0]['message']")" "needs a GPU"
  PARLAB_NO_GPU=1 "$PARLAB" lab test "$LABS/cudasmoke" >"$out/cudatest.txt" 2>&1
  expect "lab test passes without a GPU (builds, definition valid)" "$?" 0
  expect_has "lab test says what was skipped" "$(cat "$out/cudatest.txt")" "skipped"
  if [ -e /dev/nvidia0 ]; then
    "$PARLAB" lab test "$LABS/cudasmoke" >"$out/gpu.txt" 2>&1
    expect "on a GPU: starter fails, reference passes" "$?" 0
  fi
else
  echo "skip  CUDA toolkit not installed"
fi
rm -rf "$out"
finish
