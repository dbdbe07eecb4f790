-- roofline: predict, for each of several kernels, whether it is memory- or
-- compute-bound and how many GFLOP/s the roofline allows, on this machine
-- (the probe's measured peak and STREAM triad bandwidth) and on others.
-- The expected answers are computed here, from the grader's own flop and
-- byte counts; the submission is a Lua file whose predict() runs in a jail.

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

-- Ask the submission about `kernels` on a machine, and compare every
-- answer with the roofline computed here.
local function verify(t, label, peak, bw, kernels)
  local got = t.sub.predict({ peak_gflops = peak, bw_gbs = bw, kernels = kernels })
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
      })
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
