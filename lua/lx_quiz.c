/*
 * lx_quiz.c — load content/quizzes/<id>.lua (lua/lib/quiz.lua builds and
 * validates the table) into lx_quiz, and judge answers.
 */
#include "lx_quiz.h"

#include <ctype.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lx.h"
#include "lx_int.h"
#include "pl_err.h"

static const lx_limits quiz_limits = {.mem_bytes = (size_t)32 << 20, .seconds = 5.0};

char *lx_quiz_path(const char *root, const char *lecture) {
  return lx_strdup_printf("%s/content/quizzes/%s.lua", root ? root : ".", lecture);
}

static char *field_str(lua_State *L, int idx, const char *key) {
  lua_getfield(L, idx, key);
  char *s = lua_type(L, -1) == LUA_TSTRING ? strdup(lua_tostring(L, -1)) : NULL;
  lua_pop(L, 1);
  return s;
}

/* A list of strings at t[key]; *n = 0 and no allocation when absent. */
static int field_list(lua_State *L, int idx, const char *key, char ***out, int *n) {
  *out = NULL;
  *n = 0;
  lua_getfield(L, idx, key);
  int rc = 0;
  if (lua_istable(L, -1)) {
    int len = (int)luaL_len(L, -1);
    *out = calloc((size_t)(len > 0 ? len : 1), sizeof **out);
    if (!*out) rc = PL_ENOMEM;
    for (int i = 1; rc == 0 && i <= len; i++) {
      lua_geti(L, -1, i);
      const char *s = lua_tostring(L, -1);
      if (!s || !((*out)[(*n)++] = strdup(s))) rc = PL_ENOMEM;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return rc;
}

int lx_quiz_load(const char *path, lx_quiz **out, char **err) {
  *out = NULL;
  *err = NULL;
  if (access(path, F_OK) != 0) {
    *err = lx_strdup_printf("%s: no such quiz file", path);
    return PL_ENOTFOUND;
  }
  lua_State *L = NULL;
  int rc = PL_ENOMEM;
  lx_quiz *qz = calloc(1, sizeof *qz);
  if (!qz || !(qz->path = strdup(path))) goto done;
  if ((rc = lx_open(&quiz_limits, &L))) goto done;
  if ((rc = lx_dofile(L, path, 1, err))) goto done;
  int ok = lua_istable(L, -1);
  if (ok) {
    lua_getfield(L, -1, "kind");
    ok = lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "quiz");
    lua_pop(L, 1);
  }
  if (!ok) {
    rc = PL_EINVAL;
    *err = lx_strdup_printf("%s: must return quiz { question \"q1\" { ... }, ... }", path);
    goto done;
  }
  lua_getfield(L, -1, "questions");
  int n = (int)luaL_len(L, -1);
  qz->q = calloc((size_t)(n > 0 ? n : 1), sizeof *qz->q);
  rc = PL_ENOMEM;
  if (!qz->q) goto done;
  for (int i = 1; i <= n; i++) {
    lua_geti(L, -1, i);
    int t = lua_gettop(L);
    lx_question *q = &qz->q[qz->n++];
    char *kind = field_str(L, t, "kind");
    q->kind = kind && !strcmp(kind, "choice")    ? LX_Q_CHOICE
              : kind && !strcmp(kind, "numeric") ? LX_Q_NUMERIC
                                                 : LX_Q_EXACT;
    free(kind);
    q->id = field_str(L, t, "id");
    q->text = field_str(L, t, "text");
    q->explain = field_str(L, t, "explain");
    if (!q->id || !q->text || !q->explain) goto done;
    lua_getfield(L, t, "line");
    q->line = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    switch (q->kind) {
    case LX_Q_CHOICE:
      if (field_list(L, t, "choices", &q->choices, &q->nchoices)) goto done;
      lua_getfield(L, t, "answer");
      q->answer = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
      break;
    case LX_Q_NUMERIC:
      lua_getfield(L, t, "answer");
      q->value = lua_tonumber(L, -1);
      lua_getfield(L, t, "tolerance");
      q->tolerance = lua_tonumber(L, -1);
      lua_pop(L, 2);
      break;
    case LX_Q_EXACT:
      if (field_list(L, t, "answers", &q->accept, &q->naccept)) goto done;
      break;
    }
    lua_pop(L, 1);
  }
  rc = 0;
done:
  lx_close(L);
  if (rc) lx_quiz_free(qz);
  else *out = qz;
  return rc;
}

static void free_list(char **l, int n) {
  for (int i = 0; i < n; i++) free(l[i]);
  free(l);
}

void lx_quiz_free(lx_quiz *qz) {
  if (!qz) return;
  for (int i = 0; i < qz->n; i++) {
    lx_question *q = &qz->q[i];
    free(q->id);
    free(q->text);
    free(q->explain);
    free_list(q->choices, q->nchoices);
    free_list(q->accept, q->naccept);
  }
  free(qz->q);
  free(qz->path);
  free(qz);
}

/* ---------------------------------------------------------------- judging */

/* Lower-case ASCII, blanks trimmed and runs of blanks made one space. */
static char *normalise(const char *s) {
  char *o = malloc(strlen(s) + 1);
  if (!o) return NULL;
  size_t n = 0;
  int blank = 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (isspace(c)) {
      blank = 1;
      continue;
    }
    if (blank && n > 0) o[n++] = ' ';
    blank = 0;
    o[n++] = (char)tolower(c);
  }
  o[n] = 0;
  return o;
}

/* A number as typed: "1.9", "-3e2", "1/2"; *pct set when it ended in '%'.
 * Returns 0, or PL_EINVAL when the text is not a number. */
static int parse_number(const char *s, double *v, int *pct) {
  char *end;
  *pct = 0;
  while (isspace((unsigned char)*s)) s++;
  double a = strtod(s, &end);
  if (end == s) return PL_EINVAL;
  while (isspace((unsigned char)*end)) end++;
  if (*end == '/') {
    const char *d = end + 1;
    double b = strtod(d, &end);
    if (end == d || b == 0) return PL_EINVAL;
    a /= b;
    while (isspace((unsigned char)*end)) end++;
  } else if (*end == '%') {
    *pct = 1;
    end++;
    while (isspace((unsigned char)*end)) end++;
  }
  if (*end || !isfinite(a)) return PL_EINVAL;
  *v = a;
  return 0;
}

/* Tolerance 0 still forgives the last bits of a decimal fraction. */
static int close_enough(double got, double want, double tol) {
  double eps = 1e-9 * fmax(1.0, fabs(want));
  return fabs(got - want) <= tol + eps;
}

int lx_quiz_check(const lx_question *q, const char *answer) {
  if (!q || !answer) return PL_EINVAL;
  switch (q->kind) {
  case LX_Q_CHOICE: {
    const char *s = answer;
    while (isspace((unsigned char)*s)) s++;
    long k = 0;
    if (isdigit((unsigned char)*s)) {
      char *end;
      k = strtol(s, &end, 10);
      s = end;
    } else if (isalpha((unsigned char)*s)) {
      k = tolower((unsigned char)*s) - 'a' + 1;
      s++;
    }
    while (isspace((unsigned char)*s) || *s == '.' || *s == ')') s++;
    if (*s || k < 1 || k > q->nchoices) return PL_EINVAL;
    return k == q->answer;
  }
  case LX_Q_NUMERIC: {
    double v;
    int pct;
    if (parse_number(answer, &v, &pct)) return PL_EINVAL;
    /* "5%" answers both "0.05" and "5 (in percent)" questions */
    if (pct) return close_enough(v / 100.0, q->value, q->tolerance) ||
                    close_enough(v, q->value, q->tolerance);
    return close_enough(v, q->value, q->tolerance);
  }
  case LX_Q_EXACT: {
    char *a = normalise(answer);
    if (!a) return PL_ENOMEM;
    int right = 0;
    if (!*a) {
      free(a);
      return PL_EINVAL;
    }
    for (int i = 0; i < q->naccept && !right; i++) {
      char *b = normalise(q->accept[i]);
      right = b && !strcmp(a, b);
      free(b);
    }
    free(a);
    return right;
  }
  }
  return PL_EINVAL;
}

char *lx_quiz_answer_text(const lx_question *q) {
  switch (q->kind) {
  case LX_Q_CHOICE:
    if (q->answer >= 1 && q->answer <= q->nchoices)
      return lx_strdup_printf("%d. %s", q->answer, q->choices[q->answer - 1]);
    return strdup("?");
  case LX_Q_NUMERIC:
    if (q->tolerance > 0) {
      /* as many decimals as the tolerance asks for: 3.08, not 3.07692 */
      int dec = (int)ceil(-log10(q->tolerance) - 1e-9);
      if (dec < 0) dec = 0;
      if (dec > 9) dec = 9;
      return lx_strdup_printf("%.*f (within %g)", dec, q->value, q->tolerance);
    }
    return lx_strdup_printf("%.10g", q->value);
  case LX_Q_EXACT:
    return strdup(q->naccept > 0 ? q->accept[0] : "?");
  }
  return NULL;
}
