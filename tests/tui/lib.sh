# lib.sh — helpers for the TUI's tmux-driven tests (sourced).
#
# Each test script drives the real parlab binary in a private tmux server
# and asserts on `capture-pane` text, as a student would see the screen.
# Assertions wait for the text (polling the pane), never for a fixed time.
# A failed assertion prints the screen and ends the script: later steps
# depend on the screen being where the failed one expected it.
#
# Env: PARLAB (the binary), PARLAB_SRC (the repository root; default cwd).
set -u

PARLAB=${PARLAB:?PARLAB must name the parlab binary}
SRC=${PARLAB_SRC:-$(pwd)}
COURSE="$SRC/tests/tui/course" # the small test course (fast lab, quizzes)
PASS=0 FAIL=0

if ! command -v tmux >/dev/null 2>&1; then
  echo "FAIL: tmux is not installed (scripts/setup installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi

# A UTF-8 locale unless a test asks for another (C.UTF-8 always exists on
# Debian); tmux -u trusts it.
export LANG=C.UTF-8
unset LC_ALL LC_CTYPE

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parlab-tui.XXXXXX")
sock="parlab-tui-$$"
sess=""
nsess=0
T() { tmux -u -L "$sock" -f /dev/null "$@"; }
cleanup() {
  T kill-server >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}

pane() { T capture-pane -p -t "$sess" 2>/dev/null; }
# the screen with its colours and attributes as escape sequences
pane_e() { T capture-pane -p -e -t "$sess" 2>/dev/null; }

ok() { PASS=$((PASS + 1)); echo "ok    $*"; }

fail() {
  FAIL=$((FAIL + 1))
  echo "FAIL  $*"
  echo "----- screen -----"
  pane || echo "(no pane)"
  echo "------------------"
  finish
  exit 1
}

# check NAME COMMAND...: a condition that must hold now.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}

# wait_for TEXT [SECONDS]: poll the screen until TEXT (fixed string) shows.
wait_for() {
  local text=$1 secs=${2:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    pane | grep -qF -- "$text" && return 0
    sleep 0.05
  done
  return 1
}

expect() {
  wait_for "$1" "${2:-10}" || fail "expected '$1' on the screen"
  ok "'$1'"
}

expect_gone() {
  local text=$1 i
  for ((i = 0; i < 200; i++)); do
    pane | grep -qF -- "$text" || { ok "'$text' gone"; return 0; }
    sleep 0.05
  done
  fail "expected '$text' to disappear"
}

# expect_line PATTERN TEXT: a screen line matching the ERE PATTERN also
# contains TEXT (e.g. a course-map row and its score).
expect_line() {
  local pat=$1 text=$2 i
  for ((i = 0; i < 200; i++)); do
    pane | grep -E -- "$pat" | grep -qF -- "$text" && { ok "'$text' on the line of /$pat/"; return 0; }
    sleep 0.05
  done
  fail "expected '$text' on a line matching /$pat/"
}

keys() { T send-keys -t "$sess" "$@"; }
# type TEXT literally (no key names)
typein() { T send-keys -t "$sess" -l -- "$1"; }

# A mouse event in the X10 encoding xterm-style terminals send: button
# (0 left, 64 wheel up, 65 wheel down), 0-based column and row. A left
# click is a press and a release (button 3), as a terminal sends it.
mouse_ev() {
  local b=$(( $1 + 32 )) x=$(( $2 + 33 )) y=$(( $3 + 33 ))
  T send-keys -t "$sess" -l -- "$(printf "\\033[M\\$(printf %o $b)\\$(printf %o $x)\\$(printf %o $y)")"
}
mouse() {
  mouse_ev "$@"
  [ "$1" = 0 ] && mouse_ev 3 "$2" "$3"
  return 0
}

# start [-x W] [-y H] CMD...: a fresh session running CMD; the pane stays
# after the program exits so its exit status can be read. The new session
# is made before the old one is killed, so the server never exits between
# them.
start() {
  local w=100 h=30
  while [ $# -gt 0 ]; do
    case $1 in
      -x) w=$2; shift 2 ;;
      -y) h=$2; shift 2 ;;
      *) break ;;
    esac
  done
  local old=$sess
  nsess=$((nsess + 1))
  sess="tui$$-$nsess"
  T new-session -d -s "$sess" -x "$w" -y "$h" -c "$SRC" "$*" \; \
    set-option -t "$sess" remain-on-exit on >/dev/null ||
    fail "cannot start tmux"
  [ -n "$old" ] && T kill-session -t "$old" >/dev/null 2>&1
  return 0
}

expect_exit() {
  local i dead=0
  for ((i = 0; i < 200; i++)); do
    dead=$(T display-message -p -t "$sess" '#{pane_dead}' 2>/dev/null || echo 1)
    [ "$dead" = 1 ] && break
    sleep 0.05
  done
  [ "$dead" = 1 ] || fail "parlab did not exit after q"
  local st
  st=$(T display-message -p -t "$sess" '#{pane_dead_status}' 2>/dev/null)
  [ "${st:-0}" = 0 ] || fail "parlab exited with status $st"
  ok "parlab exited (status ${st:-0})"
}

# sql DB QUERY: one value from the gradebook (python3 is a test
# dependency already: scripts/setup installs it).
sql() {
  python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
r = c.execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "$1" "$2"
}

# colours: what the screen uses now: "256", "16" (the 8/16 basic
# colours) or "none". tmux reports each attribute as its own SGR sequence.
colours() {
  local e
  e=$(pane_e)
  if grep -q $'\e\\[38;5;' <<<"$e"; then echo 256
  elif grep -qE $'\e\\[(3[0-7]|9[0-7])m' <<<"$e"; then echo 16
  else echo none
  fi
}

# screen_has TEXT: the screen shows TEXT now (no waiting).
screen_has() { pane | grep -qF -- "$1"; }

# has_braille: the screen shows braille cells (a chart).
has_braille() {
  pane | python3 -c 'import sys
sys.exit(0 if any(0x2801 <= ord(c) <= 0x28ff for c in sys.stdin.read()) else 1)'
}

# expect_sel TEXT: the selected row of a list (marked '>') shows TEXT.
expect_sel() { expect_line '^  >' "$1"; }
