#!/usr/bin/env bash
# Gradebook exports (CSV, JSON, Gradescope results.json) and
# `parlab grade --gradescope`, validated with Python's csv and json.
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/parlab-test-exports.XXXXXX)
trap 'rm -rf "$PARLAB_HOME" "$work"' EXIT
cd "$work" || exit 1

# A lab of our own, so the figures below do not move with the grader's
# other test labs: 1 + 1 points visible, 2 points hidden.
EXLAB=$work/exlab
mkdir "$EXLAB"
cat >"$EXLAB/lab.lua" <<'EOF'
return lab {
  id = "exlab",
  title = "Export test lab",
  submission = { file = "ex.c", lang = "c", cflags = { "-O1" } },
  exports = { lab_answer = "int(void)", lab_twice = "double(double)" },
  hints = { "Return 42.", "Multiply by two." },
  checks = {
    check "answers" { points = 1, timeout = 5, function(t)
      t:eq(t.sub.lab_answer(), 42, "lab_answer()")
    end },
    check "doubles" { points = 1, timeout = 5, function(t)
      t:eq(t.sub.lab_twice(1.5), 3.0, "lab_twice(1.5)")
    end },
    check "secret" { points = 2, hidden = true, timeout = 5, function(t)
      t:eq(t.sub.lab_twice(12345), 24690, "the hidden input 12345")
    end },
  },
}
EOF
echo "# Export test lab" >"$EXLAB/brief.md"
printf 'int lab_answer(void) { return 0; }\ndouble lab_twice(double x) { return x; }\n' >"$EXLAB/starter.c"
printf 'int lab_answer(void) { return 42; }\ndouble lab_twice(double x) { return 2 * x; }\n' >"$EXLAB/solution.c"
printf 'int lab_answer(void) { return 42; }\ndouble lab_twice(double x) { return x; }\n' >half.c
printf 'int lab_answer(void) {\n  return 42\n}\n' >cerr.c

# A strict check of Gradescope's documented results.json schema
# (gradescope-autograders.readthedocs.io, "Autograder Specifications"):
# only documented keys, the right types, valid statuses and visibilities.
cat >validate.py <<'EOF'
import json, sys
VIS = {"hidden", "after_due_date", "after_published", "visible"}
TOP = {"score", "execution_time", "output", "output_format", "test_output_format",
       "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
        "output_format", "tags", "visibility", "extra_data"}
def num(x): return isinstance(x, (int, float)) and not isinstance(x, bool)
def check(d):
    assert isinstance(d, dict), "not an object"
    assert set(d) <= TOP, "unknown keys %s" % (set(d) - TOP)
    for k in ("score", "execution_time", "output", "visibility", "tests", "leaderboard"):
        assert k in d, "missing " + k
    assert num(d["score"]) and num(d["execution_time"]) and isinstance(d["output"], str)
    assert d["visibility"] in VIS and d.get("stdout_visibility", "hidden") in VIS
    assert isinstance(d["tests"], list) and isinstance(d["leaderboard"], list)
    for t in d["tests"]:
        assert set(t) <= TEST, "unknown test keys %s" % (set(t) - TEST)
        for k in ("name", "score", "max_score", "status", "output", "visibility"):
            assert k in t, "test misses " + k
        assert isinstance(t["name"], str) and num(t["score"]) and num(t["max_score"])
        assert t["status"] in ("passed", "failed") and t["visibility"] in VIS
        assert isinstance(t["output"], str)
    for e in d["leaderboard"]:
        assert isinstance(e["name"], str) and "value" in e
        assert e.get("order", "desc") in ("asc", "desc")
    assert abs(sum(t["score"] for t in d["tests"]) - d["score"]) < 1e-9, "score != sum of tests"
for path in sys.argv[1:]:
    check(json.load(open(path)))
print("ok")
EOF

# ---- a gradebook: awkward names, full marks, a failing hidden check,
# a compile error and a missing submission.
mkdir subs
cp "$EXLAB/solution.c" "subs/smith, john.c"
cp half.c 'subs/o"brien.c'
cp cerr.c subs/carl.c
mkdir subs/dora
"$PARLAB" grade "$EXLAB" subs --db gb.db --jobs 2 >/dev/null 2>grade.err
expect "grading the class exits 0" "$?" 0

# ---- CSV
"$PARLAB" gradebook export --format csv --db gb.db --out grades.csv
expect "csv export exits 0" "$?" 0
csv() { python3 -c "import csv,sys; rows=list(csv.reader(open('grades.csv', newline=''))); print($1)"; }
expect "csv header" "$(csv "','.join(rows[0])")" "id,lab,score,max_score,timestamp,sha256"
expect "csv: one row per student" "$(csv "len(rows) - 1")" 4
expect "csv: a name with a comma survives" "$(csv "[r for r in rows if r[0] == 'smith, john'][0][2]")" 4
expect "csv: a name with a quote survives" "$(csv "[r for r in rows if r[0] == 'o\"brien'][0][2]")" 1
expect "csv: max score" "$(csv "sorted(set(r[3] for r in rows[1:]))")" "['4']"
expect "csv: hash of the file" "$(csv "[r for r in rows if r[0] == 'smith, john'][0][5]")" \
  "$(sha256sum "subs/smith, john.c" | cut -d' ' -f1)"
expect "csv: ISO 8601 UTC time" \
  "$(csv "all(__import__('re').fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', r[4]) for r in rows[1:])")" True
expect "csv: missing submission, score 0" "$(csv "[r for r in rows if r[0] == 'dora'][0][2]")" 0
expect_has "csv: quoting as RFC 4180" "$(cat grades.csv)" '"smith, john"'
expect_has "csv: doubled quote" "$(cat grades.csv)" '"o""brien"'
"$PARLAB" gradebook export --format csv --db gb.db --lab no-such-lab >empty.csv
expect "csv: another lab has no rows" "$(wc -l <empty.csv)" 1

# ---- JSON
"$PARLAB" gradebook export --format json --db gb.db >grades.json
expect "json export exits 0" "$?" 0
expect "json: grades" "$(jget grades.json "sorted(g['id'] for g in d['grades'])")" \
  "['carl', 'dora', 'o\"brien', 'smith, john']"
expect "json: machine recorded" "$(jget grades.json "d['batches'][0]['machine']['hostname']")" "$(uname -n)"
expect "json: parlab version" "$(jget grades.json "d['batches'][0]['parlab_version']")" \
  "$("$PARLAB" --version | cut -d' ' -f2)"
expect "json: check rows" "$(jget grades.json "[len(g['checks']) for g in d['grades']]")" "[3, 3, 3, 3]"
expect "json: status" "$(jget grades.json "[g['status'] for g in d['grades'] if g['id'] == 'dora'][0]")" missing
expect_has "json: compiler output kept" "$(jget grades.json "[g['diagnostics'] for g in d['grades'] if g['id'] == 'carl'][0]")" "ex.c:2"

# ---- Gradescope results.json from the gradebook
"$PARLAB" gradebook export --format gradescope --db gb.db --student 'o"brien' >gs1.json
expect "gradescope export of one student exits 0" "$?" 0
expect "gradescope: schema" "$(python3 validate.py gs1.json 2>&1)" ok
expect "gradescope: score" "$(jget gs1.json "d['score']")" 1
expect "gradescope: hidden check after_published" \
  "$(jget gs1.json "[t['visibility'] for t in d['tests'] if t['name'] == 'secret'][0]")" after_published
expect "gradescope: visible checks visible" "$(jget gs1.json "sorted(set(t['visibility'] for t in d['tests'] if t['name'] != 'secret'))")" "['visible']"
expect "gradescope: statuses" "$(jget gs1.json "[t['status'] for t in d['tests']]")" \
  "['passed', 'failed', 'failed']"
case "$(cat gs1.json)" in *12345*) bad "gradescope: hidden input leaked" ;; *) ok "gradescope: hidden input withheld" ;; esac
"$PARLAB" gradebook export --format gradescope --db gb.db >/dev/null 2>e.txt
expect "gradescope export of many needs --out DIR" "$?" 2
"$PARLAB" gradebook export --format gradescope --db gb.db --out gsdir 2>/dev/null
expect "gradescope export to a folder exits 0" "$?" 0
expect "gradescope: one results.json per student" "$(find gsdir -name results.json | wc -l)" 4
expect "gradescope: all valid" "$(python3 validate.py gsdir/exlab/*/results.json 2>&1)" ok
expect_has "gradescope: compile error explained" "$(jget gsdir/exlab/carl/results.json "d['output']")" "ex.c:2"

# ---- errors
"$PARLAB" gradebook export --format xml --db gb.db >/dev/null 2>&1
expect "unknown format exits 2" "$?" 2
"$PARLAB" gradebook export --format csv --db nothing-here.db >/dev/null 2>&1
expect "missing gradebook exits 2" "$?" 2
[ -e nothing-here.db ] && bad "export created an empty gradebook" || ok "export does not create a gradebook"

# ---- `parlab grade --gradescope`: the autograder entry point
mkdir -p ag/submission/nested ag/results ag/source
cp "$EXLAB/solution.c" ag/submission/nested/ex.c
"$PARLAB" grade --gradescope --lab "$EXLAB" --submission-dir ag/submission \
  --results ag/results/results.json >ag.out 2>ag.err
expect "autograder exits 0" "$?" 0
expect "autograder: schema" "$(python3 validate.py ag/results/results.json 2>&1)" ok
expect "autograder: full marks" "$(jget ag/results/results.json "d['score']")" 4
expect_has "autograder: log for the instructor" "$(cat ag.out)" "score 4/4"
# The lab comes from /autograder/source/parlab.json (here: --config).
printf '{"lab": "%s"}\n' "$EXLAB" >ag/source/parlab.json
rm -f ag/submission/nested/ex.c
cp half.c ag/submission/my_ex.c   # another name, the only .c file
"$PARLAB" grade --gradescope --config ag/source/parlab.json --submission-dir ag/submission \
  --results ag/results/results.json >/dev/null 2>&1
expect "autograder: lab from the config" "$?" 0
expect "autograder: the only .c file is graded" "$(jget ag/results/results.json "d['score']")" 1
rm -f ag/submission/my_ex.c
"$PARLAB" grade --gradescope --config ag/source/parlab.json --submission-dir ag/submission \
  --results ag/results/results.json >/dev/null 2>&1
expect "autograder: empty submission still writes results" "$?" 0
expect "autograder: empty submission scores 0" "$(jget ag/results/results.json "d['score']")" 0
expect_has "autograder: tells the student why" "$(jget ag/results/results.json "d['output']")" "No ex.c"
expect "autograder: still valid" "$(python3 validate.py ag/results/results.json 2>&1)" ok
"$PARLAB" grade --gradescope --config ag/source/none.json --submission-dir ag/submission \
  --results ag/results/r2.json >/dev/null 2>&1
expect "autograder without a lab exits 2" "$?" 2

# ---- leaderboard: the speedup of each visible timed check, from the
# measured figures, kept in the gradebook; a wrong answer does not rank.
mkdir -p lb/ok lb/wrong
cp "$SRC/labs/amdahl-sum/solution.c" lb/ok/sum.c
sed 's/return s;/return s + 1.0;/' "$SRC/labs/amdahl-sum/solution.c" >lb/wrong/sum.c
"$PARLAB" grade --gradescope --lab "$SRC/labs/amdahl-sum" --submission-dir lb/ok \
  --results lb/ok.json >/dev/null 2>&1
expect "leaderboard: autograder exits 0" "$?" 0
expect "leaderboard: schema" "$(python3 validate.py lb/ok.json 2>&1)" ok
expect "leaderboard: one entry per timed check" \
  "$(jget lb/ok.json "[(e['name'], e['order']) for e in d['leaderboard']]")" \
  "[('scales with threads (speedup)', 'desc')]"
expect "leaderboard: a measured speedup" \
  "$(jget lb/ok.json "isinstance(d['leaderboard'][0]['value'], (int, float)) and d['leaderboard'][0]['value'] > 0")" True
"$PARLAB" grade --gradescope --lab "$SRC/labs/amdahl-sum" --submission-dir lb/wrong \
  --results lb/wrong.json >/dev/null 2>&1
expect "leaderboard: wrong answer graded" "$(jget lb/wrong.json "d['score'] < 10")" True
expect "leaderboard: a wrong answer does not rank" "$(jget lb/wrong.json "d['leaderboard']")" "[]"
# The same figures come back from the gradebook: grade into one, export.
mkdir -p lb/class
cp lb/ok/sum.c lb/class/ada.c
"$PARLAB" grade "$SRC/labs/amdahl-sum" lb/class --db lb.db >/dev/null 2>&1
expect "leaderboard: batch grading exits 0" "$?" 0
"$PARLAB" gradebook export --format gradescope --db lb.db --student ada >lb/ada.json
expect "leaderboard: export exits 0" "$?" 0
expect "leaderboard: stored figures give the board" \
  "$(jget lb/ada.json "[e['name'] for e in d['leaderboard']]")" "['scales with threads (speedup)']"
expect "leaderboard: figures in the export" \
  "$(python3 -c "import sqlite3; print(sqlite3.connect('lb.db').execute(\"SELECT count(*) FROM check_results WHERE figures LIKE 'b=% 1:%'\").fetchone()[0])")" 1

finish
