/*
 * tui_screen_toc.c — a reader's table of contents: its headings, indented
 * by level; Enter jumps the reader (the screen below on the stack) to the
 * chosen heading and comes back to it.
 */
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"

typedef struct tui_toc {
  tui_screen base;
  const tui_mdinfo *info; /* the reader's, which outlives this screen */
  int *top;               /* the reader's first line shown */
  int sel, first, view;
} tui_toc;

static const tui_binding toc_keys[] = {
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "next heading", "jk move", TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "previous heading", NULL, TUI_ACT_UP},
  {{TUI_KEY_PGDN, ' ', 0}, "Space PgDn", "page down", NULL, TUI_ACT_PGDN},
  {{TUI_KEY_PGUP, 'b', 0}, "b PgUp", "page up", NULL, TUI_ACT_PGUP},
  {{'g', TUI_KEY_HOME, 0}, "g Home", "first heading", NULL, TUI_ACT_HOME},
  {{'G', TUI_KEY_END, 0}, "G End", "last heading", NULL, TUI_ACT_END},
  {{TUI_KEY_ENTER, 'l', TUI_KEY_RIGHT, 0}, "Enter l Right",
   "go to the heading", "Enter go", TUI_ACT_OPEN},
  {{'q', 't', TUI_KEY_ESC, TUI_KEY_LEFT}, "q t Esc Left",
   "back to the text", "q back", TUI_ACT_BACK},
  {{0}, NULL, NULL, NULL, 0},
};

static void keep_visible(tui_toc *t) {
  if (t->view < 1) return;
  if (t->sel < t->first) t->first = t->sel;
  if (t->sel >= t->first + t->view) t->first = t->sel - t->view + 1;
  if (t->first < 0) t->first = 0;
}

static void toc_draw(tui_screen *s, tui_app *a, tui_grid *g, int top, int h) {
  tui_toc *t = (tui_toc *)s;
  int n = t->info->nheads;
  tui__grid_puts(g, top + 1, 2, g->w - 4, "Contents", TUI_C_HEADING | TUI_A_BOLD);
  t->view = h - 4;
  keep_visible(t);
  int minlvl = 6;
  for (int k = 0; k < n; k++)
    if (t->info->heads[k].level < minlvl) minlvl = t->info->heads[k].level;
  for (int r = 0; r < t->view && t->first + r < n; r++) {
    int k = t->first + r;
    const tui_mdhead *hd = &t->info->heads[k];
    int y = top + 3 + r;
    int x = 4 + 2 * (hd->level - minlvl);
    uint16_t st = hd->level == minlvl ? TUI_A_BOLD : 0;
    tui__grid_puts(g, y, x, g->w - x - 2, hd->text, st);
    if (k == t->sel) {
      tui__grid_putc(g, y, 2, L'>', TUI_C_SEL);
      tui__grid_restyle(g, y, 2, g->w - 4, TUI_C_SEL);
    }
  }
  snprintf(s->where, sizeof s->where, "Contents %d/%d", t->sel + 1, n);
  (void)a;
}

static int toc_key(tui_screen *s, tui_app *a, int action, int key) {
  tui_toc *t = (tui_toc *)s;
  int n = t->info->nheads;
  (void)key;
  switch (action) {
  case TUI_ACT_OPEN:
    if (t->sel >= 0 && t->sel < n) *t->top = t->info->heads[t->sel].line;
    tui__app_pop(a);
    return 1;
  case TUI_ACT_BACK:
    tui__app_pop(a);
    return 1;
  default:
    if (action == TUI_ACT_PGUP || action == TUI_ACT_PGDN) {
      int step = t->view > 2 ? t->view - 1 : 1;
      t->sel += action == TUI_ACT_PGDN ? step : -step;
    } else if (action == TUI_ACT_UP) t->sel--;
    else if (action == TUI_ACT_DOWN) t->sel++;
    else if (action == TUI_ACT_HOME) t->sel = 0;
    else if (action == TUI_ACT_END) t->sel = n - 1;
    else return 0;
    if (t->sel >= n) t->sel = n - 1;
    if (t->sel < 0) t->sel = 0;
    return 1;
  }
}

static int toc_click(tui_screen *s, tui_app *a, int x, int y) {
  tui_toc *t = (tui_toc *)s;
  (void)x;
  int k = t->first + (y - 4); /* rows start at top + 3, top = 1 */
  if (k < 0 || k >= t->info->nheads) return 0;
  t->sel = k;
  return toc_key(s, a, TUI_ACT_OPEN, TUI_KEY_ENTER);
}

static void toc_resize(tui_screen *s, tui_app *a, int w, int h) {
  tui_toc *t = (tui_toc *)s;
  (void)a;
  (void)w;
  t->view = h - 4;
  keep_visible(t);
}

static void toc_free(tui_screen *s, tui_app *a) {
  (void)a;
  free(s);
}

static const tui_screen_vt toc_vt = {
  .name = "Contents",
  .keys = toc_keys,
  .draw = toc_draw,
  .key = toc_key,
  .resize = toc_resize,
  .tick = NULL,
  .free = toc_free,
  .click = toc_click,
};

tui_screen *tui__toc_new(tui_app *a, const char *crumb, const tui_mdinfo *info,
                         int *top, int current) {
  tui_toc *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  (void)a;
  t->base.vt = &toc_vt;
  snprintf(t->base.crumb, sizeof t->base.crumb, "%s", crumb ? crumb : "");
  snprintf(t->base.where, sizeof t->base.where, "Contents");
  t->info = info;
  t->top = top;
  t->sel = current;
  return &t->base;
}
