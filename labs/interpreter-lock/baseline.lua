-- baseline.lua — the trusted serial version the speedup is measured
-- against: the starter's arithmetic, one stream after another in one
-- interpreter, without the coroutines (so it is a little faster than the
-- starter, never slower).
local A, C, MASK = 1103515245, 12345, 0x7fffffff

local function stream_seed(seed, k)
  return (seed * 7919 + k * 104729) & MASK
end

local function draw(x, n)
  local hits = 0
  for _ = 1, n do
    x = (A * x + C) & MASK
    local u = x / 2147483648.0
    x = (A * x + C) & MASK
    local v = x / 2147483648.0
    if u * u + v * v < 1.0 then hits = hits + 1 end
  end
  return hits, x
end

local function run(streams, points, seed)
  local total = 0
  for k = 1, streams do total = total + (draw(stream_seed(seed, k), points)) end
  return total
end

return { run = run }
