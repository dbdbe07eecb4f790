/*
 * grd_result.c — results (free, JSON), submission hashes, the parlab home
 * folder and students' workspaces.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eng_roofline.h"
#include "grd.h"
#include "pl_err.h"

void grd_result_free(grd_result *r) {
  if (!r) return;
  for (int i = 0; i < r->nchecks; i++) {
    free(r->checks[i].name);
    free(r->checks[i].message);
    grd_roofline_free(r->checks[i].roofline);
  }
  free(r->checks);
  for (int i = 0; i < r->ndiagnostics; i++) free(r->diagnostics[i]);
  free(r->diagnostics);
  free(r->lab);
  free(r->submission);
  free(r->sub_hash);
  free(r);
}

double grd_check_speedup(const grd_check_result *c) {
  double ref = c->baseline_s, tmax = 0, pmax = 0;
  for (int k = 0; k < c->npoints && k < 8; k++) {
    if (!(ref > 0) && c->threads[k] == 1) ref = c->times[k];
    if (c->threads[k] > pmax) pmax = c->threads[k], tmax = c->times[k];
  }
  return ref > 0 && tmax > 0 ? ref / tmax : 0;
}

void grd_roofline_free(grd_roofline *f) {
  if (!f) return;
  for (int i = 0; i < f->nkernels; i++) free(f->kernels[i].name);
  free(f->kernels);
  free(f->title);
  free(f);
}

/* t:roofline's figure as data; the reader draws it. NaN never reaches
 * the JSON: a missing measurement or prediction is a missing key. */
static cJSON *roofline_json(const grd_roofline *f) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  eng_roof roof = {f->peak_gflops, f->bw_gbs};
  double ridge = eng_roofline_ridge(&roof);
  cJSON_AddStringToObject(o, "title", f->title ? f->title : "");
  cJSON_AddNumberToObject(o, "peak_gflops", f->peak_gflops);
  cJSON_AddNumberToObject(o, "bw_gbs", f->bw_gbs);
  if (isfinite(ridge)) cJSON_AddNumberToObject(o, "ridge", ridge);
  cJSON *ks = cJSON_AddArrayToObject(o, "kernels");
  for (int i = 0; ks && i < f->nkernels; i++) {
    const grd_roof_kernel *k = &f->kernels[i];
    cJSON *j = cJSON_CreateObject();
    if (!j) break;
    cJSON_AddStringToObject(j, "name", k->name);
    cJSON_AddNumberToObject(j, "ai", k->ai);
    double att = eng_roofline_attainable(&roof, k->ai);
    if (isfinite(att)) {
      cJSON_AddNumberToObject(j, "attainable", att);
      cJSON_AddStringToObject(j, "bound", k->ai < ridge ? "memory" : "compute");
    }
    if (isfinite(k->measured)) cJSON_AddNumberToObject(j, "measured", k->measured);
    if (isfinite(k->predicted)) cJSON_AddNumberToObject(j, "predicted", k->predicted);
    cJSON_AddItemToArray(ks, j);
  }
  return o;
}

char *grd_result_json(const grd_result *r, int show_hidden) {
  cJSON *doc = cJSON_CreateObject();
  if (!doc) return NULL;
  cJSON_AddStringToObject(doc, "lab", r->lab);
  cJSON_AddStringToObject(doc, "submission", r->submission);
  cJSON_AddStringToObject(doc, "submission_sha256", r->sub_hash ? r->sub_hash : "");
  cJSON_AddNumberToObject(doc, "score", r->score);
  cJSON_AddNumberToObject(doc, "max_score", r->max_score);
  cJSON_AddBoolToObject(doc, "compiled", r->compiled);
  cJSON_AddNumberToObject(doc, "seconds", r->seconds);
  cJSON_AddBoolToObject(doc, "weak_jail", r->weak_jail);
  cJSON *checks = cJSON_AddArrayToObject(doc, "checks");
  for (int i = 0; i < r->nchecks; i++) {
    const grd_check_result *c = &r->checks[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddBoolToObject(o, "passed", c->passed);
    cJSON_AddBoolToObject(o, "skipped", c->skipped);
    cJSON_AddNumberToObject(o, "score", c->score);
    cJSON_AddNumberToObject(o, "max_score", c->max_score);
    cJSON_AddStringToObject(o, "message", c->hidden && !show_hidden ? "" : c->message);
    cJSON_AddBoolToObject(o, "hidden", c->hidden);
    cJSON_AddNumberToObject(o, "seconds", c->seconds);
    cJSON_AddNumberToObject(o, "attempts", c->attempts);
    if (c->npoints > 0 && (!c->hidden || show_hidden)) {
      /* t:scaling's measurements: median seconds per thread count. */
      cJSON *f = cJSON_AddObjectToObject(o, "figures");
      cJSON_AddItemToObject(f, "threads", cJSON_CreateDoubleArray(c->threads, c->npoints));
      cJSON_AddItemToObject(f, "seconds", cJSON_CreateDoubleArray(c->times, c->npoints));
      cJSON_AddNumberToObject(f, "baseline_s", c->baseline_s);
      cJSON_AddNumberToObject(f, "speedup", grd_check_speedup(c));
    }
    if (c->roofline && (!c->hidden || show_hidden)) {
      cJSON *f = roofline_json(c->roofline);
      if (f) cJSON_AddItemToObject(o, "roofline", f);
    }
    cJSON_AddItemToArray(checks, o);
  }
  cJSON *diag = cJSON_AddArrayToObject(doc, "diagnostics");
  for (int i = 0; i < r->ndiagnostics; i++)
    cJSON_AddItemToArray(diag, cJSON_CreateString(r->diagnostics[i]));
  char *s = cJSON_Print(doc);
  cJSON_Delete(doc);
  return s;
}

int grd_hash_file(const char *path, char out[65]) {
  out[0] = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return PL_EIO;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int rc = PL_EIO;
  if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) goto done;
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (!EVP_DigestUpdate(md, buf, n)) goto done;
  if (ferror(f)) goto done;
  unsigned char dig[32];
  unsigned len = 0;
  if (!EVP_DigestFinal_ex(md, dig, &len) || len != 32) goto done;
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", dig[i]);
  rc = 0;
done:
  EVP_MD_CTX_free(md);
  fclose(f);
  return rc;
}

/* mkdir -p */
static int mkdirs(const char *path, mode_t mode) {
  char *p = strdup(path);
  if (!p) return PL_ENOMEM;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, mode) && errno != EEXIST) { free(p); return PL_EIO; }
    *s = '/';
  }
  int rc = mkdir(p, mode) && errno != EEXIST ? PL_EIO : 0;
  free(p);
  return rc;
}

int grd_home(const char *explicit_dir, char **out) {
  char *path = NULL;
  const char *env = getenv("PARLAB_HOME"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
  int n;
  if (explicit_dir && *explicit_dir) n = asprintf(&path, "%s", explicit_dir);
  else if (env && *env) n = asprintf(&path, "%s", env);
  else if (xdg && *xdg) n = asprintf(&path, "%s/parlab", xdg);
  else if (home && *home) n = asprintf(&path, "%s/.local/share/parlab", home);
  else return PL_EINVAL;
  if (n < 0) return PL_ENOMEM;
  if (mkdirs(path, 0700)) {
    free(path);
    return PL_EIO;
  }
  *out = path;
  return 0;
}

int grd_workspace_path(const char *home, const lx_lab *lab, char **out) {
  return asprintf(out, "%s/work/%s/%s", home, lab->id, lab->sub_file) < 0 ? PL_ENOMEM : 0;
}

int grd_workspace_start(const char *home, const lx_lab *lab, int force, char **out) {
  char *dir = NULL, *path = NULL, *tmp = NULL;
  int rc = PL_ENOMEM;
  if (asprintf(&dir, "%s/work/%s", home, lab->id) < 0) { dir = NULL; goto done; }
  if (grd_workspace_path(home, lab, &path)) goto done;
  if ((rc = mkdirs(dir, 0700))) goto done;
  if (!force && access(path, F_OK) == 0) { rc = 0; goto done; }
  /* Write a temporary file and rename it: a crash never leaves half a file. */
  if (asprintf(&tmp, "%s.tmp", path) < 0) { tmp = NULL; rc = PL_ENOMEM; goto done; }
  FILE *in = fopen(lab->starter, "rb");
  if (!in) { rc = PL_ENOTFOUND; goto done; }
  FILE *f = fopen(tmp, "wb");
  if (!f) { fclose(in); rc = PL_EIO; goto done; }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, f);
  fclose(in);
  if (fclose(f) || rename(tmp, path)) { rc = PL_EIO; goto done; }
  rc = 0;
done:
  if (rc == 0) { *out = path; path = NULL; }
  free(dir);
  free(path);
  free(tmp);
  return rc;
}
