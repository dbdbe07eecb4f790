/*
 * grd_luacheck.c — `parlab __luacheck FILE`: the "compiler" of Lua
 * submissions. It only parses the file (nothing runs), in a child process
 * with the same limits as the C compiler, so a syntax error reaches the
 * student as "file:line: message" before any check starts.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grd_int.h"
#include "lx.h"

int grd_luacheck_main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "parlab __luacheck is internal: the grader runs it\n");
    return 2;
  }
  const char *file = argv[2];
  FILE *f = fopen(file, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot read the file\n", file);
    return 1;
  }
  size_t cap = 1 << 16, len = 0, n;
  char *buf = malloc(cap);
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      char *b = realloc(buf, cap *= 2);
      if (!b) { free(buf); buf = NULL; break; }
      buf = b;
    }
  }
  fclose(f);
  if (!buf) return 1;
  lua_State *L = NULL;
  if (lx_open(NULL, &L)) { free(buf); return 1; }
  const char *base = strrchr(file, '/');
  char chunk[300];
  snprintf(chunk, sizeof chunk, "@%s", base ? base + 1 : file);
  int rc = 0;
  if (luaL_loadbufferx(L, buf, len, chunk, "t") != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    rc = 1;
  }
  lx_close(L);
  free(buf);
  return rc;
}
