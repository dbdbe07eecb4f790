-- machine.lua — engine.simd, engine.blas, engine.machine() and
-- engine.roofline over the native bindings (lx_simd.c, lx_blas.c,
-- lx_probe.c). Receives the native modules as its argument; runs after
-- engine.lua, which made the global `engine`.
local native = ...
local S, B, P = native.simd, native.blas, native.probe

local function variant(opts, fn)
  if opts == nil then return nil end
  if type(opts) ~= "table" then
    error("engine.simd." .. fn .. ": options must be a table such as { variant = \"avx2\" }", 3)
  end
  return opts.variant
end

local simd = {}

--- engine.simd.variants(): { {name, supported, lanes_f64, lanes_f32}, ... }
simd.variants = S.variants
--- engine.simd.best(): the variant "auto" runs on this CPU
simd.best = S.best
--- engine.simd.supported(name): true/false, and a sentence saying why
simd.supported = S.supported

--- engine.simd.sum(x, { variant = "avx2" }): sum of an f64 or f32 array
function simd.sum(x, opts) return S.sum(x, variant(opts, "sum")) end
--- engine.simd.dot(x, y, { variant = ... })
function simd.dot(x, y, opts) return S.dot(x, y, variant(opts, "dot")) end
--- engine.simd.axpy(a, x, y, { variant = ... }): y = y + a * x, in place
function simd.axpy(a, x, y, opts) return S.axpy(a, x, y, variant(opts, "axpy")) end
--- engine.simd.minmax(x, { variant = ... }): lo, hi (NaN-free input)
function simd.minmax(x, opts) return S.minmax(x, variant(opts, "minmax")) end
function simd.min(x, opts) return (S.minmax(x, variant(opts, "min"))) end
function simd.max(x, opts) return select(2, S.minmax(x, variant(opts, "max"))) end
--- engine.simd.quantize(x): q (int8 vector), scale, with x[i] ~ q[i] * scale
simd.quantize = S.quantize
--- engine.simd.i8({ 1, -2, 3 }): an int8 vector from integers in [-128, 127]
simd.i8 = S.i8
--- engine.simd.dot_i8(qa, qb, { variant = ... }): exact integer dot product
function simd.dot_i8(a, b, opts) return S.dot_i8(a, b, variant(opts, "dot_i8")) end

local blas = {}

--- engine.blas.dgemm(A, B, C, m, n, k [, alpha, beta]): C = alpha*A*B + beta*C,
--- row-major f64 arrays (A m x k, B k x n, C m x n), through OpenBLAS
blas.dgemm = B.dgemm
--- engine.blas.sgemm(...): the same for f32 arrays
blas.sgemm = B.sgemm
--- engine.blas.dot(x, y), engine.blas.axpy(a, x, y): cblas on f64/f32 arrays
blas.dot = B.dot
blas.axpy = B.axpy
--- engine.blas.gemm(A, B, C, m, n, k, { variant = "blocked", alpha, beta, threads }):
--- the teaching GEMMs: naive, interchange, blocked, simd_omp, openblas
function blas.gemm(A, Bm, C, m, n, k, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("engine.blas.gemm: options must be a table such as { variant = \"blocked\" }", 2)
  end
  opts = opts or {}
  return B.gemm(opts.variant or "openblas", A, Bm, C, m, n, k, opts.alpha or 1, opts.beta or 0,
    opts.threads or 0)
end
blas.variants = { "naive", "interchange", "blocked", "simd_omp", "openblas" }
--- engine.blas.info(): OpenBLAS core in use, what it detected by itself, ...
blas.info = B.info
--- engine.blas.threads(n): OpenBLAS's thread count
blas.threads = B.threads

local roofline = {}
local function roof(m)
  m = m or engine.machine()
  return m.peak.all, m.stream.triad
end
--- engine.roofline.attainable(ai [, machine]): min(peak, ai * triad bandwidth), GFLOP/s
function roofline.attainable(ai, m)
  local peak, bw = roof(m)
  return P.attainable(peak, bw, ai)
end
--- engine.roofline.ridge([machine]): peak / bandwidth, FLOP/byte
function roofline.ridge(m)
  local peak, bw = roof(m)
  return P.ridge(peak, bw)
end
--- engine.roofline.place(ai, gflops [, machine]): {ai, attainable, measured, fraction, bound}
function roofline.place(ai, gflops, m)
  local peak, bw = roof(m)
  return P.place(peak, bw, ai, gflops)
end
--- engine.roofline.kernels(): the engine kernels with FLOPs, bytes and intensity per element
roofline.kernels = P.kernels
--- engine.roofline.gemm_ai(n): best-case intensity of an n x n dgemm (n / 16)
roofline.gemm_ai = P.gemm_ai

engine.simd = simd
engine.blas = blas
engine.roofline = roofline
--- engine.machine(): the cached machine probe (cores, caches, isa, stream
--- {copy, scale, add, triad} GB/s, peak {single, all} GFLOP/s, ridge,
--- openblas {core, detected, ...}, kernels {{name, ai, gflops}, ...} as
--- the probe measured them, gpu, mpi)
engine.machine = P.machine
