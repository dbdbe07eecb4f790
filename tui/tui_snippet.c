/*
 * tui_snippet.c — run a lecture's Lua code block (the notebook idea).
 *
 * Each run gets a fresh sandboxed state from lx_open(): the same library
 * whitelist as labs, `engine` included, a short deadline and a memory cap,
 * so a snippet can neither reach the file system nor hang the TUI for long.
 * print() goes through the registry hook "parlab.print" (lua/lx.c) into a
 * capped buffer. No curses.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lx.h"
#include "pl_err.h"
#include "tui_int.h"

#define SNIPPET_MEM ((size_t)32 << 20)
#define SNIPPET_OUT_MAX 16384

typedef struct snip_buf {
  char *s;
  size_t n, cap;
  int cut; /* output beyond SNIPPET_OUT_MAX was dropped */
  int oom;
} snip_buf;

/* capped: output printed by the snippet, which may be endless */
static void buf_add(snip_buf *b, const char *s, size_t len, int capped) {
  if (b->oom) return;
  if (capped && b->n + len > SNIPPET_OUT_MAX) {
    len = b->n < SNIPPET_OUT_MAX ? SNIPPET_OUT_MAX - b->n : 0;
    b->cut = 1;
  }
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + len + 1) cap *= 2;
    char *ns = realloc(b->s, cap);
    if (!ns) {
      b->oom = 1;
      return;
    }
    b->s = ns;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, len);
  b->n += len;
  b->s[b->n] = 0;
}

/* parlab.print(line): lx.c's print() has already joined its arguments. */
static int snip_print(lua_State *L) {
  snip_buf *b = lua_touserdata(L, lua_upvalueindex(1));
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  buf_add(b, s, len, 1);
  buf_add(b, "\n", 1, 1);
  return 0;
}

int tui__snippet_run(const char *code, const char *chunk, int first_line,
                     double seconds, char **out, int *failed) {
  *out = NULL;
  *failed = 0;
  snip_buf b = {0};
  lua_State *L = NULL;
  char *src = NULL, *err = NULL, *name = NULL;
  int rc = PL_ENOMEM;
  lx_limits lim = {.mem_bytes = SNIPPET_MEM, .seconds = seconds};
  int pad = first_line > 1 ? first_line - 1 : 0;
  size_t len = strlen(code);
  if (!(src = malloc(len + (size_t)pad + 1))) goto done;
  memset(src, '\n', (size_t)pad);
  memcpy(src + pad, code, len + 1);
  size_t nl = strlen(chunk ? chunk : "snippet") + 2;
  if (!(name = malloc(nl))) goto done;
  snprintf(name, nl, "@%s", chunk ? chunk : "snippet");

  rc = lx_open(&lim, &L);
  if (rc == PL_ENOMEM) goto done;
  if (rc != 0) {
    *failed = 1;
    buf_add(&b, "cannot start Lua: ", 18, 0);
    buf_add(&b, pl_strerror(rc), strlen(pl_strerror(rc)), 0);
    rc = 0;
    goto done;
  }
  lua_pushlightuserdata(L, &b);
  lua_pushcclosure(L, snip_print, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "parlab.print");
  if (lx_dostring(L, src, name, 0, &err) != 0) {
    *failed = 1;
    if (b.n > 0 && b.s[b.n - 1] != '\n') buf_add(&b, "\n", 1, 0);
    const char *e = err ? err : "error (no message)";
    buf_add(&b, e, strlen(e), 0);
  }
  rc = 0;
done:
  lx_close(L);
  free(err);
  free(src);
  free(name);
  if (rc == 0 && b.oom) rc = PL_ENOMEM;
  if (rc == 0) {
    if (b.cut) buf_add(&b, "\n[output cut at 16 KiB]", 23, 0);
    /* drop the final newline: lines are drawn, not printed */
    while (b.n > 0 && b.s[b.n - 1] == '\n') b.s[--b.n] = 0;
    *out = b.s ? b.s : strdup("");
    if (!*out) rc = PL_ENOMEM;
  } else {
    free(b.s);
  }
  return rc;
}
