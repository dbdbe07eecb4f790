/*
 * lx_gpu.c — engine.gpu (native part): device query, device arrays as
 * userdata, transfers, the teaching kernels and cuBLAS. The friendly API
 * (options tables, host arrays accepted where device arrays are expected,
 * the availability check with the caller's line) is lua/lib/gpu.lua.
 *
 * Every call that queues GPU work waits for it (eng_gpu_sync) before
 * returning, so an error is raised by the call that caused it and Lua
 * timings (engine.time) are honest. Errors read
 * "engine.gpu.<fn>: <what failed>: <CUDA's name and text>", and without a
 * device "engine.gpu.<fn>: no CUDA device: <why>".
 *
 * A device array is a userdata holding an eng_gpu_array; __gc frees the
 * device memory, and :free() frees it early (later use raises an error).
 */
#include <lauxlib.h>
#include <math.h>

#include "eng_gpu.h"
#include "lx_engine.h"
#include "pl_err.h"

#define GPU_ARRAY_MT "parlab.gpu.array"

typedef struct lx_garr { eng_gpu_array *a; } lx_garr;

static int gpu_fail(lua_State *L, const char *fn, int rc) {
  const char *m = eng_gpu_errmsg();
  return luaL_error(L, "engine.gpu.%s: %s", fn, m && *m ? m : pl_strerror(rc));
}

static eng_gpu_array *check_garr(lua_State *L, int idx, const char *fn, const char *what) {
  lx_garr *u = luaL_testudata(L, idx, GPU_ARRAY_MT);
  if (!u) luaL_error(L, "engine.gpu.%s: %s must be a device array (engine.gpu.array(x))", fn, what);
  if (!u->a) luaL_error(L, "engine.gpu.%s: %s has been freed", fn, what);
  return u->a;
}

static void push_garr(lua_State *L, eng_gpu_array *a) {
  lx_garr *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->a = a;
  luaL_setmetatable(L, GPU_ARRAY_MT);
}

static eng_dtype check_dtype(lua_State *L, int idx, const char *fn) {
  eng_dtype t;
  const char *name = luaL_checkstring(L, idx);
  if (eng_dtype_parse(name, &t))
    luaL_error(L, "engine.gpu.%s: unknown array type '%s' (use \"f64\", \"f32\" or \"i64\")", fn, name);
  return t;
}

static long check_count(lua_State *L, int idx, const char *fn, const char *what) {
  lua_Number n = luaL_checknumber(L, idx);
  if (!(n >= 0) || n > 1e12 || n != floor(n))
    luaL_error(L, "engine.gpu.%s: %s must be a whole number >= 0, got %s", fn, what, lua_tostring(L, idx));
  return (long)n;
}

/* available() -> true | false, reason */
static int g_available(lua_State *L) {
  int ok = eng_gpu_available();
  lua_pushboolean(L, ok);
  if (ok) return 1;
  lua_pushstring(L, eng_gpu_unavailable_reason());
  return 2;
}

static int g_built(lua_State *L) {
  lua_pushboolean(L, eng_gpu_built());
  return 1;
}

/* info() -> { name, sm_count, cc, ... } */
static int g_info(lua_State *L) {
  eng_gpu_info I;
  int rc = eng_gpu_get_info(&I);
  if (rc) return gpu_fail(L, "info", rc);
  lua_createtable(L, 0, 24);
#define I_(k) (lua_pushinteger(L, (lua_Integer)I.k), lua_setfield(L, -2, #k))
  lua_pushstring(L, I.name);
  lua_setfield(L, -2, "name");
  lua_pushfstring(L, "%d.%d", I.cc_major, I.cc_minor);
  lua_setfield(L, -2, "cc");
  I_(device), I_(count), I_(cc_major), I_(cc_minor), I_(sm_count), I_(warp_size);
  I_(max_threads_per_block), I_(max_threads_per_sm), I_(shared_per_block), I_(shared_per_sm);
  I_(regs_per_block), I_(l2_bytes), I_(mem_total), I_(mem_free), I_(clock_khz), I_(mem_clock_khz);
  I_(bus_width_bits), I_(copy_engines), I_(driver_version), I_(runtime_version);
#undef I_
  lua_pushboolean(L, I.concurrent_kernels);
  lua_setfield(L, -2, "concurrent_kernels");
  lua_pushnumber(L, I.mem_bw_gbs);
  lua_setfield(L, -2, "mem_bw_gbs");
  return 1;
}

/* zeros(dtype, n) -> device array */
static int g_zeros(lua_State *L) {
  eng_dtype t = check_dtype(L, 1, "zeros");
  long n = check_count(L, 2, "zeros", "n");
  eng_gpu_array *a = NULL;
  int rc = eng_gpu_array_new(t, n, &a);
  if (rc) return gpu_fail(L, "zeros", rc);
  push_garr(L, a);
  return 1;
}

/* from_host(x) -> device array with x's type and contents */
static int g_from_host(lua_State *L) {
  eng_array *h = lx_toarray(L, 1);
  if (!h) return luaL_error(L, "engine.gpu.array: expected an engine array (engine.array.*), got %s",
                            luaL_typename(L, 1));
  eng_gpu_array *a = NULL;
  int rc = eng_gpu_array_new(eng_array_dtype(h), eng_array_len(h), &a);
  if (!rc) rc = eng_gpu_upload(a, 0, eng_array_data(h), eng_array_len(h));
  if (rc) {
    eng_gpu_array_free(a);
    return gpu_fail(L, "array", rc);
  }
  push_garr(L, a);
  return 1;
}

/* kind(x) -> "device" | "host" | nil */
static int g_kind(lua_State *L) {
  if (luaL_testudata(L, 1, GPU_ARRAY_MT)) lua_pushliteral(L, "device");
  else if (lx_toarray(L, 1)) lua_pushliteral(L, "host");
  else lua_pushnil(L);
  return 1;
}

/* Host array at idx with the device array's type and room for n. */
static eng_array *check_host(lua_State *L, int idx, const eng_gpu_array *d, long n, int writable,
                             const char *fn) {
  eng_array *h = lx_toarray(L, idx);
  if (!h) luaL_error(L, "engine.gpu.%s: expected a host engine array, got %s", fn, luaL_typename(L, idx));
  if (eng_array_dtype(h) != eng_gpu_array_dtype(d))
    luaL_error(L, "engine.gpu.%s: the host array is %s, the device array %s", fn,
               eng_dtype_name(eng_array_dtype(h)), eng_dtype_name(eng_gpu_array_dtype(d)));
  if (eng_array_len(h) < n)
    luaL_error(L, "engine.gpu.%s: the host array has %d elements, needs %d", fn, (int)eng_array_len(h), (int)n);
  if (writable && eng_array_is_sealed(h))
    luaL_error(L, "engine.gpu.%s: the host array is read-only (it was given to a submission as const input)", fn);
  return h;
}

/* d:upload(x [, offset]): copies all of x into d starting at element offset (0-based) */
static int m_upload(lua_State *L) {
  eng_gpu_array *d = check_garr(L, 1, "upload", "the array");
  long off = (long)luaL_optinteger(L, 3, 0);
  eng_array *h = lx_toarray(L, 2);
  if (!h) return luaL_error(L, "engine.gpu.upload: expected a host engine array, got %s", luaL_typename(L, 2));
  if (eng_array_dtype(h) != eng_gpu_array_dtype(d))
    return luaL_error(L, "engine.gpu.upload: the host array is %s, the device array %s",
                      eng_dtype_name(eng_array_dtype(h)), eng_dtype_name(eng_gpu_array_dtype(d)));
  int rc = eng_gpu_upload(d, off, eng_array_data(h), eng_array_len(h));
  return rc ? gpu_fail(L, "upload", rc) : 0;
}

/* d:download(x): copies d into the host array x (as many elements as d has) */
static int m_download(lua_State *L) {
  eng_gpu_array *d = check_garr(L, 1, "download", "the array");
  long n = eng_gpu_array_len(d);
  eng_array *h = check_host(L, 2, d, n, 1, "download");
  int rc = eng_gpu_download(d, 0, eng_array_data(h), n);
  if (rc) return gpu_fail(L, "download", rc);
  lua_settop(L, 2);
  return 1;
}

/* d:host() -> a new host engine array with d's contents */
static int m_host(lua_State *L) {
  eng_gpu_array *d = check_garr(L, 1, "host", "the array");
  eng_array *h = NULL;
  int rc = eng_array_new(eng_gpu_array_dtype(d), eng_gpu_array_len(d), ENG_ARRAY_SHARED, &h);
  if (rc) return luaL_error(L, "engine.gpu.host: %s", pl_strerror(rc));
  lx_pusharray(L, h); /* owns h from here, also if the download fails */
  rc = eng_gpu_download(d, 0, eng_array_data(h), eng_array_len(h));
  return rc ? gpu_fail(L, "host", rc) : 1;
}

static int m_len(lua_State *L) {
  lua_pushinteger(L, eng_gpu_array_len(check_garr(L, 1, "len", "the array")));
  return 1;
}

static int m_dtype(lua_State *L) {
  lua_pushstring(L, eng_dtype_name(eng_gpu_array_dtype(check_garr(L, 1, "dtype", "the array"))));
  return 1;
}

static int m_free(lua_State *L) {
  lx_garr *u = luaL_checkudata(L, 1, GPU_ARRAY_MT);
  eng_gpu_array_free(u->a);
  u->a = NULL;
  return 0;
}

static int m_tostring(lua_State *L) {
  lx_garr *u = luaL_checkudata(L, 1, GPU_ARRAY_MT);
  if (!u->a) lua_pushliteral(L, "gpu array (freed)");
  else
    lua_pushfstring(L, "gpu array<%s>[%d]", eng_dtype_name(eng_gpu_array_dtype(u->a)),
                    (int)eng_gpu_array_len(u->a));
  return 1;
}

/* fill(d, v) */
static int g_fill(lua_State *L) {
  eng_gpu_array *d = check_garr(L, 1, "fill", "the array");
  int rc = eng_gpu_fill(d, luaL_checknumber(L, 2));
  if (!rc) rc = eng_gpu_sync();
  return rc ? gpu_fail(L, "fill", rc) : 0;
}

/* vadd(a, b, c) */
static int g_vadd(lua_State *L) {
  eng_gpu_array *a = check_garr(L, 1, "add", "a"), *b = check_garr(L, 2, "add", "b"),
                *c = check_garr(L, 3, "add", "c");
  int rc = eng_gpu_vadd(a, b, c);
  if (!rc) rc = eng_gpu_sync();
  return rc ? gpu_fail(L, "add", rc) : 0;
}

/* reduce(variant, x [, n]) -> sum */
static int g_reduce(lua_State *L) {
  eng_gpu_reduce_variant v;
  const char *name = luaL_checkstring(L, 1);
  if (eng_gpu_reduce_parse(name, &v))
    return luaL_error(L, "engine.gpu.sum: no variant '%s' (atomic, shared, shuffle, cub)", name);
  eng_gpu_array *x = check_garr(L, 2, "sum", "x");
  long n = lua_isnoneornil(L, 3) ? eng_gpu_array_len(x) : check_count(L, 3, "sum", "n");
  double s = 0;
  int rc = eng_gpu_sum(v, x, n, &s);
  if (rc) return gpu_fail(L, "sum", rc);
  lua_pushnumber(L, s);
  return 1;
}

static long check_dim(lua_State *L, int idx, const char *fn) {
  lua_Integer v = luaL_checkinteger(L, idx);
  if (v < 0 || v > 0x7fffffff) luaL_error(L, "engine.gpu.%s: dimensions must be in [0, 2^31)", fn);
  return (long)v;
}

/* matmul(variant, A, B, C, m, n, k) */
static int g_matmul(lua_State *L) {
  eng_gpu_mm_variant v;
  const char *name = luaL_checkstring(L, 1);
  if (eng_gpu_mm_parse(name, &v))
    return luaL_error(L, "engine.gpu.matmul: no variant '%s' (naive, tiled, cublas)", name);
  eng_gpu_array *A = check_garr(L, 2, "matmul", "A"), *B = check_garr(L, 3, "matmul", "B"),
                *C = check_garr(L, 4, "matmul", "C");
  long m = check_dim(L, 5, "matmul"), n = check_dim(L, 6, "matmul"), k = check_dim(L, 7, "matmul");
  int rc = eng_gpu_matmul(v, m, n, k, A, B, C);
  if (!rc) rc = eng_gpu_sync();
  return rc ? gpu_fail(L, "matmul", rc) : 0;
}

/* sgemm/dgemm(A, B, C, m, n, k [, alpha, beta]) */
static int do_gemm(lua_State *L, int dbl) {
  const char *fn = dbl ? "dgemm" : "sgemm";
  eng_gpu_array *A = check_garr(L, 1, fn, "A"), *B = check_garr(L, 2, fn, "B"), *C = check_garr(L, 3, fn, "C");
  long m = check_dim(L, 4, fn), n = check_dim(L, 5, fn), k = check_dim(L, 6, fn);
  double alpha = luaL_optnumber(L, 7, 1), beta = luaL_optnumber(L, 8, 0);
  int rc = dbl ? eng_gpu_dgemm(m, n, k, alpha, A, B, beta, C)
               : eng_gpu_sgemm(m, n, k, (float)alpha, A, B, (float)beta, C);
  if (!rc) rc = eng_gpu_sync();
  return rc ? gpu_fail(L, fn, rc) : 0;
}
static int g_sgemm(lua_State *L) { return do_gemm(L, 0); }
static int g_dgemm(lua_State *L) { return do_gemm(L, 1); }

/* transfers(bytes, reps) -> { bytes, h2d_pageable, h2d_pinned, d2h_pageable, d2h_pinned, d2d } GB/s */
static int g_transfers(lua_State *L) {
  long bytes = check_count(L, 1, "transfers", "bytes");
  int reps = (int)luaL_optinteger(L, 2, 5);
  eng_gpu_transfer T;
  int rc = eng_gpu_transfer_measure((size_t)bytes, reps, &T);
  if (rc) return gpu_fail(L, "transfers", rc);
  lua_createtable(L, 0, 7);
#define N_(k) (lua_pushnumber(L, T.k), lua_setfield(L, -2, #k))
  N_(h2d_pageable), N_(h2d_pinned), N_(d2h_pageable), N_(d2h_pinned), N_(d2d);
#undef N_
  lua_pushinteger(L, (lua_Integer)T.bytes);
  lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, T.reps);
  lua_setfield(L, -2, "reps");
  return 1;
}

/* overlap(n, streams, chunks) -> { serial_s, overlapped_s, speedup, h2d_s, kernel_s, d2h_s, ... } */
static int g_overlap(lua_State *L) {
  long n = check_count(L, 1, "overlap", "n");
  int streams = (int)luaL_optinteger(L, 2, 4), chunks = (int)luaL_optinteger(L, 3, 16);
  eng_gpu_overlap O;
  int rc = eng_gpu_overlap_demo(n, streams, chunks, &O);
  if (rc) return gpu_fail(L, "overlap", rc);
  lua_createtable(L, 0, 10);
#define N_(k) (lua_pushnumber(L, O.k), lua_setfield(L, -2, #k))
#define I_(k) (lua_pushinteger(L, O.k), lua_setfield(L, -2, #k))
  N_(h2d_s), N_(kernel_s), N_(d2h_s), N_(serial_s), N_(overlapped_s), N_(speedup);
  I_(n), I_(streams), I_(chunks), I_(copy_engines);
#undef N_
#undef I_
  return 1;
}

static int g_sync(lua_State *L) {
  int rc = eng_gpu_sync();
  return rc ? gpu_fail(L, "sync", rc) : 0;
}

static const luaL_Reg garr_methods[] = {
  {"upload", m_upload}, {"download", m_download}, {"host", m_host}, {"len", m_len},
  {"dtype", m_dtype}, {"free", m_free}, {NULL, NULL}};

static const luaL_Reg garr_meta[] = {
  {"__len", m_len}, {"__tostring", m_tostring}, {"__gc", m_free}, {"__close", m_free}, {NULL, NULL}};

static const luaL_Reg gpu_funcs[] = {
  {"available", g_available}, {"built", g_built}, {"info", g_info},
  {"zeros", g_zeros}, {"from_host", g_from_host}, {"kind", g_kind},
  {"fill", g_fill}, {"vadd", g_vadd}, {"reduce", g_reduce}, {"matmul", g_matmul},
  {"sgemm", g_sgemm}, {"dgemm", g_dgemm}, {"transfers", g_transfers},
  {"overlap", g_overlap}, {"sync", g_sync}, {NULL, NULL}};

int luaopen_parlab_gpu(lua_State *L) {
  luaL_newmetatable(L, GPU_ARRAY_MT);
  luaL_setfuncs(L, garr_meta, 0);
  luaL_newlib(L, garr_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, gpu_funcs);
  return 1;
}
