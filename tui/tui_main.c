/*
 * tui_main.c — the courseware's main loop: the screen stack, key dispatch
 * through binding tables, mouse dispatch (wheel = scroll, clicks go to the
 * screen, a click on a status-line hint presses its key), the title and
 * status bars, the one-line prompt (search, answers, y/n questions), the
 * help overlay and the "terminal too small" guard. One tick = poll
 * background work, redraw the grid if anything changed, flush it, wait up
 * to 50 ms for a key.
 */
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pl_err.h"
#include "tui_int.h"

#define MSG_SECONDS 4.0

/* Keys every screen has; listed by `?` after the screen's own. */
enum { ACT_HELP = 90, ACT_REDRAW };
static const tui_binding global_keys[] = {
  {{'?', 0}, "?", "show this help", "? help", ACT_HELP},
  {{TUI_KEY_CTRL('l'), 0}, "Ctrl-L", "redraw the screen", NULL, ACT_REDRAW},
  {{0}, NULL, NULL, NULL, 0},
};

/* ---- helpers for screens ---- */

void tui__app_msg(tui_app *a, int warn, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->msg, sizeof a->msg, fmt, ap);
  va_end(ap);
  a->msg_warn = warn;
  a->msg_until = tui__now() + MSG_SECONDS;
  a->dirty = 1;
}

int tui__app_push(tui_app *a, tui_screen *s) {
  if (!s) return PL_ENOMEM;
  if (a->depth == TUI_MAX_SCREENS) {
    s->vt->free(s, a);
    return PL_EINVAL;
  }
  a->stack[a->depth++] = s;
  if (s->vt->resize) s->vt->resize(s, a, a->w, a->h - 2);
  a->dirty = 1;
  return 0;
}

void tui__app_pop(tui_app *a) { a->pop_req++; }

/* ---- the prompt ---- */

static void prompt_open(tui_app *a, int yesno, const char *label,
                        const char *initial, tui_prompt_fn fn, void *arg) {
  memset(&a->prompt, 0, sizeof a->prompt);
  a->prompt.active = 1;
  a->prompt.yesno = yesno;
  snprintf(a->prompt.label, sizeof a->prompt.label, "%s", label ? label : "");
  a->prompt.done = fn;
  a->prompt.arg = arg;
  if (initial) {
    size_t len = strlen(initial), i = 0;
    while (i < len && a->prompt.n < (int)(sizeof a->prompt.buf /
                                           sizeof a->prompt.buf[0]) - 1)
      a->prompt.buf[a->prompt.n++] = tui__utf8_next(initial, len, &i);
    a->prompt.cur = a->prompt.n;
  }
  a->dirty = 1;
}

void tui__app_prompt(tui_app *a, const char *label, const char *initial,
                     tui_prompt_fn fn, void *arg) {
  prompt_open(a, 0, label, initial, fn, arg);
}

void tui__app_confirm(tui_app *a, const char *question, tui_prompt_fn fn,
                      void *arg) {
  prompt_open(a, 1, question, NULL, fn, arg);
}

char *tui__app_prompt_text(const tui_app *a) {
  if (!a->prompt.active) return NULL;
  char *s = malloc((size_t)a->prompt.n * 4 + 1);
  if (!s) return NULL;
  size_t o = 0;
  for (int k = 0; k < a->prompt.n; k++)
    o += (size_t)tui__utf8_put(a->prompt.buf[k], s + o);
  s[o] = 0;
  return s;
}

/* Close the prompt, then tell its owner (which may open another). */
static void prompt_finish(tui_app *a, int ok) {
  char *text = ok ? tui__app_prompt_text(a) : NULL;
  tui_prompt_fn fn = a->prompt.done;
  void *arg = a->prompt.arg;
  int yesno = a->prompt.yesno;
  memset(&a->prompt, 0, sizeof a->prompt);
  if (fn) fn(arg, a, yesno ? (ok ? "y" : NULL) : text);
  free(text);
}

static void prompt_key(tui_app *a, int key) {
  struct tui_prompt *p = &a->prompt;
  if (p->yesno) {
    prompt_finish(a, key == 'y' || key == 'Y');
    return;
  }
  int max = (int)(sizeof p->buf / sizeof p->buf[0]) - 1;
  switch (key) {
  case TUI_KEY_ENTER: prompt_finish(a, 1); return;
  case TUI_KEY_ESC: case TUI_KEY_CTRL('c'): case TUI_KEY_CTRL('g'):
    prompt_finish(a, 0);
    return;
  case TUI_KEY_LEFT: if (p->cur > 0) p->cur--; return;
  case TUI_KEY_RIGHT: if (p->cur < p->n) p->cur++; return;
  case TUI_KEY_HOME: case TUI_KEY_CTRL('a'): p->cur = 0; return;
  case TUI_KEY_END: case TUI_KEY_CTRL('e'): p->cur = p->n; return;
  case TUI_KEY_CTRL('u'): p->n = p->cur = 0; return;
  case TUI_KEY_BACKSPACE:
    if (p->cur == 0) {
      if (p->n == 0) prompt_finish(a, 0); /* like less and vim */
      return;
    }
    p->cur--;
    __attribute__((fallthrough));
  case TUI_KEY_DELETE:
    if (p->cur < p->n) {
      memmove(p->buf + p->cur, p->buf + p->cur + 1,
              (size_t)(p->n - p->cur - 1) * sizeof *p->buf);
      p->n--;
    }
    return;
  default:
    if (key < 0x20 || key >= 0x110000 || key == 0x7f || p->n >= max) return;
    memmove(p->buf + p->cur + 1, p->buf + p->cur,
            (size_t)(p->n - p->cur) * sizeof *p->buf);
    p->buf[p->cur++] = (wchar_t)key;
    p->n++;
    return;
  }
}

static void draw_prompt(tui_app *a) {
  tui_grid *g = &a->grid;
  int y = g->h - 1;
  tui__grid_fill(g, y, 0, g->w, L' ', 0);
  int x = 1;
  x += tui__grid_puts(g, y, x, g->w - 10, a->prompt.label,
                      TUI_C_ACCENT | TUI_A_BOLD);
  if (a->prompt.yesno) {
    x += tui__grid_puts(g, y, x, -1, " (y/n) ", TUI_A_BOLD);
    tui__grid_putc(g, y, x, L' ', TUI_A_REVERSE);
    return;
  }
  /* keep the cursor in view: scroll the text when it is too long */
  int room = g->w - x - 2;
  int from = 0;
  while (from < a->prompt.cur &&
         tui__rich_width(&(tui_rich){.ch = a->prompt.buf, .n = a->prompt.n},
                         from, a->prompt.cur) > room - 1)
    from++;
  int cx = x;
  for (int k = from; k <= a->prompt.n; k++) {
    wchar_t ch = k < a->prompt.n ? a->prompt.buf[k] : L' ';
    uint16_t st = k == a->prompt.cur ? TUI_A_REVERSE : 0;
    if (cx + tui__wcwidth(ch) > g->w - 1) break;
    cx += tui__grid_putc(g, y, cx, ch, st);
  }
}

/* ---- small widgets and bookkeeping for screens ---- */

void tui__draw_bar(tui_app *a, tui_grid *g, int y, int x, int w, double frac,
                   uint16_t st) {
  if (w < 1) return;
  if (!(frac >= 0)) frac = 0;
  if (frac > 1) frac = 1;
  int full = (int)(frac * w + 0.5);
  if (full == 0 && frac > 0) full = 1; /* started shows as started */
  if (full == w && frac < 1) full = w - 1;
  const char *f = tui__glyph(!a->utf8, TUI_G_BAR_FULL);
  const char *e = tui__glyph(!a->utf8, TUI_G_BAR_EMPTY);
  for (int k = 0; k < w; k++)
    tui__grid_puts(g, y, x + k, 1, k < full ? f : e,
                   k < full ? st : TUI_C_MUTED);
}

void tui__app_left_item(tui_app *a, const char *item, double seconds) {
  if (!a->db || !item) return;
  if (db_time_add(a->db, item, seconds) == 0) a->progress_gen++;
}

void tui__app_opened_item(tui_app *a, const char *item) {
  if (a->db && item) db_setting_set(a->db, "last_item", item);
}

char *tui__app_path(const tui_app *a, const char *p) {
  if (!p) return NULL;
  if (p[0] == '/' || access(p, F_OK) == 0 || !a->course_root)
    return strdup(p);
  size_t n = strlen(a->course_root) + strlen(p) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", a->course_root, p);
  return s;
}

int tui__scroll(int action, int *pos, int nlines, int page) {
  int p = *pos;
  if (page < 1) page = 1;
  int max = nlines - page;
  if (max < 0) max = 0;
  switch (action) {
  case TUI_ACT_UP: p--; break;
  case TUI_ACT_DOWN: p++; break;
  case TUI_ACT_PGUP: p -= page > 2 ? page - 1 : 1; break;
  case TUI_ACT_PGDN: p += page > 2 ? page - 1 : 1; break;
  case TUI_ACT_HOME: p = 0; break;
  case TUI_ACT_END: p = max; break;
  default: return 0;
  }
  if (p > max) p = max;
  if (p < 0) p = 0;
  *pos = p;
  return 1;
}

void tui__draw_doc(tui_grid *g, const tui_doc *d, int first, int top, int h,
                   int x, int w) {
  for (int r = 0; r < h; r++) {
    int k = first + r;
    if (k < 0 || k >= d->n) continue;
    tui__grid_rich(g, top + r, x, w, &d->lines[k].t);
  }
}

void tui__draw_error_panel(tui_app *a, tui_grid *g, int top, int h,
                           const char *title, const char *text,
                           const char *footer) {
  int bw = g->w - 4 < 100 ? g->w - 4 : 100;
  int bx = (g->w - bw) / 2;
  tui_doc d = {0};
  tui_rich r = {0};
  tui__rich_puts(&r, text ? text : "", (size_t)-1, TUI_C_FAIL);
  tui__wrap(&d, &r, bw - 4, NULL, NULL, 0);
  int bh = d.n + 6;
  if (bh > h) bh = h;
  int by = top + (h - bh) / 3;
  tui__grid_box(g, by, bx, bh, bw, TUI_C_FAIL, !a->utf8);
  tui__grid_puts(g, by, bx + 2, bw - 4, " ", TUI_C_FAIL);
  int tw = tui__grid_puts(g, by, bx + 3, bw - 6, title, TUI_C_FAIL | TUI_A_BOLD);
  tui__grid_puts(g, by, bx + 3 + tw, 1, " ", TUI_C_FAIL);
  tui__draw_doc(g, &d, 0, by + 2, bh - 5 > 0 ? bh - 5 : 0, bx + 2, bw - 4);
  if (footer) tui__grid_puts(g, by + bh - 2, bx + 2, bw - 4, footer, 0);
  tui__doc_free(&d);
  tui__rich_free(&r);
}

void tui__app_sync_size(tui_app *a) {
  int w, h;
  tui__term_size(&w, &h);
  if (w == a->w && h == a->h) return;
  a->w = w;
  a->h = h;
  if (tui__grid_resize(&a->grid, w, h) != 0) {
    a->quit = 1;
    return;
  }
  for (int k = 0; k < a->depth; k++) {
    tui_screen *s = a->stack[k];
    if (s->vt->resize) s->vt->resize(s, a, w, h - 2);
  }
  a->dirty = 1;
}

/* ---- drawing ---- */

static int too_small(const tui_app *a) {
  return a->w < TUI_MIN_W || a->h < TUI_MIN_H;
}

static void draw_too_small(tui_app *a) {
  tui_grid *g = &a->grid;
  char line[96];
  snprintf(line, sizeof line, "terminal too small: need %dx%d, have %dx%d",
           TUI_MIN_W, TUI_MIN_H, a->w, a->h);
  const char *l2 = "enlarge the window, or press q to quit";
  int y = g->h / 2 - 1;
  int x1 = (g->w - (int)strlen(line)) / 2;
  int x2 = (g->w - (int)strlen(l2)) / 2;
  tui__grid_puts(g, y < 0 ? 0 : y, x1 < 0 ? 0 : x1, -1, line,
                 TUI_C_WARN | TUI_A_BOLD);
  tui__grid_puts(g, y + 2, x2 < 0 ? 0 : x2, -1, l2, 0);
}

static void draw_title(tui_app *a, tui_screen *s) {
  tui_grid *g = &a->grid;
  tui__grid_fill(g, 0, 0, g->w, L' ', TUI_C_BAR);
  int x = 1;
  x += tui__grid_puts(g, 0, x, -1, "parlab", TUI_C_BAR | TUI_A_BOLD);
  if (s->crumb[0]) {
    x += tui__grid_puts(g, 0, x, -1, " ", TUI_C_BAR);
    x += tui__grid_puts(g, 0, x, -1, tui__glyph(!a->utf8, TUI_G_CRUMB),
                        TUI_C_BAR);
    x += tui__grid_puts(g, 0, x, -1, " ", TUI_C_BAR);
    tui__grid_puts(g, 0, x, g->w - x - 1, s->crumb, TUI_C_BAR);
  }
}

static void draw_status(tui_app *a, tui_screen *s) {
  tui_grid *g = &a->grid;
  int y = g->h - 1;
  tui__grid_fill(g, y, 0, g->w, L' ', TUI_C_BAR);
  int x = 1;
  x += tui__grid_puts(g, y, x, -1, s->where, TUI_C_BAR | TUI_A_BOLD);
  x += tui__grid_puts(g, y, x, -1, "  ", TUI_C_BAR);
  if (a->msg[0]) {
    tui__grid_puts(g, y, x, g->w - x - 1, a->msg,
                   TUI_C_BAR | (a->msg_warn ? TUI_A_BOLD : 0));
    return;
  }
  const tui_binding *tabs[2] = {s->vt->keys, global_keys};
  for (int t = 0; t < 2; t++) {
    for (const tui_binding *b = tabs[t]; b && b->label; b++) {
      if (!b->hint) continue;
      int hw = (int)strlen(b->hint);
      /* a long hint that does not fit may leave room for a later one */
      if (x + hw + 2 > g->w - 1) continue;
      if (a->nhint_hit < (int)(sizeof a->hint_hit / sizeof a->hint_hit[0])) {
        a->hint_hit[a->nhint_hit].x0 = x;
        a->hint_hit[a->nhint_hit].x1 = x + hw;
        a->hint_hit[a->nhint_hit].key = b->keys[0];
        a->nhint_hit++;
      }
      x += tui__grid_puts(g, y, x, -1, b->hint, TUI_C_BAR);
      x += tui__grid_puts(g, y, x, -1, "  ", TUI_C_BAR);
    }
  }
}

static void draw_help(tui_app *a, tui_screen *s) {
  tui_grid *g = &a->grid;
  const tui_binding *tabs[2] = {s->vt->keys, global_keys};
  int n = 0, lw = 0, hw = 0;
  for (int t = 0; t < 2; t++)
    for (const tui_binding *b = tabs[t]; b && b->label; b++) {
      int w = (int)strlen(b->label);
      if (w > lw) lw = w;
      w = (int)strlen(b->help);
      if (w > hw) hw = w;
      n++;
    }
  /* as wide as the longest line needs, within the screen */
  int bw = lw + hw + 9;
  if (bw < 40) bw = 40;
  if (bw > g->w - 4) bw = g->w - 4;
  int bh = n + 6;
  if (bh > g->h - 2) bh = g->h - 2;
  int bx = (g->w - bw) / 2, by = (g->h - bh) / 2;
  tui__grid_box(g, by, bx, bh, bw, TUI_C_ACCENT, !a->utf8);
  char title[128];
  snprintf(title, sizeof title, " Keys: %s ",
           s->help_name ? s->help_name : s->vt->name);
  tui__grid_puts(g, by, bx + 2, bw - 4, title, TUI_C_ACCENT | TUI_A_BOLD);
  int y = by + 2;
  for (int t = 0; t < 2; t++)
    for (const tui_binding *b = tabs[t]; b && b->label; b++) {
      if (y >= by + bh - 3) break;
      tui__grid_puts(g, y, bx + 3, lw, b->label, TUI_C_ACCENT | TUI_A_BOLD);
      tui__grid_puts(g, y, bx + 5 + lw, bw - lw - 8, b->help, 0);
      y++;
    }
  tui__grid_puts(g, by + bh - 2, bx + 3, bw - 6, "press any key to close",
                 TUI_C_MUTED);
}

static void render(tui_app *a) {
  tui_grid *g = &a->grid;
  tui__grid_clear(g);
  a->nhint_hit = 0;
  if (too_small(a)) {
    draw_too_small(a);
  } else if (a->depth > 0) {
    tui_screen *s = a->stack[a->depth - 1];
    s->vt->draw(s, a, g, 1, g->h - 2);
    draw_title(a, s);
    if (a->prompt.active) draw_prompt(a);
    else draw_status(a, s);
    if (a->help) draw_help(a, s);
  }
  tui__term_flush(g, a->utf8);
  if (a->dump_path) tui__grid_dump(g, a->dump_path);
}

/* ---- input ---- */

static int lookup(const tui_binding *t, int key) {
  for (const tui_binding *b = t; b && b->label; b++)
    for (int k = 0; k < 4 && b->keys[k]; k++)
      if (b->keys[k] == key) return b->action;
  return 0;
}

static void do_pops(tui_app *a) {
  while (a->pop_req > 0 && a->depth > 0) {
    tui_screen *s = a->stack[--a->depth];
    s->vt->free(s, a);
    a->pop_req--;
  }
  a->pop_req = 0;
  a->dirty = 1;
}

static void handle_key(tui_app *a, int key);

/* Wheel: three lines per notch, through the screen's scroll actions.
 * Click: a status-line hint presses its key; elsewhere the screen decides. */
static void handle_mouse(tui_app *a) {
  tui_mouse m;
  tui__term_mouse(&m);
  if (a->help) {
    a->help = 0;
    return;
  }
  if (a->prompt.active || too_small(a) || a->depth == 0) return;
  tui_screen *s = a->stack[a->depth - 1];
  if (m.kind == TUI_MOUSE_WHEEL_UP || m.kind == TUI_MOUSE_WHEEL_DOWN) {
    if (a->msg[0]) a->msg[0] = 0;
    for (int k = 0; k < 3; k++)
      s->vt->key(s, a, m.kind == TUI_MOUSE_WHEEL_UP ? TUI_ACT_UP : TUI_ACT_DOWN,
                 TUI_KEY_MOUSE);
    do_pops(a);
    return;
  }
  if (m.y == a->h - 1) {
    for (int k = 0; k < a->nhint_hit; k++)
      if (m.x >= a->hint_hit[k].x0 && m.x < a->hint_hit[k].x1) {
        handle_key(a, a->hint_hit[k].key);
        return;
      }
    return;
  }
  if (m.y >= 1 && m.y < a->h - 1 && s->vt->click) {
    if (a->msg[0]) a->msg[0] = 0;
    s->vt->click(s, a, m.x, m.y);
    do_pops(a);
  }
}

static void handle_key(tui_app *a, int key) {
  a->dirty = 1;
  if (key == TUI_KEY_RESIZE) {
    tui__app_sync_size(a);
    return;
  }
  if (key == TUI_KEY_MOUSE) {
    handle_mouse(a);
    return;
  }
  if (a->help) { /* any key closes the overlay */
    a->help = 0;
    return;
  }
  if (too_small(a)) {
    if (key == 'q' || key == 'Q') a->quit = 1;
    return;
  }
  if (a->prompt.active) {
    prompt_key(a, key);
    do_pops(a);
    return;
  }
  tui_screen *s = a->stack[a->depth - 1];
  int act = lookup(global_keys, key);
  if (act == ACT_HELP) {
    a->help = 1;
    return;
  }
  if (act == ACT_REDRAW) {
    tui__term_redraw();
    return;
  }
  if (a->msg[0]) a->msg[0] = 0; /* a key acknowledges the message */
  s->vt->key(s, a, lookup(s->vt->keys, key), key);
  do_pops(a);
}

/* ---- setup and teardown ---- */

static int app_init(tui_app *a, const tui_opts *o) {
  a->opts = o;
  int rc = grd_home(o->home, &a->home);
  if (rc != 0) return rc;
  a->course_root = strdup(o->course_root ? o->course_root : ".");
  if (!a->course_root) return PL_ENOMEM;
  const char *dump = getenv("PARLAB_TUI_DUMP");
  if (dump && *dump && !(a->dump_path = strdup(dump))) return PL_ENOMEM;

  size_t n = strlen(a->home) + 16;
  char *dbp = malloc(n);
  if (!dbp) return PL_ENOMEM;
  snprintf(dbp, n, "%s/parlab.db", a->home);
  if (db_open(dbp, &a->db, &a->db_err) != 0) a->db = NULL;
  free(dbp);

  if (lx_course_load(a->course_root, &a->course, &a->course_err) != 0) {
    a->course = NULL;
    if (!a->course_err) a->course_err = strdup("unknown error");
  }
  return 0;
}

static void app_free(tui_app *a) {
  while (a->depth > 0) {
    tui_screen *s = a->stack[--a->depth];
    s->vt->free(s, a);
  }
  tui__grid_free(&a->grid);
  if (a->db) db_close(a->db);
  lx_course_free(a->course);
  free(a->course_err);
  free(a->db_err);
  free(a->home);
  free(a->course_root);
  free(a->dump_path);
}

int tui_main(const tui_opts *o) {
  tui_app a;
  memset(&a, 0, sizeof a);
  int code = 0;
  char *err = NULL;
  setlocale(LC_ALL, "");
  /* scores and times are printed with %g: keep the decimal point a '.' */
  setlocale(LC_NUMERIC, "C");
  a.utf8 = tui__utf8_locale(0);
  int rc = app_init(&a, o);
  if (rc != 0) {
    fprintf(stderr, "parlab: cannot start the courseware: %s\n",
            pl_strerror(rc));
    code = 3;
    goto done;
  }
  int want_color = !o->no_color && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
  if (tui__term_open(want_color, &a.color, &err) != 0) {
    fprintf(stderr, "parlab: %s\n", err ? err : "cannot open the terminal");
    code = 3;
    goto done;
  }
  tui__term_size(&a.w, &a.h);
  if (tui__grid_resize(&a.grid, a.w, a.h) != 0) {
    tui__term_close();
    fprintf(stderr, "parlab: out of memory\n");
    code = 4;
    goto done;
  }
  if (tui__app_push(&a, tui__map_new(&a)) != 0) {
    tui__term_close();
    fprintf(stderr, "parlab: out of memory\n");
    code = 4;
    goto done;
  }
  if (a.db_err)
    tui__app_msg(&a, 1, "progress will not be saved: %s", a.db_err);

  a.dirty = 1;
  while (!a.quit && a.depth > 0) {
    for (int k = 0; k < a.depth; k++) {
      tui_screen *s = a.stack[k];
      if (s->vt->tick && s->vt->tick(s, &a)) a.dirty = 1;
    }
    if (a.msg[0] && tui__now() > a.msg_until) {
      a.msg[0] = 0;
      a.dirty = 1;
    }
    if (a.dirty) {
      render(&a);
      a.dirty = 0;
    }
    a.tick++;
    int key = tui__term_getkey();
    if (key != TUI_KEY_NONE) handle_key(&a, key);
  }
  tui__term_close();
done:
  free(err);
  app_free(&a);
  return code;
}
