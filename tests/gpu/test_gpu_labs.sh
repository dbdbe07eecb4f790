#!/usr/bin/env bash
# The GPU labs on a real device (ctest label gpu): `parlab lab test` must
# give each starter less than full marks and each reference full marks,
# with no check skipped and the real thresholds; one typical wrong
# submission per lab must fail the check meant to catch it, saying why;
# `parlab bench gpu` must report its figures (printed, not judged: the
# targets are the lead's to check on a quiet machine). Exits 77 (skipped)
# with the reason where no GPU can be used.
. "$(dirname "$0")/../grader/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out" "$PARLAB_HOME"' EXIT

skip() { echo "SKIP: $*"; exit 77; }
[ -n "${PARLAB_NO_GPU:-}" ] && [ "$PARLAB_NO_GPU" != 0 ] && skip "no CUDA device: PARLAB_NO_GPU is set"
[ -e /dev/nvidia0 ] || skip "no CUDA device: /dev/nvidia0 not found"
if [ -z "${PARLAB_NVCC:-}" ] && [ ! -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null; then
  skip "nvcc not found: the CUDA labs cannot be compiled here"
fi
LABS="gpu-vector-add gpu-reduction gpu-matmul-tiling"
SUBS=$SRC/tests/gpu/subs

"$PARLAB" lab test $LABS --json >"$out/test.json"
expect "lab test of the three GPU labs exits 0" "$?" 0
for lab in $LABS; do
  sel="[l for l in d['labs'] if l['lab'] == '$lab'][0]"
  expect "lab test $lab ok" "$(jget "$out/test.json" "$sel['ok']" 2>/dev/null || echo missing)" True
  expect "lab test $lab: nothing skipped" "$(jget "$out/test.json" "$sel.get('skipped_checks', 0)")" 0
  expect "lab test $lab: reference at full marks" \
    "$(jget "$out/test.json" "$sel['reference_score'] == $sel['max_score']")" True
  expect "lab test $lab: starter short of full marks" \
    "$(jget "$out/test.json" "$sel['starter_score'] < $sel['max_score']")" True
done

run_json() { # LAB SUBMISSION OUTFILE -> sets rc
  "$PARLAB" lab run "$1" --submission "$2" --json >"$3" 2>"$3.err"
  rc=$?
}
check_field() { jget "$1" "[c for c in d['checks'] if c['name'] == '$2'][0]['$3']"; }

run_json gpu-vector-add "$SUBS/vadd-nobounds.cu" "$out/nobounds.json"
expect "vadd without bounds check exits 1" "$rc" 1
expect "vadd without bounds check fails correctness" \
  "$(check_field "$out/nobounds.json" "correct for every size" passed)" False
expect_has "vadd: the overhanging block is named" \
  "$(check_field "$out/nobounds.json" "correct for every size" message)" "n = 1: a thread wrote past c[n-1]"

run_json gpu-reduction "$SUBS/reduce-notail.cu" "$out/notail.json"
expect "reduction without the tail exits 1" "$rc" 1
expect "reduction without the tail fails the exact check" \
  "$(check_field "$out/notail.json" "exact on integers, every size" passed)" False
expect_has "reduction: the zero-block launch is named" \
  "$(check_field "$out/notail.json" "exact on integers, every size" message)" "n = 1: CUDA error 9 (cudaErrorInvalidConfiguration"

run_json gpu-matmul-tiling "$SUBS/matmul-nobounds.cu" "$out/mmbounds.json"
expect "matmul without bounds exits 1" "$rc" 1
expect "matmul without bounds fails against cuBLAS" \
  "$(check_field "$out/mmbounds.json" "matches cuBLAS" passed)" False
expect_has "matmul: the first size is named" \
  "$(check_field "$out/mmbounds.json" "matches cuBLAS" message)" "n = 1: "

"$PARLAB" bench gpu --json >"$out/bench.json" 2>"$out/bench.err"
expect "bench gpu exits 0" "$?" 0
expect "bench gpu reports figures" \
  "$(jget "$out/bench.json" "len([r for r in d['results'] if r['suite'] == 'gpu']) >= 8")" True
jget "$out/bench.json" "'\n'.join('  %-48s ratio %.3f vs %s' % (r['name'], r['ratio'], r['reference']) for r in d['results'] if r['suite'] == 'gpu')"
finish
