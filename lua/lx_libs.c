/*
 * lx_libs.c — wiring: the native `engine` modules and the embedded Lua
 * libraries (the lua/lib files, compiled into the binary by cmake/embed.cmake).
 */
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lx.h"
#include "lx_engine.h"
#include "lx_int.h"
#include "lx_probe.h"
#include "pl_err.h"

typedef struct { const char *name; const char *src; size_t len; } lx_embedded_file;
extern const lx_embedded_file lx_embedded[];

int luaopen_parlab_gpu(lua_State *L); /* lx_gpu.c: engine.gpu */
int luaopen_parlab_procs(lua_State *L); /* lx_procs.c: engine.procs */

/* Native modules, stored in the registry as parlab.native.<name> for the
 * Lua libraries to assemble the friendly `engine` table. */
static const luaL_Reg lx_native[] = {
  {"array", luaopen_parlab_array},
  {"measure", luaopen_parlab_measure},
  {"pool", luaopen_parlab_pool},
  {"threads", luaopen_parlab_threads},
  {"simd", luaopen_parlab_simd},
  {"blas", luaopen_parlab_blas},
  {"probe", luaopen_parlab_probe},
  {"gpu", luaopen_parlab_gpu},
  {"procs", luaopen_parlab_procs},
  {NULL, NULL}};

int lx__open_engine(lua_State *L) {
  lua_newtable(L);
  for (const luaL_Reg *m = lx_native; m->func; m++) {
    lua_pushcfunction(L, m->func);
    lua_call(L, 0, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, "parlab.native");
  return 0;
}

/* Order matters: engine first, then the lab API that uses it. */
static const char *const lx_lib_order[] = {"engine", "threads", "procs", "machine", "gpu", "lab", "quiz", NULL};

static const lx_embedded_file *find_lib(const char *name) {
  for (const lx_embedded_file *f = lx_embedded; f->name; f++)
    if (!strcmp(f->name, name)) return f;
  return NULL;
}

int lx__open_libs(lua_State *L) {
  for (int i = 0; lx_lib_order[i]; i++) {
    const lx_embedded_file *f = find_lib(lx_lib_order[i]);
    if (!f) {
      fprintf(stderr, "parlab: internal error: embedded library %s missing\n", lx_lib_order[i]);
      return PL_ELUA;
    }
    char chunk[64];
    snprintf(chunk, sizeof chunk, "=parlab.%s", f->name);
    char *err = NULL;
    if (luaL_loadbufferx(L, f->src, f->len, chunk, "t") != LUA_OK) {
      fprintf(stderr, "parlab: internal error: %s\n", lua_tostring(L, -1));
      lua_pop(L, 1);
      return PL_ELUA;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "parlab.native");
    if (lx_pcall(L, 1, 0, &err)) {
      fprintf(stderr, "parlab: internal error: %s\n", err);
      free(err);
      return PL_ELUA;
    }
  }
  return 0;
}

int lx__read_file(const char *path, char **text, size_t *len) {
  *text = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return PL_EIO;
  int rc = PL_EIO;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END)) goto done;
  long n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET)) goto done;
  buf = malloc((size_t)n + 1);
  if (!buf) { rc = PL_ENOMEM; goto done; }
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) goto done;
  buf[n] = 0;
  *text = buf;
  if (len) *len = (size_t)n;
  buf = NULL;
  rc = 0;
done:
  free(buf);
  fclose(f);
  return rc;
}

char *lx_strdup_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}
