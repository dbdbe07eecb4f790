-- robust.lua — reference solution. Retries absorb the flaky inputs: a task
-- that crashed on its first attempt succeeds on the next. The poison
-- inputs crash every attempt, so a chunk that keeps crashing is split in
-- two and both halves are run again, down to single inputs: a single input
-- whose task still crashes is the culprit.
local P = engine.procs

local function work(x, seed)
  local h = (x * 2654435761 + seed) % 1000003
  if h % 61 == 0 then engine.procs.crash_for_testing("segv") end
  if h % 7 == 0 and engine.procs.attempt() == 1 then engine.procs.crash_for_testing("kill") end
  local s = 0
  for i = 1, 300 do s = s + (x * i + h) % 11 end
  return s
end

local CHUNK = 32

local pool
local function get_pool()
  -- Two retries: a flaky input crashes only the first attempt.
  if not pool then pool = P.pool{ workers = engine.cores(), retries = 2 } end
  return pool
end

-- Runs in a worker: work() over a list of inputs. `work` travels as an
-- argument (a function sent to a worker may not use upvalues).
local function run_chunk(xs, seed, work)
  local out = {}
  for i = 1, #xs do out[i] = work(xs[i], seed) end
  return out
end

local function run(items, seed)
  local p = get_pool()
  local results, bad, pending = {}, {}, {}
  local function submit(b, e)
    local xs = {}
    for i = b, e do xs[#xs + 1] = items[i] end
    pending[#pending + 1] = { b = b, e = e, f = p:submit(run_chunk, xs, seed, work) }
  end
  for b = 1, #items, CHUNK do submit(b, math.min(#items, b + CHUNK - 1)) end
  while #pending > 0 do
    local futures = {}
    for k, t in ipairs(pending) do futures[k] = t.f end
    local k = P.wait_any(futures)
    local t = table.remove(pending, k)
    if t.f:crashed() then
      if t.b == t.e then
        bad[#bad + 1] = t.b                 -- isolated: this input kills its worker
      else
        local mid = (t.b + t.e) // 2        -- somewhere in here: split and retry
        submit(t.b, mid)
        submit(mid + 1, t.e)
      end
    else
      local r = t.f:wait()                  -- raises if work() raised an ordinary error
      for i = t.b, t.e do results[i] = r[i - t.b + 1] end
    end
  end
  table.sort(bad)
  local sum, count = 0, 0
  for _, v in pairs(results) do sum, count = sum + v, count + 1 end
  return { sum = sum, count = count, bad = bad }
end

return { run = run }
