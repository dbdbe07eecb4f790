#!/usr/bin/env bash
# Lua submissions end to end: syntax errors with their line, runtime errors
# with file and line, the sandbox inside the jail, hangs, values that
# cannot be copied out, read-only input arrays, and the reference.
. "$(dirname "$0")/lib.sh"
LAB=$SRC/tests/grader/labs/tinylua
SUBS=$SRC/tests/grader/subs
out=$(mktemp -d)
run_json() { "$PARLAB" lab run "$LAB" --submission "$1" --json >"$2" 2>"$2.err"; rc=$?; }

run_json "$LAB/solution.lua" "$out/ok.json"
expect "reference exits 0" "$rc" 0
expect "reference full marks" "$(jget "$out/ok.json" "d['score']")" 2

run_json "$LAB/starter.lua" "$out/starter.json"
expect "starter exits 1" "$rc" 1
expect_has "starter: wrong value reported" "$(jget "$out/starter.json" "d['checks'][1]['message']")" "expected 6.5"

run_json "$SUBS/lua-syntax.lua" "$out/syntax.json"
expect "syntax error: not compiled" "$(jget "$out/syntax.json" "d['compiled']")" False
expect_has "syntax error names job.lua line 3" "$(jget "$out/syntax.json" "'\n'.join(d['diagnostics'])")" "job.lua:3:"

run_json "$SUBS/lua-error.lua" "$out/err.json"
expect_has "runtime error names file and line" "$(jget "$out/err.json" "d['checks'][0]['message']")" "job.lua:2:"
expect_has "no io library in the jail" "$(jget "$out/err.json" "d['checks'][1]['message']")" "job.lua:5:"

start=$(date +%s)
run_json "$SUBS/lua-loop.lua" "$out/loop.json"
expect_has "Lua loop: time limit" "$(jget "$out/loop.json" "d['checks'][0]['message']")" "time limit"
expect "Lua loop: next check runs" "$(jget "$out/loop.json" "d['checks'][1]['passed']")" True
[ $(( $(date +%s) - start )) -lt 20 ] && ok "Lua loop stopped in time" || bad "Lua loop took too long"

run_json "$SUBS/lua-upvalue.lua" "$out/up.json"
expect_has "closure result refused" "$(jget "$out/up.json" "d['checks'][0]['message']")" "upvalue"
expect_has "input array is read-only" "$(jget "$out/up.json" "d['checks'][1]['message']")" "read-only"

run_json "$SUBS/lua-function.lua" "$out/fn.json"
expect "returned function refused by the grader" "$(jget "$out/fn.json" "d['checks'][0]['passed']")" False
expect_has "refusal explained" "$(jget "$out/fn.json" "d['checks'][0]['message']")" "function"
expect "other checks unaffected" "$(jget "$out/fn.json" "d['checks'][1]['passed']")" True

rm -rf "$out"
finish
