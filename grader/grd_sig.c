/*
 * grd_sig.c — parse export signatures such as "double(const double*, long)".
 *
 * The grammar is deliberately small: scalar C types, pointers to f64/f32/
 * i64 data (engine arrays) with an optional const, and const char* strings.
 * const matters: const arrays are mapped read-only in the jail.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grd_int.h"
#include "pl_err.h"

typedef struct { const char *name; grd_type scalar, ptr; } type_word;

static const type_word words[] = {
  {"void", GRD_T_VOID, GRD_T_VOID},
  {"int", GRD_T_INT, GRD_T_VOID},
  {"unsigned", GRD_T_UINT, GRD_T_VOID},
  {"unsigned int", GRD_T_UINT, GRD_T_VOID},
  {"long", GRD_T_LONG, GRD_T_PTR_I64},
  {"long long", GRD_T_I64, GRD_T_PTR_I64},
  {"unsigned long", GRD_T_ULONG, GRD_T_VOID},
  {"size_t", GRD_T_ULONG, GRD_T_VOID},
  {"int64_t", GRD_T_I64, GRD_T_PTR_I64},
  {"float", GRD_T_FLOAT, GRD_T_PTR_F32},
  {"double", GRD_T_DOUBLE, GRD_T_PTR_F64},
  {"char", GRD_T_VOID, GRD_T_STR},
  {NULL, 0, 0}};

static char *fmt_err(const char *sig, const char *what) {
  char *s = NULL;
  if (asprintf(&s, "signature \"%s\": %s", sig, what) < 0) s = NULL;
  return s;
}

/* Normalise one type: collapse spaces, note const and '*'. */
static int parse_type(const char *sig, const char *b, const char *e, grd_type *t,
                      unsigned char *is_const, char **err) {
  char buf[64];
  size_t n = 0;
  int stars = 0, cst = 0;
  while (b < e) {
    while (b < e && isspace((unsigned char)*b)) b++;
    if (b >= e) break;
    if (*b == '*') { stars++; b++; continue; }
    const char *w = b;
    while (b < e && (isalnum((unsigned char)*b) || *b == '_')) b++;
    if (w == b) { *err = fmt_err(sig, "unexpected character"); return PL_EINVAL; }
    size_t len = (size_t)(b - w);
    if (len == 5 && !strncmp(w, "const", 5)) { cst = 1; continue; }
    if (stars) break; /* a parameter name after '*' */
    if (n + len + 2 > sizeof buf) { *err = fmt_err(sig, "type too long"); return PL_EINVAL; }
    if (n) buf[n++] = ' ';
    memcpy(buf + n, w, len);
    n += len;
  }
  buf[n] = 0;
  if (!n) { *err = fmt_err(sig, "missing a type"); return PL_EINVAL; }
  /* "long n": the last word may be a parameter name. */
  const type_word *match = NULL;
  for (int pass = 0; pass < 2 && !match; pass++) {
    for (const type_word *tw = words; tw->name; tw++)
      if (!strcmp(tw->name, buf)) { match = tw; break; }
    char *sp = strrchr(buf, ' ');
    if (!match && sp) *sp = 0; else break;
  }
  for (const type_word *tw = match; tw; tw = NULL) {
    if (stars > 1) { *err = fmt_err(sig, "pointers to pointers are not supported"); return PL_EINVAL; }
    if (stars == 1) {
      if (tw->ptr == GRD_T_VOID) {
        *err = fmt_err(sig, "only double*, float*, int64_t*/long* and const char* pointers are supported");
        return PL_EINVAL;
      }
      if (tw->ptr == GRD_T_STR && !cst) { *err = fmt_err(sig, "strings must be const char*"); return PL_EINVAL; }
      *t = tw->ptr;
    } else {
      if (!strcmp(buf, "char")) { *err = fmt_err(sig, "plain char is not supported; use int"); return PL_EINVAL; }
      *t = tw->scalar;
    }
    *is_const = (unsigned char)cst;
    return 0;
  }
  char what[128];
  snprintf(what, sizeof what, "unknown type '%s'", buf);
  *err = fmt_err(sig, what);
  return PL_EINVAL;
}

int grd__sig_parse(const char *text, grd_sig *out, char **err) {
  memset(out, 0, sizeof *out);
  *err = NULL;
  const char *open = strchr(text, '('), *close = strrchr(text, ')');
  if (!open || !close || close < open) {
    *err = fmt_err(text, "expected RETURN(ARG, ...), as in double(const double*, long)");
    return PL_EINVAL;
  }
  for (const char *p = close + 1; *p; p++)
    if (!isspace((unsigned char)*p)) { *err = fmt_err(text, "text after ')'"); return PL_EINVAL; }
  unsigned char c;
  if (parse_type(text, text, open, &out->ret, &c, err)) return PL_EINVAL;
  if (grd__type_is_ptr(out->ret)) { *err = fmt_err(text, "functions may not return pointers"); return PL_EINVAL; }
  const char *b = open + 1;
  /* "()" and "(void)" both mean no arguments. */
  const char *q = b;
  while (q < close && isspace((unsigned char)*q)) q++;
  if (q == close) return 0;
  if (!strncmp(q, "void", 4)) {
    const char *r = q + 4;
    while (r < close && isspace((unsigned char)*r)) r++;
    if (r == close) return 0;
  }
  while (b <= close) {
    const char *e = b;
    while (e < close && *e != ',') e++;
    if (out->nargs == GRD_MAX_ARGS) { *err = fmt_err(text, "more than 8 arguments"); return PL_EINVAL; }
    grd_type t;
    if (parse_type(text, b, e, &t, &c, err)) return PL_EINVAL;
    if (t == GRD_T_VOID) { *err = fmt_err(text, "an argument cannot be void"); return PL_EINVAL; }
    out->args[out->nargs] = t;
    out->is_const[out->nargs] = c;
    out->nargs++;
    b = e + 1;
  }
  return 0;
}

int grd__type_is_ptr(grd_type t) {
  return t == GRD_T_PTR_F64 || t == GRD_T_PTR_F32 || t == GRD_T_PTR_I64 || t == GRD_T_STR;
}

int grd__type_is_int(grd_type t) {
  return t == GRD_T_INT || t == GRD_T_UINT || t == GRD_T_LONG || t == GRD_T_ULONG || t == GRD_T_I64;
}

const char *grd__type_name(grd_type t) {
  switch (t) {
  case GRD_T_VOID: return "void";
  case GRD_T_INT: return "int";
  case GRD_T_UINT: return "unsigned";
  case GRD_T_LONG: return "long";
  case GRD_T_ULONG: return "unsigned long";
  case GRD_T_I64: return "int64_t";
  case GRD_T_FLOAT: return "float";
  case GRD_T_DOUBLE: return "double";
  case GRD_T_PTR_F64: return "double*";
  case GRD_T_PTR_F32: return "float*";
  case GRD_T_PTR_I64: return "int64_t*";
  case GRD_T_STR: return "const char*";
  }
  return "?";
}
