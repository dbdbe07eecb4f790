/*
 * lx.c — sandboxed Lua states: library whitelist, memory cap, deadline.
 *
 * The memory cap is soft then hard: past the soft cap the allocator still
 * succeeds but flags the state, and the count hook raises a normal error at
 * the next instruction batch — so the message carries file and line. Only
 * past the hard cap (soft + 25%) does an allocation fail outright.
 */
#include "lx.h"
#include "lx_int.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_measure.h"
#include "pl_err.h"

#define LX_HOOK_COUNT 1000

typedef struct lx_ud {
  size_t used, soft, hard;
  int over;           /* soft cap passed; the hook raises the error */
  double deadline;    /* eng_now() seconds; 0: none */
  double limit_s;     /* for the message */
} lx_ud;

static void *lx_alloc(void *ud_, void *ptr, size_t osize, size_t nsize) {
  lx_ud *ud = ud_;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    ud->used -= old;
    return NULL;
  }
  if (nsize > old && ud->used - old + nsize > ud->hard) return NULL;
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  ud->used = ud->used - old + nsize;
  if (ud->used > ud->soft) ud->over = 1;
  return p;
}

static lx_ud *lx_getud(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return ud;
}

/* Raise msg at the line the hook interrupted (ar describes the running
 * function; luaL_where cannot see it from inside a hook). */
static void lx_hook_error(lua_State *L, lua_Debug *ar, const char *msg) {
  if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
    lua_pushfstring(L, "%s:%d: %s", ar->short_src, ar->currentline, msg);
  else
    lua_pushstring(L, msg);
  lua_error(L);
}

static void lx_hook(lua_State *L, lua_Debug *ar) {
  lx_ud *ud = lx_getud(L);
  char msg[64];
  if (ud->over) {
    ud->over = 0;
    lua_gc(L, LUA_GCCOLLECT);
    if (ud->used > ud->soft) {
      snprintf(msg, sizeof msg, "memory limit of %d MiB exceeded", (int)(ud->soft >> 20));
      lx_hook_error(L, ar, msg);
    }
  }
  if (ud->deadline > 0 && eng_now() > ud->deadline) {
    /* From now on the hook fires at every instruction, so code that
     * catches the error with pcall is stopped at its next step outside. */
    lua_sethook(L, lx_hook, LUA_MASKCOUNT, 1);
    snprintf(msg, sizeof msg, "time limit of %.3g s exceeded", ud->limit_s);
    lx_hook_error(L, ar, msg);
  }
}

void lx_set_deadline(lua_State *L, double seconds) {
  lx_ud *ud = lx_getud(L);
  ud->limit_s = seconds;
  ud->deadline = seconds > 0 ? eng_now() + seconds : 0;
  lua_sethook(L, lx_hook, LUA_MASKCOUNT, LX_HOOK_COUNT);
}

size_t lx_mem_used(lua_State *L) { return lx_getud(L)->used; }

double lx__deadline_left(lua_State *L) {
  lx_ud *ud = lx_getud(L);
  if (ud->deadline <= 0) return 0;
  double left = ud->deadline - eng_now();
  return left > 1e-3 ? left : 1e-3;
}

/* load() that refuses binary chunks: mode is forced to "t". */
static int lx_load_text(lua_State *L) {
  lua_settop(L, 4); /* chunk, chunkname, mode (ignored), env */
  int has_env = !lua_isnone(L, 4) && !lua_isnil(L, 4);
  lua_getfield(L, LUA_REGISTRYINDEX, "parlab.rawload");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushliteral(L, "t");
  if (has_env) lua_pushvalue(L, 4);
  lua_call(L, has_env ? 4 : 3, LUA_MULTRET);
  return lua_gettop(L) - 4;
}

static int lx_print(lua_State *L) {
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_getfield(L, LUA_REGISTRYINDEX, "parlab.print");
  if (lua_isfunction(L, -1)) {
    lua_pushvalue(L, -2);
    lua_call(L, 1, 0);
  } else {
    lua_pop(L, 1);
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
  }
  return 0;
}

static const luaL_Reg lx_safe_libs[] = {
  {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
  {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
  {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
  {NULL, NULL}};

int lx_open(const lx_limits *lim, lua_State **out) {
  *out = NULL;
  lx_ud *ud = calloc(1, sizeof *ud);
  if (!ud) return PL_ENOMEM;
  ud->soft = lim && lim->mem_bytes ? lim->mem_bytes : (size_t)256 << 20;
  ud->hard = ud->soft + ud->soft / 4;
  lua_State *L = lua_newstate(lx_alloc, ud);
  if (!L) {
    free(ud);
    return PL_ENOMEM;
  }
  for (const luaL_Reg *l = lx_safe_libs; l->func; l++) {
    luaL_requiref(L, l->name, l->func, 1);
    lua_pop(L, 1);
  }
  /* Remove what reaches the file system or loads binary code. */
  static const char *const drop[] = {"dofile", "loadfile", "require", NULL};
  for (int i = 0; drop[i]; i++) {
    lua_pushnil(L);
    lua_setglobal(L, drop[i]);
  }
  lua_getglobal(L, "load");
  lua_setfield(L, LUA_REGISTRYINDEX, "parlab.rawload");
  lua_pushcfunction(L, lx_load_text);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, lx_print);
  lua_setglobal(L, "print");
  lua_sethook(L, lx_hook, LUA_MASKCOUNT, LX_HOOK_COUNT);
  if (lim && lim->seconds > 0) lx_set_deadline(L, lim->seconds);

  int rc = lx__open_engine(L);
  if (rc == 0) rc = lx__open_libs(L);
  if (rc) {
    lx_close(L);
    return rc;
  }
  *out = L;
  return 0;
}

void lx_close(lua_State *L) {
  if (!L) return;
  lx_ud *ud = lx_getud(L);
  lua_close(L);
  free(ud);
}

static int lx_msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Keep the first line of a traceback message (the "file:line: msg" part)
 * and the traceback lines that point into real files. */
static char *lx_errtext(lua_State *L, int status) {
  lx_ud *ud = lx_getud(L);
  if (status == LUA_ERRMEM)
    return lx_strdup_printf("memory limit of %d MiB exceeded (allocation refused)",
                            (int)(ud->soft >> 20));
  const char *m = lua_tostring(L, -1);
  if (!m) return lx_strdup("(no error message)");
  /* Keep the message and the traceback frames in real Lua files; frames
   * in C functions and in parlab's embedded libraries only add noise. */
  size_t cap = strlen(m) + 1, n = 0;
  char *out = malloc(cap);
  if (!out) return NULL;
  const char *line = m;
  int first = 1;
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    int keep = first || (line[0] == '\t' && line[1] != '[' && strncmp(line + 1, "parlab.", 7) &&
                         memchr(line, ':', len));
    if (!first && !strncmp(line, "stack traceback:", 16)) keep = 1;
    if (keep) {
      if (n) out[n++] = '\n';
      memcpy(out + n, line, len);
      n += len;
    }
    first = 0;
    if (!end) break;
    line = end + 1;
  }
  out[n] = 0;
  /* A traceback with at most one frame repeats the first line: drop it. */
  char *tb = strstr(out, "\nstack traceback:");
  if (tb && (!tb[17] || !strchr(tb + 18, '\n'))) *tb = 0;
  return out;
}

int lx_pcall(lua_State *L, int nargs, int nresults, char **err) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, lx_msgh);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (status != LUA_OK) {
    if (err) *err = lx_errtext(L, status);
    lua_pop(L, 1);
    return PL_ELUA;
  }
  return 0;
}

int lx_dostring(lua_State *L, const char *code, const char *chunkname,
                int nresults, char **err) {
  int status = luaL_loadbufferx(L, code, strlen(code), chunkname, "t");
  if (status != LUA_OK) {
    if (err) *err = lx_errtext(L, status);
    lua_pop(L, 1);
    return PL_ELUA;
  }
  return lx_pcall(L, 0, nresults, err);
}

int lx_dofile(lua_State *L, const char *path, int nresults, char **err) {
  char *text = NULL;
  size_t len = 0;
  if (lx__read_file(path, &text, &len)) {
    if (err) *err = lx_strdup_printf("%s: cannot read file", path);
    return PL_ENOTFOUND;
  }
  /* Let the lab API find lines that a tail call hides (lib/lab.lua). */
  lua_getglobal(L, "__parlab");
  if (lua_istable(L, -1)) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_pushlstring(L, text, len);
    lua_setfield(L, -2, "text");
    lua_setfield(L, -2, "loading");
  }
  lua_pop(L, 1);
  char *chunk = lx_strdup_printf("@%s", path);
  int status = luaL_loadbufferx(L, text, len, chunk, "t");
  free(chunk);
  free(text);
  if (status != LUA_OK) {
    if (err) *err = lx_errtext(L, status);
    lua_pop(L, 1);
    return PL_ELUA;
  }
  return lx_pcall(L, 0, nresults, err);
}

char *lx_strdup(const char *s) { return s ? strdup(s) : NULL; }
