-- amdahl-sum: the first lab. A parallel sum with OpenMP, graded on
-- correctness and on speedup against a trusted serial baseline.

local N_BIG = 20000000 -- 160 MB of doubles: far larger than any cache

local function relative_tol(expected, n)
  return 1e-9 * math.max(1.0, math.abs(expected)) + 1e-12 * n
end

return lab {
  id = "amdahl-sum",
  title = "Parallel sum and Amdahl's law",
  lecture = "l01-why-parallel",
  submission = { file = "sum.c", lang = "c", cflags = { "-O2", "-fopenmp" } },
  exports = { lab_sum = "double(const double*, long)" },
  -- A plain serial loop, compiled with the same flags and run in its own
  -- jail: the speedup is measured against it, not against the student's
  -- own one-thread run, which a submission could slow down on purpose.
  baseline = "baseline.c",
  hints = {
    "The iterations of the loop are independent of one another, so you can split them " ..
    "among threads. OpenMP's parallel for divides a loop's iterations among a team of " ..
    "threads for you.",
    "If several threads add into the same variable at once, that is a data race: updates " ..
    "get lost and the result changes from run to run. Use an OpenMP reduction clause so " ..
    "that each thread keeps a private partial sum that OpenMP combines at the end.",
    "Put `#pragma omp parallel for reduction(+:s)` on the line directly above the `for` " ..
    "loop. Declare `s` before the pragma as a `double` initialised to `0.0`, add `x[i]` to " ..
    "it inside the loop, and return it afterwards.",
  },
  checks = {
    check "sums correctly" { points = 4, timeout = 15, function(t)
      for _, n in ipairs { 0, 1, 7, 2000003 } do
        local x = engine.array.random("f64", n, { seed = 1000 + n, lo = -1, hi = 1 })
        local want = x:sum()
        t:near(t.sub.lab_sum(x, n), want, relative_tol(want, n), "n = " .. n)
      end
    end },

    check "scales with threads" { points = 6, timed = true, timeout = 60, function(t)
      local x = engine.array.random("f64", N_BIG, { seed = 7, lo = 0, hi = 1 })
      -- Each repetition sums a slightly different prefix, so a submission
      -- cannot return a remembered answer.
      local total = x:sum()
      local expected = {}
      local tail = 0.0
      for rep = 0, 16 do
        expected[rep] = total - tail
        tail = tail + x[N_BIG - rep]
      end
      local cores = engine.cores()
      local r = t:scaling(function(impl, rep)
        local n = N_BIG - rep
        local got = impl.lab_sum(x, n)
        t:near(got, expected[rep], relative_tol(expected[rep], n), "sum of " .. n .. " values")
      end, { reps = 5 })
      t:at_least(r.speedup, 0.7 * cores,
        string.format("speedup on %d cores (needs 0.7 x %d)", cores, cores))
    end },
  },
}
