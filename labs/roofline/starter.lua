-- predict.lua — Lab roofline: predict where kernels sit on a roofline.
--
-- predict(machine) receives
--   machine.peak_gflops  the machine's double-precision peak, GFLOP/s
--   machine.bw_gbs       its memory bandwidth (STREAM triad), GB/s (1e9 bytes/s)
--   machine.kernels      a list of kernels, each { id = "...", name = "...", ... }:
--                        name is one of "triad", "dot", "sum", "axpy",
--                        "stencil3", "poly" (with .degree) and "gemm" (with .n);
--                        the brief defines each of them
-- and returns, for every kernel, out[kernel.id] = { bound = "memory" or
-- "compute", gflops = the attainable GFLOP/s under the roofline }.
--
-- This starter guesses that everything runs at peak. Count each kernel's
-- flops and bytes, and let the roofline decide.

-- Floating-point operations and bytes moved to or from memory, per
-- element (per call for gemm). TODO: fill these in, kernel by kernel.
local function flops_and_bytes(k)
  return 1, 1
end

local function predict(machine)
  local out = {}
  for _, k in ipairs(machine.kernels) do
    local flops, bytes = flops_and_bytes(k)
    local intensity = flops / bytes
    out[k.id] = { bound = "compute", gflops = machine.peak_gflops } -- TODO: use intensity
  end
  return out
end

return { predict = predict }
