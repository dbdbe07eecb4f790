/*
 * lx_serial.c — copying Lua values between states (see lx_serial.h).
 *
 * Wire format: a sequence of values, each a one-byte tag and a payload in
 * host byte order (both ends are the same binary on the same machine):
 *
 *   'n' nil   'f' false   't' true
 *   'i' int64             'd' double
 *   's' u64 length, bytes
 *   'T' u64 pair count, then key, value, key, value, ...
 *   'L' u64 length, a lua_dump of a function (strip = 0: the receiver's
 *       errors still name the sender's file and line)
 *   'A' an eng_array pointer              (LX_SER_THREAD only)
 *   'M' u8 dtype, i64 length, u8 writable, i32 index into fds or -1
 *                                         (LX_SER_PROCESS only)
 *
 * References. In thread mode the buffer holds one reference to every array
 * it names (taken by lx_serialize, dropped by lx_buf_free, which walks the
 * bytes to find them), so the sender may let go of an array before a
 * worker has received it; each lx_deserialize takes a reference of its own
 * for the receiving state. In process mode the descriptors in b->fds are
 * the arrays' own memfds (not owned by the buffer); the receiver maps them.
 *
 * Robustness. Data that comes back from a jail is untrusted: every length
 * and count is checked against the bytes left, nesting is bounded, and an
 * unknown tag or a tag of the other mode is an error (a pointer is never
 * taken from another process). Both directions run under lua_pcall, so an
 * out-of-memory error cannot leak descriptors or skip the cleanup.
 *
 * Binary chunks are loaded here and nowhere else (mode "b"). Crafted
 * bytecode can break out of Lua's sandbox, so values that come from a jail
 * must not contain functions: a caller that reads such values adds
 * LX_SER_NO_FUNCTIONS to the mode, and a function there is then refused.
 */
#include "lx_serial.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eng_array.h"
#include "lx.h"
#include "lx_engine.h"
#include "lx_int.h"
#include "pl_err.h"

/* Deserialize flag: refuse functions (data from an untrusted process).
 * Defined here until lx_serial.h lists it. */

#define MAX_DEPTH 100
#define MAX_PATH 24

/* ---- buffer ---- */

void lx_buf_init(lx_buf *b) { memset(b, 0, sizeof *b); }

static int buf_reserve(lx_buf *b, size_t more) {
  if (b->cap - b->len >= more) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < more) {
    if (cap > SIZE_MAX / 2) return PL_ENOMEM;
    cap *= 2;
  }
  char *d = realloc(b->data, cap);
  if (!d) return PL_ENOMEM;
  b->data = d;
  b->cap = cap;
  return 0;
}

static int buf_put(lx_buf *b, const void *p, size_t n) {
  if (buf_reserve(b, n)) return PL_ENOMEM;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static int buf_byte(lx_buf *b, char c) { return buf_put(b, &c, 1); }

/* Skip one value starting at *pos, releasing thread-mode array references
 * when `release`. The bytes are our own, complete values. */
static void walk(const char *d, size_t len, size_t *pos, int release) {
  if (*pos >= len) return;
  char tag = d[(*pos)++];
  uint64_t n;
  switch (tag) {
  case 'i': case 'd': *pos += 8; break;
  case 's': case 'L':
    memcpy(&n, d + *pos, 8);
    *pos += 8 + n;
    break;
  case 'T':
    memcpy(&n, d + *pos, 8);
    *pos += 8;
    for (uint64_t i = 0; i < 2 * n && *pos < len; i++) walk(d, len, pos, release);
    break;
  case 'A': {
    eng_array *a;
    memcpy(&a, d + *pos, sizeof a);
    *pos += sizeof a;
    if (release) eng_array_free(a);
    break;
  }
  case 'M': *pos += 1 + 8 + 1 + 4; break;
  default: break; /* nil, booleans */
  }
}

/* Release what the bytes hold: thread-mode array references, counted in
 * nrefs, so that a process-mode buffer is not walked for nothing. */
static void release_all(lx_buf *b) {
  if (b->nrefs > 0)
    for (size_t pos = 0; pos < b->len;) walk(b->data, b->len, &pos, 1);
}

void lx_buf_free(lx_buf *b) {
  if (!b) return;
  release_all(b);
  free(b->data);
  free(b->fds);
  lx_buf_init(b);
}

void lx_buf_reset(lx_buf *b) {
  if (!b) return;
  release_all(b);
  b->len = 0;
  b->nfds = 0;
  b->nrefs = 0;
}

/* ---- serialize ---- */

typedef struct seg {
  int kind; /* 0 string key, 1 integer key, 2 other key */
  const char *s;
  lua_Integer i;
} seg;

typedef struct ser {
  int mode;
  const char *what;
  lx_buf *b;
  char *err;
  int rc;
  int visiting;  /* stack index of the set of tables on the current path */
  int depth;
  seg path[MAX_PATH];
  eng_array **held; /* references taken by this call (released on failure) */
  int nheld, capheld;
} ser;

/* "argument 2, field 'f', [3]" */
static char *path_text(const ser *s) {
  size_t cap = 64 + strlen(s->what);
  int n = s->depth < MAX_PATH ? s->depth : MAX_PATH;
  for (int i = 0; i < n; i++) cap += 16 + (s->path[i].kind == 0 ? strlen(s->path[i].s) : 24);
  char *t = malloc(cap);
  if (!t) return NULL;
  size_t len = (size_t)snprintf(t, cap, "%s", s->what);
  for (int i = 0; i < n; i++) {
    const seg *g = &s->path[i];
    if (g->kind == 0) len += (size_t)snprintf(t + len, cap - len, ", field '%s'", g->s);
    else if (g->kind == 1) len += (size_t)snprintf(t + len, cap - len, ", [%lld]", (long long)g->i);
    else len += (size_t)snprintf(t + len, cap - len, ", a non-string key");
  }
  if (s->depth > MAX_PATH) snprintf(t + len, cap - len, ", ...");
  return t;
}

/* Record the refusal "<where>: <msg>"; msg is copied. */
static int refuse(ser *s, const char *msg) {
  char *where = path_text(s);
  free(s->err);
  s->err = lx_strdup_printf("%s: %s", where ? where : s->what, msg ? msg : "out of memory");
  free(where);
  s->rc = PL_EINVAL;
  return PL_EINVAL;
}

static int refusef(ser *s, const char *fmt, const char *arg) {
  char *msg = lx_strdup_printf(fmt, arg);
  int rc = refuse(s, msg);
  free(msg);
  return rc;
}

static int oom(ser *s) {
  s->rc = PL_ENOMEM;
  return PL_ENOMEM;
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
  (void)L;
  return buf_put(ud, p, sz) ? 1 : 0;
}

/* Upvalues other than _ENV cannot follow a function to another state;
 * _ENV is rebound to the receiver's globals, so it must be ours too. */
static int check_upvalues(lua_State *L, int idx, ser *s) {
  char names[256];
  size_t len = 0;
  int bad = 0, foreign_env = 0;
  names[0] = 0;
  for (int i = 1;; i++) {
    const char *name = lua_getupvalue(L, idx, i);
    if (!name) break;
    if (!strcmp(name, "_ENV")) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
      if (!lua_rawequal(L, -1, -2)) foreign_env = 1;
      lua_pop(L, 2);
      continue;
    }
    lua_pop(L, 1);
    if (len < sizeof names - 1)
      len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", bad ? ", " : "",
                              *name ? name : "?");
    bad++;
  }
  if (bad)
    return refusef(s, "a function with upvalues (%s) cannot be sent to a worker; pass the value "
                      "as an argument instead", names);
  if (foreign_env)
    return refuse(s, "a function whose _ENV is not the global table cannot be sent to a worker");
  return 0;
}

static int hold(ser *s, eng_array *a) {
  if (s->nheld == s->capheld) {
    int cap = s->capheld ? 2 * s->capheld : 8;
    eng_array **h = realloc(s->held, sizeof *h * (size_t)cap);
    if (!h) return PL_ENOMEM;
    s->held = h;
    s->capheld = cap;
  }
  s->held[s->nheld++] = eng_array_retain(a);
  return 0;
}

static int put_array(lua_State *L, int idx, ser *s) {
  eng_array *a = lx_toarray(L, idx);
  if (!a) return refuse(s, "an engine array that has been freed cannot be sent to a worker");
  if (s->mode == LX_SER_THREAD) {
    if (buf_byte(s->b, 'A') || buf_put(s->b, &a, sizeof a)) return oom(s);
    return hold(s, a) ? oom(s) : 0;
  }
  int fd = eng_array_fd(a);
  long n = eng_array_len(a);
  if (n > 0 && fd < 0)
    return refuse(s, "an engine array outside shared memory cannot be sent to another process");
  int32_t fi = -1;
  if (n > 0) {
    lx_buf *b = s->b;
    for (int i = 0; i < b->nfds; i++)
      if (b->fds[i] == fd) fi = i;
    if (fi < 0) {
      if (b->nfds == b->capfds) {
        int cap = b->capfds ? 2 * b->capfds : 4;
        int *f = realloc(b->fds, sizeof *f * (size_t)cap);
        if (!f) return oom(s);
        b->fds = f;
        b->capfds = cap;
      }
      fi = b->nfds;
      b->fds[b->nfds++] = fd;
    }
  }
  uint8_t dt = (uint8_t)eng_array_dtype(a), wr = !eng_array_is_sealed(a);
  int64_t len = n;
  if (buf_byte(s->b, 'M') || buf_put(s->b, &dt, 1) || buf_put(s->b, &len, 8) ||
      buf_put(s->b, &wr, 1) || buf_put(s->b, &fi, 4))
    return oom(s);
  return 0;
}

static int put_value(lua_State *L, int idx, ser *s);

static void push_seg(lua_State *L, int kidx, ser *s) {
  if (s->depth > MAX_PATH) return;
  seg *g = &s->path[s->depth - 1];
  if (lua_type(L, kidx) == LUA_TSTRING) {
    g->kind = 0;
    g->s = lua_tostring(L, kidx);
  } else if (lua_isinteger(L, kidx)) {
    g->kind = 1;
    g->i = lua_tointeger(L, kidx);
  } else {
    g->kind = 2;
  }
}

static int put_table(lua_State *L, int idx, ser *s) {
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return refuse(s, "a table with a metatable cannot be sent to a worker; send its plain "
                     "fields instead");
  }
  if (!s->visiting) {
    /* The outermost table: the set lives until ser_protected returns. */
    lua_newtable(L);
    s->visiting = lua_gettop(L);
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, s->visiting) != LUA_TNIL) {
    lua_pop(L, 1);
    return refuse(s, "a table that contains itself (a cycle) cannot be sent to a worker");
  }
  lua_pop(L, 1);
  if (s->depth >= MAX_DEPTH) {
    char lim[16];
    snprintf(lim, sizeof lim, "%d", MAX_DEPTH);
    return refusef(s, "tables nested more than %s levels deep cannot be sent to a worker", lim);
  }
  luaL_checkstack(L, 8, "lx_serialize");
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, s->visiting);

  if (buf_byte(s->b, 'T')) return oom(s);
  size_t count_at = s->b->len;
  uint64_t pairs = 0;
  if (buf_put(s->b, &pairs, 8)) return oom(s);
  s->depth++;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int k = lua_gettop(L) - 1, v = lua_gettop(L);
    push_seg(L, k, s);
    if (put_value(L, k, s) || put_value(L, v, s)) {
      lua_pop(L, 2);
      return s->rc;
    }
    pairs++;
    lua_pop(L, 1);
  }
  s->depth--;
  memcpy(s->b->data + count_at, &pairs, 8);

  lua_pushvalue(L, idx);
  lua_pushnil(L);
  lua_rawset(L, s->visiting);
  return 0;
}

/* nil, a boolean, a number or a string (type t) at idx: PL_ENOMEM or 0. */
static int put_scalar(lua_State *L, int idx, int t, lx_buf *b) {
  if (buf_reserve(b, 9)) return PL_ENOMEM;
  char *d = b->data + b->len;
  switch (t) {
  case LUA_TNIL: d[0] = 'n'; b->len += 1; return 0;
  case LUA_TBOOLEAN: d[0] = lua_toboolean(L, idx) ? 't' : 'f'; b->len += 1; return 0;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      int64_t v = (int64_t)lua_tointeger(L, idx);
      d[0] = 'i';
      memcpy(d + 1, &v, 8);
    } else {
      double v = (double)lua_tonumber(L, idx);
      d[0] = 'd';
      memcpy(d + 1, &v, 8);
    }
    b->len += 9;
    return 0;
  default: {
    size_t n;
    const char *p = lua_tolstring(L, idx, &n);
    uint64_t len = n;
    return buf_byte(b, 's') || buf_put(b, &len, 8) || buf_put(b, p, n) ? PL_ENOMEM : 0;
  }
  }
}

static int put_value(lua_State *L, int idx, ser *s) {
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  switch (t) {
  case LUA_TNIL:
  case LUA_TBOOLEAN:
  case LUA_TNUMBER:
  case LUA_TSTRING: return put_scalar(L, idx, t, s->b) ? oom(s) : 0;
  case LUA_TTABLE: return put_table(L, idx, s);
  case LUA_TFUNCTION: {
    if (lua_iscfunction(L, idx))
      return refuse(s, "a C function cannot be sent to a worker; wrap the call in a Lua "
                       "function");
    if (check_upvalues(L, idx, s)) return s->rc;
    if (buf_byte(s->b, 'L')) return oom(s);
    size_t len_at = s->b->len;
    uint64_t len = 0;
    if (buf_put(s->b, &len, 8)) return oom(s);
    lua_pushvalue(L, idx);
    int r = lua_dump(L, dump_writer, s->b, 0);
    lua_pop(L, 1);
    if (r) return oom(s);
    len = s->b->len - len_at - 8;
    memcpy(s->b->data + len_at, &len, 8);
    return 0;
  }
  case LUA_TUSERDATA:
    if (luaL_testudata(L, idx, LX_ARRAY_MT)) return put_array(L, idx, s);
    if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
      int rc = refusef(s, "a userdata value (%s) cannot be sent to a worker; only engine arrays "
                          "can", lua_tostring(L, -1));
      lua_pop(L, 1);
      return rc;
    }
    return refuse(s, "a userdata value cannot be sent to a worker; only engine arrays can");
  case LUA_TLIGHTUSERDATA:
    return refuse(s, "a light userdata (a raw C pointer) cannot be sent to a worker");
  case LUA_TTHREAD:
    return refuse(s, "a coroutine cannot be sent to a worker; send the function it runs "
                     "instead");
  default:
    return refusef(s, "a value of type %s cannot be sent to a worker", luaL_typename(L, idx));
  }
}

/* Protected part: arguments are the context and the value. The set of
 * tables on the path is made by the first table met (put_table). */
static int ser_protected(lua_State *L) {
  ser *s = lua_touserdata(L, 1);
  put_value(L, 2, s);
  return 0;
}

int lx_serialize(lua_State *L, int idx, int mode, const char *what, lx_buf *b, char **err) {
  if (err) *err = NULL;
  if (!L || !b || (mode != LX_SER_THREAD && mode != LX_SER_PROCESS)) return PL_EINVAL;
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  if (t == LUA_TNIL || t == LUA_TBOOLEAN || t == LUA_TNUMBER || t == LUA_TSTRING) {
    /* A scalar cannot raise a Lua error (a string is read, not converted)
     * nor be refused: no protected call and no context to set up, the
     * common case of a small task's argument and result. */
    size_t len0 = b->len;
    if (put_scalar(L, idx, t, b) == 0) return 0;
    b->len = len0;
    if (err) *err = lx_strdup_printf("%s: %s", what ? what : "value", pl_strerror(PL_ENOMEM));
    return PL_ENOMEM;
  }
  ser s = {.mode = mode, .what = what ? what : "value", .b = b};
  size_t len0 = b->len;
  int nfds0 = b->nfds;
  if (!lua_checkstack(L, 4)) return PL_ENOMEM;
  lua_pushcfunction(L, ser_protected);
  lua_pushlightuserdata(L, &s);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    /* Only a memory error can get here (or luaL_checkstack). */
    lua_pop(L, 1);
    if (!s.rc) s.rc = PL_ENOMEM;
  }
  if (s.rc) {
    for (int i = 0; i < s.nheld; i++) eng_array_free(s.held[i]);
    b->len = len0;
    b->nfds = nfds0;
    if (err) *err = s.err ? s.err : lx_strdup_printf("%s: %s", s.what, pl_strerror(s.rc));
    else free(s.err);
    free(s.held);
    return s.rc;
  }
  b->nrefs += s.nheld;
  free(s.held); /* the references now belong to the buffer */
  return 0;
}

/* ---- deserialize ---- */

typedef struct des {
  const char *d;
  size_t len, pos;
  int mode;
  int no_functions;
  const int *fds;
  int nfds;
  unsigned char *used; /* fds handed to an array (now owned by it) */
  int seen;            /* stack index: arrays already pushed, for identity */
  int depth;
  const char *bad;     /* what was malformed */
} des;

static int take(des *s, void *out, size_t n) {
  if (s->len - s->pos < n) {
    s->bad = "truncated data";
    return -1;
  }
  memcpy(out, s->d + s->pos, n);
  s->pos += n;
  return 0;
}

static int get_value(lua_State *L, des *s);

static int get_array(lua_State *L, des *s, char tag) {
  if (tag == 'A') {
    if (s->mode != LX_SER_THREAD) {
      s->bad = "an array pointer in process mode";
      return -1;
    }
    eng_array *a;
    if (take(s, &a, sizeof a)) return -1;
    lua_pushlightuserdata(L, a);
    if (lua_rawget(L, s->seen) != LUA_TNIL) return 0;
    lua_pop(L, 1);
    lx_pusharray(L, eng_array_retain(a));
    lua_pushlightuserdata(L, a);
    lua_pushvalue(L, -2);
    lua_rawset(L, s->seen);
    return 0;
  }
  if (s->mode != LX_SER_PROCESS) {
    s->bad = "a shared-memory array in thread mode";
    return -1;
  }
  uint8_t dt, wr;
  int64_t n;
  int32_t fi;
  if (take(s, &dt, 1) || take(s, &n, 8) || take(s, &wr, 1) || take(s, &fi, 4)) return -1;
  eng_dtype t = (eng_dtype)dt;
  if (eng_dtype_size(t) == 0 || n < 0 || (n > 0) != (fi >= 0) || fi >= s->nfds) {
    s->bad = "a bad array description";
    return -1;
  }
  if (fi >= 0) {
    /* The same array twice: the same Lua value twice. */
    lua_pushinteger(L, fi);
    if (lua_rawget(L, s->seen) != LUA_TNIL) return 0;
    lua_pop(L, 1);
  }
  eng_array *a = NULL;
  int fd = fi >= 0 ? s->fds[fi] : -1;
  if (fi >= 0) s->used[fi] = 1;
  int rc = eng_array_map_fd(fd, t, (long)n, wr, &a);
  if (rc) {
    s->bad = "an array that cannot be mapped";
    return -1;
  }
  lx_pusharray(L, a);
  if (fi >= 0) {
    lua_pushinteger(L, fi);
    lua_pushvalue(L, -2);
    lua_rawset(L, s->seen);
  }
  return 0;
}

static int get_value(lua_State *L, des *s) {
  char tag;
  uint64_t n;
  if (take(s, &tag, 1)) return -1;
  luaL_checkstack(L, 6, "lx_deserialize");
  switch (tag) {
  case 'n': lua_pushnil(L); return 0;
  case 'f': lua_pushboolean(L, 0); return 0;
  case 't': lua_pushboolean(L, 1); return 0;
  case 'i': {
    int64_t v;
    if (take(s, &v, 8)) return -1;
    lua_pushinteger(L, (lua_Integer)v);
    return 0;
  }
  case 'd': {
    double v;
    if (take(s, &v, 8)) return -1;
    lua_pushnumber(L, (lua_Number)v);
    return 0;
  }
  case 's':
  case 'L':
    if (take(s, &n, 8)) return -1;
    if (n > s->len - s->pos) {
      s->bad = "truncated data";
      return -1;
    }
    if (tag == 's') {
      lua_pushlstring(L, s->d + s->pos, (size_t)n);
    } else if (s->no_functions) {
      s->bad = "a function from a process that may not send code";
      return -1;
    } else if (luaL_loadbufferx(L, s->d + s->pos, (size_t)n, "=(sent function)", "b") != LUA_OK) {
      /* The load error's text stays on the stack for the caller. */
      s->bad = lua_tostring(L, -1);
      return -1;
    }
    s->pos += (size_t)n;
    return 0;
  case 'T': {
    if (take(s, &n, 8)) return -1;
    /* Every pair takes at least two bytes. */
    if (n > (s->len - s->pos) / 2) {
      s->bad = "truncated data";
      return -1;
    }
    if (++s->depth > MAX_DEPTH) {
      s->bad = "tables nested too deep";
      return -1;
    }
    lua_createtable(L, 0, n < 64 ? (int)n : 64);
    for (uint64_t i = 0; i < n; i++) {
      if (get_value(L, s) || get_value(L, s)) return -1;
      if (lua_isnil(L, -2) || (lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) !=
                                                                      lua_tonumber(L, -2))) {
        s->bad = "a nil or NaN table key";
        return -1;
      }
      lua_rawset(L, -3);
    }
    s->depth--;
    return 0;
  }
  case 'A':
  case 'M': return get_array(L, s, tag);
  default: s->bad = "an unknown value tag"; return -1;
  }
}

static int des_protected(lua_State *L) {
  des *s = lua_touserdata(L, 1);
  lua_settop(L, 0);
  lua_newtable(L);
  s->seen = 1;
  while (s->pos < s->len) {
    if (get_value(L, s)) {
      lua_pushfstring(L, "malformed values: %s at byte %d", s->bad ? s->bad : "?", (int)s->pos);
      return lua_error(L);
    }
  }
  return lua_gettop(L) - 1;
}

/* How many values the bytes hold when every one is nil, a boolean or a
 * number (complete, nothing left over); -1 otherwise. */
static int count_scalars(const char *d, size_t len) {
  size_t pos = 0;
  int n = 0;
  while (pos < len) {
    switch (d[pos]) {
    case 'n': case 'f': case 't': pos += 1; break;
    case 'i': case 'd':
      if (len - pos < 9) return -1;
      pos += 9;
      break;
    default: return -1;
    }
    if (++n > 4096) return -1;
  }
  return n;
}

/* Push them: nothing here can raise a Lua error or allocate. */
static void push_scalars(lua_State *L, const char *d, size_t len) {
  for (size_t pos = 0; pos < len;) {
    char tag = d[pos++];
    if (tag == 'n') lua_pushnil(L);
    else if (tag == 'f' || tag == 't') lua_pushboolean(L, tag == 't');
    else {
      int64_t i;
      double x;
      if (tag == 'i') {
        memcpy(&i, d + pos, 8);
        lua_pushinteger(L, (lua_Integer)i);
      } else {
        memcpy(&x, d + pos, 8);
        lua_pushnumber(L, (lua_Number)x);
      }
      pos += 8;
    }
  }
}

int lx_deserialize(lua_State *L, const char *data, size_t len, int mode,
                   const int *fds, int nfds, char **err) {
  int rc = 0;
  unsigned char *used = NULL;
  if (err) *err = NULL;
  int no_functions = (mode & LX_SER_NO_FUNCTIONS) != 0;
  mode &= ~LX_SER_NO_FUNCTIONS;
  if (!L || (!data && len) || nfds < 0 || (nfds && !fds) ||
      (mode != LX_SER_THREAD && mode != LX_SER_PROCESS)) {
    rc = PL_EINVAL;
    goto done;
  }
  if (nfds == 0) {
    /* Small tasks send and return a few numbers: push them without the
     * protected call and its tables (the general path below is for
     * strings, tables, functions and arrays). */
    int n = count_scalars(data, len);
    if (n >= 0) {
      if (!lua_checkstack(L, n + 1)) {
        rc = PL_ENOMEM;
        goto done;
      }
      push_scalars(L, data, len);
      return n;
    }
  }
  used = calloc((size_t)nfds + 1, 1);
  if (!used) {
    rc = PL_ENOMEM;
    goto done;
  }
  des s = {.d = data, .len = len, .mode = mode, .no_functions = no_functions, .fds = fds,
           .nfds = nfds, .used = used};
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 3)) {
    rc = PL_ENOMEM;
    goto done;
  }
  lua_pushcfunction(L, des_protected);
  lua_pushlightuserdata(L, &s);
  int st = lua_pcall(L, 1, LUA_MULTRET, 0);
  if (st != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    if (err) *err = lx_strdup(st == LUA_ERRMEM ? "out of memory" : m ? m : "malformed values");
    lua_settop(L, top);
    rc = st == LUA_ERRMEM ? PL_ENOMEM : PL_EPROTO;
    goto done;
  }
  rc = lua_gettop(L) - top;

done:
  /* Descriptors not handed to an array are closed: they were consumed. */
  for (int i = 0; i < nfds && fds; i++)
    if (!used || !used[i]) close(fds[i]);
  free(used);
  if (rc < 0 && err && !*err) *err = lx_strdup(pl_strerror(rc));
  return rc;
}
