/*
 * test_threads_lua.c — engine.threads from Lua: loops and maps in worker
 * states, futures, the pickling rules, native kernels, the counter and
 * interpreter-lock demonstrations, the synchronization kit and the
 * deadlock watchdog.
 */
#include <lauxlib.h>
#include <stdlib.h>

#include "lx.h"
#include "pl_test.h"

static lua_State *open_state(double secs) {
  /* Four workers even on a small machine: the kit tests need two workers
   * blocked at once, and more workers than cores is still correct. */
  setenv("PARLAB_NUM_THREADS", "4", 1);
  lua_State *L = NULL;
  lx_limits lim = {0, secs};
  PT_EQ_INT(lx_open(&lim, &L), 0);
  return L;
}

static void run_ok(lua_State *L, const char *code) {
  char *err = NULL;
  if (lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("%s", err);
}

/* Run code expected to fail; returns the message (caller frees). */
static char *run_err(lua_State *L, const char *code) {
  char *err = NULL;
  if (!lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("no error from: %s", code);
  return err;
}

static void test_parallel_for_all_schedules(void) {
  lua_State *L = open_state(30);
  run_ok(L,
         "local T = engine.threads\n"
         "assert(T.size() == 4)\n"
         "for _, s in ipairs { 'static', 'dynamic', 'guided' } do\n"
         "  for _, chunk in ipairs { 0, 1, 7 } do\n"
         "    for _, n in ipairs { 0, 1, 5, 1000 } do\n"
         "      local hits = engine.array.zeros('i64', n)\n"
         "      local who = engine.array.zeros('i64', n)\n"
         "      T.parallel_for(n, function(i, hits, who)\n"
         "        engine.threads.atomic_add(hits, i, 1)\n"
         "        who[i] = engine.threads.worker()\n"
         "      end, { schedule = s, chunk = chunk }, hits, who)\n"
         "      for i = 1, n do assert(hits[i] == 1, s .. ' index ' .. i) end\n"
         "      for i = 1, n do assert(who[i] >= 0 and who[i] < 4) end\n"
         "    end\n"
         "  end\n"
         "end\n"
         "-- threads = 1: everything on worker 0\n"
         "local who = engine.array.zeros('i64', 50)\n"
         "T.parallel_for(50, function(i, w) w[i] = engine.threads.worker() + 1 end,\n"
         "  { threads = 1, schedule = 'dynamic' }, who)\n"
         "assert(who:sum() == 50)\n"
         "assert(T.worker() == nil)\n");
  lx_close(L);
}

static void test_map_and_results(void) {
  lua_State *L = open_state(30);
  run_ok(L,
         "local T = engine.threads\n"
         "local r = T.map(function(x, k) return x * k end, { 1, 2, 3, 4, 5 }, nil, 10)\n"
         "assert(#r == 5 and r[1] == 10 and r[5] == 50)\n"
         "local list = {} for i = 1, 500 do list[i] = i end\n"
         "local s = T.map(function(x) return { sq = x * x, s = tostring(x) } end, list,\n"
         "  { schedule = 'dynamic', chunk = 3 })\n"
         "for i = 1, 500 do assert(s[i].sq == i * i and s[i].s == tostring(i)) end\n"
         "local a = engine.array.from('i64', { 3, 1, 2 })\n"
         "local m = T.map(function(v) return math.type(v) end, a)\n"
         "assert(m[1] == 'integer')\n"
         "-- an array made in a worker comes back by reference\n"
         "local made = T.map(function(n) local z = engine.array.zeros('f64', n)\n"
         "  for i = 1, n do z[i] = i end return z end, { 2, 3 })\n"
         "assert(#made[2] == 3 and made[2]:sum() == 6)\n"
         "assert(#T.map(function() end, {}) == 0)\n");
  lx_close(L);
}

static void test_futures(void) {
  lua_State *L = open_state(30);
  run_ok(L,
         "local T = engine.threads\n"
         "local f = T.submit(function(a, b) return a + b, 'two', { 3 } end, 1, 2)\n"
         "local x, y, z = f:wait()\n"
         "assert(x == 3 and y == 'two' and z[1] == 3 and f:done())\n"
         "assert(select('#', f:wait()) == 3, 'wait twice')\n"
         "local fs = {}\n"
         "for i = 1, 12 do fs[i] = T.submit(function(k) local s = 0\n"
         "  for j = 1, k * 20000 do s = s + j end return k end, 13 - i) end\n"
         "local seen, n = {}, 0\n"
         "for g in T.as_completed(fs) do local k = g:wait() assert(not seen[k]) seen[k] = true\n"
         "  n = n + 1 end\n"
         "assert(n == 12)\n"
         "local i, g = T.wait_any(fs)\n"
         "assert(i == 1 and g == fs[1])\n"
         "local bad = T.submit(function() error('task failed') end)\n"
         "local ok, e = pcall(bad.wait, bad)\n"
         "assert(not ok and e:find('snippet.lua:15: task failed', 1, true), e)\n"
         "assert(e:find('(worker ', 1, true))\n");
  lx_close(L);
}

/* as_completed reports each result when its task finishes: a long task
 * submitted first ends only once the caller has consumed every short
 * result. The workers are kept busy until the long task has started, so
 * it is taken while the caller already waits; a caller that ran tasks
 * itself would take it, block on 'go', and the watchdog would fail it. */
static void test_as_completed_in_completion_order(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local T = engine.threads\n"
         "local n = T.size()\n"
         "assert(n >= 2)\n"
         "T.parallel_for(n, function() end, { schedule = 'static', chunk = 1 })\n"
         "T.watchdog(5)\n"
         "local fs = {}\n"
         "for i = 1, n - 1 do fs[i] = T.submit(function()\n"
         "  engine.threads.semaphore('started', 0):release()\n"
         "  engine.threads.semaphore('gate', 0):acquire()\n"
         "  return 'gate' end) end\n"
         "for i = 1, n - 1 do T.semaphore('started', 0):acquire() end\n"
         "fs[#fs + 1] = T.submit(function(k)\n"
         "  for i = 1, k do engine.threads.semaphore('gate', 0):release() end\n"
         "  engine.threads.semaphore('go', 0):acquire()\n"
         "  return 'long' end, n - 1)\n"
         "for i = 1, 4 do fs[#fs + 1] = T.submit(function(i) return i * i end, i) end\n"
         "local shorts, got = 0, {}\n"
         "for f in T.as_completed(fs) do\n"
         "  local r = f:wait()\n"
         "  got[#got + 1] = tostring(r)\n"
         "  if type(r) == 'number' then\n"
         "    shorts = shorts + 1\n"
         "    if shorts == 4 then T.semaphore('go', 0):release() end\n"
         "  elseif r == 'long' then\n"
         "    assert(shorts == 4, 'long task reported before the short ones: ' .. table.concat(got, ' '))\n"
         "  end\n"
         "end\n"
         "assert(#got == n + 4 and shorts == 4, table.concat(got, ' '))\n");
  lx_close(L);
}

static void test_pickling_rules(void) {
  lua_State *L = open_state(30);
  static const struct { const char *code, *msg; } cases[] = {
      {"local count = 0\nengine.threads.parallel_for(10, function(i) count = count + i end)",
       "snippet.lua:2: engine.threads.parallel_for: argument 2: a function with upvalues (count) "
       "cannot be sent to a worker; pass the value as an argument instead"},
      {"engine.threads.parallel_for(3, function() end, nil, 1, coroutine.create(print))",
       "snippet.lua:1: engine.threads.parallel_for: argument 5: a coroutine cannot be sent"},
      {"engine.threads.map(print, { 1 })",
       "engine.threads.map: argument 1: a C function cannot be sent to a worker"},
      {"engine.threads.submit(function(t) end, setmetatable({}, {}))",
       "engine.threads.submit: argument 2: a table with a metatable cannot be sent"},
      {"local t = {} t.me = t\nengine.threads.map(function(x) return x end, { t })",
       "engine.threads.map: argument 2, [1], field 'me': a table that contains itself"},
      {"engine.threads.map(function(x) return print end, { 1 })",
       "the result for item 1: a C function cannot be sent to a worker"},
      {"engine.threads.parallel_for(3, 'cube')", "unknown native kernel 'cube'"},
      {"engine.threads.parallel_for(3, function() end, { schedule = 'fast' })",
       "snippet.lua:1: engine.threads.parallel_for: schedule must be \"static\", \"dynamic\" or "
       "\"guided\""},
      {"engine.threads.parallel_for(3, function() end, { chunks = 2 })", "unknown option 'chunks'"},
      {"engine.threads.parallel_for(-1, function() end)", "the count must be a whole number"},
      {"engine.threads.parallel_for(10, function(i) if i == 7 then error('boom') end end)",
       "snippet.lua:1: boom (worker "},
      {"engine.threads.parallel_for(4, function(i) local x = nil; return x.field end)",
       "attempt to index a nil value (local 'x') (worker "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *err = run_err(L, cases[i].code);
    if (!strstr(err, cases[i].msg)) PT_FAIL_("%s\n  got: %s\n  want: %s", cases[i].code, err, cases[i].msg);
    free(err);
  }
  /* Workers cannot see or change the caller's globals; globals of their
   * own are theirs (each worker state is separate). */
  run_ok(L,
         "shared = 5\n"
         "local r = engine.threads.map(function(x) return shared end, { 1, 2 })\n"
         "assert(r[1] == nil and r[2] == nil)\n"
         "engine.threads.parallel_for(8, function(i) shared = i end)\n"
         "assert(shared == 5)\n");
  lx_close(L);
}

static void test_nested_calls_run_inline(void) {
  lua_State *L = open_state(30);
  run_ok(L,
         "local T = engine.threads\n"
         "local out = engine.array.zeros('i64', 4)\n"
         "T.parallel_for(4, function(i, out)\n"
         "  local me = engine.threads.worker()\n"
         "  local inner = engine.array.zeros('i64', 10)\n"
         "  engine.threads.parallel_for(10, function(j, a, me)\n"
         "    a[j] = (engine.threads.worker() == me) and 1 or 0 end, nil, inner, me)\n"
         "  local f = engine.threads.submit(function(x) return x * 2 end, inner:sum())\n"
         "  out[i] = f:wait()\n"
         "end, { schedule = 'dynamic' }, out)\n"
         "for i = 1, 4 do assert(out[i] == 20, 'nested ' .. i) end\n"
         "-- the pickling rules hold inside a worker too\n"
         "local ok = pcall(T.parallel_for, 2, function(i)\n"
         "  local up = 1\n"
         "  engine.threads.parallel_for(2, function() return up end)\n"
         "end)\n"
         "assert(not ok)\n");
  lx_close(L);
}

static void test_native_kernels_and_arrays(void) {
  lua_State *L = open_state(30);
  run_ok(L,
         "local T = engine.threads\n"
         "local out = engine.array.zeros('f64', 30)\n"
         "T.parallel_for(30, 'collatz', { schedule = 'dynamic' }, out)\n"
         "assert(out[1] == 0 and out[2] == 1 and out[3] == 7 and out[27] == 111)\n"
         "local sq = T.map('square', engine.array.from('f64', { 1, 2, 3 }))\n"
         "assert(sq:dtype() == 'f64' and sq[3] == 9)\n"
         "local pr = T.map('isprime', { 1, 2, 9, 97 }, { schedule = 'guided' })\n"
         "assert(pr[1] == 0 and pr[2] == 1 and pr[3] == 0 and pr[4] == 1)\n"
         "assert(T.map('spin', { 2 })[1] == 2)\n"
         "local x = engine.array.random('f64', 100001, { seed = 3 })\n"
         "for _, s in ipairs { 'static', 'dynamic', 'guided' } do\n"
         "  assert(math.abs(T.sum(x, { schedule = s, chunk = 1000 }) - x:sum()) < 1e-6)\n"
         "end\n"
         "T.fill(x, 0.5)\n"
         "assert(x:sum() == 0.5 * 100001)\n"
         "local c = engine.array.zeros('f64', 1)\n"
         "T.parallel_for(1000, function(i, c) engine.threads.atomic_add(c, 1, 0.5) end,\n"
         "  { schedule = 'dynamic' }, c)\n"
         "assert(c[1] == 500)\n"
         "local ok, e = pcall(T.map, 'square', { 1, 'two' })\n"
         "assert(not ok and e:find('item 2 is not a number'))\n");
  lx_close(L);
}

static void test_stats(void) {
  lua_State *L = open_state(30);
  run_ok(L,
         "local T = engine.threads\n"
         "T.stats_reset()\n"
         "T.parallel_for(400, 'spin', { schedule = 'dynamic', chunk = 1 })\n"
         "local st = T.stats()\n"
         "assert(#st == 4)\n"
         "local chunks = 0\n"
         "for i, s in ipairs(st) do assert(s.worker == i - 1 and s.busy >= 0)\n"
         "  chunks = chunks + s.chunks end\n"
         "assert(chunks == 400, chunks)\n"
         "local f = T.submit(function() return 1 end) f:wait()\n"
         "local tasks = 0 for _, s in ipairs(T.stats()) do tasks = tasks + s.tasks end\n"
         "assert(tasks == 1)\n"
         "-- callable from inside a worker (no self-deadlock on the pool's lock)\n"
         "local n = T.map(function() return #engine.threads.stats() end, { 1, 2, 3 })\n"
         "assert(n[1] == 4 and n[3] == 4)\n");
  lx_close(L);
}

static void test_counter_demo(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local T = engine.threads\n"
         "for _, m in ipairs { 'mutex', 'atomic', 'partials' } do\n"
         "  local r = T.counter_demo { mode = m, threads = 3, increments = 20000 }\n"
         "  assert(r.count == 60000 and r.expected == 60000 and r.lost == 0, m)\n"
         "  assert(r.seconds > 0 and r.mode == m)\n"
         "end\n"
         "local r = T.counter_demo { mode = 'none', threads = 2, increments = 200000 }\n"
         "assert(r.count <= r.expected and r.lost == r.expected - r.count)\n"
         "local ok, e = pcall(T.counter_demo, { mode = 'lock' })\n"
         "assert(not ok and e:find('mode must be'))\n"
         "ok, e = pcall(T.counter_demo, { mode = 'atomic', thread = 2 })\n"
         "assert(not ok and e:find(\"unknown option 'thread'\"))\n");
  lx_close(L);
}

static void test_gil_demo(void) {
  lua_State *L = open_state(60);
  /* Timings are only checked for being measured, never for their size. */
  run_ok(L,
         "local g = engine.threads.gil_demo { threads = 2, work = 400000, slice = 5000 }\n"
         "assert(g.threads == 2 and g.work == 400000)\n"
         "assert(g.serial > 0 and g.shared > 0 and g.separate > 0)\n"
         "assert(math.abs(g.speedup_shared - g.serial / g.shared) < 1e-9)\n"
         "assert(math.abs(g.speedup_separate - g.serial / g.separate) < 1e-9)\n"
         "local ok, e = pcall(engine.threads.gil_demo, { threads = 0 })\n"
         "assert(not ok and e:find('threads'))\n");
  lx_close(L);
}

static void test_sync_kit(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local T = engine.threads\n"
         "-- a semaphore of 1 protects a non-atomic read-modify-write\n"
         "local c = engine.array.zeros('i64', 1)\n"
         "T.parallel_for(400, function(i, c)\n"
         "  local s = engine.threads.semaphore('one', 1)\n"
         "  s:acquire() local v = c[1] c[1] = v + 1 s:release()\n"
         "end, { schedule = 'dynamic' }, c)\n"
         "assert(c[1] == 400)\n"
         "-- a mutex does the same\n"
         "T.parallel_for(400, function(i, c)\n"
         "  local m = engine.threads.mutex('m') m:lock() c[1] = c[1] + 1 m:unlock()\n"
         "end, { schedule = 'dynamic' }, c)\n"
         "assert(c[1] == 800)\n"
         "-- a barrier of 4: exactly one true per round\n"
         "local last = engine.array.zeros('i64', 1)\n"
         "T.parallel_for(4, function(i, last)\n"
         "  local b = engine.threads.barrier('b', 4)\n"
         "  for r = 1, 10 do if b:wait() then engine.threads.atomic_add(last, 1, 1) end end\n"
         "end, { schedule = 'static', chunk = 1 }, last)\n"
         "assert(last[1] == 10)\n"
         "-- a condition: workers wait until the main state signals through a flag\n"
         "local flag = engine.array.zeros('i64', 1)\n"
         "local fs = {}\n"
         "for k = 1, 2 do fs[k] = T.submit(function(flag)\n"
         "  local m, cv = engine.threads.mutex('cm'), engine.threads.condition('cv')\n"
         "  m:lock() while flag[1] == 0 do cv:wait(m) end m:unlock() return flag[1] end, flag) end\n"
         "T.sleep(0.05)\n"
         "local m, cv = T.mutex('cm'), T.condition('cv')\n"
         "m:lock() flag[1] = 7 cv:broadcast() m:unlock()\n"
         "assert(fs[1]:wait() == 7 and fs[2]:wait() == 7)\n"
         "-- readers and a writer\n"
         "local rw = T.rwlock('rw')\n"
         "rw:read_lock() rw:unlock() rw:write_lock() rw:unlock()\n"
         "-- misuse\n"
         "local ok, e = pcall(T.mutex('free').unlock, T.mutex('free'))\n"
         "assert(not ok and e:find(\"mutex 'free': this thread does not hold it\"), e)\n"
         "ok, e = pcall(T.semaphore, 'm')\n"
         "assert(not ok and e:find('already names something else'))\n"
         "local mm = T.mutex('again') mm:lock()\n"
         "ok, e = pcall(mm.lock, mm)\n"
         "assert(not ok and e:find('holds it already'))\n"
         "mm:unlock()\n"
         "assert(tostring(mm) == \"mutex 'again'\")\n");
  lx_close(L);
}

static void test_watchdog_reports_deadlock(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local T = engine.threads\n"
         "-- open every worker's state first: a slow start is not a deadlock\n"
         "T.parallel_for(4, function() end, { schedule = 'static', chunk = 1 })\n"
         "T.watchdog(1)\n"
         "local function crossed(i)\n"
         "  local a, b = engine.threads.mutex('A'), engine.threads.mutex('B')\n"
         "  local first, second = a, b\n"
         "  if i == 2 then first, second = b, a end\n"
         "  first:lock()\n"
         "  engine.threads.barrier('both hold one', 2):wait()\n"
         "  second:lock()\n"
         "end\n"
         "local ok, e = pcall(T.parallel_for, 2, crossed, { schedule = 'static', chunk = 1 })\n"
         "assert(not ok, 'the deadlock was not broken')\n"
         "assert(e:find('deadlock detected, the watchdog broke it'), e)\n"
         "local r = T.deadlock_report()\n"
         "assert(r and r.lines[1]:find('^deadlock: worker %d %-> worker %d %-> worker %d'), r and r.text)\n"
         "local text = r.text\n"
         "assert(text:find(\"worker 0 waits for mutex 'B', held by worker 1\", 1, true), text)\n"
         "assert(text:find(\"worker 1 waits for mutex 'A', held by worker 0\", 1, true), text)\n"
         "-- the next call starts from a repaired kit\n"
         "T.parallel_for(2, function()\n"
         "  for _, n in ipairs { 'A', 'B' } do local m = engine.threads.mutex(n) m:lock() m:unlock() end\n"
         "end, { threads = 1 })\n"
         "assert(T.deadlock_report() == nil)\n"
         "-- a stall with no cycle (nobody will release the semaphore) is reported too\n"
         "T.watchdog(0.2)\n"
         "local ok2, e2 = pcall(T.parallel_for, 1, function()\n"
         "  engine.threads.semaphore('never', 0):acquire() end)\n"
         "assert(not ok2 and e2:find(\"waits for semaphore 'never' %(count 0%)\"), e2)\n");
  lx_close(L);
}

static void test_deadline_reaches_workers(void) {
  lua_State *L = open_state(0.5);
  char *err = run_err(L, "engine.threads.parallel_for(4, function(i) while true do end end)");
  PT_CONTAINS(err, "time limit");
  PT_CONTAINS(err, "(worker ");
  free(err);
  lx_close(L);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
      PT_CASE(test_parallel_for_all_schedules),
      PT_CASE(test_map_and_results),
      PT_CASE(test_futures),
      PT_CASE(test_as_completed_in_completion_order),
      PT_CASE(test_pickling_rules),
      PT_CASE(test_nested_calls_run_inline),
      PT_CASE(test_native_kernels_and_arrays),
      PT_CASE(test_stats),
      PT_CASE(test_counter_demo),
      PT_CASE(test_gil_demo),
      PT_CASE(test_sync_kit),
      PT_CASE(test_watchdog_reports_deadlock),
      PT_CASE(test_deadline_reaches_workers),
      {0}};
  return pt_main(argc, argv, cases);
}
