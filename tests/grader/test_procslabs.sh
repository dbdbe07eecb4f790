#!/usr/bin/env bash
# The process labs of lecture l03 (pool-chunksize, producer-consumer,
# shared-histogram, fault-tolerance): `parlab lab test` on each (the
# starter does not get full marks, the reference does), then wrong
# submissions made from the reference by a small edit, each failing exactly
# the check it should, with the message that explains why.
# Also: a jail killed in the middle of a pool leaves no worker behind, the
# lecture's Python examples run, and the Python side of
# `parlab bench procs` produces its JSON.
. "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
LABS="pool-chunksize producer-consumer shared-histogram fault-tolerance"

run_json() { # LAB SUBMISSION OUTFILE -> sets rc
  "$PARLAB" lab run "$1" --submission "$2" --json >"$3" 2>"$3.err"
  rc=$?
}
check_field() { # FILE INDEX FIELD
  jget "$1" "d['checks'][$2]['$3']"
}
# variant LAB FILE SED-EXPR: the reference with one edit, as $out/LAB-FILE
variant() {
  sed -e "$3" "$SRC/labs/$1/solution.lua" >"$out/$1-$2"
  if cmp -s "$out/$1-$2" "$SRC/labs/$1/solution.lua"; then
    bad "variant $1-$2: the edit changed nothing"
  fi
}

# ---- lab test: starter vs reference, with the real thresholds ----
"$PARLAB" lab test $LABS --json >"$out/labtest.json" 2>"$out/labtest.err"
expect "lab test of the four labs exits 0" "$?" 0
for lab in $LABS; do
  expect "$lab: lab test ok" \
    "$(jget "$out/labtest.json" "[l for l in d['labs'] if l['lab']=='$lab'][0]['ok']")" True
done
# What each starter still gets right.
starter() { jget "$out/labtest.json" "[l for l in d['labs'] if l['lab']=='$1'][0]['starter_score']"; }
expect "pool-chunksize starter: correct sums only" "$(starter pool-chunksize)" 2
expect "producer-consumer starter: 0 points" "$(starter producer-consumer)" 0
expect "shared-histogram starter: 0 points (lost updates)" "$(starter shared-histogram)" 0
expect "fault-tolerance starter: 0 points" "$(starter fault-tolerance)" 0
grep -E "tasks on|values, [0-9]+ workers|deepest queue|accounted for" "$out/labtest.err" |
  sed 's/^ */      figures: /'

# ---- pool-chunksize: the starter's one chunk per worker is told why ----
# (which comparison fails first depends on the machine's load)
expect_has "pool-chunksize starter: the timed comparison is explained" "$(cat "$out/labtest.err")" \
  "throughput with chunk size 25000 relative to"
expect_has "pool-chunksize starter: no curve" "$(cat "$out/labtest.err")" \
  "bathtub() must return at least 5 points"

# ---- producer-consumer: sentinels right, queue unbounded ----
variant producer-consumer unbounded.lua 's|local q = P.queue(capacity)|local q = P.queue(n + consumers)|'
run_json producer-consumer "$out/producer-consumer-unbounded.lua" "$out/unb.json"
expect "unbounded queue: exits 1" "$rc" 1
expect "unbounded queue: every item once" "$(check_field "$out/unb.json" 0 passed)" True
expect "unbounded queue: memory not bounded" "$(check_field "$out/unb.json" 1 passed)" False
expect_has "unbounded queue: message" "$(check_field "$out/unb.json" 1 message)" \
  "the most messages ever waiting in the queue: expected at most 8"
expect "unbounded queue: processes exit" "$(check_field "$out/unb.json" 2 passed)" True

# ---- producer-consumer: consumers never reaped ----
variant producer-consumer nojoin.lua 's|for c = 1, consumers do total.exitcodes\[c\] = procs\[c\]:join() end|for c = 1, consumers do total.exitcodes[c] = 0 end|'
run_json producer-consumer "$out/producer-consumer-nojoin.lua" "$out/nojoin.json"
# Exited but never joined (reaped): still counted by active_children().
expect "no join: exits 1" "$rc" 1
expect "no join: processes do not all exit" "$(check_field "$out/nojoin.json" 2 passed)" False
expect_has "no join: children left are reported" "$(check_field "$out/nojoin.json" 2 message)" \
  "child processes still running when run() returns"

# ---- shared-histogram: partials() that just locks ----
variant shared-histogram lockedtwice.lua '/^local function partials/,/^end/c\
local function partials(data, nbins, workers) return locked(data, nbins, workers) end'
run_json shared-histogram "$out/shared-histogram-lockedtwice.lua" "$out/twice.json"
expect "partials = locked: exits 1" "$rc" 1
expect "partials = locked: locked() correct" "$(check_field "$out/twice.json" 0 passed)" True
expect "partials = locked: partials() correct" "$(check_field "$out/twice.json" 1 passed)" True
expect "partials = locked: does not beat the lock" "$(check_field "$out/twice.json" 2 passed)" False
expect_has "partials = locked: message states the threshold" "$(check_field "$out/twice.json" 2 message)" \
  "needs 1 x"

# ---- fault-tolerance: retries without isolation ----
cat >"$out/fault-tolerance-retries.lua" <<'EOF'
local P = engine.procs
local function work(x, seed)
  local h = (x * 2654435761 + seed) % 1000003
  if h % 61 == 0 then engine.procs.crash_for_testing("segv") end
  if h % 7 == 0 and engine.procs.attempt() == 1 then engine.procs.crash_for_testing("kill") end
  local s = 0
  for i = 1, 300 do s = s + (x * i + h) % 11 end
  return s
end
local pool
local function run(items, seed)
  pool = pool or P.pool{ workers = engine.cores(), retries = 2 }
  local r = pool:map(work, items, { chunksize = 16 }, seed)
  local sum = 0
  for i = 1, #r do sum = sum + r[i] end
  return { sum = sum, count = #r, bad = {} }
end
return { run = run }
EOF
run_json fault-tolerance "$out/fault-tolerance-retries.lua" "$out/retries.json"
expect "retries only: exits 1" "$rc" 1
expect "retries only: flaky inputs fine" "$(check_field "$out/retries.json" 0 passed)" True
expect "retries only: poison not isolated" "$(check_field "$out/retries.json" 1 passed)" False
expect_has "retries only: the cause reaches the student" "$(check_field "$out/retries.json" 1 message)" \
  "killed by signal 11 (SIGSEGV"
expect_has "retries only: after every attempt" "$(check_field "$out/retries.json" 1 message)" \
  "on attempt 3 of 3"

# ---- a jail killed in the middle of a pool leaves no worker behind ----
# The workers are forked from the jail, so their command line names the
# scratch folder under our own TMPDIR: that finds them, and only them.
mkdir -p "$out/hang" "$out/tmp"
cat >"$out/hang/lab.lua" <<'EOF'
return lab {
  id = "procs-hang", title = "a pool that never finishes",
  submission = { file = "job.lua", lang = "lua" },
  exports = { run = "lua" },
  checks = {
    check "hangs" { points = 1, timeout = 30, function(t)
      t:limit(4)
      t:ok(not pcall(t.sub.run), "the call should be stopped")
    end },
  },
}
EOF
cat >"$out/hang/job.lua" <<'EOF'
return { run = function()
  local pool = engine.procs.pool{ workers = 2 }
  return pool:map(function(x) while true do end end, { 1, 2, 3, 4 }, { chunksize = 1 })
end }
EOF
echo "# a pool that never finishes" >"$out/hang/brief.md"
cp "$out/hang/job.lua" "$out/hang/starter.lua"
cp "$out/hang/job.lua" "$out/hang/solution.lua"
workers_of() { # live parlab-worker processes whose command line names $out/tmp
  local n=0 p
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = parlab-worker ] || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "$out/tmp/" && n=$((n + 1))
  done
  echo "$n"
}
TMPDIR="$out/tmp" "$PARLAB" lab run "$out/hang" --submission "$out/hang/job.lua" \
  >"$out/hang.txt" 2>&1 &
lab_pid=$!
seen=0
for _ in $(seq 1 100); do
  seen=$(workers_of)
  [ "$seen" -ge 2 ] && break
  sleep 0.05
done
expect "hanging pool: its two workers run inside the jail" "$seen" 2
wait "$lab_pid"
expect "hanging pool: the check stopped the call" "$?" 0
sleep 0.2
expect "hanging pool: no worker left after the jail was killed" "$(workers_of)" 0

# ---- the lecture's Python examples run ----
python3 - "$SRC/content/lectures/l03-processes-and-ipc.md" >"$out/py.txt" 2>&1 <<'EOF'
import re, subprocess, sys, tempfile, os
text = open(sys.argv[1]).read()
n = 0
for code in re.findall(r"```python\n(.*?)```", text, re.S):
    n += 1
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    r = subprocess.run([sys.executable, f.name], capture_output=True, text=True, timeout=120)
    os.unlink(f.name)
    if r.returncode != 0:
        print("block %d failed:\n%s" % (n, r.stderr))
        sys.exit(1)
print("python blocks:", n)
EOF
expect "lecture l03: every Python block runs" "$?" 0
expect_has "lecture l03: Python blocks found" "$(cat "$out/py.txt")" "python blocks: 4"

# ---- the bench's Python reference produces its JSON ----
python3 "$SRC/tests/bench/procs_ref.py" --workers 2 --starts 1 --latency 50 --map-n 500 \
  --cf-map-n 100 --big-mb 1 --big-reps 1 >"$out/ref.json" 2>"$out/ref.err"
expect "procs_ref.py exits 0" "$?" 0
expect "procs_ref.py: latency samples" "$(jget "$out/ref.json" "len(d['latency'])")" 50
expect "procs_ref.py: every measurement" \
  "$(jget "$out/ref.json" "sorted(k for k in d if isinstance(d[k], list))")" \
  "['big', 'cf_latency', 'cf_map', 'latency', 'map', 'start']"

rm -rf "$out"
finish
