#!/usr/bin/env bash
# The GPU labs (gpu-vector-add, gpu-reduction, gpu-matmul-tiling) where no
# GPU can be used — every CPU machine, and a GPU machine too, since
# PARLAB_NO_GPU=1 forces the path: the lab definitions load, starter,
# reference and baseline compile with nvcc, and every check is reported as
# skipped with the reason (neither passed nor failed); a compile error is
# reported with nvcc's file and line; `parlab bench gpu` says why it
# measures nothing. tests/gpu/test_gpu_labs.sh runs the same labs on a device.
. "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out" "$PARLAB_HOME"' EXIT
export PARLAB_NO_GPU=1
LABS="gpu-vector-add gpu-reduction gpu-matmul-tiling"
REASON="skipped: needs a GPU (no CUDA device: PARLAB_NO_GPU is set)"

for lab in $LABS; do
  "$PARLAB" lab lint "$SRC/labs/$lab" >"$out/lint.txt" 2>&1
  expect "lint $lab" "$?" 0
  expect_has "$lab has at least 2 hints" "$(cat "$out/lint.txt")" "hints)"
  n=$(sed -n 's/.*, \([0-9]*\) hints).*/\1/p' "$out/lint.txt")
  [ "${n:-0}" -ge 2 ] && ok "$lab: $n hints" || bad "$lab: ${n:-no} hints, needs 2"
done

nvcc=${PARLAB_NVCC:-}
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ -z "$nvcc" ] && nvcc=$(command -v nvcc || true)
if [ -z "$nvcc" ]; then
  # Without the CUDA toolkit nothing can be compiled; the rest of the
  # skip path is still checked below (bench).
  ok "nvcc not found: the compile assertions are not run on this machine"
else
  # lab test: starter, reference (and the baseline) compile; every check is
  # skipped, and that is accepted with a note.
  "$PARLAB" lab test $LABS --json >"$out/test.json" 2>"$out/test.err"
  expect "lab test of the three GPU labs exits 0" "$?" 0
  for lab in $LABS; do
    sel="[l for l in d['labs'] if l['lab'] == '$lab'][0]"
    expect "lab test $lab ok" "$(jget "$out/test.json" "$sel['ok']" 2>/dev/null || echo missing)" True
    expect "lab test $lab: no problems" "$(jget "$out/test.json" "len($sel['problems'])")" 0
    expect "lab test $lab: checks skipped" "$(jget "$out/test.json" "$sel.get('skipped_checks', 0) > 0")" True
  done
  expect_has "lab test says why it cannot judge" "$(cat "$out/test.err")" \
    "skipped (needs a GPU); run \`parlab lab test gpu-vector-add\` on a machine with a GPU"

  # lab run: skipped, not failed and not passed, with the reason.
  for lab in $LABS; do
    "$PARLAB" lab run "$lab" --submission "$SRC/labs/$lab/solution.cu" --json >"$out/$lab.json" 2>/dev/null
    expect "$lab: a run with every check skipped exits 0" "$?" 0
    expect "$lab: compiled" "$(jget "$out/$lab.json" "d['compiled']")" True
    expect "$lab: score 0" "$(jget "$out/$lab.json" "d['score']")" 0
    expect "$lab: every check skipped" "$(jget "$out/$lab.json" "all(c['skipped'] for c in d['checks'])")" True
    expect "$lab: none passed" "$(jget "$out/$lab.json" "any(c['passed'] for c in d['checks'])")" False
    expect "$lab: the reason" "$(jget "$out/$lab.json" "sorted(set(c['message'] for c in d['checks']))")" \
      "['$REASON']"
  done
  "$PARLAB" lab run gpu-vector-add --submission "$SRC/labs/gpu-vector-add/starter.cu" >"$out/plain.txt" 2>&1
  expect "plain run exits 0" "$?" 0
  expect_has "plain run says the points were skipped" "$(cat "$out/plain.txt")" \
    "10 points were skipped: their checks need a GPU, which this machine does not have"

  # The compile path is real: nvcc's errors reach the student.
  printf '#include <cuda_runtime.h>\n__global__ void k(float *x) { x[0] = y; }\n' >"$out/vadd.cu"
  "$PARLAB" lab run gpu-vector-add --submission "$out/vadd.cu" --json >"$out/bad.json" 2>/dev/null
  expect "a file that does not compile exits 1" "$?" 1
  expect "not compiled" "$(jget "$out/bad.json" "d['compiled']")" False
  expect_has "nvcc names the file and line" "$(jget "$out/bad.json" "' '.join(d['diagnostics'])")" \
    "vadd.cu(2): error: identifier \"y\" is undefined"
fi

# The benchmark suite says why it measures nothing, and does not fail.
"$PARLAB" bench gpu --json >"$out/bench.json" 2>"$out/bench.err"
expect "bench gpu without a device exits 0" "$?" 0
expect "bench gpu reports no figures" "$(jget "$out/bench.json" "len([r for r in d['results'] if r['suite'] == 'gpu'])")" 0
expect_has "bench gpu gives the reason" "$(cat "$out/bench.err")" "bench gpu: skipped: no CUDA device: "
finish
