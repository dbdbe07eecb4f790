/*
 * tui_screen_dash.c — the progress dashboard: completion per module (with
 * bars), each lecture's reading and quiz, each lab's best score, attempts
 * and hints used, and the time spent on every item, with totals. Read from
 * the gradebook when opened and whenever it changed (progress_gen).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_int.h"

typedef struct dash_row {
  int mod, item; /* item -1: the module's header */
  int done;
  double frac;   /* lab: best / max; module: items done / items */
  char status[48], extra[48], time[24];
} dash_row;

typedef struct tui_dash {
  tui_screen base;
  dash_row *rows;
  int nrows;
  int gen;
  int top, view;
  /* totals */
  int items, done, quiz_answered, quiz_right, quiz_total, hints;
  double seconds;
} tui_dash;

static const tui_binding dash_keys[] = {
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "scroll down", "jk scroll", TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "scroll up", NULL, TUI_ACT_UP},
  {{' ', TUI_KEY_PGDN, 0}, "Space PgDn", "next page", NULL, TUI_ACT_PGDN},
  {{'b', TUI_KEY_PGUP, 0}, "b PgUp", "previous page", NULL, TUI_ACT_PGUP},
  {{'g', TUI_KEY_HOME, 0}, "g Home", "go to the top", NULL, TUI_ACT_HOME},
  {{'G', TUI_KEY_END, 0}, "G End", "go to the end", NULL, TUI_ACT_END},
  {{'q', 'p', TUI_KEY_ESC, TUI_KEY_LEFT}, "q p Esc Left",
   "back to the course map", "q back", TUI_ACT_BACK},
  {{0}, NULL, NULL, NULL, 0},
};

static void fmt_time(char *buf, size_t n, double s) {
  if (s < 1) snprintf(buf, n, "-");
  else if (s < 60) snprintf(buf, n, "%.0f s", s);
  else if (s < 3600) snprintf(buf, n, "%.0f min", s / 60);
  else snprintf(buf, n, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
}

/* Questions in a lecture's quiz; 0 when it has none or it is broken. */
static int quiz_size(tui_app *a, const char *lecture) {
  char *path = lx_quiz_path(a->course_root, lecture);
  lx_quiz *qz = NULL;
  char *err = NULL;
  int n = 0;
  if (path && lx_quiz_load(path, &qz, &err) == 0) n = qz->n;
  lx_quiz_free(qz);
  free(err);
  free(path);
  return n;
}

static void load(tui_dash *d, tui_app *a) {
  d->gen = a->progress_gen;
  free(d->rows);
  d->rows = NULL;
  d->nrows = 0;
  d->items = d->done = d->quiz_answered = d->quiz_right = d->quiz_total = 0;
  d->hints = 0;
  d->seconds = 0;
  if (!a->course) return;
  int n = 0;
  for (int m = 0; m < a->course->nmodules; m++)
    n += 1 + a->course->modules[m].nitems;
  d->rows = calloc((size_t)(n ? n : 1), sizeof *d->rows);
  if (!d->rows) return;
  for (int m = 0; m < a->course->nmodules; m++) {
    const lx_module *mod = &a->course->modules[m];
    dash_row *head = &d->rows[d->nrows++];
    head->mod = m;
    head->item = -1;
    int mdone = 0;
    double msecs = 0;
    for (int i = 0; i < mod->nitems; i++) {
      const lx_item *it = &mod->items[i];
      dash_row *r = &d->rows[d->nrows++];
      r->mod = m;
      r->item = i;
      double secs = 0;
      if (a->db) db_time_get(a->db, it->id, &secs);
      fmt_time(r->time, sizeof r->time, secs);
      msecs += secs;
      if (it->kind == LX_ITEM_LECTURE) {
        int seen = 0, pos = 0, ans = 0, right = 0;
        if (a->db) {
          db_lecture_get(a->db, it->id, &seen, &pos);
          db_quiz_progress(a->db, it->id, &ans, &right);
        }
        int qn = quiz_size(a, it->id);
        r->done = seen;
        r->frac = seen ? 1 : 0;
        snprintf(r->status, sizeof r->status, "%s", seen ? "read" : "not read");
        if (qn > 0)
          snprintf(r->extra, sizeof r->extra, "quiz %d/%d", right, qn);
        else
          snprintf(r->extra, sizeof r->extra, "no quiz");
        d->quiz_answered += ans;
        d->quiz_right += right;
        d->quiz_total += qn;
      } else {
        db_lab_progress p;
        memset(&p, 0, sizeof p);
        int hints = 0;
        if (a->db) {
          db_lab_progress_get(a->db, it->id, &p);
          db_hints_count(a->db, it->id, &hints);
        }
        d->hints += hints;
        if (p.attempts > 0) {
          r->frac = p.max_score > 0 ? p.best_score / p.max_score : 0;
          r->done = p.max_score > 0 && p.best_score >= p.max_score;
          snprintf(r->status, sizeof r->status, "%g/%g, %d tr%s",
                   p.best_score, p.max_score, p.attempts,
                   p.attempts == 1 ? "y" : "ies");
        } else {
          snprintf(r->status, sizeof r->status, "not started");
        }
        snprintf(r->extra, sizeof r->extra, "%d hint%s", hints,
                 hints == 1 ? "" : "s");
      }
      mdone += r->done;
      d->items++;
      d->done += r->done;
    }
    head->done = mdone;
    head->frac = mod->nitems ? (double)mdone / mod->nitems : 0;
    snprintf(head->status, sizeof head->status, "%d/%d done", mdone,
             mod->nitems);
    fmt_time(head->time, sizeof head->time, msecs);
    d->seconds += msecs;
  }
}

static void dash_draw(tui_screen *s, tui_app *a, tui_grid *g, int top, int h) {
  tui_dash *d = (tui_dash *)s;
  snprintf(s->where, sizeof s->where, "Progress");
  if (!a->course) {
    tui__draw_error_panel(a, g, top, h, "The course could not be loaded",
                          a->course_err, "q goes back.");
    return;
  }
  if (d->gen != a->progress_gen) load(d, a);
  int W = g->w;
  tui__grid_puts(g, top + 1, 2, W - 4, "Your progress", TUI_C_HEADING | TUI_A_BOLD);
  if (!a->db)
    tui__grid_puts(g, top + 1, 20, W - 22,
                   "(no gradebook: nothing is being recorded)", TUI_C_WARN);
  /* overall */
  int y = top + 3;
  char buf[256], t[24];
  tui__grid_puts(g, y, 2, 10, "Overall", TUI_A_BOLD);
  tui__draw_bar(a, g, y, 12, 20, d->items ? (double)d->done / d->items : 0,
                TUI_C_OK);
  snprintf(buf, sizeof buf, "%d of %d lectures and labs done", d->done,
           d->items);
  tui__grid_puts(g, y, 34, W - 36, buf, 0);
  fmt_time(t, sizeof t, d->seconds);
  snprintf(buf, sizeof buf, "Quizzes: %d of %d questions right.  Hints used: "
           "%d.  Time spent: %s.",
           d->quiz_right, d->quiz_total, d->hints, t);
  tui__grid_puts(g, y + 1, 12, W - 14, buf, TUI_C_MUTED);

  /* per module and item; columns from the right: status, extra, time */
  int ctime = W - 12, cextra = ctime - 16, cstat = cextra - 18;
  int y0 = top + 6;
  tui__grid_puts(g, y0 - 1, cstat, 16, "Status", TUI_A_BOLD);
  tui__grid_puts(g, y0 - 1, cextra, 14, "Quiz / hints", TUI_A_BOLD);
  tui__grid_puts(g, y0 - 1, ctime, 10, "Time", TUI_A_BOLD);
  d->view = top + h - y0;
  int maxtop = d->nrows - d->view;
  if (d->top > maxtop) d->top = maxtop;
  if (d->top < 0) d->top = 0;
  for (int k = d->top; k < d->nrows && y0 + (k - d->top) < top + h; k++) {
    const dash_row *r = &d->rows[k];
    const lx_module *mod = &a->course->modules[r->mod];
    int yy = y0 + (k - d->top);
    if (r->item < 0) {
      snprintf(buf, sizeof buf, "Module %d: %s", r->mod + 1,
               mod->title ? mod->title : mod->id);
      tui__grid_puts(g, yy, 2, cstat - 4, buf, TUI_C_HEADING | TUI_A_BOLD);
      tui__draw_bar(a, g, yy, cstat, 14, r->frac, TUI_C_OK);
      tui__grid_puts(g, yy, cextra, 14, r->status, TUI_C_MUTED);
      tui__grid_puts(g, yy, ctime, 10, r->time, TUI_C_MUTED);
      continue;
    }
    const lx_item *it = &mod->items[r->item];
    int lab = it->kind == LX_ITEM_LAB;
    if (r->done)
      tui__grid_puts(g, yy, 2, 2, tui__glyph(!a->utf8, TUI_G_CHECK),
                     TUI_C_OK | TUI_A_BOLD);
    tui__grid_puts(g, yy, 4, 8, lab ? "Lab" : "Lecture",
                   lab ? TUI_C_ACCENT : TUI_C_MUTED);
    tui__grid_puts(g, yy, 12, cstat - 14, it->title ? it->title : it->id, 0);
    uint16_t st = r->done ? TUI_C_OK : r->frac > 0 ? TUI_C_WARN : TUI_C_MUTED;
    tui__grid_puts(g, yy, cstat, 16, r->status, st);
    tui__grid_puts(g, yy, cextra, 14, r->extra, TUI_C_MUTED);
    tui__grid_puts(g, yy, ctime, 10, r->time, 0);
  }
}

static int dash_key(tui_screen *s, tui_app *a, int action, int key) {
  tui_dash *d = (tui_dash *)s;
  (void)key;
  if (action == TUI_ACT_BACK) {
    tui__app_pop(a);
    return 1;
  }
  return tui__scroll(action, &d->top, d->nrows, d->view);
}

static void dash_free(tui_screen *s, tui_app *a) {
  tui_dash *d = (tui_dash *)s;
  (void)a;
  free(d->rows);
  free(d);
}

static const tui_screen_vt dash_vt = {
  .name = "Progress",
  .keys = dash_keys,
  .draw = dash_draw,
  .key = dash_key,
  .resize = NULL,
  .tick = NULL,
  .free = dash_free,
  .click = NULL,
};

tui_screen *tui__dash_new(tui_app *a) {
  tui_dash *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->base.vt = &dash_vt;
  snprintf(d->base.crumb, sizeof d->base.crumb, "Progress");
  snprintf(d->base.where, sizeof d->base.where, "Progress");
  d->gen = a->progress_gen - 1; /* load on the first draw */
  return &d->base;
}
