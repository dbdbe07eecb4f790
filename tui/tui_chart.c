/*
 * tui_chart.c — the chart widget of tui_chart.h: ranges and ticks, a dot
 * raster (braille 2 x 4 per cell, or 1 x 1 in ASCII), then a grid of code
 * points turned into UTF-8 lines. No curses.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_chart.h"

#define MAX_TICKS 64

typedef struct series {
  char *name;
  double *x, *y;
  int n;
  tui_chart_style style;
  char marker;
} series;

typedef struct note {
  double x, y;
  char *text;
} note;

struct tui_chart {
  int w, h;
  unsigned flags;
  char *title, *xlabel, *ylabel;
  int xfix, yfix;
  double fxlo, fxhi, fylo, fyhi; /* fixed ranges */
  series s[TUI_CHART_MAX_SERIES];
  int ns;
  note *notes;
  int nnotes, capnotes;
  /* state of the last render */
  double xlo, xhi, ylo, yhi;
  int rendered;
  signed char *owner; /* h * w */
};

/* Per-series dot characters in ASCII mode. */
static const char ascii_dots[] = "*+ox#@%&=~";

/* ---- small helpers ---- */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int set_str(char **dst, const char *s) {
  if (!s) return 0;
  char *d = strdup(s);
  if (!d) return PL_ENOMEM;
  free(*dst);
  *dst = d;
  return 0;
}

int tui_chart_new(int width, int height, unsigned flags, tui_chart **out) {
  if (!out) return PL_EINVAL;
  *out = NULL;
  const unsigned known = TUI_CHART_LOGX | TUI_CHART_LOGY | TUI_CHART_ASCII | TUI_CHART_NO_LEGEND;
  if (width < 20 || height < 6 || width > 1000 || height > 1000 || (flags & ~known))
    return PL_EINVAL;
  tui_chart *c = calloc(1, sizeof *c);
  if (!c) return PL_ENOMEM;
  c->w = width;
  c->h = height;
  c->flags = flags;
  *out = c;
  return 0;
}

void tui_chart_free(tui_chart *c) {
  if (!c) return;
  for (int i = 0; i < c->ns; i++) {
    free(c->s[i].name);
    free(c->s[i].x);
    free(c->s[i].y);
  }
  for (int i = 0; i < c->nnotes; i++) free(c->notes[i].text);
  free(c->notes);
  free(c->title);
  free(c->xlabel);
  free(c->ylabel);
  free(c->owner);
  free(c);
}

int tui_chart_labels(tui_chart *c, const char *title, const char *xlabel, const char *ylabel) {
  if (!c) return PL_EINVAL;
  int rc = set_str(&c->title, title);
  if (!rc) rc = set_str(&c->xlabel, xlabel);
  if (!rc) rc = set_str(&c->ylabel, ylabel);
  return rc;
}

static int range_ok(double lo, double hi, int log) {
  return isfinite(lo) && isfinite(hi) && lo < hi && (!log || lo > 0);
}

int tui_chart_xrange(tui_chart *c, double lo, double hi) {
  if (!c || !range_ok(lo, hi, c->flags & TUI_CHART_LOGX)) return PL_EINVAL;
  c->xfix = 1, c->fxlo = lo, c->fxhi = hi;
  return 0;
}

int tui_chart_yrange(tui_chart *c, double lo, double hi) {
  if (!c || !range_ok(lo, hi, c->flags & TUI_CHART_LOGY)) return PL_EINVAL;
  c->yfix = 1, c->fylo = lo, c->fyhi = hi;
  return 0;
}

int tui_chart_add(tui_chart *c, const char *name, const double *x, const double *y, int n,
                  tui_chart_style style, char marker) {
  if (!c || !x || !y || n < 1 || c->ns >= TUI_CHART_MAX_SERIES) return PL_EINVAL;
  if (style != TUI_CHART_LINE && style != TUI_CHART_DASHED && style != TUI_CHART_POINTS)
    return PL_EINVAL;
  if (marker && (marker < 0x21 || marker > 0x7e)) return PL_EINVAL;
  series *s = &c->s[c->ns];
  memset(s, 0, sizeof *s);
  s->x = malloc(sizeof *s->x * (size_t)n);
  s->y = malloc(sizeof *s->y * (size_t)n);
  s->name = dup_or_null(name);
  if (!s->x || !s->y || (name && !s->name)) {
    free(s->x), free(s->y), free(s->name);
    memset(s, 0, sizeof *s);
    return PL_ENOMEM;
  }
  memcpy(s->x, x, sizeof *x * (size_t)n);
  memcpy(s->y, y, sizeof *y * (size_t)n);
  s->n = n;
  s->style = style;
  s->marker = marker;
  return c->ns++;
}

int tui_chart_note(tui_chart *c, double x, double y, const char *text) {
  if (!c || !text) return PL_EINVAL;
  if (c->nnotes == c->capnotes) {
    int cap = c->capnotes ? c->capnotes * 2 : 8;
    note *nn = realloc(c->notes, sizeof *nn * (size_t)cap);
    if (!nn) return PL_ENOMEM;
    c->notes = nn;
    c->capnotes = cap;
  }
  char *t = strdup(text);
  if (!t) return PL_ENOMEM;
  c->notes[c->nnotes++] = (note){x, y, t};
  return 0;
}

/* ---- ranges and ticks ---- */

static int drawable(double v, int log) { return isfinite(v) && (!log || v > 0); }

static double nice_step(double raw) {
  if (!(raw > 0)) return 1;
  double e = pow(10, floor(log10(raw)));
  double f = raw / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

/* Widen [lo, hi] (data extent; lo may equal hi) to round values. */
static void auto_range(double *lo, double *hi, int log, int target) {
  if (log) {
    double a = floor(log10(*lo) + 1e-9), b = ceil(log10(*hi) - 1e-9);
    if (b <= a) b = a + 1;
    *lo = pow(10, a), *hi = pow(10, b);
    return;
  }
  if (*lo == *hi) {
    double d = *lo == 0 ? 1 : fabs(*lo) * 0.5;
    *lo -= d, *hi += d;
  }
  double step = nice_step((*hi - *lo) / (target > 1 ? target : 1));
  *lo = floor(*lo / step + 1e-9) * step;
  *hi = ceil(*hi / step - 1e-9) * step;
}

static int linear_ticks(double lo, double hi, int target, double *t) {
  double step = nice_step((hi - lo) / (target > 1 ? target : 1));
  long a = (long)ceil(lo / step - 1e-9), b = (long)floor(hi / step + 1e-9);
  int n = 0;
  for (long i = a; i <= b && n < MAX_TICKS; i++) {
    double v = (double)i * step;
    t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
  }
  return n;
}

/* Decades; with room, also 2 and 5 times them; a range inside one decade
 * gets linear ticks. */
static int log_ticks(double lo, double hi, int target, double *t) {
  if (target < 2) target = 2;
  int a = (int)ceil(log10(lo) - 1e-9), b = (int)floor(log10(hi) + 1e-9);
  int nd = b - a + 1;
  if (nd < 2) return linear_ticks(lo, hi, target, t);
  int n = 0;
  if (nd * 3 <= target) {
    for (int d = a - 1; d <= b && n < MAX_TICKS; d++)
      for (int m = 0; m < 3 && n < MAX_TICKS; m++) {
        double v = (m == 0 ? 1 : m == 1 ? 2 : 5) * pow(10, d);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t[n++] = v;
      }
    return n;
  }
  int every = (nd + target - 1) / target;
  for (int d = a; d <= b && n < MAX_TICKS; d += every) t[n++] = pow(10, d);
  return n;
}

static void fmt_tick(char *buf, size_t sz, double v) {
  double a = fabs(v);
  if (v == 0) snprintf(buf, sz, "0");
  else if (a >= 1e5 || a < 1e-3) {
    snprintf(buf, sz, "%.0e", v);
    /* "1e+06" -> "1e6", "1e-04" -> "1e-4" */
    char *e = strchr(buf, 'e');
    if (e) {
      char *p = e + 1, *q = e + 1;
      if (*p == '+') p++;
      if (*p == '-') *q++ = *p++;
      while (*p == '0' && p[1]) p++;
      memmove(q, p, strlen(p) + 1);
    }
  } else if (v == floor(v)) snprintf(buf, sz, "%.0f", v);
  else snprintf(buf, sz, "%.3g", v);
}

/* ---- UTF-8 and the text grid ---- */

/* The chart keeps its own small UTF-8 codec so it depends on nothing
 * else in the TUI. Invalid bytes decode as U+FFFD, controls as spaces. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i) {
  unsigned char b = s[*i];
  int n = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : -1;
  (*i)++;
  if (n == 0) return b;
  if (n < 0 || *i + (size_t)n > len) return 0xfffd;
  uint32_t cp = (uint32_t)(b & (0x3f >> n));
  for (int k = 0; k < n; k++) {
    if ((s[*i + (size_t)k] & 0xc0) != 0x80) return 0xfffd;
    cp = (cp << 6) | (s[*i + (size_t)k] & 0x3f);
  }
  *i += (size_t)n;
  return cp;
}

static int utf8_put(uint32_t c, char *out) {
  if (c < 0x80) { out[0] = (char)c; return 1; }
  if (c < 0x800) { out[0] = (char)(0xc0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3f)); return 2; }
  if (c < 0x10000) {
    out[0] = (char)(0xe0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[2] = (char)(0x80 | (c & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
  out[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

/* Code points of s, up to max; returns how many. */
static int decode(const char *s, uint32_t *out, int max) {
  size_t len = strlen(s), i = 0;
  int n = 0;
  while (i < len && n < max) {
    uint32_t ch = utf8_next((const unsigned char *)s, len, &i);
    out[n++] = ch < 0x20 ? ' ' : ch;
  }
  return n;
}

typedef struct text_grid {
  int w, h;
  uint32_t *ch;
  signed char *own;
} text_grid;

static void put_text(text_grid *g, int row, int col, const char *s, int maxcol) {
  if (!s || row < 0 || row >= g->h) return;
  uint32_t buf[1024];
  int n = decode(s, buf, 1024);
  if (maxcol > g->w) maxcol = g->w;
  for (int i = 0; i < n; i++) {
    int x = col + i;
    if (x < 0) continue;
    if (x >= maxcol) break;
    g->ch[row * g->w + x] = buf[i];
    g->own[row * g->w + x] = -1;
  }
}

static int text_width(const char *s) {
  uint32_t buf[1024];
  return s ? decode(s, buf, 1024) : 0;
}

/* ---- the dot raster ---- */

typedef struct raster {
  int cols, rows; /* cells */
  int sx, sy;     /* dots per cell: 2 x 4 braille, 1 x 1 ASCII */
  int pw, ph;     /* dots */
  uint8_t *bits;  /* braille bits, or ASCII character, per cell */
  char *mark;     /* marker per cell, 0 none */
  signed char *own;
  int ascii;
  double tx0, tx1, ty0, ty1; /* transformed ranges */
  int logx, logy;
} raster;

static double tf(double v, int log) { return log ? log10(v) : v; }

static double to_px(const raster *r, double x) {
  return (tf(x, r->logx) - r->tx0) / (r->tx1 - r->tx0) * (r->pw - 1);
}

static double to_py(const raster *r, double y) {
  return (1 - (tf(y, r->logy) - r->ty0) / (r->ty1 - r->ty0)) * (r->ph - 1);
}

static void set_dot(raster *r, long px, long py, int sidx) {
  if (px < 0 || py < 0 || px >= r->pw || py >= r->ph) return;
  int cx = (int)(px / r->sx), cy = (int)(py / r->sy);
  int k = cy * r->cols + cx;
  if (r->ascii) {
    r->bits[k] = (uint8_t)ascii_dots[sidx % (int)(sizeof ascii_dots - 1)];
  } else {
    /* Braille dot numbering: left column 1,2,3,7; right column 4,5,6,8. */
    static const uint8_t bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
    r->bits[k] |= bit[py % 4][px % 2];
  }
  r->own[k] = (signed char)sidx;
}

/* Liang-Barsky: clip the segment to the dot area; 0 when nothing is left. */
static int clip(const raster *r, double *x0, double *y0, double *x1, double *y1) {
  double lo_x = -0.5, hi_x = r->pw - 0.5, lo_y = -0.5, hi_y = r->ph - 0.5;
  double dx = *x1 - *x0, dy = *y1 - *y0, t0 = 0, t1 = 1;
  double p[4] = {-dx, dx, -dy, dy};
  double q[4] = {*x0 - lo_x, hi_x - *x0, *y0 - lo_y, hi_y - *y0};
  for (int i = 0; i < 4; i++) {
    if (p[i] == 0) {
      if (q[i] < 0) return 0;
      continue;
    }
    double t = q[i] / p[i];
    if (p[i] < 0) { if (t > t1) return 0; if (t > t0) t0 = t; }
    else { if (t < t0) return 0; if (t < t1) t1 = t; }
  }
  double ax = *x0 + t0 * dx, ay = *y0 + t0 * dy;
  *x1 = *x0 + t1 * dx, *y1 = *y0 + t1 * dy;
  *x0 = ax, *y0 = ay;
  return 1;
}

/* *phase counts dots along the whole series so dashes continue across
 * points. */
static void draw_segment(raster *r, double x0, double y0, double x1, double y1, int sidx,
                         int dashed, long *phase) {
  if (!clip(r, &x0, &y0, &x1, &y1)) return;
  double dx = x1 - x0, dy = y1 - y0;
  long steps = (long)ceil(fmax(fabs(dx), fabs(dy)));
  int period = r->ascii ? 4 : 6;
  long lastx = LONG_MIN, lasty = LONG_MIN;
  for (long i = 0; i <= steps; i++) {
    double t = steps ? (double)i / (double)steps : 0;
    long px = lround(x0 + t * dx), py = lround(y0 + t * dy);
    if (px == lastx && py == lasty) continue;
    lastx = px, lasty = py;
    if (!dashed || (*phase % period) < period / 2) set_dot(r, px, py, sidx);
    (*phase)++;
  }
}

static void draw_series(raster *r, const series *s, int sidx) {
  long phase = 0;
  int have_prev = 0;
  double ppx = 0, ppy = 0;
  for (int i = 0; i < s->n; i++) {
    if (!drawable(s->x[i], r->logx) || !drawable(s->y[i], r->logy)) {
      have_prev = 0;
      continue;
    }
    double px = to_px(r, s->x[i]), py = to_py(r, s->y[i]);
    if (s->style == TUI_CHART_POINTS) set_dot(r, lround(px), lround(py), sidx);
    else if (have_prev) draw_segment(r, ppx, ppy, px, py, sidx, s->style == TUI_CHART_DASHED, &phase);
    else if (s->n == 1) set_dot(r, lround(px), lround(py), sidx);
    ppx = px, ppy = py, have_prev = 1;
  }
}

/* Markers go on top of every series' dots, so they are drawn last. */
static void draw_markers(raster *r, const series *s, int sidx) {
  if (!s->marker) return;
  for (int i = 0; i < s->n; i++) {
    if (!drawable(s->x[i], r->logx) || !drawable(s->y[i], r->logy)) continue;
    long px = lround(to_px(r, s->x[i])), py = lround(to_py(r, s->y[i]));
    if (px < 0 || py < 0 || px >= r->pw || py >= r->ph) continue;
    int k = (int)(py / r->sy) * r->cols + (int)(px / r->sx);
    r->mark[k] = s->marker;
    r->own[k] = (signed char)sidx;
  }
}

/* ---- render ---- */

static int data_extent(const tui_chart *c, int axis, double *lo, double *hi) {
  int logx = c->flags & TUI_CHART_LOGX, logy = c->flags & TUI_CHART_LOGY, any = 0;
  for (int i = 0; i < c->ns; i++)
    for (int j = 0; j < c->s[i].n; j++) {
      double x = c->s[i].x[j], y = c->s[i].y[j];
      if (!drawable(x, logx) || !drawable(y, logy)) continue;
      double v = axis ? y : x;
      if (!any || v < *lo) *lo = v;
      if (!any || v > *hi) *hi = v;
      any = 1;
    }
  return any;
}

void tui_chart_lines_free(char **lines, int n) {
  if (!lines) return;
  for (int i = 0; i < n; i++) free(lines[i]);
  free(lines);
}

int tui_chart_owner(const tui_chart *c, int row, int col) {
  if (!c || !c->rendered || !c->owner || row < 0 || col < 0 || row >= c->h || col >= c->w)
    return -1;
  return c->owner[row * c->w + col];
}

void tui_chart_ranges(const tui_chart *c, double *xlo, double *xhi, double *ylo, double *yhi) {
  if (xlo) *xlo = c ? c->xlo : 0;
  if (xhi) *xhi = c ? c->xhi : 0;
  if (ylo) *ylo = c ? c->ylo : 0;
  if (yhi) *yhi = c ? c->yhi : 0;
}

static char *encode_line(const uint32_t *ch, int w) {
  int end = w;
  while (end > 0 && ch[end - 1] == ' ') end--;
  char *s = malloc((size_t)end * 4 + 1), *p = s;
  if (!s) return NULL;
  for (int i = 0; i < end; i++) p += utf8_put(ch[i], p);
  *p = '\0';
  return s;
}

int tui_chart_render(tui_chart *c, char ***lines_out, int *n_out) {
  if (!c || !lines_out || !n_out) return PL_EINVAL;
  *lines_out = NULL;
  *n_out = 0;
  int rc = 0, ascii = !!(c->flags & TUI_CHART_ASCII);
  int logx = !!(c->flags & TUI_CHART_LOGX), logy = !!(c->flags & TUI_CHART_LOGY);
  text_grid g = {c->w, c->h, NULL, NULL};
  raster r = {0};
  char **lines = NULL;

  /* Rows: shed the legend, then the x label, the y label and the title
   * until the plot keeps at least two rows. */
  int nlegend = 0;
  if (!(c->flags & TUI_CHART_NO_LEGEND))
    for (int i = 0; i < c->ns; i++) nlegend += c->s[i].name != NULL;
  int has_title = c->title != NULL, has_yl = c->ylabel != NULL, has_xl = c->xlabel != NULL;
  int prows;
  for (;;) {
    prows = c->h - has_title - has_yl - 2 - has_xl - nlegend;
    if (prows >= 2) break;
    if (nlegend) nlegend = 0;
    else if (has_xl) has_xl = 0;
    else if (has_yl) has_yl = 0;
    else has_title = 0;
  }

  /* Ranges. */
  double xlo = 0, xhi = 0, ylo = 0, yhi = 0;
  int hx = c->xfix, hy = c->yfix;
  if (hx) xlo = c->fxlo, xhi = c->fxhi;
  if (hy) ylo = c->fylo, yhi = c->fyhi;
  if (!hx || !hy) {
    double a, b;
    if (!hx && data_extent(c, 0, &a, &b)) xlo = a, xhi = b, hx = 2;
    if (!hy && data_extent(c, 1, &a, &b)) ylo = a, yhi = b, hy = 2;
  }
  if (!hx || !hy) return PL_EINVAL;
  int ytarget = prows / 3 + 1;
  if (hy == 2) auto_range(&ylo, &yhi, logy, ytarget);

  /* Y ticks decide the left margin, which decides the plot width. */
  double yt[MAX_TICKS], xt[MAX_TICKS];
  int nyt = logy ? log_ticks(ylo, yhi, ytarget, yt) : linear_ticks(ylo, yhi, ytarget, yt);
  char lab[32];
  int labw = 1;
  for (int i = 0; i < nyt; i++) {
    fmt_tick(lab, sizeof lab, yt[i]);
    int w = (int)strlen(lab);
    if (w > labw) labw = w;
  }
  if (labw > c->w / 3) labw = c->w / 3;
  int pcols = c->w - labw - 1, x0col = labw + 1;
  int xtarget = pcols / 10 + 1;
  if (hx == 2) auto_range(&xlo, &xhi, logx, xtarget);
  int nxt = logx ? log_ticks(xlo, xhi, xtarget, xt) : linear_ticks(xlo, xhi, xtarget, xt);
  c->xlo = xlo, c->xhi = xhi, c->ylo = ylo, c->yhi = yhi;

  r.cols = pcols, r.rows = prows, r.ascii = ascii;
  r.sx = ascii ? 1 : 2, r.sy = ascii ? 1 : 4;
  r.pw = pcols * r.sx, r.ph = prows * r.sy;
  r.logx = logx, r.logy = logy;
  r.tx0 = tf(xlo, logx), r.tx1 = tf(xhi, logx), r.ty0 = tf(ylo, logy), r.ty1 = tf(yhi, logy);
  size_t ncells = (size_t)pcols * (size_t)prows, gcells = (size_t)c->w * (size_t)c->h;
  r.bits = calloc(ncells, 1);
  r.mark = calloc(ncells, 1);
  r.own = malloc(ncells);
  g.ch = malloc(sizeof *g.ch * gcells);
  g.own = malloc(gcells);
  lines = calloc((size_t)c->h, sizeof *lines);
  if (!r.bits || !r.mark || !r.own || !g.ch || !g.own || !lines) {
    rc = PL_ENOMEM;
    goto done;
  }
  memset(r.own, -1, ncells);
  memset(g.own, -1, gcells);
  for (size_t i = 0; i < gcells; i++) g.ch[i] = ' ';

  for (int i = 0; i < c->ns; i++) draw_series(&r, &c->s[i], i);
  for (int i = 0; i < c->ns; i++) draw_markers(&r, &c->s[i], i);

  int row = 0;
  if (has_title) {
    int tw = text_width(c->title);
    put_text(&g, row++, tw < c->w ? (c->w - tw) / 2 : 0, c->title, c->w);
  }
  if (has_yl) put_text(&g, row++, 0, c->ylabel, c->w);
  int top = row;

  /* Plot cells and the y axis. */
  for (int y = 0; y < prows; y++) {
    uint32_t *line = g.ch + (size_t)(top + y) * (size_t)c->w;
    signed char *own = g.own + (size_t)(top + y) * (size_t)c->w;
    line[labw] = ascii ? '|' : 0x2502;
    for (int x = 0; x < pcols; x++) {
      int k = y * pcols + x;
      uint32_t ch = ' ';
      if (r.mark[k]) ch = (uint8_t)r.mark[k];
      else if (r.bits[k]) ch = ascii ? r.bits[k] : 0x2800u + r.bits[k];
      line[x0col + x] = ch;
      own[x0col + x] = r.own[k];
    }
  }
  for (int i = 0; i < nyt; i++) {
    long py = lround(to_py(&r, yt[i]));
    if (py < 0 || py >= r.ph) continue;
    int y = top + (int)(py / r.sy);
    g.ch[y * c->w + labw] = ascii ? '+' : 0x2524;
    fmt_tick(lab, sizeof lab, yt[i]);
    int w = (int)strlen(lab);
    put_text(&g, y, labw - w, lab, labw);
  }

  /* X axis, tick marks and labels. */
  int axis = top + prows;
  g.ch[axis * c->w + labw] = ascii ? '+' : 0x2514;
  for (int x = 0; x < pcols; x++) g.ch[axis * c->w + x0col + x] = ascii ? '-' : 0x2500;
  int next_free = 0;
  for (int i = 0; i < nxt; i++) {
    long px = lround(to_px(&r, xt[i]));
    if (px < 0 || px >= r.pw) continue;
    int col = x0col + (int)(px / r.sx);
    g.ch[axis * c->w + col] = ascii ? '+' : 0x252c;
    fmt_tick(lab, sizeof lab, xt[i]);
    int w = (int)strlen(lab), start = col - w / 2;
    if (start < 0) start = 0;
    if (start + w > c->w) start = c->w - w;
    if (start < next_free) continue;
    put_text(&g, axis + 1, start, lab, c->w);
    next_free = start + w + 1;
  }
  row = axis + 2;
  if (has_xl) {
    int tw = text_width(c->xlabel);
    int start = x0col + (pcols - tw) / 2;
    if (start < 0 || tw >= pcols) start = tw < c->w ? c->w - tw : 0;
    put_text(&g, row++, start, c->xlabel, c->w);
  }

  /* Notes, clipped at the plot's right edge. */
  for (int i = 0; i < c->nnotes; i++) {
    const note *nt = &c->notes[i];
    if (!drawable(nt->x, logx) || !drawable(nt->y, logy)) continue;
    long px = lround(to_px(&r, nt->x)), py = lround(to_py(&r, nt->y));
    if (px < 0 || py < 0 || px >= r.pw || py >= r.ph) continue;
    put_text(&g, top + (int)(py / r.sy), x0col + (int)(px / r.sx), nt->text, c->w);
  }

  /* Legend: a three-cell sample owned by the series, then the name. */
  for (int i = 0; i < c->ns && nlegend; i++) {
    const series *s = &c->s[i];
    if (!s->name) continue;
    uint32_t samp[3];
    uint32_t dot = ascii ? (uint32_t)ascii_dots[i % (int)(sizeof ascii_dots - 1)] : 0x2022;
    if (s->style == TUI_CHART_LINE) {
      uint32_t h = ascii ? (uint32_t)ascii_dots[i % (int)(sizeof ascii_dots - 1)] : 0x2500;
      samp[0] = samp[1] = samp[2] = h;
    } else if (s->style == TUI_CHART_DASHED) {
      samp[0] = samp[2] = ascii ? '-' : 0x254c;
      samp[1] = ascii ? ' ' : 0x254c;
    } else {
      samp[0] = samp[2] = ' ';
      samp[1] = dot;
    }
    if (s->marker) samp[1] = (uint8_t)s->marker;
    int y = row++;
    if (y >= c->h) break;
    for (int k = 0; k < 3 && x0col + k < c->w; k++) {
      g.ch[y * c->w + x0col + k] = samp[k];
      g.own[y * c->w + x0col + k] = (signed char)i;
    }
    put_text(&g, y, x0col + 4, s->name, c->w);
  }

  for (int y = 0; y < c->h; y++) {
    lines[y] = encode_line(g.ch + (size_t)y * (size_t)c->w, c->w);
    if (!lines[y]) {
      rc = PL_ENOMEM;
      goto done;
    }
  }
  free(c->owner);
  c->owner = g.own;
  g.own = NULL;
  c->rendered = 1;
  *lines_out = lines;
  *n_out = c->h;
  lines = NULL;

done:
  tui_chart_lines_free(lines, c->h);
  free(r.bits);
  free(r.mark);
  free(r.own);
  free(g.ch);
  free(g.own);
  return rc;
}
