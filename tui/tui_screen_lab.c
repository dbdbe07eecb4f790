/*
 * tui_screen_lab.c — one lab: the brief (with the hints revealed so far
 * under it), the student's workspace file, and the checks.
 *
 * `e` hands the terminal to $EDITOR on the workspace copy; `r` grades that
 * file on a background thread (tui_run.c) while this screen shows live
 * progress in a lower pane, then the results table and, for performance
 * checks, a speedup chart with the Amdahl fit (and, for a check that
 * attached one, its roofline figure: tui_roofline.h); the attempt goes to the
 * database from here, on the UI thread. `w` is watch mode: the checks run
 * again whenever the file is saved, from the editor or from outside
 * (tui_watch.c). Hints are revealed one at a time and recorded, so they
 * stay revealed; the reference solution opens only after full marks; `R`
 * puts the starter back after asking. The screen refuses to be left while
 * a run is in flight, so the lab it grades stays alive.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pl_err.h"
#include "tui_int.h"
#include "tui_roofline.h"

enum { ACT_FOCUS_NEXT = TUI_ACT_SCREEN };

typedef struct tui_labscr {
  tui_screen base;
  char *id, *title, *crumb_mod;
  lx_lab *lab;
  char *err;        /* lab.lua failed to load */
  char *brief;      /* brief.md text, or an error note in Markdown */
  size_t brief_len;
  int hints;        /* hints revealed */
  char *ws;         /* workspace file path */

  tui_doc doc;      /* brief + hints */
  int laid_w, laid_hints, btop, bview;

  tui_run *run;
  tui_doc res;      /* progress, then results */
  int rtop, rview, follow;
  int focus;        /* 0: brief, 1: results */
  int recorded;     /* the finished run went to the database */
  double last_anim;

  db_lab_progress prog;
  int prog_gen, has_prog;

  tui_watch *watch; /* watch mode on */
  int pending;      /* saved while a run was in flight: run again */
  double opened;
  int res_y;        /* screen row of the results pane's rule; -1 none */
} tui_labscr;

static const tui_binding lab_keys[] = {
  {{'e', 0}, "e", "edit your file in $EDITOR (starts from the starter)",
   "e edit", TUI_ACT_EDIT},
  {{'r', 0}, "r", "run the checks on your file", "r run", TUI_ACT_RUN},
  {{'w', 0}, "w", "watch mode: run the checks whenever your file is saved",
   "w watch", TUI_ACT_WATCH},
  {{'h', 0}, "h", "reveal the next hint (under the brief; recorded)",
   "h hint", TUI_ACT_HINT},
  {{'s', 0}, "s", "show the reference solution (after full marks)", NULL,
   TUI_ACT_SOLUTION},
  {{'R', 0}, "R", "reset your file to the starter (asks first)", NULL,
   TUI_ACT_RESET},
  {{TUI_KEY_TAB, TUI_KEY_BTAB, 0}, "Tab", "switch between brief and results",
   NULL, ACT_FOCUS_NEXT},
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "scroll down", "jk scroll", TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "scroll up", NULL, TUI_ACT_UP},
  {{' ', TUI_KEY_PGDN, 'f', 0}, "Space PgDn", "next page", NULL,
   TUI_ACT_PGDN},
  {{'b', TUI_KEY_PGUP, 0}, "b PgUp", "previous page", NULL, TUI_ACT_PGUP},
  {{'g', TUI_KEY_HOME, 0}, "g Home", "go to the top", NULL, TUI_ACT_HOME},
  {{'G', TUI_KEY_END, 0}, "G End", "go to the end", NULL, TUI_ACT_END},
  {{'q', TUI_KEY_ESC, TUI_KEY_LEFT, 0}, "q Esc Left",
   "back to the course map", "q back", TUI_ACT_BACK},
  {{0}, NULL, NULL, NULL, 0},
};

static int running(const tui_labscr *l) {
  return l->run && !tui__run_view(l->run)->finished;
}

static void read_progress(tui_labscr *l, tui_app *a) {
  l->prog_gen = a->progress_gen;
  l->has_prog = 0;
  if (a->db && l->lab && db_lab_progress_get(a->db, l->lab->id, &l->prog) == 0)
    l->has_prog = 1;
}

static int unlocked(const tui_labscr *l) {
  if (l->has_prog && l->prog.max_score > 0 &&
      l->prog.best_score >= l->prog.max_score)
    return 1;
  const tui_run_view *v = l->run ? tui__run_view(l->run) : NULL;
  return v && v->result && v->result->max_score > 0 &&
         v->result->score >= v->result->max_score;
}

/* ---- the brief ---- */

static char *brief_with_hints(const tui_labscr *l, size_t *len) {
  size_t n = l->brief_len + 64;
  for (int k = 0; k < l->hints; k++) n += strlen(l->lab->hints[k]) + 64;
  char *s = malloc(n);
  if (!s) return NULL;
  size_t o = 0;
  memcpy(s, l->brief, l->brief_len);
  o = l->brief_len;
  if (l->hints > 0)
    o += (size_t)snprintf(s + o, n - o, "\n\n---\n\n## Hints\n\n");
  for (int k = 0; k < l->hints; k++)
    o += (size_t)snprintf(s + o, n - o, "**Hint %d of %d.** %s\n\n", k + 1,
                          l->lab->nhints, l->lab->hints[k]);
  s[o] = 0;
  *len = o;
  return s;
}

static void layout_brief(tui_labscr *l, tui_app *a, int w) {
  int tw = w - 4 < 100 ? w - 4 : 100;
  if (tw == l->laid_w && l->hints == l->laid_hints) return;
  /* keep the same text at the top: lines move when the width changes */
  int keep = 0;
  for (int k = l->btop; k < l->doc.n && !keep; k++) keep = l->doc.lines[k].src;
  size_t len = 0;
  char *md = brief_with_hints(l, &len);
  tui__doc_free(&l->doc);
  l->laid_w = tw;
  l->laid_hints = l->hints;
  if (!md) return;
  tui_mdopts o = {.width = tw, .ascii = !a->utf8, .plain = 0};
  if (tui__md_layout(md, len, &o, &l->doc) != 0)
    tui__app_msg(a, 1, "the brief could not be laid out");
  free(md);
  l->btop = 0;
  for (int k = 0; keep > 1 && k < l->doc.n; k++)
    if (l->doc.lines[k].src >= keep) {
      l->btop = k;
      break;
    }
}

/* ---- the results pane ---- */

static const char *fmt_pts(char *buf, size_t n, double s, double max) {
  snprintf(buf, n, "%g/%g", s, max);
  return buf;
}

static void res_line(tui_doc *d, int w, uint16_t st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void res_line(tui_doc *d, int w, uint16_t st, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  tui_rich r = {0};
  tui__rich_puts(&r, buf, (size_t)-1, st);
  tui__wrap(d, &r, w, NULL, NULL, 0);
  tui__rich_free(&r);
}

/* Columns are padded with U+00A0: wrapping keeps it (it does not break
 * or collapse there) and draws it as a space. */
static void pad_to(tui_rich *r, int from, int width) {
  int used = tui__rich_width(r, from, r->n);
  for (; used < width; used++) tui__rich_putc(r, 0xa0, 0);
}

static void check_progress_line(tui_labscr *l, tui_app *a, int w,
                                const tui_run_check *c, int namew) {
  int ascii = !a->utf8;
  tui_rich r = {0}, cont = {0};
  char pts[64];
  const char *g;
  uint16_t gs;
  switch (c->state) {
  case TUI_CHK_PASS: g = tui__glyph(ascii, TUI_G_CHECK); gs = TUI_C_OK; break;
  case TUI_CHK_FAIL: g = tui__glyph(ascii, TUI_G_CROSS); gs = TUI_C_FAIL; break;
  case TUI_CHK_SKIP: g = tui__glyph(ascii, TUI_G_SKIP); gs = TUI_C_WARN; break;
  case TUI_CHK_RUN: g = tui__spinner(ascii, a->tick / 2); gs = TUI_C_ACCENT;
    break;
  default: g = tui__glyph(ascii, TUI_G_DOT); gs = TUI_C_MUTED; break;
  }
  tui__rich_puts(&r, "  ", (size_t)-1, 0);
  tui__rich_puts(&r, g, (size_t)-1, gs | TUI_A_BOLD);
  tui__rich_putc(&r, L' ', 0);
  int start = r.n;
  tui__rich_puts(&r, c->name, (size_t)-1,
                 c->state == TUI_CHK_WAIT ? TUI_C_MUTED : 0);
  pad_to(&r, start, namew + 2);
  start = r.n;
  switch (c->state) {
  case TUI_CHK_WAIT:
    tui__rich_puts(&r, "waiting", (size_t)-1, TUI_C_MUTED);
    break;
  case TUI_CHK_RUN:
    tui__rich_printf(&r, TUI_C_ACCENT, "running%s",
                     tui__glyph(ascii, TUI_G_ELLIPSIS));
    break;
  case TUI_CHK_SKIP:
    tui__rich_puts(&r, "skipped", (size_t)-1, TUI_C_WARN);
    break;
  default:
    tui__rich_puts(&r, fmt_pts(pts, sizeof pts, c->score, c->max_score),
                   (size_t)-1, gs | TUI_A_BOLD);
    pad_to(&r, start, 8);
    tui__rich_printf(&r, TUI_C_MUTED, "%.1f s", c->seconds);
    break;
  }
  if (c->message && *c->message && !c->hidden) {
    pad_to(&r, start, 18);
    tui__rich_puts(&r, c->message, (size_t)-1,
                   c->state == TUI_CHK_FAIL ? TUI_C_FAIL : 0);
  }
  tui__rich_puts(&cont, "    ", (size_t)-1, 0);
  tui__wrap(&l->res, &r, w, NULL, &cont, 0);
  tui__rich_free(&r);
  tui__rich_free(&cont);
}

static void output_tail(tui_labscr *l, int w, const tui_run_view *v, int max) {
  if (v->noutput == 0) return;
  int from = v->noutput > max ? v->noutput - max : 0;
  tui__doc_add(&l->res, 0);
  res_line(&l->res, w, TUI_C_MUTED | TUI_A_BOLD,
           "Output of your program (last %d lines):", v->noutput - from);
  for (int k = from; k < v->noutput; k++) {
    tui_rich r = {0}, pf = {0};
    tui__rich_puts(&pf, "  ", (size_t)-1, 0);
    tui__rich_puts(&r, v->output[k], (size_t)-1, TUI_C_MUTED);
    tui__wrap(&l->res, &r, w, &pf, &pf, 0);
    tui__rich_free(&r);
    tui__rich_free(&pf);
  }
}

static void results_table(tui_labscr *l, tui_app *a, int w,
                          const grd_result *res) {
  int ascii = !a->utf8;
  tui_table t = {.ncols = 3, .nrows = res->nchecks + 1, .nhead = 1};
  int align[3] = {0, 2, 0};
  t.align = align;
  t.cells = calloc((size_t)t.nrows * 3, sizeof *t.cells);
  if (!t.cells) return;
  tui__rich_puts(&t.cells[0], "Check", (size_t)-1, TUI_A_BOLD);
  tui__rich_puts(&t.cells[1], "Points", (size_t)-1, TUI_A_BOLD);
  tui__rich_puts(&t.cells[2], "Message", (size_t)-1, TUI_A_BOLD);
  for (int k = 0; k < res->nchecks; k++) {
    const grd_check_result *c = &res->checks[k];
    tui_rich *row = &t.cells[(k + 1) * 3];
    int g = c->skipped ? TUI_G_SKIP : c->passed ? TUI_G_CHECK : TUI_G_CROSS;
    uint16_t gs = c->skipped ? TUI_C_WARN : c->passed ? TUI_C_OK : TUI_C_FAIL;
    tui__rich_puts(&row[0], tui__glyph(ascii, g), (size_t)-1, gs | TUI_A_BOLD);
    tui__rich_putc(&row[0], L' ', 0);
    tui__rich_puts(&row[0], c->name, (size_t)-1, 0);
    char pts[64];
    tui__rich_puts(&row[1], fmt_pts(pts, sizeof pts, c->score, c->max_score),
                   (size_t)-1, gs);
    if (c->hidden && !c->passed)
      tui__rich_puts(&row[2], "hidden check: details withheld", (size_t)-1,
                     TUI_C_MUTED);
    else if (c->skipped)
      /* The grader's message already says "skipped: ..." and why. */
      tui__rich_puts(&row[2], c->message ? c->message : "skipped", (size_t)-1, TUI_C_WARN);
    else
      tui__rich_puts(&row[2], c->message ? c->message : "", (size_t)-1,
                     c->passed ? 0 : TUI_C_FAIL);
  }
  tui__table_layout(&l->res, &t, w, NULL, NULL, ascii, 0);
  for (int k = 0; k < t.nrows * 3; k++) tui__rich_free(&t.cells[k]);
  free(t.cells);
}

/* A check's t:roofline figure (grd.h), drawn by tui_roofline.h, each cell
 * coloured by its role: the roof, measured rates, predictions. */
static void roofline_figure(tui_labscr *l, tui_app *a, int w, const grd_check_result *c) {
  static const uint16_t style[4] = {0, TUI_C_OK, TUI_C_ACCENT | TUI_A_BOLD, TUI_C_WARN | TUI_A_BOLD};
  tui_roof_text t;
  int cw = w < 100 ? w : 100;
  /* The plot about as tall as the focused results pane, so it shows whole
   * on a 24-line terminal; the table follows when scrolled. */
  int ch = a->h - 10 < 12 ? 12 : a->h - 10 > 20 ? 20 : a->h - 10;
  tui__doc_add(&l->res, 0);
  res_line(&l->res, w, TUI_C_HEADING | TUI_A_BOLD, "Roofline: %s", c->name);
  if (tui_roofline_render_check(c->roofline, cw < 40 ? 40 : cw, ch, !a->utf8, &t) != 0) {
    res_line(&l->res, w, TUI_C_MUTED, "(the figure could not be drawn)");
    return;
  }
  for (int i = 0; i < t.n; i++) {
    tui_line *ln = tui__doc_add(&l->res, 0);
    if (!ln) break;
    const char *s = t.lines[i];
    size_t len = strlen(s), pos = 0;
    for (int col = 0; pos < len; col++) {
      wchar_t ch = tui__utf8_next(s, len, &pos);
      tui__rich_putc(&ln->t, ch, style[tui_roofline_role(&t, i, col) & 3]);
    }
  }
  tui_roofline_text_free(&t);
}

/* A speedup chart for every check that measured scaling, and the
 * roofline figure of every check that attached one. */
static void charts(tui_labscr *l, tui_app *a, int w, const grd_result *res) {
  for (int k = 0; k < res->nchecks; k++) {
    const grd_check_result *c = &res->checks[k];
    if (c->npoints < 1 || (c->hidden && !c->passed)) continue;
    tui__doc_add(&l->res, 0);
    res_line(&l->res, w, TUI_C_HEADING | TUI_A_BOLD, "Speedup: %s", c->name);
    int n0 = l->res.n;
    if (tui__speedup_chart(&l->res, w, !a->utf8, c->threads, c->times,
                           c->npoints, c->baseline_s) != 0 &&
        l->res.n == n0)
      res_line(&l->res, w, TUI_C_MUTED, "(the figures could not be charted)");
  }
  for (int k = 0; k < res->nchecks; k++) {
    const grd_check_result *c = &res->checks[k];
    if (c->roofline && !(c->hidden && !c->passed)) roofline_figure(l, a, w, c);
  }
}

static void build_results(tui_labscr *l, tui_app *a, int w) {
  tui__doc_free(&l->res);
  if (!l->run) return;
  const tui_run_view *v = tui__run_view(l->run);
  int ascii = !a->utf8;
  const char *file = l->lab && l->lab->sub_file ? l->lab->sub_file : "file";
  double now = v->finished ? v->ended : tui__now();

  if (v->finished && v->rc != 0) {
    res_line(&l->res, w, TUI_C_FAIL | TUI_A_BOLD, "%s The checks could not run: %s",
             tui__glyph(ascii, TUI_G_CROSS), pl_strerror(v->rc));
    if (v->err && *v->err) res_line(&l->res, w, TUI_C_FAIL, "%s", v->err);
    output_tail(l, w, v, 10);
    return;
  }
  if (v->finished && v->result) {
    const grd_result *res = v->result;
    int full = res->max_score > 0 && res->score >= res->max_score;
    char pts[64];
    tui_rich r = {0};
    tui__rich_printf(&r, (full ? TUI_C_OK : TUI_C_WARN) | TUI_A_BOLD,
                     "Score %s", fmt_pts(pts, sizeof pts, res->score,
                                         res->max_score));
    tui__rich_printf(&r, TUI_C_MUTED, " %s graded in %.1f s%s",
                     tui__glyph(ascii, TUI_G_DOT),
                     res->seconds > 0 ? res->seconds : now - v->started,
                     l->recorded ? ", attempt saved" : "");
    tui__wrap(&l->res, &r, w, NULL, NULL, 0);
    tui__rich_free(&r);
    if (!res->compiled) {
      res_line(&l->res, w, TUI_C_FAIL | TUI_A_BOLD,
               "%s %s did not compile. The compiler said:",
               tui__glyph(ascii, TUI_G_CROSS), file);
    }
    if (res->nchecks > 0) results_table(l, a, w, res);
    res_line(&l->res, w, TUI_A_BOLD, "Total: %s",
             fmt_pts(pts, sizeof pts, res->score, res->max_score));
    if (full)
      res_line(&l->res, w, TUI_C_OK,
               "Full marks! The reference solution is unlocked: press s.");
    else
      res_line(&l->res, w, TUI_C_MUTED,
               "e edits your file, r runs the checks again, h shows a hint.");
    charts(l, a, w, res);
    if (res->ndiagnostics > 0) {
      tui__doc_add(&l->res, 0);
      if (res->compiled)
        res_line(&l->res, w, TUI_C_MUTED | TUI_A_BOLD, "Diagnostics:");
      for (int k = 0; k < res->ndiagnostics; k++)
        res_line(&l->res, w, TUI_C_CODE, "  %s", res->diagnostics[k]);
    }
    output_tail(l, w, v, 20);
    return;
  }

  /* in flight */
  const char *spin = tui__spinner(ascii, a->tick / 2);
  switch (v->compile) {
  case TUI_COMP_OK:
    res_line(&l->res, w, TUI_C_OK, "%s Compiled %s",
             tui__glyph(ascii, TUI_G_CHECK), file);
    break;
  case TUI_COMP_FAIL:
    res_line(&l->res, w, TUI_C_FAIL | TUI_A_BOLD, "%s %s did not compile",
             tui__glyph(ascii, TUI_G_CROSS), file);
    break;
  default:
    res_line(&l->res, w, TUI_C_ACCENT, "%s Compiling %s%s", spin, file,
             tui__glyph(ascii, TUI_G_ELLIPSIS));
    break;
  }
  int namew = 0;
  for (int k = 0; k < v->nchecks; k++) {
    int nw = (int)strlen(v->checks[k].name);
    if (nw > namew) namew = nw;
  }
  if (namew > w / 2) namew = w / 2;
  for (int k = 0; k < v->nchecks; k++)
    check_progress_line(l, a, w, &v->checks[k], namew);
  output_tail(l, w, v, 5);
}

/* ---- drawing ---- */

static void info_line(tui_labscr *l, tui_app *a, tui_grid *g, int y) {
  char buf[512];
  const char *home = getenv("HOME");
  const char *ws = l->ws ? l->ws : "";
  size_t hl = home ? strlen(home) : 0;
  int started = l->ws && access(l->ws, F_OK) == 0;
  if (hl > 1 && !strncmp(ws, home, hl) && ws[hl] == '/')
    snprintf(buf, sizeof buf, "Your file: ~%s", ws + hl);
  else
    snprintf(buf, sizeof buf, "Your file: %s", ws);
  int x = 2;
  if (l->lab && l->lab->needs_gpu && !grd_gpu_present(NULL, 0)) /* its checks are skipped here */
    x += tui__grid_puts(g, y, x, -1, "needs a GPU  ", TUI_C_WARN | TUI_A_BOLD);
  x += tui__grid_puts(g, y, x, g->w / 2 + 10, buf, TUI_C_MUTED);
  if (!started)
    x += tui__grid_puts(g, y, x, -1, " (e creates it from the starter)",
                        TUI_C_MUTED);
  if (l->watch)
    tui__grid_puts(g, y, x, -1, "  [watching]",
                   TUI_C_ACCENT | TUI_A_BOLD);
  char right[96] = "";
  if (l->has_prog && l->prog.attempts > 0)
    snprintf(right, sizeof right, "best %g/%g, %d attempt%s",
             l->prog.best_score, l->prog.max_score, l->prog.attempts,
             l->prog.attempts == 1 ? "" : "s");
  else if (l->lab)
    snprintf(right, sizeof right, "%g points", l->lab->max_score);
  int rw = (int)strlen(right);
  if (x + 2 < g->w - 3 - rw) {
    tui__grid_fill(g, y, g->w - 4 - rw, rw + 1, L' ', 0);
    tui__grid_puts(g, y, g->w - 3 - rw, -1, right, TUI_C_ACCENT);
  }
  (void)a;
}

static void pane_rule(tui_labscr *l, tui_app *a, tui_grid *g, int y,
                      const char *label, int focused) {
  const char *hg = tui__glyph(!a->utf8, TUI_G_H);
  size_t i = 0;
  wchar_t h = tui__utf8_next(hg, strlen(hg), &i);
  tui__grid_fill(g, y, 0, g->w, h, TUI_C_MUTED);
  uint16_t st = focused ? TUI_C_ACCENT | TUI_A_BOLD : TUI_A_BOLD;
  int x = 3;
  x += tui__grid_puts(g, y, x, -1, " ", 0);
  x += tui__grid_puts(g, y, x, g->w - 30, label, st);
  tui__grid_puts(g, y, x, -1, " ", 0);
  (void)l;
}

static void lab_draw(tui_screen *s, tui_app *a, tui_grid *g, int top, int h) {
  tui_labscr *l = (tui_labscr *)s;
  if (l->err) {
    snprintf(s->where, sizeof s->where, "Lab");
    tui__draw_error_panel(a, g, top, h, "This lab could not be loaded",
                          l->err, "Fix lab.lua and open the lab again; q goes back.");
    return;
  }
  if (l->prog_gen != a->progress_gen) read_progress(l, a);
  layout_brief(l, a, g->w);
  info_line(l, a, g, top);

  int avail = h - 1;
  /* the focused pane gets two thirds of the room */
  int res_h = !l->run ? 0 : l->focus == 1 ? avail * 2 / 3 : avail / 3;
  int brief_h = l->run ? avail - res_h - 1 : avail;
  l->bview = brief_h - 1;
  int bmax = l->doc.n - l->bview;
  if (l->btop > bmax) l->btop = bmax;
  if (l->btop < 0) l->btop = 0;
  tui__draw_doc(g, &l->doc, l->btop, top + 2, brief_h - 1, 2, g->w - 4);

  if (l->run) {
    const tui_run_view *v = tui__run_view(l->run);
    build_results(l, a, g->w - 4);
    int ry = top + 1 + brief_h;
    char label[128];
    double t = (v->finished ? v->ended : tui__now()) - v->started;
    if (!v->finished) {
      int done = 0;
      for (int k = 0; k < v->nchecks; k++)
        done += v->checks[k].state >= TUI_CHK_PASS;
      snprintf(label, sizeof label, "Checks: running, %d of %d done, %.0f s",
               done, v->nchecks, t);
    } else if (v->result) {
      snprintf(label, sizeof label, "Results: %g/%g", v->result->score,
               v->result->max_score);
    } else {
      snprintf(label, sizeof label, "Results: the checks could not run");
    }
    pane_rule(l, a, g, ry, label, l->focus == 1);
    l->res_y = ry;
    l->rview = res_h;
    int rmax = l->res.n - res_h;
    if (rmax < 0) rmax = 0;
    if (l->follow && !v->finished) l->rtop = rmax;
    if (l->rtop > rmax) l->rtop = rmax;
    if (l->rtop < 0) l->rtop = 0;
    tui__draw_doc(g, &l->res, l->rtop, ry + 1, res_h, 2, g->w - 4);
    if (l->res.n > res_h && l->focus != 1)
      tui__grid_puts(g, ry, g->w - 20, -1, " Tab to scroll ", TUI_C_MUTED);
  }

  if (!l->run) l->res_y = -1;
  if (running(l))
    snprintf(s->where, sizeof s->where, "Lab: running checks");
  else if (l->run && tui__run_view(l->run)->result)
    snprintf(s->where, sizeof s->where, "Lab: %g/%g",
             tui__run_view(l->run)->result->score,
             tui__run_view(l->run)->result->max_score);
  else
    snprintf(s->where, sizeof s->where, "Lab");
  if (l->watch && strlen(s->where) + 12 < sizeof s->where)
    strcat(s->where, " (watching)");
}

/* ---- actions ---- */

static int workspace(tui_labscr *l, tui_app *a, char **path) {
  int existed = l->ws && access(l->ws, F_OK) == 0;
  int rc = grd_workspace_start(a->home, l->lab, 0, path);
  if (rc != 0) {
    tui__app_msg(a, 1, "cannot create your copy of the starter: %s",
                 pl_strerror(rc));
    return rc;
  }
  if (!existed)
    tui__app_msg(a, 0, "Copied the starter to %s", *path);
  free(l->ws);
  l->ws = strdup(*path);
  return 0;
}

static void do_edit(tui_labscr *l, tui_app *a) {
  if (running(l)) {
    tui__app_msg(a, 1, "The checks are running on your file; edit it when "
                       "they finish");
    return;
  }
  char *path = NULL;
  if (workspace(l, a, &path) != 0) return;
  int rc = tui__term_edit(path);
  tui__app_sync_size(a);
  const char *ed = getenv("EDITOR");
  if (rc == 0)
    tui__app_msg(a, 0, "Back from the editor. Press r to run the checks.");
  else if (rc == 127)
    tui__app_msg(a, 1, "could not start the editor '%s': set EDITOR",
                 ed && *ed ? ed : "vi");
  else if (rc < 0)
    tui__app_msg(a, 1, "could not start the editor: %s", pl_strerror(rc));
  else
    tui__app_msg(a, 1, "the editor exited with status %d", rc);
  free(path);
}

static void do_run(tui_labscr *l, tui_app *a) {
  if (running(l)) {
    tui__app_msg(a, 0, "The checks are already running");
    return;
  }
  char *path = NULL;
  if (workspace(l, a, &path) != 0) return;
  tui__run_free(l->run);
  l->run = NULL;
  int rc = tui__run_start(l->lab, path, &l->run);
  free(path);
  if (rc != 0) {
    tui__app_msg(a, 1, "cannot start the checks: %s", pl_strerror(rc));
    return;
  }
  l->recorded = 0;
  l->focus = 1;
  l->follow = 1;
  l->rtop = 0;
}

static void do_hint(tui_labscr *l, tui_app *a) {
  if (l->lab->nhints == 0) {
    tui__app_msg(a, 0, "This lab has no hints");
    return;
  }
  if (l->hints >= l->lab->nhints) {
    tui__app_msg(a, 0, "No more hints: all %d are shown under the brief",
                 l->lab->nhints);
  } else {
    l->hints++;
    if (a->db && db_hint_used(a->db, l->lab->id, l->hints) == 0)
      a->progress_gen++;
    tui__app_msg(a, 0, "Hint %d of %d is shown under the brief", l->hints,
                 l->lab->nhints);
  }
  layout_brief(l, a, a->w);
  l->focus = 0;
  l->btop = l->doc.n; /* clamped at draw: the end, where the hint is */
}

static void do_solution(tui_labscr *l, tui_app *a) {
  if (!unlocked(l)) {
    tui__app_msg(a, 0, "The reference solution unlocks after full marks");
    return;
  }
  char *src = NULL;
  size_t len = 0;
  char *path = l->lab->solution ? tui__app_path(a, l->lab->solution) : NULL;
  int rc = path ? tui__read_file(path, &src, &len) : PL_ENOTFOUND;
  char *md = NULL;
  const char *lang = l->lab->lang ? l->lab->lang : "";
  size_t n = len + strlen(lang) + 32;
  if (rc == 0 && !(md = malloc(n))) rc = PL_ENOMEM;
  if (rc == 0) {
    int o = snprintf(md, n, "~~~~~~%s\n", lang);
    memcpy(md + o, src, len);
    o += (int)len;
    o += snprintf(md + o, n - (size_t)o, "\n~~~~~~\n");
    char crumb[300];
    snprintf(crumb, sizeof crumb, "%s %s reference solution", l->base.crumb,
             tui__glyph(!a->utf8, TUI_G_CRUMB));
    tui__app_push(a, tui__reader_new(a, crumb, "Solution", md, (size_t)o,
                                     NULL, NULL));
  } else {
    tui__app_msg(a, 1, "cannot read the solution: %s",
                 rc == PL_EIO ? strerror(errno) : pl_strerror(rc));
  }
  free(md);
  free(src);
  free(path);
}

static void do_watch(tui_labscr *l, tui_app *a) {
  if (l->watch) {
    tui__watch_free(l->watch);
    l->watch = NULL;
    l->pending = 0;
    tui__app_msg(a, 0, "Watch mode off: r runs the checks");
    return;
  }
  char *path = NULL, *err = NULL;
  if (workspace(l, a, &path) != 0) return;
  if (tui__watch_open(path, &l->watch, &err) != 0) {
    tui__app_msg(a, 1, "Watch mode is not available (%s); press r to run "
                       "the checks", err ? err : "inotify failed");
    free(err);
    free(path);
    return;
  }
  const char *name = strrchr(path, '/');
  tui__app_msg(a, 0, "Watching %s: every save runs the checks (w stops)",
               name ? name + 1 : path);
  free(path);
}

static void on_reset(void *arg, tui_app *a, const char *yes) {
  tui_labscr *l = arg;
  if (!yes) {
    tui__app_msg(a, 0, "Your file was left as it is");
    return;
  }
  if (running(l)) {
    tui__app_msg(a, 1, "The checks are running on your file; reset it when "
                       "they finish");
    return;
  }
  char *path = NULL;
  int rc = grd_workspace_start(a->home, l->lab, 1, &path);
  if (rc != 0) {
    tui__app_msg(a, 1, "cannot reset your file: %s", pl_strerror(rc));
    return;
  }
  free(l->ws);
  l->ws = path;
  tui__app_msg(a, 0, "%s is the starter again", l->lab->sub_file);
}

static void do_reset(tui_labscr *l, tui_app *a) {
  char q[160];
  snprintf(q, sizeof q, "Reset %s to the starter? Your changes will be lost.",
           l->lab->sub_file ? l->lab->sub_file : "your file");
  tui__app_confirm(a, q, on_reset, l);
}

static int lab_key(tui_screen *s, tui_app *a, int action, int key) {
  tui_labscr *l = (tui_labscr *)s;
  (void)key;
  if (action == TUI_ACT_BACK) {
    if (running(l))
      tui__app_msg(a, 1, "The checks are still running; wait for them to "
                         "finish");
    else
      tui__app_pop(a);
    return 1;
  }
  if (l->err) return 0;
  switch (action) {
  case TUI_ACT_EDIT: do_edit(l, a); return 1;
  case TUI_ACT_RUN: do_run(l, a); return 1;
  case TUI_ACT_HINT: do_hint(l, a); return 1;
  case TUI_ACT_SOLUTION: do_solution(l, a); return 1;
  case TUI_ACT_WATCH: do_watch(l, a); return 1;
  case TUI_ACT_RESET: do_reset(l, a); return 1;
  case ACT_FOCUS_NEXT:
    if (l->run) l->focus = !l->focus;
    else tui__app_msg(a, 0, "No results yet: press r to run the checks");
    return 1;
  default:
    break;
  }
  if (l->focus == 1 && l->run) {
    l->follow = 0;
    return tui__scroll(action, &l->rtop, l->res.n, l->rview);
  }
  return tui__scroll(action, &l->btop, l->doc.n, l->bview);
}

static int lab_tick(tui_screen *s, tui_app *a) {
  tui_labscr *l = (tui_labscr *)s;
  if (l->watch && tui__watch_poll(l->watch)) {
    /* only the screen on top starts runs: the student is looking at it */
    if (running(l) || a->stack[a->depth - 1] != s) {
      l->pending = 1;
    } else {
      do_run(l, a);
      tui__app_msg(a, 0, "Saved: running the checks");
      return 1;
    }
  }
  if (l->pending && !running(l) && a->stack[a->depth - 1] == s) {
    l->pending = 0;
    do_run(l, a);
    tui__app_msg(a, 0, "Saved while the checks ran: running them again");
    return 1;
  }
  if (!l->run) return 0;
  const tui_run_view *v = tui__run_view(l->run);
  if (v->finished) return 0;
  int changed = tui__run_poll(l->run);
  if (v->finished) {
    l->follow = 0;
    l->rtop = 0;
    if (v->rc == 0 && v->result) {
      char pts[64];
      fmt_pts(pts, sizeof pts, v->result->score, v->result->max_score);
      if (a->db && db_attempt_add(a->db, NULL, v->result, NULL) == 0) {
        l->recorded = 1;
        a->progress_gen++;
        tui__app_msg(a, 0, "Checks done: %s, attempt saved", pts);
      } else {
        tui__app_msg(a, 1, "Checks done: %s (the attempt could not be saved)",
                     pts);
      }
    } else {
      tui__app_msg(a, 1, "The checks could not run: %s", pl_strerror(v->rc));
    }
    return 1;
  }
  /* animate the spinner and the clock */
  double now = tui__now();
  if (now - l->last_anim >= 0.1) {
    l->last_anim = now;
    changed = 1;
  }
  return changed;
}

static void lab_resize(tui_screen *s, tui_app *a, int w, int h) {
  tui_labscr *l = (tui_labscr *)s;
  (void)h;
  if (!l->err) layout_brief(l, a, w);
}

static int lab_click(tui_screen *s, tui_app *a, int x, int y) {
  tui_labscr *l = (tui_labscr *)s;
  (void)x;
  (void)a;
  if (l->err || l->res_y < 0) return 0;
  l->focus = y > l->res_y;
  if (l->focus) l->follow = 0;
  return 1;
}

static void lab_free(tui_screen *s, tui_app *a) {
  tui_labscr *l = (tui_labscr *)s;
  if (l->lab) tui__app_left_item(a, l->lab->id, tui__now() - l->opened);
  tui__watch_free(l->watch);
  tui__run_free(l->run); /* joins a run still in flight */
  tui__doc_free(&l->doc);
  tui__doc_free(&l->res);
  lx_lab_free(l->lab);
  free(l->err);
  free(l->brief);
  free(l->ws);
  free(l->id);
  free(l->title);
  free(l->crumb_mod);
  free(l);
}

static const tui_screen_vt lab_vt = {
  .name = "Lab",
  .keys = lab_keys,
  .draw = lab_draw,
  .key = lab_key,
  .resize = lab_resize,
  .tick = lab_tick,
  .free = lab_free,
  .click = lab_click,
};

static char *brief_error(const char *path, const char *why) {
  size_t n = strlen(path) + strlen(why) + 64;
  char *s = malloc(n);
  if (s) snprintf(s, n, "# Brief missing\n\nCannot read `%s`: %s.\n", path, why);
  return s;
}

tui_screen *tui__lab_new(tui_app *a, const lx_module *m, const lx_item *it) {
  tui_labscr *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->base.vt = &lab_vt;
  l->opened = tui__now();
  l->res_y = -1;
  snprintf(l->base.crumb, sizeof l->base.crumb, "%s %s %s",
           m->title ? m->title : m->id, tui__glyph(!a->utf8, TUI_G_CRUMB),
           it->title ? it->title : it->id);
  snprintf(l->base.where, sizeof l->base.where, "Lab");
  l->id = strdup(it->id ? it->id : "");
  char *dir = tui__app_path(a, it->path);
  if (!l->id || !dir) goto oom;
  char *err = NULL;
  if (lx_lab_load(dir, &l->lab, &err) != 0) {
    l->lab = NULL;
    l->err = err ? err : strdup("lab.lua could not be loaded");
    free(dir);
    if (!l->err) goto oom;
    return &l->base;
  }
  free(dir);
  char *bpath = l->lab->brief ? tui__app_path(a, l->lab->brief) : NULL;
  int rc = bpath ? tui__read_file(bpath, &l->brief, &l->brief_len)
                 : PL_ENOTFOUND;
  if (rc != 0) {
    l->brief = brief_error(bpath ? bpath : "brief.md",
                           rc == PL_EIO ? strerror(errno) : pl_strerror(rc));
    if (l->brief) l->brief_len = strlen(l->brief);
  }
  free(bpath);
  if (!l->brief) goto oom;
  if (grd_workspace_path(a->home, l->lab, &l->ws) != 0) l->ws = NULL;
  read_progress(l, a);
  /* hints stay revealed once revealed */
  int used = 0;
  if (a->db && db_hints_count(a->db, l->lab->id, &used) == 0)
    l->hints = used < l->lab->nhints ? used : l->lab->nhints;
  return &l->base;
oom:
  lab_free(&l->base, a);
  return NULL;
}
