-- int8-dot: a quantized dot product. Graded on exact integer results
-- (every tail, the extreme values, unaligned starts) and on speed against
-- a trusted, vectorized float32 dot product over the same values, on one
-- thread, with the data in cache.

local N_TIMED = 16384    -- elements per vector in the timed check: 32 KB as int8, 128 KB as float
local BENCH_REPS = 22000 -- dot products per timed call (about 40 ms for the baseline, 10 for the reference)
local TARGET = 1.5       -- speedup over the float32 baseline; one thread, so no core scaling
local N_BIG = 32000      -- the longest vectors a call can carry (two strings under 64 KB)

-- n int8 values, uniform in [-128, 127]: as Lua integers, as the byte
-- string the grader sends (two's complement), and as an f32 array.
local function int8_data(n, seed)
  local r = engine.array.random("f64", math.max(n, 1), { seed = seed, lo = -128, hi = 128 })
  local vals = {}
  for i = 1, n do vals[i] = math.floor(r[i]) end
  return vals
end

local function bytes(vals)
  local parts = {}
  for i = 1, #vals do parts[i] = string.char(vals[i] % 256) end
  return table.concat(parts)
end

-- Exact prefix sums of a[i]*b[i] in Lua integers: P[k] = sum over i < k.
local function prefix(a, b, n)
  local p = { [0] = 0 }
  for i = 1, n do p[i] = p[i - 1] + a[i] * b[i] end
  return p
end

-- What idot_bench (bench.c) returns: reps dot products starting at
-- offsets 0, 1, ..., 15, 0, 1, ... and all ending at n.
local function bench_expected(p, n, reps)
  local want = 0
  for r = 0, reps - 1 do want = want + (p[n] - p[r % 16]) end
  return want
end

local function fill(n, v)
  local t = {}
  for i = 1, n do t[i] = v end
  return t
end

return lab {
  id = "int8-dot",
  title = "A quantized int8 dot product",
  lecture = "l05-vectors-and-blas",
  submission = {
    file = "idot.c", lang = "c", cflags = { "-O2", "-march=native" },
    -- Byte-string wrappers and the timing loops, compiled with the
    -- submission and with the baseline.
    support = { "bench.c" },
  },
  exports = {
    idot = "long(const char*, const char*, long)",
    idot_bench = "long(const char*, const char*, long, long)",
    fdot_bench = "double(const float*, const float*, long, long)",
  },
  baseline = "baseline.c",
  hints = {
    "A product of two int8 values needs 16 bits (-128 * -128 = 16384), and a sum of many " ..
    "needs 32. So widen before you multiply: _mm256_cvtepi8_epi16 turns 16 int8 values " ..
    "(a 128-bit load, _mm_loadu_si128) into 16 int16 lanes of a 256-bit register.",
    "_mm256_madd_epi16(a16, b16) multiplies the 16-bit lanes and adds neighbouring pairs of " ..
    "products into 8 int32 lanes in one instruction, exactly. Add that into an int32 " ..
    "accumulator with _mm256_add_epi32, sum its 8 lanes at the end, and finish the last " ..
    "n % 16 elements with the plain loop.",
    "To go further, process 32 bytes per step with two accumulators, or, with AVX-512 " ..
    "(__AVX512BW__ and __AVX512VNNI__ are defined under -march=native here), widen 32 bytes " ..
    "with _mm512_cvtepi8_epi16 and use _mm512_dpwssd_epi32(acc, a16, b16), which multiplies, " ..
    "adds pairs and accumulates at once. Beware _mm256_maddubs_epi16: it treats one operand " ..
    "as unsigned and saturates, so it is wrong for -128 * -128.",
  },
  checks = {
    check "exact on every tail" { points = 2, timeout = 30, function(t)
      local n_max = 130
      local a, b = int8_data(n_max, 31), int8_data(n_max, 32)
      local sa, sb = bytes(a), bytes(b)
      local p = prefix(a, b, n_max)
      for n = 0, n_max do t:eq(t.sub.idot(sa, sb, n), p[n], "n = " .. n) end
    end },

    check "exact at the extremes" { points = 2, timeout = 30, function(t)
      local n = N_BIG
      local cases = {
        { "all -128 * -128", fill(n, -128), fill(n, -128) },
        { "all -128 * 127", fill(n, -128), fill(n, 127) },
        { "all 127 * 127", fill(n, 127), fill(n, 127) },
        { "random values", int8_data(n, 41), int8_data(n, 42) },
      }
      for _, c in ipairs(cases) do
        local want = prefix(c[2], c[3], n)[n]
        t:eq(t.sub.idot(bytes(c[2]), bytes(c[3]), n), want, string.format("%s, n = %d", c[1], n))
      end
      -- Starts at a+1 ... a+15: no alignment may be assumed.
      local m = 1000
      local a, b = int8_data(m, 43), int8_data(m, 44)
      t:eq(t.sub.idot_bench(bytes(a), bytes(b), m, 16), bench_expected(prefix(a, b, m), m, 16),
        "starts at a+0 ... a+15, n = " .. m)
    end },

    check "1.5x faster than float32" { points = 6, timed = true, timeout = 90, function(t)
      local a, b = int8_data(N_TIMED, 51), int8_data(N_TIMED, 52)
      local sa, sb = bytes(a), bytes(b)
      local fa, fb = engine.array.from("f32", a), engine.array.from("f32", b)
      local p = prefix(a, b, N_TIMED)
      local abs_sum = 0
      for i = 1, N_TIMED do abs_sum = abs_sum + math.abs(a[i] * b[i]) end
      -- Each repetition uses a different length, so no total can be remembered.
      local want = {}
      for rep = 0, 7 do want[rep] = bench_expected(p, N_TIMED - rep, BENCH_REPS) end
      local r = t:scaling(function(impl, rep)
        local n = N_TIMED - rep
        local what = string.format("%d dot products of %d elements", BENCH_REPS, n)
        if impl == t.baseline then
          -- float32 rounds these sums; the baseline is trusted, this only
          -- confirms it did the same work.
          t:near(impl.fdot_bench(fa, fb, n, BENCH_REPS), want[rep], 1e-5 * abs_sum * BENCH_REPS,
            "float32 baseline, " .. what)
        else
          t:eq(impl.idot_bench(sa, sb, n, BENCH_REPS), want[rep], what)
        end
      end, { reps = 7, threads = { 1 } })
      t:at_least(r.speedup, TARGET, string.format("speedup over the float32 baseline on one " ..
        "thread (needs %.1f)", TARGET))
    end },
  },
}
