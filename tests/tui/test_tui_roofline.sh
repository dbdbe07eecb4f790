#!/usr/bin/env bash
# The roofline figure in the lab screen's results: the roofline lab (a
# one-lab course made from labs/roofline) graded on its reference at
# 80x24, the figure reached by scrolling the results pane (its heading,
# braille plot, axis labels, key and table rows, none wider than the
# screen); the starter's wrong predictions in the same figure; then an
# ASCII terminal (LANG=C) at 100x30. PARLAB_PROBE_QUICK keeps the machine
# probe short: the figures' values do not matter here.
. "$(dirname "$0")/lib.sh"

course="$tmp/course"
home="$tmp/home"
mkdir -p "$course/content" "$course/labs"
cp -r "$SRC/labs/roofline" "$course/labs/roofline"
cat >"$course/content/course.lua" <<'EOF'
return course {
  title = "Roofline test course",
  module { id = "m1", title = "Limits", lab "roofline" },
}
EOF
ws=$(PARLAB_PROBE_QUICK=1 "$PARLAB" --home "$home" --course "$course" lab start roofline) ||
  fail "lab start failed"
cp "$SRC/labs/roofline/solution.lua" "$ws"

# scroll_to TEXT: j (one line down in the focused results pane) until TEXT shows.
scroll_to() {
  local i
  for ((i = 0; i < 80; i++)); do
    screen_has "$1" && { ok "scrolled to '$1'"; return 0; }
    keys j
    sleep 0.05
  done
  fail "scrolling never showed '$1'"
}
no_braille() { ! has_braille; }
# fits W: no screen line is wider than W columns.
fits() {
  pane | python3 -c 'import sys; w = int(sys.argv[1]); sys.exit(0 if all(len(l.rstrip("\n")) <= w for l in sys.stdin) else 1)' "$1"
}

start -x 80 -y 24 "PARLAB_PROBE_QUICK=1 $PARLAB --home '$home' --course '$course'"
expect "Predicting performance with the roofline"
keys Enter
expect "Your file:"
keys r
wait_for "Results: 10/10" 120 || fail "the reference did not reach 10/10"
ok "'Results: 10/10'"
keys g
scroll_to "Roofline: this machine"
scroll_to "Your predictions (small letters) and the rates measured here (capitals)"
scroll_to "Roofline: peak"
scroll_to "arithmetic intensity (FLOP/byte)"
check "the plot above the axis is braille" has_braille
scroll_to "roof: min(peak, intensity × bandwidth)"
scroll_to "A measured here   a predicted"
scroll_to "gemm-1000"
expect_line "triad" "memory"
expect_line "poly-256" "compute"
check "every line fits 80 columns" fits 80

# The starter predicts the peak for every kernel: small letters on the
# peak's line, and the check fails with the figure still shown.
cp "$SRC/labs/roofline/starter.lua" "$ws"
keys r
wait_for "Results: 0/10" 120 || fail "the starter did not score 0/10"
ok "'Results: 0/10'"
keys g
scroll_to "Roofline: this machine"
scroll_to "gemm-1000"
keys q

# An ASCII terminal: the same figure without braille.
cp "$SRC/labs/roofline/solution.lua" "$ws"
start -x 100 -y 30 "LANG=C LC_ALL=C PARLAB_PROBE_QUICK=1 $PARLAB --home '$home' --course '$course'"
expect "Predicting performance with the roofline"
keys Enter
expect "Your file:"
keys r
wait_for "Results: 10/10" 120 || fail "the reference did not reach 10/10 (ASCII)"
ok "'Results: 10/10' (ASCII)"
keys g
scroll_to "Roofline: peak"
scroll_to "+---"
check "no braille in ASCII" no_braille
scroll_to "roof: min(peak, intensity x bandwidth)"
scroll_to "gemm-1000"
check "every line fits 100 columns" fits 100
keys q
keys q
expect_exit
finish
