/*
 * lx_procs.c — engine.procs: the process pool, child processes and IPC
 * objects for labs and Lua submissions (the friendly API is
 * lua/lib/procs.lua).
 *
 * Functions and values reach a worker process the way they reach a worker
 * thread (lx_serial, LX_SER_PROCESS): a function as a bytecode dump, with
 * the pickling rules and messages of engine.threads, engine arrays as
 * memfds. Each worker process opens one sandboxed state (lx_open) when it
 * starts and keeps it: functions it has loaded are cached by a hash of
 * their dump, so calling the same function again costs no load; a map's
 * function and extra arguments are a job, sent once and loaded once per
 * worker.
 *
 * IPC objects (locks, values, queues, pipes) are userdata over an engine
 * array; memory-mapped arrays are engine arrays over a file. Neither can
 * be serialized as such, so arguments are "packed" first: such a value
 * (or one inside a plain table, one level down) becomes a marker table
 * holding its array (or, for a memmap, its path: a worker maps the file
 * itself, as joblib does), and the worker unpacks it before the call.
 *
 * Payloads:
 *   apply  'A' flags u32 fnlen u64 fnhash, the function's record, args;
 *          fnlen 0 (what the pool sends): the record is the task's job,
 *          made once per function and pool, so a small task is a few
 *          bytes and a worker that has loaded the function never reads it
 *   chunk  'M' flags i64 begin, the chunk's items: as values (PF_FLAT,
 *          chunks of at most FLAT_MAX items), else one table
 *   job    flags, the function's record, the map's extra arguments
 * A chunk's result is i64 begin and the results, as the items came.
 *
 * Errors raised in a worker come back with its message and traceback and
 * are raised again in the caller with "(worker 1, pid 42)" added; a task
 * whose workers kept dying is raised with the cause.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng_array.h"
#include "eng_ipc.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "eng_procs.h"
#include "lx.h"
#include "lx_engine.h"
#include "lx_int.h"
#include "lx_serial.h"
#include "pl_err.h"

#define POOL_MT "parlab.procs.pool"
#define FUT_MT "parlab.procs.future"
#define IMAP_MT "parlab.procs.imap"
#define IPC_MT "parlab.procs.ipc"
#define PROC_MT "parlab.procs.process"
#define MMAPS_KEY "parlab.procs.mmaps"       /* weak: memmap array -> info */
#define DEFAULT_KEY "parlab.procs.default"
#define MARK_IPC "__parlab_ipc"
#define MARK_MMAP "__parlab_mmap"
#define FNCACHE_MAX 256
#define FLAT_MAX 64 /* chunks up to this many items travel without a table */
#define FJOB_SLOTS 64 /* functions per pool kept in shared memory (a power of 2) */

enum { PF_PACKED = 1, PF_FLAT = 2 };

/* ------------------------------------------------------------ helpers */

/* Registry key (by address): weak table function -> its record. */
static const char FNBYTES_KEY;

static int p_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  luaL_where(L, 2);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  return lua_error(L);
}

static uint64_t fnv1a(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* A growable byte buffer for payloads (not an lx_buf: lx_buf_free would
 * parse our headers as values). */
typedef struct pbuf { char *d; size_t len, cap; } pbuf;

static int pb_put(pbuf *b, const void *p, size_t n) {
  if (b->cap - b->len < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) cap *= 2;
    char *d = realloc(b->d, cap);
    if (!d) return PL_ENOMEM;
    b->d = d;
    b->cap = cap;
  }
  memcpy(b->d + b->len, p, n);
  b->len += n;
  return 0;
}

static double deadline_abs(lua_State *L) {
  double left = lx__deadline_left(L);
  return left > 0 ? eng_now() + left : 0;
}

/* Seconds a blocking call may wait: the Lua state's deadline, or none. */
static double wait_budget(lua_State *L) {
  double left = lx__deadline_left(L);
  return left > 0 ? left : -1;
}

/* "file:line: msg\ntraceback" -> "file:line: msg (worker 1, pid 42)\ntraceback" */
static void push_worker_error(lua_State *L, const char *err, int w, int pid) {
  const char *nl = strchr(err, '\n');
  if (!nl) {
    lua_pushfstring(L, "%s (worker %d, pid %d)", err, w, pid);
    return;
  }
  lua_pushlstring(L, err, (size_t)(nl - err));
  lua_pushfstring(L, " (worker %d, pid %d)", w, pid);
  lua_pushstring(L, nl);
  lua_concat(L, 3);
}

/* ------------------------------------------------------------ IPC objects */

typedef struct lx_ipc {
  eng_ipc *o;
  int end; /* pipes: the end this handle sends from */
} lx_ipc;

static lx_ipc *push_ipc(lua_State *L, eng_ipc *o, int end) {
  lx_ipc *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->o = o;
  u->end = end;
  luaL_setmetatable(L, IPC_MT);
  return u;
}

static lx_ipc *check_ipc(lua_State *L, int i, eng_ipc_kind kind, const char *what) {
  lx_ipc *u = luaL_checkudata(L, i, IPC_MT);
  if (!u->o) luaL_argerror(L, i, "the object has been freed");
  if (kind && eng_ipc_kind_of(u->o) != kind)
    p_error(L, "%s: this is a %s, not a %s", what, eng_ipc_kind_name(eng_ipc_kind_of(u->o)),
            eng_ipc_kind_name(kind));
  return u;
}

static int ipc_gc(lua_State *L) {
  lx_ipc *u = luaL_checkudata(L, 1, IPC_MT);
  eng_ipc_free(u->o);
  u->o = NULL;
  return 0;
}

static int ipc_tostring(lua_State *L) {
  lx_ipc *u = luaL_checkudata(L, 1, IPC_MT);
  if (!u->o) lua_pushliteral(L, "engine.procs object (freed)");
  else if (eng_ipc_kind_of(u->o) == ENG_IPC_PIPE)
    lua_pushfstring(L, "engine.procs pipe (end %d)", u->end + 1);
  else lua_pushfstring(L, "engine.procs %s", eng_ipc_kind_name(eng_ipc_kind_of(u->o)));
  return 1;
}

/* Timeout argument at i (optional, seconds), capped by the deadline.
 * *user: 1 when the user's own timeout is the binding one. */
static double ipc_timeout(lua_State *L, int i, int *user) {
  double dl = wait_budget(L);
  *user = 0;
  if (lua_isnoneornil(L, i)) return dl;
  double t = luaL_checknumber(L, i);
  if (!(t >= 0)) luaL_argerror(L, i, "timeout must be >= 0 seconds");
  if (dl < 0 || t <= dl) {
    *user = 1;
    return t;
  }
  return dl;
}

static int timed_out(lua_State *L, const char *what, int user, double t) {
  if (user) return p_error(L, "%s: timed out after %f s", what, t);
  return p_error(L, "%s: time limit exceeded while waiting", what);
}

/* lock:acquire([timeout]) -> true, or false when the timeout passed. A
 * second result "owner died" says its last holder died holding it. */
static int l_acquire(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, 0, "acquire");
  int user;
  double t = ipc_timeout(L, 2, &user);
  int rc = eng_ipc_lock(u->o, t);
  if (rc == PL_ETIMEOUT) {
    if (!user) return timed_out(L, "lock:acquire", 0, t);
    lua_pushboolean(L, 0);
    return 1;
  }
  if (rc < 0) return p_error(L, "lock:acquire: %s", pl_strerror(rc));
  lua_pushboolean(L, 1);
  if (rc == 1) {
    lua_pushliteral(L, "owner died");
    return 2;
  }
  return 1;
}

static int l_release(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, 0, "release");
  if (eng_ipc_unlock(u->o)) return p_error(L, "lock:release: this process does not hold the lock");
  return 0;
}

static void push_num(lua_State *L, eng_dtype t, double v) {
  if (t == ENG_I64) lua_pushinteger(L, (lua_Integer)v);
  else lua_pushnumber(L, v);
}

static int v_get(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_VALUE, "value:get");
  double v;
  eng_ipc_value_get(u->o, &v);
  push_num(L, eng_ipc_value_dtype(u->o), v);
  return 1;
}

static int v_set(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_VALUE, "value:set");
  eng_ipc_value_set(u->o, luaL_checknumber(L, 2));
  return 0;
}

static int v_add(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_VALUE, "value:add");
  double after;
  eng_ipc_value_add(u->o, luaL_optnumber(L, 2, 1), &after);
  push_num(L, eng_ipc_value_dtype(u->o), after);
  return 1;
}

/* Serialize one value for a queue or pipe: plain data only. */
static void msg_encode(lua_State *L, int idx, lx_buf *b, const char *what) {
  char *err = NULL;
  if (lx_serialize(L, idx, LX_SER_PROCESS, "the message", b, &err)) {
    lx_buf_free(b);
    luaL_where(L, 2);
    lua_pushfstring(L, "%s: %s", what, err ? err : "cannot copy the value");
    free(err);
    lua_concat(L, 2);
    lua_error(L);
  }
  if (b->nfds) {
    lx_buf_free(b);
    p_error(L, "%s: engine arrays cannot travel through a queue or pipe (their memory is "
               "shared already): pass them to the process as arguments", what);
  }
}

static int msg_send(lua_State *L, lx_ipc *u, int end, int vidx, int tidx, const char *what) {
  lx_buf b;
  lx_buf_init(&b);
  msg_encode(L, vidx, &b, what);
  int user;
  double t = ipc_timeout(L, tidx, &user);
  int rc = eng_ipc_put(u->o, end, b.data, b.len, t);
  size_t len = b.len;
  lx_buf_free(&b);
  if (rc == PL_ETIMEOUT) return timed_out(L, what, user, t);
  if (rc == PL_EINVAL)
    return p_error(L, "%s: the message (%d bytes) is larger than the capacity", what, (int)len);
  if (rc) return p_error(L, "%s: %s", what, pl_strerror(rc));
  return 0;
}

static int msg_recv(lua_State *L, lx_ipc *u, int end, int tidx, const char *what) {
  int user;
  double t = ipc_timeout(L, tidx, &user);
  char *m = NULL;
  size_t n = 0;
  int rc = eng_ipc_get(u->o, end, &m, &n, t);
  if (rc == PL_ETIMEOUT) return timed_out(L, what, user, t);
  if (rc) return p_error(L, "%s: %s", what, pl_strerror(rc));
  char *err = NULL;
  int top = lua_gettop(L);
  int got = lx_deserialize(L, m, n, LX_SER_PROCESS, NULL, 0, &err);
  free(m);
  if (got < 0) {
    lua_pushfstring(L, "%s: %s", what, err ? err : "bad message");
    free(err);
    return lua_error(L);
  }
  lua_settop(L, top + 1); /* exactly one value, nil included */
  return 1;
}

static int q_put(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_QUEUE, "queue:put");
  luaL_checkany(L, 2);
  return msg_send(L, u, 0, 2, 3, "queue:put");
}

static int q_get(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_QUEUE, "queue:get");
  return msg_recv(L, u, 0, 2, "queue:get");
}

static int q_size(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, 0, "size");
  int k = eng_ipc_kind_of(u->o);
  lua_pushinteger(L, eng_ipc_count(u->o, k == ENG_IPC_PIPE ? u->end : 0));
  return 1;
}

static int q_stats(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, 0, "stats");
  int k = eng_ipc_kind_of(u->o);
  if (k != ENG_IPC_QUEUE && k != ENG_IPC_PIPE) return p_error(L, "stats: not a queue or pipe");
  eng_ipc_qstats s;
  eng_ipc_qstats_get(u->o, k == ENG_IPC_PIPE ? u->end : 0, &s);
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, s.puts);
  lua_setfield(L, -2, "puts");
  lua_pushinteger(L, s.gets);
  lua_setfield(L, -2, "gets");
  lua_pushinteger(L, s.depth);
  lua_setfield(L, -2, "depth");
  lua_pushinteger(L, s.max_depth);
  lua_setfield(L, -2, "max_depth");
  if (s.max_items >= 0) {
    lua_pushinteger(L, s.max_items);
    lua_setfield(L, -2, "capacity");
  }
  lua_pushinteger(L, (lua_Integer)s.max_bytes);
  lua_setfield(L, -2, "bytes");
  return 1;
}

static int c_send(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_PIPE, "pipe:send");
  luaL_checkany(L, 2);
  return msg_send(L, u, u->end, 2, 3, "pipe:send");
}

static int c_recv(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_PIPE, "pipe:recv");
  return msg_recv(L, u, u->end, 2, "pipe:recv");
}

static int c_poll(lua_State *L) {
  lx_ipc *u = check_ipc(L, 1, ENG_IPC_PIPE, "pipe:poll");
  lua_pushboolean(L, eng_ipc_count(u->o, u->end) > 0);
  return 1;
}

/* A descriptor may be missing only because garbage holds them: collect
 * and try once more. */
#define WITH_GC_RETRY(L, rc, call) \
  do {                              \
    rc = (call);                    \
    if (rc) {                       \
      lua_gc(L, LUA_GCCOLLECT, 0);  \
      rc = (call);                  \
    }                               \
  } while (0)

static int p_lock(lua_State *L) {
  eng_ipc *o;
  int rc;
  WITH_GC_RETRY(L, rc, eng_ipc_lock_new(&o));
  if (rc) return p_error(L, "engine.procs.lock: %s", pl_strerror(rc));
  push_ipc(L, o, 0);
  return 1;
}

static int p_value(lua_State *L) {
  const char *dt = luaL_optstring(L, 1, "f64");
  eng_dtype t;
  if (eng_dtype_parse(dt, &t) || t == ENG_F32)
    return p_error(L, "engine.procs.value: type must be \"f64\" or \"i64\", got \"%s\"", dt);
  eng_ipc *o;
  double init = luaL_optnumber(L, 2, 0);
  int rc;
  WITH_GC_RETRY(L, rc, eng_ipc_value_new(t, init, &o));
  if (rc) return p_error(L, "engine.procs.value: %s", pl_strerror(rc));
  push_ipc(L, o, 0);
  return 1;
}

static int p_queue(lua_State *L) {
  lua_Integer cap = luaL_optinteger(L, 1, 1024);
  lua_Integer bytes = luaL_optinteger(L, 2, 0);
  if (cap < 1 || cap > 100000000)
    return p_error(L, "engine.procs.queue: capacity must be 1 .. 1e8 messages, got %d", (int)cap);
  if (bytes < 0 || bytes > ((lua_Integer)1 << 30))
    return p_error(L, "engine.procs.queue: bytes must be 0 .. 2^30");
  eng_ipc *o;
  int rc;
  WITH_GC_RETRY(L, rc, eng_ipc_queue_new((long)cap, (size_t)bytes, &o));
  if (rc) return p_error(L, "engine.procs.queue: %s", pl_strerror(rc));
  push_ipc(L, o, 0);
  return 1;
}

static int p_pipe(lua_State *L) {
  lua_Integer bytes = luaL_optinteger(L, 1, 0);
  if (bytes < 0 || bytes > ((lua_Integer)1 << 30))
    return p_error(L, "engine.procs.pipe: bytes must be 0 .. 2^30");
  eng_ipc *o;
  int rc;
  WITH_GC_RETRY(L, rc, eng_ipc_pipe_new((size_t)bytes, &o));
  if (rc) return p_error(L, "engine.procs.pipe: %s", pl_strerror(rc));
  eng_ipc *o2;
  rc = eng_ipc_attach(eng_ipc_array(o), &o2);
  if (rc) {
    eng_ipc_free(o);
    return p_error(L, "engine.procs.pipe: %s", pl_strerror(rc));
  }
  push_ipc(L, o, 0);
  push_ipc(L, o2, 1);
  return 2;
}

/* ------------------------------------------------------------ memmaps */

/* memmap(path, dtype, mode, n) -> array; mode "r", "r+" or "w+". */
static int p_memmap(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *dt = luaL_checkstring(L, 2);
  const char *mode = luaL_optstring(L, 3, "r");
  lua_Integer n = luaL_optinteger(L, 4, -1);
  eng_dtype t;
  if (eng_dtype_parse(dt, &t))
    return p_error(L, "engine.procs.memmap: unknown type \"%s\" (use \"f64\", \"f32\" or \"i64\")", dt);
  int m;
  if (!strcmp(mode, "r")) m = ENG_MMAP_READ;
  else if (!strcmp(mode, "r+")) m = ENG_MMAP_RW;
  else if (!strcmp(mode, "w+")) m = ENG_MMAP_CREATE;
  else return p_error(L, "engine.procs.memmap: mode must be \"r\", \"r+\" or \"w+\", got \"%s\"", mode);
  if (m == ENG_MMAP_CREATE && n < 0)
    return p_error(L, "engine.procs.memmap: mode \"w+\" needs the number of elements");
  if (n > (lua_Integer)1 << 40) return p_error(L, "engine.procs.memmap: too many elements");
  /* Workers reopen the file by name: keep a name that does not depend on
   * where they run. */
  char *abs = NULL;
  if (path[0] == '/') {
    abs = strdup(path);
  } else {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) abs = lx_strdup_printf("%s/%s", cwd, path);
  }
  if (!abs) return p_error(L, "engine.procs.memmap: out of memory");
  eng_array *a = NULL;
  int rc = eng_ipc_memmap(abs, t, m, (long)n, &a);
  if (rc) {
    free(abs);
    return p_error(L, "engine.procs.memmap: %s: %s", path,
                   rc == PL_ENOTFOUND ? "no such file"
                   : rc == PL_EINVAL  ? "the file is smaller than asked, or not a regular file"
                                      : pl_strerror(rc));
  }
  lx_pusharray(L, a);
  lua_getfield(L, LUA_REGISTRYINDEX, MMAPS_KEY);
  lua_pushvalue(L, -2);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, abs);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, eng_dtype_name(t));
  lua_setfield(L, -2, "dtype");
  lua_pushboolean(L, m != ENG_MMAP_READ);
  lua_setfield(L, -2, "writable");
  lua_pushinteger(L, eng_array_len(a));
  lua_setfield(L, -2, "n");
  lua_rawset(L, -3);
  lua_pop(L, 1);
  free(abs);
  return 1;
}

/* save(path, array): write the raw elements (memmap's format). */
static int p_save(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  eng_array *a = lx_toarray(L, 2);
  if (!a) return p_error(L, "engine.procs.save: argument 2 must be an engine array");
  int rc = eng_ipc_save(path, a);
  if (rc) return p_error(L, "engine.procs.save: %s: %s", path, pl_strerror(rc));
  return 0;
}

/* ------------------------------------------------------------ packing */

/* Push the marker for the value at idx if it needs one; 0 if not. */
static int marker_for(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA) return 0;
  lx_ipc *u = luaL_testudata(L, idx, IPC_MT);
  if (u) {
    if (!u->o) return 0;
    lua_createtable(L, 0, 2);
    lx_pusharray(L, eng_array_retain(eng_ipc_array(u->o)));
    lua_setfield(L, -2, MARK_IPC);
    lua_pushinteger(L, u->end);
    lua_setfield(L, -2, "end");
    return 1;
  }
  if (!lx_toarray(L, idx)) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, MMAPS_KEY);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  lua_createtable(L, 0, 4);
  const char *f[] = {"dtype", "writable", "n"};
  for (int i = 0; i < 3; i++) {
    lua_getfield(L, -2, f[i]);
    lua_setfield(L, -2, f[i]);
  }
  lua_getfield(L, -2, "path");
  lua_setfield(L, -2, MARK_MMAP);
  lua_remove(L, -2);
  return 1;
}

/* Replace, in place on the stack, the values at [first, last] that need
 * markers (also inside plain tables, one level down: those are copied).
 * Returns 1 when anything was replaced. */
static int needs_marker(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA) return 0;
  if (luaL_testudata(L, idx, IPC_MT)) return 1;
  if (!lx_toarray(L, idx)) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, MMAPS_KEY);
  lua_pushvalue(L, idx);
  int t = lua_rawget(L, -2);
  lua_pop(L, 2);
  return t == LUA_TTABLE;
}

static int pack_args(lua_State *L, int first, int last) {
  int any = 0;
  luaL_checkstack(L, 8, "pack");
  for (int i = first; i <= last; i++) {
    if (marker_for(L, i)) {
      lua_replace(L, i);
      any = 1;
      continue;
    }
    if (lua_type(L, i) != LUA_TTABLE) continue;
    if (lua_getmetatable(L, i)) {
      lua_pop(L, 1);
      continue; /* refused later, with the pickling message */
    }
    int found = 0;
    lua_pushnil(L);
    while (!found && lua_next(L, i)) {
      found = needs_marker(L, -1);
      lua_pop(L, found ? 2 : 1);
    }
    if (!found) continue;
    /* A copy, with the markers in place of the objects. */
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, i)) {
      lua_pushvalue(L, -2);
      if (marker_for(L, -2)) lua_remove(L, -3);
      else lua_insert(L, -2);
      lua_rawset(L, -4);
    }
    lua_replace(L, i);
    any = 1;
  }
  return any;
}

static int unpack_one(lua_State *L, int idx, char **err) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (lua_getfield(L, idx, MARK_IPC) != LUA_TNIL) {
    eng_array *a = lx_toarray(L, -1);
    lua_getfield(L, idx, "end");
    int end = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);
    eng_ipc *o;
    if (!a || eng_ipc_attach(a, &o)) {
      *err = lx_strdup("engine.procs: a queue, pipe, lock or value could not be attached here");
      return -1;
    }
    push_ipc(L, o, end);
    return 1;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, MARK_MMAP) != LUA_TSTRING) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "dtype");
  lua_getfield(L, idx, "writable");
  lua_getfield(L, idx, "n");
  eng_dtype t = ENG_F64;
  eng_dtype_parse(lua_tostring(L, -3), &t);
  int writable = lua_toboolean(L, -2);
  long n = (long)lua_tointeger(L, -1);
  lua_pop(L, 3);
  lua_getfield(L, idx, MARK_MMAP);
  char *path = lx_strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  eng_array *a = NULL;
  int rc = path ? eng_ipc_memmap(path, t, writable ? ENG_MMAP_RW : ENG_MMAP_READ, n, &a) : PL_ENOMEM;
  if (rc) {
    *err = lx_strdup_printf("engine.procs: cannot map %s in the worker: %s", path ? path : "?",
                            pl_strerror(rc));
    free(path);
    return -1;
  }
  lx_pusharray(L, a);
  /* A memmap here too, should it travel further. */
  lua_getfield(L, LUA_REGISTRYINDEX, MMAPS_KEY);
  lua_pushvalue(L, -2);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, path);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, eng_dtype_name(t));
  lua_setfield(L, -2, "dtype");
  lua_pushboolean(L, writable);
  lua_setfield(L, -2, "writable");
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_rawset(L, -3);
  lua_pop(L, 1);
  free(path);
  return 1;
}

static int unpack_args(lua_State *L, int first, int last, char **err) {
  for (int i = first; i <= last; i++) {
    int r = unpack_one(L, i, err);
    if (r < 0) return -1;
    if (r) {
      lua_replace(L, i);
      continue;
    }
    if (lua_type(L, i) != LUA_TTABLE) continue;
    lua_pushnil(L);
    while (lua_next(L, i)) {
      r = unpack_one(L, -1, err);
      if (r < 0) {
        lua_pop(L, 2);
        return -1;
      }
      if (r) {
        lua_pushvalue(L, -3);
        lua_insert(L, -2);
        lua_rawset(L, i); /* replacing a present key during next() is allowed */
      }
      lua_pop(L, 1);
    }
  }
  return 0;
}

/* ------------------------------------------------------------ the worker */

static lua_State *WL; /* this worker process's interpreter */

static int wl_open(char **err) {
  if (WL) return 0;
  lx_limits lim = {0, 0};
  if (lx_open(&lim, &WL)) {
    *err = lx_strdup("engine.procs: cannot open the worker's Lua state");
    WL = NULL;
    return -1;
  }
  return 0;
}

static void worker_init(void *ctx, int worker) {
  (void)ctx;
  (void)worker;
  char *err = NULL;
  /* Ready before the first task arrives (its latency is what counts). */
  if (wl_open(&err)) free(err);
}

static int fail_out(eng_procs_out *out, char *err) {
  const char *m = err ? err : "engine.procs: error in the worker";
  eng_procs_out_write(out, m, strlen(m));
  free(err);
  return 1;
}

/* The worker's result buffer, kept from task to task (a small result
 * then costs no allocation). */
static lx_buf WOUT;

/* Serialize the values at [first, last] of W as the result, after plen
 * bytes of prefix (a chunk's first index). Messages number the values
 * from base + 1. */
static int write_results(lua_State *W, int first, int last, eng_procs_out *out, const char *what1,
                         long base, const void *prefix, size_t plen) {
  lx_buf *b = &WOUT;
  lx_buf_reset(b);
  char *err = NULL;
  for (int i = first; i <= last; i++) {
    /* The label is built only for the message (snprintf per value costs
     * as much as the rest of a small result). */
    if (lx_serialize(W, i, LX_SER_PROCESS, what1, b, &err)) {
      char what[40];
      snprintf(what, sizeof what, "%s %ld", what1, base + (i - first) + 1);
      free(err);
      err = NULL;
      lx_buf tmp;
      lx_buf_init(&tmp);
      lx_serialize(W, i, LX_SER_PROCESS, what, &tmp, &err);
      lx_buf_free(&tmp);
      lx_buf_reset(b);
      return fail_out(out, err);
    }
  }
  int rc = plen ? eng_procs_out_write(out, prefix, plen) : 0;
  if (!rc) rc = eng_procs_out_write(out, b->data, b->len);
  if (!rc && b->nfds) rc = eng_procs_out_fds(out, b->fds, b->nfds);
  lx_buf_reset(b);
  if (rc) return fail_out(out, lx_strdup_printf("engine.procs: cannot send the result: %s",
                                                pl_strerror(rc)));
  return 0;
}

/* The worker's caches live in its registry under these addresses (light
 * userdata keys: no string to hash per task). */
static const char FNCACHE_KEY, JOB_KEY;
static int fncache_count;    /* functions in the cache */
static uint64_t job_loaded;  /* the job whose table is under JOB_KEY (0: none) */
static int job_nargs;

/* Push the function of an apply payload, loading it once per worker. */
static int push_fn(lua_State *W, uint64_t hash, const char *rec, size_t len, char **err) {
  if (lua_rawgetp(W, LUA_REGISTRYINDEX, &FNCACHE_KEY) != LUA_TTABLE) {
    lua_pop(W, 1);
    lua_newtable(W);
    lua_pushvalue(W, -1);
    lua_rawsetp(W, LUA_REGISTRYINDEX, &FNCACHE_KEY);
    fncache_count = 0;
  }
  if (lua_rawgeti(W, -1, (lua_Integer)hash) == LUA_TFUNCTION) {
    lua_remove(W, -2);
    return 0;
  }
  lua_pop(W, 1);
  int n = lx_deserialize(W, rec, len, LX_SER_PROCESS, NULL, 0, err);
  if (n != 1 || !lua_isfunction(W, -1)) {
    if (n > 0) lua_pop(W, n);
    lua_pop(W, 1);
    if (!*err) *err = lx_strdup("engine.procs: the function did not arrive");
    return -1;
  }
  /* A bounded cache: forget everything now and then. */
  if (++fncache_count > FNCACHE_MAX) {
    lua_newtable(W);
    lua_pushvalue(W, -1);
    lua_rawsetp(W, LUA_REGISTRYINDEX, &FNCACHE_KEY);
    lua_replace(W, -3);
    fncache_count = 1;
  }
  lua_pushvalue(W, -1);
  lua_rawseti(W, -3, (lua_Integer)hash);
  lua_remove(W, -2);
  return 0;
}

static int run_apply(lua_State *W, eng_procs_task *t, eng_procs_out *out) {
  const char *d = t->data;
  char *err = NULL;
  if (t->len < 16) return fail_out(out, lx_strdup("engine.procs: malformed task"));
  int flags = (unsigned char)d[1];
  uint32_t fnlen;
  uint64_t hash;
  memcpy(&fnlen, d + 4, 4);
  memcpy(&hash, d + 8, 8);
  if (fnlen > t->len - 16) return fail_out(out, lx_strdup("engine.procs: malformed task"));
  /* fnlen 0: the function's record is the task's job. */
  const char *rec = fnlen ? d + 16 : t->jobdata;
  size_t reclen = fnlen ? fnlen : t->joblen;
  if (!rec) return fail_out(out, lx_strdup("engine.procs: malformed task"));
  int top = lua_gettop(W);
  if (push_fn(W, hash, rec, reclen, &err)) {
    for (int i = 0; i < t->nfds; i++) {
      close(t->fds[i]);
      t->fds[i] = -1;
    }
    return fail_out(out, err);
  }
  int nargs = lx_deserialize(W, d + 16 + fnlen, t->len - 16 - fnlen, LX_SER_PROCESS, t->fds,
                             t->nfds, &err);
  for (int i = 0; i < t->nfds; i++) t->fds[i] = -1; /* consumed */
  if (nargs < 0) {
    lua_settop(W, top);
    return fail_out(out, err);
  }
  if ((flags & PF_PACKED) && unpack_args(W, top + 2, top + 1 + nargs, &err)) {
    lua_settop(W, top);
    return fail_out(out, err);
  }
  if (lx_pcall(W, nargs, LUA_MULTRET, &err)) {
    lua_settop(W, top);
    return fail_out(out, err);
  }
  int rc = write_results(W, top + 1, lua_gettop(W), out, "result", 0, NULL, 0);
  lua_settop(W, top);
  return rc;
}

/* Push the job table of a map, { fn, args... }, loaded once per job. */
static int load_job(lua_State *W, eng_procs_task *t, char **err) {
  if (job_loaded == t->job && job_loaded) {
    lua_rawgetp(W, LUA_REGISTRYINDEX, &JOB_KEY);
    return 0;
  }
  const char *jd = t->jobdata;
  if (t->joblen < 1) {
    *err = lx_strdup("engine.procs: malformed job");
    return -1;
  }
  int flags = (unsigned char)jd[0];
  /* The engine keeps the job's descriptors: deserializing takes copies. */
  int fds[ENG_PROCS_MAX_FDS];
  int nfds = 0;
  for (int i = 0; i < t->njobfds; i++) {
    int d = dup(t->jobfds[i]);
    if (d < 0) {
      for (int k = 0; k < nfds; k++) close(fds[k]);
      *err = lx_strdup("engine.procs: out of file descriptors");
      return -1;
    }
    fds[nfds++] = d;
  }
  int top = lua_gettop(W);
  lua_createtable(W, 8, 0);
  int nv = lx_deserialize(W, jd + 1, t->joblen - 1, LX_SER_PROCESS, fds, nfds, err);
  if (nv < 1) {
    lua_settop(W, top);
    if (!*err) *err = lx_strdup("engine.procs: the job did not arrive");
    return -1;
  }
  if ((flags & PF_PACKED) && unpack_args(W, top + 3, top + 1 + nv, err)) {
    lua_settop(W, top);
    return -1;
  }
  for (int k = nv; k >= 1; k--) lua_rawseti(W, top + 1, k);
  lua_pushvalue(W, top + 1);
  lua_rawsetp(W, LUA_REGISTRYINDEX, &JOB_KEY);
  job_loaded = t->job;
  job_nargs = nv - 1;
  return 0;
}

static int run_chunk(lua_State *W, eng_procs_task *t, eng_procs_out *out) {
  const char *d = t->data;
  char *err = NULL;
  int top = lua_gettop(W);
  if (t->len < 10 || !t->job) return fail_out(out, lx_strdup("engine.procs: malformed chunk"));
  int flat = (unsigned char)d[1] & PF_FLAT;
  int64_t begin;
  memcpy(&begin, d + 2, 8);
  if (load_job(W, t, &err)) return fail_out(out, err);
  int job = lua_gettop(W);
  int nargs = job_nargs;
  int n = lx_deserialize(W, d + 10, t->len - 10, LX_SER_PROCESS, t->fds, t->nfds, &err);
  for (int i = 0; i < t->nfds; i++) t->fds[i] = -1;
  if (flat ? n < 1 || n > FLAT_MAX : n != 1 || !lua_istable(W, -1)) {
    lua_settop(W, top);
    return fail_out(out, err ? err : lx_strdup("engine.procs: malformed chunk"));
  }
  /* Flat: the items are the n values above the job; else one table. */
  int items = job + 1;
  lua_Integer count = flat ? n : luaL_len(W, items);
  int res = 0;
  if (!flat) {
    lua_createtable(W, (int)(count < 1 << 20 ? count : 1 << 20), 0);
    res = lua_gettop(W);
  }
  if (!lua_checkstack(W, nargs + 8 + (flat ? n : 0))) {
    lua_settop(W, top);
    return fail_out(out, lx_strdup("engine.procs: too many arguments"));
  }
  for (lua_Integer i = 1; i <= count; i++) {
    lua_rawgeti(W, job, 1);
    if (flat) lua_pushvalue(W, items + (int)i - 1);
    else lua_rawgeti(W, items, i);
    for (int a = 0; a < nargs; a++) lua_rawgeti(W, job, 2 + a);
    if (lx_pcall(W, 1 + nargs, 1, &err)) {
      lua_settop(W, top);
      return fail_out(out, err);
    }
    if (!flat) lua_rawseti(W, res, i);
  }
  /* Flat: the results are the values above the items, sent as values. */
  int first = flat ? items + n : res, last = flat ? items + 2 * n - 1 : res;
  int rc = write_results(W, first, last, out, flat ? "the result of item" : "the results of items",
                         flat ? (long)begin : 0, &begin, sizeof begin);
  lua_settop(W, top);
  return rc;
}

static int lua_task(void *ctx, eng_procs_task *t, eng_procs_out *out) {
  (void)ctx;
  char *err = NULL;
  if (wl_open(&err)) return fail_out(out, err);
  if (t->len < 1) return fail_out(out, lx_strdup("engine.procs: empty task"));
  /* The time limit's hook is set only for a task that has one (and taken
   * off after it): without one, the interpreter runs hook-free. */
  static int timed;
  if (t->deadline > 0) {
    double left = t->deadline - eng_now();
    lx_set_deadline(WL, left < 1e-3 ? 1e-3 : left);
    timed = 1;
  }
  int rc, had_fds = t->nfds > 0;
  switch (((const char *)t->data)[0]) {
  case 'A': rc = run_apply(WL, t, out); break;
  case 'M': rc = run_chunk(WL, t, out); break;
  default: rc = fail_out(out, lx_strdup("engine.procs: unknown task"));
  }
  if (timed) {
    lx_set_deadline(WL, 0);
    timed = 0;
  }
  /* Arrays the task received hold mappings and descriptors, which the
   * collector does not see as memory: let it find them soon. */
  if (had_fds) lua_gc(WL, LUA_GCSTEP, 0);
  return rc;
}

/* ------------------------------------------------------------ pools */

typedef struct fjob { uint64_t hash, job; } fjob;

typedef struct lx_pool {
  eng_procs *p;
  int n;
  int closed;
  pbuf scratch; /* payloads are built here (the engine copies them) */
  lx_buf ser;   /* arguments and items are serialized here */
  /* Functions given to apply and submit, each a job (its bytes are in
   * shared memory once, not in every task): by hash, direct-mapped. */
  fjob fjobs[FJOB_SLOTS];
} lx_pool;

/* The pool metatable, also under this address: checking a pool argument
 * on every call is then one pointer comparison, not a lookup by name. */
static const char POOL_MT_KEY;

static lx_pool *check_pool(lua_State *L, int i) {
  lx_pool *u = NULL;
  if (lua_getmetatable(L, i)) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &POOL_MT_KEY);
    if (lua_rawequal(L, -1, -2)) u = lua_touserdata(L, i);
    lua_pop(L, 2);
  }
  if (!u) u = luaL_checkudata(L, i, POOL_MT); /* raises the usual message */
  if (!u->p) p_error(L, "engine.procs: the pool has been terminated");
  if (u->closed) p_error(L, "engine.procs: the pool has been closed");
  return u;
}

static int pool_gc(lua_State *L) {
  lx_pool *u = luaL_checkudata(L, 1, POOL_MT);
  if (u->p) eng_procs_free(u->p);
  u->p = NULL;
  free(u->scratch.d);
  memset(&u->scratch, 0, sizeof u->scratch);
  lx_buf_free(&u->ser);
  return 0;
}

static void refuse_in_worker(lua_State *L, const char *fname) {
  if (eng_procs_current_worker() >= 0)
    p_error(L, "%s: a pool worker cannot start processes of its own (as in Python, where "
               "daemonic processes are not allowed to have children)", fname);
}

static lx_pool *new_pool(lua_State *L, int workers, int retries, const char *fname) {
  refuse_in_worker(L, fname);
  lx_pool *u = lua_newuserdatauv(L, sizeof *u, 0);
  memset(u, 0, sizeof *u);
  luaL_setmetatable(L, POOL_MT);
  eng_procs_opts o = {.workers = workers, .retries = retries, .spin_us = -1, .init = worker_init};
  int rc = eng_procs_new(&o, lua_task, NULL, &u->p);
  if (rc == PL_EIO && (errno == EMFILE || errno == ENFILE)) {
    /* Dead arrays and pools hold descriptors until collected. */
    lua_gc(L, LUA_GCCOLLECT, 0);
    rc = eng_procs_new(&o, lua_task, NULL, &u->p);
  }
  if (rc)
    p_error(L, "%s: cannot start the workers: %s", fname,
            rc == PL_EIO ? strerror(errno) : pl_strerror(rc));
  u->n = eng_procs_size(u->p);
  return u;
}

/* new(workers, retries) -> pool */
static int p_new(lua_State *L) {
  lua_Integer w = luaL_optinteger(L, 1, 0), r = luaL_optinteger(L, 2, -1);
  if (w < 0 || w > 64) return p_error(L, "engine.procs.pool: workers must be 1 .. 64, got %d", (int)w);
  if (r < -1 || r > 100) return p_error(L, "engine.procs.pool: retries must be 0 .. 100, got %d", (int)r);
  new_pool(L, (int)w, (int)r, "engine.procs.pool");
  return 1;
}

/* default() -> the state's shared pool, started on first use */
static int p_default(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, DEFAULT_KEY) == LUA_TUSERDATA) {
    lx_pool *u = lua_touserdata(L, -1);
    if (u->p && !u->closed) return 1;
  }
  lua_pop(L, 1);
  new_pool(L, 0, -1, "engine.procs");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, DEFAULT_KEY);
  return 1;
}

/* The function's record (hash + 'L' dump), cached per function. Raises
 * the pickling refusal with the argument's number. */
static const char *fn_record(lua_State *L, int idx, const char *fname, int argno, size_t *len) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &FNBYTES_KEY);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, len);
    lua_pop(L, 2); /* the weak table still holds the string while fn lives */
    return s;
  }
  lua_pop(L, 1);
  lx_buf b;
  lx_buf_init(&b);
  char what[32], *err = NULL;
  snprintf(what, sizeof what, "argument %d", argno);
  if (lx_serialize(L, idx, LX_SER_PROCESS, what, &b, &err)) {
    lua_pushfstring(L, "%s: %s", fname, err ? err : "cannot send the function");
    free(err);
    luaL_where(L, 2);
    lua_insert(L, -2);
    lua_concat(L, 2);
    lua_error(L);
  }
  uint64_t h = fnv1a(b.data, b.len);
  luaL_Buffer lb;
  luaL_buffinit(L, &lb);
  luaL_addlstring(&lb, (const char *)&h, 8);
  luaL_addlstring(&lb, b.data, b.len);
  lx_buf_free(&b);
  luaL_pushresult(&lb);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  const char *s = lua_tolstring(L, -1, len);
  lua_pop(L, 2);
  return s;
}

/* Serialize the values at [first, last], numbered from argno. Raises. */
static void ser_args(lua_State *L, lx_buf *b, int first, int last, int argno, const char *fname) {
  for (int i = first; i <= last; i++) {
    char what[32], *err = NULL, *err2 = NULL;
    if (lx_serialize(L, i, LX_SER_PROCESS, "argument", b, &err) == 0) continue;
    /* Again, for the message: which argument. */
    snprintf(what, sizeof what, "argument %d", argno + (i - first));
    lx_buf tmp;
    lx_buf_init(&tmp);
    lx_serialize(L, i, LX_SER_PROCESS, what, &tmp, &err2);
    lx_buf_free(&tmp);
    lx_buf_free(b);
    lua_pushfstring(L, "%s: %s", fname, err2 ? err2 : err ? err : "cannot copy an argument");
    free(err);
    free(err2);
    luaL_where(L, 2);
    lua_insert(L, -2);
    lua_concat(L, 2);
    lua_error(L);
  }
}

/* Build and submit an apply task for fn at `fi` and args [fi+1, top].
 * Returns the task id; *keep = 1 when the arguments hold descriptors
 * (the caller must keep them alive until the task ends). */
static uint64_t submit_apply(lua_State *L, lx_pool *u, int fi, const char *fname, int *keep) {
  if (!lua_isfunction(L, fi))
    p_error(L, "%s: argument 1 must be a Lua function, got %s", fname, luaL_typename(L, fi));
  int top = lua_gettop(L);
  int packed = pack_args(L, fi + 1, top);
  size_t rlen;
  const char *rec = fn_record(L, fi, fname, 1, &rlen);
  uint64_t hash;
  memcpy(&hash, rec, 8);
  int rc;
  /* The function goes as a job, made the first time it is sent: a task
   * then carries its hash and arguments only, a few bytes, and a worker
   * that has loaded the function (by that hash) never reads its bytes. */
  fjob *fj = &u->fjobs[hash & (FJOB_SLOTS - 1)];
  if (!fj->job || fj->hash != hash) {
    if (fj->job) eng_procs_job_free(u->p, fj->job); /* released after its tasks */
    fj->job = 0;
    uint64_t job;
    rc = eng_procs_job_new(u->p, rec + 8, rlen - 8, NULL, 0, &job);
    if (rc == PL_EINVAL) p_error(L, "%s: the function is too large to send", fname);
    if (rc) p_error(L, "%s: %s", fname, rc == PL_EIO ? "the pool is broken" : pl_strerror(rc));
    fj->hash = hash;
    fj->job = job;
  }
  lx_buf *b = &u->ser;
  lx_buf_reset(b);
  ser_args(L, b, fi + 1, top, 2, fname);
  pbuf *pbp = &u->scratch, pb;
  pbp->len = 0;
  char hdr[16] = {'A', (char)(packed ? PF_PACKED : 0)};
  memcpy(hdr + 8, &hash, 8);
  rc = pb_put(pbp, hdr, 16);
  if (!rc && b->len) rc = pb_put(pbp, b->data, b->len);
  pb = *pbp;
  if (rc) {
    lx_buf_reset(b);
    p_error(L, "%s: out of memory", fname);
  }
  if (b->nfds > ENG_PROCS_MAX_FDS) {
    lx_buf_reset(b);
    p_error(L, "%s: too many engine arrays in one task (at most %d)", fname, ENG_PROCS_MAX_FDS);
  }
  eng_procs_sub s = {.data = pb.d, .len = pb.len, .fds = b->fds, .nfds = b->nfds,
                     .job = fj->job, .deadline = deadline_abs(L)};
  uint64_t id = 0;
  rc = eng_procs_submit(u->p, &s, wait_budget(L), &id);
  *keep = b->nfds > 0;
  lx_buf_reset(b);
  if (rc == PL_ETIMEOUT) p_error(L, "%s: time limit exceeded while waiting for room in the queue", fname);
  if (rc == PL_EINVAL) p_error(L, "%s: the task is too large (%d bytes): pass bulk data in engine arrays", fname, (int)s.len);
  if (rc) p_error(L, "%s: %s", fname, rc == PL_EIO ? "the pool is broken" : pl_strerror(rc));
  return id;
}

/* Push a finished task's values, or raise its error. Clears r. */
static int push_result(lua_State *L, lx_pool *u, eng_procs_result *r, const char *fname) {
  (void)u;
  if (r->status == ENG_PROCS_OK) {
    char *err = NULL;
    int top = lua_gettop(L);
    int n = lx_deserialize(L, r->data, r->len, LX_SER_PROCESS, r->fds, r->nfds, &err);
    r->nfds = 0; /* consumed */
    eng_procs_result_clear(r);
    if (n < 0) {
      lua_settop(L, top);
      lua_pushfstring(L, "%s: cannot read the result: %s", fname, err ? err : "?");
      free(err);
      return lua_error(L);
    }
    return n;
  }
  if (r->status == ENG_PROCS_ERROR) push_worker_error(L, r->data, r->worker, r->pid);
  else if (r->status == ENG_PROCS_CRASHED)
    lua_pushfstring(L, "%s: the task failed: %s", fname, r->data);
  else lua_pushfstring(L, "%s: the task was cancelled", fname);
  eng_procs_result_clear(r);
  return lua_error(L);
}

static void wait_failed(lua_State *L, int rc, const char *fname) {
  if (rc == PL_ETIMEOUT) p_error(L, "%s: time limit exceeded while waiting for the workers", fname);
  p_error(L, "%s: %s", fname, pl_strerror(rc));
}

/* apply(pool, fn, ...) -> fn's results */
static int p_apply(lua_State *L) {
  static const char *fname = "engine.procs.apply";
  lx_pool *u = check_pool(L, 1);
  int keep;
  uint64_t id = submit_apply(L, u, 2, fname, &keep);
  /* The arguments stay on the stack (alive) until the result is here. */
  eng_procs_result r;
  int rc = eng_procs_wait(u->p, id, wait_budget(L), &r);
  if (rc) {
    eng_procs_discard(u->p, id);
    wait_failed(L, rc, fname);
  }
  return push_result(L, u, &r, fname);
}

/* ---- futures ---- */

typedef struct lx_fut {
  lx_pool *pool;
  uint64_t id;
  int state; /* 0 pending, 1 finished (uservalue holds the outcome) */
} lx_fut;

/* Uservalue: { pool = <pool>, args = { ... } | nil, ok = bool,
 *              n = #results, [1..n] = results | err = msg, crashed = bool } */

static lx_fut *check_fut(lua_State *L, int i) { return luaL_checkudata(L, i, FUT_MT); }

static int fut_gc(lua_State *L) {
  lx_fut *f = check_fut(L, 1);
  if (f->state == 0 && f->pool && f->pool->p) eng_procs_discard(f->pool->p, f->id);
  f->state = 2;
  return 0;
}

/* Take the result into the future's uservalue (f at index fi). */
static void fut_settle(lua_State *L, int fi, eng_procs_result *r) {
  lx_fut *f = lua_touserdata(L, fi);
  lua_getiuservalue(L, fi, 1);
  int uv = lua_gettop(L);
  lua_pushnil(L);
  lua_setfield(L, uv, "args");
  f->state = 1;
  if (r->status == ENG_PROCS_OK) {
    char *err = NULL;
    int top = lua_gettop(L);
    int n = lx_deserialize(L, r->data, r->len, LX_SER_PROCESS, r->fds, r->nfds, &err);
    r->nfds = 0;
    if (n < 0) {
      lua_pushfstring(L, "engine.procs: cannot read the result: %s", err ? err : "?");
      free(err);
      lua_setfield(L, uv, "err");
    } else {
      for (int k = n; k >= 1; k--) lua_rawseti(L, uv, k);
      lua_pushinteger(L, n);
      lua_setfield(L, uv, "n");
      lua_pushboolean(L, 1);
      lua_setfield(L, uv, "ok");
    }
    lua_settop(L, top);
  } else if (r->status == ENG_PROCS_ERROR) {
    push_worker_error(L, r->data, r->worker, r->pid);
    lua_setfield(L, uv, "err");
  } else {
    if (r->status == ENG_PROCS_CRASHED) lua_pushfstring(L, "the task failed: %s", r->data);
    else lua_pushliteral(L, "the task was cancelled");
    lua_setfield(L, uv, "err");
    lua_pushboolean(L, r->status == ENG_PROCS_CRASHED);
    lua_setfield(L, uv, "crashed");
    lua_pushboolean(L, r->status == ENG_PROCS_CANCELLED);
    lua_setfield(L, uv, "cancelled");
  }
  eng_procs_result_clear(r);
  lua_pop(L, 1);
}

static void fut_wait_settle(lua_State *L, int fi, const char *fname) {
  lx_fut *f = check_fut(L, fi);
  if (f->state != 0) return;
  if (!f->pool->p) p_error(L, "%s: the pool has been terminated", fname);
  eng_procs_result r;
  int rc = eng_procs_wait(f->pool->p, f->id, wait_budget(L), &r);
  if (rc) wait_failed(L, rc, fname);
  fut_settle(L, fi, &r);
}

/* submit(pool, fn, ...) -> future */
static int p_submit(lua_State *L) {
  static const char *fname = "engine.procs.submit";
  lx_pool *u = check_pool(L, 1);
  int keep;
  int top = lua_gettop(L);
  uint64_t id = submit_apply(L, u, 2, fname, &keep);
  lx_fut *f = lua_newuserdatauv(L, sizeof *f, 1);
  f->pool = u;
  f->id = id;
  f->state = 0;
  luaL_setmetatable(L, FUT_MT);
  lua_createtable(L, 2, 3);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "pool");
  if (keep) {
    /* Arrays sent by descriptor must outlive the task. */
    lua_createtable(L, top - 2, 0);
    for (int i = 3; i <= top; i++) {
      lua_pushvalue(L, i);
      lua_rawseti(L, -2, i - 2);
    }
    lua_setfield(L, -2, "args");
  }
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* f:wait() -> results, or raises the task's error */
static int fut_wait(lua_State *L) {
  fut_wait_settle(L, 1, "future:wait");
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 1);
  if (lua_getfield(L, 2, "err") != LUA_TNIL) return lua_error(L);
  lua_pop(L, 1);
  lua_getfield(L, 2, "n");
  int n = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  luaL_checkstack(L, n + 1, "future:wait");
  for (int k = 1; k <= n; k++) lua_rawgeti(L, 2, k);
  return n;
}

static int fut_done(lua_State *L) {
  lx_fut *f = check_fut(L, 1);
  if (f->state != 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  int d = f->pool->p ? eng_procs_done(f->pool->p, f->id) : 1;
  lua_pushboolean(L, d != 0);
  return 1;
}

/* f:exception() -> nil when it succeeded, else the error message (waits) */
static int fut_exception(lua_State *L) {
  fut_wait_settle(L, 1, "future:exception");
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "err");
  return 1;
}

/* f:crashed() -> true when its workers died running it (waits) */
static int fut_crashed(lua_State *L) {
  fut_wait_settle(L, 1, "future:crashed");
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "crashed");
  lua_pushboolean(L, lua_toboolean(L, -1));
  return 1;
}

/* f:cancel() -> true when it had not started (it never will) */
static int fut_cancel(lua_State *L) {
  lx_fut *f = check_fut(L, 1);
  if (f->state != 0 || !f->pool->p || eng_procs_cancel(f->pool->p, f->id)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  fut_wait_settle(L, 1, "future:cancel");
  lua_pushboolean(L, 1);
  return 1;
}

/* wait_any({futures}) -> index of a finished one (the lowest), future */
static int p_wait_any(lua_State *L) {
  static const char *fname = "engine.procs.wait_any";
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)luaL_len(L, 1);
  if (n < 1) return p_error(L, "%s: the list of futures is empty", fname);
  uint64_t *ids = malloc(sizeof *ids * (size_t)n);
  int *map = malloc(sizeof *map * (size_t)n);
  if (!ids || !map) {
    free(ids);
    free(map);
    return p_error(L, "%s: out of memory", fname);
  }
  int m = 0, ready = 0;
  lx_pool *pool = NULL;
  for (int i = 1; i <= n && !ready; i++) {
    lua_rawgeti(L, 1, i);
    lx_fut *f = luaL_testudata(L, -1, FUT_MT);
    lua_pop(L, 1);
    if (!f) {
      free(ids);
      free(map);
      return p_error(L, "%s: item %d is not a future", fname, i);
    }
    if (f->state != 0 || !f->pool->p) {
      ready = i;
      break;
    }
    if (pool && f->pool != pool) {
      free(ids);
      free(map);
      return p_error(L, "%s: the futures belong to different pools", fname);
    }
    pool = f->pool;
    ids[m] = f->id;
    map[m++] = i;
  }
  if (!ready) {
    int k = eng_procs_wait_any(pool->p, ids, m, wait_budget(L));
    if (k < 0) {
      free(ids);
      free(map);
      wait_failed(L, k, fname);
    }
    ready = map[k];
  }
  free(ids);
  free(map);
  lua_pushinteger(L, ready);
  lua_rawgeti(L, 1, ready);
  return 2;
}

/* ---- map and imap_unordered ---- */

typedef struct lx_imap {
  lx_pool *pool;
  uint64_t job, tag;
  long n, chunk, next, outstanding;
  long buf_begin, buf_count, buf_pos;
  int ordered;       /* map: every result kept by index */
  int done;
  const char *fname;
} lx_imap;

/* Uservalue: { pool, items, keep = { fn, args... }, buf = chunk results,
 *              out = all results (map) } */

static uint64_t next_tag = 1;

static void imap_finish(lua_State *L, lx_imap *m) {
  (void)L;
  if (m->done) return;
  m->done = 1;
  if (m->pool && m->pool->p) {
    eng_procs_discard_tag(m->pool->p, m->tag);
    eng_procs_job_free(m->pool->p, m->job);
  }
}

static int imap_gc(lua_State *L) {
  lx_imap *m = luaL_checkudata(L, 1, IMAP_MT);
  imap_finish(L, m);
  return 0;
}

/* Raise the refusal of an item (or a chunk's items) with its numbers. */
static void item_refused(lua_State *L, lx_imap *m, int idx, long b, long e) {
  lx_buf lb;
  lx_buf_init(&lb);
  char what[48], *err = NULL;
  if (e - b == 1) snprintf(what, sizeof what, "item %ld", b + 1);
  else snprintf(what, sizeof what, "items %ld..%ld", b + 1, e);
  lx_serialize(L, idx, LX_SER_PROCESS, what, &lb, &err);
  lx_buf_free(&lb);
  lx_buf_reset(&m->pool->ser);
  imap_finish(L, m);
  luaL_where(L, 2);
  lua_pushfstring(L, "%s: %s", m->fname, err ? err : "cannot copy an item");
  free(err);
  lua_concat(L, 2);
  lua_error(L);
}

/* Push item i (0-based) of the items at `items`. */
static void push_item(lua_State *L, int items, eng_array *arr, long i) {
  if (arr) {
    double v = eng_array_get(arr, i);
    if (eng_array_dtype(arr) == ENG_I64) lua_pushinteger(L, (lua_Integer)v);
    else lua_pushnumber(L, v);
  } else {
    lua_rawgeti(L, items, (lua_Integer)i + 1);
  }
}

/* Queue chunks while there is room (never blocks). ui: uservalue. A chunk
 * of at most FLAT_MAX items sends them as values (no table to build,
 * walk and rebuild on either side: with chunk size 1 those were most of
 * a task's cost); a larger one as one table. */
static void imap_feed(lua_State *L, lx_imap *m, int ui) {
  lua_getfield(L, ui, "items");
  int items = lua_gettop(L);
  eng_array *arr = lx_toarray(L, items);
  double dl = deadline_abs(L);
  lx_buf *lb = &m->pool->ser;
  int flat = m->chunk <= FLAT_MAX;
  while (m->next < m->n) {
    long b = m->next, e = b + m->chunk < m->n ? b + m->chunk : m->n;
    char *err = NULL;
    lx_buf_reset(lb);
    if (flat) {
      for (long i = b; i < e; i++) {
        push_item(L, items, arr, i);
        if (lx_serialize(L, -1, LX_SER_PROCESS, "item", lb, &err)) {
          free(err);
          item_refused(L, m, lua_gettop(L), i, i + 1);
        }
        lua_pop(L, 1);
      }
    } else {
      lua_createtable(L, (int)(e - b), 0);
      for (long i = b; i < e; i++) {
        push_item(L, items, arr, i);
        lua_rawseti(L, -2, (lua_Integer)(i - b + 1));
      }
      if (lx_serialize(L, -1, LX_SER_PROCESS, "items", lb, &err)) {
        free(err);
        item_refused(L, m, lua_gettop(L), b, e);
      }
      lua_pop(L, 1);
    }
    pbuf *pbp = &m->pool->scratch;
    pbp->len = 0;
    char hdr[10] = {'M', (char)(flat ? PF_FLAT : 0)};
    int64_t b64 = b;
    memcpy(hdr + 2, &b64, 8);
    int rc = pb_put(pbp, hdr, 10);
    if (!rc && lb->len) rc = pb_put(pbp, lb->data, lb->len);
    pbuf pb = *pbp;
    if (rc || lb->nfds > ENG_PROCS_MAX_FDS) {
      lx_buf_reset(lb);
      imap_finish(L, m);
      p_error(L, "%s: %s", m->fname, rc ? "out of memory" : "too many engine arrays among the items");
    }
    eng_procs_sub s = {.data = pb.d, .len = pb.len, .fds = lb->fds, .nfds = lb->nfds, .job = m->job,
                       .tag = m->tag, .deadline = dl};
    uint64_t id;
    /* Items are values of the items table, alive while it is. */
    rc = eng_procs_submit(m->pool->p, &s, 0, &id);
    lx_buf_reset(lb);
    if (rc == PL_ETIMEOUT) break; /* full: results first */
    if (rc) {
      imap_finish(L, m);
      p_error(L, "%s: %s", m->fname,
              rc == PL_EINVAL ? "a chunk is too large: use a smaller chunksize" : "the pool is broken");
    }
    m->outstanding++;
    m->next = e;
  }
  lua_pop(L, 1);
}

/* Wait for the next chunk's results; 0 when all are done. out: the stack
 * index of map's result table, where they go by item index; 0 (imap):
 * into uv.buf, numbered from 1. */
static int imap_next_chunk(lua_State *L, lx_imap *m, int ui, int out) {
  imap_feed(L, m, ui);
  if (m->outstanding == 0) return 0;
  eng_procs_result r;
  int rc = eng_procs_wait_tag(m->pool->p, m->tag, wait_budget(L), &r);
  if (rc) {
    imap_finish(L, m);
    wait_failed(L, rc, m->fname);
  }
  m->outstanding--;
  if (r.status != ENG_PROCS_OK || r.len < 8) {
    imap_finish(L, m);
    if (r.status == ENG_PROCS_ERROR) {
      push_worker_error(L, r.data, r.worker, r.pid);
    } else {
      lua_pushfstring(L, "%s: a chunk of items failed: %s", m->fname,
                      r.status == ENG_PROCS_CRASHED ? r.data : "it was cancelled");
    }
    eng_procs_result_clear(&r);
    lua_error(L);
  }
  int64_t begin;
  memcpy(&begin, r.data, 8);
  long e = (long)begin + m->chunk < m->n ? (long)begin + m->chunk : m->n;
  long count = e - (long)begin;
  char *err = NULL;
  int top = lua_gettop(L);
  int n = -1;
  if (begin >= 0 && begin < m->n) {
    n = lx_deserialize(L, r.data + 8, r.len - 8, LX_SER_PROCESS, r.fds, r.nfds, &err);
    r.nfds = 0; /* consumed */
  }
  eng_procs_result_clear(&r);
  int flat = m->chunk <= FLAT_MAX;
  if (flat ? n != count : n != 1 || !lua_istable(L, -1)) {
    imap_finish(L, m);
    lua_settop(L, top);
    lua_pushfstring(L, "%s: cannot read the results: %s", m->fname, err ? err : "malformed");
    free(err);
    lua_error(L);
  }
  luaL_checkstack(L, 4, m->fname);
  int src = top + 1; /* flat: the values start here; else the table */
  int dst = out;
  lua_Integer base = out ? (lua_Integer)begin : 0;
  if (!out) {
    lua_getfield(L, ui, "buf");
    dst = lua_gettop(L);
  }
  if (flat) {
    for (long i = 0; i < count; i++) {
      lua_pushvalue(L, src + (int)i);
      lua_rawseti(L, dst, base + i + 1);
    }
  } else if (out) {
    for (long i = 0; i < count; i++) {
      lua_rawgeti(L, src, (lua_Integer)i + 1);
      lua_rawseti(L, dst, base + i + 1);
    }
  } else {
    lua_pushvalue(L, src);
    lua_setfield(L, ui, "buf");
  }
  lua_settop(L, top);
  m->buf_begin = (long)begin;
  m->buf_count = count;
  m->buf_pos = 0;
  return 1;
}

/* Check fn, items and chunk; make the job. Pushes the imap userdata. */
static lx_imap *imap_start(lua_State *L, const char *fname, int ordered) {
  lx_pool *u = check_pool(L, 1);
  if (!lua_isfunction(L, 2))
    p_error(L, "%s: argument 1 must be a Lua function, got %s", fname, luaL_typename(L, 2));
  eng_array *arr = lx_toarray(L, 3);
  if (!arr && !lua_istable(L, 3))
    p_error(L, "%s: argument 2 must be a list or an engine array, got %s", fname, luaL_typename(L, 3));
  long n = arr ? eng_array_len(arr) : (long)luaL_len(L, 3);
  lua_Integer chunk = luaL_optinteger(L, 4, 0);
  int top = lua_gettop(L);
  if (chunk <= 0) {
    /* Python's Pool.map default: about four chunks per worker. */
    long per = 4L * u->n;
    chunk = (n + per - 1) / per;
    if (chunk < 1) chunk = 1;
  }
  int packed = pack_args(L, 5, top);
  lx_buf b;
  lx_buf_init(&b);
  ser_args(L, &b, 2, 2, 1, fname);
  ser_args(L, &b, 5, top, 4, fname);
  if (b.nfds > ENG_PROCS_MAX_FDS) {
    lx_buf_free(&b);
    p_error(L, "%s: too many engine arrays among the arguments", fname);
  }
  pbuf pb = {0};
  char fl = packed ? PF_PACKED : 0;
  if (pb_put(&pb, &fl, 1) || (b.len && pb_put(&pb, b.data, b.len))) {
    lx_buf_free(&b);
    free(pb.d);
    p_error(L, "%s: out of memory", fname);
  }
  lx_imap *m = lua_newuserdatauv(L, sizeof *m, 1);
  memset(m, 0, sizeof *m);
  m->done = 1; /* nothing to clean until the job exists */
  luaL_setmetatable(L, IMAP_MT);
  lua_createtable(L, 0, 6);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "pool");
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "items");
  lua_createtable(L, top - 3, 0);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, 1);
  for (int i = 5; i <= top; i++) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i - 3);
  }
  lua_setfield(L, -2, "keep");
  if (ordered) {
    lua_createtable(L, n < 1 << 24 ? (int)n : 1 << 24, 0);
    lua_setfield(L, -2, "out");
  } else {
    lua_createtable(L, chunk <= FLAT_MAX ? (int)chunk : 0, 0);
    lua_setfield(L, -2, "buf");
  }
  lua_setiuservalue(L, -2, 1);
  int rc = eng_procs_job_new(u->p, pb.d, pb.len, b.fds, b.nfds, &m->job);
  lx_buf_free(&b);
  free(pb.d);
  if (rc) p_error(L, "%s: %s", fname, rc == PL_EINVAL ? "the function and its arguments are too large" : "the pool is broken");
  m->pool = u;
  m->tag = next_tag++;
  m->n = n;
  m->chunk = (long)chunk;
  m->ordered = ordered;
  m->fname = fname;
  m->done = 0;
  return m;
}

/* map(pool, fn, items, chunk, ...) -> results in item order */
static int p_map(lua_State *L) {
  static const char *fname = "engine.procs.map";
  lx_imap *m = imap_start(L, fname, 1);
  int mi = lua_gettop(L);
  lua_getiuservalue(L, mi, 1);
  int ui = lua_gettop(L);
  lua_getfield(L, ui, "out");
  int out = lua_gettop(L);
  while (imap_next_chunk(L, m, ui, out)) {
  }
  imap_finish(L, m);
  lua_pushvalue(L, out);
  return 1;
}

static int p_imap_next(lua_State *L);

/* imap(pool, fn, items, chunk, ...) -> next, it, nil, it: what a generic
 * for needs, the iterator also as its to-be-closed value */
static int p_imap(lua_State *L) {
  imap_start(L, "engine.procs.imap_unordered", 0);
  lua_pushcfunction(L, p_imap_next);
  lua_insert(L, -2);
  lua_pushnil(L);
  lua_pushvalue(L, -2);
  return 4;
}

/* imap_next(it) -> index, value (completion order), or nothing at the end */
static int p_imap_next(lua_State *L) {
  lx_imap *m = luaL_checkudata(L, 1, IMAP_MT);
  if (m->done) return 0;
  lua_getiuservalue(L, 1, 1);
  int ui = lua_gettop(L);
  if (m->buf_pos >= m->buf_count && !imap_next_chunk(L, m, ui, 0)) {
    imap_finish(L, m);
    return 0;
  }
  lua_getfield(L, ui, "buf");
  lua_pushinteger(L, (lua_Integer)(m->buf_begin + m->buf_pos + 1));
  lua_rawgeti(L, -2, (lua_Integer)m->buf_pos + 1);
  m->buf_pos++;
  return 2;
}

static int p_imap_close(lua_State *L) {
  lx_imap *m = luaL_checkudata(L, 1, IMAP_MT);
  imap_finish(L, m);
  return 0;
}

/* ---- pool information and shutdown ---- */

static int p_size(lua_State *L) {
  lua_pushinteger(L, check_pool(L, 1)->n);
  return 1;
}

static int p_pids(lua_State *L) {
  lx_pool *u = check_pool(L, 1);
  lua_createtable(L, u->n, 0);
  for (int w = 0; w < u->n; w++) {
    lua_pushinteger(L, eng_procs_pid(u->p, w));
    lua_rawseti(L, -2, w + 1);
  }
  return 1;
}

static int p_stats(lua_State *L) {
  lx_pool *u = check_pool(L, 1);
  eng_procs_wstats ws[64];
  int n = eng_procs_worker_stats(u->p, ws, 64);
  eng_procs_stats st;
  eng_procs_get_stats(u->p, &st);
  lua_createtable(L, n, 6);
  for (int w = 0; w < n; w++) {
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, w);
    lua_setfield(L, -2, "worker");
    lua_pushinteger(L, ws[w].pid);
    lua_setfield(L, -2, "pid");
    lua_pushinteger(L, ws[w].tasks);
    lua_setfield(L, -2, "tasks");
    lua_pushnumber(L, ws[w].busy_s);
    lua_setfield(L, -2, "busy");
    lua_pushinteger(L, ws[w].restarts);
    lua_setfield(L, -2, "restarts");
    lua_rawseti(L, -2, w + 1);
  }
  const struct { const char *k; long v; } f[] = {
      {"submitted", st.submitted}, {"finished", st.finished}, {"crashes", st.crashes},
      {"retries", st.retries}, {"failed", st.failed}, {"cancelled", st.cancelled}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    lua_pushinteger(L, f[i].v);
    lua_setfield(L, -2, f[i].k);
  }
  return 1;
}

/* close(pool): wait for every task, then stop the workers */
static int p_close(lua_State *L) {
  lx_pool *u = luaL_checkudata(L, 1, POOL_MT);
  if (!u->p || u->closed) return 0;
  int rc = eng_procs_close(u->p, wait_budget(L));
  if (rc == PL_ETIMEOUT)
    return p_error(L, "engine.procs: pool:close(): time limit exceeded while tasks were running");
  u->closed = 1;
  return 0;
}

/* terminate(pool): stop now, running tasks abandoned */
static int p_terminate(lua_State *L) {
  lx_pool *u = luaL_checkudata(L, 1, POOL_MT);
  if (u->p) eng_procs_free(u->p);
  u->p = NULL;
  return 0;
}

/* ------------------------------------------------------------ processes */

typedef struct lx_proc {
  eng_proc *c;
  char *payload;       /* apply-like: record + args */
  size_t len;
  int *fds;
  int nfds;
  int packed;
  int status;
  int joined;
} lx_proc;

static int proc_main(void *ctx) {
  lx_proc *u = ctx;
  lua_State *W = NULL;
  lx_limits lim = {0, 0};
  if (lx_open(&lim, &W)) {
    fprintf(stderr, "engine.procs.process: cannot open a Lua state\n");
    return 70;
  }
  char *err = NULL;
  int n = lx_deserialize(W, u->payload, u->len, LX_SER_PROCESS, u->fds, u->nfds, &err);
  if (n < 1 || (u->packed && unpack_args(W, 2, n, &err)) || lx_pcall(W, n - 1, 0, &err)) {
    fprintf(stderr, "engine.procs.process (pid %d): %s\n", (int)getpid(), err ? err : "error");
    return 1;
  }
  return 0;
}

static int proc_gc(lua_State *L) {
  lx_proc *u = luaL_checkudata(L, 1, PROC_MT);
  if (u->c) eng_proc_free(u->c);
  u->c = NULL;
  free(u->payload);
  u->payload = NULL;
  free(u->fds);
  u->fds = NULL;
  return 0;
}

/* process(fn, ...) -> a process object, not started */
static int p_process(lua_State *L) {
  static const char *fname = "engine.procs.process";
  if (!lua_isfunction(L, 1))
    return p_error(L, "%s: argument 1 must be a Lua function, got %s", fname, luaL_typename(L, 1));
  refuse_in_worker(L, fname);
  int top = lua_gettop(L);
  int packed = pack_args(L, 2, top);
  lx_buf b;
  lx_buf_init(&b);
  ser_args(L, &b, 1, 1, 1, fname);
  ser_args(L, &b, 2, top, 2, fname);
  lx_proc *u = lua_newuserdatauv(L, sizeof *u, 1);
  memset(u, 0, sizeof *u);
  luaL_setmetatable(L, PROC_MT);
  u->payload = malloc(b.len ? b.len : 1);
  u->fds = malloc(sizeof(int) * (size_t)(b.nfds + 1));
  if (!u->payload || !u->fds) {
    lx_buf_free(&b);
    return p_error(L, "%s: out of memory", fname);
  }
  memcpy(u->payload, b.data, b.len);
  u->len = b.len;
  memcpy(u->fds, b.fds, sizeof(int) * (size_t)b.nfds);
  u->nfds = b.nfds;
  u->packed = packed;
  lx_buf_free(&b);
  /* The descriptors belong to the arguments: keep those until start(). */
  lua_createtable(L, top, 0);
  for (int i = 1; i <= top; i++) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i);
  }
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static lx_proc *check_proc(lua_State *L) { return luaL_checkudata(L, 1, PROC_MT); }

static int proc_start(lua_State *L) {
  lx_proc *u = check_proc(L);
  if (u->c || !u->payload) return p_error(L, "process:start: a process can be started only once");
  refuse_in_worker(L, "process:start");
  int rc = eng_proc_spawn(proc_main, u, u->fds, u->nfds, &u->c);
  if (rc == PL_EIO && errno == EAGAIN) {
    lua_gc(L, LUA_GCCOLLECT, 0);
    rc = eng_proc_spawn(proc_main, u, u->fds, u->nfds, &u->c);
  }
  if (rc)
    return p_error(L, "process:start: %s", rc == PL_EIO ? "fork failed: too many processes" : pl_strerror(rc));
  /* The child has its copies now. */
  free(u->payload);
  u->payload = NULL;
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 1);
  lua_settop(L, 1);
  return 1;
}

/* p:join([timeout]) -> exit status (0 ok, 1 error, -signal), or nil */
static int proc_join(lua_State *L) {
  lx_proc *u = check_proc(L);
  if (!u->c) return p_error(L, "process:join: the process was not started");
  if (!u->joined) {
    int user;
    double t = ipc_timeout(L, 2, &user);
    int st;
    int rc = eng_proc_join(u->c, t, &st);
    if (rc == PL_ETIMEOUT) {
      if (user) return 0;
      return p_error(L, "process:join: time limit exceeded while waiting for pid %d", eng_proc_pid(u->c));
    }
    u->status = st;
    u->joined = 1;
  }
  lua_pushinteger(L, u->status);
  return 1;
}

static int proc_alive(lua_State *L) {
  lx_proc *u = check_proc(L);
  lua_pushboolean(L, u->c && !u->joined && eng_proc_alive(u->c));
  return 1;
}

static int proc_terminate(lua_State *L) {
  lx_proc *u = check_proc(L);
  if (u->c && !u->joined) eng_proc_kill(u->c, SIGTERM);
  return 0;
}

static int proc_pid(lua_State *L) {
  lx_proc *u = check_proc(L);
  if (!u->c) return 0;
  lua_pushinteger(L, eng_proc_pid(u->c));
  return 1;
}

static int proc_exitcode(lua_State *L) {
  lx_proc *u = check_proc(L);
  if (!u->c) return 0;
  if (!u->joined && !eng_proc_alive(u->c)) {
    int st;
    if (eng_proc_join(u->c, 0, &st) == 0) {
      u->status = st;
      u->joined = 1;
    }
  }
  if (!u->joined) return 0;
  lua_pushinteger(L, u->status);
  return 1;
}

/* ------------------------------------------------------------ misc */

/* crash_for_testing(how): end this worker process on purpose. */
static int p_crash(lua_State *L) {
  const char *how = luaL_optstring(L, 1, "segv");
  if (!eng_procs_in_child())
    return p_error(L, "engine.procs.crash_for_testing: only a worker or child process may crash "
                      "on purpose (this is the main process)");
  fflush(NULL);
  /* The default action, whatever handler a sanitizer or library set. */
  if (!strcmp(how, "segv")) {
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
  } else if (!strcmp(how, "abort")) {
    signal(SIGABRT, SIG_DFL);
    abort();
  } else if (!strcmp(how, "kill")) {
    raise(SIGKILL);
  } else if (!strcmp(how, "exit")) {
    _exit(3);
  }
  return p_error(L, "engine.procs.crash_for_testing: how must be \"segv\", \"abort\", \"kill\" or "
                    "\"exit\", got \"%s\"", how);
}

static int p_attempt(lua_State *L) {
  lua_pushinteger(L, eng_procs_current_attempt());
  return 1;
}

static int p_worker(lua_State *L) {
  int w = eng_procs_current_worker();
  if (w < 0) return 0;
  lua_pushinteger(L, w);
  return 1;
}

static int p_pid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

static int p_active_children(lua_State *L) {
  lua_pushinteger(L, eng_procs_live_children());
  return 1;
}

/* key(...) -> hex string: a hash of the values as they would be sent (a
 * function by its bytecode), for memoization. */
static int p_key(lua_State *L) {
  int top = lua_gettop(L);
  lx_buf b;
  lx_buf_init(&b);
  ser_args(L, &b, 1, top, 1, "engine.procs.key");
  uint64_t h1 = fnv1a(b.data, b.len);
  /* A second, differently seeded hash: 128 bits in all. */
  uint64_t h2 = 0x84222325cbf29ce4ull;
  for (size_t i = 0; i < b.len; i++) h2 = (h2 ^ (unsigned char)b.data[i]) * 0x100000001b3ull + (h2 >> 29);
  int arrays = b.nfds;
  lx_buf_free(&b);
  if (arrays) return p_error(L, "engine.procs.key: engine arrays cannot be part of a key (their "
                                "contents change in place); pass plain values");
  char hex[33];
  snprintf(hex, sizeof hex, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
  lua_pushstring(L, hex);
  return 1;
}

static const luaL_Reg ipc_methods[] = {
    {"acquire", l_acquire}, {"release", l_release}, {"lock", l_acquire}, {"unlock", l_release},
    {"set", v_set}, {"add", v_add}, {"put", q_put},
    {"size", q_size}, {"stats", q_stats}, {"send", c_send}, {"recv", c_recv},
    {"poll", c_poll}, {NULL, NULL}};

/* `get` is a value's get or a queue's get, by kind. */
static int ipc_get(lua_State *L) {
  lx_ipc *u = luaL_checkudata(L, 1, IPC_MT);
  if (u->o && eng_ipc_kind_of(u->o) == ENG_IPC_VALUE) return v_get(L);
  return q_get(L);
}

static const luaL_Reg fut_methods[] = {{"wait", fut_wait}, {"done", fut_done},
                                       {"exception", fut_exception}, {"crashed", fut_crashed},
                                       {"cancel", fut_cancel}, {NULL, NULL}};

static const luaL_Reg proc_methods[] = {{"start", proc_start}, {"join", proc_join},
                                        {"alive", proc_alive}, {"terminate", proc_terminate},
                                        {"pid", proc_pid}, {"exitcode", proc_exitcode},
                                        {NULL, NULL}};

static const luaL_Reg procs_funcs[] = {
    {"new", p_new},
    {"default", p_default},
    {"apply", p_apply},
    {"submit", p_submit},
    {"map", p_map},
    {"imap", p_imap},
    {"imap_next", p_imap_next},
    {"imap_close", p_imap_close},
    {"wait_any", p_wait_any},
    {"size", p_size},
    {"pids", p_pids},
    {"stats", p_stats},
    {"close", p_close},
    {"terminate", p_terminate},
    {"process", p_process},
    {"lock", p_lock},
    {"value", p_value},
    {"queue", p_queue},
    {"pipe", p_pipe},
    {"memmap", p_memmap},
    {"save", p_save},
    {"crash_for_testing", p_crash},
    {"attempt", p_attempt},
    {"worker", p_worker},
    {"pid", p_pid},
    {"active_children", p_active_children},
    {"key", p_key},
    {NULL, NULL}};

static void weak_table(lua_State *L, const char *mode) {
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
}

int luaopen_parlab_procs(lua_State *L) {
  weak_table(L, "k");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &FNBYTES_KEY);
  weak_table(L, "k");
  lua_setfield(L, LUA_REGISTRYINDEX, MMAPS_KEY);

  luaL_newmetatable(L, POOL_MT);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &POOL_MT_KEY);
  lua_pushcfunction(L, pool_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "parlab.procs.pool");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, FUT_MT);
  lua_pushcfunction(L, fut_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, fut_methods);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "parlab.procs.future");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, IMAP_MT);
  lua_pushcfunction(L, imap_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, p_imap_close);
  lua_setfield(L, -2, "__close");
  lua_pushliteral(L, "parlab.procs.iterator");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, IPC_MT);
  lua_pushcfunction(L, ipc_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, ipc_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newlib(L, ipc_methods);
  lua_pushcfunction(L, ipc_get);
  lua_setfield(L, -2, "get");
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "parlab.procs.ipc");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, PROC_MT);
  lua_pushcfunction(L, proc_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, proc_methods);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "parlab.procs.process");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newlib(L, procs_funcs);
  return 1;
}
