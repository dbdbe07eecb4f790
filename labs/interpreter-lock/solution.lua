-- pi.lua — reference solution. Each stream runs in a worker's own Lua
-- interpreter through engine.threads.map: no interpreter is shared, so
-- nothing has to take turns, and every core draws points at once.
--
-- A function sent to a worker travels as bytecode, without the local
-- variables of the file around it (its upvalues): the generator's
-- constants are written into it, and everything else it needs arrives as
-- an argument. The streams are independent and the totals are integers,
-- so the answer is the same on any number of workers.

-- Points inside the quarter circle for stream k (see the starter for the
-- generator and the stream's first state).
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

-- run(streams, points, seed) -> points inside the circle, all streams together
local function run(streams, points, seed)
  local ks = {}
  for k = 1, streams do ks[k] = k end
  -- Streams cost the same, but there may be fewer of them than workers or
  -- not a multiple: "dynamic" hands them out one at a time as workers free up.
  local hits = engine.threads.map(stream_hits, ks, { schedule = "dynamic" }, points, seed)
  local total = 0
  for _, h in ipairs(hits) do total = total + h end
  return total
end

return { run = run }
