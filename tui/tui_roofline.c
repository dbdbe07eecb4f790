/*
 * tui_roofline.c — the roofline figure of tui_roofline.h: axis ranges
 * from the roofs and the kernels, the chart through tui_chart.h, then the
 * key and the table, each display column tagged with its role.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "grd.h"
#include "pl_err.h"
#include "tui_chart.h"
#include "tui_int.h"
#include "tui_roofline.h"

/* ---- one line of text with a role per column ---- */

typedef struct lbuf {
  wchar_t cp[1024];
  signed char role[1024];
  int n, w;
} lbuf;

static void lb_put(lbuf *b, const char *s, int role) {
  size_t len = strlen(s), i = 0;
  while (i < len && b->n < b->w) {
    wchar_t c = tui__utf8_next(s, len, &i);
    b->cp[b->n] = c < 0x20 ? L' ' : c;
    b->role[b->n++] = (signed char)role;
  }
}

static void lb_printf(lbuf *b, int role, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lb_printf(lbuf *b, int role, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  lb_put(b, buf, role);
}

/* Append b to t as its next line (trailing blanks trimmed). */
static int add_line(tui_roof_text *t, const lbuf *b) {
  char **nl = realloc(t->lines, sizeof *nl * (size_t)(t->n + 1));
  if (!nl) return PL_ENOMEM;
  t->lines = nl;
  signed char *nr = realloc(t->role, (size_t)t->width * (size_t)(t->n + 1));
  if (!nr) return PL_ENOMEM;
  t->role = nr;
  int end = b->n;
  while (end > 0 && b->cp[end - 1] == L' ') end--;
  char *s = malloc((size_t)end * 4 + 1), *p = s;
  if (!s) return PL_ENOMEM;
  for (int i = 0; i < end; i++) p += tui__utf8_put(b->cp[i], p);
  *p = '\0';
  signed char *row = t->role + (size_t)t->n * (size_t)t->width;
  memset(row, TUI_ROOF_TEXT, (size_t)t->width);
  memcpy(row, b->role, (size_t)end);
  t->lines[t->n++] = s;
  return 0;
}

static int rate_ok(double v) { return isfinite(v) && v > 0; }

static void fmt_rate(char *buf, size_t n, double v) {
  if (!isfinite(v) || v < 0) snprintf(buf, n, "-");
  else if (v >= 1e6 || (v > 0 && v < 1e-3)) snprintf(buf, n, "%.2e", v);
  else snprintf(buf, n, "%.4g", v);
}

/* ---- the chart ---- */

static int chart_lines(const tui_roof_fig *f, int width, int height, int ascii, tui_roof_text *t,
                       int *has_m, int *has_p) {
  const double peak = f->peak_gflops, bw = f->bw_gbs, ridge = peak / bw;
  double xlo = ridge, xhi = ridge;
  for (int i = 0; i < f->nkernels; i++)
    if (rate_ok(f->kernels[i].ai)) {
      xlo = fmin(xlo, f->kernels[i].ai);
      xhi = fmax(xhi, f->kernels[i].ai);
    }
  /* Margins of 2x, not whole decades: the plot's rows and columns are few. */
  xlo /= 2, xhi *= 2;
  /* y: the roof over the x range and every rate, but a prediction far off
   * the roof (a student's 1e30) must not squash the chart: rates more than
   * 1000x away from it are listed, not placed. */
  double ylo = fmin(peak, xlo * bw), yhi = peak;
  for (int i = 0; i < f->nkernels; i++) {
    const tui_roof_kernel *k = &f->kernels[i];
    if (!rate_ok(k->ai)) continue;
    double roof = fmin(peak, k->ai * bw), v[2] = {k->measured, k->predicted};
    for (int j = 0; j < 2; j++)
      if (rate_ok(v[j]) && v[j] > roof * 1e-3 && v[j] < roof * 1e3) {
        ylo = fmin(ylo, v[j]);
        yhi = fmax(yhi, v[j]);
      }
  }
  ylo /= 2, yhi *= 2;

  tui_chart *c = NULL;
  char **lines = NULL;
  int nl = 0, rc;
  signed char role_of[TUI_CHART_MAX_SERIES];
  memset(role_of, TUI_ROOF_TEXT, sizeof role_of);
  rc = tui_chart_new(width, height, TUI_CHART_LOGX | TUI_CHART_LOGY | (ascii ? TUI_CHART_ASCII : 0), &c);
  if (rc) return rc;
  char title[256];
  snprintf(title, sizeof title, "Roofline: peak %.3g GFLOP/s, %s %.3g GB/s, ridge %.3g FLOP/B", peak,
           f->bw_name && *f->bw_name ? f->bw_name : "bandwidth", bw, ridge);
  if ((rc = tui_chart_labels(c, title, "arithmetic intensity (FLOP/byte)", "GFLOP/s"))) goto done;
  if ((rc = tui_chart_xrange(c, xlo, xhi)) || (rc = tui_chart_yrange(c, ylo, yhi))) goto done;
  double rx[3] = {xlo, ridge, xhi}, ry[3] = {xlo * bw, peak, peak};
  rc = tui_chart_add(c, ascii ? "roof: min(peak, intensity x bandwidth)"
                              : "roof: min(peak, intensity × bandwidth)",
                     rx, ry, 3, TUI_CHART_LINE, 0);
  if (rc < 0) goto done;
  role_of[rc] = TUI_ROOF_ROOF;
  /* Predictions first, measurements after: where both fall in one cell,
   * the measured letter is the one drawn. */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < f->nkernels; i++) {
      const tui_roof_kernel *k = &f->kernels[i];
      double v = pass ? k->measured : k->predicted;
      if (!(isfinite(v) && v >= 0)) continue;
      *(pass ? has_m : has_p) = 1;
      if (!rate_ok(k->ai) || !rate_ok(v)) continue; /* listed, not placed */
      rc = tui_chart_add(c, NULL, &k->ai, &v, 1, TUI_CHART_POINTS, (char)((pass ? 'A' : 'a') + i));
      if (rc < 0) goto done;
      role_of[rc] = pass ? TUI_ROOF_MEASURED : TUI_ROOF_PREDICTED;
    }
  if ((rc = tui_chart_render(c, &lines, &nl))) goto done;
  for (int row = 0; row < nl && !rc; row++) {
    lbuf b = {.w = width};
    size_t len = strlen(lines[row]), i = 0;
    while (i < len && b.n < b.w) {
      b.cp[b.n] = tui__utf8_next(lines[row], len, &i);
      int own = tui_chart_owner(c, row, b.n);
      b.role[b.n] = own >= 0 && own < TUI_CHART_MAX_SERIES ? role_of[own] : TUI_ROOF_TEXT;
      b.n++;
    }
    rc = add_line(t, &b);
  }
done:
  tui_chart_lines_free(lines, nl);
  tui_chart_free(c);
  return rc < 0 ? rc : 0;
}

/* ---- the table ---- */

static int table_lines(const tui_roof_fig *f, int width, int has_m, int has_p, tui_roof_text *t) {
  const double ridge = f->peak_gflops / f->bw_gbs;
  int rc = 0;
  /* The bound column goes first when the width is short. */
  int with_bound = width >= 64;
  lbuf b = {.w = width};
  lb_printf(&b, TUI_ROOF_TEXT, "%-*s%-12s %9s", has_m && has_p ? 5 : 3, "", "kernel", "FLOP/B");
  if (with_bound) lb_put(&b, "  bound  ", TUI_ROOF_TEXT);
  lb_printf(&b, TUI_ROOF_ROOF, " %9s", "roof");
  if (has_m) lb_printf(&b, TUI_ROOF_MEASURED, " %9s %-6s", "measured", "");
  if (has_p) lb_printf(&b, TUI_ROOF_PREDICTED, " %9s", "predicted");
  if ((rc = add_line(t, &b))) return rc;
  for (int i = 0; i < f->nkernels; i++) {
    const tui_roof_kernel *k = &f->kernels[i];
    lbuf r = {.w = width};
    int m = isfinite(k->measured) && k->measured >= 0;
    int p = isfinite(k->predicted) && k->predicted >= 0;
    char mk[2] = {(char)('A' + i), 0}, pk[2] = {(char)('a' + i), 0};
    if (has_m) lb_put(&r, m ? mk : " ", TUI_ROOF_MEASURED);
    if (has_m && has_p) lb_put(&r, " ", TUI_ROOF_TEXT);
    if (has_p) lb_put(&r, p ? pk : " ", TUI_ROOF_PREDICTED);
    if (!has_m && !has_p) lb_put(&r, mk, TUI_ROOF_TEXT);
    lb_put(&r, "  ", TUI_ROOF_TEXT);
    char name[64];
    snprintf(name, sizeof name, "%-12.12s", k->name ? k->name : "?");
    lb_put(&r, name, TUI_ROOF_TEXT);
    double att = rate_ok(k->ai) ? fmin(f->peak_gflops, k->ai * f->bw_gbs) : NAN;
    char num[32];
    fmt_rate(num, sizeof num, k->ai);
    lb_printf(&r, TUI_ROOF_TEXT, " %9s", num);
    if (with_bound)
      lb_printf(&r, TUI_ROOF_TEXT, "  %-7s", !rate_ok(k->ai) ? "-" : k->ai < ridge ? "memory" : "compute");
    fmt_rate(num, sizeof num, att);
    lb_printf(&r, TUI_ROOF_ROOF, " %9s", num);
    if (has_m) {
      fmt_rate(num, sizeof num, m ? k->measured : NAN);
      lb_printf(&r, TUI_ROOF_MEASURED, " %9s", num);
      if (m && rate_ok(att)) lb_printf(&r, TUI_ROOF_TEXT, " %5.0f%%", 100 * k->measured / att);
      else lb_put(&r, "       ", TUI_ROOF_TEXT);
    }
    if (has_p) {
      fmt_rate(num, sizeof num, p ? k->predicted : NAN);
      lb_printf(&r, TUI_ROOF_PREDICTED, " %9s", num);
    }
    if ((rc = add_line(t, &r))) return rc;
  }
  return 0;
}

/* ---- public ---- */

void tui_roofline_text_free(tui_roof_text *t) {
  if (!t) return;
  for (int i = 0; i < t->n; i++) free(t->lines[i]);
  free(t->lines);
  free(t->role);
  memset(t, 0, sizeof *t);
}

int tui_roofline_render(const tui_roof_fig *f, int width, int chart_h, int ascii, tui_roof_text *out) {
  if (!out) return PL_EINVAL;
  memset(out, 0, sizeof *out);
  if (!f || !rate_ok(f->peak_gflops) || !rate_ok(f->bw_gbs) || width < 40 || width > 1000 ||
      chart_h < 8 || f->nkernels < 0 || f->nkernels > TUI_ROOF_MAX_KERNELS ||
      (f->nkernels > 0 && !f->kernels))
    return PL_EINVAL;
  out->width = width;
  int rc = 0, has_m = 0, has_p = 0;
  if (f->title && *f->title) {
    lbuf b = {.w = width};
    lb_put(&b, f->title, TUI_ROOF_TEXT);
    if ((rc = add_line(out, &b))) goto done;
  }
  if ((rc = chart_lines(f, width, chart_h, ascii, out, &has_m, &has_p))) goto done;
  if (has_m || has_p) {
    lbuf b = {.w = width};
    if (has_m) {
      lb_put(&b, "A", TUI_ROOF_MEASURED);
      lb_put(&b, " measured here   ", TUI_ROOF_TEXT);
    }
    if (has_p) {
      lb_put(&b, "a", TUI_ROOF_PREDICTED);
      lb_put(&b, " predicted   ", TUI_ROOF_TEXT);
    }
    lb_put(&b, "(one letter per kernel; rates in GFLOP/s)", TUI_ROOF_TEXT);
    if ((rc = add_line(out, &b))) goto done;
  }
  if (f->nkernels > 0) rc = table_lines(f, width, has_m, has_p, out);
done:
  if (rc) tui_roofline_text_free(out);
  return rc;
}

int tui_roofline_role(const tui_roof_text *t, int line, int col) {
  if (!t || line < 0 || line >= t->n || col < 0 || col >= t->width) return TUI_ROOF_TEXT;
  return t->role[(size_t)line * (size_t)t->width + (size_t)col];
}

void tui_roofline_print(FILE *f, const tui_roof_text *t, int ansi) {
  static const char *const esc[] = {"", "\033[32m", "\033[1;36m", "\033[33m"};
  for (int i = 0; i < t->n; i++) {
    if (!ansi) {
      fprintf(f, "%s\n", t->lines[i]);
      continue;
    }
    const char *s = t->lines[i];
    size_t len = strlen(s), pos = 0;
    int cur = TUI_ROOF_TEXT;
    for (int col = 0; pos < len; col++) {
      size_t start = pos;
      tui__utf8_next(s, len, &pos);
      int r = tui_roofline_role(t, i, col);
      if (r != cur) {
        fputs("\033[0m", f);
        if (r > 0 && r < 4) fputs(esc[r], f);
        cur = r;
      }
      fwrite(s + start, 1, pos - start, f);
    }
    fputs(cur != TUI_ROOF_TEXT ? "\033[0m\n" : "\n", f);
  }
}

int tui_roofline_utf8(void) { return tui__utf8_locale(1); }

int tui_roofline_render_check(const grd_roofline *g, int width, int chart_h, int ascii,
                              tui_roof_text *out) {
  if (!g) return PL_EINVAL;
  tui_roof_kernel ks[TUI_ROOF_MAX_KERNELS];
  int n = g->nkernels < TUI_ROOF_MAX_KERNELS ? g->nkernels : TUI_ROOF_MAX_KERNELS;
  for (int i = 0; i < n; i++)
    ks[i] = (tui_roof_kernel){g->kernels[i].name, g->kernels[i].ai, g->kernels[i].measured,
                              g->kernels[i].predicted};
  tui_roof_fig fig = {g->title, g->peak_gflops, g->bw_gbs, "STREAM triad", ks, n};
  return tui_roofline_render(&fig, width, chart_h, ascii, out);
}
