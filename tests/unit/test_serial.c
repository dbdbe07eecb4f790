/*
 * test_serial.c — lx_serial: every accepted type round-trips between two
 * states, every refusal says what and where, cycles, malformed input, and
 * engine arrays in both modes (thread: by reference; process: by memfd,
 * across a fork, the descriptors passed over a socketpair).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eng_array.h"
#include "lx.h"
#include "lx_engine.h"
#include "lx_serial.h"
#include "pl_err.h"
#include "pl_test.h"

static lua_State *open_state(void) {
  lua_State *L = NULL;
  lx_limits lim = {0, 20};
  PT_EQ_INT(lx_open(&lim, &L), 0);
  return L;
}

/* Run code that leaves one value (or more) on the stack. */
static void eval(lua_State *L, const char *code, int nres) {
  char *err = NULL;
  if (lx_dostring(L, code, "@snippet.lua", nres, &err)) PT_FAIL_("%s: %s", code, err);
}

/* Serialize the top n values of A in `mode` and push them onto B. */
static int copy_values(lua_State *A, lua_State *B, int n, int mode, char **err) {
  lx_buf b;
  lx_buf_init(&b);
  int top = lua_gettop(A);
  for (int i = top - n + 1; i <= top; i++) {
    char what[32];
    snprintf(what, sizeof what, "argument %d", i - (top - n));
    int rc = lx_serialize(A, i, mode, what, &b, err);
    if (rc) {
      lx_buf_free(&b);
      return rc;
    }
  }
  int got = lx_deserialize(B, b.data, b.len, mode, NULL, 0, err);
  lx_buf_free(&b);
  return got;
}

/* Check, in B, that the Lua expression is true for the values just copied
 * (set as globals v1, v2, ...). */
static void check_in(lua_State *B, int n, const char *cond) {
  for (int i = n; i >= 1; i--) {
    char name[8];
    snprintf(name, sizeof name, "v%d", i);
    lua_setglobal(B, name);
  }
  char code[1024];
  snprintf(code, sizeof code, "assert(%s, 'condition failed')", cond);
  eval(B, code, 0);
}

static void test_scalars_round_trip(void) {
  lua_State *A = open_state(), *B = open_state();
  eval(A, "return nil, true, false, 42, -7, 1.5, 2^53, 0/0, 1/0, -0.0, math.mininteger, "
          "'', 'a\\0b', string.rep('x', 100000)", 14);
  char *err = NULL;
  PT_EQ_INT(copy_values(A, B, 14, LX_SER_THREAD, &err), 14);
  check_in(B, 14,
           "v1 == nil and v2 == true and v3 == false and v4 == 42 and math.type(v4) == 'integer' "
           "and v5 == -7 and v6 == 1.5 and math.type(v6) == 'float' and v7 == 2^53 and "
           "math.type(v7) == 'float' and v8 ~= v8 and v9 == math.huge and 1/v10 == -math.huge "
           "and v11 == math.mininteger and v12 == '' and v13 == 'a\\0b' and #v13 == 3 and "
           "#v14 == 100000");
  lx_close(A);
  lx_close(B);
}

static void test_tables_round_trip(void) {
  lua_State *A = open_state(), *B = open_state();
  eval(A, "local shared = { 1, 2 }\n"
          "return { 1, 'two', { deep = { deeper = { 3 } } }, x = 1.25, [true] = 'yes',\n"
          "         [2.5] = 'float key', a = shared, b = shared, [{}] = 'table key' }", 1);
  char *err = NULL;
  PT_EQ_INT(copy_values(A, B, 1, LX_SER_THREAD, &err), 1);
  /* A shared (not cyclic) subtable is copied twice: sharing is not kept. */
  check_in(B, 1,
           "v1[1] == 1 and v1[2] == 'two' and v1[3].deep.deeper[1] == 3 and v1.x == 1.25 and "
           "v1[true] == 'yes' and v1[2.5] == 'float key' and v1.a[2] == 2 and v1.b[1] == 1 "
           "and v1.a ~= v1.b and getmetatable(v1) == nil");
  eval(B, "local n = 0 for k, v in pairs(v1) do if type(k) == 'table' then n = n + 1 "
          "assert(v == 'table key') end end assert(n == 1)", 0);
  lx_close(A);
  lx_close(B);
}

static void test_functions_round_trip(void) {
  lua_State *A = open_state(), *B = open_state();
  /* Globals are the receiver's: `scale` differs between the states. */
  eval(A, "scale = 2\n"
          "return function(x, y) return (x + y) * scale, debug == nil end,\n"
          "       { f = function() return 'nested' end },\n"
          "       function() error('from the sender') end", 3);
  eval(B, "scale = 10", 0);
  char *err = NULL;
  PT_EQ_INT(copy_values(A, B, 3, LX_SER_THREAD, &err), 3);
  check_in(B, 3, "v1(1, 2) == 30 and v2.f() == 'nested'");
  /* Debug information travels (strip = 0): errors name the sender's line. */
  lua_getglobal(B, "v3");
  PT_EQ_INT(lx_pcall(B, 0, 0, &err), PL_ELUA);
  PT_CONTAINS(err, "snippet.lua:4:");
  PT_CONTAINS(err, "from the sender");
  free(err);
  lx_close(A);
  lx_close(B);
}

/* lx_serialize with a message, on the value the code returns. */
static char *refusal(lua_State *A, const char *code, int mode) {
  eval(A, code, 1);
  lx_buf b;
  lx_buf_init(&b);
  char *err = NULL;
  int rc = lx_serialize(A, -1, mode, "argument 2", &b, &err);
  PT_EQ_INT(rc, PL_EINVAL);
  PT_EQ_INT(b.len, 0);
  lx_buf_free(&b);
  lua_pop(A, 1);
  PT_TRUE(err != NULL);
  return err;
}

static void test_refusals(void) {
  lua_State *A = open_state();
  static const struct { const char *code, *msg; } cases[] = {
      {"local count = 0 return { f = function() count = count + 1 end }",
       "argument 2, field 'f': a function with upvalues (count) cannot be sent to a worker; "
       "pass the value as an argument instead"},
      {"local a, b = 1, 2 return function() return a + b end",
       "argument 2: a function with upvalues (a, b) cannot be sent to a worker; pass the value "
       "as an argument instead"},
      {"return print",
       "argument 2: a C function cannot be sent to a worker; wrap the call in a Lua function"},
      {"return { list = { 1, 2, coroutine.create(function() end) } }",
       "argument 2, field 'list', [3]: a coroutine cannot be sent to a worker; send the function "
       "it runs instead"},
      {"return setmetatable({}, { __index = {} })",
       "argument 2: a table with a metatable cannot be sent to a worker; send its plain fields "
       "instead"},
      {"local t = { x = {} } t.x.back = t return t",
       "argument 2, field 'x', field 'back': a table that contains itself (a cycle) cannot be "
       "sent to a worker"},
      {"local t = {} t[1] = t return t",
       "argument 2, [1]: a table that contains itself (a cycle) cannot be sent to a worker"},
      {"local t = {} local c = t for i = 1, 150 do c.n = {} c = c.n end return t",
       "tables nested more than 100 levels deep cannot be sent to a worker"},
      {"local _ENV = { x = 1 } return function() return x end",
       "argument 2: a function whose _ENV is not the global table cannot be sent to a worker"},
      {"return { io = string.gmatch('a', 'a') }",
       "argument 2, field 'io': a C function cannot be sent to a worker"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *err = refusal(A, cases[i].code, LX_SER_THREAD);
    if (!strstr(err, cases[i].msg)) PT_FAIL_("%s\n  got: %s\n  want: %s", cases[i].code, err, cases[i].msg);
    free(err);
  }
  /* A userdata that is not an engine array names its type. */
  lua_getfield(A, LUA_REGISTRYINDEX, "_LOADED"); /* any table; make a foreign userdata */
  lua_pop(A, 1);
  luaL_newmetatable(A, "test.thing");
  lua_pop(A, 1);
  lua_newuserdatauv(A, 8, 0);
  luaL_setmetatable(A, "test.thing");
  lx_buf b;
  lx_buf_init(&b);
  char *err = NULL;
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_THREAD, "result 1", &b, &err), PL_EINVAL);
  PT_EQ_STR(err, "result 1: a userdata value (test.thing) cannot be sent to a worker; only "
                 "engine arrays can");
  free(err);
  lua_pop(A, 1);
  lua_pushlightuserdata(A, &b);
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_THREAD, "argument 1", &b, &err), PL_EINVAL);
  PT_CONTAINS(err, "argument 1: a light userdata");
  free(err);
  lua_pop(A, 1);
  /* A freed array. */
  eval(A, "local a = engine.array.zeros('f64', 4) local b <close> = a return a", 1);
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_THREAD, "argument 3", &b, &err), PL_EINVAL);
  PT_CONTAINS(err, "argument 3: an engine array that has been freed");
  free(err);
  lua_pop(A, 1);
  /* err may be NULL: the code alone is returned. */
  eval(A, "return print", 1);
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_THREAD, "x", &b, NULL), PL_EINVAL);
  lua_pop(A, 1);
  lx_buf_free(&b);
  lx_close(A);
}

/* A failed value leaves the buffer as it was: earlier values still decode. */
static void test_failure_keeps_buffer(void) {
  lua_State *A = open_state(), *B = open_state();
  eval(A, "local up = 1 return 'first', engine.array.zeros('i64', 3), { ok = true, "
          "bad = function() return up end }", 3);
  lx_buf b;
  lx_buf_init(&b);
  char *err = NULL;
  PT_EQ_INT(lx_serialize(A, 1, LX_SER_THREAD, "argument 1", &b, &err), 0);
  PT_EQ_INT(lx_serialize(A, 2, LX_SER_THREAD, "argument 2", &b, &err), 0);
  size_t len = b.len;
  PT_EQ_INT(lx_serialize(A, 3, LX_SER_THREAD, "argument 3", &b, &err), PL_EINVAL);
  PT_CONTAINS(err, "argument 3, field 'bad': a function with upvalues (up)");
  free(err);
  PT_EQ_INT(b.len, len);
  PT_EQ_INT(lx_deserialize(B, b.data, b.len, LX_SER_THREAD, NULL, 0, &err), 2);
  check_in(B, 2, "v1 == 'first' and #v2 == 3");
  lx_buf_free(&b);
  lx_close(A);
  lx_close(B);
}

static void test_arrays_by_reference_in_thread_mode(void) {
  lua_State *A = open_state(), *B = open_state();
  eval(A, "x = engine.array.from('f64', { 1, 2, 3 }) e = engine.array.zeros('i64', 0)\n"
          "return x, { again = x }, e", 3);
  eng_array *ax = lx_toarray(A, -3);
  PT_TRUE(ax != NULL);
  lx_buf b;
  lx_buf_init(&b);
  char *err = NULL;
  for (int i = 1; i <= 3; i++) PT_EQ_INT(lx_serialize(A, i - 4, LX_SER_THREAD, "arg", &b, &err), 0);
  lua_settop(A, 0);
  PT_EQ_INT(lx_deserialize(B, b.data, b.len, LX_SER_THREAD, NULL, 0, &err), 3);
  /* Same memory (not a copy), and the same userdata twice in one message. */
  PT_TRUE(lx_toarray(B, -3) == ax);
  check_in(B, 3, "v1 == v2.again and #v1 == 3 and v1[2] == 2 and #v3 == 0");
  eval(B, "v1[2] = 20", 0);
  eval(A, "assert(x[2] == 20)", 0);
  /* The buffer holds a reference: the sender may drop the array first. */
  lx_buf_free(&b);
  lx_buf_init(&b);
  eval(A, "return x", 1);
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_THREAD, "arg", &b, &err), 0);
  lx_close(A); /* drops the sender's reference */
  lua_State *C = open_state();
  PT_EQ_INT(lx_deserialize(C, b.data, b.len, LX_SER_THREAD, NULL, 0, &err), 1);
  lx_buf_free(&b);
  check_in(C, 1, "v1[1] == 1 and v1[2] == 20 and v1[3] == 3");
  lx_close(B); /* drops B's reference; C's keeps the memory */
  eval(C, "assert(v1:sum() == 24)", 0);
  lx_close(C);
}

static void test_malformed_input(void) {
  lua_State *B = open_state();
  char *err = NULL;
  static const struct { const char *data; size_t len; } bad[] = {
      {"i\x01\x02", 3},                        /* truncated integer */
      {"s\xff\xff\xff\xff\xff\xff\xff\x7f", 9}, /* string longer than the data */
      {"T\x05\0\0\0\0\0\0\0n", 10},            /* five pairs, one byte */
      {"?", 1},                                /* unknown tag */
      {"Tnn", 3},                              /* truncated count */
      {"L\x04\0\0\0\0\0\0\0abcd", 13},         /* not a binary chunk */
      {"T\x01\0\0\0\0\0\0\0nn", 11},           /* nil key */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int top = lua_gettop(B);
    int rc = lx_deserialize(B, bad[i].data, bad[i].len, LX_SER_THREAD, NULL, 0, &err);
    if (rc >= 0) PT_FAIL_("case %zu was accepted", i);
    PT_EQ_INT(lua_gettop(B), top);
    PT_TRUE(err != NULL);
    free(err);
    err = NULL;
  }
  /* A pointer is never taken from another process, nor an fd in thread mode. */
  char ptr[1 + sizeof(void *)] = {'A'};
  PT_EQ_INT(lx_deserialize(B, ptr, sizeof ptr, LX_SER_PROCESS, NULL, 0, &err), PL_EPROTO);
  PT_CONTAINS(err, "array pointer in process mode");
  free(err);
  char m[15] = {'M', 0};
  PT_EQ_INT(lx_deserialize(B, m, sizeof m, LX_SER_THREAD, NULL, 0, &err), PL_EPROTO);
  free(err);
  /* Deeply nested input is refused before it exhausts the C stack. */
  size_t n = 300 * 9 + 1;
  char *deep = calloc(n, 1);
  for (int i = 0; i < 300; i++) {
    deep[i * 9] = 'T';
    deep[i * 9 + 1] = 1;
  }
  PT_TRUE(lx_deserialize(B, deep, n, LX_SER_THREAD, NULL, 0, &err) < 0);
  free(err);
  free(deep);
  /* Code from an untrusted process is refused when the caller says so. */
  lua_State *A = open_state();
  eval(A, "return { 1, f = function() return 1 end }", 1);
  lx_buf fb;
  lx_buf_init(&fb);
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_PROCESS, "result 1", &fb, &err), 0);
  PT_EQ_INT(lx_deserialize(B, fb.data, fb.len, LX_SER_PROCESS | 2 /* LX_SER_NO_FUNCTIONS */,
                           NULL, 0, &err), PL_EPROTO);
  PT_CONTAINS(err, "a function from a process that may not send code");
  free(err);
  PT_EQ_INT(lx_deserialize(B, fb.data, fb.len, LX_SER_PROCESS, NULL, 0, &err), 1);
  lua_pop(B, 1);
  lx_buf_free(&fb);
  lx_close(A);
  /* Nothing at all is zero values. */
  PT_EQ_INT(lx_deserialize(B, "", 0, LX_SER_THREAD, NULL, 0, &err), 0);
  lx_close(B);
}

/* ---- process mode ---- */

static void send_msg(int sock, const lx_buf *b) {
  struct iovec iov = {b->data, b->len};
  char ctl[CMSG_SPACE(sizeof(int) * 16)];
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (b->nfds) {
    memset(ctl, 0, sizeof ctl);
    mh.msg_control = ctl;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)b->nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)b->nfds);
    memcpy(CMSG_DATA(c), b->fds, sizeof(int) * (size_t)b->nfds);
  }
  PT_TRUE(sendmsg(sock, &mh, 0) == (ssize_t)b->len);
}

static ssize_t recv_msg(int sock, char *buf, size_t cap, int *fds, int *nfds) {
  struct iovec iov = {buf, cap};
  char ctl[CMSG_SPACE(sizeof(int) * 16)];
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                      .msg_controllen = sizeof ctl};
  ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  *nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      *nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)*nfds);
    }
  }
  return n;
}

/* Child: receive, check, write into the writable array, reply. */
static int child_side(int sock) {
  static char buf[65536];
  int fds[16], nfds = 0;
  ssize_t n = recv_msg(sock, buf, sizeof buf, fds, &nfds);
  if (n <= 0 || nfds != 2) return 10;
  lua_State *L = NULL;
  lx_limits lim = {0, 10};
  if (lx_open(&lim, &L)) return 11;
  char *err = NULL;
  int got = lx_deserialize(L, buf, (size_t)n, LX_SER_PROCESS, fds, nfds, &err);
  if (got != 4) {
    fprintf(stderr, "child: %d values: %s\n", got, err ? err : "");
    return 12;
  }
  for (int i = 4; i >= 1; i--) {
    char name[8];
    snprintf(name, sizeof name, "v%d", i);
    lua_setglobal(L, name);
  }
  const char *code =
      "assert(v1.label == 'data' and v1.n == 3 and #v1.w == 3 and v1.w[3] == 3)\n"
      "assert(v2 == v1.w, 'the same array twice is the same value')\n"
      "assert(#v3 == 2 and v3[2] == 7)\n"
      "local ok, e = pcall(function() v3[1] = 1 end)\n"
      "assert(not ok and e:find('read%-only'), 'a sealed array maps read-only')\n"
      "assert(#v4 == 0)\n"
      "v1.w[1] = 100 v1.w[2] = v3[1] + v3[2]\n";
  if (lx_dostring(L, code, "@child.lua", 0, &err)) {
    fprintf(stderr, "child: %s\n", err);
    return 13;
  }
  lx_close(L);
  /* Every descriptor was consumed: mapped arrays closed theirs with the state. */
  for (int i = 0; i < nfds; i++)
    if (fcntl(fds[i], F_GETFD) != -1 || errno != EBADF) return 14;
  char ok = 'k';
  return write(sock, &ok, 1) == 1 ? 0 : 15;
}

static void test_arrays_by_memfd_across_fork(void) {
  int sv[2];
  PT_EQ_INT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  lua_State *A = open_state();
  eval(A, "w = engine.array.from('f64', { 1, 2, 3 })\n"
          "r = engine.array.from('i64', { 5, 7 })\n"
          "return { label = 'data', n = 3, w = w }, w, r, engine.array.zeros('f32', 0)", 4);
  eng_array *r = lx_toarray(A, -2);
  PT_EQ_INT(eng_array_seal(r), 0);
  lx_buf b;
  lx_buf_init(&b);
  char *err = NULL;
  for (int i = -4; i <= -1; i++) PT_EQ_INT(lx_serialize(A, i, LX_SER_PROCESS, "arg", &b, &err), 0);
  lua_settop(A, 0);
  /* w is sent once although it appears twice; the empty array has no fd. */
  PT_EQ_INT(b.nfds, 2);
  pid_t pid = fork();
  PT_TRUE(pid >= 0);
  if (pid == 0) {
    close(sv[0]);
    _exit(child_side(sv[1]));
  }
  close(sv[1]);
  send_msg(sv[0], &b);
  lx_buf_free(&b);
  char reply = 0;
  PT_EQ_INT(read(sv[0], &reply, 1), 1);
  int st = 0;
  PT_EQ_INT(waitpid(pid, &st, 0), pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) PT_FAIL_("child failed with status %d", WEXITSTATUS(st));
  /* The child wrote into the very pages the parent has mapped. */
  eval(A, "assert(w[1] == 100 and w[2] == 12 and w[3] == 3)", 0);
  close(sv[0]);
  lx_close(A);
}

static void test_process_mode_refusals_and_fds(void) {
  lua_State *A = open_state(), *B = open_state();
  /* An array outside shared memory has no descriptor to send. */
  eng_array *priv = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, 4, 0, &priv), 0);
  lx_pusharray(A, priv);
  lx_buf b;
  lx_buf_init(&b);
  char *err = NULL;
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_PROCESS, "argument 1", &b, &err), PL_EINVAL);
  PT_EQ_STR(err, "argument 1: an engine array outside shared memory cannot be sent to another "
                 "process");
  free(err);
  /* ... but within a process it goes by reference. */
  PT_EQ_INT(lx_serialize(A, -1, LX_SER_THREAD, "argument 1", &b, &err), 0);
  lx_buf_free(&b);
  /* Descriptors that came along but are not used are closed (consumed),
   * also when the data is malformed. */
  int p1[2], p2[2];
  PT_EQ_INT(pipe(p1), 0);
  PT_EQ_INT(pipe(p2), 0);
  int fds[2] = {p1[0], p2[0]};
  PT_EQ_INT(lx_deserialize(B, "n", 1, LX_SER_PROCESS, fds, 2, &err), 1);
  PT_TRUE(fcntl(p1[0], F_GETFD) == -1 && fcntl(p2[0], F_GETFD) == -1);
  PT_EQ_INT(pipe(p1), 0);
  fds[0] = p1[0];
  PT_TRUE(lx_deserialize(B, "?", 1, LX_SER_PROCESS, fds, 1, &err) < 0);
  free(err);
  PT_TRUE(fcntl(p1[0], F_GETFD) == -1);
  /* An fd that is not a large enough memfd cannot become an array. */
  char m[15] = {'M', 0};
  int64_t len = 1000;
  int32_t fi = 0;
  memcpy(m + 2, &len, 8);
  m[10] = 1;
  memcpy(m + 11, &fi, 4);
  PT_EQ_INT(pipe(p2), 0);
  fds[0] = p2[0];
  PT_EQ_INT(lx_deserialize(B, m, sizeof m, LX_SER_PROCESS, fds, 1, &err), PL_EPROTO);
  PT_CONTAINS(err, "cannot be mapped");
  free(err);
  PT_TRUE(fcntl(p2[0], F_GETFD) == -1);
  close(p1[1]);
  close(p2[1]);
  lx_close(A);
  lx_close(B);
}

/* eng_array reference counting and eng_array_map_fd, directly. */
static void test_array_refs_and_map_fd(void) {
  eng_array *a = NULL, *m = NULL;
  PT_EQ_INT(eng_array_new(ENG_I64, 10, ENG_ARRAY_SHARED, &a), 0);
  PT_TRUE(eng_array_retain(a) == a);
  eng_array_free(a); /* one reference left */
  eng_array_set(a, 9, 42);
  int fd = dup(eng_array_fd(a));
  PT_EQ_INT(eng_array_map_fd(fd, ENG_I64, 10, 1, &m), 0);
  PT_EQ_INT(eng_array_get(m, 9), 42);
  PT_EQ_INT(eng_array_is_sealed(m), 0);
  eng_array_set(m, 0, -5);
  PT_EQ_INT(eng_array_get(a, 0), -5);
  /* The receiver sealed the file against shrinking: no SIGBUS for it. */
  PT_TRUE(ftruncate(eng_array_fd(a), 0) < 0 && errno == EPERM);
  eng_array_free(m);
  /* Only a sealable memfd can be wrapped. */
  int pp[2];
  PT_EQ_INT(pipe(pp), 0);
  PT_EQ_INT(eng_array_map_fd(pp[0], ENG_F64, 1, 0, &m), PL_EINVAL);
  PT_TRUE(fcntl(pp[0], F_GETFD) == -1);
  close(pp[1]);
  /* Too short for the length asked: refused, fd closed. */
  fd = dup(eng_array_fd(a));
  PT_EQ_INT(eng_array_map_fd(fd, ENG_I64, 11, 0, &m), PL_EINVAL);
  PT_TRUE(fcntl(fd, F_GETFD) == -1);
  PT_EQ_INT(eng_array_map_fd(-1, ENG_F64, 0, 0, &m), 0);
  PT_EQ_INT(eng_array_len(m), 0);
  eng_array_free(m);
  PT_EQ_INT(eng_array_map_fd(-1, ENG_F64, 3, 0, &m), PL_EINVAL);
  eng_array_free(a);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
      PT_CASE(test_scalars_round_trip),
      PT_CASE(test_tables_round_trip),
      PT_CASE(test_functions_round_trip),
      PT_CASE(test_refusals),
      PT_CASE(test_failure_keeps_buffer),
      PT_CASE(test_arrays_by_reference_in_thread_mode),
      PT_CASE(test_malformed_input),
      PT_CASE(test_arrays_by_memfd_across_fork),
      PT_CASE(test_process_mode_refusals_and_fds),
      PT_CASE(test_array_refs_and_map_fd),
      {0}};
  return pt_main(argc, argv, cases);
}
