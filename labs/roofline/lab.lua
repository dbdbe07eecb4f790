-- roofline: predict, for each of several kernels, whether it is memory- or
-- compute-bound and how many GFLOP/s the roofline allows, on this machine
-- (the probe's measured peak and STREAM triad bandwidth) and on others.
-- The expected answers are computed here, from the grader's own flop and
-- byte counts; the submission is a Lua file whose predict() runs in a jail.
-- The "this machine" check attaches a roofline figure to its result
-- (t:roofline): the roofs, the predictions and the rates measured here.

local TOL = 0.05   -- relative tolerance on the attainable GFLOP/s
local NEAR = 0.05  -- within 5% of the ridge, either bound is accepted

-- Flops and bytes per element (per call for gemm), counting 8 bytes for
-- every element of every array read, and again for every array written.
local function flops_and_bytes(k)
  if k.name == "triad" then return 2, 24
  elseif k.name == "dot" then return 2, 16
  elseif k.name == "sum" then return 1, 8
  elseif k.name == "axpy" then return 2, 24
  elseif k.name == "stencil3" then return 3, 16
  elseif k.name == "poly" then return 2 * k.degree, 16
  elseif k.name == "gemm" then return 2 * k.n ^ 3, 24 * k.n ^ 2
  end
  error("roofline lab: unknown kernel " .. k.name)
end

local function kernel(name, param, value)
  local k = { name = name, id = name }
  if param then
    k[param] = value
    k.id = name .. "-" .. value
  end
  return k
end

local function fmt(x) return string.format("%.4g", x) end

-- Where the kernels of the check sit on this machine, for the figure (not
-- graded): the machine probe's own measurements (`parlab info`: all cores,
-- arrays of 4x the last-level cache) of the engine's triad, dot, sum and
-- axpy, and an OpenBLAS dgemm timed here. stencil3 and poly have no engine
-- kernel, and a small gemm runs from the caches, not from memory: those
-- show the prediction alone.
local PROBED = { triad = "triad", dot = "dot_f64", sum = "sum_f64", axpy = "axpy_f64" }

local function dgemm_gflops(n)
  local A = engine.array.random("f64", n * n, { seed = 1 })
  local B = engine.array.random("f64", n * n, { seed = 2 })
  local C = engine.array.zeros("f64", n * n)
  engine.blas.dgemm(A, B, C, n, n, n) -- warm-up: OpenBLAS's threads, the pages
  local best = math.huge
  for _ = 1, 3 do
    local t0 = engine.time()
    engine.blas.dgemm(A, B, C, n, n, n)
    best = math.min(best, engine.time() - t0)
  end
  return 2 * n ^ 3 / best / 1e9
end

local function measured_gflops(m, k)
  if k.name == "gemm" then return k.n >= 512 and dgemm_gflops(k.n) or nil end
  for _, pk in ipairs(m.kernels or {}) do
    if pk.name == PROBED[k.name] then return pk.gflops end
  end
  return nil
end

-- Ask the submission about `kernels` on a machine, and compare every
-- answer with the roofline computed here. With `machine` (engine.machine()),
-- the check's result also gets the roofline figure: the roofs, the rates
-- measured here and the predictions, attached before any answer is judged
-- so that a failing submission sees where it went wrong.
local function verify(t, label, peak, bw, kernels, machine)
  local got = t.sub.predict({ peak_gflops = peak, bw_gbs = bw, kernels = kernels })
  if machine then
    local fig = {}
    for i, k in ipairs(kernels) do
      local f, b = flops_and_bytes(k)
      local p = type(got) == "table" and got[k.id]
      fig[i] = { name = k.id, ai = f / b, measured = measured_gflops(machine, k),
                 predicted = type(p) == "table" and type(p.gflops) == "number" and p.gflops or nil }
    end
    t:roofline { title = "Your predictions (small letters) and the rates measured here (capitals)",
                 peak = peak, bw = bw, kernels = fig }
  end
  t:eq(type(got), "table", label .. ": predict() must return a table")
  local ridge = peak / bw
  for _, k in ipairs(kernels) do
    local p = got[k.id]
    local what = string.format("%s, kernel %s", label, k.id)
    t:ok(type(p) == "table", what .. ": no prediction (expected out[\"" .. k.id .. "\"] = { bound = ..., gflops = ... })")
    local f, b = flops_and_bytes(k)
    local ai = f / b
    local want_bound = ai < ridge and "memory" or "compute"
    local want = math.min(peak, ai * bw)
    if math.abs(ai / ridge - 1) > NEAR then
      t:ok(p.bound == want_bound, string.format("%s: predicted %s-bound, but the roofline says %s-bound " ..
        "(ridge point %s flop/byte)", what, tostring(p.bound), want_bound, fmt(ridge)))
    else
      t:ok(p.bound == "memory" or p.bound == "compute", what .. ": bound must be \"memory\" or \"compute\"")
    end
    t:ok(type(p.gflops) == "number", what .. ": gflops must be a number")
    t:near(p.gflops, want, TOL * want, what .. ": attainable GFLOP/s (peak " .. fmt(peak) ..
      ", bandwidth " .. fmt(bw) .. " GB/s)")
  end
end

return lab {
  id = "roofline",
  title = "Predicting performance with the roofline",
  lecture = "l05-vectors-and-blas",
  submission = { file = "predict.lua", lang = "lua" },
  exports = { predict = "lua" },
  hints = {
    "Arithmetic intensity is flops divided by bytes moved to or from memory. Count 8 bytes for " ..
    "each element of each array a kernel reads, and 8 more for each array it writes: triad " ..
    "(a[i] = b[i] + q * c[i]) reads b and c and writes a, 24 bytes, for 2 flops.",
    "A scalar that stays in a register (the sum s of a dot product) moves no bytes, and neither " ..
    "do the neighbours x[i-1] and x[i+1] of a stencil: they were loaded for an earlier i and are " ..
    "still in cache. Horner's rule for a polynomial of degree d does d multiplies and d adds.",
    "The answer is min(peak, intensity * bandwidth), and the kernel is memory-bound when its " ..
    "intensity is below the ridge point, peak / bandwidth. For gemm (C = A * B, n x n) the flops " ..
    "are 2n^3 and the bytes 3 * 8n^2 (A and B read, C written once), so the intensity is n / 12.",
  },
  checks = {
    check "this machine" { points = 5, timeout = 60, function(t)
      local m = engine.machine()
      local peak, bw = m.peak.all, m.stream.triad
      t:log("this machine: peak %s GFLOP/s (all cores), STREAM triad %s GB/s, ridge %s flop/byte",
        fmt(peak), fmt(bw), fmt(peak / bw))
      verify(t, "this machine", peak, bw, {
        kernel("triad"), kernel("dot"), kernel("sum"), kernel("axpy"), kernel("stencil3"),
        kernel("poly", "degree", 4), kernel("poly", "degree", 256),
        kernel("gemm", "n", 32), kernel("gemm", "n", 1000),
      }, m)
    end },

    check "other machines" { points = 5, timeout = 60, function(t)
      -- Made-up machines with other ridge points and other kernel sizes, so
      -- that answers copied from `parlab info` do not pass.
      local machines = {
        { "a laptop", 200, 50 },          -- ridge 4
        { "a GPU", 9700, 1555 },          -- ridge 6.2
        { "an old server", 20, 40 },      -- ridge 0.5
      }
      local kernels = {
        kernel("triad"), kernel("dot"), kernel("sum"), kernel("axpy"), kernel("stencil3"),
        kernel("poly", "degree", 3), kernel("poly", "degree", 12), kernel("poly", "degree", 64),
        kernel("gemm", "n", 24), kernel("gemm", "n", 96), kernel("gemm", "n", 512),
      }
      for _, mach in ipairs(machines) do verify(t, mach[1], mach[2], mach[3], kernels) end
    end },
  },
}
