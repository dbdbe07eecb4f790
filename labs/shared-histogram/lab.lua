-- shared-histogram: worker processes count values into bins. The starter
-- shares one histogram in shared memory and increments it without a lock,
-- so concurrent read-add-write sequences lose updates. The student fixes
-- locked() with a lock, then writes partials(): private histograms merged
-- at the end, which must beat a correctly locked shared histogram.
--
-- The expected counts are computed here. The locked version to beat is
-- the grader's own (trusted, the same lock per increment, the same number
-- of workers), timed interleaved with the submission's partials().

local RACE_S = 2.0                 -- seconds of correctness rounds: a race can hide a while
local N_CHECK = 100000
local N_TIMED = 400000
local FACTOR = 1.0                 -- partials' speedup over the lock, per core
local REPS = 5

local function workers() return math.max(2, engine.cores()) end

local function counts(data, nbins)
  local h = {}
  for k = 1, nbins do h[k] = 0 end
  for i = 1, #data do
    local k = math.floor(data[i] * nbins) + 1
    h[k] = h[k] + 1
  end
  return h
end

local function check_hist(t, got, want, what)
  t:ok(type(got) == "table", what .. ": must return a table of counts")
  local lost = 0
  for k = 1, #want do lost = lost + want[k] - (got[k] or 0) end
  for k = 1, #want do
    if got[k] ~= want[k] then
      t:eq(got[k], want[k], string.format("%s, bin %d%s", what, k,
        lost > 0 and string.format(" (%d increments lost in all: a race on the shared bins?)", lost) or ""))
    end
  end
end

-- The trusted locked histogram, run here.
local function count_locked(r, data, hist, nbins, lock)
  for i = r[1], r[2] do
    local k = math.floor(data[i] * nbins) + 1
    lock:acquire()
    hist[k] = hist[k] + 1
    lock:release()
  end
end

local function ranges(n, parts)
  local out, size = {}, (n + parts - 1) // parts
  for b = 1, n, size do out[#out + 1] = { b, math.min(n, b + size - 1) } end
  return out
end

-- Like the starter's locked(), a pool per call (the submission pays for
-- starting its workers too).
local function trusted_locked(data, nbins, w)
  local hist = engine.array.zeros("i64", nbins)
  local pool = engine.procs.pool{ workers = w }
  pool:map(count_locked, ranges(#data, 8 * w), { chunksize = 1 }, data, hist, nbins,
    engine.procs.lock())
  pool:close()
  local out = {}
  for k = 1, nbins do out[k] = hist[k] end
  return out
end

local function correctness(t, fname)
  local w = workers()
  local t0, round = engine.time(), 0
  repeat
    round = round + 1
    for _, nbins in ipairs { 4, 16 } do
      local data = engine.array.random("f64", N_CHECK, { seed = 100 * round + nbins })
      check_hist(t, t.sub[fname](data, nbins, w), counts(data, nbins),
        string.format("%s(%d values, %d bins, %d workers), round %d", fname, N_CHECK, nbins, w, round))
    end
  until round >= 2 and engine.time() - t0 >= RACE_S
  -- small cases: fewer values than workers, one bin
  local tiny = engine.array.from("f64", { 0.5 })
  check_hist(t, t.sub[fname](tiny, 3, w), { 0, 1, 0 }, fname .. "(1 value, 3 bins)")
  local same = engine.array.random("f64", 1000, { seed = 5 })
  check_hist(t, t.sub[fname](same, 1, w), { 1000 }, fname .. "(1000 values, 1 bin)")
  t:log("%d rounds, every count right", round)
end

local function median(xs)
  table.sort(xs)
  local m = #xs // 2
  return #xs % 2 == 1 and xs[m + 1] or (xs[m] + xs[m + 1]) / 2
end

return lab {
  id = "shared-histogram",
  title = "A histogram in shared memory",
  lecture = "l03-processes-and-ipc",
  submission = { file = "hist.lua", lang = "lua" },
  exports = { locked = "lua", partials = "lua" },
  hints = {
    "hist[k] = hist[k] + 1 on an array that several processes share is a read, an add and a " ..
    "write. Two workers can read the same old count and both write old + 1: one increment " ..
    "is lost. Make the three steps one with engine.procs.lock(): create it in locked(), pass " ..
    "it to the workers as an extra argument of map, and acquire/release it around the update.",
    "The lock makes locked() correct and slow: every increment now waits for the other " ..
    "workers. The workers do not need to agree while they count, only at the end. Let each " ..
    "task count into a plain Lua table of its own and return it.",
    "pool:map returns the tasks' results in order: one partial histogram per range. Add them " ..
    "bin by bin in the caller. Use a few ranges per worker (4 * workers is plenty): the merge " ..
    "costs nbins additions per range.",
  },
  checks = {
    check "locked() counts every value" { points = 3, timeout = 90, function(t)
      correctness(t, "locked")
    end },

    check "partials() counts every value" { points = 3, timeout = 90, function(t)
      correctness(t, "partials")
    end },

    check "partials() beats the lock" { points = 4, timed = true, timeout = 180, function(t)
      local w = workers()
      local nbins = 16
      local mine, theirs = {}, {}
      for rep = 0, REPS do
        local data = engine.array.random("f64", N_TIMED - rep, { seed = 7 + rep })
        local want = counts(data, nbins)
        local t0 = engine.time()
        local ref = trusted_locked(data, nbins, w)
        local t1 = engine.time()
        local got = t.sub.partials(data, nbins, w)
        local t2 = engine.time()
        check_hist(t, ref, want, "the grader's locked histogram")
        check_hist(t, got, want, string.format("partials(%d values)", N_TIMED - rep))
        if rep > 0 then
          theirs[#theirs + 1] = t1 - t0
          mine[#mine + 1] = t2 - t1
        end
      end
      local lk, pt = median(theirs), median(mine)
      local need = FACTOR * engine.cores()
      t:log("%d values, %d workers: locked (the grader's) %.1f ms, your partials() %.1f ms: %.1fx",
        N_TIMED, w, lk * 1e3, pt * 1e3, lk / pt)
      t:at_least(lk / pt, need, string.format("speedup of partials() over the locked histogram " ..
        "(needs %.0f x %d cores = %.1f)", FACTOR, engine.cores(), need))
    end },
  },
}
