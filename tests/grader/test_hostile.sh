#!/usr/bin/env bash
# The hostile-submission suite: every file in tests/grader/hostile/ attacks
# the grader and declares the verdicts it must get (// expect: CHECK
# passed|failed TEXT, or // compile: failed TEXT). For each: the grader
# survives (a JSON result, exit 1), every verdict is right, and afterwards
# no process of the jail user, no scratch folder, no shared-memory segment
# and no marker file remains.
. "$(dirname "$0")/lib.sh"
DIR=$SRC/tests/grader/hostile
TINY=$SRC/tests/grader/labs/tiny
out=$(mktemp -d)
export HOSTILE_SRC=$SRC/labs/amdahl-sum/solution.c
# This run's scratch folders live under $out/tmp, so the jails' command
# lines name $out and their processes can be told from anyone else's.
mkdir -p "$out/tmp"
export TMPDIR=$out/tmp
shm_before=$(ls /dev/shm | sort | tr '\n' ' ')
jail_procs() { pgrep -f -- "$out/tmp" | wc -l; }
procs_before=0

for f in "$DIR"/*.c; do
  name=$(basename "$f" .c)
  lab=$(sed -n 's|^// lab: *||p' "$f")
  [ "$lab" = tiny ] && lab=$TINY
  "$PARLAB" lab run "$lab" --submission "$f" --json >"$out/$name.json" 2>"$out/$name.err"
  rc=$?
  if [ "$rc" -gt 1 ] || ! python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$out/$name.json" 2>/dev/null; then
    bad "$name: grader did not survive (exit $rc): $(tail -3 "$out/$name.err")"
    continue
  fi
  while read -r idx verdict text; do
    got=$(jget "$out/$name.json" "'passed' if d['checks'][$idx]['passed'] else 'failed'")
    msg=$(jget "$out/$name.json" "d['checks'][$idx]['message']")
    if [ "$got" != "$verdict" ]; then bad "$name: check $idx $got, expected $verdict ($msg)"; continue; fi
    case "$msg" in *"$text"*) ok "$name: check $idx $verdict${text:+ ($text)}" ;;
      *) bad "$name: check $idx message lacks '$text': $msg" ;; esac
  done < <(sed -n 's|^// expect: *||p' "$f")
  ctext=$(sed -n 's|^// compile: failed *||p' "$f")
  if grep -q '^// compile: failed' "$f"; then
    expect "$name: does not compile" "$(jget "$out/$name.json" "d['compiled']")" False
    [ -n "$ctext" ] && expect_has "$name: diagnostics" "$(jget "$out/$name.json" "'\n'.join(d['diagnostics'])")" "$ctext"
  fi
  # Nothing of the jail outlives the grading (the kernel may need a moment
  # to finish tearing a killed namespace down).
  for _ in $(seq 20); do [ "$(jail_procs)" = "$procs_before" ] && break; sleep 0.1; done
  expect "$name: no jail process left" "$(jail_procs)" "$procs_before"
done

sleep 3.5 # the daemon's marker would appear after 3 s if it had escaped
for m in /tmp/parlab-hostile-marker /tmp/parlab-hostile-daemon /usr/parlab-hostile-marker /etc/parlab-hostile-marker; do
  [ -e "$m" ] && { bad "marker $m was written on the host"; rm -f "$m"; } || ok "no $m on the host"
done
expect "no jail process left at the end" "$(jail_procs)" "$procs_before"
expect "no scratch folder left" "$(ls "$out/tmp" | grep -v '^parlab-timed.lock$')" ""
expect "no shared-memory segment left" "$(ls /dev/shm | sort | tr '\n' ' ')" "$shm_before"
n=$(ls "$DIR"/*.c | wc -l)
[ "$n" -ge 25 ] && ok "$n hostile kinds" || bad "only $n hostile kinds"
rm -rf "$out"
finish
