/*
 * lx_threads.c — engine.threads: the engine's pool for labs and Lua
 * submissions (the friendly API is lua/lib/threads.lua).
 *
 * Per-worker interpreters. A Lua function cannot run in the state that
 * made it on another thread (a lua_State belongs to one thread), so each
 * main state gets a "set": one worker state per pool slot, opened with
 * lx_open (sandboxed, with `engine`) the first time that slot runs Lua
 * for it. A function travels to the workers through lx_serial (a bytecode
 * dump, arguments copied, engine arrays by reference), which refuses
 * upvalues and uncopyable arguments with a clear message. A worker state
 * keeps the current job's function and arguments in its registry, so a
 * dynamic loop does not reload the function for every chunk.
 *
 * Slot w's state is touched only by the thread that owns slot w (helpers
 * own theirs, slot 0 belongs to whoever holds the pool's call lock), so
 * no lock is needed around worker states. A call from inside a worker
 * state (nested) runs inline in that state, after the same checks.
 *
 * Deadlines. Worker states inherit the caller's remaining deadline, so a
 * runaway Lua loop in a worker stops like one in the caller. Blocking
 * operations of the synchronization kit are watched by the set's watchdog
 * (armed with a 5 s timeout when the first kit object is made), so a
 * deadlock ends in an error that says who waits for what.
 *
 * The set lives in the main state's registry; its finalizer runs after
 * every future's (futures are made later, and Lua finalizes in reverse
 * order), and a future's finalizer waits for its task, so no task is left
 * running with a closed state.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <lauxlib.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eng_array.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "eng_sync.h"
#include "eng_task.h"
#include "lx.h"
#include "lx_engine.h"
#include "lx_int.h"
#include "lx_serial.h"
#include "pl_err.h"

#define SET_MT "parlab.threads.set"
#define PARENT_KEY "parlab.threads.parent"
#define JOB_KEY "parlab.threads.job"
#define FUT_MT "parlab.threads.future"
#define SOBJ_MT "parlab.threads.sobj"
#define DEFAULT_WATCHDOG_MS 5000
#define MAX_DEMO_THREADS 64

typedef struct lx_set {
  eng_pool *p;
  int n;
  lua_State **states;
  eng_sync *sync;
  _Atomic long wd_ms;      /* watchdog timeout; 0: off */
  _Atomic int wd_started;
} lx_set;

static _Atomic uint64_t next_job_id = 1;

/* Errors point at the caller's line: these functions are called directly
 * or through a tail call in threads.lua, so level 2 is the user's code. */
static int t_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  luaL_where(L, 2);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  return lua_error(L);
}

/* ------------------------------------------------------------ the set */

static int set_gc(lua_State *L) {
  lx_set *s = luaL_checkudata(L, 1, SET_MT);
  if (s->sync) eng_sync_free(s->sync);
  s->sync = NULL;
  if (s->states) {
    for (int i = 0; i < s->n; i++) lx_close(s->states[i]);
    free(s->states);
    s->states = NULL;
  }
  return 0;
}

/* The set of the calling state; *nested = 1 in a worker state. */
static lx_set *get_set(lua_State *L, int *nested) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, PARENT_KEY) == LUA_TLIGHTUSERDATA) {
    lx_set *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (nested) *nested = 1;
    return s;
  }
  lua_pop(L, 1);
  if (nested) *nested = 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, SET_MT) == LUA_TUSERDATA) {
    lx_set *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
  }
  lua_pop(L, 1);
  eng_pool *p = eng_pool_default();
  if (!p) t_error(L, "engine.threads: cannot start the thread pool (out of memory)");
  lx_set *s = lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, SET_MT);
  s->p = p;
  s->n = eng_pool_size(p);
  atomic_init(&s->wd_ms, DEFAULT_WATCHDOG_MS);
  atomic_init(&s->wd_started, 0);
  s->states = calloc((size_t)s->n, sizeof *s->states);
  if (!s->states || eng_sync_new(&s->sync)) {
    free(s->states);
    s->states = NULL;
    t_error(L, "engine.threads: out of memory");
  }
  lua_setfield(L, LUA_REGISTRYINDEX, SET_MT);
  return s;
}

/* Slot w's state, opened on first use by the thread that owns slot w. */
static lua_State *worker_state(lx_set *s, int w, char **err) {
  if (w < 0 || w >= s->n) w = 0;
  if (!s->states[w]) {
    lua_State *W = NULL;
    lx_limits lim = {0, 0};
    if (lx_open(&lim, &W)) {
      *err = lx_strdup("engine.threads: cannot open a worker's Lua state");
      return NULL;
    }
    lua_pushlightuserdata(W, s);
    lua_setfield(W, LUA_REGISTRYINDEX, PARENT_KEY);
    s->states[w] = W;
  }
  return s->states[w];
}

/* "file:line: msg\nstack traceback..." -> "file:line: msg (worker 2)\n...":
 * the message already says where; this says which worker. */
static void push_worker_error(lua_State *L, const char *err, int w) {
  const char *nl = strchr(err, '\n');
  if (!nl) {
    lua_pushfstring(L, "%s (worker %d)", err, w);
    return;
  }
  lua_pushlstring(L, err, (size_t)(nl - err));
  lua_pushfstring(L, " (worker %d)", w);
  lua_pushstring(L, nl);
  lua_concat(L, 3);
}

static double deadline_abs(lua_State *L) {
  double left = lx__deadline_left(L);
  return left > 0 ? eng_now() + left : 0;
}

static double left_of(double abs) {
  if (abs <= 0) return 0;
  double left = abs - eng_now();
  return left > 1e-3 ? left : 1e-3;
}

/* A watchdog-broken domain is repaired before the next top-level call, so
 * one deadlock does not poison the rest of a lab. */
static void reset_if_broken(lx_set *s) {
  if (s->sync && eng_sync_broken(s->sync)) eng_sync_reset(s->sync);
}

/* ---------------------------------------------------------- options */

static eng_for_opts check_opts(lua_State *L, int i) {
  eng_for_opts o = {ENG_SCHED_STATIC, 0, 0};
  lua_Integer sched = luaL_optinteger(L, i, 0);
  if (sched < 0 || sched > 2) luaL_argerror(L, i, "unknown schedule");
  o.schedule = (eng_schedule)sched;
  lua_Integer chunk = luaL_optinteger(L, i + 1, 0);
  lua_Integer th = luaL_optinteger(L, i + 2, 0);
  o.chunk = chunk > 0 ? (long)chunk : 0;
  o.threads = th > 0 && th < 1024 ? (int)th : 0;
  return o;
}

static long check_count(lua_State *L, int i, const char *fname) {
  lua_Number n = luaL_checknumber(L, i);
  if (!(n >= 0) || n > 1e12 || n != floor(n))
    t_error(L, "%s: the count must be a whole number >= 0, got %s", fname, luaL_tolstring(L, i, NULL));
  return (long)n;
}

/* ---------------------------------------------------------- native kernels */

typedef double (*kernel_fn)(double);

static double k_square(double x) { return x * x; }
static double k_sqrt(double x) { return sqrt(x); }

/* Steps of the Collatz sequence from floor(x) to 1: cheap, irregular. */
static double k_collatz(double x) {
  if (!(x >= 1) || x > 1e15) return 0;
  unsigned long long n = (unsigned long long)x, steps = 0;
  while (n != 1 && steps < 100000) {
    n = n & 1 ? 3 * n + 1 : n / 2;
    steps++;
  }
  return (double)steps;
}

/* 1 if floor(x) is prime, by trial division: cost grows with sqrt(x). */
static double k_isprime(double x) {
  if (!(x >= 2) || x > 1e15) return 0;
  unsigned long long n = (unsigned long long)x;
  if (n < 4) return 1;
  if (n % 2 == 0) return 0;
  for (unsigned long long d = 3; d * d <= n; d += 2)
    if (n % d == 0) return 0;
  return 1;
}

/* Work proportional to x: x thousand dependent additions; returns x. */
static double k_spin(double x) {
  long a = 0;
  long n = x > 0 && x < 1e9 ? (long)(x * 1000) : 0;
  for (long i = 0; i < n; i++) {
    a += i;
    __asm__ __volatile__("" : "+r"(a));
  }
  return a >= 0 ? x : 0;
}

static const struct { const char *name; kernel_fn fn; } kernels[] = {
    {"square", k_square}, {"sqrt", k_sqrt}, {"collatz", k_collatz},
    {"isprime", k_isprime}, {"spin", k_spin}, {NULL, NULL}};

static kernel_fn check_kernel(lua_State *L, int i, const char *fname) {
  const char *name = lua_tostring(L, i);
  for (int k = 0; kernels[k].name; k++)
    if (!strcmp(kernels[k].name, name)) return kernels[k].fn;
  t_error(L, "%s: unknown native kernel '%s' (use square, sqrt, collatz, isprime or spin)",
             fname, name);
  return NULL;
}

typedef struct kjob {
  kernel_fn fn;
  const double *in;      /* items, or NULL for the index i + 1 */
  const eng_array *ain;  /* items from an engine array */
  double *out;
  eng_array *aout;
} kjob;

static void kernel_body(void *arg, long b, long e, int w) {
  (void)w;
  kjob *k = arg;
  for (long i = b; i < e; i++) {
    double x = k->in ? k->in[i] : k->ain ? eng_array_get(k->ain, i) : (double)(i + 1);
    double y = k->fn(x);
    if (k->out) k->out[i] = y;
    if (k->aout) eng_array_set(k->aout, i, y);
  }
}

/* ---------------------------------------------------------- Lua jobs */

enum { JOB_FOR = 0, JOB_MAP_LIST = 1, JOB_MAP_ARRAY = 2 };

typedef struct lx_job {
  lx_set *s;
  int kind;
  lx_buf in;          /* fn, [items], args... */
  int nargs;          /* extra arguments after the item */
  lx_buf *results;    /* map: one per item */
  uint64_t id;
  double deadline;    /* absolute eng_now() seconds; 0: none */
  _Atomic int failed;
  pthread_mutex_t err_lock;
  char *err;
  int err_worker;
} lx_job;

static void job_fail(lx_job *j, int w, char *err) {
  pthread_mutex_lock(&j->err_lock);
  if (!j->err) {
    j->err = err ? err : lx_strdup("error in a worker");
    j->err_worker = w;
    err = NULL;
  }
  pthread_mutex_unlock(&j->err_lock);
  free(err);
  atomic_store(&j->failed, 1);
}

/* Push W's cached table of this job's values, loading it on first use. */
static int load_job(lua_State *W, lx_job *j, char **err) {
  if (lua_getfield(W, LUA_REGISTRYINDEX, JOB_KEY) == LUA_TTABLE) {
    lua_getfield(W, -1, "id");
    int same = (uint64_t)lua_tointeger(W, -1) == j->id;
    lua_pop(W, 1);
    if (same) return 0;
  }
  lua_pop(W, 1);
  lx_set_deadline(W, left_of(j->deadline));
  lua_createtable(W, 4, 2);
  int tbl = lua_gettop(W);
  int nv = lx_deserialize(W, j->in.data, j->in.len, LX_SER_THREAD, NULL, 0, err);
  if (nv < 0) {
    lua_settop(W, tbl - 1);
    return -1;
  }
  for (int k = nv; k >= 1; k--) lua_rawseti(W, tbl, k);
  lua_pushinteger(W, (lua_Integer)j->id);
  lua_setfield(W, tbl, "id");
  lua_pushvalue(W, tbl);
  lua_setfield(W, LUA_REGISTRYINDEX, JOB_KEY);
  return 0;
}

/* Call the job's function for items [b, e) in state W (table at `tbl`). */
static void run_items(lua_State *W, lx_job *j, int tbl, long b, long e, int w) {
  char *err = NULL;
  int first_arg = j->kind == JOB_FOR ? 2 : 3;
  eng_array *items = NULL;
  if (j->kind == JOB_MAP_ARRAY) {
    lua_rawgeti(W, tbl, 2);
    items = lx_toarray(W, -1);
    lua_pop(W, 1);
  }
  for (long i = b; i < e; i++) {
    if (atomic_load_explicit(&j->failed, memory_order_relaxed)) return;
    if (!lua_checkstack(W, j->nargs + 4)) {
      job_fail(j, w, lx_strdup("engine.threads: too many arguments"));
      return;
    }
    lua_rawgeti(W, tbl, 1);
    if (j->kind == JOB_FOR) {
      lua_pushinteger(W, (lua_Integer)i + 1);
    } else if (j->kind == JOB_MAP_LIST) {
      lua_rawgeti(W, tbl, 2);
      lua_rawgeti(W, -1, (lua_Integer)i + 1);
      lua_remove(W, -2);
    } else {
      double v = eng_array_get(items, i);
      if (eng_array_dtype(items) == ENG_I64) lua_pushinteger(W, (lua_Integer)v);
      else lua_pushnumber(W, v);
    }
    for (int a = 0; a < j->nargs; a++) lua_rawgeti(W, tbl, first_arg + a);
    int nres = j->kind == JOB_FOR ? 0 : 1;
    if (lx_pcall(W, 1 + j->nargs, nres, &err)) {
      job_fail(j, w, err);
      return;
    }
    if (nres) {
      char what[48];
      snprintf(what, sizeof what, "the result for item %ld", i + 1);
      int rc = lx_serialize(W, -1, LX_SER_THREAD, what, &j->results[i], &err);
      lua_pop(W, 1);
      if (rc) {
        job_fail(j, w, err);
        return;
      }
    }
  }
}

static void lua_body(void *arg, long b, long e, int w) {
  lx_job *j = arg;
  char *err = NULL;
  if (atomic_load_explicit(&j->failed, memory_order_relaxed)) return;
  lua_State *W = worker_state(j->s, w, &err);
  if (!W) {
    job_fail(j, w, err);
    return;
  }
  int top = lua_gettop(W);
  if (load_job(W, j, &err)) {
    job_fail(j, w, err);
    return;
  }
  run_items(W, j, lua_gettop(W), b, e, w);
  lua_settop(W, top);
}

/* Serialize the values at [first, last] with argument numbers starting
 * at argno (as the user counts them). On failure the message is pushed. */
static int serialize_args(lua_State *L, lx_buf *b, int first, int last, int argno,
                          const char *fname) {
  for (int i = first; i <= last; i++) {
    char what[32], *err = NULL;
    snprintf(what, sizeof what, "argument %d", argno + (i - first));
    if (lx_serialize(L, i, LX_SER_THREAD, what, b, &err)) {
      luaL_where(L, 2);
      lua_pushfstring(L, "%s: %s", fname, err ? err : "cannot copy an argument");
      lua_concat(L, 2);
      free(err);
      return -1;
    }
  }
  return 0;
}

/* Free everything the job owns; if it failed, push the error message. */
static int job_finish(lua_State *L, lx_job *j, long nresults) {
  int failed = j->err != NULL;
  if (failed) push_worker_error(L, j->err, j->err_worker);
  lx_buf_free(&j->in);
  if (j->results) {
    for (long i = 0; i < nresults; i++) lx_buf_free(&j->results[i]);
    free(j->results);
  }
  free(j->err);
  pthread_mutex_destroy(&j->err_lock);
  return failed;
}

/* Nested calls (from inside a worker state) run here, one after another:
 * values are still checked so the rules do not depend on where code runs. */
static int check_sendable(lua_State *L, int first, int last, int argno, const char *fname) {
  lx_buf b;
  lx_buf_init(&b);
  int rc = serialize_args(L, &b, first, last, argno, fname);
  lx_buf_free(&b);
  return rc;
}

/* parallel_for(n, fn_or_kernel, sched, chunk, threads, ...) */
static int t_parallel_for(lua_State *L) {
  static const char *fname = "engine.threads.parallel_for";
  long n = check_count(L, 1, fname);
  eng_for_opts o = check_opts(L, 3);
  int top = lua_gettop(L), nargs = top > 5 ? top - 5 : 0;
  int nested;
  lx_set *s = get_set(L, &nested);

  if (lua_type(L, 2) == LUA_TSTRING) {
    kjob k = {.fn = check_kernel(L, 2, fname)};
    if (nargs > 0 && !lua_isnil(L, 6)) {
      k.aout = lx_toarray(L, 6);
      if (!k.aout) return t_error(L, "%s: a native kernel writes into an engine array "
                                        "(argument 4), got %s", fname, luaL_typename(L, 6));
      if (eng_array_len(k.aout) < n)
        return t_error(L, "%s: the output array has %d elements, need %d", fname,
                          (int)eng_array_len(k.aout), (int)n);
      if (eng_array_is_sealed(k.aout)) return t_error(L, "%s: the output array is read-only", fname);
    }
    eng_parallel_for_opts(s->p, 0, n, &o, kernel_body, &k);
    return 0;
  }
  if (!lua_isfunction(L, 2))
    return t_error(L, "%s: argument 2 must be a Lua function or the name of a native "
                         "kernel, got %s", fname, luaL_typename(L, 2));
  if (nested) {
    if (check_sendable(L, 2, 2, 2, fname) || (nargs && check_sendable(L, 6, top, 4, fname)))
      return lua_error(L);
    for (long i = 0; i < n; i++) {
      lua_pushvalue(L, 2);
      lua_pushinteger(L, (lua_Integer)i + 1);
      for (int a = 0; a < nargs; a++) lua_pushvalue(L, 6 + a);
      lua_call(L, 1 + nargs, 0);
    }
    return 0;
  }

  reset_if_broken(s);
  lx_job j;
  memset(&j, 0, sizeof j);
  j.s = s;
  j.kind = JOB_FOR;
  j.nargs = nargs;
  j.id = atomic_fetch_add(&next_job_id, 1);
  j.deadline = deadline_abs(L);
  atomic_init(&j.failed, 0);
  pthread_mutex_init(&j.err_lock, NULL);
  lx_buf_init(&j.in);
  if (serialize_args(L, &j.in, 2, 2, 2, fname) ||
      (nargs && serialize_args(L, &j.in, 6, top, 4, fname))) {
    job_finish(L, &j, 0);
    return lua_error(L);
  }
  eng_parallel_for_opts(s->p, 0, n, &o, lua_body, &j);
  if (job_finish(L, &j, 0)) return lua_error(L);
  return 0;
}

/* map(fn_or_kernel, items, sched, chunk, threads, ...) -> results */
static int t_map(lua_State *L) {
  static const char *fname = "engine.threads.map";
  eng_for_opts o = check_opts(L, 3);
  int top = lua_gettop(L), nargs = top > 5 ? top - 5 : 0;
  int nested;
  lx_set *s = get_set(L, &nested);
  eng_array *arr = lx_toarray(L, 2);
  if (!arr && !lua_istable(L, 2))
    return t_error(L, "%s: argument 2 must be a list or an engine array, got %s", fname,
                      luaL_typename(L, 2));
  long n = arr ? eng_array_len(arr) : (long)luaL_len(L, 2);

  if (lua_type(L, 1) == LUA_TSTRING) {
    kjob k = {.fn = check_kernel(L, 1, fname)};
    double *in = NULL, *out = NULL;
    if (arr) {
      eng_array *res = NULL;
      int rc = eng_array_new(ENG_F64, n, ENG_ARRAY_SHARED, &res);
      if (rc) return t_error(L, "%s: %s", fname, pl_strerror(rc));
      lx_pusharray(L, res); /* owns res even if an error follows */
      k.ain = arr;
      k.aout = res;
      eng_parallel_for_opts(s->p, 0, n, &o, kernel_body, &k);
      return 1;
    }
    in = malloc(sizeof *in * (size_t)(n + 1));
    out = malloc(sizeof *out * (size_t)(n + 1));
    if (!in || !out) {
      free(in);
      free(out);
      return t_error(L, "%s: out of memory", fname);
    }
    for (long i = 0; i < n; i++) {
      lua_rawgeti(L, 2, (lua_Integer)i + 1);
      int isnum = lua_type(L, -1) == LUA_TNUMBER;
      in[i] = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (!isnum) {
        free(in);
        free(out);
        return t_error(L, "%s: item %d is not a number (native kernels take numbers)", fname,
                          (int)i + 1);
      }
    }
    k.in = in;
    k.out = out;
    eng_parallel_for_opts(s->p, 0, n, &o, kernel_body, &k);
    lua_createtable(L, n < 1 << 24 ? (int)n : 1 << 24, 0);
    for (long i = 0; i < n; i++) {
      lua_pushnumber(L, out[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(in);
    free(out);
    return 1;
  }
  if (!lua_isfunction(L, 1))
    return t_error(L, "%s: argument 1 must be a Lua function or the name of a native "
                         "kernel, got %s", fname, luaL_typename(L, 1));
  if (nested) {
    if (check_sendable(L, 1, 1, 1, fname) || (nargs && check_sendable(L, 6, top, 4, fname)))
      return lua_error(L);
    lua_createtable(L, n < 1 << 24 ? (int)n : 1 << 24, 0);
    for (long i = 0; i < n; i++) {
      lua_pushvalue(L, 1);
      if (arr) lua_pushnumber(L, eng_array_get(arr, i));
      else lua_rawgeti(L, 2, (lua_Integer)i + 1);
      for (int a = 0; a < nargs; a++) lua_pushvalue(L, 6 + a);
      lua_call(L, 1 + nargs, 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
  }

  reset_if_broken(s);
  lx_job j;
  memset(&j, 0, sizeof j);
  j.s = s;
  j.kind = arr ? JOB_MAP_ARRAY : JOB_MAP_LIST;
  j.nargs = nargs;
  j.id = atomic_fetch_add(&next_job_id, 1);
  j.deadline = deadline_abs(L);
  atomic_init(&j.failed, 0);
  pthread_mutex_init(&j.err_lock, NULL);
  lx_buf_init(&j.in);
  j.results = calloc((size_t)n + 1, sizeof *j.results);
  if (!j.results) {
    lua_pushfstring(L, "%s: out of memory", fname);
    job_finish(L, &j, 0);
    return lua_error(L);
  }
  if (serialize_args(L, &j.in, 1, 2, 1, fname) ||
      (nargs && serialize_args(L, &j.in, 6, top, 4, fname))) {
    job_finish(L, &j, n);
    return lua_error(L);
  }
  eng_parallel_for_opts(s->p, 0, n, &o, lua_body, &j);
  if (!j.err) {
    lua_createtable(L, n < 1 << 24 ? (int)n : 1 << 24, 0);
    for (long i = 0; i < n; i++) {
      char *err = NULL;
      int got = lx_deserialize(L, j.results[i].data, j.results[i].len, LX_SER_THREAD, NULL, 0,
                               &err);
      if (got < 0) {
        job_fail(&j, 0, err);
        break;
      }
      if (got == 0) lua_pushnil(L);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  }
  if (job_finish(L, &j, n)) return lua_error(L);
  return 1;
}

/* ---------------------------------------------------------- futures */

typedef struct lx_task {
  lx_set *s;
  lx_buf in, out;
  char *err;
  int err_worker;
  double deadline;
  eng_future *f;   /* NULL when it ran inline (nested) */
} lx_task;

typedef struct lx_fut { lx_task *t; } lx_fut;

/* Deserialize the function and its arguments into W, call, keep results. */
static void run_task_in(lua_State *W, lx_task *t, int w) {
  int top = lua_gettop(W);
  char *err = NULL;
  int nv = lx_deserialize(W, t->in.data, t->in.len, LX_SER_THREAD, NULL, 0, &err);
  if (nv < 1 || lx_pcall(W, nv - 1, LUA_MULTRET, &err)) {
    t->err = err ? err : lx_strdup("cannot start the task");
    t->err_worker = w;
    lua_settop(W, top);
    return;
  }
  int nres = lua_gettop(W) - top;
  for (int i = 1; i <= nres; i++) {
    char what[32];
    snprintf(what, sizeof what, "result %d", i);
    if (lx_serialize(W, top + i, LX_SER_THREAD, what, &t->out, &err)) {
      t->err = err;
      t->err_worker = w;
      break;
    }
  }
  lua_settop(W, top);
}

static void task_main(void *arg) {
  lx_task *t = arg;
  int w = eng_pool_current_worker(t->s->p);
  if (w < 0) w = 0;
  char *err = NULL;
  lua_State *W = worker_state(t->s, w, &err);
  if (!W) {
    t->err = err;
    t->err_worker = w;
    return;
  }
  lx_set_deadline(W, left_of(t->deadline));
  run_task_in(W, t, w);
}

static lx_task *check_future(lua_State *L, int i) {
  lx_fut *u = luaL_checkudata(L, i, FUT_MT);
  if (!u->t) luaL_argerror(L, i, "future has been closed");
  return u->t;
}

static int fut_gc(lua_State *L) {
  lx_fut *u = luaL_checkudata(L, 1, FUT_MT);
  lx_task *t = u->t;
  u->t = NULL;
  if (!t) return 0;
  if (t->f) {
    /* The task reads t: it must be over before t goes. */
    eng_future_wait(t->f);
    eng_future_free(t->f);
  }
  lx_buf_free(&t->in);
  lx_buf_free(&t->out);
  free(t->err);
  free(t);
  return 0;
}

/* submit(fn, ...) -> future */
static int t_submit(lua_State *L) {
  static const char *fname = "engine.threads.submit";
  int top = lua_gettop(L), nested;
  if (!lua_isfunction(L, 1))
    return t_error(L, "%s: argument 1 must be a Lua function, got %s", fname,
                      luaL_typename(L, 1));
  lx_set *s = get_set(L, &nested);
  if (!nested) reset_if_broken(s);
  lx_fut *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->t = NULL;
  luaL_setmetatable(L, FUT_MT);
  lx_task *t = calloc(1, sizeof *t);
  if (!t) return t_error(L, "%s: out of memory", fname);
  u->t = t; /* from here the finalizer frees it */
  t->s = s;
  t->deadline = deadline_abs(L);
  lx_buf_init(&t->in);
  lx_buf_init(&t->out);
  if (serialize_args(L, &t->in, 1, top, 1, fname)) return lua_error(L);
  if (nested) {
    run_task_in(L, t, eng_pool_current_worker(s->p));
    return 1;
  }
  int rc = eng_submit(s->p, task_main, t, &t->f);
  if (rc) return t_error(L, "%s: %s", fname, pl_strerror(rc));
  return 1;
}

static int fut_done(lua_State *L) {
  lx_task *t = check_future(L, 1);
  lua_pushboolean(L, !t->f || eng_future_done(t->f));
  return 1;
}

/* f:wait() -> the function's results, or its error raised here */
static int fut_wait(lua_State *L) {
  lx_task *t = check_future(L, 1);
  if (t->f) eng_future_wait(t->f);
  lua_settop(L, 1);
  if (t->err) {
    push_worker_error(L, t->err, t->err_worker);
    return lua_error(L);
  }
  char *err = NULL;
  int n = lx_deserialize(L, t->out.data, t->out.len, LX_SER_THREAD, NULL, 0, &err);
  if (n < 0) {
    lua_pushstring(L, err ? err : "cannot read the results");
    free(err);
    return lua_error(L);
  }
  return n;
}

/* wait_any({futures...}) -> index of a finished one (the lowest) */
static int t_wait_any(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)luaL_len(L, 1);
  if (n < 1) return t_error(L, "engine.threads.wait_any: the list of futures is empty");
  eng_future **fs = malloc(sizeof *fs * (size_t)n);
  int *map = malloc(sizeof *map * (size_t)n);
  if (!fs || !map) {
    free(fs);
    free(map);
    return t_error(L, "engine.threads.wait_any: out of memory");
  }
  int m = 0, ready = 0;
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    lx_fut *u = luaL_testudata(L, -1, FUT_MT);
    lua_pop(L, 1);
    if (!u || !u->t) {
      free(fs);
      free(map);
      return t_error(L, "engine.threads.wait_any: item %d is not a future", i);
    }
    if (!u->t->f || eng_future_done(u->t->f)) {
      ready = i;
      break;
    }
    fs[m] = u->t->f;
    map[m++] = i;
  }
  if (!ready) {
    int idx = eng_future_wait_any(fs, m, -1);
    ready = idx >= 0 ? map[idx] : 1;
  }
  free(fs);
  free(map);
  lua_pushinteger(L, ready);
  lua_rawgeti(L, 1, ready);
  return 2;
}

/* ---------------------------------------------------------- array kernels */

typedef struct sumjob { const eng_array *a; } sumjob;

static void sum_fold(void *arg, long b, long e, int w, void *acc) {
  (void)w;
  const eng_array *a = ((sumjob *)arg)->a;
  double s = 0;
  switch (eng_array_dtype(a)) {
  case ENG_F64: {
    const double *x = eng_array_data(a);
    for (long i = b; i < e; i++) s += x[i];
    break;
  }
  case ENG_F32: {
    const float *x = eng_array_data(a);
    for (long i = b; i < e; i++) s += (double)x[i];
    break;
  }
  case ENG_I64: {
    const int64_t *x = eng_array_data(a);
    for (long i = b; i < e; i++) s += (double)x[i];
    break;
  }
  }
  *(double *)acc += s;
}

static void sum_combine(void *arg, void *acc, const void *other) {
  (void)arg;
  *(double *)acc += *(const double *)other;
}

static eng_array *check_array(lua_State *L, int i, const char *fname) {
  eng_array *a = lx_toarray(L, i);
  if (!a) t_error(L, "%s: argument %d must be an engine array, got %s", fname, i,
                     luaL_typename(L, i));
  return a;
}

/* sum(array, sched, chunk, threads) */
static int t_sum(lua_State *L) {
  eng_array *a = check_array(L, 1, "engine.threads.sum");
  eng_for_opts o = check_opts(L, 2);
  lx_set *s = get_set(L, NULL);
  static const double zero = 0;
  double out = 0;
  sumjob j = {a};
  eng_parallel_reduce_opts(s->p, 0, eng_array_len(a), &o, sizeof out, &zero, sum_fold,
                           sum_combine, &j, &out);
  lua_pushnumber(L, out);
  return 1;
}

typedef struct filljob { eng_array *a; double v; } filljob;

static void fill_body(void *arg, long b, long e, int w) {
  (void)w;
  filljob *f = arg;
  for (long i = b; i < e; i++) eng_array_set(f->a, i, f->v);
}

/* fill(array, value, sched, chunk, threads) */
static int t_fill(lua_State *L) {
  eng_array *a = check_array(L, 1, "engine.threads.fill");
  double v = luaL_checknumber(L, 2);
  eng_for_opts o = check_opts(L, 3);
  if (eng_array_is_sealed(a)) return t_error(L, "engine.threads.fill: the array is read-only");
  lx_set *s = get_set(L, NULL);
  filljob f = {a, v};
  eng_parallel_for_opts(s->p, 0, eng_array_len(a), &o, fill_body, &f);
  return 0;
}

/* atomic_add(array, i, v) -> the new value; i is 1-based */
static int t_atomic_add(lua_State *L) {
  eng_array *a = check_array(L, 1, "engine.threads.atomic_add");
  lua_Integer i = luaL_checkinteger(L, 2);
  double v = luaL_checknumber(L, 3);
  if (i < 1 || i > eng_array_len(a))
    return t_error(L, "engine.threads.atomic_add: index %d out of range 1..%d", (int)i,
                      (int)eng_array_len(a));
  if (eng_array_is_sealed(a))
    return t_error(L, "engine.threads.atomic_add: the array is read-only");
  void *base = eng_array_data(a);
  switch (eng_array_dtype(a)) {
  case ENG_I64: {
    int64_t *x = (int64_t *)base + (i - 1);
    lua_pushinteger(L, (lua_Integer)__atomic_add_fetch(x, (int64_t)v, __ATOMIC_SEQ_CST));
    return 1;
  }
  case ENG_F64: {
    double *x = (double *)base + (i - 1), old, nw;
    __atomic_load(x, &old, __ATOMIC_RELAXED);
    do nw = old + v;
    while (!__atomic_compare_exchange(x, &old, &nw, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    lua_pushnumber(L, nw);
    return 1;
  }
  case ENG_F32: {
    float *x = (float *)base + (i - 1), old, nw;
    __atomic_load(x, &old, __ATOMIC_RELAXED);
    do nw = old + (float)v;
    while (!__atomic_compare_exchange(x, &old, &nw, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    lua_pushnumber(L, nw);
    return 1;
  }
  }
  return 0;
}

/* ---------------------------------------------------------- information */

static int t_size(lua_State *L) {
  lua_pushinteger(L, get_set(L, NULL)->n);
  return 1;
}

/* worker() -> this worker's index (0-based) inside a worker, else nil */
static int t_worker(lua_State *L) {
  int nested;
  lx_set *s = get_set(L, &nested);
  int w = eng_pool_current_worker(s->p);
  if (!nested || w < 0) return 0;
  lua_pushinteger(L, w);
  return 1;
}

static int t_stats(lua_State *L) {
  lx_set *s = get_set(L, NULL);
  eng_worker_stats *st = calloc((size_t)s->n, sizeof *st);
  if (!st) return t_error(L, "engine.threads.stats: out of memory");
  int n = eng_pool_stats(s->p, st, s->n);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, i);
    lua_setfield(L, -2, "worker");
    lua_pushnumber(L, st[i].busy_s);
    lua_setfield(L, -2, "busy");
    lua_pushinteger(L, st[i].chunks);
    lua_setfield(L, -2, "chunks");
    lua_pushinteger(L, st[i].tasks);
    lua_setfield(L, -2, "tasks");
    lua_pushinteger(L, st[i].steals);
    lua_setfield(L, -2, "steals");
    lua_rawseti(L, -2, i + 1);
  }
  free(st);
  return 1;
}

static int t_stats_reset(lua_State *L) {
  eng_pool_stats_reset(get_set(L, NULL)->p);
  return 0;
}

/* sleep(seconds): at most 60 s, and never past the state's deadline
 * (the hook cannot interrupt a sleep). */
static int t_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  double left = lx__deadline_left(L);
  if (!(s > 0)) return 0;
  if (s > 60) s = 60;
  if (left > 0 && s > left) s = left;
  long ns = (long)((s - floor(s)) * 1e9);
  struct timespec ts = {(time_t)s, ns < 1000000000L ? ns : 999999999L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return 0;
}

/* ---------------------------------------------------------- demonstrations */

/* counter_demo(mode, threads, increments) -> {count, expected, lost, seconds, mode} */
static int t_counter_demo(lua_State *L) {
  const char *m = luaL_checkstring(L, 1);
  lua_Integer th = luaL_checkinteger(L, 2), inc = luaL_checkinteger(L, 3);
  eng_count_mode mode;
  if (eng_count_mode_parse(m, &mode))
    return t_error(L, "engine.threads.counter_demo: mode must be \"none\", \"mutex\", "
                         "\"atomic\" or \"partials\", got \"%s\"", m);
  if (th < 1 || th > 256 || inc < 0 || inc > 10000000000LL)
    return t_error(L, "engine.threads.counter_demo: need 1 <= threads <= 256 and "
                         "0 <= increments <= 1e10");
  eng_count_result r;
  int rc = eng_counter_demo(mode, (int)th, (long)inc, &r);
  if (rc) return t_error(L, "engine.threads.counter_demo: %s", pl_strerror(rc));
  lua_createtable(L, 0, 5);
  lua_pushstring(L, m);
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, r.count);
  lua_setfield(L, -2, "count");
  lua_pushinteger(L, r.expected);
  lua_setfield(L, -2, "expected");
  lua_pushinteger(L, r.expected - r.count);
  lua_setfield(L, -2, "lost");
  lua_pushnumber(L, r.seconds);
  lua_setfield(L, -2, "seconds");
  return 1;
}

static const char gil_work[] =
    "local k = ...\n"
    "local s = 0\n"
    "for i = 1, k do s = s + (i % 7) * 0.5 end\n"
    "return s\n";

typedef struct gil {
  pthread_mutex_t mu;      /* the interpreter lock of the shared mode */
  lua_State *shared;       /* one interpreter ... */
  lua_State *th[MAX_DEMO_THREADS]; /* ... and a Lua thread of it per OS thread */
  lua_State *own[MAX_DEMO_THREADS]; /* separate mode: one interpreter each */
  long per_thread, slice;
  int mode_shared;
  _Atomic int failed;
  pthread_mutex_t err_lock;
  char *err;
} gil;

/* Stack of state S: the work function at index 1 (set up before timing). */
static int gil_run(lua_State *S, long iters, long slice, pthread_mutex_t *lock, char **err) {
  for (long left = iters; left > 0;) {
    long k = left < slice ? left : slice;
    if (lock) pthread_mutex_lock(lock);
    lua_pushvalue(S, 1);
    lua_pushinteger(S, k);
    int rc = lx_pcall(S, 1, 0, err);
    if (lock) pthread_mutex_unlock(lock);
    if (rc) return rc;
    left -= k;
  }
  return 0;
}

static void gil_body(void *arg, long b, long e, int w) {
  (void)w;
  gil *g = arg;
  for (long t = b; t < e && !atomic_load(&g->failed); t++) {
    char *err = NULL;
    int rc = g->mode_shared ? gil_run(g->th[t], g->per_thread, g->slice, &g->mu, &err)
                            : gil_run(g->own[t], g->per_thread, g->slice, NULL, &err);
    if (rc) {
      pthread_mutex_lock(&g->err_lock);
      if (!g->err) g->err = err, err = NULL;
      pthread_mutex_unlock(&g->err_lock);
      free(err);
      atomic_store(&g->failed, 1);
    }
  }
}

/* An interpreter with the work function at stack index 1. */
static lua_State *gil_state(double deadline) {
  lua_State *S = NULL;
  lx_limits lim = {0, 0};
  if (lx_open(&lim, &S)) return NULL;
  lx_set_deadline(S, left_of(deadline));
  if (luaL_loadbufferx(S, gil_work, sizeof gil_work - 1, "=gil_demo", "t") != LUA_OK) {
    lx_close(S);
    return NULL;
  }
  return S;
}

/* gil_demo(threads, work, slice) -> {serial, shared, separate, ...} */
static int t_gil_demo(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), work = luaL_checkinteger(L, 2);
  lua_Integer slice = luaL_optinteger(L, 3, 10000);
  if (n < 1 || n > MAX_DEMO_THREADS || work < n || work > 10000000000LL || slice < 1)
    return t_error(L, "engine.threads.gil_demo: need 1 <= threads <= %d, threads <= work <= "
                         "1e10 and slice >= 1", MAX_DEMO_THREADS);
  double deadline = deadline_abs(L);
  gil *g = calloc(1, sizeof *g);
  eng_pool *p = NULL;
  lua_State *serial = NULL;
  const char *fail = NULL;
  double t_serial = 0, t_shared = 0, t_sep = 0;
  if (!g) return t_error(L, "engine.threads.gil_demo: out of memory");
  pthread_mutex_init(&g->mu, NULL);
  pthread_mutex_init(&g->err_lock, NULL);
  atomic_init(&g->failed, 0);
  g->per_thread = (long)(work / n);
  g->slice = (long)slice;
  /* Everything is created before any timing starts. */
  serial = gil_state(deadline);
  g->shared = gil_state(deadline);
  if (!serial || !g->shared || eng_pool_new((int)n, &p)) {
    fail = "cannot create the interpreters or the threads";
    goto done;
  }
  for (int t = 0; t < n; t++) {
    g->own[t] = gil_state(deadline);
    /* lua_newthread inherits the count hook, so the deadline still holds. */
    g->th[t] = lua_newthread(g->shared);
    if (!g->own[t] || !g->th[t]) {
      fail = "cannot create the interpreters";
      goto done;
    }
    lua_pushvalue(g->shared, 1);
    lua_xmove(g->shared, g->th[t], 1); /* the work function at index 1 of each thread */
  }

  char *err = NULL;
  double t0 = eng_now();
  if (gil_run(serial, g->per_thread * n, g->slice, NULL, &err)) {
    g->err = err;
    goto done;
  }
  t_serial = eng_now() - t0;

  g->mode_shared = 1;
  t0 = eng_now();
  eng_parallel_for(p, 0, n, gil_body, g);
  t_shared = eng_now() - t0;
  if (g->err) goto done;

  g->mode_shared = 0;
  t0 = eng_now();
  eng_parallel_for(p, 0, n, gil_body, g);
  t_sep = eng_now() - t0;

done:
  eng_pool_free(p);
  for (int t = 0; t < n; t++) lx_close(g->own[t]);
  lx_close(g->shared);
  lx_close(serial);
  if (fail || g->err) {
    luaL_where(L, 1);
    lua_pushfstring(L, "engine.threads.gil_demo: %s", fail ? fail : g->err);
    lua_concat(L, 2);
    free(g->err);
    pthread_mutex_destroy(&g->mu);
    pthread_mutex_destroy(&g->err_lock);
    free(g);
    return lua_error(L);
  }
  pthread_mutex_destroy(&g->mu);
  pthread_mutex_destroy(&g->err_lock);
  free(g);
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "threads");
  lua_pushinteger(L, (work / n) * n);
  lua_setfield(L, -2, "work");
  lua_pushnumber(L, t_serial);
  lua_setfield(L, -2, "serial");
  lua_pushnumber(L, t_shared);
  lua_setfield(L, -2, "shared");
  lua_pushnumber(L, t_sep);
  lua_setfield(L, -2, "separate");
  lua_pushnumber(L, t_shared > 0 ? t_serial / t_shared : 0);
  lua_setfield(L, -2, "speedup_shared");
  lua_pushnumber(L, t_sep > 0 ? t_serial / t_sep : 0);
  lua_setfield(L, -2, "speedup_separate");
  return 1;
}

/* ---------------------------------------------------------- sync kit */

typedef struct lx_sobj { eng_sobj *o; lx_set *s; } lx_sobj;

/* Name this thread in watchdog reports after where the Lua code runs. */
static void label_thread(lua_State *L, lx_set *s) {
  int nested;
  get_set(L, &nested);
  int w = eng_pool_current_worker(s->p);
  char buf[32];
  if (nested && w >= 0) snprintf(buf, sizeof buf, "worker %d", w);
  else snprintf(buf, sizeof buf, "main");
  eng_sync_thread_label(buf);
}

static void ensure_watchdog(lx_set *s) {
  long ms = atomic_load(&s->wd_ms);
  if (ms > 0 && !atomic_exchange(&s->wd_started, 1)) eng_sync_watchdog(s->sync, (double)ms / 1e3);
}

/* mutex(name) / semaphore(name, n) / rwlock(name) / condition(name) / barrier(name, n) */
static int new_sobj(lua_State *L, eng_sync_kind kind) {
  const char *name = luaL_checkstring(L, 1);
  long init = 0;
  if (kind == ENG_SYNC_SEMAPHORE) init = (long)luaL_optinteger(L, 2, 1);
  if (kind == ENG_SYNC_BARRIER) init = (long)luaL_checkinteger(L, 2);
  lx_set *s = get_set(L, NULL);
  eng_sobj *o = NULL;
  int rc = eng_sync_get(s->sync, kind, name, init, &o);
  if (rc == PL_EINVAL)
    return t_error(L, "engine.threads.%s: '%s' already names something else (another kind, "
                         "or another count), or the count is out of range",
                      eng_sync_kind_name(kind), name);
  if (rc) return t_error(L, "engine.threads.%s: %s", eng_sync_kind_name(kind), pl_strerror(rc));
  ensure_watchdog(s);
  lx_sobj *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->o = o;
  u->s = s;
  luaL_setmetatable(L, SOBJ_MT);
  return 1;
}

static int t_mutex(lua_State *L) { return new_sobj(L, ENG_SYNC_MUTEX); }
static int t_semaphore(lua_State *L) { return new_sobj(L, ENG_SYNC_SEMAPHORE); }
static int t_rwlock(lua_State *L) { return new_sobj(L, ENG_SYNC_RWLOCK); }
static int t_condition(lua_State *L) { return new_sobj(L, ENG_SYNC_CONDITION); }
static int t_barrier(lua_State *L) { return new_sobj(L, ENG_SYNC_BARRIER); }

static lx_sobj *check_sobj(lua_State *L, int i, eng_sync_kind kind, const char *op) {
  lx_sobj *u = luaL_checkudata(L, i, SOBJ_MT);
  if (eng_sobj_kind(u->o) != kind)
    t_error(L, "%s: %s '%s' has no %s", op, eng_sync_kind_name(eng_sobj_kind(u->o)),
               eng_sobj_name(u->o), op);
  label_thread(L, u->s);
  return u;
}

/* Turn a kit result into a Lua result or error. */
static int kit_result(lua_State *L, lx_sobj *u, int rc, const char *op, const char *misuse) {
  if (rc >= 0) return rc;
  if (rc == PL_ETIMEOUT) {
    /* One line: error texts keep only their first line (plus traceback);
     * deadlock_report() has the report line by line. */
    char report[2048], line[2600];
    eng_sync_report(u->s->sync, report, sizeof report);
    size_t k = 0;
    for (const char *c = report; *c && k < sizeof line - 3; c++) {
      if (*c == '\n') {
        line[k++] = ';';
        line[k++] = ' ';
      } else {
        line[k++] = *c;
      }
    }
    line[k] = 0;
    return t_error(L, "%s on %s '%s': deadlock detected, the watchdog broke it: %s", op,
                      eng_sync_kind_name(eng_sobj_kind(u->o)), eng_sobj_name(u->o),
                      line[0] ? line : "(no report)");
  }
  return t_error(L, "%s on %s '%s': %s", op, eng_sync_kind_name(eng_sobj_kind(u->o)),
                    eng_sobj_name(u->o), misuse);
}

static int m_lock(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_MUTEX, "lock");
  kit_result(L, u, eng_mutex_lock(u->o), "lock",
             "this thread holds it already (locking it again would wait forever)");
  return 0;
}

static int m_trylock(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_MUTEX, "trylock");
  lua_pushboolean(L, kit_result(L, u, eng_mutex_trylock(u->o), "trylock", "misuse") == 1);
  return 1;
}

static int m_unlock(lua_State *L) {
  lx_sobj *u = luaL_checkudata(L, 1, SOBJ_MT);
  eng_sync_kind k = eng_sobj_kind(u->o);
  if (k == ENG_SYNC_RWLOCK) {
    label_thread(L, u->s);
    kit_result(L, u, eng_rw_unlock(u->o), "unlock", "this thread does not hold it");
    return 0;
  }
  u = check_sobj(L, 1, ENG_SYNC_MUTEX, "unlock");
  kit_result(L, u, eng_mutex_unlock(u->o), "unlock", "this thread does not hold it");
  return 0;
}

static int s_acquire(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_SEMAPHORE, "acquire");
  kit_result(L, u, eng_sem_acquire(u->o), "acquire", "misuse");
  return 0;
}

static int s_release(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_SEMAPHORE, "release");
  kit_result(L, u, eng_sem_release(u->o), "release", "misuse");
  return 0;
}

static int s_value(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_SEMAPHORE, "value");
  lua_pushinteger(L, eng_sem_value(u->o));
  return 1;
}

static int rw_read(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_RWLOCK, "read_lock");
  kit_result(L, u, eng_rw_read_lock(u->o), "read_lock",
             "this thread holds it for writing already");
  return 0;
}

static int rw_write(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_RWLOCK, "write_lock");
  kit_result(L, u, eng_rw_write_lock(u->o), "write_lock",
             "this thread holds it already (it would wait for itself)");
  return 0;
}

static int c_wait(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_CONDITION, "wait");
  lx_sobj *m = luaL_checkudata(L, 2, SOBJ_MT);
  kit_result(L, u, eng_cond_wait(u->o, m->o), "wait",
             "the second argument must be a mutex this thread holds");
  return 0;
}

static int c_signal(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_CONDITION, "signal");
  kit_result(L, u, eng_cond_signal(u->o), "signal", "misuse");
  return 0;
}

static int c_broadcast(lua_State *L) {
  lx_sobj *u = check_sobj(L, 1, ENG_SYNC_CONDITION, "broadcast");
  kit_result(L, u, eng_cond_broadcast(u->o), "broadcast", "misuse");
  return 0;
}

/* For a barrier, wait() returns true in the last thread to arrive. */
static int o_wait(lua_State *L) {
  lx_sobj *u = luaL_checkudata(L, 1, SOBJ_MT);
  if (eng_sobj_kind(u->o) == ENG_SYNC_CONDITION) return c_wait(L);
  u = check_sobj(L, 1, ENG_SYNC_BARRIER, "wait");
  lua_pushboolean(L, kit_result(L, u, eng_sbarrier_wait(u->o), "wait", "misuse") == 1);
  return 1;
}

static int o_tostring(lua_State *L) {
  lx_sobj *u = luaL_checkudata(L, 1, SOBJ_MT);
  lua_pushfstring(L, "%s '%s'", eng_sync_kind_name(eng_sobj_kind(u->o)), eng_sobj_name(u->o));
  return 1;
}

/* watchdog(seconds): timeout for deadlock detection; 0 turns it off. */
static int t_watchdog(lua_State *L) {
  double secs = luaL_checknumber(L, 1);
  lx_set *s = get_set(L, NULL);
  long ms = secs > 0 ? (long)(secs * 1000 + 0.5) : 0;
  if (secs > 0 && ms < 10) ms = 10;
  atomic_store(&s->wd_ms, ms);
  atomic_store(&s->wd_started, ms > 0);
  eng_sync_watchdog(s->sync, (double)ms / 1e3);
  return 0;
}

/* deadlock_report() -> nil, or { text = "...", lines = { ... } } */
static int t_deadlock_report(lua_State *L) {
  lx_set *s = get_set(L, NULL);
  char report[4096];
  if (eng_sync_report(s->sync, report, sizeof report) != 1) return 0;
  lua_createtable(L, 0, 2);
  lua_pushstring(L, report);
  lua_setfield(L, -2, "text");
  lua_newtable(L);
  int k = 0;
  for (char *line = report; line && *line;) {
    char *nl = strchr(line, '\n');
    lua_pushlstring(L, line, nl ? (size_t)(nl - line) : strlen(line));
    lua_rawseti(L, -2, ++k);
    line = nl ? nl + 1 : NULL;
  }
  lua_setfield(L, -2, "lines");
  return 1;
}

static int t_sync_reset(lua_State *L) {
  lx_set *s = get_set(L, NULL);
  if (eng_sync_reset(s->sync))
    return t_error(L, "engine.threads.sync_reset: threads are still waiting");
  return 0;
}

static const luaL_Reg fut_methods[] = {{"wait", fut_wait}, {"done", fut_done}, {NULL, NULL}};

static const luaL_Reg sobj_methods[] = {
    {"lock", m_lock},       {"trylock", m_trylock},   {"unlock", m_unlock},
    {"acquire", s_acquire}, {"release", s_release},   {"value", s_value},
    {"read_lock", rw_read}, {"write_lock", rw_write}, {"wait", o_wait},
    {"signal", c_signal},   {"broadcast", c_broadcast}, {NULL, NULL}};

static const luaL_Reg threads_funcs[] = {
    {"parallel_for", t_parallel_for},
    {"map", t_map},
    {"submit", t_submit},
    {"wait_any", t_wait_any},
    {"sum", t_sum},
    {"fill", t_fill},
    {"atomic_add", t_atomic_add},
    {"size", t_size},
    {"worker", t_worker},
    {"stats", t_stats},
    {"stats_reset", t_stats_reset},
    {"sleep", t_sleep},
    {"counter_demo", t_counter_demo},
    {"gil_demo", t_gil_demo},
    {"mutex", t_mutex},
    {"semaphore", t_semaphore},
    {"rwlock", t_rwlock},
    {"condition", t_condition},
    {"barrier", t_barrier},
    {"watchdog", t_watchdog},
    {"deadlock_report", t_deadlock_report},
    {"sync_reset", t_sync_reset},
    {NULL, NULL}};

int luaopen_parlab_threads(lua_State *L) {
  luaL_newmetatable(L, SET_MT);
  lua_pushcfunction(L, set_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_newmetatable(L, FUT_MT);
  lua_pushcfunction(L, fut_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, fut_methods);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "parlab.future");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, SOBJ_MT);
  luaL_newlib(L, sobj_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, o_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "parlab.sync");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newlib(L, threads_funcs);
  return 1;
}
