/*
 * lx_engine.h — what the Lua bindings of engine/ expose to C callers above
 * them (the grader marshals engine arrays to the jail).
 */
#ifndef LX_ENGINE_H
#define LX_ENGINE_H

#include <lua.h>
#include "eng_array.h"

#define LX_ARRAY_MT "parlab.array"

/* The engine array at stack index idx, or NULL if it is not one. */
eng_array *lx_toarray(lua_State *L, int idx);
/* Push a new Lua array that takes ownership of `a`. */
void lx_pusharray(lua_State *L, eng_array *a);

int luaopen_parlab_array(lua_State *L);
int luaopen_parlab_measure(lua_State *L);
int luaopen_parlab_pool(lua_State *L);
int luaopen_parlab_threads(lua_State *L); /* lx_threads.c */

#endif
