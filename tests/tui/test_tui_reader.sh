#!/usr/bin/env bash
# The lecture reader on tests/tui/course: Markdown rendering, syntax
# highlighting, table of contents, search (/ n N), runnable Lua snippets
# (output, a Lua error with file and line, a runaway loop stopped), the
# quiz (choice, numeric with a bad entry, exact; feedback; answers in the
# gradebook), a broken quiz shown in a panel, and the reading position.
. "$(dirname "$0")/lib.sh"

home="$tmp/home"
MD="$COURSE/content/lectures/t01-basics.md"
db="$home/parlab.db"
start "$PARLAB --home '$home' --course '$COURSE'"
expect "Basics for testing"
keys Enter

# ---- Markdown ----
expect "Lecture Top"
expect "Basics for testing"
expect "(https://example.org/parlab)"
expect "[image: a speedup plot]"
expect "• first bullet"
expect "1. nested one"
expect "│ A block quote about zebras"
expect "╞═════════╪═════════╡"
expect "│       2 │    1.90 │"

# ---- syntax highlighting (tmux's default terminal has 256 colours) ----
keys /
typein "Code in four"
keys Enter
expect "Lecture"
keys j j j j j j j j j j
expect '#include <stdio.h>'
e=$(pane_e)
check "C keyword coloured" grep -q $'\e\\[38;5;141mint' <<<"$e"
check "C number coloured" grep -q $'\e\\[38;5;173m42' <<<"$e"
check "C string coloured" grep -q $'\e\\[38;5;114m"hello' <<<"$e"
check "C comment coloured" grep -q $'\e\\[38;5;244m/\\* a C comment' <<<"$e"
check "shell comment coloured" grep -q $'\e\\[38;5;244m# a shell comment' <<<"$e"
check "Python keyword coloured" grep -q $'\e\\[38;5;141mdef' <<<"$e"

# ---- table of contents ----
keys t
expect "Contents 2/5" # the heading above the screen's top
expect "Lists and quotes"
expect "Zebras again"
keys G k k Enter
expect_gone "Contents"
check "the reader jumped to the heading" grep -q 'Code in four languages' <<<"$(pane | sed -n 3p)"
keys g

# ---- search ----
keys /
expect "/"
typein "zebras"
keys Enter
expect "match 1/3"
keys n
expect "match 2/3"
keys n
expect "match 3/3"
keys n
expect "Search wrapped to the top"
expect "match 1/3"
keys N
expect "match 3/3"
check "the current match is highlighted" grep -q $'\e\\[7m' <<<"$(pane_e)"
keys /
typein "Zebras"
keys Enter
expect "match 1/1" # smart case: a capital makes it case-sensitive
keys /
typein "no such words anywhere"
keys Enter
expect "Pattern not found: no such words anywhere"
keys g

# ---- runnable snippets ----
keys ']'
expect "x run"
keys x
expect "output ("
expect "sum of 1..10 =    55"
expect "cores: yes"
expect "Ran the snippet in"

bug_line=$(grep -n 'local y = t.missing.field' "$MD" | cut -d: -f1)
keys ']'
expect "local y = t.missing.field"
keys x
expect "error ("
expect "t01-basics.md:$bug_line:"
expect "attempt to index"
expect "The snippet failed"

loop_line=$(grep -n '^while true do end' "$MD" | cut -d: -f1)
keys ']'
keys x
expect "t01-basics.md:$loop_line: time limit of 2 s exceeded" 15

# ---- the quiz ----
keys G
expect "Quiz: 3 questions on this lecture. Press Q to take it."
keys Q
expect "Question 1 of 3"
expect "Which animal does the block quote mention?"
expect "2. zebras"
keys 1
expect "Not quite: the answer is 2. zebras."
expect "The quote is about zebras."
keys a
keys 2
expect "Right."
keys Enter
expect "Question 2 of 3"
expect "Your answer (a number):"
typein "abc"
keys Enter
expect "That is not a number. Your answer (a number):"
typein "1.9"
keys Enter
expect "Right."
expect "The table says 1.90 for 2 threads."
keys Enter
expect "Question 3 of 3"
typein "  Reduction "
keys Enter
expect "Right."
keys Enter
expect "You answered 3 of 3 questions right."
keys q G
expect "So far: 3 of 3 answered, 3 right."
check "4 answers stored" [ "$(sql "$db" "SELECT COUNT(*) FROM quiz_answers WHERE lecture = 't01-basics'")" = 4 ]
check "the wrong one stored as wrong" [ "$(sql "$db" "SELECT correct FROM quiz_answers WHERE question = 'animal' ORDER BY id LIMIT 1")" = 0 ]
check "the typed answer stored as typed" [ "$(sql "$db" "SELECT answer FROM quiz_answers WHERE question = 'speedup'")" = 1.9 ]

# ---- a broken quiz: a panel with file and line, no crash ----
keys q
expect "Course map"
keys G Enter
expect "The quiz for this lecture could not be loaded (Q shows why)."
keys Q
expect "The quiz could not be loaded"
expect "t02-broken.lua:3: question \"q1\": kind must be"
keys q
expect "Lecture"
keys q

# ---- the reading position comes back ----
keys g Enter
expect "Back where you left off" # at the end, where the quiz was
expect "So far: 3 of 3 answered"
keys g
expect "Lecture Top"
keys /
typein "Snippets"
keys Enter
expect "match 1/"
keys q
expect "Course map"
keys Enter
expect "Back where you left off"
expect "A snippet that works"
check "time spent on the lecture recorded" [ -n "$(sql "$db" "SELECT seconds FROM time_spent WHERE item = 't01-basics'")" ]
keys q q
expect_exit

finish
