#!/usr/bin/env bash
# Navigation and the things every screen shares, on tests/tui/course: the
# course map (moving, opening, continue where you left off, progress
# dashboard), help built from the key tables, the status line, mouse
# clicks and the wheel, resizing to exactly 80x24 and below it, colours
# (NO_COLOR, 16 and 256), the ASCII fallback, PARLAB_TUI_DUMP, and a broken
# course file shown in a panel with file and line, then reloaded.
. "$(dirname "$0")/lib.sh"

home="$tmp/home"

# ---- navigation on the course map ----
start "$PARLAB --home '$home' --course '$COURSE'"
expect "TUI test course"
expect "Module 1: Basics"
expect "Module 2: Broken things"
expect "0 of 3 done"
expect_sel "Basics for testing"
expect "Course map  jk move  Enter open" # where, then the main keys
keys j
expect_sel "Quick sum"
keys j
expect_sel "Broken quiz"
keys j # stays on the last item
expect_sel "Broken quiz"
keys g
expect_sel "Basics for testing"
keys G
expect_sel "Broken quiz"
keys k
expect_sel "Quick sum"
keys c
expect "Nothing to continue yet"

# help comes from the binding table, for every screen
keys '?'
expect "Keys: Course map"
expect "continue where you left off"
expect "progress: completion, scores, hints, time spent"
expect "redraw the screen"
keys Escape
expect_gone "Keys: Course map"

# open and come back
keys Enter
expect "Your file:"
expect "e edit  r run  w watch  h hint"
keys '?'
expect "Keys: Lab"
expect "watch mode: run the checks whenever your file is saved"
expect "reset your file to the starter (asks first)"
keys x
keys q
expect "Course map"
keys g Enter
expect "Lecture Top  jk scroll  / search  t contents  x run  Q quiz  q back  ? help"
keys '?'
expect "Keys: Lecture"
expect "search the text (smart case)"
keys x
keys q
expect "Course map"
expect "1 of 3 done"
expect_line "Basics for testing" "read"
keys q
expect_exit

# ---- continue where you left off, and the dashboard ----
start "$PARLAB --home '$home' --course '$COURSE'"
expect "Continue where you left off: lecture Basics for testing (c)"
expect_sel "Basics for testing"
keys c
expect "Lecture Top  jk scroll"
keys q
keys p
expect "Your progress"
expect "1 of 3 lectures and labs done"
expect "Quizzes: 0 of 3 questions right."
expect_line "Module 1: Basics" "1/2 done"
expect_line "Basics for testing" "quiz 0/3"
expect_line "Broken quiz" "no quiz"
expect_line "Quick sum" "not started"
keys q
expect "Course map"

# ---- mouse: a click selects, a second click opens; the wheel scrolls ----
row=$(pane | grep -n "Lab      Quick sum" | cut -d: -f1)
mouse 0 20 $((row - 1))
expect_sel "Quick sum"
mouse 0 20 $((row - 1))
expect "Your file:"
keys q
expect "Course map"
row=$(pane | grep -n "Lecture  Basics for testing" | cut -d: -f1)
mouse 0 20 $((row - 1))
mouse 0 20 $((row - 1))
expect "Lecture"
keys g
expect "Lecture Top"
mouse 65 10 10
expect_gone "Lecture Top" # scrolled down
mouse 64 10 10
expect "Lecture Top"
# a click on a status-line hint presses its key
col=$(pane | tail -1 | grep -bo "t contents" | cut -d: -f1)
mouse 0 $((col + 1)) 29
expect "Contents"
keys q q
expect "Course map"
keys q
expect_exit

# ---- exactly 80x24 works; below it, a clear message ----
start -x 80 -y 24 "$PARLAB --home '$home' --course '$COURSE'"
expect "Module 1: Basics"
expect "Course map"
expect "q quit"
check "80x24: the status line is on the last row" grep -q "Course map" <<<"$(pane | sed -n 24p)"
keys g Enter
expect "Lecture"
expect "q back"
keys q
T resize-window -t "$sess" -x 79 -y 24
expect "terminal too small: need 80x24, have 79x24"
T resize-window -t "$sess" -x 80 -y 23
expect "terminal too small: need 80x24, have 80x23"
T resize-window -t "$sess" -x 60 -y 10
expect "terminal too small: need 80x24, have 60x10"
T resize-window -t "$sess" -x 80 -y 24
expect_gone "terminal too small"
expect "Module 1: Basics"
keys j Enter
expect "Your file:"
T resize-window -t "$sess" -x 50 -y 20
expect "terminal too small"
T resize-window -t "$sess" -x 120 -y 40
expect "Your file:"
expect "w watch"
keys q
keys q
expect_exit

# ---- colours: 256, 16, none (NO_COLOR) ----
start "$PARLAB --home '$home' --course '$COURSE'"
expect "Module 1: Basics"
check "256 colours on a 256-colour terminal" [ "$(colours)" = 256 ]
keys q
expect_exit
start "TERM=xterm $PARLAB --home '$home' --course '$COURSE'"
expect "Module 1: Basics"
check "basic colours on an 8/16-colour terminal" [ "$(colours)" = 16 ]
keys q
expect_exit
start "NO_COLOR=1 $PARLAB --home '$home' --course '$COURSE'"
expect "Module 1: Basics"
check "NO_COLOR: no colours at all" [ "$(colours)" = none ]
keys g Enter
expect "Lecture"
check "NO_COLOR: still no colours in a lecture" [ "$(colours)" = none ]
check "NO_COLOR: headings still stand out (bold)" grep -q $'\e\\[1m' <<<"$(pane_e)"
keys q q
expect_exit

# ---- ASCII fallback when the locale is not UTF-8 ----
start "LC_ALL=C $PARLAB --home '$home' --course '$COURSE'"
expect "parlab > TUI test course"
expect "> Continue where you left off"
check "ASCII progress bars" grep -q '########........  1/2' <<<"$(pane)"
keys g Enter
expect "* first bullet"
expect "+=========+=========+"
keys q q
expect_exit

# ---- PARLAB_TUI_DUMP: the screen as text, for tools ----
start "PARLAB_TUI_DUMP='$tmp/screen.txt' $PARLAB --home '$home' --course '$COURSE'"
expect "Module 1: Basics"
check "the dump holds the screen" grep -q "Module 1: Basics" "$tmp/screen.txt"
keys q
expect_exit

# ---- a broken course file: a panel with file and line; r reloads ----
broken="$tmp/course"
cp -r "$COURSE" "$broken"
printf 'return course {\n  title = "x",\n  module { id = "m1" title = "y" },\n}\n' \
  >"$broken/content/course.lua"
start "$PARLAB --home '$home' --course '$broken'"
expect "The course could not be loaded"
expect "course.lua:3:"
cp "$COURSE/content/course.lua" "$broken/content/course.lua"
keys r
expect "course reloaded"
expect "Module 1: Basics"
keys q
expect_exit

finish
