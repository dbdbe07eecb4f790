-- gpu-vector-add: launch configuration and bounds. The student writes the
-- kernel and its launch (vadd_launch, on device pointers); the lab's
-- harness.cu does the allocations and copies and guards the end of every
-- output. Graded on correctness for awkward sizes (0, 1, not a multiple of
-- the block size, several million) and on memory bandwidth against a
-- device-to-device copy measured in the same run. Every check needs a GPU:
-- without one they are reported as skipped, with the reason.

local N_TIMED = 1 << 24 -- 16 Mi floats: 64 MiB per array, 192 MiB per launch, beyond the L2 cache
local CHAIN = 20        -- launches per timed call, each on the previous result
local SAMPLES, PAD = 4096, 1024 -- as in harness.cu
local CANARY = -7.0
local TARGET = 0.7      -- fraction of the device-to-device copy bandwidth

-- The harness returns 0, a CUDA error code, or one of its own.
local CUDA = {
  [1] = "cudaErrorInvalidValue", [2] = "cudaErrorMemoryAllocation",
  [9] = "cudaErrorInvalidConfiguration: zero blocks, or more than 1024 threads per block?",
  [98] = "cudaErrorInvalidDeviceFunction", [209] = "cudaErrorNoKernelImageForDevice",
  [700] = "cudaErrorIllegalAddress: a thread read or wrote outside the arrays",
  [701] = "cudaErrorLaunchOutOfResources", [716] = "cudaErrorMisalignedAddress",
  [719] = "cudaErrorLaunchFailure",
}
local function status(rc)
  if rc == -2 then return "a thread wrote past c[n-1]: the last block needs a bounds check" end
  if rc == -1 then return "the harness could not allocate device memory" end
  return "CUDA error " .. rc .. (CUDA[rc] and (" (" .. CUDA[rc] .. ")") or "")
end

local function vec(n, seed) return engine.array.random("f32", n, { seed = seed }) end

return lab {
  id = "gpu-vector-add",
  title = "GPU vector add: launch configuration and bounds",
  lecture = "l24-gpu-computing",
  submission = {
    file = "vadd.cu", lang = "cuda",
    -- -x cu: every input is CUDA, including the baseline (copied in as a .c file).
    -- sm_90 code for H100/H200, plus compute_90 PTX that newer GPUs compile on load.
    cflags = { "-O2", "-x", "cu", "-arch=sm_90" },
    support = { "harness.cu" },
  },
  exports = {
    vadd = "int(const float*, const float*, float*, long)",
    vadd_load = "int(const float*, const float*, long)",
    vadd_timed = "int(float*, long, long)",
  },
  -- Not a vector add: a device-to-device cudaMemcpyAsync of the same
  -- elements, the yardstick of the bandwidth check.
  baseline = "baseline.cu",
  hints = {
    "A launch vadd_kernel<<<blocks, threads>>> starts blocks * threads threads, and the " ..
    "starter starts only 256 of them, in one block, which runs on one of the GPU's 100-odd " ..
    "multiprocessors. Give every element its own thread: threads = 256 per block and " ..
    "blocks = (n + 255) / 256, rounded up so the last few elements are not forgotten.",
    "With one thread per element, thread i is blockIdx.x * blockDim.x + threadIdx.x " ..
    "(compute it as a long). Rounding the number of blocks up starts up to 255 threads " ..
    "past the end, so the kernel must check `if (i < n)` before touching c[i]: the harness " ..
    "puts canary values after c and reports any thread that overwrites them.",
    "Keep the early return for n <= 0: a launch with zero blocks fails with " ..
    "cudaErrorInvalidConfiguration. And return cudaGetLastError() after the launch, so a " ..
    "bad configuration is reported instead of silently computing nothing.",
  },
  checks = {
    check "correct for every size" { points = 4, gpu = true, timeout = 120, function(t)
      for _, n in ipairs { 0, 1, 31, 255, 256, 257, 1000, 65537, 1000003, (1 << 22) + 1 } do
        local a, b = vec(n, 100 + n), vec(n, 200 + n)
        local c = engine.array.zeros("f32", n)
        local rc = t.sub.vadd(a, b, c, n)
        if rc ~= 0 then t:ok(false, "n = " .. n .. ": " .. status(rc)) end
        for i = 1, n do
          local want = a[i] + b[i]
          -- One float rounding of a sum in [0, 2): at most 2^-24 * 2 away.
          if not (math.abs(c[i] - want) <= 1.2e-7) then
            t:near(c[i], want, 1.2e-7, string.format("n = %d, c[%d]", n, i - 1))
          end
        end
      end
    end },

    check "bandwidth: 0.7 of a device copy" { points = 6, gpu = true, timed = true, timeout = 180,
      function(t)
        local a, b = vec(N_TIMED, 1), vec(N_TIMED, 2)
        for _, impl in ipairs { t.sub, t.baseline } do
          local rc = impl.vadd_load(a, b, N_TIMED)
          if rc ~= 0 then t:ok(false, "loading the data: " .. status(rc)) end
        end
        local out = engine.array.zeros("f32", SAMPLES + 2 * PAD)
        -- Each repetition adds a different length; the result a + CHAIN * b
        -- (exact: the harness rounds a and b to multiples of 1/1024) proves
        -- that every launch of the chain ran over every element.
        local r = t:scaling(function(impl, rep)
          local n = N_TIMED - 4099 * rep
          local rc = impl.vadd_timed(out, n, CHAIN)
          if impl ~= t.sub then return end
          if rc ~= 0 then t:ok(false, "timed run, n = " .. n .. ": " .. status(rc)) end
          for k = 0, SAMPLES - 1 do
            local i = k * n // SAMPLES + 1
            local want = math.floor(a[i] * 1024) / 1024 + CHAIN * (math.floor(b[i] * 1024) / 1024)
            if out[k + 1] ~= want then
              t:eq(out[k + 1], want, string.format("timed run, n = %d: after %d launches, c[%d]",
                n, CHAIN, i - 1))
            end
          end
          for k = SAMPLES + 1, SAMPLES + 2 * PAD do
            if out[k] ~= CANARY then
              t:ok(false, string.format("timed run, n = %d: %s", n, status(-2)))
            end
          end
        end, { reps = 5, threads = { 1 } })
        -- 12 bytes per element (two reads, one write) against the copy's 8.
        local fraction = 1.5 * r.speedup
        t:log("bandwidth %.2f of the device-to-device copy (%.0f GB/s against %.0f GB/s)", fraction,
          12 * N_TIMED * CHAIN / r.times[1].median / 1e9, 8 * N_TIMED * CHAIN / r.baseline.median / 1e9)
        t:at_least(fraction, TARGET, "fraction of the copy bandwidth")
      end },
  },
}
