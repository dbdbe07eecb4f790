-- engine.lua — the friendly `engine` table over the native bindings.
-- Receives the native modules (array, measure, pool) as its argument.
local native = ...
local A, M, P = native.array, native.measure, native.pool

local array = {}

--- engine.array.zeros(dtype, n): n zeros of "f64", "f32" or "i64".
function array.zeros(dtype, n) return A.zeros(dtype, n) end

--- engine.array.random(dtype, n, { seed = 1, lo = 0, hi = 1 }):
--- deterministic uniform values in [lo, hi).
function array.random(dtype, n, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("engine.array.random: options must be a table such as { seed = 1 }", 2)
  end
  opts = opts or {}
  return A.random(dtype, n, opts.seed or 1, opts.lo or 0, opts.hi or 1)
end

--- engine.array.from(dtype, { 1, 2, 3 })
function array.from(dtype, values) return A.from(dtype, values) end

engine = {
  array = array,
  cores = P.cores,                 -- cores this process may use
  default_threads = P.default_threads, -- PARLAB_NUM_THREADS or cores()
  time = M.time,                   -- monotonic seconds
  stats = M.stats,                 -- median, min, max, q1, q3, spread of samples
}
