-- threads.lua — engine.threads: the engine's thread pool for labs and Lua
-- submissions. Receives the native modules (native.threads is
-- lua/lx_threads.c) and adds `engine.threads` to the `engine` table that
-- engine.lua made.
--
-- Loops and maps run on the process's pool (engine.threads.size() workers,
-- PARLAB_NUM_THREADS or all cores). A Lua function runs in per-worker Lua
-- states, not in the caller's: it is sent there as bytecode, its arguments
-- are copied (engine arrays are shared, by reference), and the rules are
-- those of Python's pickling:
--   * a function may use globals, but no upvalues (no local variables of
--     an enclosing function): pass such values as extra arguments;
--   * arguments must be nil, booleans, numbers, strings, engine arrays,
--     Lua functions following the same rule, or plain tables of those
--     (no metatables, no cycles);
--   * a worker cannot change the caller's tables or globals: results come
--     back as return values (map, submit) or through engine arrays.
-- Anything else is refused with a message that names the argument.
-- Called from inside a worker, these functions run inline, one call after
-- another, in that worker's state.
local native = ...
local T = native.threads

local threads = {}

local SCHEDULES = { static = 0, dynamic = 1, guided = 2 }
local OPTIONS = { schedule = true, chunk = true, threads = true }

local function whole(x) return type(x) == "number" and x >= 0 and x == math.floor(x) end

-- opts = { schedule = "static"|"dynamic"|"guided", chunk = k, threads = t }
local function options(fname, opts)
  if opts == nil then return 0, 0, 0 end
  if type(opts) ~= "table" then
    error(fname .. ": options must be a table such as { schedule = \"dynamic\", chunk = 4 }", 3)
  end
  for k in pairs(opts) do
    if not OPTIONS[k] then
      error(fname .. ": unknown option '" .. tostring(k) .. "' (use schedule, chunk, threads)", 3)
    end
  end
  local s = SCHEDULES[opts.schedule or "static"]
  if not s then
    error(fname .. ": schedule must be \"static\", \"dynamic\" or \"guided\", got "
      .. tostring(opts.schedule), 3)
  end
  local chunk, t = opts.chunk or 0, opts.threads or 0
  if not whole(chunk) then error(fname .. ": chunk must be a whole number >= 1", 3) end
  if not whole(t) then error(fname .. ": threads must be a whole number >= 1", 3) end
  return s, math.tointeger(chunk), math.tointeger(t)
end

--- engine.threads.parallel_for(n, fn, opts, ...): call fn(i, ...) for
--- i = 1..n on the pool's workers; returns nothing. opts.schedule:
--- "static" (default: one contiguous block per worker, or chunks of
--- opts.chunk dealt round-robin), "dynamic" (chunks of opts.chunk, default
--- 1, handed out as workers become free) or "guided" (chunks that shrink
--- with the work left, at least opts.chunk). opts.threads uses fewer
--- workers. fn may also be the name of a native kernel (see kernels): then
--- out[i] = kernel(i) for an engine array `out` given as the first extra
--- argument (or the results are dropped). An error in any worker stops the
--- loop and is raised here, naming the worker.
function threads.parallel_for(n, fn, opts, ...)
  local s, c, t = options("engine.threads.parallel_for", opts)
  return T.parallel_for(n, fn, s, c, t, ...)
end

--- engine.threads.map(fn, items, opts, ...) -> results: fn(item, ...) for
--- every item of a list or an engine array, results in item order (one
--- per item). With a native kernel name instead of fn: a list gives a
--- list, an engine array gives a new f64 engine array.
function threads.map(fn, items, opts, ...)
  local s, c, t = options("engine.threads.map", opts)
  return T.map(fn, items, s, c, t, ...)
end

--- engine.threads.submit(fn, ...) -> future: run fn(...) on a worker.
--- future:wait() returns fn's results (or raises its error);
--- future:done() says whether it has finished. The caller never runs
--- tasks while it waits (as with Python's ThreadPoolExecutor): size()
--- pool threads run them, so waits see each task finish as it happens.
threads.submit = T.submit

--- engine.threads.wait_any(futures) -> i, futures[i]: block until one of
--- the futures has finished; i is the lowest finished index.
threads.wait_any = T.wait_any

--- for f in engine.threads.as_completed(futures) do ... end: the futures
--- in the order they finish (each one as soon as it has).
function threads.as_completed(futures)
  if type(futures) ~= "table" then
    error("engine.threads.as_completed: expects a list of futures", 2)
  end
  local left = table.move(futures, 1, #futures, 1, {})
  return function()
    if #left == 0 then return nil end
    local i, f = T.wait_any(left)
    table.remove(left, i)
    return f
  end
end

--- Native kernels, by name, for parallel_for and map: number -> number.
---   square(x), sqrt(x), collatz(x) (steps to reach 1: irregular cost),
---   isprime(x) (1 or 0, trial division: cost grows with x),
---   spin(x) (work proportional to x; returns x).
threads.kernels = { "square", "sqrt", "collatz", "isprime", "spin" }

--- engine.threads.sum(array, opts): parallel sum of an engine array.
function threads.sum(array, opts)
  local s, c, t = options("engine.threads.sum", opts)
  return T.sum(array, s, c, t)
end

--- engine.threads.fill(array, value, opts): set every element.
function threads.fill(array, value, opts)
  local s, c, t = options("engine.threads.fill", opts)
  return T.fill(array, value, s, c, t)
end

--- engine.threads.atomic_add(array, i, v) -> new value: an indivisible
--- array[i] = array[i] + v (compare with the racy plain version).
threads.atomic_add = T.atomic_add

--- engine.threads.size(): workers in the pool.
threads.size = T.size
--- engine.threads.worker(): inside a worker, its index (0-based); else nil.
threads.worker = T.worker
--- engine.threads.stats(): per worker { worker, busy (s), chunks, tasks,
--- steals } since the pool started or stats_reset(); busy times side by
--- side show load imbalance.
threads.stats = T.stats
threads.stats_reset = T.stats_reset
--- engine.threads.sleep(seconds): at most 60 s.
threads.sleep = T.sleep

local function table_opts(fname, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(fname .. ": expects a table of options", 3) end
  for k in pairs(opts) do
    if not known[k] then error(fname .. ": unknown option '" .. tostring(k) .. "'", 3) end
  end
  return opts
end

--- engine.threads.counter_demo{ mode = "none"|"mutex"|"atomic"|"partials",
--- threads = t, increments = k } -> { mode, count, expected, lost, seconds }:
--- t threads each add 1 to one shared counter k times (default 1e6), with
--- no protection (updates get lost), a mutex, an atomic add, or private
--- partial sums added once at the end. Really run and timed.
function threads.counter_demo(opts)
  opts = table_opts("engine.threads.counter_demo", opts,
    { mode = true, threads = true, increments = true })
  return T.counter_demo(opts.mode or "none", opts.threads or T.size(),
    math.tointeger(opts.increments or 1000000) or -1)
end

--- engine.threads.gil_demo{ threads = n, work = w, slice = s } ->
--- { threads, work, serial, shared, separate, speedup_shared,
---   speedup_separate }: the same Lua loop of w iterations (default 1e7)
--- split over n threads (default size()), run (1) serially, (2) by n
--- threads sharing ONE interpreter behind a lock taken for every slice of
--- s iterations (default 1e4; Python's GIL), (3) by n threads with one
--- interpreter each. Times in seconds, all measured.
function threads.gil_demo(opts)
  opts = table_opts("engine.threads.gil_demo", opts, { threads = true, work = true, slice = true })
  return T.gil_demo(opts.threads or T.size(), math.tointeger(opts.work or 10000000) or -1,
    math.tointeger(opts.slice or 10000) or -1)
end

--- Synchronization kit. Objects are named: the same name gives the same
--- object in every worker of this state's pool (values cannot be copied
--- into a worker, names can).
---   m = engine.threads.mutex(name):       m:lock(), m:unlock(), m:trylock()
---   s = engine.threads.semaphore(name, n): s:acquire(), s:release(), s:value()
---   rw = engine.threads.rwlock(name):     rw:read_lock(), rw:write_lock(), rw:unlock()
---   c = engine.threads.condition(name):   c:wait(m), c:signal(), c:broadcast()
---   b = engine.threads.barrier(name, n):  b:wait() (true in the last to arrive)
--- engine.threads.watchdog(seconds) sets the deadlock watchdog's timeout
--- (default 5; 0 turns it off). When the waits form a cycle of held locks,
--- or nothing progresses for that long, the waiting calls fail with
---   "lock on mutex 'B': deadlock detected, the watchdog broke it: deadlock:
---    worker 0 -> worker 1 -> worker 0; worker 0 waits for mutex 'B', held by
---    worker 1; worker 1 waits for mutex 'A', held by worker 0"
--- and engine.threads.deadlock_report() returns { text, lines } until the
--- next parallel_for, map or submit resets the kit (or sync_reset()).
threads.mutex = T.mutex
threads.semaphore = T.semaphore
threads.rwlock = T.rwlock
threads.condition = T.condition
threads.barrier = T.barrier
threads.watchdog = T.watchdog
threads.deadlock_report = T.deadlock_report
threads.sync_reset = T.sync_reset

engine.threads = threads
