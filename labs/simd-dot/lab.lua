-- simd-dot: vectorize a float dot product. Graded on correctness (every
-- tail length, unaligned starts, large n) and on speed against a trusted
-- scalar baseline, on one thread, with the data in cache.

local N_TIMED = 4000     -- floats per vector in the timed check: 32 KB for both, in L1
local BENCH_REPS = 4000  -- dot products per timed call (about 20 ms for the baseline)
local TARGET = 3.0       -- speedup over the scalar baseline; one thread, so no core scaling

-- Prefix sums of x[i]*y[i] in double (exact products of floats), and of
-- their absolute values for the tolerance: P[k] = sum over i < k.
local function prefix(x, y, n)
  local p, a = { [0] = 0.0 }, { [0] = 0.0 }
  for i = 1, n do
    local v = x[i] * y[i]
    p[i] = p[i - 1] + v
    a[i] = a[i - 1] + math.abs(v)
  end
  return p, a
end

-- Float accumulation in any order errs by far less than this: about
-- sqrt(n) roundings of 6e-8 relative. A missing or doubled element is
-- caught on the short lengths, where sum |x*y| is small.
local function tol(sabs) return 1e-5 * sabs + 1e-6 end

-- What dot_bench (bench.c) returns: reps dot products starting at offsets
-- 0, 1, ..., 15, 0, 1, ... and all ending at n.
local function bench_expected(p, a, n, reps)
  local want, slack = 0.0, 0.0
  for r = 0, reps - 1 do
    local off = r % 16
    want = want + (p[n] - p[off])
    slack = slack + tol(a[n] - a[off])
  end
  return want, slack
end

return lab {
  id = "simd-dot",
  title = "A vectorized dot product",
  lecture = "l05-vectors-and-blas",
  submission = {
    file = "dot.c", lang = "c", cflags = { "-O2", "-march=native" },
    -- The timing loop, compiled with the submission and with the baseline.
    support = { "bench.c" },
  },
  exports = {
    lab_dot = "float(const float*, const float*, long)",
    dot_bench = "double(const float*, const float*, long, long)",
  },
  baseline = "baseline.c",
  hints = {
    "A vector type holds several floats side by side, and GCC applies + and * to every lane " ..
    "at once: `typedef float v8f __attribute__((vector_size(32)));` declares 8 lanes. Keep a " ..
    "v8f of partial sums, add 8 products to it per step, and add its 8 lanes together at the end.",
    "The arrays need not be aligned, so do not cast a float* to a v8f*: load with " ..
    "`v8f v; memcpy(&v, x + i, sizeof v);`, which compiles to one unaligned vector load. " ..
    "Stop the vector loop while i + 8 <= n and finish the last n % 8 elements one by one.",
    "One accumulator makes every vector FMA wait about 4 cycles for the previous one. Use " ..
    "four accumulators (a0 += ... on x+i, a1 += ... on x+i+8, and so on, stepping i by 32) " ..
    "so that four FMAs are in flight, and add them together after the loop.",
  },
  checks = {
    check "every length and tail" { points = 2, timeout = 30, function(t)
      t:near(t.sub.lab_dot(nil, nil, 0), 0.0, 0.0, "n = 0 with NULL pointers")
      local x = engine.array.random("f32", 64, { seed = 11, lo = -1, hi = 1 })
      local y = engine.array.random("f32", 64, { seed = 12, lo = -1, hi = 1 })
      local p, a = prefix(x, y, 64)
      for n = 0, 64 do
        t:near(t.sub.lab_dot(x, y, n), p[n], tol(a[n]), "n = " .. n)
      end
    end },

    check "large and unaligned" { points = 2, timeout = 30, function(t)
      for _, n in ipairs { 1000, 4099, 100003 } do
        local x = engine.array.random("f32", n, { seed = n, lo = -1, hi = 1 })
        local y = engine.array.random("f32", n, { seed = n + 1, lo = -1, hi = 1 })
        local p, a = prefix(x, y, n)
        t:near(t.sub.lab_dot(x, y, n), p[n], tol(a[n]), "n = " .. n)
      end
      -- Starts at x+1 ... x+15: no alignment may be assumed.
      local n = 517
      local x = engine.array.random("f32", n, { seed = 5, lo = -1, hi = 1 })
      local y = engine.array.random("f32", n, { seed = 6, lo = -1, hi = 1 })
      local p, a = prefix(x, y, n)
      local want, slack = bench_expected(p, a, n, 16)
      t:near(t.sub.dot_bench(x, y, n, 16), want, slack, "starts at x+0 ... x+15, n = " .. n)
    end },

    check "3x faster than scalar" { points = 6, timed = true, timeout = 90, function(t)
      local x = engine.array.random("f32", N_TIMED, { seed = 21, lo = -1, hi = 1 })
      local y = engine.array.random("f32", N_TIMED, { seed = 22, lo = -1, hi = 1 })
      local p, a = prefix(x, y, N_TIMED)
      -- Each repetition uses a different length, so no total can be remembered.
      local want, slack = {}, {}
      for rep = 0, 7 do want[rep], slack[rep] = bench_expected(p, a, N_TIMED - rep, BENCH_REPS) end
      local r = t:scaling(function(impl, rep)
        local got = impl.dot_bench(x, y, N_TIMED - rep, BENCH_REPS)
        t:near(got, want[rep], slack[rep], string.format("%d dot products of %d floats",
          BENCH_REPS, N_TIMED - rep))
      end, { reps = 7, threads = { 1 } })
      t:at_least(r.speedup, TARGET, string.format("speedup over the scalar baseline on one thread " ..
        "(needs %.1f)", TARGET))
    end },
  },
}
