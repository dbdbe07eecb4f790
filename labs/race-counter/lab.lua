-- race-counter: threads that share one counter. The starter loses
-- updates to a data race; the checks count in the grader and compare, then
-- time the submission against a trusted, correctly locked counter.

local N_CHECK = 4000000 -- values per correctness trial
local RACE_S = 3.0      -- seconds of trials: on a busy machine the threads of one
                        -- call may happen not to overlap, so a race can hide for a while
local N_TIMED = 4000000 -- values per timed run (32 MB)
local FACTOR = 3        -- the speedup over the locked baseline, per core

-- (threads, limit) trials over one array: more threads than cores too, so
-- threads are also preempted in the middle of an increment.
local TRIALS = {
  { threads = 2, limit = 0.50 }, { threads = 3, limit = 0.25 },
  { threads = 4, limit = 0.75 }, { threads = 8, limit = 0.60 },
  { threads = 16, limit = 0.90 },
}

-- How many of x[1..n] are below each limit, in one pass (trusted Lua).
local function count_below(x, n, limits)
  local counts = {}
  for k = 1, #limits do counts[k] = 0 end
  for i = 1, n do
    local v = x[i]
    for k = 1, #limits do
      if v < limits[k] then counts[k] = counts[k] + 1 end
    end
  end
  return counts
end

local function check_count(t, got, want, what)
  if got == want then return end
  local lost = want - got
  local why = lost > 0 and string.format(" (%d increments lost: a data race on the counter?)", lost) or ""
  t:eq(got, want, what .. why)
end

return lab {
  id = "race-counter",
  title = "A racy counter",
  lecture = "l04-concurrent-programming",
  submission = { file = "counter.c", lang = "c", cflags = { "-O2", "-pthread" }, ldflags = { "-pthread" } },
  exports = { lab_count = "long(const double*, long, double, int)" },
  -- The same count with a mutex around every increment, run with the same
  -- number of threads: the fix to beat.
  baseline = "baseline.c",
  hints = {
    "count++ on a shared variable is three steps: load, add, store. When two threads " ..
    "interleave those steps, both store the same value and one increment disappears. " ..
    "A mutex around the increment makes it correct, but then every match waits for the lock.",
    "The threads do not need to agree on the count while they run, only at the end. Give " ..
    "each thread its own counter, a local variable in worker(), and add the per-thread " ..
    "totals together once all threads have finished.",
    "In worker(), count into `long mine = 0;` and store it in the thread's own struct task " ..
    "field when the loop ends. In lab_count(), after pthread_join() returns for thread t, " ..
    "add tasks[t].partial to the total: join guarantees you see what the thread wrote.",
  },
  checks = {
    check "counts correctly" { points = 5, timeout = 60, function(t)
      -- Small cases first: empty input, a single value, more threads than values.
      local small = engine.array.from("f64", { 0.1, 0.9, 0.3, 0.7, 0.5 })
      t:eq(t.sub.lab_count(engine.array.zeros("f64", 0), 0, 0.5, 4), 0, "n = 0")
      t:eq(t.sub.lab_count(small, 1, 0.5, 1), 1, "n = 1, 1 thread")
      t:eq(t.sub.lab_count(small, 5, 0.5, 8), 2, "n = 5, 8 threads")
      -- Then many increments from many threads: a racy counter loses some.
      local x = engine.array.random("f64", N_CHECK, { seed = 42 })
      local limits = {}
      for k, tr in ipairs(TRIALS) do limits[k] = tr.limit end
      local want = count_below(x, N_CHECK, limits)
      local t0, round = engine.time(), 0
      repeat
        round = round + 1
        for k, tr in ipairs(TRIALS) do
          local got = t.sub.lab_count(x, N_CHECK, tr.limit, tr.threads)
          check_count(t, got, want[k], string.format("%d threads, %d values below %.2f (run %d)",
            tr.threads, N_CHECK, tr.limit, round))
        end
      until round >= 3 and engine.time() - t0 >= RACE_S
      t:log("%d rounds of %d trials, every count right", round, #TRIALS)
    end },

    check "beats the lock" { points = 5, timed = true, timeout = 90, function(t)
      local cores = engine.cores()
      local limit = 0.5
      local x = engine.array.random("f64", N_TIMED, { seed = 7 })
      -- Each repetition counts a slightly shorter prefix, so a remembered
      -- answer is wrong; the expected counts come from one pass here.
      local full = count_below(x, N_TIMED, { limit })[1]
      local expected, drop = {}, 0
      for rep = 0, 16 do
        expected[rep] = full - drop
        if x[N_TIMED - rep] < limit then drop = drop + 1 end
      end
      local r = t:scaling(function(impl, rep)
        local n = N_TIMED - rep
        check_count(t, impl.lab_count(x, n, limit, cores), expected[rep],
          string.format("%d threads, %d values", cores, n))
      end, { reps = 5, threads = { cores } })
      t:at_least(r.speedup, FACTOR * cores, string.format(
        "speedup over the locked counter with %d threads (needs %d x %d)", cores, FACTOR, cores))
    end },
  },
}
