-- procs.lua — engine.procs: process pools, child processes and
-- inter-process communication for labs and Lua submissions. Receives the
-- native modules (native.procs is lua/lx_procs.c) and adds `engine.procs`
-- to the `engine` table that engine.lua made.
--
-- The counterparts in Python: multiprocessing.Pool and
-- concurrent.futures.ProcessPoolExecutor (pool, map, imap_unordered,
-- apply, submit), multiprocessing.Process, Queue, Pipe, Lock, Value and
-- Array, numpy/joblib memmaps, joblib.Memory (cache).
--
-- A pool's workers are processes forked once, when the pool starts; each
-- runs its own Lua state. A function sent to them follows the same rules
-- as engine.threads (Python's pickling rules): no upvalues (pass such
-- values as arguments), arguments that are nil, booleans, numbers,
-- strings, engine arrays (shared memory, by reference), functions of the
-- same kind, or plain tables of those; anything else is refused with a
-- message naming the argument. Locks, values, queues, pipes and memmaps
-- may be passed as arguments too (directly, or as values of a plain table
-- argument), and the worker gets the same object.
--
-- An error raised in a worker is raised again in the caller, with the
-- worker's message and traceback and "(worker 1, pid 42)". A worker that
-- dies while running a task (a signal, exit) is replaced and the task is
-- run again, up to `retries` more times (default 2); after that the call
-- fails with the cause ("worker 1 (pid 42) was killed by signal 11
-- (SIGSEGV: ...) while running it").
local native = ...
local P = native.procs

local procs = {}

local function whole(x) return type(x) == "number" and x >= 0 and x == math.floor(x) end

local function table_opts(fname, opts, known, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(fname .. ": options must be a table such as { chunksize = 4 }", level + 1)
  end
  for k in pairs(opts) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(fname .. ": unknown option '" .. tostring(k) .. "' (use " .. table.concat(names, ", ") .. ")",
        level + 1)
    end
  end
  return opts
end

local MAP_OPTS = { chunksize = true }

local function chunksize(fname, opts)
  opts = table_opts(fname, opts, MAP_OPTS, 3)
  local c = opts.chunksize
  if c ~= nil and (not whole(c) or c < 1) then
    error(fname .. ": chunksize must be a whole number >= 1", 3)
  end
  return c and math.tointeger(c) or nil
end

---------------------------------------------------------------- pools

local Pool = {}
Pool.__index = Pool
Pool.__name = "engine.procs pool"

local function wrap(native_pool) return setmetatable({ _p = native_pool }, Pool) end

--- pool = engine.procs.pool{ workers = n, retries = 2 }: start n worker
--- processes (default engine.default_threads(): PARLAB_NUM_THREADS or
--- every core). retries: how many more times a task is run after the
--- worker running it died (0 .. 100).
function procs.pool(opts)
  opts = table_opts("engine.procs.pool", opts, { workers = true, retries = true }, 2)
  local w, r = opts.workers or 0, opts.retries
  if not whole(w) then error("engine.procs.pool: workers must be a whole number >= 1", 2) end
  if r ~= nil and not whole(r) then error("engine.procs.pool: retries must be a whole number >= 0", 2) end
  return wrap(P.new(math.tointeger(w), r and math.tointeger(r) or -1))
end

--- pool:map(fn, items, { chunksize = k }, ...) -> results: fn(item, ...)
--- for every item of a list or an engine array, in item order. Items go
--- to the workers in chunks of k (default: about four chunks per worker,
--- as Python's Pool.map); an idle worker takes the next chunk.
function Pool:map(fn, items, opts, ...)
  local c = chunksize("engine.procs.map", opts)
  return P.map(self._p, fn, items, c, ...)
end

--- for i, v in pool:imap_unordered(fn, items, { chunksize = k }, ...) do
--- ... end: the results as they complete (i is the item's index). Leaving
--- the loop early cancels the chunks not yet started.
function Pool:imap_unordered(fn, items, opts, ...)
  local c = chunksize("engine.procs.imap_unordered", opts)
  return P.imap(self._p, fn, items, c or 1, ...)
end

--- pool:apply(fn, ...) -> fn(...) run in a worker; blocks for the results.
function Pool:apply(fn, ...) return P.apply(self._p, fn, ...) end

--- pool:submit(fn, ...) -> future (Python's apply_async, Executor.submit):
--- f:wait() gives fn's results or raises its error; f:done();
--- f:exception() (nil, or the message); f:crashed() (its workers died);
--- f:cancel() (true if it had not started).
function Pool:submit(fn, ...) return P.submit(self._p, fn, ...) end

--- pool:close(): wait for every task, then stop the workers (reaped: no
--- zombies). pool:terminate(): stop at once. A pool that is garbage
--- collected is terminated.
function Pool:close() return P.close(self._p) end
function Pool:terminate() return P.terminate(self._p) end
--- pool:size(), pool:pids() (the workers' process ids)
function Pool:size() return P.size(self._p) end
function Pool:pids() return P.pids(self._p) end
--- pool:stats() -> per worker { worker, pid, tasks, busy (s), restarts },
--- and totals: submitted, finished, crashes, retries, failed, cancelled.
function Pool:stats() return P.stats(self._p) end

---------------------------------------------------------------- the default pool

local default_pool
local function default()
  local d = P.default()
  if not default_pool or default_pool._p ~= d then default_pool = wrap(d) end
  return default_pool
end

--- engine.procs.map / imap_unordered / apply / submit: the same on the
--- default pool (started on first use, engine.default_threads() workers).
function procs.map(fn, items, opts, ...)
  local c = chunksize("engine.procs.map", opts)
  return P.map(default()._p, fn, items, c, ...)
end

function procs.imap_unordered(fn, items, opts, ...)
  local c = chunksize("engine.procs.imap_unordered", opts)
  return P.imap(default()._p, fn, items, c or 1, ...)
end

function procs.apply(fn, ...) return P.apply(default()._p, fn, ...) end
function procs.submit(fn, ...) return P.submit(default()._p, fn, ...) end
--- engine.procs.default() -> the default pool
procs.default = default

--- engine.procs.wait_any(futures) -> i, futures[i]: block until one has
--- finished (the lowest such index).
procs.wait_any = P.wait_any

--- for f in engine.procs.as_completed(futures) do ... end
function procs.as_completed(futures)
  if type(futures) ~= "table" then
    error("engine.procs.as_completed: expects a list of futures", 2)
  end
  local left = table.move(futures, 1, #futures, 1, {})
  return function()
    if #left == 0 then return nil end
    local i, f = P.wait_any(left)
    table.remove(left, i)
    return f
  end
end

---------------------------------------------------------------- processes

--- p = engine.procs.process(fn, ...): a child process that will run
--- fn(...) in a fresh Lua state (multiprocessing.Process). p:start();
--- p:join([timeout]) -> exit status (0: fn returned, 1: it raised an
--- error, printed on stderr; -n: killed by signal n), or nil when the
--- timeout passed; p:alive(); p:terminate() (SIGTERM); p:pid();
--- p:exitcode() (nil while running). The child dies with its parent.
procs.process = P.process

--- engine.procs.active_children() -> live child processes of this one
--- (pool workers included).
procs.active_children = P.active_children

---------------------------------------------------------------- IPC

--- q = engine.procs.queue(capacity, bytes): a bounded queue between
--- processes (multiprocessing.Queue(maxsize)): at most `capacity`
--- messages (default 1024) and `bytes` bytes of them (default 1 MiB).
--- q:put(v [, timeout]) blocks while it is full, q:get([timeout]) while
--- it is empty (either raises "timed out" after timeout seconds). q:size();
--- q:stats() -> { puts, gets, depth, max_depth, capacity, bytes }.
--- Values are copied (plain data: no functions with upvalues, no arrays).
procs.queue = P.queue

--- a, b = engine.procs.pipe(bytes): the two ends of a duplex pipe
--- (multiprocessing.Pipe()): a:send(v) is received by b:recv([timeout]),
--- and the other way round; end:poll() says whether a message waits.
procs.pipe = P.pipe

--- l = engine.procs.lock(): l:acquire([timeout]) -> true (false when the
--- timeout passed; a second result "owner died" when its last holder died
--- holding it), l:release(). Recursive, like multiprocessing.RLock.
procs.lock = P.lock

--- v = engine.procs.value(dtype, init) (multiprocessing.Value): dtype
--- "f64" (default) or "i64". v:get(), v:set(x), v:add(d) -> new value, each
--- atomic; v:lock() / v:unlock() around a compound update.
procs.value = P.value

--- a = engine.procs.array(dtype, n_or_list) (multiprocessing.Array): a
--- plain table { data = <shared engine array>, lock = <lock> }, which can
--- be passed to workers as one argument.
function procs.array(dtype, init)
  local data
  if type(init) == "table" then data = engine.array.from(dtype, init)
  else data = engine.array.zeros(dtype, init) end
  return { data = data, lock = P.lock() }
end

--- engine.procs.memmap(path, dtype, mode, n) -> an engine array over a
--- file (numpy.memmap, joblib's mmap_mode): mode "r" (read-only), "r+"
--- (read-write) or "w+" (create n zeroed elements). The file holds the raw
--- elements. Passed to a worker, the array travels as its file name and
--- the worker maps the file itself, as joblib does.
procs.memmap = P.memmap
--- engine.procs.save(path, array): write an array's elements to a file.
procs.save = P.save

---------------------------------------------------------------- caching

--- f2 = engine.procs.cache(f): memoize f (joblib.Memory.cache, in
--- memory): f2(...) computes f(...) once per distinct arguments, keyed by
--- a hash of f's bytecode and of the arguments as they would be sent to a
--- worker. f's results must be plain values. f2.hits and f2.misses count.
function procs.cache(f)
  if type(f) ~= "function" then error("engine.procs.cache: expects a function", 2) end
  local store = {}
  local memo = { hits = 0, misses = 0 }
  local unpack = table.unpack
  return setmetatable(memo, {
    __call = function(self, ...)
      local key = P.key(f, ...)
      local hit = store[key]
      if hit then
        self.hits = self.hits + 1
        return unpack(hit, 1, hit.n)
      end
      self.misses = self.misses + 1
      local r = table.pack(f(...))
      store[key] = r
      return unpack(r, 1, r.n)
    end,
  })
end

--- engine.procs.key(...) -> a 32-digit hex hash of the values as they
--- would be sent to a worker (functions by their bytecode).
procs.key = P.key

---------------------------------------------------------------- inside workers

--- engine.procs.worker(): inside a pool worker, its index (0-based); else nil.
procs.worker = P.worker
--- engine.procs.attempt(): inside a task, 1 the first time it runs, 2 after
--- its first worker died, ...; 0 outside tasks.
procs.attempt = P.attempt
--- engine.procs.pid(): this process's id.
procs.pid = P.pid
--- engine.procs.crash_for_testing(how): end this worker process now, as a
--- bug would: "segv" (SIGSEGV, the default), "abort", "kill" (SIGKILL) or
--- "exit" (exit status 3). Refused in the main process.
procs.crash_for_testing = P.crash_for_testing

procs.cores = engine.cores

engine.procs = procs
