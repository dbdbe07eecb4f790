#!/usr/bin/env bash
# The concurrency labs of module 1 (race-counter, schedule-imbalance,
# dining-philosophers): `parlab lab test` on each (the starter does not get
# full marks, the reference does), then one more wrong submission per lab,
# each failing the check it should fail, with the message that explains why.
# race-counter also gets a count without threads, and one whose threads only
# idle: correct and fast, but not parallel, so never full marks.
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

# ---- lab test: starter vs reference, with the real thresholds ----
"$PARLAB" lab test race-counter schedule-imbalance dining-philosophers --json \
  >"$out/labtest.json" 2>"$out/labtest.err"
expect "lab test of the three labs exits 0" "$?" 0
for lab in race-counter schedule-imbalance dining-philosophers; do
  expect "$lab: lab test ok" \
    "$(jget "$out/labtest.json" "[l for l in d['labs'] if l['lab']=='$lab'][0]['ok']")" True
done
# The schedule starter is correct but slow; the deadlocking starter never
# finishes a dinner. (The racy starter is checked below, by its message.)
expect "schedule-imbalance starter: correctness points only" \
  "$(jget "$out/labtest.json" "[l for l in d['labs'] if l['lab']=='schedule-imbalance'][0]['starter_score']")" 4
expect "dining-philosophers starter: 0 points" \
  "$(jget "$out/labtest.json" "[l for l in d['labs'] if l['lab']=='dining-philosophers'][0]['starter_score']")" 0
grep -E "speedup [0-9.]+x" "$out/labtest.err" | sed 's/^ */      figures: /'

# ---- race-counter: the racy starter loses updates, and is told so ----
run_json race-counter "$SRC/labs/race-counter/starter.c" "$out/racy.json"
expect "racy starter exits 1" "$rc" 1
expect "racy starter: counts wrong" "$(check_field "$out/racy.json" 0 passed)" False
expect_has "racy starter: lost increments named" "$(check_field "$out/racy.json" 0 message)" \
  "increments lost: a data race on the counter?"

# ---- race-counter: an atomic counter is correct but contended ----
run_json race-counter "$SUBS/race-counter-atomic.c" "$out/atomic.json"
expect "atomic counter exits 1" "$rc" 1
expect "atomic counter: counts correctly" "$(check_field "$out/atomic.json" 0 passed)" True
expect "atomic counter: splits the work" "$(check_field "$out/atomic.json" 1 passed)" True
expect "atomic counter: does not beat the lock" "$(check_field "$out/atomic.json" 2 passed)" False
msg=$(check_field "$out/atomic.json" 2 message)
expect_has "atomic counter: message names the locked baseline" "$msg" "speedup over the locked counter"
expect_has "atomic counter: message states the threshold" "$msg" "needs 3 x"
echo "      figures: $(echo "$msg" | tr '\n' ' ')"

# ---- race-counter: serial rewrites are correct, fast, and not enough ----
cores=$(nproc) # as engine.cores(): the CPUs this process may run on
for sub in serial sham-threads; do
  run_json race-counter "$SUBS/race-counter-$sub.c" "$out/$sub.json"
  expect "$sub: exits 1" "$rc" 1
  expect "$sub: counts correctly" "$(check_field "$out/$sub.json" 0 passed)" True
  expect "$sub: not full marks" \
    "$(jget "$out/$sub.json" "d['score'] < d['max_score']")" True
  expect "$sub: the work is not split" "$(check_field "$out/$sub.json" 1 passed)" False
  msg=$(check_field "$out/$sub.json" 1 message)
  expect_has "$sub: one thread read everything" "$msg" \
    "1 thread read 100% of the pages (the calling thread 100%)"
  if [ "$cores" -gt 1 ]; then
    expect "$sub: no speedup points either" "$(check_field "$out/$sub.json" 2 passed)" False
  fi
done

# ---- schedule-imbalance: dynamic with a huge chunk is still imbalanced ----
run_json schedule-imbalance "$SUBS/schedule-imbalance-bigchunk.c" "$out/bigchunk.json"
expect "big chunk exits 1" "$rc" 1
expect "big chunk: results correct" "$(check_field "$out/bigchunk.json" 0 passed)" True
expect "big chunk: work not balanced" "$(check_field "$out/bigchunk.json" 1 passed)" False
msg=$(check_field "$out/bigchunk.json" 1 message)
expect_has "big chunk: message states the threshold" "$msg" "needs 0.75 x"
echo "      figures: $(echo "$msg" | tr '\n' ' ')"

# ---- dining-philosophers: the watchdog names the circle of waits ----
run_json dining-philosophers "$SUBS/dining-philosophers-right-first.c" "$out/right.json"
expect "right fork first exits 1" "$rc" 1
msg=$(check_field "$out/right.json" 0 message)
expect_has "right fork first: philosopher 0's wait named" "$msg" \
  "philosopher 0 holds fork 1 and waits for fork 0; philosopher 4 holds fork 0 and waits for fork 4"
expect_has "right fork first: the circle closes" "$msg" \
  "philosopher 1 holds fork 2 and waits for fork 1: a circular wait — a deadlock"
case "$msg" in *"time limit exceeded"*) bad "right fork first: bare time-out shown" ;;
                *) ok "right fork first: explained, not a bare time-out" ;; esac

# One lock around the whole meal: no deadlock, and no parallelism.
run_json dining-philosophers "$SUBS/dining-philosophers-one-at-a-time.c" "$out/one.json"
expect "one at a time exits 1" "$rc" 1
expect "one at a time: dinner finishes" "$(check_field "$out/one.json" 0 passed)" True
expect "one at a time: every table size" "$(check_field "$out/one.json" 1 passed)" True
expect_has "one at a time: parallelism missing" "$(check_field "$out/one.json" 2 message)" \
  "most philosophers seen eating at the same time: expected at least 2, got 1"

rm -rf "$out"
finish
