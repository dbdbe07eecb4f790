#!/usr/bin/env bash
# Distributed batch grading: `mpirun -np N parlab grade LAB DIR --mpi`
# with 2 and 4 local ranks records the same grades as a single-machine run
# of the same submissions (scores, checks, messages, compiler output,
# hashes, the summary, the CSV export); MPI labs graded from inside MPI
# ranks; a rerun with nothing to do; a rank whose sandbox cannot be set up
# stops the batch (exit 3, naming the rank) and a rerun finishes it; grade
# under mpirun without --mpi, a missing MPI module, and --mpi without
# mpirun. Skips, and passes, without Open MPI or the cluster backend.
. "$(dirname "$0")/lib.sh"
TINY=$SRC/tests/grader/labs/tiny
SMOKE=$SRC/tests/grader/labs/mpismoke
if ! command -v mpirun >/dev/null; then
  echo "skip  mpirun not found (Open MPI is not installed)"
  finish
  exit $?
fi
if [ ! -e "$(dirname "$PARLAB")/libparlab-mpi.so" ]; then
  echo "skip  this build has no cluster backend (CMake did not find MPI)"
  finish
  exit $?
fi
ROOT=()
[ "$(id -u)" = 0 ] && ROOT=(--allow-run-as-root)
mpi() { timeout 300 mpirun "${ROOT[@]}" --oversubscribe --bind-to none "$@" </dev/null; }
work=$(mktemp -d /tmp/parlab-test-mpigrade.XXXXXX)
trap 'rm -rf "$PARLAB_HOME" "$work"' EXIT
cd "$work" || exit 1

# ---- nine students: right, partly right, not compiling, missing ----
mkdir subs
cp "$TINY/solution.c" subs/alice.c
cp "$TINY/starter.c" subs/bob.c
mkdir subs/carol && cp "$TINY/solution.c" subs/carol/tiny.c
sed 's/return 42/return 41/' "$TINY/solution.c" >subs/dave.c
echo 'int lab_answer(void) { return }' >subs/erin.c
{ echo '/* frank */'; cat "$TINY/solution.c"; } >subs/frank.c
sed 's/\*= a/+= a/; s/\* a;/+ a;/' "$TINY/solution.c" >subs/grace.c
mkdir subs/heidi                             # no tiny.c: missing
{ echo '/* ivan */'; cat "$TINY/starter.c"; } >subs/ivan.c

# The comparable part of `grade --json`: everything but times and "graded now".
grades() { python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
for s in d['students']:
    print(s['id'], s['status'], s['score'], s['max_score'], s['compiled'], s['sha256'], s['submission'])
    for c in s['checks']: print('  ', c['name'], c['passed'], c['score'], c['hidden'], repr(c['message']))
    for x in s['diagnostics']: print('   diag', repr(x))
sm = d['summary']
print(sm['histogram'], sm['failures_by_check'], sm['not_compiled'], sm['missing'], sm['errors'])" "$1"; }
csv() { python3 -c "
import csv, sys
for row in csv.reader(open(sys.argv[1])): print(row[0], row[1], row[2], row[3], row[5])" "$1"; }

"$PARLAB" grade "$TINY" subs --db one.db --json >one.json 2>one.err
expect "single-machine batch exits 0" "$?" 0
grades one.json >one.txt
"$PARLAB" gradebook export --db one.db --format csv --out one.csv
csv one.csv >one.csv.txt
expect "single machine: 9 students graded" "$(jget one.json "len(d['students'])")" 9

for n in 2 4; do
  mpi -np $n "$PARLAB" grade "$TINY" subs --db mpi$n.db --json --mpi >mpi$n.json 2>mpi$n.err
  expect "--mpi on $n ranks exits 0" "$?" 0
  expect_has "--mpi on $n ranks: shared among $n ranks" "$(cat mpi$n.err)" "mpi: $n ranks"
  grades mpi$n.json >mpi$n.txt
  if cmp -s one.txt mpi$n.txt; then ok "--mpi on $n ranks: the same grades as one machine"
  else bad "--mpi on $n ranks: grades differ: $(diff one.txt mpi$n.txt | head -20)"; fi
  "$PARLAB" gradebook export --db mpi$n.db --format csv --out mpi$n.csv
  csv mpi$n.csv >mpi$n.csv.txt
  if cmp -s one.csv.txt mpi$n.csv.txt; then ok "--mpi on $n ranks: the same CSV export"
  else bad "--mpi on $n ranks: CSV differs: $(diff one.csv.txt mpi$n.csv.txt | head)"; fi
  # One gradebook, written by rank 0 only: one batch, one attempt each.
  expect "--mpi on $n ranks: one attempt per student" \
    "$(python3 -c "import sqlite3; print(sqlite3.connect('mpi$n.db').execute('SELECT COUNT(*) FROM attempts').fetchone()[0])")" 9
done
grep -c . one.txt >/dev/null

# ---- unchanged rerun: nothing to grade, every rank leaves cleanly ----
mpi -np 2 "$PARLAB" grade "$TINY" subs --db mpi2.db --mpi >rerun.out 2>rerun.err
expect "rerun with nothing to grade exits 0" "$?" 0
expect_has "rerun says nothing to grade" "$(cat rerun.err)" "nothing to grade"

# ---- MPI labs graded from MPI ranks: mpirun inside the sandbox of a rank ----
mkdir msubs
cp "$SMOKE/solution.c" msubs/ann.c
cp "$SMOKE/starter.c" msubs/ben.c
{ echo '/* cid */'; cat "$SMOKE/solution.c"; } >msubs/cid.c
mpi -np 2 "$PARLAB" grade "$SMOKE" msubs --db smoke.db --json --mpi >smoke.json 2>smoke.err
expect "--mpi grading of an MPI lab exits 0" "$?" 0
expect "MPI lab: scores ann ben cid" "$(jget smoke.json "' '.join(str(s['score']) for s in d['students'])")" "1 0 1"

# ---- a rank whose sandbox cannot be set up stops the batch ----
mpi -np 2 "$PARLAB" grade "$TINY" subs --db deny.db --mpi : \
  -np 1 env PARLAB_TEST_DENY_LAYER="pid namespace" "$PARLAB" grade "$TINY" subs --db deny.db --mpi \
  >deny.out 2>deny.err
expect "a rank without a sandbox: exit 3" "$?" 3
expect_has "the rank and the layer are named" "$(cat deny.err)" "rank 2 on"
expect_has "the refused layer is named" "$(cat deny.err)" "pid namespace"
part=$(python3 -c "import sqlite3; print(sqlite3.connect('deny.db').execute(\"SELECT COUNT(*) FROM attempts WHERE status = 'graded'\").fetchone()[0])")
[ "$part" -lt 8 ] && ok "stopped before grading everyone ($part graded)" || bad "the batch was not stopped ($part graded)"
mpi -np 2 "$PARLAB" grade "$TINY" subs --db deny.db --json --mpi >resume.json 2>resume.err
expect "rerun after the failure exits 0" "$?" 0
grades resume.json >resume.txt
if cmp -s one.txt resume.txt; then ok "the resumed gradebook equals the single-machine one"
else bad "resumed grades differ: $(diff one.txt resume.txt | head)"; fi

# ---- misuse and missing pieces ----
mpi -np 2 "$PARLAB" grade "$TINY" subs --db nompi.db >nompi.out 2>nompi.err
expect "grade under mpirun without --mpi: exit 2" "$?" 2
expect_has "and says to add --mpi" "$(cat nompi.err)" "add --mpi"
PARLAB_MPI_MODULE=/nonexistent/libparlab-mpi.so "$PARLAB" grade "$TINY" subs --db nomod.db --mpi \
  >nomod.out 2>nomod.err
expect "no MPI module: exit 3" "$?" 3
expect_has "and says what is missing" "$(cat nomod.err)" "/nonexistent/libparlab-mpi.so"
"$PARLAB" grade "$TINY" subs --db single.db --json --mpi >single.json 2>single.err
expect "--mpi without mpirun (one rank) exits 0" "$?" 0
grades single.json >single.txt
if cmp -s one.txt single.txt; then ok "--mpi on one rank: the same grades"
else bad "--mpi on one rank: grades differ"; fi
finish
