-- baseline.lua — the trusted serial version the speedup is measured
-- against: the starter's arithmetic, one stream after another in one
-- interpreter, without the coroutines, and with the generator's constants
-- written into the loop. Constants are operands of the arithmetic
-- instructions themselves, where upvalues cost an instruction each to
-- fetch: about 1.5x faster in Lua 5.4. So writing them in, which sending
-- the function to a worker requires anyway, earns no speedup on its own.
local function stream_hits(k, points, seed)
  local x = (seed * 7919 + k * 104729) & 0x7fffffff
  local hits = 0
  for _ = 1, points do
    x = (1103515245 * x + 12345) & 0x7fffffff
    local u = x / 2147483648.0
    x = (1103515245 * x + 12345) & 0x7fffffff
    local v = x / 2147483648.0
    if u * u + v * v < 1.0 then hits = hits + 1 end
  end
  return hits
end

local function run(streams, points, seed)
  local total = 0
  for k = 1, streams do total = total + stream_hits(k, points, seed) end
  return total
end

return { run = run }
