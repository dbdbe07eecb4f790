-- lab.lua — the lab API (DESIGN.md §4) and the course manifest API.
--
-- Instructors write labs/<id>/lab.lua as `return lab { ... }` with
-- `check "name" { points = N, function(t) ... end }`, and
-- content/course.lua as `return course { ... module { ... } ... }`.
-- The grader (C) runs each check with a context `t` made by
-- __parlab.new_context; assertions raise a Fail object, which the runner
-- turns into a failed check with its message.

__parlab = {}

local Fail = {}
Fail.__index = Fail
Fail.__tostring = function(f) return f.message end

local function fail(msg) error(setmetatable({ message = msg }, Fail), 0) end

local function where(level)
  -- "file:line: " of the instructor's code that called the API; built by
  -- error() itself so it works without the debug library.
  local ok, e = pcall(error, "", level + 3)
  return (not ok and e) or ""
end

-- `return lab { ... }` is a tail call, so the lab file's frame is gone by
-- the time lab() validates: then the line is found in the source text the
-- loader left in __parlab.loading (path, text), by the field's name.
local function line_of(field)
  local src = __parlab.loading
  if not (src and src.text) then return nil end
  local n, fallback = 0, nil
  for line in (src.text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if field and line:match("^%s*" .. field .. "%s*=") then return src.path .. ":" .. n .. ": " end
    if not fallback and line:match("lab%s*{") then fallback = src.path .. ":" .. n .. ": " end
  end
  return fallback
end

local function api_error(msg, level, field)
  local w = where(level + 1)
  if w == "" then w = line_of(field) or "" end
  error(w .. msg, 0)
end

local function is_callable(f) return type(f) == "function" end

---------------------------------------------------------------- lab & check

local CHECK = {}

--- check "name" { points = 4, hidden = false, timed = false, gpu = false, timeout = 60, function(t) ... end }
function check(name)
  if type(name) ~= "string" or name == "" then
    api_error("check: expected a name, as in check \"sums correctly\" { ... }", 1)
  end
  return function(spec)
    if type(spec) ~= "table" then
      api_error("check \"" .. name .. "\": expected a table { points = N, function(t) ... end }", 1)
    end
    local fn = spec[1] or spec.run
    if not is_callable(fn) then
      api_error("check \"" .. name .. "\": missing its function(t) ... end", 1)
    end
    local points = spec.points
    if type(points) ~= "number" or points <= 0 then
      api_error("check \"" .. name .. "\": points must be a positive number", 1)
    end
    if spec.timeout ~= nil and (type(spec.timeout) ~= "number" or spec.timeout <= 0) then
      api_error("check \"" .. name .. "\": timeout must be a positive number of seconds", 1)
    end
    return setmetatable({
      name = name, points = points, fn = fn,
      hidden = spec.hidden and true or false,
      timed = spec.timed and true or false,
      gpu = spec.gpu and true or false,   -- skipped, with the reason, where no GPU exists
      timeout = spec.timeout or 60,
    }, CHECK)
  end
end

local LAB_FIELDS = {
  id = "string", title = "string", lecture = "string", submission = "table",
  exports = "table", hints = "table", checks = "table", baseline = "string",
  limits = "table",
}

--- lab { id = ..., title = ..., submission = { file = "sum.c", lang = "c",
---       cflags = {...} }, exports = { f = "double(const double*, long)" },
---       baseline = "baseline.c", hints = {...}, checks = {...} }
--- lab "id" (a string) instead names a lab in content/course.lua.
function lab(def)
  if type(def) == "string" then return { kind = "lab", id = def } end
  if type(def) ~= "table" then api_error("lab: expected a table { id = ..., checks = { ... } }", 1) end
  for k, v in pairs(def) do
    local want = LAB_FIELDS[k]
    if not want then api_error("lab: unknown field '" .. tostring(k) .. "'", 1, tostring(k)) end
    if type(v) ~= want then
      api_error("lab: field '" .. k .. "' must be a " .. want .. ", got " .. type(v), 1, k)
    end
  end
  for _, k in ipairs { "id", "title", "submission", "checks" } do
    if def[k] == nil then api_error("lab: missing required field '" .. k .. "'", 1) end
  end
  if not def.id:match("^[%w][%w%-_]*$") then
    api_error("lab: id '" .. def.id .. "' may hold only letters, digits, '-' and '_'", 1, "id")
  end
  local sub = def.submission
  -- submission.support: C files (paths relative to the lab folder; headers
  -- ending in .h are copied alongside, not compiled) compiled together with
  -- the student's file (harness code the lab provides, e.g. instrumented
  -- locks). They run in the jail with the submission: never put secrets in them.
  if type(sub.file) ~= "string" or not sub.file:match("^[%w][%w%-_%.]*$") then
    api_error("lab: submission.file must be a plain file name such as \"sum.c\"", 1, "submission")
  end
  sub.lang = sub.lang or "c"
  if sub.lang ~= "c" and sub.lang ~= "lua" and sub.lang ~= "cuda" and sub.lang ~= "mpi" then
    api_error("lab: submission.lang '" .. tostring(sub.lang) .. "' is not supported (use \"c\", \"lua\", \"cuda\" or \"mpi\")", 1, "submission")
  end
  for _, k in ipairs { "cflags", "ldflags", "support" } do
    sub[k] = sub[k] or {}
    for i, f in ipairs(sub[k]) do
      if type(f) ~= "string" then api_error("lab: submission." .. k .. "[" .. i .. "] must be a string", 1) end
    end
  end
  def.exports = def.exports or {}
  for name, sig in pairs(def.exports) do
    if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") or type(sig) ~= "string" then
      api_error("lab: exports must map C names to signatures, as lab_sum = \"double(const double*, long)\"", 1, "exports")
    end
  end
  if sub.lang == "lua" then
    for name, sig in pairs(def.exports) do
      if sig ~= "lua" then
        api_error("lab: in a Lua lab, exports are declared as " .. name .. " = \"lua\"", 1, "exports")
      end
    end
  end
  def.hints = def.hints or {}
  for i, h in ipairs(def.hints) do
    if type(h) ~= "string" then api_error("lab: hints[" .. i .. "] must be a string", 1) end
  end
  if #def.checks == 0 then api_error("lab: needs at least one check", 1, "checks") end
  local seen = {}
  for i, c in ipairs(def.checks) do
    if getmetatable(c) ~= CHECK then
      api_error("lab: checks[" .. i .. "] must be made with check \"name\" { ... }", 1)
    end
    if seen[c.name] then api_error("lab: two checks are named '" .. c.name .. "'", 1) end
    seen[c.name] = true
  end
  def.kind = "labdef"
  return def
end

---------------------------------------------------------------- course manifest

--- lecture "l01-why-parallel"
function lecture(id)
  if type(id) ~= "string" or not id:match("^[%w][%w%-_]*$") then
    api_error("lecture: expected an id such as \"l01-why-parallel\"", 1)
  end
  return { kind = "lecture", id = id }
end

--- module { id = "m1", title = "Foundations", lecture "l01-...", lab "amdahl-sum" }
function module(def)
  if type(def) ~= "table" or type(def.id) ~= "string" or type(def.title) ~= "string" then
    api_error("module: expected { id = \"m1\", title = \"...\", lecture \"...\", lab \"...\" }", 1)
  end
  local items = {}
  for i, it in ipairs(def) do
    if type(it) ~= "table" or (it.kind ~= "lecture" and it.kind ~= "lab") then
      api_error("module " .. def.id .. ": item " .. i .. " must be lecture \"id\" or lab \"id\"", 1)
    end
    items[#items + 1] = it
  end
  return { kind = "module", id = def.id, title = def.title, items = items }
end

--- course { title = "...", module { ... }, module { ... } }
function course(def)
  if type(def) ~= "table" or type(def.title) ~= "string" then
    api_error("course: expected { title = \"...\", module { ... }, ... }", 1)
  end
  local modules = {}
  for i, m in ipairs(def) do
    if type(m) ~= "table" or m.kind ~= "module" then
      api_error("course: entry " .. i .. " must be made with module { ... }", 1)
    end
    modules[#modules + 1] = m
  end
  return { kind = "course", title = def.title, modules = modules }
end

---------------------------------------------------------------- check context

local T = {}
T.__index = T

local function fmt(v)
  if math.type(v) == "float" then return string.format("%.10g", v) end
  return tostring(v)
end

local function label(msg) return msg and (msg .. ": ") or "" end

function T:ok(cond, msg) if not cond then fail(msg or "condition is false") end end

function T:eq(got, want, msg)
  if got ~= want then fail(label(msg) .. "expected " .. fmt(want) .. ", got " .. fmt(got)) end
end

function T:near(got, want, tol, msg)
  if type(got) ~= "number" then fail(label(msg) .. "expected a number, got " .. type(got)) end
  tol = tol or 1e-9
  if not (math.abs(got - want) <= tol) then
    fail(label(msg) .. "expected " .. fmt(want) .. " ± " .. fmt(tol) .. ", got " .. fmt(got))
  end
end

function T:at_least(got, want, msg)
  if not (got >= want) then
    fail(label(msg) .. "expected at least " .. fmt(want) .. ", got " .. string.format("%.4g", got))
  end
end

function T:at_most(got, want, msg)
  if not (got <= want) then
    fail(label(msg) .. "expected at most " .. fmt(want) .. ", got " .. string.format("%.4g", got))
  end
end

--- t:limit(seconds): the longest any later t.sub / t.baseline call in this
--- check may run (it is also bounded by the check's own timeout). A call
--- that runs past it raises { crash = "time limit ..." }, which the check
--- may catch with pcall to explain the hang (see dining-philosophers).
function T:limit(seconds)
  if type(seconds) ~= "number" or seconds <= 0 then api_error("limit: seconds must be > 0", 1) end
  self._jail.set_call_limit(seconds)
end

--- t:mpirun{ ranks = 4, args = { "100" }, baseline = false, timeout = s }
--- runs the MPI lab's program (or its trusted baseline) under mpirun in
--- the sandbox and returns { status = exit code (-1 if killed),
--- failure = nil | "time limit" | "signal", output = all lines,
--- ranks = { [0] = "rank 0's stdout", ... }, seconds = wall time }.
function T:mpirun(opts)
  opts = opts or {}
  local args = {}
  for i, a in ipairs(opts.args or {}) do args[i] = tostring(a) end
  local status, failure, output, seconds = self._jail.mpirun(opts.baseline and "baseline" or "sub",
    opts.ranks or 2, args, opts.timeout)
  -- mpirun tags every chunk it reads from a rank, and a chunk may end
  -- mid-line; the next chunk (of that rank or another) then starts with
  -- its own tag on the same line: "[1,0]<stdout>:li[1,1]<stdout>:x".
  -- So read segments, from a tag to the next tag or newline, each
  -- appended to its own rank's stdout (as engine/cluster/eng_mpirun.c).
  local parts, cur, pos, n = {}, nil, 1, #output
  while pos <= n do
    local _, e, r, stream = output:find("^%[%d+,(%d+)%]<(%a+)>:", pos)
    if e then
      cur = stream == "stdout" and tonumber(r) or nil
      pos = e + 1
    else
      local nl = output:find("\n", pos, true) or n + 1
      local tag = output:find("%[%d+,%d+%]<%a+>:", pos + 1)
      local stop = (tag and tag < nl) and tag or nl
      if cur then
        parts[cur] = parts[cur] or {}
        table.insert(parts[cur], output:sub(pos, stop - 1) .. (stop == nl and "\n" or ""))
      end
      if stop == nl then cur = nil end
      pos = stop == nl and nl + 1 or stop
    end
  end
  local ranks = {}
  for r, p in pairs(parts) do ranks[r] = (table.concat(p):gsub("\n$", "")) end
  return { status = status, failure = failure, output = output, ranks = ranks, seconds = seconds }
end

--- t:log(fmt, ...) adds a line to the check's message (shown pass or fail).
function T:log(f, ...)
  self._log[#self._log + 1] = string.format(f, ...)
end

--- t:roofline{ title = "...", peak = GFLOP/s, bw = GB/s, kernels = {
---   { name = "dot", ai = 0.125, measured = 2.1, predicted = 2.3 }, ... } }
--- attaches a roofline figure to the check's result, pass or fail: the
--- roofs min(peak, ai * bw) and each kernel at its arithmetic intensity
--- (FLOP/byte), with the rate measured here and/or the student's
--- prediction (GFLOP/s; either may be left out). peak and bw default to
--- the machine probe's (engine.machine(): peak.all, stream.triad). The
--- grader carries it as data; the TUI and `parlab lab run` draw it, and
--- `--json` has it under the check's "roofline". At most 26 kernels; a
--- later call replaces the figure. Returns the figure table.
function T:roofline(fig)
  if type(fig) ~= "table" or type(fig.kernels) ~= "table" then
    api_error("roofline: expected { kernels = { { name = ..., ai = ..., measured = ..., predicted = ... } } }", 1)
  end
  local peak, bw = fig.peak, fig.bw
  if peak == nil or bw == nil then
    local m = engine.machine()
    peak, bw = peak or m.peak.all, bw or m.stream.triad
  end
  local function positive(v) return type(v) == "number" and v > 0 and v < math.huge end
  if not positive(peak) or not positive(bw) then
    api_error("roofline: peak and bw must be positive numbers (GFLOP/s, GB/s)", 1)
  end
  if fig.title ~= nil and type(fig.title) ~= "string" then api_error("roofline: title must be a string", 1) end
  if #fig.kernels > 26 then api_error("roofline: at most 26 kernels (one letter each)", 1) end
  -- A rate that is not a finite number >= 0 (a student's nil or NaN) is
  -- left out rather than refused: predictions come from the submission.
  local function rate(v)
    if type(v) == "number" and v >= 0 and v < math.huge then return v end
    return nil
  end
  local ks = {}
  for i, k in ipairs(fig.kernels) do
    if type(k) ~= "table" or type(k.name) ~= "string" or not positive(k.ai) then
      api_error("roofline: kernels[" .. i .. "] needs a name and an intensity ai > 0 (FLOP/byte)", 1)
    end
    ks[i] = { name = k.name, ai = k.ai, measured = rate(k.measured), predicted = rate(k.predicted) }
  end
  self.roofline_figure = { title = fig.title, peak = peak, bw = bw, kernels = ks }
  return self.roofline_figure
end

local function median_of(list) return engine.stats(list) end

--- t:scaling(fn, { reps = 5, threads = { 1, cores } }) times fn(impl, rep)
--- for the baseline (impl = t.baseline, one thread, when the lab has one)
--- and the submission at each thread count, interleaved, after a warm-up.
--- Other jails are frozen while one is timed. Returns
--- { speedup, baseline = stats, times = { [threads] = stats }, threads }.
--- speedup = baseline median / submission median at the most threads.
function T:scaling(fn, opts)
  opts = opts or {}
  local cores = engine.cores()
  local reps = opts.reps or 5
  if reps < 5 then api_error("scaling: reps must be at least 5", 1) end
  local counts = opts.threads or (cores > 1 and { 1, cores } or { 1 })
  local top = counts[#counts]
  local jail = self._jail
  local base_samples, sub_samples = {}, {}
  for _, c in ipairs(counts) do sub_samples[c] = {} end
  local function timed(which, threads, rep)
    jail.set_threads(which, threads)
    jail.reset_elapsed()
    fn(which == "baseline" and self.baseline or self.sub, rep)
    return jail.elapsed()
  end
  jail.timed(true)
  for rep = 0, reps do          -- rep 0 is the warm-up, not recorded
    if self.baseline then
      local dt = timed("baseline", 1, rep)
      if rep > 0 then base_samples[#base_samples + 1] = dt end
    end
    for _, c in ipairs(counts) do
      local dt = timed("sub", c, rep)
      if rep > 0 then table.insert(sub_samples[c], dt) end
    end
  end
  jail.timed(false)
  jail.set_threads("sub", cores)
  local r = { threads = counts, times = {}, cores = cores }
  for _, c in ipairs(counts) do r.times[c] = median_of(sub_samples[c]) end
  local ref
  if self.baseline then
    r.baseline = median_of(base_samples)
    ref = r.baseline
  else
    ref = r.times[counts[1]]
  end
  r.speedup = ref.median / r.times[top].median
  local parts = {}
  for _, c in ipairs(counts) do
    parts[#parts + 1] = string.format("%d thread%s %.2f ms (±%.0f%%)", c, c == 1 and "" or "s",
      r.times[c].median * 1e3, r.times[c].spread * 100)
  end
  self:log("speedup %.2fx on %d core%s: %s %.2f ms; submission %s", r.speedup, cores,
    cores == 1 and "" or "s", self.baseline and "serial baseline" or "1 thread",
    ref.median * 1e3, table.concat(parts, ", "))
  self.figures = r
  return r
end

local function proxy(t, which, exports)
  return setmetatable({}, {
    __index = function(_, name)
      if not exports[name] then
        api_error("'" .. tostring(name) .. "' is not among this lab's exports", 1)
      end
      return function(...) return t._jail.call(which, name, ...) end
    end,
    __newindex = function() api_error("t.sub is read-only", 1) end,
  })
end

--- Called by the grader: the context of one check run. `jail` holds the C
--- functions call, set_threads, timed, reset_elapsed, elapsed.
function __parlab.new_context(def, jail, has_baseline)
  local t = setmetatable({ _jail = jail, _log = {}, lab = def }, T)
  t.sub = proxy(t, "sub", def.exports)
  if has_baseline then t.baseline = proxy(t, "baseline", def.exports) end
  return t
end

--- Run one check: returns status ("pass", "fail", "crash", "error") and a
--- message. A jail crash arrives as an error table { crash = "..." }.
function __parlab.run_check(c, t)
  local ok, err = pcall(c.fn, t)
  local log = table.concat(t._log, "\n")
  local function join(msg)
    if log == "" then return msg end
    if msg == "" then return log end
    return msg .. "\n" .. log
  end
  if ok then return "pass", join("") end
  if getmetatable(err) == Fail then return "fail", join(err.message) end
  if type(err) == "table" and err.crash then return "crash", join(err.crash) end
  return "error", join("error in the lab's check: " .. tostring(err))
end
