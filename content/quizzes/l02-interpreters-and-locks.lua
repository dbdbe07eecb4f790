-- Quiz for lecture l02-interpreters-and-locks (content/lectures/l02-interpreters-and-locks.md).
return quiz {
  question "gil-cpu" {
    kind = "choice",
    text = "A pure-Python function that only does arithmetic takes 4 s. You run it four " ..
           "times, once on each of four threads, on a four-core machine with the standard " ..
           "CPython build. About how long does that take?",
    choices = { "About 1 s", "About 2 s", "About 16 s", "It deadlocks" },
    answer = 3,
    explain = "Only the thread that holds the global interpreter lock runs Python bytecode. " ..
              "The threads take turns every few milliseconds, so the four runs add up to " ..
              "about 4 x 4 = 16 s, as if they had run one after the other.",
  },

  question "gil-io" {
    kind = "choice",
    text = "Which of these Python programs gets faster when it uses 8 threads instead of 1?",
    choices = {
      "One that parses a large JSON string in pure Python",
      "One that downloads 100 web pages, one request per task",
      "One that sorts a list of ten million integers",
    },
    answer = 2,
    explain = "Downloading is I/O-bound: a thread waiting for the network has released the " ..
              "GIL, so the waits overlap. Parsing and sorting in the interpreter are " ..
              "CPU-bound and run one thread at a time under the GIL.",
  },

  question "lua-states" {
    kind = "choice",
    text = "A C program wants to run Lua scripts on four cores at the same time. What is " ..
           "the usual design?",
    choices = {
      "One lua_State shared by four OS threads",
      "Four coroutines in one lua_State",
      "Four lua_States, one per OS thread, exchanging data by copying",
    },
    answer = 3,
    explain = "A lua_State may be used by only one OS thread at a time, and coroutines in one " ..
              "state take turns. Separate states share nothing, so each can run on its own " ..
              "core; values move between them by copying.",
  },

  question "cpu-time" {
    kind = "numeric",
    text = "`time ./prog` reports real 2.0 s, user 7.6 s, sys 0.4 s. On average, how many " ..
           "cores were busy while it ran?",
    answer = 4,
    tolerance = 0.05,
    explain = "CPU time (user + sys = 8.0 s) is summed over all threads; divided by the wall " ..
              "time of 2.0 s it gives 4 busy cores on average, so the program ran in parallel.",
  },

  question "profile" {
    kind = "exact",
    text = "Which module of Python's standard library counts how often each function is " ..
           "called and how much time it takes? (one word, as you would import it)",
    answer = { "cProfile", "profile" },
    explain = "cProfile (or the slower pure-Python profile) measures calls and time per " ..
              "function: python3 -m cProfile -s cumulative script.py. Profile before you " ..
              "parallelize, so that you work on the part that actually takes the time.",
  },
}
