/*
 * lx_array.c — engine arrays as Lua userdata (engine.array).
 *
 * Arrays are always allocated in shared memory, so any array a check builds
 * can be handed to a jailed submission without copying. Lua indices are
 * 1-based; the underlying data is 0-based C memory.
 */
#include <lauxlib.h>
#include <math.h>
#include <stdint.h>

#include "lx_engine.h"
#include "pl_err.h"

typedef struct lx_arr { eng_array *a; } lx_arr;

eng_array *lx_toarray(lua_State *L, int idx) {
  lx_arr *u = luaL_testudata(L, idx, LX_ARRAY_MT);
  return u ? u->a : NULL;
}

static eng_array *check_array(lua_State *L, int idx) {
  lx_arr *u = luaL_checkudata(L, idx, LX_ARRAY_MT);
  if (!u->a) luaL_argerror(L, idx, "array has been freed");
  return u->a;
}

void lx_pusharray(lua_State *L, eng_array *a) {
  lx_arr *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->a = a;
  luaL_setmetatable(L, LX_ARRAY_MT);
}

static eng_dtype check_dtype(lua_State *L, int idx) {
  eng_dtype t;
  const char *name = luaL_checkstring(L, idx);
  if (eng_dtype_parse(name, &t))
    luaL_error(L, "unknown array type '%s' (use \"f64\", \"f32\" or \"i64\")", name);
  return t;
}

static long check_len(lua_State *L, int idx) {
  lua_Number n = luaL_checknumber(L, idx);
  if (!(n >= 0) || n > 1e10 || n != floor(n))
    luaL_error(L, "array length must be a whole number >= 0, got %s", lua_tostring(L, idx));
  return (long)n;
}

static eng_array *new_array(lua_State *L, eng_dtype t, long n) {
  eng_array *a = NULL;
  int rc = eng_array_new(t, n, ENG_ARRAY_SHARED, &a);
  if (rc) luaL_error(L, "cannot allocate %ld elements: %s", n, pl_strerror(rc));
  lx_pusharray(L, a);
  return a;
}

/* engine.array.zeros(dtype, n) */
static int arr_zeros(lua_State *L) {
  new_array(L, check_dtype(L, 1), check_len(L, 2));
  return 1;
}

/* engine.array.random(dtype, n, seed, lo, hi) — the friendly wrapper in
 * lib/engine.lua takes an options table. */
static int arr_random(lua_State *L) {
  eng_dtype t = check_dtype(L, 1);
  long n = check_len(L, 2);
  uint64_t seed = (uint64_t)luaL_optinteger(L, 3, 1);
  double lo = luaL_optnumber(L, 4, 0.0), hi = luaL_optnumber(L, 5, 1.0);
  if (!(hi > lo)) luaL_error(L, "random: need lo < hi, got [%g, %g)", lo, hi);
  eng_array *a = new_array(L, t, n);
  eng_array_fill_random(a, seed, lo, hi);
  return 1;
}

/* engine.array.from(dtype, {values}) */
static int arr_from(lua_State *L) {
  eng_dtype t = check_dtype(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  long n = (long)luaL_len(L, 2);
  eng_array *a = new_array(L, t, n);
  for (long i = 0; i < n; i++) {
    lua_geti(L, 2, i + 1);
    if (!lua_isnumber(L, -1)) luaL_error(L, "from: element %ld is not a number", i + 1);
    eng_array_set(a, i, lua_tonumber(L, -1));
    lua_pop(L, 1);
  }
  return 1;
}

static long check_index(lua_State *L, eng_array *a, int idx) {
  lua_Integer i = luaL_checkinteger(L, idx);
  if (i < 1 || i > eng_array_len(a))
    luaL_error(L, "index %d out of range 1..%d", (int)i, (int)eng_array_len(a));
  return (long)i - 1;
}

static int arr_index(lua_State *L) {
  eng_array *a = check_array(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    double v = eng_array_get(a, check_index(L, a, 2));
    if (eng_array_dtype(a) == ENG_I64) lua_pushinteger(L, (lua_Integer)v);
    else lua_pushnumber(L, v);
    return 1;
  }
  luaL_getmetafield(L, 1, "__methods");
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int arr_newindex(lua_State *L) {
  eng_array *a = check_array(L, 1);
  long i = check_index(L, a, 2);
  if (eng_array_is_sealed(a))
    luaL_error(L, "array is read-only: it was given to a submission as const input");
  eng_array_set(a, i, luaL_checknumber(L, 3));
  return 0;
}

static int arr_len(lua_State *L) {
  lua_pushinteger(L, eng_array_len(check_array(L, 1)));
  return 1;
}
static int arr_sum(lua_State *L) { lua_pushnumber(L, eng_array_sum(check_array(L, 1))); return 1; }
static int arr_min(lua_State *L) { lua_pushnumber(L, eng_array_min(check_array(L, 1))); return 1; }
static int arr_max(lua_State *L) { lua_pushnumber(L, eng_array_max(check_array(L, 1))); return 1; }
static int arr_dtype(lua_State *L) {
  lua_pushstring(L, eng_dtype_name(eng_array_dtype(check_array(L, 1))));
  return 1;
}
static int arr_tostring(lua_State *L) {
  eng_array *a = check_array(L, 1);
  lua_pushfstring(L, "array<%s>[%d]", eng_dtype_name(eng_array_dtype(a)), (int)eng_array_len(a));
  return 1;
}

static int arr_gc(lua_State *L) {
  lx_arr *u = luaL_checkudata(L, 1, LX_ARRAY_MT);
  eng_array_free(u->a);
  u->a = NULL;
  return 0;
}

static const luaL_Reg arr_methods[] = {
  {"sum", arr_sum}, {"min", arr_min}, {"max", arr_max},
  {"dtype", arr_dtype}, {"len", arr_len}, {NULL, NULL}};

static const luaL_Reg arr_meta[] = {
  {"__index", arr_index}, {"__newindex", arr_newindex}, {"__len", arr_len},
  {"__tostring", arr_tostring}, {"__gc", arr_gc}, {"__close", arr_gc},
  {NULL, NULL}};

static const luaL_Reg arr_funcs[] = {
  {"zeros", arr_zeros}, {"random", arr_random}, {"from", arr_from}, {NULL, NULL}};

int luaopen_parlab_array(lua_State *L) {
  luaL_newmetatable(L, LX_ARRAY_MT);
  luaL_setfuncs(L, arr_meta, 0);
  luaL_newlib(L, arr_methods);
  lua_setfield(L, -2, "__methods");
  lua_pushliteral(L, "parlab.array");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  luaL_newlib(L, arr_funcs);
  return 1;
}
