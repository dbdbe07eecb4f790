/*
 * lx.h — the Lua host: sandboxed lua_States for labs, the course manifest
 * and (later) student Lua submissions.
 *
 * A state from lx_open() has only the base (minus dofile, loadfile,
 * require and binary chunks), string, table, math, utf8 and coroutine
 * libraries, plus `engine` and the lab API (lab, check, course, module,
 * lecture). A count hook enforces a wall-clock deadline and a custom
 * allocator a memory cap; both errors are ordinary Lua errors that name the
 * file and line that was running.
 *
 * Thread-safety: a lua_State belongs to one thread at a time; distinct
 * states are independent.
 */
#ifndef LX_H
#define LX_H

#include <stddef.h>
#include <lua.h>

typedef struct lx_limits {
  size_t mem_bytes; /* 0: 256 MiB */
  double seconds;   /* initial deadline from now; 0: none */
} lx_limits;

/* OUT: *out, caller closes with lx_close(). */
int lx_open(const lx_limits *lim, lua_State **out);
void lx_close(lua_State *L);

/* Arm (seconds > 0) or disarm (seconds <= 0) the deadline. */
void lx_set_deadline(lua_State *L, double seconds);
/* Bytes currently allocated by the state. */
size_t lx_mem_used(lua_State *L);

/* Run a Lua source file (text only); leaves nresults values on the stack.
 * OUT on failure: *err = "file:line: message", caller frees with free(). */
int lx_dofile(lua_State *L, const char *path, int nresults, char **err);
int lx_dostring(lua_State *L, const char *code, const char *chunkname,
                int nresults, char **err);

/* Call the function at the top of the stack below its nargs arguments with
 * a traceback handler; *err as for lx_dofile. */
int lx_pcall(lua_State *L, int nargs, int nresults, char **err);

/* Strings from Lua made safe for the C side (caller frees). */
char *lx_strdup(const char *s);

#endif
