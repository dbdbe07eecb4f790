/*
 * lx_measure.c — timers and robust statistics for Lua (engine.time,
 * engine.stats) and the pool's sizes (engine.cores).
 */
#include <lauxlib.h>
#include <stdlib.h>

#include "eng_measure.h"
#include "eng_pool.h"
#include "lx_engine.h"

static int m_time(lua_State *L) { lua_pushnumber(L, eng_now()); return 1; }

/* engine.stats({samples}) -> {n, min, max, median, mean, q1, q3, spread} */
static int m_stats(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)luaL_len(L, 1);
  if (n < 1) return luaL_error(L, "stats: need at least one sample");
  double *s = malloc(sizeof *s * (size_t)n);
  if (!s) return luaL_error(L, "stats: out of memory");
  for (int i = 0; i < n; i++) {
    lua_geti(L, 1, i + 1);
    int ok = lua_isnumber(L, -1);
    s[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!ok) { free(s); return luaL_error(L, "stats: sample %d is not a number", i + 1); }
  }
  eng_stats st;
  eng_stats_compute(s, n, &st);
  free(s);
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, st.n); lua_setfield(L, -2, "n");
#define F(k) lua_pushnumber(L, st.k); lua_setfield(L, -2, #k)
  F(min); F(max); F(median); F(mean); F(q1); F(q3); F(spread);
#undef F
  return 1;
}

static const luaL_Reg measure_funcs[] = {{"time", m_time}, {"stats", m_stats}, {NULL, NULL}};

int luaopen_parlab_measure(lua_State *L) {
  luaL_newlib(L, measure_funcs);
  return 1;
}

static int p_cores(lua_State *L) { lua_pushinteger(L, eng_cores()); return 1; }
static int p_threads(lua_State *L) { lua_pushinteger(L, eng_default_threads()); return 1; }

static const luaL_Reg pool_funcs[] = {{"cores", p_cores}, {"default_threads", p_threads}, {NULL, NULL}};

int luaopen_parlab_pool(lua_State *L) {
  luaL_newlib(L, pool_funcs);
  return 1;
}
