#!/usr/bin/env bash
# Batch grading end to end: `parlab grade LAB DIR` over generated
# submissions, killed with -9 in the middle and resumed (no duplicate, no
# lost row), unchanged reruns, regrading one student or a changed file,
# a dead worker, a broken lab, and two batches on one gradebook at once.
. "$(dirname "$0")/lib.sh"
LAB=$SRC/labs/amdahl-sum
TINY=$SRC/tests/grader/labs/tiny
SUBS=$SRC/tests/grader/subs
work=$(mktemp -d /tmp/parlab-test-batch.XXXXXX)
trap 'rm -rf "$PARLAB_HOME" "$work"' EXIT
cd "$work" || exit 1

# sql DB QUERY: the first column of every row, one per line.
sql() { python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
for row in c.execute(sys.argv[2]): print(row[0])" "$1" "$2"; }

# ---- eight students: two folder submissions, one missing, two slow ones
# (the serial starter misses its timing target and is re-measured), a crash
# and a compile error; hidden files and other files are ignored.
mkdir subs
cp "$LAB/solution.c" subs/alice.c
cp "$LAB/starter.c" subs/bob.c
mkdir subs/carol && cp "$LAB/solution.c" subs/carol/sum.c
printf 'double lab_sum(const double *x, long n) { volatile double *p = 0; (void)x; return p[n]; }\n' >subs/dave.c
printf 'double lab_sum(const double *x, long n) { return 0 }\n' >subs/erin.c
{ echo '/* frank */'; cat "$LAB/starter.c"; } >subs/frank.c
{ echo '/* grace */'; cat "$LAB/solution.c"; } >subs/grace.c
mkdir subs/heidi                       # a folder without sum.c
cp "$LAB/solution.c" subs/.hidden.c     # skipped
echo "not a submission" >subs/README.txt
STUDENTS="alice bob carol dave erin frank grace heidi"

# ---- kill -9 in the middle, then resume
"$PARLAB" grade "$LAB" subs --jobs 2 --db gb.db >run1.out 2>run1.err &
pid=$!
graded=0
for _ in $(seq 1 600); do     # poll the gradebook, up to 120 s
  graded=$(sql gb.db "SELECT COUNT(*) FROM attempts WHERE status = 'graded'" 2>/dev/null || echo 0)
  [ "${graded:-0}" -ge 1 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
{ kill -9 $pid; wait $pid; } 2>/dev/null   # (quiet: bash reports the kill)
before=$(sql gb.db "SELECT COUNT(*) FROM attempts")
[ "$before" -ge 1 ] && [ "$before" -lt 8 ] && ok "killed in the middle ($before of 8 recorded)" ||
  bad "the kill did not land mid-batch ($before of 8 recorded)"
# Its workers die with it (they would otherwise grade on, unrecorded).
workers() { # parlab processes still running in this test's folder
  for p in $(pgrep -f -- "grade $LAB subs --jobs 2"); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$work" ] && echo "$p"
  done
}
left=1
for _ in $(seq 1 100); do
  [ -z "$(workers)" ] && { left=0; break; }
  sleep 0.1
done
expect "no worker outlives a killed batch" "$left" 0

"$PARLAB" grade "$LAB" subs --jobs 2 --db gb.db --json >run2.json 2>run2.err
expect "resumed batch exits 0" "$?" 0
expect "every student has exactly one attempt" \
  "$(sql gb.db "SELECT student || ':' || COUNT(*) FROM attempts GROUP BY student ORDER BY student" | tr '\n' ' ')" \
  "alice:1 bob:1 carol:1 dave:1 erin:1 frank:1 grace:1 heidi:1 "
expect "no check row is missing" \
  "$(sql gb.db "SELECT COUNT(*) FROM attempts a WHERE (SELECT COUNT(*) FROM check_results c WHERE c.attempt_id = a.id) != 2")" 0
expect "the resume graded only the rest" "$(jget run2.json "d['graded']")" "$((8 - before))"
expect "the resume skipped what was done" "$(jget run2.json "d['unchanged']")" "$before"
expect "--json lists every student" "$(jget run2.json "' '.join(s['id'] for s in d['students'])")" "$STUDENTS"
st() { jget run2.json "[s for s in d['students'] if s['id'] == '$1'][0]$2"; }
expect "solution: sums correctly" "$(st alice "['checks'][0]['passed']")" True
expect "folder submission graded" "$(st carol "['checks'][0]['passed']")" True
expect "starter: sums correctly" "$(st bob "['checks'][0]['passed']")" True
expect "starter: no speedup points" "$(st bob "['checks'][1]['passed']")" False
expect_has "crash: signal named" "$(st dave "['checks'][0]['message']")" "SIG"
expect "compile error: not compiled" "$(st erin "['compiled']")" False
expect_has "compile error: diagnostics kept" "$(st erin "['diagnostics']")" "sum.c"
expect "missing submission recorded" "$(st heidi "['status']") $(st heidi "['score']")" "missing 0"
expect "summary: missing counted" "$(jget run2.json "d['summary']['missing']")" 1
expect "summary: compile errors counted" "$(jget run2.json "d['summary']['not_compiled']")" 1
expect "summary: histogram covers everyone" "$(jget run2.json "sum(h['count'] for h in d['summary']['histogram'])")" 8
expect "summary: failures by check" "$(jget run2.json "[f['name'] for f in d['summary']['failures_by_check']]")" \
  "['sums correctly', 'scales with threads']"
expect "summary: five slowest" "$(jget run2.json "len(d['summary']['slowest'])")" 5
expect_has "plain progress lines off a terminal" "$(cat run2.err)" "/$((8 - before))] "
expect "batch records the machine" \
  "$(sql gb.db "SELECT hostname != '' AND cpu_model != '' AND cores > 0 AND kernel != '' FROM batches LIMIT 1")" 1
expect "batch records the parlab version" "$(sql gb.db "SELECT DISTINCT parlab_version FROM batches")" \
  "$("$PARLAB" --version | cut -d' ' -f2)"
expect "the resumed batch is marked finished" \
  "$(sql gb.db "SELECT COUNT(*) FROM batches WHERE finished_at IS NOT NULL")" 1
expect "submission hashes recorded" \
  "$(sql gb.db "SELECT s.sha256 FROM submissions s JOIN students u ON u.id = s.student_id WHERE u.name = 'bob'")" \
  "$(sha256sum subs/bob.c | cut -d' ' -f1)"

# ---- an unchanged rerun grades nothing; the summary still covers all
"$PARLAB" grade "$LAB" subs --db gb.db >run3.out 2>run3.err
expect "unchanged rerun exits 0" "$?" 0
expect "unchanged rerun adds no attempt" "$(sql gb.db "SELECT COUNT(*) FROM attempts")" 8
expect_has "unchanged rerun says so" "$(cat run3.err)" "nothing to grade"
expect_has "summary printed" "$(cat run3.out)" "8 students"
expect_has "summary histogram" "$(cat run3.out)" "/10 #"

# ---- regrade one student; regrade what changed
"$PARLAB" grade "$LAB" subs --db gb.db --student erin >/dev/null 2>&1
expect "--student regrades one" "$(sql gb.db "SELECT student || ':' || COUNT(*) FROM attempts WHERE student IN ('erin', 'dave') GROUP BY student ORDER BY student" | tr '\n' ' ')" "dave:1 erin:2 "
"$PARLAB" grade "$LAB" subs --db gb.db --student nobody >/dev/null 2>&1
expect "--student with an unknown name exits 2" "$?" 2
printf 'double lab_sum(const double *x, long n) { (void)x; (void)n; return 1; }\n' >subs/erin.c
"$PARLAB" grade "$LAB" subs --db gb.db --json >run4.json 2>/dev/null
expect "a changed file is regraded" "$(jget run4.json "[s['id'] for s in d['students'] if s['graded_now']]")" "['erin']"
expect "…and compiles now" "$(jget run4.json "[s['compiled'] for s in d['students'] if s['id'] == 'erin'][0]")" True
expect "both versions of erin are kept" \
  "$(sql gb.db "SELECT COUNT(*) FROM submissions s JOIN students u ON u.id = s.student_id WHERE u.name = 'erin'")" 2
expect "attempts now" "$(sql gb.db "SELECT COUNT(*) FROM attempts")" 10

# ---- a worker that dies costs one student an error attempt, retried next run
mkdir loopdir && cp "$SUBS/loop.c" loopdir/zed.c
"$PARLAB" grade "$TINY" loopdir --db loop.db >loop1.out 2>loop1.err &
pid=$!
killed=0
for _ in $(seq 1 300); do
  w=$(pgrep -P $pid | head -1)
  if [ -n "$w" ]; then kill -9 "$w" && killed=1; break; fi
  sleep 0.05
done
wait $pid
rc=$?
if [ $killed = 1 ]; then
  expect "dead worker: batch exits 1" "$rc" 1
  expect "dead worker: error attempt recorded" "$(sql loop.db "SELECT status FROM attempts")" error
  expect_has "dead worker: reason" "$(sql loop.db "SELECT message FROM check_results LIMIT 1")" "grading process died"
  "$PARLAB" grade "$TINY" loopdir --db loop.db >/dev/null 2>&1
  expect "dead worker: the next run retries it" "$(sql loop.db "SELECT group_concat(status) FROM attempts")" "error,graded"
else
  bad "dead worker: no worker process seen"
fi

# ---- a broken lab (its baseline does not compile) aborts with exit 2
cp -r "$TINY" badlab
printf 'this is not C\n' >badlab/baseline.c
sed -i 's/^  checks = {/  baseline = "baseline.c",\n  checks = {/' badlab/lab.lua
mkdir tinysubs && cp "$TINY/solution.c" tinysubs/a.c && cp "$TINY/solution.c" tinysubs/b.c
"$PARLAB" grade "$work/badlab" tinysubs --db bad.db >/dev/null 2>bad.err
expect "broken lab exits 2" "$?" 2
expect_has "broken lab: reason given" "$(cat bad.err)" "baseline"
expect "broken lab: nothing recorded as graded" "$(sql bad.db "SELECT COUNT(*) FROM attempts")" 0

# ---- usage errors
"$PARLAB" grade "$LAB" "$work/no-such-dir" --db gb.db >/dev/null 2>e.txt
expect "missing folder exits 2" "$?" 2
"$PARLAB" grade "$LAB" subs --jobs zero >/dev/null 2>&1
expect "bad --jobs exits 2" "$?" 2

# ---- two batches on one (new) gradebook at once, and a third process
# holding the write lock for a while: nobody sees "database is locked".
mkdir c1 c2
for i in 1 2 3 4 5 6; do
  cp "$TINY/solution.c" "c1/p$i.c"; cp "$SUBS/cerr.c" "c2/q$i.c"
done
cp "$SUBS/segv.c" c1/p7.c; cp "$TINY/starter.c" c2/q7.c
"$PARLAB" grade "$TINY" c1 --db shared.db --jobs 2 >c1.out 2>c1.err &
p1=$!
"$PARLAB" grade "$TINY" c2 --db shared.db --jobs 2 >c2.out 2>c2.err &
p2=$!
python3 - shared.db <<'EOF' &
import sqlite3, sys, time
# Wait for the gradebook to exist, then hold the write lock for 3 s.
for _ in range(300):
    try:
        c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
        if c.execute("PRAGMA user_version").fetchone()[0] >= 4: break
    except sqlite3.Error: pass
    time.sleep(0.05)
c.execute("BEGIN IMMEDIATE"); time.sleep(3); c.execute("COMMIT")
EOF
p3=$!
wait $p1; r1=$?
wait $p2; r2=$?
wait $p3
expect "concurrent batch 1 exits 0" "$r1" 0
expect "concurrent batch 2 exits 0" "$r2" 0
case "$(cat c1.err c2.err)" in *locked*|*busy*) bad "a batch saw the database locked" ;; *) ok "no 'database is locked'" ;; esac
expect "both batches recorded everyone" "$(sql shared.db "SELECT COUNT(DISTINCT student) FROM attempts")" 14
expect "two batches recorded" "$(sql shared.db "SELECT COUNT(*) FROM batches WHERE finished_at IS NOT NULL")" 2

finish
