-- chunks.lua — one map over tasks of uneven cost, with a process pool.
-- Fill in pick_chunksize() and bathtub(); leave work() and run() as they are.
local P = engine.procs

-- One task: x units of work. The checks compute the same sums, so do not
-- change it.
local function work(x)
  local s = 0
  for i = 1, x do s = s + (i * x) % 7 end
  return s
end

-- One pool for every call: starting processes is not what we measure.
local pool
local function get_pool()
  if not pool then pool = P.pool{ workers = engine.cores() } end
  return pool
end

-- run(costs, chunksize) -> the sum of work(x) for every x of the engine
-- array `costs`, computed by the pool in chunks of `chunksize` tasks.
local function run(costs, chunksize)
  local r = get_pool():map(work, costs, { chunksize = chunksize })
  local s = 0
  for i = 1, #r do s = s + r[i] end
  return s
end

-- pick_chunksize(n, workers) -> the chunk size to use for n tasks of this
-- kind on `workers` processes.
local function pick_chunksize(n, workers)
  -- One chunk per worker, as a static split would do.
  return math.ceil(n / workers)
end

-- bathtub(costs) -> a list of { chunksize = c, seconds = t }: how long
-- run(costs, c) takes, for chunk sizes from 1 up to #costs / workers.
local function bathtub(costs)
  return {}
end

return { run = run, pick_chunksize = pick_chunksize, bathtub = bathtub }
