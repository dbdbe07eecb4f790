-- robust.lua — run a task that crashes on some inputs, and still deliver
-- every result that can be computed, plus the list of the inputs that
-- cannot.
local P = engine.procs

-- The task (do not change it: the checks compute the same). It stands for
-- a native library that crashes on some inputs: "poison" inputs kill the
-- process running them every time, "flaky" ones only the first time a task
-- is tried (engine.procs.attempt() is 1 on a task's first run, 2 after its
-- first worker died, ...).
local function work(x, seed)
  local h = (x * 2654435761 + seed) % 1000003
  if h % 61 == 0 then engine.procs.crash_for_testing("segv") end
  if h % 7 == 0 and engine.procs.attempt() == 1 then engine.procs.crash_for_testing("kill") end
  local s = 0
  for i = 1, 300 do s = s + (x * i + h) % 11 end
  return s
end

local pool
local function get_pool()
  -- retries = 0: a task whose worker dies fails at once
  if not pool then pool = P.pool{ workers = engine.cores(), retries = 0 } end
  return pool
end

-- run(items, seed) -> { sum = sum of work(x, seed) over the inputs that can
-- be computed, count = how many those are, bad = the indices (1-based,
-- ascending) of the inputs that cannot }
local function run(items, seed)
  local r = get_pool():map(work, items, { chunksize = 16 }, seed)
  local sum = 0
  for i = 1, #r do sum = sum + r[i] end
  return { sum = sum, count = #r, bad = {} }
end

return { run = run }
