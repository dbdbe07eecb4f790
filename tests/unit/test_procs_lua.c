/*
 * test_procs_lua.c — engine.procs from Lua: map, imap_unordered, apply,
 * futures, the pickling rules and their messages, errors with the
 * worker's traceback, crashes retried and reported, child processes,
 * queues, pipes, locks, values, shared arrays, memmaps and the cache.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng_procs.h"
#include "lx.h"
#include "pl_test.h"

static lua_State *open_state(double secs) {
  setenv("PARLAB_NUM_THREADS", "3", 1);
  lua_State *L = NULL;
  lx_limits lim = {0, secs};
  PT_EQ_INT(lx_open(&lim, &L), 0);
  return L;
}

static void run_ok(lua_State *L, const char *code) {
  char *err = NULL;
  if (lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("%s", err);
}

static char *run_err(lua_State *L, const char *code) {
  char *err = NULL;
  if (!lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("no error from: %s", code);
  return err;
}

static void test_map_orders_and_chunks(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local P = engine.procs\n"
         "local pool = P.pool{ workers = 3 }\n"
         "assert(pool:size() == 3)\n"
         "for _, n in ipairs { 0, 1, 5, 1000 } do\n"
         "  local items = {}\n"
         "  for i = 1, n do items[i] = i end\n"
         "  for _, c in ipairs { 1, 3, 64, false } do\n"
         "    local r = pool:map(function(x, k) return x * x + k end, items,\n"
         "      c and { chunksize = c } or nil, 7)\n"
         "    assert(#r == n)\n"
         "    for i = 1, n do assert(r[i] == i * i + 7, 'item ' .. i) end\n"
         "  end\n"
         "end\n"
         "-- an engine array of items; results of any copyable kind\n"
         "local x = engine.array.from('i64', { 4, 5, 6 })\n"
         "local r = pool:map(function(v) return { v = v, s = tostring(v) } end, x)\n"
         "assert(r[2].v == 5 and r[3].s == '6')\n"
         "-- work really runs in other processes\n"
         "local pids = pool:map(function() return engine.procs.pid() end, { 1, 2, 3, 4, 5, 6 },\n"
         "  { chunksize = 1 })\n"
         "for _, p in ipairs(pids) do assert(p ~= engine.procs.pid()) end\n"
         "-- the default pool\n"
         "assert(engine.procs.map(function(v) return v + 1 end, { 1, 2 })[2] == 3)\n"
         "pool:close()\n");
  lx_close(L);
  PT_EQ_INT(eng_procs_live_children(), 0); /* closing the state reaps the default pool */
}

static void test_imap_unordered(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local pool = engine.procs.pool{ workers = 2 }\n"
         "local seen, count = {}, 0\n"
         "local items = {}\n"
         "for i = 1, 200 do items[i] = i end\n"
         "for i, v in pool:imap_unordered(function(x) return -x end, items, { chunksize = 7 }) do\n"
         "  assert(v == -i and not seen[i])\n"
         "  seen[i] = true\n"
         "  count = count + 1\n"
         "end\n"
         "assert(count == 200)\n"
         "-- leaving early cancels the rest; the pool goes on\n"
         "for i, v in pool:imap_unordered(function(x) return x end, items) do\n"
         "  if i then break end\n"
         "end\n"
         "assert(pool:apply(function(a, b) return a + b, a * b end, 3, 4) == 7)\n"
         "local s, p = pool:apply(function(a, b) return a + b, a * b end, 3, 4)\n"
         "assert(p == 12)\n");
  lx_close(L);
}

/* Chunks of up to 64 items travel as values, larger ones as a table:
 * both sides of the boundary, nil results, and the item named in a
 * refusal. */
static void test_map_small_and_large_chunks(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local pool = engine.procs.pool{ workers = 2 }\n"
         "local items = {}\n"
         "for i = 1, 301 do items[i] = i end\n"
         "local function f(x) if x % 3 == 0 then return nil end return x * 2 end\n"
         "local function want(i) if i % 3 == 0 then return nil end return 2 * i end\n"
         "for _, c in ipairs { 1, 2, 63, 64, 65, 200 } do\n"
         "  local r = pool:map(f, items, { chunksize = c })\n"
         "  for i = 1, 301 do\n"
         "    assert(r[i] == want(i), 'chunk ' .. c .. ', item ' .. i)\n"
         "  end\n"
         "  local seen, count = {}, 0\n"
         "  for i, v in pool:imap_unordered(f, items, { chunksize = c }) do\n"
         "    assert(not seen[i] and v == want(i))\n"
         "    seen[i], count = true, count + 1\n"
         "  end\n"
         "  assert(count == 301, 'imap chunk ' .. c .. ': ' .. count)\n"
         "end\n"
         "-- results of every kind in a small chunk\n"
         "local r = pool:map(function(x) return x == 1 and 'one' or x == 2 and 2.5 or { x } end,\n"
         "  { 1, 2, 3 }, { chunksize = 1 })\n"
         "assert(r[1] == 'one' and r[2] == 2.5 and r[3][1] == 3)\n");
  char *err = run_err(L,
                      "local pool = engine.procs.pool{ workers = 2 }\n"
                      "pool:map(function(x) return x end, { 1, 2, print }, { chunksize = 1 })\n");
  PT_CONTAINS(err, "engine.procs.map: item 3: a C function cannot be sent to a worker");
  free(err);
  err = run_err(L,
                "local pool = engine.procs.pool{ workers = 2 }\n"
                "pool:map(function(x) return x end, { 1, 2, print }, { chunksize = 100 })\n");
  PT_CONTAINS(err, "engine.procs.map: items 1..3, [3]: a C function cannot be sent to a worker");
  free(err);
  err = run_err(L,
                "local pool = engine.procs.pool{ workers = 2 }\n"
                "pool:map(function(x) if x == 5 then return print end return x end,\n"
                "  { 1, 2, 3, 4, 5, 6 }, { chunksize = 2 })\n");
  PT_CONTAINS(err, "the result of item 5: a C function cannot be sent to a worker");
  free(err);
  lx_close(L);
}

/* apply and submit send a function once per pool (a job): many different
 * functions, more than the pool keeps, and new closures of the same code,
 * all give the right results. */
static void test_apply_many_functions(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local pool = engine.procs.pool{ workers = 2 }\n"
         "local fns = {}\n"
         "for k = 1, 150 do\n"
         "  fns[k] = load('return function(x) return x + ' .. k .. ' end')()\n"
         "end\n"
         "for round = 1, 3 do\n"
         "  for k = 1, 150 do assert(pool:apply(fns[k], 1000) == 1000 + k, k) end\n"
         "  local fs = {}\n"
         "  for k = 150, 1, -1 do fs[k] = pool:submit(fns[k], round) end\n"
         "  for k = 1, 150 do assert(fs[k]:wait() == round + k) end\n"
         "end\n"
         "for i = 1, 2000 do\n"
         "  assert(pool:apply(function(x) return x * 2 end, i) == 2 * i)\n"
         "end\n"
         "local st = pool:stats()\n"
         "assert(st.failed == 0 and st.crashes == 0)\n");
  lx_close(L);
}

static void test_futures(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local P = engine.procs\n"
         "local pool = P.pool{ workers = 2 }\n"
         "local fs = {}\n"
         "for i = 1, 20 do fs[i] = pool:submit(function(k) return k * 10, 'x' .. k end, i) end\n"
         "local a, b = fs[20]:wait()\n"
         "assert(a == 200 and b == 'x20')\n"
         "assert(fs[20]:done() and fs[20]:exception() == nil)\n"
         "local got = 0\n"
         "for f in P.as_completed(fs) do got = got + f:wait() end\n"
         "assert(got == 2100)\n"
         "local i, f = P.wait_any({ pool:submit(function() return 1 end) })\n"
         "assert(i == 1 and f:wait() == 1)\n"
         "local bad = pool:submit(function() error('boom') end)\n"
         "local msg = bad:exception()\n"
         "assert(msg:find('snippet.lua:13: boom', 1, true), msg)\n"
         "assert(not bad:crashed())\n"
         "local ok, e = pcall(bad.wait, bad)\n"
         "assert(not ok and e:find('boom'))\n");
  lx_close(L);
}

static void test_worker_error_has_traceback(void) {
  lua_State *L = open_state(60);
  char *err = run_err(L,
                      "local function helper(x)\n"
                      "  if x == 3 then error('bad item ' .. x) end\n"
                      "  return x\n"
                      "end\n"
                      "local pool = engine.procs.pool{ workers = 2 }\n"
                      "pool:map(function(x, h) local y = h(x); return y end, { 1, 2, 3, 4 }, { chunksize = 1 }, helper)\n");
  PT_CONTAINS(err, "snippet.lua:2: bad item 3 (worker ");
  PT_CONTAINS(err, ", pid ");
  PT_CONTAINS(err, "stack traceback:");
  PT_CONTAINS(err, "snippet.lua:6:"); /* the caller's line, where it was raised again */
  free(err);
  lx_close(L);
}

static void test_pickling_rules(void) {
  lua_State *L = open_state(60);
  char *err = run_err(L,
                      "local k = 5\n"
                      "engine.procs.apply(function(x) return x + k end, 1)\n");
  PT_CONTAINS(err, "snippet.lua:2: engine.procs.apply: argument 1: a function with upvalues (k) "
                   "cannot be sent to a worker; pass the value as an argument instead");
  free(err);
  err = run_err(L, "engine.procs.map(function(x) return x end, { 1 }, nil, setmetatable({}, {}))\n");
  PT_CONTAINS(err, "engine.procs.map: argument 4: a table with a metatable cannot be sent");
  free(err);
  err = run_err(L, "engine.procs.submit(function(x) return x end, coroutine.create(print))\n");
  PT_CONTAINS(err, "argument 2: a coroutine cannot be sent to a worker");
  free(err);
  err = run_err(L, "engine.procs.apply(function() local z = 1; return function() return z end end)\n");
  PT_CONTAINS(err, "result 1: a function with upvalues (z)");
  free(err);
  err = run_err(L, "engine.procs.pool{ workers = 2, chunks = 3 }\n");
  PT_CONTAINS(err, "snippet.lua:1: engine.procs.pool: unknown option 'chunks'");
  free(err);
  err = run_err(L, "engine.procs.map(function(x) return x end, { 1 }, { chunksize = 0 })\n");
  PT_CONTAINS(err, "snippet.lua:1: engine.procs.map: chunksize must be a whole number >= 1");
  free(err);
  err = run_err(L, "engine.procs.crash_for_testing('segv')\n");
  PT_CONTAINS(err, "only a worker or child process may crash on purpose");
  free(err);
  lx_close(L);
}

static void test_crashes(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local P = engine.procs\n"
         "local pool = P.pool{ workers = 2, retries = 1 }\n"
         "-- crashes on the first attempt only: the retry succeeds\n"
         "local r = pool:map(function(x)\n"
         "  if x % 3 == 0 and engine.procs.attempt() == 1 then engine.procs.crash_for_testing('kill') end\n"
         "  return x * 2\n"
         "end, { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { chunksize = 1 })\n"
         "for i = 1, 9 do assert(r[i] == 2 * i) end\n"
         "local st = pool:stats()\n"
         "assert(st.crashes == 3 and st.retries == 3 and st.failed == 0, st.crashes)\n"
         "-- always crashes: reported with the cause, the pool survives\n"
         "local f = pool:submit(function() engine.procs.crash_for_testing('segv') end)\n"
         "assert(f:crashed())\n"
         "local msg = f:exception()\n"
         "assert(msg:find('killed by signal 11 (SIGSEGV', 1, true), msg)\n"
         "assert(msg:find('on attempt 2 of 2', 1, true), msg)\n"
         "local ok, e = pcall(pool.map, pool, function(x)\n"
         "  if x == 2 then engine.procs.crash_for_testing('abort') end\n"
         "  return x end, { 1, 2, 3 }, { chunksize = 1 })\n"
         "assert(not ok and e:find('a chunk of items failed', 1, true) and e:find('SIGABRT'), e)\n"
         "assert(pool:apply(function() return 42 end) == 42)\n"
         "pool:close()\n");
  lx_close(L);
}

static void test_processes_and_queues(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local P = engine.procs\n"
         "local q, out = P.queue(8), P.queue(64)\n"
         "local function consumer(q, out)\n"
         "  local n, sum = 0, 0\n"
         "  while true do\n"
         "    local v = q:get()\n"
         "    if v == nil then break end\n"
         "    n, sum = n + 1, sum + v\n"
         "  end\n"
         "  out:put({ n = n, sum = sum })\n"
         "end\n"
         "local ps = {}\n"
         "for i = 1, 3 do ps[i] = P.process(consumer, q, out); ps[i]:start() end\n"
         "assert(P.active_children() == 3)\n"
         "for i = 1, 1000 do q:put(i) end\n"
         "for i = 1, 3 do q:put(nil) end\n"
         "local n, sum = 0, 0\n"
         "for i = 1, 3 do local r = out:get(10); n, sum = n + r.n, sum + r.sum end\n"
         "for i = 1, 3 do assert(ps[i]:join(10) == 0) end\n"
         "assert(n == 1000 and sum == 500500)\n"
         "local st = q:stats()\n"
         "assert(st.max_depth <= 8 and st.capacity == 8 and st.puts == 1003, st.max_depth)\n"
         "assert(P.active_children() == 0)\n"
         "-- a failing child: status 1; a killed one: -signal\n"
         "local p = P.process(function() error('child failed') end)\n"
         "p:start()\n"
         "assert(p:join() == 1)\n"
         "p = P.process(function() engine.procs.crash_for_testing('segv') end)\n"
         "p:start()\n"
         "assert(p:join() == -11)\n"
         "-- timeouts\n"
         "local ok, e = pcall(q.get, q, 0.05)\n"
         "assert(not ok and e:find('timed out after 0.05 s', 1, true), e)\n"
         "local small = P.queue(1)\n"
         "small:put(1)\n"
         "ok, e = pcall(small.put, small, 2, 0.05)\n"
         "assert(not ok and e:find('timed out'), e)\n"
         "ok, e = pcall(q.put, q, engine.array.zeros('f64', 3))\n"
         "assert(not ok and e:find('cannot travel through a queue'), e)\n");
  lx_close(L);
}

static void test_pipe_lock_value_array(void) {
  lua_State *L = open_state(60);
  run_ok(L,
         "local P = engine.procs\n"
         "local a, b = P.pipe()\n"
         "local p = P.process(function(b)\n"
         "  while true do\n"
         "    local m = b:recv()\n"
         "    if m == 'stop' then return end\n"
         "    b:send(m * 2)\n"
         "  end\n"
         "end, b)\n"
         "p:start()\n"
         "for i = 1, 100 do a:send(i); assert(a:recv(5) == 2 * i) end\n"
         "a:send('stop')\n"
         "assert(p:join(5) == 0)\n"
         "-- a value and a locked array, updated by a pool's workers\n"
         "local v = P.value('i64', 0)\n"
         "local arr = P.array('i64', 4)\n"
         "local pool = P.pool{ workers = 3 }\n"
         "pool:map(function(i, v, arr)\n"
         "  for k = 1, 100 do\n"
         "    v:add(1)\n"
         "    arr.lock:acquire()\n"
         "    arr.data[1] = arr.data[1] + 1\n"
         "    arr.lock:release()\n"
         "  end\n"
         "end, { 1, 2, 3, 4, 5, 6 }, { chunksize = 1 }, v, arr)\n"
         "assert(v:get() == 600, v:get())\n"
         "assert(arr.data[1] == 600, arr.data[1])\n"
         "v:lock(); v:set(v:get() + 1); v:unlock()\n"
         "assert(v:get() == 601)\n"
         "local l = P.lock()\n"
         "assert(l:acquire())\n"
         "local f = pool:submit(function(l) return l:acquire(0.05) end, l)\n"
         "assert(f:wait() == false)\n"
         "l:release()\n"
         "assert(pool:apply(function(l) local ok = l:acquire(1); l:release(); return ok end, l))\n");
  lx_close(L);
}

static void test_memmap_and_cache(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/test_procs_lua_%d.bin", (int)getpid());
  lua_State *L = open_state(60);
  lua_pushstring(L, path);
  lua_setglobal(L, "PATH");
  run_ok(L,
         "local P = engine.procs\n"
         "local m = P.memmap(PATH, 'f64', 'w+', 1000)\n"
         "local pool = P.pool{ workers = 2 }\n"
         "-- workers open the file themselves and write into it\n"
         "pool:map(function(i, m) m[i] = i * 0.5 end, engine.array.from('i64', (function()\n"
         "  local t = {} for i = 1, 1000 do t[i] = i end return t end)()), nil, m)\n"
         "assert(m[1000] == 500 and m:sum() == 0.5 * 1000 * 1001 / 2)\n"
         "local r = P.memmap(PATH, 'f64', 'r')\n"
         "assert(#r == 1000 and r[2] == 1)\n"
         "assert(not pcall(function() r[1] = 5 end))\n"
         "assert(pool:apply(function(r) return r:sum() end, r) == 0.5 * 1000 * 1001 / 2)\n"
         "local ok, e = pcall(P.memmap, PATH .. '.missing', 'f64', 'r')\n"
         "assert(not ok and e:find('no such file'), e)\n"
         "-- cache: computed once per distinct arguments\n"
         "local slow = P.cache(function(n) local s = 0 for i = 1, n do s = s + i end return s end)\n"
         "assert(slow(100) == 5050 and slow(100) == 5050 and slow(10) == 55)\n"
         "assert(slow.hits == 1 and slow.misses == 2)\n"
         "assert(P.key(1, 'a') == P.key(1, 'a') and P.key(1, 'a') ~= P.key(1, 'b'))\n");
  lx_close(L);
  unlink(path);
}

static void test_deadline_reaches_workers(void) {
  lua_State *L = open_state(1.0);
  char *err = run_err(L, "engine.procs.apply(function() while true do end end)\n");
  PT_CONTAINS(err, "time limit");
  free(err);
  lx_close(L);
}

static void test_no_pools_in_workers(void) {
  lua_State *L = open_state(60);
  char *err = run_err(L, "engine.procs.apply(function() return engine.procs.map(function(x) return x end, { 1 }) end)\n");
  PT_CONTAINS(err, "a pool worker cannot start processes of its own");
  free(err);
  lx_close(L);
}

/* Every Lua block of lecture l03 runs as the TUI runs it (a fresh state,
 * 2 s, 32 MiB) without an error. */
static void test_lecture_lua_blocks(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s/content/lectures/l03-processes-and-ipc.md", PARLAB_SOURCE_DIR);
  FILE *f = fopen(path, "r");
  PT_TRUE(f != NULL);
  static char text[1 << 17];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  int blocks = 0;
  for (char *p = text; (p = strstr(p, "```lua\n"));) {
    p += 7;
    char *end = strstr(p, "```");
    PT_TRUE(end != NULL);
    *end = 0;
    lua_State *L = NULL;
    lx_limits lim = {(size_t)32 << 20, 2.0};
    PT_EQ_INT(lx_open(&lim, &L), 0);
    char *err = NULL;
    if (lx_dostring(L, p, "@l03-processes-and-ipc.md", 0, &err))
      PT_FAIL_("Lua block %d of the lecture: %s\n%s", blocks + 1, err, p);
    lx_close(L);
    blocks++;
    p = end + 3;
  }
  PT_GE(blocks, 5);
  PT_EQ_INT(eng_procs_live_children(), 0);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE(test_map_orders_and_chunks),
    PT_CASE(test_imap_unordered),
    PT_CASE(test_map_small_and_large_chunks),
    PT_CASE(test_apply_many_functions),
    PT_CASE(test_futures),
    PT_CASE(test_worker_error_has_traceback),
    PT_CASE(test_pickling_rules),
    PT_CASE(test_crashes),
    PT_CASE(test_processes_and_queues),
    PT_CASE(test_pipe_lock_value_array),
    PT_CASE(test_memmap_and_cache),
    PT_CASE(test_deadline_reaches_workers),
    PT_CASE(test_no_pools_in_workers),
    PT_CASE(test_lecture_lua_blocks),
    {0},
  };
  return pt_main(argc, argv, cases);
}
