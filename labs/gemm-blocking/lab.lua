-- gemm-blocking: block a matrix product for the caches. Graded on
-- correctness against OpenBLAS (odd sizes, garbage in C) and on speed
-- against the trusted textbook triple loop, on one thread.

local N_TIMED = 700  -- about 4 MB per matrix: B does not fit in L2
local TARGET = 8.0   -- speedup over the textbook loop; one thread, so no core scaling
local SAMPLES = 2000 -- elements of C compared with OpenBLAS after each timed call

local function tol(n) return 1e-12 * n end

-- n x n matrices (in arrays of at least n * n doubles), uniform in [-1, 1).
local function matrix(n, seed) return engine.array.random("f64", n * n, { seed = seed, lo = -1, hi = 1 }) end

-- C is output only: fill it with garbage, so a submission that forgets to
-- clear it (or skips elements) is caught.
local function garbage(C, n)
  for i = 1, n * n do C[i] = 1e6 * ((i * 7919) % 1009 - 504) end
end

local function compare(t, got, want, n, step)
  for idx = 1, n * n, step do
    local g, w = got[idx], want[idx]
    if not (math.abs(g - w) <= tol(n)) then
      local i, j = (idx - 1) // n, (idx - 1) % n
      t:near(g, w, tol(n), string.format("n = %d, C[%d][%d]", n, i, j))
    end
  end
end

return lab {
  id = "gemm-blocking",
  title = "Blocking a matrix product for the caches",
  lecture = "l05-vectors-and-blas",
  submission = { file = "gemm.c", lang = "c", cflags = { "-O2", "-march=native" } },
  exports = { lab_gemm = "void(const double*, const double*, double*, long)" },
  baseline = "baseline.c",
  hints = {
    "Swap the two inner loops (i-k-j order): the innermost loop then becomes " ..
    "C[i*n + j] += A[i*n + k] * B[k*n + j] over j, which walks along rows of B and C with " ..
    "unit stride and has no reduction. Clear the row of C first. At -O2 GCC will not " ..
    "vectorize it for you: write it with a vector type (as in simd-dot) or put " ..
    "#pragma GCC optimize(\"O3\") at the top of the file.",
    "Block the k loop: for kk in steps of KC (try 128 or 256), run all rows i, and for each " ..
    "row only k in [kk, kk + KC). The KC rows of B that one block uses (KC * n * 8 bytes) then " ..
    "stay in the L2 cache while every row of A uses them. Remember the last block may be short.",
    "To go further, compute a tile of C, 4 rows by 16 columns, in local vector variables: for " ..
    "each k, load 16 values of B (two 8-wide vectors), multiply them by A[i][k] ... A[i+3][k] " ..
    "and add into the 8 accumulators; store the tile when k is done. Copying each block of B " ..
    "into a contiguous buffer (packing) makes its loads sequential.",
  },
  checks = {
    check "C = A B" { points = 4, timeout = 60, function(t)
      for _, n in ipairs { 1, 2, 3, 7, 16, 17, 64, 100, 255, 300 } do
        local A, B = matrix(n, 100 + n), matrix(n, 200 + n)
        local want, C = engine.array.zeros("f64", n * n), engine.array.zeros("f64", n * n)
        engine.blas.dgemm(A, B, want, n, n, n)
        garbage(C, n)
        t.sub.lab_gemm(A, B, C, n)
        compare(t, C, want, n, 1)
      end
    end },

    check "8x faster than naive" { points = 6, timed = true, timeout = 150, function(t)
      local A, B = matrix(N_TIMED, 1), matrix(N_TIMED, 2)
      local C = engine.array.zeros("f64", N_TIMED * N_TIMED)
      local want = engine.array.zeros("f64", N_TIMED * N_TIMED)
      -- Each repetition multiplies a different size (the leading n x n of
      -- the same arrays), so no product can be remembered. Only the calls
      -- are timed, not the checking.
      local r = t:scaling(function(impl, rep)
        local n = N_TIMED - rep
        impl.lab_gemm(A, B, C, n)
        engine.blas.dgemm(A, B, want, n, n, n)
        compare(t, C, want, n, n * n // SAMPLES + 1)
      end, { reps = 5, threads = { 1 } })
      t:at_least(r.speedup, TARGET, string.format("speedup over the textbook loop on one thread " ..
        "(needs %.0f)", TARGET))
    end },
  },
}
