-- interpreter-lock: a CPU-bound Lua job (a Monte Carlo estimate of pi,
-- split into independent streams) that the starter runs as coroutines
-- taking turns in ONE interpreter, the Lua picture of threads behind
-- Python's GIL. The student runs the streams in per-worker interpreters
-- with engine.threads, which means writing a function that can travel to
-- a worker: no upvalues, everything else as arguments.
--
-- The expected counts come from the grader's own copy of the generator.
-- The speedup is measured against a trusted serial baseline (baseline.lua,
-- the starter's arithmetic without the coroutines and with its constants
-- written in, as the reference must) in its own jail.

local FACTOR = 0.65          -- speedup needed per core
local POINTS = 1 << 17       -- points per stream in a timed run (8 streams per core)

-- The trusted generator and stream seeds (as in the starter).
local function stream_seed(seed, k)
  return (seed * 7919 + k * 104729) & 0x7fffffff
end

local function expected_hits(streams, points, seed)
  local total = 0
  for k = 1, streams do
    local x = stream_seed(seed, k)
    for _ = 1, points do
      x = (1103515245 * x + 12345) & 0x7fffffff
      local u = x / 2147483648.0
      x = (1103515245 * x + 12345) & 0x7fffffff
      local v = x / 2147483648.0
      if u * u + v * v < 1.0 then total = total + 1 end
    end
  end
  return total
end

local function whole(v) return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v)) end

return lab {
  id = "interpreter-lock",
  title = "One interpreter or many",
  lecture = "l02-interpreters-and-locks",
  submission = { file = "pi.lua", lang = "lua" },
  exports = { run = "lua" },
  baseline = "baseline.lua",
  hints = {
    "The coroutines in run() never run at the same time: a Lua interpreter runs one of them, " ..
    "then the next, on one core. engine.threads.map(fn, items, opts, ...) calls fn(item, ...) " ..
    "for every item in the interpreters of the pool's workers, one per core, and returns the " ..
    "results in item order. Map over the stream numbers 1..streams and add up the hits.",
    "If map refuses your function with \"a function with upvalues (A, C, MASK) cannot be sent " ..
    "to a worker\", that is the rule of lecture 2's pickling: a function reaches a worker as " ..
    "bytecode, without the local variables of the file around it. Write the constants into " ..
    "the function, and pass points and seed as extra arguments of map (they arrive after the item).",
    "Calling draw() or stream_seed() from the function you send makes them upvalues too. Put " ..
    "the whole stream in one function: its first state, then the loop over its points. The " ..
    "coroutines and the round robin are no longer needed: a worker runs its stream to the end.",
  },
  checks = {
    check "counts the same points" { points = 4, timeout = 60, function(t)
      local cases = {
        { 1, 1000, 1 }, { 3, 5000, 42 }, { 7, 3001, 7 }, { 16, 20000, 2024 },
        { 5, 0, 3 }, { 2, 1, 0 }, { 33, 777, 99991 },
      }
      for _, c in ipairs(cases) do
        local streams, points, seed = c[1], c[2], c[3]
        local got = t.sub.run(streams, points, seed)
        local what = string.format("run(%d, %d, %d)", streams, points, seed)
        t:ok(whole(got), what .. " must return a whole number of points, got " .. tostring(got))
        t:eq(got, expected_hits(streams, points, seed), what)
      end
      local n = 16 * 20000
      t:log("pi from run(16, 20000, 2024): %.4f", 4 * expected_hits(16, 20000, 2024) / n)
    end },

    check "scales with per-worker interpreters" { points = 6, timed = true, timeout = 180, function(t)
      local cores = engine.cores()
      -- The same work per core on any machine (Gustafson's view), and
      -- enough streams per worker that an uneven split costs little.
      local streams, points = 8 * cores, POINTS
      -- The seed changes every repetition, so no answer can be remembered;
      -- the trusted baseline's count for the same seed is the expected one.
      local got = { sub = {}, baseline = {} }
      -- One thread count only: the jail's pool is sized once, at its
      -- first use, so a 1-thread run would pin it to one worker.
      local r = t:scaling(function(impl, rep)
        local which = impl == t.baseline and "baseline" or "sub"
        got[which][rep] = impl.run(streams, points, 1000 + rep)
      end, { reps = 5, threads = { cores } })
      for rep, want in pairs(got.baseline) do
        t:eq(got.sub[rep], want, string.format("run(%d, %d, %d)", streams, points, 1000 + rep))
      end
      local need = FACTOR * cores
      t:at_least(r.speedup, need, string.format("speedup over the serial baseline on %d cores " ..
        "(needs %.2f x %d = %.2f)", cores, FACTOR, cores, need))
    end },
  },
}
