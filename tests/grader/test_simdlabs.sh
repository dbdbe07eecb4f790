#!/usr/bin/env bash
# The labs of lecture l05 (simd-dot, int8-dot, gemm-blocking, roofline):
# `parlab lab test` proves each starter short of full marks and each
# reference at full marks, with the real thresholds (a missed timing target
# is re-measured before it fails); then one typical wrong submission per
# lab must fail the check that is meant to catch it, saying why.
. "$(dirname "$0")/lib.sh"
SUBS=$SRC/tests/grader/subs
out=$(mktemp -d)
trap 'rm -rf "$out" "$PARLAB_HOME"' EXIT

"$PARLAB" lab test simd-dot int8-dot gemm-blocking roofline --json >"$out/test.json"
expect "lab test of the four l05 labs exits 0" "$?" 0
for lab in simd-dot int8-dot gemm-blocking roofline; do
  expect "lab test $lab ok" "$(jget "$out/test.json" \
    "[l for l in d['labs'] if l['lab'] == '$lab'][0]['ok']" 2>/dev/null || echo missing)" True
done

run_json() { # LAB SUBMISSION OUTFILE -> sets rc
  "$PARLAB" lab run "$1" --submission "$2" --json >"$3" 2>"$3.err"
  rc=$?
}
# check_field FILE CHECK-NAME FIELD
check_field() { jget "$1" "[c for c in d['checks'] if c['name'] == '$2'][0]['$3']"; }

# simd-dot: a vector loop that drops the last n % 8 elements.
run_json simd-dot "$SUBS/simd-dot-notail.c" "$out/notail.json"
expect "simd-dot without a tail exits 1" "$rc" 1
expect "simd-dot without a tail fails the tail check" \
  "$(check_field "$out/notail.json" "every length and tail" passed)" False
expect_has "simd-dot: the first short length is named" \
  "$(check_field "$out/notail.json" "every length and tail" message)" "n = 1: expected"

# int8-dot: the pmaddubsw sign trick, wrong for -128 * -128.
run_json int8-dot "$SUBS/int8-dot-maddubs.c" "$out/maddubs.json"
expect "int8-dot maddubs exits 1" "$rc" 1
expect "int8-dot maddubs fails the extremes" \
  "$(check_field "$out/maddubs.json" "exact at the extremes" passed)" False
expect_has "int8-dot: the -128 case is named with its exact value" \
  "$(check_field "$out/maddubs.json" "exact at the extremes" message)" "all -128 * -128, n = 32000: expected 524288000"

# gemm-blocking: accumulates into C without clearing it.
run_json gemm-blocking "$SUBS/gemm-blocking-nozero.c" "$out/nozero.json"
expect "gemm-blocking without clearing C exits 1" "$rc" 1
expect "gemm-blocking without clearing C fails C = A B" \
  "$(check_field "$out/nozero.json" "C = A B" passed)" False
expect_has "gemm-blocking: the wrong element is named" \
  "$(check_field "$out/nozero.json" "C = A B" message)" "n = 1, C[0][0]: expected"

# roofline: counts the bytes read but not the bytes written.
run_json roofline "$SUBS/roofline-nowrite.lua" "$out/nowrite.json"
expect "roofline without writes exits 1" "$rc" 1
expect "roofline without writes fails on this machine" \
  "$(check_field "$out/nowrite.json" "this machine" passed)" False
expect_has "roofline: the first wrong kernel is named" \
  "$(check_field "$out/nowrite.json" "this machine" message)" "this machine, kernel triad: attainable GFLOP/s"
expect "roofline without writes fails on other machines" \
  "$(check_field "$out/nowrite.json" "other machines" passed)" False
finish
