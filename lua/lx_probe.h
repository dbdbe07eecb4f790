/*
 * lx_probe.h — where engine.machine() gets the machine probe from.
 *
 * The probe is cached in the gradebook, which lives above lua/ (grader/),
 * so the layer that owns the gradebook registers a provider at start-up
 * (the CLI does, in main). Without a provider, engine.machine() measures
 * once per process (eng_probe_run) and keeps the result in memory.
 *
 * Thread-safety: set the provider before any Lua state runs; the cached
 * in-process probe is guarded by a mutex.
 */
#ifndef LX_PROBE_H
#define LX_PROBE_H

#include <lua.h>

#include "eng_probe.h"

/* Fill *out (cached or measured); 0 or a negative PL_E* code. */
typedef int (*lx_probe_provider)(void *ud, eng_probe *out);

void lx_probe_set_provider(lx_probe_provider fn, void *ud);

/* Push a probe as the Lua table engine.machine() returns. */
void lx_probe_push(lua_State *L, const eng_probe *p);

int luaopen_parlab_probe(lua_State *L);
int luaopen_parlab_simd(lua_State *L);
int luaopen_parlab_blas(lua_State *L);

#endif
