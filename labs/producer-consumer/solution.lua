-- pipeline.lua — reference solution: a bounded queue (the producer waits
-- when the consumers fall behind) and one end-of-stream sentinel per
-- consumer (each consumer stops at the first one it takes).
local P = engine.procs

-- The work on one item (do not change it: the checks compute the same):
-- the number of steps the Collatz sequence takes from x down to 1.
local function transform(x)
  local steps = 0
  while x ~= 1 do
    if x % 2 == 0 then x = x // 2 else x = 3 * x + 1 end
    steps = steps + 1
  end
  return steps
end

-- Runs in each consumer process: take { index, value } messages from q
-- until the end-of-stream sentinel (nil), then report what it did on out.
-- `transform` arrives as an argument: a function sent to another process
-- cannot use the local variables (upvalues) of this file.
local function consumer(q, out, id, transform)
  local n, sum, wsum = 0, 0, 0
  while true do
    local msg = q:get()
    if msg == nil then break end
    local y = transform(msg[2])
    n, sum, wsum = n + 1, sum + y, wsum + msg[1] * y
  end
  out:put({ id = id, n = n, sum = sum, wsum = wsum })
end

-- run(items, consumers, capacity) -> a summary of the work done:
--   n, sum, wsum    items processed, the sum of transform(x) and of
--                   index * transform(x) over them
--   per_consumer    items processed by each consumer
--   max_depth       the most messages ever waiting in the queue
--   exitcodes       each consumer's exit status (0: it returned normally)
--   live            child processes still running at the end
local function run(items, consumers, capacity)
  local n = #items
  local q = P.queue(capacity)        -- bounded: put() waits while it is full
  local out = P.queue(consumers)
  local procs = {}
  for c = 1, consumers do
    procs[c] = P.process(consumer, q, out, c, transform)
    procs[c]:start()
  end
  for i = 1, n do q:put({ i, items[i] }) end
  for _ = 1, consumers do q:put(nil) end  -- one sentinel for each consumer
  local total = { n = 0, sum = 0, wsum = 0, per_consumer = {} }
  for _ = 1, consumers do
    local r = out:get()
    total.n, total.sum, total.wsum = total.n + r.n, total.sum + r.sum, total.wsum + r.wsum
    total.per_consumer[r.id] = r.n
  end
  total.exitcodes = {}
  for c = 1, consumers do total.exitcodes[c] = procs[c]:join() end
  total.max_depth = q:stats().max_depth
  total.live = P.active_children()
  return total
end

return { run = run }
