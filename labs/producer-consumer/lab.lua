-- producer-consumer: one producer (the submission's main process), several
-- consumer processes, a bounded queue between them and an end-of-stream
-- sentinel. The starter gives the queue room for every item (memory grows
-- with the input) and sends one sentinel for several consumers (all but
-- one wait forever).
--
-- The grader computes what the consumers should report (counts and two
-- sums, one weighted by the item's index, so a duplicate or a lost item
-- cannot go unnoticed) and checks the engine's own record of the queue:
-- its deepest point, the consumers' exit statuses, the children left.

local function transform(x)
  local steps = 0
  while x ~= 1 do
    if x % 2 == 0 then x = x // 2 else x = 3 * x + 1 end
    steps = steps + 1
  end
  return steps
end

local function make_items(n, seed)
  local a = engine.array.random("i64", n, { seed = seed, lo = 1, hi = 200000 })
  local sum, wsum = 0, 0
  for i = 1, n do
    local y = transform(a[i])
    sum, wsum = sum + y, wsum + i * y
  end
  return a, sum, wsum
end

-- run() under a time limit: a consumer that never sees a sentinel makes it
-- hang, and the message should say so rather than just "time limit".
local CALL_LIMIT = 5
local function call_run(t, items, consumers, capacity)
  t:limit(CALL_LIMIT)
  local ok, r = pcall(t.sub.run, items, consumers, capacity)
  if ok then return r end
  if type(r) == "table" and r.crash and r.crash:find("time limit") then
    t:ok(false, string.format("run(%d items, %d consumers) did not return within %d s: a " ..
      "consumer is still waiting for the end of the stream, or join() waits for one that is",
      #items, consumers, CALL_LIMIT))
  end
  error(r, 0)
end

local function check_summary(t, r, n, sum, wsum, consumers, what)
  t:ok(type(r) == "table", what .. ": run() must return a table")
  t:eq(r.n, n, what .. ": items processed")
  t:eq(r.sum, sum, what .. ": sum of transform(x) (an item lost or processed twice?)")
  t:eq(r.wsum, wsum, what .. ": sum of index * transform(x) (an item lost or processed twice?)")
  t:ok(type(r.per_consumer) == "table", what .. ": per_consumer must be a table")
  local total = 0
  for c = 1, consumers do total = total + (r.per_consumer[c] or 0) end
  t:eq(total, n, what .. ": items over all consumers")
end

return lab {
  id = "producer-consumer",
  title = "Producer and consumers over a bounded queue",
  lecture = "l03-processes-and-ipc",
  submission = { file = "pipeline.lua", lang = "lua" },
  exports = { run = "lua" },
  hints = {
    "A consumer stops when it takes the sentinel (nil) from the queue, and a sentinel taken by " ..
    "one consumer is gone for the others. How many sentinels does the producer have to put " ..
    "for every consumer to see one?",
    "engine.procs.queue(n) makes a queue with room for n messages: put() only waits once n " ..
    "messages are waiting. Room for every item means the producer can race ahead and the " ..
    "queue holds the whole input. Use the capacity you are given, and put() will wait for " ..
    "the consumers.",
    "Join the consumers only after their reports are read from `out`, and after the " ..
    "sentinels are queued: a consumer that waits for a sentinel never ends, and join() " ..
    "would wait for it forever.",
  },
  checks = {
    check "every item exactly once" { points = 4, timeout = 30, function(t)
      for _, case in ipairs { { 2000, 1, 8, 13 }, { 5000, 3, 64, 11 }, { 1, 2, 4, 12 } } do
        local n, consumers, capacity, seed = case[1], case[2], case[3], case[4]
        local items, sum, wsum = make_items(n, seed)
        local r = call_run(t, items, consumers, capacity)
        check_summary(t, r, n, sum, wsum, consumers,
          string.format("%d items, %d consumers", n, consumers))
      end
    end },

    check "memory stays bounded" { points = 3, timeout = 30, function(t)
      -- One consumer, so that the sentinel count does not matter here.
      local n, consumers, capacity = 20000, 1, 8
      local items, sum, wsum = make_items(n, 21)
      local r = call_run(t, items, consumers, capacity)
      check_summary(t, r, n, sum, wsum, consumers, n .. " items")
      t:ok(type(r.max_depth) == "number", "max_depth must be the queue's q:stats().max_depth")
      t:log("deepest queue: %d messages (capacity %d) for %d items", r.max_depth, capacity, n)
      -- Each sentinel may take a place too.
      t:at_most(r.max_depth, capacity, "the most messages ever waiting in the queue")
    end },

    check "all processes exit" { points = 3, timeout = 30, function(t)
      local n, consumers = 3000, 4
      local items, sum, wsum = make_items(n, 31)
      local r = call_run(t, items, consumers, 16)
      check_summary(t, r, n, sum, wsum, consumers, n .. " items, 4 consumers")
      t:ok(type(r.exitcodes) == "table", "exitcodes must list each consumer's exit status")
      for c = 1, consumers do
        t:eq(r.exitcodes[c], 0, "exit status of consumer " .. c)
      end
      t:eq(r.live, 0, "child processes still running when run() returns")
    end },
  },
}
