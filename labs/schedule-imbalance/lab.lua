-- schedule-imbalance: a triangular loop (iteration i costs about i) under
-- OpenMP. Correctness is checked in the grader; performance is the speedup
-- over a trusted serial baseline, which only a balanced schedule reaches.

local N_TIMED = 16384  -- about 1.3e8 inner steps: ~0.1-0.2 s serial
local FACTOR = 0.75    -- needed speedup per core (1.5 on 2 cores)

-- y[i] for i = 1..n (Lua index), as the brief defines it (trusted Lua).
local function expected_at(x, i)
  local xi, s = x[i], 0.0
  for j = 1, i - 1 do
    local d = xi - x[j]
    s = s + 1.0 / (1.0 + d * d)
  end
  return s
end

local function tol(v) return 1e-9 * math.max(1.0, math.abs(v)) end

-- Indices to verify in an n-element result: the ends, the middle, and a
-- few spread out between, so a skipped block of iterations is noticed.
local function sample_indices(n, salt)
  if n <= 1200 then
    local all = {}
    for i = 1, n do all[i] = i end
    return all
  end
  local idx = { 1, 2, n // 2, n - 1, n }
  for k = 1, 7 do idx[#idx + 1] = 1 + (k * 7919 + salt * 104729) % n end
  return idx
end

local function verify(t, y, x, n, salt, what)
  for _, i in ipairs(sample_indices(n, salt)) do
    local want = expected_at(x, i)
    t:near(y[i], want, tol(want), string.format("%s: y[%d]", what, i - 1))
  end
end

return lab {
  id = "schedule-imbalance",
  title = "An unbalanced loop",
  lecture = "l04-concurrent-programming",
  submission = { file = "triangle.c", lang = "c", cflags = { "-O2", "-fopenmp" } },
  exports = { lab_triangle = "void(double*, const double*, long)" },
  baseline = "baseline.c",
  hints = {
    "Time is lost at the end of the loop: the thread that owns the last block of " ..
    "iterations is still working while the others, whose blocks were cheap, wait at the " ..
    "loop's implicit barrier. Look at how much work each block of 8192 iterations holds.",
    "A static schedule decides who does what before the loop starts. schedule(dynamic, c) " ..
    "lets a free thread take the next c iterations when it is ready; schedule(guided, c) " ..
    "does the same with chunks that shrink towards the end.",
    "Try schedule(dynamic, 16). A chunk of 1 adds queue traffic for nothing, and a chunk in " ..
    "the thousands brings the imbalance back. schedule(static, 1), which deals iterations " ..
    "out like cards, also balances this particular loop.",
  },
  checks = {
    check "computes every y[i]" { points = 4, timeout = 60, function(t)
      for _, n in ipairs { 0, 1, 2, 100, 1001, 20000 } do
        local x = engine.array.random("f64", n, { seed = 300 + n, lo = -4, hi = 4 })
        local y = engine.array.zeros("f64", n)
        t.sub.lab_triangle(y, x, n)
        verify(t, y, x, n, n, "n = " .. n)
      end
    end },

    check "balances the work" { points = 6, timed = true, timeout = 120, function(t)
      local cores = engine.cores()
      -- Fresh inputs for every repetition (rep 0 is the warm-up), so a
      -- submission cannot hand back results it remembers.
      local xs = {}
      for rep = 0, 5 do
        xs[rep] = engine.array.random("f64", N_TIMED, { seed = 900 + rep, lo = -4, hi = 4 })
      end
      local y = engine.array.zeros("f64", N_TIMED)
      local r = t:scaling(function(impl, rep)
        for _, i in ipairs { 1, N_TIMED // 2, N_TIMED } do y[i] = -1.0 end
        impl.lab_triangle(y, xs[rep], N_TIMED)
        verify(t, y, xs[rep], N_TIMED, rep, "timed run " .. rep)
      end, { reps = 5, threads = { cores } })
      t:at_least(r.speedup, FACTOR * cores, string.format(
        "speedup on %d cores, n = %d (needs %.2f x %d)", cores, N_TIMED, FACTOR, cores))
    end },
  },
}
