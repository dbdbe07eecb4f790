#!/usr/bin/env bash
# The grader end to end through the real binary: compile errors, hangs,
# crashes, exits, sandbox refusals, the starter and the reference of
# amdahl-sum, and the attempt reaching the gradebook.
. "$(dirname "$0")/lib.sh"
TINY=$SRC/tests/grader/labs/tiny
SUBS=$SRC/tests/grader/subs
out=$(mktemp -d)

run_json() { # LAB SUBMISSION OUTFILE -> sets rc
  "$PARLAB" lab run "$1" --submission "$2" --json >"$3" 2>"$3.err"
  rc=$?
}

# A compile error reaches the student verbatim, with file and line.
run_json "$TINY" "$SUBS/cerr.c" "$out/cerr.json"
expect "compile error exits 1" "$rc" 1
expect "compile error: not compiled" "$(jget "$out/cerr.json" "d['compiled']")" False
expect_has "compile error names tiny.c line 3" "$(jget "$out/cerr.json" "'\n'.join(d['diagnostics'])")" "tiny.c:3:"
expect "compile error: score 0" "$(jget "$out/cerr.json" "d['score']")" 0

# An infinite loop fails that check with "time limit", and the run goes on.
start=$(date +%s)
run_json "$TINY" "$SUBS/loop.c" "$out/loop.json"
expect "loop exits 1" "$rc" 1
expect_has "loop: time limit" "$(jget "$out/loop.json" "d['checks'][0]['message']")" "time limit"
expect "loop: next check still passes" "$(jget "$out/loop.json" "d['checks'][1]['passed']")" True
expect "loop: score 3 of 5" "$(jget "$out/loop.json" "d['score']")" 3
[ $(( $(date +%s) - start )) -lt 30 ] && ok "loop: killed within its limit" || bad "loop took too long"

# A segfault is reported with its signal and the last output.
run_json "$TINY" "$SUBS/segv.c" "$out/segv.json"
msg=$(jget "$out/segv.json" "d['checks'][0]['message']")
expect_has "segv: signal named" "$msg" "SIGSEGV"
expect_has "segv: last output shown" "$msg" "before the crash"
expect "segv: fresh jail for the next check" "$(jget "$out/segv.json" "d['checks'][1]['passed']")" True

# An early exit() fails the check with a clear message.
run_json "$TINY" "$SUBS/exit.c" "$out/exit.json"
expect_has "exit: reported" "$(jget "$out/exit.json" "d['checks'][0]['message']")" "exit status 0"

# A missing export is named.
run_json "$TINY" "$SUBS/missing.c" "$out/missing.json"
expect_has "missing export named" "$(jget "$out/missing.json" "d['checks'][1]['message']")" "lab_answer"

# The jail: no network, const inputs are read-only, outputs are written back.
run_json "$TINY" "$SUBS/hostile.c" "$out/hostile.json"
expect_has "const input is read-only" "$(jget "$out/hostile.json" "d['checks'][0]['message']")" "SIGSEGV"
expect "no network socket" "$(jget "$out/hostile.json" "d['checks'][1]['passed']")" False
expect "writable output comes back" "$(jget "$out/hostile.json" "d['checks'][2]['passed']")" True

# A sandbox layer the kernel refuses: grading refuses (exit 3) and names
# the layer, unless the instructor accepts a weaker jail, which is recorded.
PARLAB_TEST_DENY_LAYER="pid namespace" "$PARLAB" lab run "$TINY" --submission "$TINY/solution.c" >/dev/null 2>"$out/deny.txt"
expect "refused layer: exit 3" "$?" 3
expect_has "refused layer named" "$(cat "$out/deny.txt")" "pid namespace"
PARLAB_TEST_DENY_LAYER="pid namespace" "$PARLAB" lab run "$TINY" --submission "$TINY/solution.c" --weak-jail --json >"$out/weak.json" 2>/dev/null
expect "weak jail accepted: graded" "$?" 0
expect "weak jail recorded in the result" "$(jget "$out/weak.json" "d['weak_jail']")" True

# Hidden checks show their verdict, not their inputs.
run_json "$TINY" "$TINY/starter.c" "$out/hidden.json"
expect "hidden: failed" "$(jget "$out/hidden.json" "d['checks'][4]['passed']")" False
expect "hidden: message withheld" "$(jget "$out/hidden.json" "d['checks'][4]['message']")" ""
human=$("$PARLAB" lab run "$TINY" --submission "$TINY/starter.c" 2>&1)
case "$human" in *12345*) bad "hidden input leaked to the student" ;; *) ok "hidden input not shown" ;; esac

# The tiny reference gets full marks: exit 0.
run_json "$TINY" "$TINY/solution.c" "$out/tiny.json"
expect "tiny reference exits 0" "$rc" 0

# amdahl-sum: the serial starter gets the correctness points only.
run_json amdahl-sum "$SRC/labs/amdahl-sum/starter.c" "$out/starter.json"
expect "starter exits 1" "$rc" 1
expect "starter: sums correctly" "$(jget "$out/starter.json" "d['checks'][0]['passed']")" True
expect "starter: fails the scaling check" "$(jget "$out/starter.json" "d['checks'][1]['passed']")" False
expect "starter: 4 of 10" "$(jget "$out/starter.json" "d['score']")" 4
echo "      starter figures: $(jget "$out/starter.json" "d['checks'][1]['message']" | tr '\n' ' ')"

# The reference solution gets full marks (timed check re-measured if the
# machine is loaded, as DESIGN.md §5 says).
run_json amdahl-sum "$SRC/labs/amdahl-sum/solution.c" "$out/ref.json"
if [ "$rc" -ne 0 ]; then run_json amdahl-sum "$SRC/labs/amdahl-sum/solution.c" "$out/ref.json"; fi
expect "reference exits 0" "$rc" 0
expect "reference: full marks" "$(jget "$out/ref.json" "d['score'] == d['max_score'] == 10")" True
echo "      reference figures: $(jget "$out/ref.json" "d['checks'][1]['message']" | tr '\n' ' ')"

# The attempts are in the gradebook and in `parlab progress`.
"$PARLAB" progress >"$out/progress.txt" 2>&1
expect_has "progress shows the best score" "$(cat "$out/progress.txt")" "best 10/10"
"$PARLAB" list --json >"$out/list.json"
expect "list --json: both attempts counted" "$(jget "$out/list.json" "[i for m in d['modules'] for i in m['items'] if i['id']=='amdahl-sum'][0]['attempts'] >= 2")" True

# Usage and input errors exit 2 with a message naming the problem.
"$PARLAB" lab run no-such-lab --submission x.c >/dev/null 2>"$out/e.txt"
expect "unknown lab exits 2" "$?" 2
expect_has "unknown lab named" "$(cat "$out/e.txt")" "no-such-lab"
"$PARLAB" lab run amdahl-sum --submission /nonexistent.c >/dev/null 2>"$out/e.txt"
expect "missing submission exits 2" "$?" 2

rm -rf "$out"
finish
