#!/usr/bin/env bash
# The lab screen on tests/tui/course's quick-sum lab (graded in about a
# second): hints revealed one at a time and recorded; the solution locked
# until full marks; watch mode re-running the checks when the file is
# saved from outside (written in place, and replaced by a rename as editors
# do) and from $EDITOR; live results per check; the speedup chart with the
# Amdahl fit and serial fraction; R resetting the file after asking.
. "$(dirname "$0")/lib.sh"

home="$tmp/home"
db="$home/parlab.db"
LAB="$COURSE/labs/quick-sum"
ws="$home/work/quick-sum/sum.c"

# An editor that needs no terminal: it writes the reference solution.
cat >"$tmp/editor.sh" <<EOF
#!/bin/sh
cp '$LAB/solution.c' "\$1"
EOF
chmod +x "$tmp/editor.sh"

start "EDITOR='$tmp/editor.sh' $PARLAB --home '$home' --course '$COURSE'"
expect "Quick sum"
keys j Enter
expect "Your file:"
expect "(e creates it from the starter)"
expect "w watch"

# ---- hints, recorded ----
keys s
expect "The reference solution unlocks after full marks"
keys h
expect "Hint 1 of 2 is shown under the brief"
expect "First hint: split the loop among threads."
check "hint 1 recorded" [ "$(sql "$db" "SELECT COUNT(*) FROM hints_used WHERE lab = 'quick-sum'")" = 1 ]
keys q
expect "Course map"
keys Enter
expect "Hint 1 of 2. First hint" # still revealed when the lab is opened again
keys h
expect "Second hint: use reduction(+:s)."
keys h
expect "No more hints: all 2 are shown under the brief"
check "2 hints recorded" [ "$(sql "$db" "SELECT COUNT(*) FROM hints_used WHERE lab = 'quick-sum'")" = 2 ]

# ---- watch mode: the file saved from outside ----
keys w
expect "Watching sum.c: every save runs the checks (w stops)"
expect "[watching]"
check "w created the workspace file from the starter" cmp -s "$ws" "$LAB/starter.c"
# an editor's save: a new file renamed over the old one
cp "$LAB/solution.c" "$ws.tmp~" && mv "$ws.tmp~" "$ws"
expect "Checks: running" 10
wait_for "Results: 6/6" 60 || fail "the checks did not reach 6/6 after the save"
ok "'Results: 6/6' after a rename onto the file"
expect "Full marks! The reference solution is unlocked: press s."
keys G # the results pane has the focus after a run
expect "Speedup: scales with threads"
expect "measured"
expect "ideal (speedup = threads)"
expect "Amdahl fit, s ="
expect "Serial fraction (Amdahl fit): s ="
expect "threads"
check "the chart is braille" has_braille

# the solution, now unlocked
keys s
expect "reference solution"
expect "#pragma omp parallel for reduction(+:s)"
keys q
expect "Lab: 6/6"

# the starter written in place (IN_CLOSE_WRITE): fails again
cat "$LAB/starter.c" >"$ws"
wait_for "Results: 2/6" 60 || fail "the checks did not run again after writing the file"
ok "'Results: 2/6' after writing the file in place"
expect "n = 1: expected"

# $EDITOR saves: watch mode runs the checks when the editor is done
keys e
wait_for "Results: 6/6" 60 || fail "no run after saving from \$EDITOR"
ok "'Results: 6/6' after \$EDITOR saved"

keys w
expect "Watch mode off: r runs the checks"
expect_gone "[watching"

# ---- R resets the workspace, after asking ----
keys R
expect "Reset sum.c to the starter? Your changes will be lost. (y/n)"
keys n
expect "Your file was left as it is"
check "n kept the file" cmp -s "$ws" "$LAB/solution.c"
keys R
expect "(y/n)"
keys y
expect "sum.c is the starter again"
check "y restored the starter" cmp -s "$ws" "$LAB/starter.c"

# manual run (the fallback to watch mode)
keys r
wait_for "Results: 2/6" 60 || fail "r did not run the checks"
ok "'Results: 2/6' from r"

keys q
expect "Course map"
expect_line "Quick sum" "6/6"
check "attempts recorded" [ "$(sql "$db" "SELECT COUNT(*) FROM attempts WHERE lab = 'quick-sum'")" -ge 4 ]
check "time spent on the lab recorded" python3 -c "import sys; sys.exit(0 if float('$(sql "$db" "SELECT seconds FROM time_spent WHERE item = 'quick-sum'")' or 0) > 0 else 1)"

# ---- the dashboard sums it up ----
keys p
expect "Your progress"
expect_line "Quick sum" "2 hints"
expect_line "Quick sum" "6/6, 4 tries"
keys q
keys q
expect_exit

finish
