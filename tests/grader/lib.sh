# lib.sh — helpers for the grader's shell tests (sourced).
# ctest sets PARLAB (the binary) and PARLAB_SRC (the repository root).
set -u
PARLAB=${PARLAB:-$PWD/build/parlab}
SRC=${PARLAB_SRC:-$PWD}
export PARLAB_HOME=$(mktemp -d /tmp/parlab-test-home.XXXXXX)
trap 'rm -rf "$PARLAB_HOME"' EXIT
PASS=0 FAIL=0

ok()   { PASS=$((PASS + 1)); echo "ok    $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL  $*"; }

# jq-free JSON access: jget FILE PYTHON-EXPR (the document is `d`)
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# expect NAME ACTUAL EXPECTED
expect() {
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', expected '$3'"; fi
}
# expect_has NAME HAYSTACK NEEDLE
expect_has() {
  case "$2" in *"$3"*) ok "$1" ;; *) bad "$1: '$3' not found in: $2" ;; esac
}

finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}
