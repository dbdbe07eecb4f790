#!/usr/bin/env bash
# test_roofline_figure.sh — a check's roofline figure (t:roofline in
# lib/lab.lua) travels in the result as data and is drawn by `lab run`:
# the roofline lab's reference and starter runs carry the machine's roofs
# (the cached probe's peak and STREAM triad), every kernel's intensity,
# the rates measured here and the predictions in --json; the text output
# draws the chart (braille, or ASCII with --ascii or without a UTF-8
# locale); a lab that misuses t:roofline gets an error naming the field.
# PARLAB_PROBE_QUICK keeps the probe short: the figures' values do not matter.
. "$(dirname "$0")/lib.sh"
export PARLAB_PROBE_QUICK=1
T=$(mktemp -d /tmp/parlab-roof-test.XXXXXX)
trap 'rm -rf "$PARLAB_HOME" "$T"' EXIT
LAB=$SRC/labs/roofline

"$PARLAB" info --json >"$T/info.json" 2>/dev/null
"$PARLAB" lab run roofline --submission "$LAB/solution.lua" --json >"$T/ref.json" 2>"$T/ref.err"
expect "reference: exit 0" "$?" 0
fig() { jget "$1" "[c for c in d['checks'] if c['name'] == 'this machine'][0]['roofline']$2"; }
expect "reference: the check carries a roofline figure" "$(fig "$T/ref.json" " is not None" 2>&1)" True
peak=$(jget "$T/info.json" 'd["peak"]["all"]')
triad=$(jget "$T/info.json" 'd["stream"]["triad"]')
expect "figure: peak is the probe's, all cores" "$(fig "$T/ref.json" "['peak_gflops'] == $peak")" True
expect "figure: bandwidth is the probe's STREAM triad" "$(fig "$T/ref.json" "['bw_gbs'] == $triad")" True
expect "figure: ridge = peak / bandwidth" "$(fig "$T/ref.json" "['ridge'] - $peak / $triad < 1e-9 * $peak / $triad")" True
expect "figure: the nine kernels of the check, in order" \
  "$(fig "$T/ref.json" "['kernels']" | python3 -c 'import ast,sys; print(" ".join(k["name"] for k in ast.literal_eval(sys.stdin.read())))')" \
  "triad dot sum axpy stencil3 poly-4 poly-256 gemm-32 gemm-1000"
expect "figure: intensities from the grader's counts" \
  "$(fig "$T/ref.json" "['kernels']" | python3 -c 'import ast,sys; k={x["name"]: x["ai"] for x in ast.literal_eval(sys.stdin.read())}; print(k["triad"] == 2/24, k["dot"] == 0.125, k["poly-256"] == 32, abs(k["gemm-1000"] - 1000/12) < 1e-9)')" \
  "True True True True"
expect "figure: the reference's predictions are the roofs" \
  "$(fig "$T/ref.json" "['kernels']" | python3 -c 'import ast,sys; print(all(abs(k["predicted"] - k["attainable"]) <= 1e-9 * k["attainable"] for k in ast.literal_eval(sys.stdin.read())))')" True
expect "figure: measured where the engine runs the kernel, absent elsewhere" \
  "$(fig "$T/ref.json" "['kernels']" | python3 -c 'import ast,sys; print(sorted(k["name"] for k in ast.literal_eval(sys.stdin.read()) if "measured" in k))')" \
  "['axpy', 'dot', 'gemm-1000', 'sum', 'triad']"
expect "figure: measured rates are positive" \
  "$(fig "$T/ref.json" "['kernels']" | python3 -c 'import ast,sys; print(all(k["measured"] > 0 for k in ast.literal_eval(sys.stdin.read()) if "measured" in k))')" True
expect "figure: triad measured is the probe's triad" \
  "$(fig "$T/ref.json" "['kernels'][0]['measured'] - $triad * 2 / 24 < 1e-9")" True
expect "figure: bounds from the roofline" \
  "$(fig "$T/ref.json" "['kernels']" | python3 -c 'import ast,sys; print(" ".join(k["bound"] for k in ast.literal_eval(sys.stdin.read())))' | tr ' ' '\n' | sort -u | tr '\n' ' ')" "compute memory "
expect "only the check that attached one has a figure" \
  "$(jget "$T/ref.json" "'roofline' in [c for c in d['checks'] if c['name'] == 'other machines'][0]")" False

# The starter predicts the peak everywhere: the figure shows it, and fails.
"$PARLAB" lab run roofline --submission "$LAB/starter.lua" --json >"$T/st.json" 2>/dev/null
expect "starter: exit 1" "$?" 1
expect "starter: the failing check still carries its figure" \
  "$(fig "$T/st.json" "['kernels']" | python3 -c "import ast,sys; print(all(k['predicted'] == $peak for k in ast.literal_eval(sys.stdin.read())))")" True

# Text output: the chart under the check, braille in UTF-8.
out=$(LANG=C.UTF-8 LC_ALL= "$PARLAB" lab run roofline --submission "$LAB/solution.lua" 2>&1)
expect_has "text: the chart's title" "$out" "Roofline: peak"
expect_has "text: the x axis label" "$out" "arithmetic intensity (FLOP/byte)"
expect_has "text: the y axis label" "$out" "GFLOP/s"
expect_has "text: the letters' key" "$out" "A measured here   a predicted"
expect_has "text: a table row" "$out" "gemm-1000"
expect "text: braille cells" "$(printf '%s' "$out" | python3 -c 'import sys; print(any(0x2801 <= ord(c) <= 0x28ff for c in sys.stdin.read()))')" True
chart() { sed -n '/Roofline: peak/,/gemm-1000/p'; }
expect "text: the figure fits 80 columns (no terminal)" \
  "$(printf '%s\n' "$out" | chart | python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in sys.stdin))' | awk '{ print ($1 <= 80) }')" 1
out=$(LANG=C.UTF-8 "$PARLAB" lab run roofline --submission "$LAB/solution.lua" --ascii 2>&1 | chart)
expect_has "--ascii: the roof in ASCII" "$out" "*** roof: min(peak, intensity x bandwidth)"
expect "--ascii: the chart is ASCII only" "$(printf '%s' "$out" | LC_ALL=C grep -c '[^ -~]')" 0
out=$(LANG=C LC_ALL=C "$PARLAB" lab run roofline --submission "$LAB/solution.lua" 2>&1 | chart)
expect "a C locale draws ASCII by itself" "$(printf '%s' "$out" | LC_ALL=C grep -c '[^ -~]')" 0
expect_has "a C locale still draws the chart" "$out" "+---"
out=$("$PARLAB" lab run roofline --submission "$LAB/solution.lua" --json 2>/dev/null)
expect "--json: nothing but the document on stdout" "$(printf '%s' "$out" | python3 -c 'import json,sys; json.load(sys.stdin); print("ok")')" ok

# A lab that misuses the API: the error names what is wrong.
mkdir -p "$T/badlab"
cat >"$T/badlab/lab.lua" <<'EOF'
return lab {
  id = "roof-api", title = "t:roofline misuse",
  submission = { file = "p.lua", lang = "lua" },
  exports = { f = "lua" },
  checks = {
    check "no intensity" { points = 1, function(t)
      t:roofline { peak = 10, bw = 2, kernels = { { name = "k" } } }
    end },
    check "a good figure" { points = 1, function(t)
      t:roofline { title = "T", peak = 10, bw = 2,
        kernels = { { name = "k", ai = 1, measured = 0 / 0, predicted = 2 } } }
    end },
  },
}
EOF
echo 'return { f = function() return 1 end }' >"$T/p.lua"
cp "$T/p.lua" "$T/badlab/starter.lua"
cp "$T/p.lua" "$T/badlab/solution.lua"
printf '# t:roofline misuse\n\nA lab for the test.\n' >"$T/badlab/brief.md"
"$PARLAB" lab run "$T/badlab" --submission "$T/p.lua" --json >"$T/bad.json" 2>/dev/null
expect_has "misuse: the check errs, naming the field" \
  "$(jget "$T/bad.json" "d['checks'][0]['message']")" "roofline: kernels[1] needs a name and an intensity ai > 0"
expect "a NaN measurement is left out, the prediction kept" \
  "$(jget "$T/bad.json" "[d['checks'][1]['roofline']['kernels'][0].get(k) for k in ('measured', 'predicted')]")" "[None, 2]"
expect "the figure's title travels" "$(jget "$T/bad.json" "d['checks'][1]['roofline']['title']")" T
finish
