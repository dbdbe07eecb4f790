/*
 * lx_simd.c — engine.simd (native part): the SIMD kernels of eng_simd.h on
 * engine arrays, with a variant name per call, and int8 vectors for the
 * quantized dot product. The friendly API is lua/lib/machine.lua.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "eng_simd.h"
#include "lx_engine.h"
#include "lx_probe.h"
#include "pl_err.h"

#define LX_I8_MT "parlab.i8vec"

typedef struct lx_i8 {
  long n;
  int8_t *q;
} lx_i8;

static eng_simd_variant check_variant(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return ENG_SIMD_AUTO;
  const char *name = luaL_checkstring(L, idx);
  eng_simd_variant v;
  char msg[256];
  if (eng_simd_variant_parse(name, &v)) {
    eng_simd_explain((eng_simd_variant)-1, msg, sizeof msg);
    luaL_error(L, "engine.simd: no variant named '%s' (%s)", name, msg);
  }
  if (!eng_simd_supported(v)) {
    eng_simd_explain(v, msg, sizeof msg);
    luaL_error(L, "engine.simd: %s", msg);
  }
  return v;
}

static eng_array *check_arr(lua_State *L, int idx) {
  eng_array *a = lx_toarray(L, idx);
  if (!a) luaL_typeerror(L, idx, "engine array");
  if (eng_array_dtype(a) == ENG_I64) luaL_argerror(L, idx, "need an f64 or f32 array");
  return a;
}

static void same(lua_State *L, eng_array *a, eng_array *b, const char *fn) {
  if (eng_array_dtype(a) != eng_array_dtype(b))
    luaL_error(L, "engine.simd.%s: arrays differ in type (%s and %s)", fn,
               eng_dtype_name(eng_array_dtype(a)), eng_dtype_name(eng_array_dtype(b)));
  if (eng_array_len(a) != eng_array_len(b))
    luaL_error(L, "engine.simd.%s: arrays differ in length (%d and %d)", fn, (int)eng_array_len(a),
               (int)eng_array_len(b));
}

static int fail(lua_State *L, const char *fn, int rc) {
  return luaL_error(L, "engine.simd.%s: %s", fn, pl_strerror(rc));
}

/* sum(x, variant) */
static int s_sum(lua_State *L) {
  eng_array *x = check_arr(L, 1);
  eng_simd_variant v = check_variant(L, 2);
  int rc;
  if (eng_array_dtype(x) == ENG_F64) {
    double s;
    rc = eng_simd_sum_f64(v, eng_array_data(x), eng_array_len(x), &s);
    lua_pushnumber(L, s);
  } else {
    float s;
    rc = eng_simd_sum_f32(v, eng_array_data(x), eng_array_len(x), &s);
    lua_pushnumber(L, s);
  }
  return rc ? fail(L, "sum", rc) : 1;
}

/* dot(x, y, variant) */
static int s_dot(lua_State *L) {
  eng_array *x = check_arr(L, 1), *y = check_arr(L, 2);
  same(L, x, y, "dot");
  eng_simd_variant v = check_variant(L, 3);
  int rc;
  if (eng_array_dtype(x) == ENG_F64) {
    double s;
    rc = eng_simd_dot_f64(v, eng_array_data(x), eng_array_data(y), eng_array_len(x), &s);
    lua_pushnumber(L, s);
  } else {
    float s;
    rc = eng_simd_dot_f32(v, eng_array_data(x), eng_array_data(y), eng_array_len(x), &s);
    lua_pushnumber(L, s);
  }
  return rc ? fail(L, "dot", rc) : 1;
}

/* axpy(a, x, y, variant): y += a * x, in place */
static int s_axpy(lua_State *L) {
  double a = luaL_checknumber(L, 1);
  eng_array *x = check_arr(L, 2), *y = check_arr(L, 3);
  same(L, x, y, "axpy");
  eng_simd_variant v = check_variant(L, 4);
  int rc = eng_array_dtype(x) == ENG_F64
               ? eng_simd_axpy_f64(v, a, eng_array_data(x), eng_array_data(y), eng_array_len(x))
               : eng_simd_axpy_f32(v, (float)a, eng_array_data(x), eng_array_data(y), eng_array_len(x));
  return rc ? fail(L, "axpy", rc) : 0;
}

/* minmax(x, variant) -> lo, hi */
static int s_minmax(lua_State *L) {
  eng_array *x = check_arr(L, 1);
  eng_simd_variant v = check_variant(L, 2);
  int rc;
  if (eng_array_dtype(x) == ENG_F64) {
    double lo, hi;
    rc = eng_simd_minmax_f64(v, eng_array_data(x), eng_array_len(x), &lo, &hi);
    lua_pushnumber(L, lo);
    lua_pushnumber(L, hi);
  } else {
    float lo, hi;
    rc = eng_simd_minmax_f32(v, eng_array_data(x), eng_array_len(x), &lo, &hi);
    lua_pushnumber(L, lo);
    lua_pushnumber(L, hi);
  }
  return rc ? fail(L, "minmax", rc) : 2;
}

/* quantize(x) -> i8vec, scale */
static int s_quantize(lua_State *L) {
  eng_array *x = check_arr(L, 1);
  long n = eng_array_len(x);
  lx_i8 *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->n = 0, u->q = NULL;
  luaL_setmetatable(L, LX_I8_MT);
  if (n > 0 && !(u->q = malloc((size_t)n))) return luaL_error(L, "engine.simd.quantize: out of memory");
  int rc;
  if (eng_array_dtype(x) == ENG_F64) {
    double s;
    rc = eng_quantize_f64(eng_array_data(x), n, u->q, &s);
    lua_pushnumber(L, s);
  } else {
    float s;
    rc = eng_quantize_f32(eng_array_data(x), n, u->q, &s);
    lua_pushnumber(L, s);
  }
  if (rc) return luaL_error(L, "engine.simd.quantize: the array holds NaN or infinity");
  u->n = n;
  return 2;
}

/* i8(values) -> i8vec from a Lua list of integers in [-128, 127] */
static int s_i8(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  long n = (long)luaL_len(L, 1);
  lx_i8 *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->n = 0, u->q = NULL;
  luaL_setmetatable(L, LX_I8_MT);
  if (n > 0 && !(u->q = malloc((size_t)n))) return luaL_error(L, "engine.simd.i8: out of memory");
  for (long i = 0; i < n; i++) {
    lua_geti(L, 1, i + 1);
    int ok;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    lua_pop(L, 1);
    if (!ok || v < -128 || v > 127)
      return luaL_error(L, "engine.simd.i8: element %d is not an integer in [-128, 127]", (int)i + 1);
    u->q[i] = (int8_t)v;
  }
  u->n = n;
  return 1;
}

/* dot_i8(a, b, variant) -> integer */
static int s_dot_i8(lua_State *L) {
  lx_i8 *a = luaL_checkudata(L, 1, LX_I8_MT), *b = luaL_checkudata(L, 2, LX_I8_MT);
  if (a->n != b->n)
    return luaL_error(L, "engine.simd.dot_i8: lengths differ (%d and %d)", (int)a->n, (int)b->n);
  eng_simd_variant v = check_variant(L, 3);
  int64_t s;
  int rc = eng_simd_dot_i8(v, a->q, b->q, a->n, &s);
  if (rc) return fail(L, "dot_i8", rc);
  lua_pushinteger(L, (lua_Integer)s);
  return 1;
}

static int i8_len(lua_State *L) {
  lua_pushinteger(L, ((lx_i8 *)luaL_checkudata(L, 1, LX_I8_MT))->n);
  return 1;
}

static int i8_index(lua_State *L) {
  lx_i8 *u = luaL_checkudata(L, 1, LX_I8_MT);
  if (lua_type(L, 2) != LUA_TNUMBER) {
    if (lua_type(L, 2) == LUA_TSTRING && !strcmp(lua_tostring(L, 2), "len")) {
      lua_pushcfunction(L, i8_len);
      return 1;
    }
    return 0;
  }
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 1 || i > u->n) return 0;
  lua_pushinteger(L, u->q[i - 1]);
  return 1;
}

static int i8_gc(lua_State *L) {
  lx_i8 *u = luaL_checkudata(L, 1, LX_I8_MT);
  free(u->q);
  u->q = NULL, u->n = 0;
  return 0;
}

static int i8_tostring(lua_State *L) {
  lua_pushfstring(L, "i8vec[%d]", (int)((lx_i8 *)luaL_checkudata(L, 1, LX_I8_MT))->n);
  return 1;
}

/* variants() -> { {name, supported, lanes = {f64, f32, i8}}, ... } in order */
static int s_variants(lua_State *L) {
  lua_createtable(L, ENG_SIMD_NVARIANTS - 1, 0);
  for (int i = 1; i < ENG_SIMD_NVARIANTS; i++) {
    eng_simd_variant v = (eng_simd_variant)i;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, eng_simd_variant_name(v));
    lua_setfield(L, -2, "name");
    lua_pushboolean(L, eng_simd_supported(v));
    lua_setfield(L, -2, "supported");
    lua_pushinteger(L, eng_simd_lanes(v, 8));
    lua_setfield(L, -2, "lanes_f64");
    lua_pushinteger(L, eng_simd_lanes(v, 4));
    lua_setfield(L, -2, "lanes_f32");
    lua_rawseti(L, -2, i);
  }
  return 1;
}

static int s_best(lua_State *L) {
  lua_pushstring(L, eng_simd_variant_name(eng_simd_best()));
  return 1;
}

/* supported(name) -> bool, message */
static int s_supported(lua_State *L) {
  eng_simd_variant v;
  char msg[256];
  if (eng_simd_variant_parse(luaL_checkstring(L, 1), &v)) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, "no such variant");
    return 2;
  }
  lua_pushboolean(L, eng_simd_supported(v));
  eng_simd_explain(v, msg, sizeof msg);
  lua_pushstring(L, msg);
  return 2;
}

static const luaL_Reg simd_funcs[] = {
    {"sum", s_sum},           {"dot", s_dot},       {"axpy", s_axpy},   {"minmax", s_minmax},
    {"quantize", s_quantize}, {"i8", s_i8},         {"dot_i8", s_dot_i8}, {"variants", s_variants},
    {"best", s_best},         {"supported", s_supported}, {NULL, NULL}};

int luaopen_parlab_simd(lua_State *L) {
  if (luaL_newmetatable(L, LX_I8_MT)) {
    static const luaL_Reg mt[] = {{"__len", i8_len},   {"__index", i8_index},
                                  {"__gc", i8_gc},     {"__tostring", i8_tostring},
                                  {NULL, NULL}};
    luaL_setfuncs(L, mt, 0);
  }
  lua_pop(L, 1);
  luaL_newlib(L, simd_funcs);
  return 1;
}
