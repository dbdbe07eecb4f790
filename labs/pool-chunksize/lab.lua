-- pool-chunksize: a map over tasks of uneven cost (a steep ramp, cost
-- growing as the fourth power of the position: the last tasks are the
-- heaviest) on a process pool. With chunk size 1 the cost of
-- sending each task dominates; with one chunk per worker the worker that
-- gets the heavy end works alone while the others idle. The student picks
-- a chunk size in between and measures the curve ("the bathtub").
--
-- The grader builds the costs, computes the expected sums itself, and
-- times run() with chunk size 1, the student's pick and n / workers,
-- interleaved (A B C A B C ...), median of five after a warm-up.

local N = 50000           -- tasks in the timed runs
local K = 250             -- cost of the heaviest task, in units of work(): the
                          -- average task is about a microsecond, as the brief says
local BEAT_ONE = math.max(1.25, 0.6 * engine.cores())  -- throughput vs chunk size 1
local BEAT_SPLIT = 1.2    -- throughput vs one chunk per worker
local REPS = 5

-- The task's arithmetic, as in the starter (trusted copy).
local function work(x)
  local s = 0
  for i = 1, x do s = s + (i * x) % 7 end
  return s
end

-- Costs 1 + floor(K * (i/n)^4), as an i64 array, and the sum of work()
-- over them (work() depends only on x: computed once per value).
local function make_costs(n, k)
  local a = engine.array.zeros("i64", n)
  local memo, sum = {}, 0
  for i = 1, n do
    local x = 1 + math.floor(k * (i / n) ^ 4)
    a[i] = x
    local v = memo[x]
    if not v then v = work(x); memo[x] = v end
    sum = sum + v
  end
  return a, sum
end

local function median(xs)
  local s = table.move(xs, 1, #xs, 1, {})
  table.sort(s)
  local m = #s // 2
  return #s % 2 == 1 and s[m + 1] or (s[m] + s[m + 1]) / 2
end

return lab {
  id = "pool-chunksize",
  title = "Chunk size and load balancing in a process pool",
  lecture = "l03-processes-and-ipc",
  submission = { file = "chunks.lua", lang = "lua" },
  exports = { run = "lua", pick_chunksize = "lua", bathtub = "lua" },
  hints = {
    "Time run(costs, c) yourself for c = 1, 4, 16, 64, ... up to #costs / engine.cores(), " ..
    "with engine.time() before and after each call. Take the median of a few runs per size: " ..
    "the machine is shared and single timings jump.",
    "Chunk size 1 is slow because every task is a message to a worker and a result back, and " ..
    "the caller handles those one at a time: the cost per task dwarfs a task of a microsecond. " ..
    "One chunk per worker is slow for the opposite reason: the costs grow along the list, so " ..
    "the worker that gets the last chunk does most of the work alone.",
    "Good chunk sizes leave many chunks per worker (tens, not one or two) and still put " ..
    "hundreds of tasks in each. Something like n // (256 * workers) sits in the flat bottom " ..
    "of the curve here; check that your own curve agrees.",
  },
  checks = {
    check "computes the right sums" { points = 2, timeout = 60, function(t)
      local costs, want = make_costs(3000, 400)
      for _, c in ipairs { 1, 7, 1000, 3000 } do
        t:eq(t.sub.run(costs, c), want, "run(costs, " .. c .. ") on 3,000 tasks")
      end
    end },

    check "beats chunk size 1 and one chunk per worker" { points = 5, timed = true, timeout = 180, function(t)
      local w = engine.cores()
      local pick = t.sub.pick_chunksize(N, w)
      t:ok(math.type(pick) == "integer" or (type(pick) == "number" and pick == math.floor(pick)),
        "pick_chunksize(" .. N .. ", " .. w .. ") must return a whole number, got " .. tostring(pick))
      t:ok(pick >= 1 and pick <= N, "pick_chunksize must return 1 .. n, got " .. tostring(pick))
      pick = math.tointeger(pick)
      local split = (N + w - 1) // w
      local costs, want = make_costs(N, K)
      local times = { one = {}, pick = {}, split = {} }
      local order = { { "one", 1 }, { "pick", pick }, { "split", split } }
      for rep = 0, REPS do          -- rep 0 warms up the pool
        for _, o in ipairs(order) do
          local t0 = engine.time()
          local got = t.sub.run(costs, o[2])
          local dt = engine.time() - t0
          t:eq(got, want, "run(costs, " .. o[2] .. ")")
          if rep > 0 then table.insert(times[o[1]], dt) end
        end
      end
      local one, mine, sp = median(times.one), median(times.pick), median(times.split)
      t:log("%d tasks on %d workers: chunk size 1: %.1f ms; your pick (%d): %.1f ms; " ..
        "one chunk per worker (%d): %.1f ms", N, w, one * 1e3, pick, mine * 1e3, split, sp * 1e3)
      t:at_least(one / mine, BEAT_ONE, string.format(
        "throughput with chunk size %d relative to chunk size 1 (needs %.2f)", pick, BEAT_ONE))
      t:at_least(sp / mine, BEAT_SPLIT, string.format(
        "throughput with chunk size %d relative to one chunk per worker (needs %.2f)", pick, BEAT_SPLIT))
    end },

    check "shows the bathtub curve" { points = 3, timeout = 240, function(t)
      local w = engine.cores()
      local n = 20000
      local costs = make_costs(n, K)
      local curve = t.sub.bathtub(costs)
      t:ok(type(curve) == "table" and #curve >= 5,
        "bathtub() must return at least 5 points { chunksize = c, seconds = t }, got " ..
        (type(curve) == "table" and #curve .. " points" or type(curve)))
      local lo, hi, best, best_c = math.huge, 0, math.huge, nil
      local first, last
      for i, p in ipairs(curve) do
        t:ok(type(p) == "table" and type(p.chunksize) == "number" and type(p.seconds) == "number"
          and p.seconds > 0, "point " .. i .. " must be { chunksize = c, seconds = t > 0 }")
        lo, hi = math.min(lo, p.chunksize), math.max(hi, p.chunksize)
        if p.seconds < best then best, best_c = p.seconds, p.chunksize end
        if p.chunksize == lo then first = p.seconds end
        if p.chunksize == hi then last = p.seconds end
      end
      local parts = {}
      for _, p in ipairs(curve) do parts[#parts + 1] = string.format("%d: %.1f ms", p.chunksize, p.seconds * 1e3) end
      t:log("your curve: %s", table.concat(parts, ", "))
      t:eq(lo, 1, "the smallest chunk size measured")
      t:at_least(hi, n / (2 * w), "the largest chunk size measured (up to n / workers)")
      t:ok(best_c ~= lo and best_c ~= hi, "the fastest chunk size should lie inside the range, " ..
        "not at either end (yours: " .. best_c .. ")")
      t:at_least(first / best, 1.2, "chunk size 1 against the bottom of the curve")
      t:at_least(last / best, 1.2, "the largest chunk size against the bottom of the curve")
    end },
  },
}
