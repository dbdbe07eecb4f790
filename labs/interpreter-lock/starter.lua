-- pi.lua — estimate pi by Monte Carlo: throw random points at the unit
-- square and count those that land inside the quarter circle.
--
-- The job is split into independent streams. Stream k draws `points`
-- points from a random generator of its own, whose first state is
-- stream_seed(seed, k). run(streams, points, seed) returns the number of
-- points inside the circle over all streams; pi is about
-- 4 * hits / (streams * points).
--
-- As given, run() makes one coroutine per stream and lets them take turns
-- every SLICE points: concurrent tasks sharing ONE interpreter, the way
-- Python threads share one interpreter and take turns holding its lock.
-- The answer is right, and one core does all the work. Your task: run the
-- streams in interpreters of their own, on every core, with the same
-- answer.

-- The generator: a linear congruential generator on 31 bits (the
-- constants of the C standard's sample rand()). The answer depends on
-- every one of these numbers: keep them.
local A, C, MASK = 1103515245, 12345, 0x7fffffff
local SLICE = 10000   -- points a stream draws before it hands over its turn

-- The first state of stream k.
local function stream_seed(seed, k)
  return (seed * 7919 + k * 104729) & MASK
end

-- Draws n points starting from generator state x. Returns how many landed
-- inside the quarter circle, and the generator's next state.
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

-- run(streams, points, seed) -> points inside the circle, all streams together
local function run(streams, points, seed)
  local tasks = {}
  for k = 1, streams do
    tasks[k] = coroutine.wrap(function()
      local x, left, hits = stream_seed(seed, k), points, 0
      while left > 0 do
        local n = math.min(SLICE, left)
        local got
        got, x = draw(x, n)
        hits, left = hits + got, left - n
        coroutine.yield(nil)         -- hand the interpreter to the next stream
      end
      return hits
    end)
  end
  -- Round robin over the streams that are not finished: the interpreter
  -- goes from task to task, one at a time, like Python's GIL.
  local total, running = 0, tasks
  while #running > 0 do
    local still = {}
    for _, task in ipairs(running) do
      local hits = task()
      if hits then total = total + hits else still[#still + 1] = task end
    end
    running = still
  end
  return total
end

return { run = run }
