-- dining-philosophers: remove a deadlock. The table (philo_support.c)
-- records in an i64 array who holds which fork and who waits for which;
-- when a dinner runs past its time limit, the check reads that record and
-- names the circular wait instead of just saying "time limit".

local HDR = 8        -- header slots before the per-fork/per-philosopher ones
local LIMIT = 5      -- seconds a dinner may take (the reference needs < 1)

-- The record philo_support.c keeps, read back (Lua indices are 1-based).
local function record(tab, n)
  local r = { n = tab[1], max_eating = tab[2], broken = tab[3],
              kind = tab[4], who = tab[5], fork = tab[6],
              owner = {}, waits = {}, meals = {} }
  for i = 0, n - 1 do
    r.owner[i] = tab[HDR + i + 1]
    r.waits[i] = tab[HDR + n + i + 1]
    r.meals[i] = tab[HDR + 2 * n + i + 1]
  end
  return r
end

local function holds(r, n, p)
  local held = {}
  for f = 0, n - 1 do
    if r.owner[f] == p then held[#held + 1] = tostring(f) end
  end
  if #held == 0 then return "holds no fork" end
  if #held == 1 then return "holds fork " .. held[1] end
  return "holds forks " .. table.concat(held, " and ")
end

-- A cycle in the wait-for graph: philosopher p waits for fork f, which
-- philosopher owner[f] holds, who waits for ... and so back to p.
local function find_cycle(r, n)
  for start = 0, n - 1 do
    local pos, path, p = {}, {}, start
    while p and p >= 0 and r.waits[p] and r.waits[p] >= 0 and not pos[p] do
      pos[p] = #path + 1
      path[#path + 1] = p
      p = r.owner[r.waits[p]]
    end
    if p and p >= 0 and pos[p] then
      local cycle = {}
      for k = pos[p], #path do cycle[#cycle + 1] = path[k] end
      return cycle
    end
  end
  return nil
end

local function explain_hang(r, n, meals)
  local cycle = find_cycle(r, n)
  local lines = {}
  if cycle then
    for _, p in ipairs(cycle) do
      lines[#lines + 1] = string.format("philosopher %d %s and waits for fork %d",
        p, holds(r, n, p), r.waits[p])
    end
    return string.format("%d philosophers, %d meals each: the dinner was stopped after %d s. ",
      n, meals, LIMIT) .. table.concat(lines, "; ") .. ": a circular wait — a deadlock"
  end
  for p = 0, n - 1 do
    local w = r.waits[p] >= 0 and string.format(", waits for fork %d", r.waits[p])
              or ", not waiting for a fork"
    lines[#lines + 1] = string.format("philosopher %d ate %d, %s%s", p, r.meals[p], holds(r, n, p), w)
  end
  return string.format("%d philosophers, %d meals each: the dinner did not finish within %d s, " ..
    "and no circular wait was found (too slow, or someone never stops?): ", n, meals, LIMIT) ..
    table.concat(lines, "; ")
end

local BROKEN = {
  [1] = "philosopher %d ate without holding fork %d",
  [2] = "philosopher %d put down fork %d without holding it",
  [3] = "philosopher %d used fork %d, which does not exist (forks are 0 to n-1)",
  [4] = "a thread that is not a philosopher (%d) used fork %d: call the lab's functions " ..
        "from philosopher() only",
}

-- Seat n philosophers for `meals` meals each; fail with an explanation if
-- the dinner hangs, breaks a rule, or leaves someone hungry. Returns the
-- record of the dinner.
local function dinner(t, n, meals)
  local tab = engine.array.zeros("i64", HDR + 3 * n)
  t:limit(LIMIT)
  local ok, res = pcall(t.sub.philo_dinner, tab, n, meals)
  local r = record(tab, n)
  if not ok then
    if type(res) == "table" and type(res.crash) == "string" and res.crash:find("time limit") then
      t:ok(false, explain_hang(r, n, meals))
    end
    error(res, 0) -- a crash or an error in the check: reported as such
  end
  t:eq(r.n, n, string.format("%d philosophers: the table was never set (is philosopher() defined?)", n))
  if r.broken > 0 then
    local f = BROKEN[r.kind] or "philosopher %d broke a rule with fork %d"
    t:ok(false, string.format("%d philosophers: " .. f .. " (%d rule%s broken in all)",
      n, r.who, r.fork, r.broken, r.broken == 1 and "" or "s"))
  end
  for p = 0, n - 1 do
    t:eq(r.meals[p], meals, string.format("%d philosophers: meals eaten by philosopher %d", n, p))
  end
  t:eq(res, n * meals, string.format("%d philosophers: meals eaten in all", n))
  return r
end

return lab {
  id = "dining-philosophers",
  title = "Dining philosophers",
  lecture = "l04-concurrent-programming",
  submission = {
    file = "philo.c", lang = "c", cflags = { "-O2", "-pthread" }, ldflags = { "-pthread" },
    -- The forks and the dinner harness: compiled with philo.c, in the jail.
    support = { "philo_support.c" },
  },
  exports = { philo_dinner = "long(long*, long, long)" },
  hints = {
    "A deadlock needs a circular wait: philosopher 0 waits for philosopher 1, who waits " ..
    "for 2, and so on round the table back to 0. Break any one link of that circle and the " ..
    "deadlock cannot happen.",
    "Give the forks a global order and make every philosopher take their two forks in that " ..
    "order: the lower-numbered fork first. Then nobody can hold a higher fork while waiting " ..
    "for a lower one, so no circle can close.",
    "Only one philosopher's order actually changes: the last one, n-1, whose right fork is " ..
    "fork 0. Compute first = min(left, right) and second = max(left, right), take first then " ..
    "second, and put them down in either order.",
  },
  checks = {
    check "five philosophers finish dinner" { points = 4, timeout = 30, function(t)
      dinner(t, 5, 100)
    end },

    check "any size of table" { points = 3, timeout = 60, function(t)
      for _, n in ipairs { 2, 3, 7, 12 } do dinner(t, n, 40) end
    end },

    check "neighbours apart eat together" { points = 3, timeout = 30, function(t)
      -- With five forks two philosophers who are not neighbours can eat at
      -- once; a rule that lets only one eat at a time removes the deadlock
      -- by removing the parallelism.
      local r = dinner(t, 5, 60)
      t:log("at most %d philosophers ate at the same time", r.max_eating)
      t:at_least(r.max_eating, 2, "most philosophers seen eating at the same time")
    end },
  },
}
