/*
 * lx_int.h — internals shared by the files of the Lua host (lua/).
 */
#ifndef LX_INT_H
#define LX_INT_H

#include <stddef.h>
#include <lua.h>

/* Set up the `engine` global from the native bindings (lx_engine.c). */
int lx__open_engine(lua_State *L);
/* Run the embedded lua/lib files in order (lx_libs.c). */
int lx__open_libs(lua_State *L);
/* Read a whole file. OUT: *text (NUL-terminated), caller frees. */
int lx__read_file(const char *path, char **text, size_t *len);
/* Seconds left before L's deadline (at least 1 ms), 0 when none is armed:
 * worker states inherit it (lx_threads.c). */
double lx__deadline_left(lua_State *L);
char *lx_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
