-- A wrong submission for interpreter-lock: it sends the starter's draw()
-- to the workers as it is. draw() reads the file's locals A, C and MASK
-- (upvalues), which cannot travel to another interpreter: map refuses it.
local A, C, MASK = 1103515245, 12345, 0x7fffffff

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
  local starts = {}
  for k = 1, streams do starts[k] = (seed * 7919 + k * 104729) & MASK end
  local hits = engine.threads.map(draw, starts, nil, points)
  local total = 0
  for _, h in ipairs(hits) do total = total + h end
  return total
end

return { run = run }
