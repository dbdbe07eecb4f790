-- race-counter: threads that share one counter. The starter loses
-- updates to a data race; the checks count in the grader and compare,
-- make sure the count really is split among the threads asked for, then
-- time the submission against a trusted, correctly locked counter.
--
-- Parallel, not just fast: a count without threads beats the lock too, so
-- the lab's harness (harness.c, compiled with the submission) calls
-- lab_count on a copy of the input whose pages fault on first read, and
-- records which thread read each page first and when. The grader decides
-- from that record: enough threads must each read a fair share, and (on
-- two or more cores) some of them at the same time. Starting threads that
-- do nothing, or running them one after another, does not pass.

local N_CHECK = 4000000 -- values per correctness trial
local RACE_S = 3.0      -- seconds of trials: on a busy machine the threads of one
                        -- call may happen not to overlap, so a race can hide for a while
local N_TIMED = 4000000 -- values per timed run (32 MB)
local FACTOR = 3        -- the speedup over the locked baseline, per core
local N_TRACED = 2000000 -- values per traced call (16 MB: about 3,900 pages)
local TRACED_THREADS = { 2, 4, 7 }
local FAIR = 0.25       -- a thread "did work" if it read this part of its share n/threads
local TRACE_HDR, TRACE_SLOTS = 8, 128
local TRACE_TRIES = 5   -- a busy machine may run the threads one after another now and then

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

-- lab_count(x, n, limit, threads) on the harness's traced copy of x: the
-- count is checked, and the record is returned as { pages, read, caller,
-- readers = { { pages, first, last }... } } (times in seconds).
local function traced(t, x, n, limit, threads, want)
  local tr = engine.array.zeros("i64", TRACE_HDR + 4 * TRACE_SLOTS)
  local got = t.sub.lab_count_traced(x, n, limit, threads, tr)
  check_count(t, got, want, string.format("%d threads, %d values below %.2f (traced)",
    threads, n, limit))
  t:ok(tr[1] == 1, string.format("the lab's harness could not trace lab_count (status %d)", tr[1]))
  local r = { pages = tr[2], read = tr[3], caller = tr[6], readers = {} }
  for k = 0, tr[4] - 1 do
    local b = TRACE_HDR + 4 * k
    r.readers[#r.readers + 1] = { pages = tr[b + 2], first = tr[b + 3] * 1e-9, last = tr[b + 4] * 1e-9 }
  end
  table.sort(r.readers, function(a, b) return a.pages > b.pages end)
  return r
end

-- The threads that read a fair share, and how many of them were reading
-- at the same moment (the most spans [first, last] that overlap).
local function workers_of(r, threads)
  local need = FAIR * r.pages / threads
  local w = {}
  for _, rd in ipairs(r.readers) do
    if rd.pages >= need then w[#w + 1] = rd end
  end
  local events = {}
  for _, rd in ipairs(w) do
    events[#events + 1] = { rd.first, 1 }
    events[#events + 1] = { rd.last, -1 }
  end
  table.sort(events, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] > b[2]
  end)
  local cur, most = 0, 0
  for _, e in ipairs(events) do
    cur = cur + e[2]
    if cur > most then most = cur end
  end
  return w, most
end

-- "3 threads read 51%, 49%, 0.1% of the pages (the calling thread 0%)"
local function shares(r)
  local parts = {}
  for i, rd in ipairs(r.readers) do
    if i > 8 then parts[#parts + 1] = "..." break end
    parts[#parts + 1] = string.format("%.3g%%", 100 * rd.pages / math.max(r.pages, 1))
  end
  return string.format("%d thread%s read %s of the pages (the calling thread %.3g%%)",
    #r.readers, #r.readers == 1 and "" or "s", table.concat(parts, ", "),
    100 * r.caller / math.max(r.pages, 1))
end

-- Fails unless `threads` threads each read a fair share of the input.
local function require_split(t, r, threads, why)
  t:ok(r.read == r.pages, string.format("%d threads: lab_count read %d of the %d pages of its " ..
    "input through x; the count must read the array it is given", threads, r.read, r.pages))
  local w = workers_of(r, threads)
  t:ok(#w >= threads, string.format("%d threads, %d values: %s, so %d thread%s read at least " ..
    "a quarter of a share (n/threads values), not %d: %s", threads, N_TRACED, shares(r), #w,
    #w == 1 and "" or "s", threads, why))
end

-- Traced calls until `threads` threads each read a fair share of x and
-- (on two or more cores) at least two of them read at the same time, in
-- one of TRACE_TRIES calls; fails with what the harness saw otherwise.
-- Returns the last record and the most threads seen reading at once.
local function require_parallel(t, x, limit, threads, want, why)
  local cores = engine.cores()
  local r, most
  for _ = 1, TRACE_TRIES do
    r = traced(t, x, N_TRACED, limit, threads, want)
    require_split(t, r, threads, why)
    local _, m = workers_of(r, threads)
    most = m
    -- On one core threads take turns; elsewhere some must overlap.
    if cores < 2 or most >= 2 then return r, most end
  end
  t:ok(false, string.format("%d threads: %s, but one after another, never two at the same " ..
    "time (%d tries): start all the threads before you join any", threads, shares(r), TRACE_TRIES))
end

return lab {
  id = "race-counter",
  title = "A racy counter",
  lecture = "l04-concurrent-programming",
  submission = {
    file = "counter.c", lang = "c", cflags = { "-O2", "-pthread" }, ldflags = { "-pthread" },
    -- The page tracer: compiled with counter.c (and baseline.c), in the jail.
    support = { "harness.c" },
  },
  exports = {
    lab_count = "long(const double*, long, double, int)",
    lab_count_traced = "long(const double*, long, double, int, long*)",
  },
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
    check "counts correctly" { points = 4, timeout = 60, function(t)
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

    check "splits the work among its threads" { points = 2, timeout = 60, function(t)
      local x = engine.array.random("f64", N_TRACED, { seed = 11 })
      local limit = 0.4
      local want = count_below(x, N_TRACED, { limit })[1]
      for _, threads in ipairs(TRACED_THREADS) do
        local r, most = require_parallel(t, x, limit, threads, want, "split the array into " ..
          "one block per thread, and count each block in its own thread")
        t:log("%d threads: %s; %d reading at the same time", threads, shares(r), most)
      end
    end },

    check "beats the lock" { points = 4, timed = true, timeout = 90, function(t)
      local cores = engine.cores()
      local limit = 0.5
      -- Only a parallel count earns these points: one traced pass first.
      if cores > 1 then
        local xt = engine.array.random("f64", N_TRACED, { seed = 5 })
        require_parallel(t, xt, limit, cores, count_below(xt, N_TRACED, { limit })[1],
          "a count that is not split among its threads does not earn the speedup points " ..
          "(see 'splits the work among its threads')")
      end
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
