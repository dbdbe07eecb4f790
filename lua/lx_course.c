/*
 * lx_course.c — load content/course.lua and labs/<id>/lab.lua into plain C
 * structs (lx_course.h). Each load uses its own short-lived sandboxed
 * state with a time and memory limit: manifests are code.
 */
#include "lx_course.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lx.h"
#include "lx_int.h"
#include "pl_err.h"

static const lx_limits load_limits = {.mem_bytes = (size_t)64 << 20, .seconds = 5.0};

static char *field_str(lua_State *L, int idx, const char *key) {
  lua_getfield(L, idx, key);
  char *s = lua_type(L, -1) == LUA_TSTRING ? strdup(lua_tostring(L, -1)) : NULL;
  lua_pop(L, 1);
  return s;
}

/* Title of a Markdown file: its first "# " heading, else the id. */
static char *md_title(const char *path, const char *fallback) {
  FILE *f = fopen(path, "r");
  if (!f) return strdup(fallback);
  char line[512];
  char *title = NULL;
  while (!title && fgets(line, sizeof line, f)) {
    if (line[0] == '#' && line[1] == ' ') {
      line[strcspn(line, "\r\n")] = 0;
      title = strdup(line + 2);
    }
  }
  fclose(f);
  return title ? title : strdup(fallback);
}

static int lab_title(lua_State *L, const char *dir, char **title, int *needs_gpu, char **err);

int lx_course_load(const char *root, lx_course **out, char **err) {
  *out = NULL;
  *err = NULL;
  lua_State *L = NULL;
  lx_course *c = calloc(1, sizeof *c);
  char *path = NULL;
  int rc = PL_ENOMEM;
  if (!c) return PL_ENOMEM;
  if (!(c->root = strdup(root))) goto done;
  if (asprintf(&path, "%s/content/course.lua", root) < 0) { path = NULL; goto done; }
  if ((rc = lx_open(&load_limits, &L))) goto done;
  if ((rc = lx_dofile(L, path, 1, err))) goto done;
  if (!lua_istable(L, -1)) {
    rc = PL_EINVAL;
    if (asprintf(err, "%s: must return course { ... }", path) < 0) *err = NULL;
    goto done;
  }
  int t = lua_gettop(L);
  c->title = field_str(L, t, "title");
  lua_getfield(L, t, "modules");
  int nm = (int)luaL_len(L, -1);
  c->modules = calloc((size_t)(nm > 0 ? nm : 1), sizeof *c->modules);
  if (!c->modules) { rc = PL_ENOMEM; goto done; }
  for (int m = 1; m <= nm; m++) {
    lua_geti(L, -1, m);
    int mi = lua_gettop(L);
    lx_module *mod = &c->modules[c->nmodules++];
    mod->id = field_str(L, mi, "id");
    mod->title = field_str(L, mi, "title");
    lua_getfield(L, mi, "items");
    int ni = (int)luaL_len(L, -1);
    mod->items = calloc((size_t)(ni > 0 ? ni : 1), sizeof *mod->items);
    if (!mod->items) { rc = PL_ENOMEM; goto done; }
    for (int i = 1; i <= ni; i++) {
      lua_geti(L, -1, i);
      char *kind = field_str(L, lua_gettop(L), "kind");
      lx_item *it = &mod->items[mod->nitems++];
      it->id = field_str(L, lua_gettop(L), "id");
      lua_pop(L, 1);
      int is_lab = kind && !strcmp(kind, "lab");
      free(kind);
      it->kind = is_lab ? LX_ITEM_LAB : LX_ITEM_LECTURE;
      int n = is_lab ? asprintf(&it->path, "%s/labs/%s", root, it->id)
                     : asprintf(&it->path, "%s/content/lectures/%s.md", root, it->id);
      if (n < 0) { it->path = NULL; rc = PL_ENOMEM; goto done; }
      if (is_lab) {
        if ((rc = lab_title(L, it->path, &it->title, &it->needs_gpu, err))) goto done;
      } else {
        if (access(it->path, R_OK)) {
          rc = PL_ENOTFOUND;
          if (asprintf(err, "%s: module %s lists lecture \"%s\", but %s does not exist", path,
                       mod->id, it->id, it->path) < 0)
            *err = NULL;
          goto done;
        }
        it->title = md_title(it->path, it->id);
      }
    }
    lua_pop(L, 2);
  }
  rc = 0;
done:
  lx_close(L);
  free(path);
  if (rc) lx_course_free(c);
  else *out = c;
  return rc;
}

void lx_course_free(lx_course *c) {
  if (!c) return;
  for (int m = 0; m < c->nmodules; m++) {
    lx_module *mod = &c->modules[m];
    for (int i = 0; i < mod->nitems; i++) {
      free(mod->items[i].id);
      free(mod->items[i].title);
      free(mod->items[i].path);
    }
    free(mod->items);
    free(mod->id);
    free(mod->title);
  }
  free(c->modules);
  free(c->title);
  free(c->root);
  free(c);
}

const lx_item *lx_course_find(const lx_course *c, const char *id, int kind) {
  size_t n = strlen(id);
  const lx_item *prefix = NULL;
  for (int m = 0; m < c->nmodules; m++)
    for (int i = 0; i < c->modules[m].nitems; i++) {
      const lx_item *it = &c->modules[m].items[i];
      if (kind >= 0 && (int)it->kind != kind) continue;
      if (!strcmp(it->id, id)) return it;
      if (!prefix && !strncmp(it->id, id, n) && it->id[n] == '-') prefix = it;
    }
  return prefix;
}

/* ---------------------------------------------------------------- labs */

static int str_list(lua_State *L, int idx, const char *key, char ***out, int *n) {
  *out = NULL;
  *n = 0;
  lua_getfield(L, idx, key);
  if (!lua_istable(L, -1)) { lua_pop(L, 1); return 0; }
  int len = (int)luaL_len(L, -1);
  *out = calloc((size_t)(len > 0 ? len : 1), sizeof **out);
  if (!*out) { lua_pop(L, 1); return PL_ENOMEM; }
  for (int i = 1; i <= len; i++) {
    lua_geti(L, -1, i);
    (*out)[(*n)++] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

static int need_file(const char *labpath, const char *file, char **err) {
  if (file && access(file, R_OK) == 0) return 0;
  if (asprintf(err, "%s: the lab needs %s, which does not exist", labpath, file ? file : "(?)") < 0)
    *err = NULL;
  return PL_ENOTFOUND;
}

/* Load a lab's metadata in `shared` (the course's state, so a course with
 * many labs opens one Lua state, not one per lab), or in a state of its
 * own when shared is NULL. */
static int lab_load_in(lua_State *shared, const char *dir, lx_lab **out, char **err) {
  *out = NULL;
  *err = NULL;
  lua_State *L = shared;
  int top0 = shared ? lua_gettop(shared) : 0;
  char *path = NULL;
  int rc = PL_ENOMEM;
  lx_lab *lab = calloc(1, sizeof *lab);
  if (!lab) return PL_ENOMEM;
  if (!(lab->dir = strdup(dir))) goto done;
  if (asprintf(&path, "%s/lab.lua", dir) < 0) { path = NULL; goto done; }
  if (!L && (rc = lx_open(&load_limits, &L))) goto done;
  if ((rc = lx_dofile(L, path, 1, err))) goto done;
  int ok = lua_istable(L, -1);
  if (ok) {
    lua_getfield(L, -1, "kind");
    ok = lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "labdef");
    lua_pop(L, 1);
  }
  if (!ok) {
    rc = PL_EINVAL;
    if (asprintf(err, "%s: must return lab { ... }", path) < 0) *err = NULL;
    goto done;
  }
  int t = lua_gettop(L);
  lab->id = field_str(L, t, "id");
  lab->title = field_str(L, t, "title");
  lab->lecture = field_str(L, t, "lecture");
  lua_getfield(L, t, "submission");
  int s = lua_gettop(L);
  lab->sub_file = field_str(L, s, "file");
  lab->lang = field_str(L, s, "lang");
  if ((rc = str_list(L, s, "cflags", &lab->cflags, &lab->ncflags))) goto done;
  if ((rc = str_list(L, s, "ldflags", &lab->ldflags, &lab->nldflags))) goto done;
  if ((rc = str_list(L, s, "support", &lab->support, &lab->nsupport))) goto done;
  for (int i = 0; i < lab->nsupport; i++) {
    char *full = NULL;
    if (asprintf(&full, "%s/%s", dir, lab->support[i]) < 0) { rc = PL_ENOMEM; goto done; }
    free(lab->support[i]);
    lab->support[i] = full;
  }
  lua_pop(L, 1);
  if ((rc = str_list(L, t, "hints", &lab->hints, &lab->nhints))) goto done;

  /* Exports in a stable (sorted) order. */
  lua_getfield(L, t, "exports");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lx_export *e = realloc(lab->exports, sizeof *e * (size_t)(lab->nexports + 1));
    if (!e) { rc = PL_ENOMEM; goto done; }
    lab->exports = e;
    e[lab->nexports].name = strdup(lua_tostring(L, -2));
    e[lab->nexports].sig = strdup(lua_tostring(L, -1));
    lab->nexports++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  for (int i = 1; i < lab->nexports; i++)
    for (int k = i; k > 0 && strcmp(lab->exports[k - 1].name, lab->exports[k].name) > 0; k--) {
      lx_export tmp = lab->exports[k];
      lab->exports[k] = lab->exports[k - 1];
      lab->exports[k - 1] = tmp;
    }

  lua_getfield(L, t, "checks");
  int n = (int)luaL_len(L, -1);
  lab->checks = calloc((size_t)n, sizeof *lab->checks);
  if (!lab->checks) { rc = PL_ENOMEM; goto done; }
  for (int i = 1; i <= n; i++) {
    lua_geti(L, -1, i);
    int ci = lua_gettop(L);
    lx_check_info *c = &lab->checks[lab->nchecks++];
    c->name = field_str(L, ci, "name");
    lua_getfield(L, ci, "points"); c->points = lua_tonumber(L, -1); lua_pop(L, 1);
    lua_getfield(L, ci, "hidden"); c->hidden = lua_toboolean(L, -1); lua_pop(L, 1);
    lua_getfield(L, ci, "timed"); c->timed = lua_toboolean(L, -1); lua_pop(L, 1);
    lua_getfield(L, ci, "gpu"); c->gpu = lua_toboolean(L, -1); lua_pop(L, 1);
    if (c->gpu) lab->needs_gpu = 1;
    lua_getfield(L, ci, "timeout"); c->timeout_s = lua_tonumber(L, -1); lua_pop(L, 1);
    lab->max_score += c->points;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  if (lab->lang && !strcmp(lab->lang, "cuda")) lab->needs_gpu = 1;
  /* Files: brief.md, starter.<ext>, solution.<ext>, optional baseline. */
  const char *ext = strrchr(lab->sub_file, '.');
  ext = ext ? ext : "";
  char *base = field_str(L, t, "baseline");
  if (asprintf(&lab->brief, "%s/brief.md", dir) < 0 ||
      asprintf(&lab->starter, "%s/starter%s", dir, ext) < 0 ||
      asprintf(&lab->solution, "%s/solution%s", dir, ext) < 0 ||
      (base && asprintf(&lab->baseline, "%s/%s", dir, base) < 0)) {
    free(base);
    rc = PL_ENOMEM;
    goto done;
  }
  free(base);
  if ((rc = need_file(path, lab->brief, err)) || (rc = need_file(path, lab->starter, err)) ||
      (rc = need_file(path, lab->solution, err)) ||
      (lab->baseline && (rc = need_file(path, lab->baseline, err))))
    goto done;
  for (int i = 0; i < lab->nsupport; i++)
    if ((rc = need_file(path, lab->support[i], err))) goto done;
  rc = 0;
done:
  if (shared) lua_settop(shared, top0);
  else lx_close(L);
  free(path);
  if (rc) lx_lab_free(lab);
  else *out = lab;
  return rc;
}

int lx_lab_load(const char *dir, lx_lab **out, char **err) { return lab_load_in(NULL, dir, out, err); }

static int lab_title(lua_State *L, const char *dir, char **title, int *needs_gpu, char **err) {
  lx_lab *lab = NULL;
  int rc = lab_load_in(L, dir, &lab, err);
  if (rc) return rc;
  *title = strdup(lab->title);
  *needs_gpu = lab->needs_gpu;
  lx_lab_free(lab);
  return *title ? 0 : PL_ENOMEM;
}

static void free_list(char **l, int n) {
  for (int i = 0; i < n; i++) free(l[i]);
  free(l);
}

void lx_lab_free(lx_lab *lab) {
  if (!lab) return;
  free(lab->id); free(lab->title); free(lab->lecture); free(lab->dir);
  free(lab->brief); free(lab->sub_file); free(lab->lang);
  free(lab->starter); free(lab->solution); free(lab->baseline);
  free_list(lab->cflags, lab->ncflags);
  free_list(lab->ldflags, lab->nldflags);
  free_list(lab->support, lab->nsupport);
  free_list(lab->hints, lab->nhints);
  for (int i = 0; i < lab->nexports; i++) { free(lab->exports[i].name); free(lab->exports[i].sig); }
  free(lab->exports);
  for (int i = 0; i < lab->nchecks; i++) free(lab->checks[i].name);
  free(lab->checks);
  free(lab);
}
