-- gpu-matmul-tiling: shared-memory tiling of a matrix product. The student
-- writes matmul_launch (device pointers, row-major n x n); the lab's
-- harness.cu owns the memory, fills C with NaN and guards its end. Graded
-- on agreement with cuBLAS (computed here, in the grader) for sizes that
-- are and are not multiples of a tile, and on speed against the naive
-- kernel (baseline.cu) measured in the same run. Every check needs a GPU.

local N_TIMED = 2048 -- 16 MiB per matrix; 17 GFLOP per product
local CHAIN = 4      -- launches per timed call: sizes N - 24, N - 16, N - 8, N
local SAMPLES, PAD = 128, 1024 -- per launch, as in harness.cu
local CANARY = -7.5
local TARGET = 2.0   -- speedup over the naive kernel

local CUDA = {
  [1] = "cudaErrorInvalidValue", [2] = "cudaErrorMemoryAllocation",
  [9] = "cudaErrorInvalidConfiguration: zero blocks, more than 1024 threads per block, or too " ..
        "much shared memory?",
  [98] = "cudaErrorInvalidDeviceFunction", [209] = "cudaErrorNoKernelImageForDevice",
  [700] = "cudaErrorIllegalAddress: a thread read or wrote outside the matrices",
  [701] = "cudaErrorLaunchOutOfResources: too many registers or threads per block",
  [716] = "cudaErrorMisalignedAddress", [719] = "cudaErrorLaunchFailure",
}
local function status(rc)
  if rc == -2 then return "a thread wrote past C[n-1][n-1]: check row < n and col < n before storing" end
  if rc == -1 then return "the harness could not allocate device memory" end
  return "CUDA error " .. rc .. (CUDA[rc] and (" (" .. CUDA[rc] .. ")") or "")
end

local function matrix(n, seed) return engine.array.random("f32", n * n, { seed = seed, lo = -1, hi = 1 }) end

-- Float sums of n products of numbers in [-1, 1) err by far less than
-- this; a missing or doubled term (about 0.25 on average) is far more.
local function tol(n) return 1e-5 * n + 1e-6 end

-- C = A B computed by the grader: cuBLAS through engine.gpu, or OpenBLAS
-- when the grader's own process cannot use CUDA (a parlab built without
-- it runs the GPU checks all the same where the machine has a device).
local function reference(t, A, B, n)
  local W = engine.array.zeros("f32", n * n)
  local ok, why = engine.gpu.available()
  if ok then
    engine.gpu.sgemm(A, B, W, n, n, n)
  else
    engine.blas.sgemm(A, B, W, n, n, n)
    t.openblas_why = why
  end
  return W
end

return lab {
  id = "gpu-matmul-tiling",
  title = "Tiling a GPU matrix product in shared memory",
  lecture = "l24-gpu-computing",
  submission = {
    file = "matmul.cu", lang = "cuda",
    -- -x cu: every input is CUDA, including the baseline (copied in as a .c file).
    cflags = { "-O2", "-x", "cu", "-arch=sm_90" },
    support = { "harness.cu" },
  },
  exports = {
    matmul = "int(const float*, const float*, float*, long)",
    mm_load = "int(const float*, const float*, long)",
    mm_timed = "int(float*, long, long)",
  },
  baseline = "baseline.cu", -- the naive kernel: the starter's code
  hints = {
    "In the naive kernel each thread reads 2n numbers from global memory to produce one " ..
    "element of C, and neighbouring threads read the same ones again. Let a block of 32 x 32 " ..
    "threads first copy a 32 x 32 tile of A and a 32 x 32 tile of B into __shared__ float " ..
    "arrays (each thread copies one element of each), __syncthreads(), add the 32 products " ..
    "from shared memory, __syncthreads() again, and move both tiles 32 further along k.",
    "n need not be a multiple of the tile: load a 0 instead of an element that lies outside A " ..
    "or B (the zeros add nothing), and store C[row][col] only when row < n and col < n. The " ..
    "__syncthreads() calls must be reached by every thread of the block, so do not return " ..
    "early from threads outside the matrix.",
    "Shared tiles alone reach about 1.5 times the naive kernel on recent GPUs, because their " ..
    "caches already catch part of the reuse; each multiply-add still needs two loads from shared " ..
    "memory. To pass 2x, let every thread compute several elements of C, for example a 4 x 4 " ..
    "patch of a 64 x 64 block tile with 256 threads: per step along k it loads 4 values of the " ..
    "A tile and 4 of the B tile into registers and does 16 multiply-adds with them, keeping the " ..
    "16 sums in a float acc[4][4] (with fixed loop bounds the compiler keeps them in registers).",
  },
  checks = {
    check "matches cuBLAS" { points = 4, gpu = true, timeout = 120, function(t)
      for _, n in ipairs { 1, 2, 17, 31, 32, 33, 64, 100, 129, 255, 256, 257, 500 } do
        local A, B = matrix(n, 500 + n), matrix(n, 600 + n)
        local C = engine.array.zeros("f32", n * n)
        local rc = t.sub.matmul(A, B, C, n)
        if rc ~= 0 then t:ok(false, "n = " .. n .. ": " .. status(rc)) end
        local W = reference(t, A, B, n)
        for idx = 1, n * n do
          local got, want = C[idx], W[idx]
          if not (math.abs(got - want) <= tol(n)) then
            local what = string.format("n = %d, C[%d][%d]%s", n, (idx - 1) // n, (idx - 1) % n,
              got ~= got and " was never written (still NaN)" or "")
            t:near(got, want, tol(n), what)
          end
        end
      end
      if t.openblas_why then t:log("reference: OpenBLAS, as engine.gpu is unavailable here (%s)", t.openblas_why) end
    end },

    check "2x faster than naive" { points = 6, gpu = true, timed = true, timeout = 240, function(t)
      local A, B = matrix(N_TIMED, 1), matrix(N_TIMED, 2)
      for _, impl in ipairs { t.sub, t.baseline } do
        local rc = impl.mm_load(A, B, N_TIMED)
        if rc ~= 0 then t:ok(false, "loading the matrices: " .. status(rc)) end
      end
      local out = engine.array.zeros("f32", CHAIN * SAMPLES + PAD)
      -- Every launch multiplies the leading m x m of A and B (as m x m
      -- matrices), a different m each time; a few elements of each result
      -- are checked against dot products computed here.
      local r = t:scaling(function(impl, rep)
        local n = N_TIMED - 8 * rep
        local rc = impl.mm_timed(out, n, CHAIN)
        if impl ~= t.sub then return end
        if rc ~= 0 then t:ok(false, "timed run, n = " .. n .. ": " .. status(rc)) end
        for launch = 0, CHAIN - 1 do
          local m = n - 8 * (CHAIN - 1 - launch)
          for k = 0, SAMPLES - 1 do
            local idx = (k * 2654435761 + launch * 40503) % (m * m)
            local i, j = idx // m, idx % m
            local want = 0.0
            for p = 0, m - 1 do want = want + A[i * m + p + 1] * B[p * m + j + 1] end
            local got = out[launch * SAMPLES + k + 1]
            if not (math.abs(got - want) <= tol(m)) then
              t:near(got, want, tol(m), string.format("timed run, n = %d: C[%d][%d]", m, i, j))
            end
          end
        end
        for k = CHAIN * SAMPLES + 1, CHAIN * SAMPLES + PAD do
          if out[k] ~= CANARY then t:ok(false, "timed run, n = " .. n .. ": " .. status(-2)) end
        end
      end, { reps = 5, threads = { 1 } })
      local flop = 0
      for launch = 0, CHAIN - 1 do flop = flop + 2.0 * (N_TIMED - 8 * launch) ^ 3 end
      t:log("about %.0f GFLOP/s against the naive kernel's %.0f", flop / r.times[1].median / 1e9,
        flop / r.baseline.median / 1e9)
      t:at_least(r.speedup, TARGET, "speedup over the naive kernel")
    end },
  },
}
