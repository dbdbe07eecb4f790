/*
 * tui_fit.c — fit Amdahl's law to measured run times, and the lab screen's
 * speedup chart (drawn by tui_chart.h) with the ideal line, the fit and
 * the serial fraction it implies. No curses.
 *
 * T(p) = T1 (s + (1 - s)/p) = a + b/p with a = T1 s and b = T1 (1 - s): a
 * straight line in 1/p, so ordinary least squares gives a and b, then
 * T1 = a + b and s = a / T1. Timing noise can push a or b below zero; s is
 * clamped to [0, 1] and the fit redone for the clamped value, so the curve
 * drawn is always a possible Amdahl curve.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_chart.h"
#include "tui_int.h"

int tui__amdahl_fit(const double *p, const double *t, int n, double *s,
                    double *t1) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int m = 0;
  double xmin = INFINITY, xmax = -INFINITY;
  for (int k = 0; k < n; k++) {
    if (!(p[k] >= 1) || !(t[k] > 0) || !isfinite(t[k])) continue;
    double x = 1.0 / p[k];
    sx += x;
    sy += t[k];
    sxx += x * x;
    sxy += x * t[k];
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
    m++;
  }
  if (m < 2 || xmax - xmin < 1e-12) return PL_EINVAL;
  double den = m * sxx - sx * sx;
  double b = (m * sxy - sx * sy) / den;
  double a = (sy - b * sx) / m;
  double T1 = a + b, frac;
  if (b <= 0) {
    /* no gain from threads at all: everything behaves as serial */
    frac = 1;
    T1 = sy / m;
  } else if (a <= 0) {
    /* better than linear within the noise: nothing serial */
    frac = 0;
    T1 = sxy / sxx; /* least squares of t = T1 x */
  } else {
    frac = a / T1;
  }
  *s = frac;
  *t1 = T1;
  return 0;
}

/* ---- the speedup chart ---- */

#define CHART_H 16
#define CHART_MAX_W 76
#define FIT_SAMPLES 64

/* One rendered chart line into the doc, each cell coloured by the series
 * that drew it. */
static void chart_line(tui_doc *d, const tui_chart *c, int row, const char *s,
                       const uint16_t *role) {
  tui_line *l = tui__doc_add(d, 0);
  if (!l) return;
  size_t len = strlen(s), i = 0;
  int col = 0;
  while (i < len) {
    wchar_t ch = tui__utf8_next(s, len, &i);
    int own = tui_chart_owner(c, row, col);
    tui__rich_putc(&l->t, ch, own >= 0 && own < 3 ? role[own] : TUI_C_MUTED);
    col += tui__wcwidth(ch);
  }
}

int tui__speedup_chart(tui_doc *d, int width, int ascii, const double *threads,
                       const double *times, int n, double baseline_s) {
  if (n < 1) return PL_EINVAL;
  double pmax = 1;
  for (int k = 0; k < n; k++)
    if (threads[k] > pmax) pmax = threads[k];
  double s = 0, t1 = 0;
  int fit = tui__amdahl_fit(threads, times, n, &s, &t1) == 0;
  /* the reference the speedups are measured against */
  double ref = baseline_s > 0 ? baseline_s : 0;
  if (!(ref > 0)) {
    for (int k = 0; k < n; k++)
      if (threads[k] == 1) ref = times[k];
    if (!(ref > 0) && fit) ref = t1;
  }
  if (!(ref > 0)) return PL_EINVAL;
  double sp[8], ymax = pmax;
  int m = n < 8 ? n : 8;
  for (int k = 0; k < m; k++) {
    sp[k] = times[k] > 0 ? ref / times[k] : 0;
    if (sp[k] > ymax) ymax = sp[k];
  }
  double fx[FIT_SAMPLES], fy[FIT_SAMPLES];
  if (fit)
    for (int k = 0; k < FIT_SAMPLES; k++) {
      fx[k] = 1 + (pmax - 1) * k / (FIT_SAMPLES - 1);
      fy[k] = ref / (t1 * (s + (1 - s) / fx[k]));
    }
  double ix[2] = {1, pmax}, iy[2] = {1, pmax};

  int w = width < CHART_MAX_W ? width : CHART_MAX_W;
  tui_chart *c = NULL;
  char **lines = NULL;
  int nl = 0;
  int rc = tui_chart_new(w < 20 ? 20 : w, CHART_H, ascii ? TUI_CHART_ASCII : 0,
                         &c);
  if (rc) return rc;
  tui_chart_labels(c, NULL, "threads",
                   baseline_s > 0 ? "speedup over the serial baseline"
                                  : "speedup over 1 thread");
  tui_chart_xrange(c, pmax > 1 ? 1 : 0.5, pmax > 1 ? pmax : 1.5);
  tui_chart_yrange(c, 0, ymax * 1.1);
  /* series 0, 1, 2: measured, ideal, fit (their colours below) */
  int ok = tui_chart_add(c, "measured", threads, sp, m, TUI_CHART_POINTS, 'o') >= 0;
  ok = ok && tui_chart_add(c, "ideal (speedup = threads)", ix, iy, 2,
                           TUI_CHART_DASHED, 0) >= 0;
  char fitname[96];
  snprintf(fitname, sizeof fitname, "Amdahl fit, s = %.3f", s);
  if (ok && fit)
    ok = tui_chart_add(c, fitname, fx, fy, FIT_SAMPLES, TUI_CHART_LINE, 0) >= 0;
  rc = ok ? tui_chart_render(c, &lines, &nl) : PL_ENOMEM;
  if (rc == 0) {
    static const uint16_t role[3] = {TUI_C_ACCENT | TUI_A_BOLD, TUI_C_MUTED,
                                     TUI_C_OK};
    for (int k = 0; k < nl; k++) chart_line(d, c, k, lines[k], role);
    tui_chart_lines_free(lines, nl);
    tui_rich r = {0};
    if (fit) {
      tui__rich_printf(&r, TUI_A_BOLD,
                       "Serial fraction (Amdahl fit): s = %.3f (%.1f%%)", s,
                       100 * s);
      if (s > 0)
        tui__rich_printf(&r, TUI_C_MUTED, ", so at most %.1fx on any "
                         "number of cores", 1 / s);
    } else {
      tui__rich_puts(&r, "One thread count measured: no Amdahl fit",
                     (size_t)-1, TUI_C_MUTED);
    }
    tui__wrap(d, &r, width, NULL, NULL, 0);
    tui__rich_free(&r);
  }
  tui_chart_free(c);
  return rc;
}
