/*
 * lx_blas.c — engine.blas (native part): OpenBLAS dgemm/sgemm/dot/axpy and
 * the teaching GEMMs on engine arrays (row-major), so labs compute
 * expected values in the grader. The friendly API is lua/lib/machine.lua.
 */
#include <lauxlib.h>

#include "eng_blas.h"
#include "lx_engine.h"
#include "lx_probe.h"
#include "pl_err.h"

static eng_array *check_typed(lua_State *L, int idx, eng_dtype t, long need, const char *fn,
                              const char *what) {
  eng_array *a = lx_toarray(L, idx);
  if (!a) luaL_typeerror(L, idx, "engine array");
  if (eng_array_dtype(a) != t)
    luaL_error(L, "engine.blas.%s: %s must be an %s array, got %s", fn, what, eng_dtype_name(t),
               eng_dtype_name(eng_array_dtype(a)));
  if (eng_array_len(a) < need)
    luaL_error(L, "engine.blas.%s: %s has %d elements, needs %d", fn, what, (int)eng_array_len(a),
               (int)need);
  return a;
}

static long check_dim(lua_State *L, int idx) {
  lua_Integer v = luaL_checkinteger(L, idx);
  if (v < 0 || v > 0x7fffffff) luaL_argerror(L, idx, "dimension must be in [0, 2^31)");
  return (long)v;
}

static int blas_fail(lua_State *L, const char *fn, int rc) {
  if (rc == PL_ENOSYS) {
    eng_blas_info I;
    eng_blas_get_info(&I);
    return luaL_error(L, "engine.blas.%s: %s", fn, I.config);
  }
  return luaL_error(L, "engine.blas.%s: %s", fn, pl_strerror(rc));
}

/* gemm-like argument block: A, B, C, m, n, k at 1..6 (offset by `base`) */
static int do_gemm(lua_State *L, int base, eng_dtype t, int variant, const char *fn) {
  long m = check_dim(L, base + 3), n = check_dim(L, base + 4), k = check_dim(L, base + 5);
  eng_array *A = check_typed(L, base, t, m * k, fn, "A (m x k)");
  eng_array *B = check_typed(L, base + 1, t, k * n, fn, "B (k x n)");
  eng_array *C = check_typed(L, base + 2, t, m * n, fn, "C (m x n)");
  double alpha = luaL_optnumber(L, base + 6, 1), beta = luaL_optnumber(L, base + 7, 0);
  int rc;
  if (variant >= 0)
    rc = eng_gemm((eng_gemm_variant)variant, m, n, k, alpha, eng_array_data(A), eng_array_data(B),
                  beta, eng_array_data(C), (int)luaL_optinteger(L, base + 8, 0));
  else if (t == ENG_F64)
    rc = eng_blas_dgemm(m, n, k, alpha, eng_array_data(A), eng_array_data(B), beta, eng_array_data(C));
  else
    rc = eng_blas_sgemm(m, n, k, (float)alpha, eng_array_data(A), eng_array_data(B), (float)beta,
                        eng_array_data(C));
  return rc ? blas_fail(L, fn, rc) : 0;
}

/* dgemm(A, B, C, m, n, k [, alpha, beta]) */
static int b_dgemm(lua_State *L) { return do_gemm(L, 1, ENG_F64, -1, "dgemm"); }
static int b_sgemm(lua_State *L) { return do_gemm(L, 1, ENG_F32, -1, "sgemm"); }

/* gemm(variant, A, B, C, m, n, k [, alpha, beta, threads]) */
static int b_gemm(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  eng_gemm_variant v;
  if (eng_gemm_parse(name, &v))
    return luaL_error(L, "engine.blas.gemm: no variant '%s' (naive, interchange, blocked, simd_omp, openblas)", name);
  return do_gemm(L, 2, ENG_F64, (int)v, "gemm");
}

/* dot(x, y) */
static int b_dot(lua_State *L) {
  eng_array *x = lx_toarray(L, 1);
  if (!x) return luaL_typeerror(L, 1, "engine array");
  eng_dtype t = eng_array_dtype(x);
  if (t == ENG_I64) return luaL_argerror(L, 1, "need an f64 or f32 array");
  long n = eng_array_len(x);
  eng_array *y = check_typed(L, 2, t, n, "dot", "y");
  int rc;
  if (t == ENG_F64) {
    double s;
    rc = eng_blas_ddot(n, eng_array_data(x), eng_array_data(y), &s);
    lua_pushnumber(L, s);
  } else {
    float s;
    rc = eng_blas_sdot(n, eng_array_data(x), eng_array_data(y), &s);
    lua_pushnumber(L, s);
  }
  return rc ? blas_fail(L, "dot", rc) : 1;
}

/* axpy(a, x, y): y += a * x */
static int b_axpy(lua_State *L) {
  double a = luaL_checknumber(L, 1);
  eng_array *x = lx_toarray(L, 2);
  if (!x) return luaL_typeerror(L, 2, "engine array");
  eng_dtype t = eng_array_dtype(x);
  if (t == ENG_I64) return luaL_argerror(L, 2, "need an f64 or f32 array");
  long n = eng_array_len(x);
  eng_array *y = check_typed(L, 3, t, n, "axpy", "y");
  int rc = t == ENG_F64 ? eng_blas_daxpy(n, a, eng_array_data(x), eng_array_data(y))
                        : eng_blas_saxpy(n, (float)a, eng_array_data(x), eng_array_data(y));
  return rc ? blas_fail(L, "axpy", rc) : 0;
}

/* info() -> {core, detected, expected, misdetected, corrected, user_set, config, threads, library} */
static int b_info(lua_State *L) {
  int rc = eng_blas_init();
  eng_blas_info I;
  eng_blas_get_info(&I);
  lua_createtable(L, 0, 10);
  lua_pushboolean(L, rc == 0);
  lua_setfield(L, -2, "loaded");
#define S(k) (lua_pushstring(L, I.k), lua_setfield(L, -2, #k))
#define B(k) (lua_pushboolean(L, I.k), lua_setfield(L, -2, #k))
  S(core), S(detected), S(expected), S(config), S(library);
  B(misdetected), B(corrected), B(user_set);
#undef S
#undef B
  lua_pushinteger(L, I.threads);
  lua_setfield(L, -2, "threads");
  return 1;
}

static int b_threads(lua_State *L) {
  int rc = eng_blas_set_threads((int)luaL_checkinteger(L, 1));
  return rc ? blas_fail(L, "threads", rc) : 0;
}

static const luaL_Reg blas_funcs[] = {{"dgemm", b_dgemm}, {"sgemm", b_sgemm}, {"gemm", b_gemm},
                                      {"dot", b_dot},     {"axpy", b_axpy},   {"info", b_info},
                                      {"threads", b_threads}, {NULL, NULL}};

int luaopen_parlab_blas(lua_State *L) {
  luaL_newlib(L, blas_funcs);
  return 1;
}
