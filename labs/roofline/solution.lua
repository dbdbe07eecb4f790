-- predict.lua — reference solution for Lab roofline.
--
-- The roofline: a kernel of arithmetic intensity I (flops per byte moved
-- to or from memory) runs at most at min(peak, I * bandwidth). Below the
-- ridge point, I < peak / bandwidth, memory is the limit; above it, the
-- arithmetic units are. Every array element is counted once, at 8 bytes
-- (doubles), for each array the kernel reads and once more for each array
-- it writes; values that stay in registers or cache (the scalar s of a
-- reduction, the neighbours of a stencil) cost nothing.

local function flops_and_bytes(k)
  if k.name == "triad" then return 2, 24      -- a[i] = b[i] + q * c[i]: read b, c; write a
  elseif k.name == "dot" then return 2, 16    -- s += x[i] * y[i]: read x, y
  elseif k.name == "sum" then return 1, 8     -- s += x[i]: read x
  elseif k.name == "axpy" then return 2, 24   -- y[i] += a * x[i]: read x, y; write y
  elseif k.name == "stencil3" then return 3, 16 -- y[i] = c * (x[i-1] + x[i] + x[i+1]): read x once, write y
  elseif k.name == "poly" then return 2 * k.degree, 16 -- Horner: one multiply and one add per degree
  elseif k.name == "gemm" then                -- C = A * B: 2n^3 flops; read A, B, write C once
    return 2 * k.n ^ 3, 3 * 8 * k.n ^ 2
  end
  error("unknown kernel " .. tostring(k.name))
end

local function predict(machine)
  local ridge = machine.peak_gflops / machine.bw_gbs
  local out = {}
  for _, k in ipairs(machine.kernels) do
    local flops, bytes = flops_and_bytes(k)
    local intensity = flops / bytes
    out[k.id] = {
      bound = intensity < ridge and "memory" or "compute",
      gflops = math.min(machine.peak_gflops, intensity * machine.bw_gbs),
    }
  end
  return out
end

return { predict = predict }
