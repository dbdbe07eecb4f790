-- gpu-reduction: from atomics to a tree reduction. The student writes
-- reduce_launch (device pointers in, the sum left in *out); the lab's
-- harness.cu owns the memory and guards the output. Graded on exact sums
-- of integer data for every awkward size, on float data within a
-- tolerance, and on speed against the one-atomic-per-element version
-- (baseline.cu) measured in the same run. Every check needs a GPU.

local N_TIMED = 1 << 24 -- 16 Mi floats (64 MiB) on the device
local CHAIN = 20        -- launches per timed call, each on a new start and length
local STEP = 64         -- as in harness.cu
local TARGET = 5.0      -- speedup over one atomicAdd per element

local CUDA = {
  [1] = "cudaErrorInvalidValue", [2] = "cudaErrorMemoryAllocation",
  [9] = "cudaErrorInvalidConfiguration: zero blocks, or more than 1024 threads per block?",
  [98] = "cudaErrorInvalidDeviceFunction", [209] = "cudaErrorNoKernelImageForDevice",
  [700] = "cudaErrorIllegalAddress: a thread read or wrote outside the arrays",
  [701] = "cudaErrorLaunchOutOfResources", [716] = "cudaErrorMisalignedAddress",
  [719] = "cudaErrorLaunchFailure",
}
local function status(rc)
  if rc == -2 then return "a thread wrote past out[0]" end
  if rc == -1 then return "the harness could not allocate device memory" end
  return "CUDA error " .. rc .. (CUDA[rc] and (" (" .. CUDA[rc] .. ")") or "")
end

return lab {
  id = "gpu-reduction",
  title = "GPU reduction: from atomics to a tree",
  lecture = "l24-gpu-computing",
  submission = {
    file = "reduce.cu", lang = "cuda",
    -- -x cu: every input is CUDA, including the baseline (copied in as a .c file).
    cflags = { "-O2", "-x", "cu", "-arch=sm_90" },
    support = { "harness.cu" },
  },
  exports = {
    reduce = "int(const float*, long, float*)",
    reduce_int = "int(const long*, long, float*)",
    reduce_load = "int(const long*, long)",
    reduce_timed = "int(float*, long, long, long)",
  },
  baseline = "baseline.cu", -- one atomicAdd per element: the starter's code
  hints = {
    "Thousands of threads doing atomicAdd on one address wait in line: the L2 cache performs " ..
    "those additions one at a time. Let each block add its own elements first and do a single " ..
    "atomicAdd of the block's total. In a block, put each thread's value in a __shared__ " ..
    "array, then halve: for (s = blockDim.x / 2; s > 0; s /= 2) { if (tid < s) a[tid] += " ..
    "a[tid + s]; __syncthreads(); } — a[0] is the block's sum. Keep the `if (i < n)` test " ..
    "when loading: threads past the end contribute 0.",
    "Within a warp the 32 threads can add without shared memory: v += __shfl_down_sync(" ..
    "0xffffffff, v, off) for off = 16, 8, 4, 2, 1 leaves the warp's sum in lane 0. Do that, " ..
    "write one value per warp to a small __shared__ array, __syncthreads(), and let the first " ..
    "warp add those. Every thread of the warp must reach the shuffle (no early return before it).",
    "Launch fewer blocks than elements / 256: for example 8 blocks per multiprocessor " ..
    "(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0)), and let each thread " ..
    "first add many elements in a register with a grid-stride loop: for (i = global id; i < n; " ..
    "i += gridDim.x * blockDim.x). The reduction tree then runs once per block instead of once " ..
    "per 256 elements.",
  },
  checks = {
    check "exact on integers, every size" { points = 3, gpu = true, timeout = 120, function(t)
      -- Small integers stored as floats: every partial sum is an exact
      -- float, so any order of additions must give exactly the total.
      for _, n in ipairs { 0, 1, 2, 31, 32, 33, 255, 256, 257, 1023, 1024, 1025, 4097, 100003,
                           (1 << 20) + 7 } do
        local x = engine.array.random("i64", n, { seed = 300 + n, lo = -7, hi = 8 })
        local result = engine.array.zeros("f32", 1)
        local rc = t.sub.reduce_int(x, n, result)
        if rc ~= 0 then t:ok(false, "n = " .. n .. ": " .. status(rc)) end
        t:eq(result[1], x:sum(), "n = " .. n .. " (integers from -7 to 7)")
      end
    end },

    check "floats within tolerance" { points = 1, gpu = true, timeout = 60, function(t)
      for _, n in ipairs { 1000, 65536, 1000001 } do
        local x = engine.array.random("f32", n, { seed = 400 + n, lo = -1, hi = 1 })
        local result = engine.array.zeros("f32", 1)
        local rc = t.sub.reduce(x, n, result)
        if rc ~= 0 then t:ok(false, "n = " .. n .. ": " .. status(rc)) end
        local abs = 0.0
        for i = 1, n do abs = abs + math.abs(x[i]) end
        -- Far looser than the rounding of any order of float additions,
        -- far tighter than a lost or doubled element at n = 1000.
        t:near(result[1], x:sum(), 1e-5 * abs + 1e-6, "n = " .. n)
      end
    end },

    check "5x faster than atomics" { points = 6, gpu = true, timed = true, timeout = 180, function(t)
      local x = engine.array.random("i64", N_TIMED, { seed = 5, lo = -7, hi = 8 })
      for _, impl in ipairs { t.sub, t.baseline } do
        local rc = impl.reduce_load(x, N_TIMED)
        if rc ~= 0 then t:ok(false, "loading the data: " .. status(rc)) end
      end
      -- Run r of call `rep` sums x[64 * (rep * CHAIN + r) ..], so every
      -- launch has its own start, length and exact (integer) answer.
      local total = x:sum()
      local prefix, acc = {}, 0
      for k = 0, STEP * 7 * CHAIN do
        if k % STEP == 0 then prefix[k // STEP] = acc end
        if k < N_TIMED then acc = acc + x[k + 1] end
      end
      local sums = engine.array.zeros("f32", CHAIN)
      local r = t:scaling(function(impl, rep)
        local rc = impl.reduce_timed(sums, N_TIMED, CHAIN, rep * CHAIN)
        if impl ~= t.sub then return end
        if rc ~= 0 then t:ok(false, "timed run: " .. status(rc)) end
        for i = 1, CHAIN do
          local start = rep * CHAIN + i - 1
          t:eq(sums[i], total - prefix[start], string.format("timed run: sum of x[%d .. %d]",
            STEP * start, N_TIMED - 1))
        end
      end, { reps = 5, threads = { 1 } })
      t:at_least(r.speedup, TARGET, "speedup over one atomicAdd per element")
    end },
  },
}
