-- fault-tolerance: a task that kills the process running it on some inputs
-- ("poison": every time; "flaky": only on a task's first attempt). The
-- starter maps it with retries = 0, so the first crash takes the whole map
-- down. The student's driver must return every result that can be
-- computed, and exactly the inputs that cannot: retries for the flaky
-- ones, isolation (splitting chunks that keep crashing) for the poison.
--
-- The grader knows which inputs are which and computes the expected sum
-- itself, from the same arithmetic as the task.

local function hash(x, seed) return (x * 2654435761 + seed) % 1000003 end
local function poison(x, seed) return hash(x, seed) % 61 == 0 end
local function flaky(x, seed) return hash(x, seed) % 7 == 0 end

local function value(x, seed)
  local h = hash(x, seed)
  local s = 0
  for i = 1, 300 do s = s + (x * i + h) % 11 end
  return s
end

-- n inputs; with_poison = false leaves the poison ones out.
local function make(n, seed, with_poison)
  local vals, k = {}, 0
  local src = engine.array.random("i64", 4 * n, { seed = seed, lo = 1, hi = 1000000 })
  for i = 1, #src do
    local x = src[i]
    if with_poison or not poison(x, seed) then
      k = k + 1
      vals[k] = x
      if k == n then break end
    end
  end
  local items = engine.array.from("i64", vals)
  local sum, count, bad, nflaky = 0, 0, {}, 0
  for i = 1, n do
    local x = vals[i]
    if poison(x, seed) then
      bad[#bad + 1] = i
    else
      sum, count = sum + value(x, seed), count + 1
      if flaky(x, seed) then nflaky = nflaky + 1 end
    end
  end
  return items, { sum = sum, count = count, bad = bad, flaky = nflaky }
end

local function verify(t, items, seed, want, what)
  local ok, r = pcall(t.sub.run, items, seed)
  if not ok then
    local msg = type(r) == "table" and (r.crash or tostring(r)) or tostring(r)
    t:ok(false, what .. ": run() failed instead of delivering the results: " .. msg)
  end
  t:ok(type(r) == "table", what .. ": run() must return { sum =, count =, bad = }")
  t:eq(r.count, want.count, what .. ": inputs computed")
  t:eq(r.sum, want.sum, what .. ": sum of their results")
  t:ok(type(r.bad) == "table", what .. ": bad must be a list of indices")
  t:eq(#r.bad, #want.bad, what .. ": inputs that cannot be computed")
  for i = 1, #want.bad do
    t:eq(r.bad[i], want.bad[i], what .. ": bad[" .. i .. "] (indices in ascending order)")
  end
  t:log("%s: %d inputs, %d flaky, %d poison: all accounted for", what, #items, want.flaky, #want.bad)
end

return lab {
  id = "fault-tolerance",
  title = "Fault tolerance: workers that crash",
  lecture = "l03-processes-and-ipc",
  submission = { file = "robust.lua", lang = "lua" },
  exports = { run = "lua" },
  hints = {
    "A flaky input crashes only the first attempt of its task. engine.procs.pool{ retries = 2 } " ..
    "runs a task again (up to twice more) when its worker dies: that alone fixes them.",
    "A poison input crashes every attempt: after the retries the task fails, and with map() " ..
    "the whole call fails. Use pool:submit for each chunk instead, and look at each future: " ..
    "f:crashed() is true when its workers kept dying, and f:wait() gives the results otherwise.",
    "When a chunk crashed, some input in it is poison, but you do not know which. Split the " ..
    "chunk in two and submit both halves; repeat with every half that crashes. A chunk of one " ..
    "input that crashes is the poison: record its index. Functions sent to workers cannot use " ..
    "upvalues, so pass work as an argument: pool:submit(run_chunk, xs, seed, work).",
  },
  checks = {
    check "flaky inputs are retried" { points = 4, timeout = 90, function(t)
      local seed = 17
      local items, want = make(400, seed, false)
      verify(t, items, seed, want, "400 inputs without poison")
    end },

    check "poison inputs are isolated" { points = 4, timeout = 120, function(t)
      local seed = 29
      local items, want = make(600, seed, true)
      t:ok(#want.bad > 0, "the lab's inputs should contain poison")
      verify(t, items, seed, want, "600 inputs")
    end },

    check "a larger batch" { points = 2, hidden = true, timeout = 180, function(t)
      local seed = 4242
      local items, want = make(1500, seed, true)
      verify(t, items, seed, want, "1500 inputs")
    end },
  },
}
