-- gpu.lua — engine.gpu, the friendly API over lua/lx_gpu.c (the CUDA
-- backend in engine/gpu). Receives the native modules as its argument;
-- runs after engine.lua, which made the global `engine`.
--
-- Device arrays live in GPU memory: engine.gpu.array(x) copies a host
-- engine array there, d:host() copies it back. The kernels accept device
-- arrays, and, for convenience, host arrays too: those are copied to the
-- device and results copied back (the copies cost more than the kernel for
-- anything small; keep data on the device between calls when it matters).
--
-- Without a usable device every call except available() and built()
-- raises "engine.gpu.<fn>: no CUDA device: <why>" at the caller's line.
local native = ...
local G = native.gpu

local gpu = {}

--- engine.gpu.available(): true, or false and the reason ("no CUDA device: ...")
gpu.available = G.available
--- engine.gpu.built(): true when this parlab was built with CUDA
gpu.built = G.built

local function need(fn)
  local ok, why = G.available()
  if not ok then error("engine.gpu." .. fn .. ": " .. why, 3) end
end

--- engine.gpu.info(): { name, cc = "9.0", sm_count, warp_size, mem_total,
--- mem_free, clock_khz, mem_clock_khz, bus_width_bits, mem_bw_gbs,
--- l2_bytes, shared_per_block, shared_per_sm, copy_engines, ... }
function gpu.info() need("info"); return G.info() end

--- engine.gpu.array(x): a device copy of the host engine array x
function gpu.array(x) need("array"); return G.from_host(x) end
--- engine.gpu.zeros(dtype, n): n zeros of "f32", "f64" or "i64" on the device
function gpu.zeros(dtype, n) need("zeros"); return G.zeros(dtype, n) end
--- engine.gpu.is_array(x): whether x is a device array
function gpu.is_array(x) return G.kind(x) == "device" end
--- engine.gpu.sync(): wait for all queued GPU work (engine.gpu calls already do)
function gpu.sync() need("sync"); return G.sync() end
--- engine.gpu.fill(d, v): every element of the device array d set to v
function gpu.fill(d, v) need("fill"); return G.fill(d, v) end

-- A device array for x: x itself, or a temporary copy of a host array
-- (second result true: free it after use).
local function dev(x, fn, what)
  local k = G.kind(x)
  if k == "device" then return x, false end
  if k == "host" then return G.from_host(x), true end
  error(string.format("engine.gpu.%s: %s must be an engine array or a device array, got %s",
    fn, what, type(x)), 3)
end

local function release(d, temp) if temp then d:free() end end

local function opt_table(opts, fn, example)
  if opts ~= nil and type(opts) ~= "table" then
    error("engine.gpu." .. fn .. ": options must be a table such as " .. example, 3)
  end
  return opts or {}
end

--- engine.gpu.add(a, b [, c]): c = a + b elementwise (f32 or f64). With
--- host arrays the result is a host array (c, or a new one); with device
--- arrays a device array.
function gpu.add(a, b, c)
  need("add")
  local da, ta = dev(a, "add", "a")
  local db, tb = dev(b, "add", "b")
  local host_out = (c == nil and ta) or (c ~= nil and G.kind(c) == "host")
  local dc
  if c == nil or host_out then dc = G.zeros(da:dtype(), c and #c or #da) else dc = c end
  G.vadd(da, db, dc)
  release(da, ta)
  release(db, tb)
  if not host_out then return dc end
  local out
  if c ~= nil then out = dc:download(c) else out = dc:host() end
  dc:free()
  return out
end

gpu.sum_variants = { "atomic", "shared", "shuffle", "cub" }

--- engine.gpu.sum(x, { variant = "shuffle", n = #x }): the sum of x
--- (device or host array), by one of the reductions: "atomic" (one
--- atomicAdd per element), "shared" (a tree in shared memory), "shuffle"
--- (warp shuffles, the default) or "cub" (cub::DeviceReduce)
function gpu.sum(x, opts)
  need("sum")
  opts = opt_table(opts, "sum", "{ variant = \"shared\" }")
  local d, temp = dev(x, "sum", "x")
  local ok, s = pcall(G.reduce, opts.variant or "shuffle", d, opts.n)
  release(d, temp)
  if not ok then error(s, 2) end
  return s
end

gpu.matmul_variants = { "naive", "tiled", "cublas" }

-- Run op over device copies of A, B, C; copy C back when it is a host array.
local function with_matrices(fn, A, B, C, op)
  local dA, tA = dev(A, fn, "A")
  local dB, tB = dev(B, fn, "B")
  local dC, tC = dev(C, fn, "C")
  local ok, err = pcall(op, dA, dB, dC)
  if ok and tC then ok, err = pcall(dC.download, dC, C) end
  release(dA, tA)
  release(dB, tB)
  release(dC, tC)
  if not ok then error(err, 3) end
end

--- engine.gpu.matmul(A, B, C, m, n, k, { variant = "tiled" }): C = A B,
--- row-major f32 (A m x k, B k x n, C m x n); variants "naive", "tiled"
--- (32 x 32 shared-memory tiles) and "cublas"
function gpu.matmul(A, B, C, m, n, k, opts)
  need("matmul")
  opts = opt_table(opts, "matmul", "{ variant = \"tiled\" }")
  local v = opts.variant or "tiled"
  with_matrices("matmul", A, B, C, function(dA, dB, dC) G.matmul(v, dA, dB, dC, m, n, k) end)
end

--- engine.gpu.sgemm(A, B, C, m, n, k [, alpha, beta]): C = alpha A B + beta C
--- through cuBLAS, row-major f32 (device or host arrays)
function gpu.sgemm(A, B, C, m, n, k, alpha, beta)
  need("sgemm")
  with_matrices("sgemm", A, B, C, function(dA, dB, dC) G.sgemm(dA, dB, dC, m, n, k, alpha, beta) end)
end

--- engine.gpu.dgemm(...): the same for f64
function gpu.dgemm(A, B, C, m, n, k, alpha, beta)
  need("dgemm")
  with_matrices("dgemm", A, B, C, function(dA, dB, dC) G.dgemm(dA, dB, dC, m, n, k, alpha, beta) end)
end

--- engine.gpu.transfers({ bytes = 64 << 20, reps = 5 }): GB/s of host to
--- device and back from pageable (malloc) and pinned (cudaMallocHost)
--- memory, and device to device: { h2d_pageable, h2d_pinned,
--- d2h_pageable, d2h_pinned, d2d, bytes, reps }
function gpu.transfers(opts)
  need("transfers")
  opts = opt_table(opts, "transfers", "{ bytes = 1 << 26 }")
  return G.transfers(opts.bytes or (64 << 20), opts.reps or 5)
end

--- engine.gpu.overlap({ n = 1 << 24, streams = 4, chunks = 16 }): the same
--- upload, kernel, download done in order on one stream, then in chunks
--- over several streams: { serial_s, overlapped_s, speedup, h2d_s,
--- kernel_s, d2h_s, copy_engines, ... }
function gpu.overlap(opts)
  need("overlap")
  opts = opt_table(opts, "overlap", "{ streams = 4 }")
  return G.overlap(opts.n or (1 << 24), opts.streams or 4, opts.chunks or 16)
end

engine.gpu = gpu
