-- A wrong submission for Lab roofline: it counts the bytes a kernel reads
-- but forgets those it writes (triad as 16 bytes, not 24), so it predicts
-- memory-bound kernels 1.5 or 2 times too fast.
local function flops_and_bytes(k)
  if k.name == "triad" then return 2, 16
  elseif k.name == "dot" then return 2, 16
  elseif k.name == "sum" then return 1, 8
  elseif k.name == "axpy" then return 2, 16
  elseif k.name == "stencil3" then return 3, 8
  elseif k.name == "poly" then return 2 * k.degree, 8
  elseif k.name == "gemm" then return 2 * k.n ^ 3, 16 * k.n ^ 2
  end
  error("unknown kernel " .. tostring(k.name))
end

local function predict(machine)
  local ridge = machine.peak_gflops / machine.bw_gbs
  local out = {}
  for _, k in ipairs(machine.kernels) do
    local flops, bytes = flops_and_bytes(k)
    local ai = flops / bytes
    out[k.id] = {
      bound = ai < ridge and "memory" or "compute",
      gflops = math.min(machine.peak_gflops, ai * machine.bw_gbs),
    }
  end
  return out
end

return { predict = predict }
