#!/usr/bin/env bash
# The Lua-submission labs of module 1 (interpreter-lock, futures): `parlab
# lab test` on both (the starter does not get full marks, the reference
# does, timed checks with their real thresholds), the starters' scores and
# messages, then one more wrong submission per lab, failing the check it
# should fail with the message that explains why.
. "$(dirname "$0")/lib.sh"
SUBS=$SRC/tests/grader/subs
out=$(mktemp -d)

run_json() { # LAB SUBMISSION OUTFILE -> sets rc
  "$PARLAB" lab run "$1" --submission "$2" --json >"$3" 2>"$3.err"
  rc=$?
}
check_field() { # FILE INDEX FIELD
  jget "$1" "d['checks'][$2]['$3']"
}
lab_field() { # FILE LAB FIELD
  jget "$1" "[l for l in d['labs'] if l['lab']=='$2'][0]['$3']"
}

# ---- lab test: starter vs reference ----
"$PARLAB" lab test interpreter-lock futures --json >"$out/labtest.json" 2>"$out/labtest.err"
expect "lab test of both labs exits 0" "$?" 0
for lab in interpreter-lock futures; do
  expect "$lab: lab test ok" "$(lab_field "$out/labtest.json" $lab ok)" True
  expect "$lab: reference full marks" "$(lab_field "$out/labtest.json" $lab reference_score)" \
    "$(lab_field "$out/labtest.json" $lab max_score)"
done
# The coroutine starter counts right and does not scale; the in-order
# starter counts right, stops at the first failed task and consumes late.
expect "interpreter-lock starter: correctness points only" \
  "$(lab_field "$out/labtest.json" interpreter-lock starter_score)" 4
expect "futures starter: correctness points only" \
  "$(lab_field "$out/labtest.json" futures starter_score)" 3
grep -E "speedup [0-9.]+x" "$out/labtest.err" | sed 's/^ */      figures: /'

# ---- interpreter-lock: the starter is told why it is slow ----
run_json interpreter-lock "$SRC/labs/interpreter-lock/starter.lua" "$out/il-starter.json"
expect "coroutine starter exits 1" "$rc" 1
expect "coroutine starter: counts right" "$(check_field "$out/il-starter.json" 0 passed)" True
expect "coroutine starter: no speedup" "$(check_field "$out/il-starter.json" 1 passed)" False
msg=$(check_field "$out/il-starter.json" 1 message)
expect_has "coroutine starter: message states the threshold" "$msg" "needs 0.65 x"
expect_has "coroutine starter: message names the baseline" "$msg" "serial baseline"

# ---- interpreter-lock: sending draw() with its upvalues is refused ----
run_json interpreter-lock "$SUBS/interpreter-lock-upvalue.lua" "$out/il-up.json"
expect "upvalue submission exits 1" "$rc" 1
expect "upvalue submission: no count" "$(check_field "$out/il-up.json" 0 passed)" False
expect_has "upvalue submission: the upvalues are named" "$(check_field "$out/il-up.json" 0 message)" \
  "a function with upvalues (A, C, MASK) cannot be sent to a worker"

# ---- futures: the starter waits in submission order ----
run_json futures "$SRC/labs/futures/starter.lua" "$out/fu-starter.json"
expect "in-order starter exits 1" "$rc" 1
expect "in-order starter: counts right" "$(check_field "$out/fu-starter.json" 0 passed)" True
expect "in-order starter: a failed task ends the batch" "$(check_field "$out/fu-starter.json" 1 passed)" False
expect_has "in-order starter: the task's error is shown" "$(check_field "$out/fu-starter.json" 1 message)" \
  "empty document d02"
msg=$(check_field "$out/fu-starter.json" 2 message)
expect "in-order starter: consumes late" "$(check_field "$out/fu-starter.json" 2 passed)" False
expect_has "in-order starter: told the slow task held it up" "$msg" "but d01 needs 600 ms"

# ---- futures: sorting the log afterwards does not fool the grader ----
run_json futures "$SUBS/futures-sorted-after.lua" "$out/fu-sorted.json"
expect "sorted-after submission exits 1" "$rc" 1
expect "sorted-after: counts right" "$(check_field "$out/fu-sorted.json" 0 passed)" True
expect "sorted-after: failures recorded" "$(check_field "$out/fu-sorted.json" 1 passed)" True
expect "sorted-after: consumption not as completed" "$(check_field "$out/fu-sorted.json" 2 passed)" False
msg=$(check_field "$out/fu-sorted.json" 2 message)
expect_has "sorted-after: the late consumption is named" "$msg" "the first result was consumed"
echo "      figures: $(echo "$msg" | head -1)"

rm -rf "$out"
finish
