-- chunks.lua — reference solution: chunks large enough to hide the cost
-- of sending a task, small enough to keep every worker busy to the end.
local P = engine.procs

local function work(x)
  local s = 0
  for i = 1, x do s = s + (i * x) % 7 end
  return s
end

local pool
local function get_pool()
  if not pool then pool = P.pool{ workers = engine.cores() } end
  return pool
end

local function run(costs, chunksize)
  local r = get_pool():map(work, costs, { chunksize = chunksize })
  local s = 0
  for i = 1, #r do s = s + r[i] end
  return s
end

-- About 256 chunks per worker: each chunk still carries hundreds of
-- tasks, so the cost of a message per task all but disappears, and the
-- last chunks are small, so no worker is left alone with a large piece
-- at the end.
local function pick_chunksize(n, workers)
  return math.max(1, n // (256 * workers))
end

-- The median of three runs for each chunk size, from 1 to n / workers in
-- steps of 4.
local function bathtub(costs)
  local n, w = #costs, engine.cores()
  local curve = {}
  local c = 1
  while true do
    local times = {}
    for rep = 1, 3 do
      local t0 = engine.time()
      run(costs, c)
      times[rep] = engine.time() - t0
    end
    table.sort(times)
    curve[#curve + 1] = { chunksize = c, seconds = times[2] }
    if c >= math.ceil(n / w) then break end
    c = math.min(c * 4, math.ceil(n / w))
  end
  return curve
end

return { run = run, pick_chunksize = pick_chunksize, bathtub = bathtub }
