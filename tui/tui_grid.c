/*
 * tui_grid.c — the in-memory screen: a w x h array of styled cells that
 * screens draw into. Flushed to curses by tui_term.c; readable as text here
 * (PARLAB_TUI_DUMP, tests). No curses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pl_err.h"
#include "tui_int.h"

int tui__grid_resize(tui_grid *g, int w, int h) {
  if (w < 1) w = 1;
  if (h < 1) h = 1;
  if (w == g->w && h == g->h && g->c) return 0;
  tui_cell *c = calloc((size_t)w * (size_t)h, sizeof *c);
  if (!c) return PL_ENOMEM;
  free(g->c);
  g->c = c;
  g->w = w;
  g->h = h;
  tui__grid_clear(g);
  return 0;
}

void tui__grid_free(tui_grid *g) {
  free(g->c);
  memset(g, 0, sizeof *g);
}

void tui__grid_clear(tui_grid *g) {
  for (int k = 0; k < g->w * g->h; k++) {
    g->c[k].ch = L' ';
    g->c[k].st = 0;
    g->c[k].w = 1;
  }
}

static tui_cell *at(tui_grid *g, int y, int x) { return &g->c[y * g->w + x]; }

/* Blank both halves of a wide character that (x) is part of. */
static void unsplit(tui_grid *g, int y, int x) {
  tui_cell *c = at(g, y, x);
  if (c->w == 0 && x > 0) {
    tui_cell *l = at(g, y, x - 1);
    l->ch = L' ';
    l->w = 1;
  } else if (c->w == 2 && x + 1 < g->w) {
    tui_cell *r = at(g, y, x + 1);
    r->ch = L' ';
    r->w = 1;
  }
  c->ch = L' ';
  c->w = 1;
}

int tui__grid_putc(tui_grid *g, int y, int x, wchar_t ch, uint16_t st) {
  if (y < 0 || y >= g->h || x < 0 || x >= g->w) return 0;
  int cw = tui__wcwidth(ch);
  if (cw == 0) return 0; /* combining marks and controls are dropped */
  if (x + cw > g->w) return 0;
  unsplit(g, y, x);
  if (cw == 2) unsplit(g, y, x + 1);
  tui_cell *c = at(g, y, x);
  c->ch = ch;
  c->st = st;
  c->w = (uint8_t)cw;
  if (cw == 2) {
    tui_cell *r = at(g, y, x + 1);
    r->ch = 0;
    r->st = st;
    r->w = 0;
  }
  return cw;
}

int tui__grid_puts(tui_grid *g, int y, int x, int maxw, const char *s,
                   uint16_t st) {
  if (!s) return 0;
  if (maxw < 0 || x + maxw > g->w) maxw = g->w - x;
  size_t len = strlen(s), i = 0;
  int used = 0;
  while (i < len) {
    wchar_t ch = tui__utf8_next(s, len, &i);
    int cw = tui__wcwidth(ch);
    if (used + cw > maxw) break;
    used += tui__grid_putc(g, y, x + used, ch, st);
  }
  return used;
}

int tui__grid_rich(tui_grid *g, int y, int x, int maxw, const tui_rich *r) {
  if (maxw < 0 || x + maxw > g->w) maxw = g->w - x;
  int used = 0;
  for (int k = 0; k < r->n; k++) {
    int cw = tui__wcwidth(r->ch[k]);
    if (used + cw > maxw) break;
    used += tui__grid_putc(g, y, x + used, r->ch[k], r->st[k]);
  }
  return used;
}

void tui__grid_fill(tui_grid *g, int y, int x, int w, wchar_t ch,
                    uint16_t st) {
  for (int k = 0; k < w; k++) tui__grid_putc(g, y, x + k, ch, st);
}

void tui__grid_restyle(tui_grid *g, int y, int x, int w, uint16_t st) {
  if (y < 0 || y >= g->h) return;
  for (int k = x < 0 ? 0 : x; k < x + w && k < g->w; k++) {
    tui_cell *c = at(g, y, k);
    /* keep a cell's colour role unless the new style brings its own */
    uint16_t role = (st & TUI_C_MASK) ? (st & TUI_C_MASK) : (c->st & TUI_C_MASK);
    c->st = (uint16_t)((c->st & ~TUI_C_MASK) | (st & ~TUI_C_MASK) | role);
  }
}

void tui__grid_box(tui_grid *g, int y, int x, int h, int w, uint16_t st,
                   int ascii) {
  if (h < 2 || w < 2) return;
  wchar_t gl[TUI_G_COUNT];
  static const int want[] = {TUI_G_H, TUI_G_V, TUI_G_TL, TUI_G_TR, TUI_G_BL,
                             TUI_G_BR};
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    const char *s = tui__glyph(ascii, want[k]);
    size_t i = 0;
    gl[want[k]] = tui__utf8_next(s, strlen(s), &i);
  }
  for (int r = y; r < y + h; r++) tui__grid_fill(g, r, x, w, L' ', 0);
  tui__grid_fill(g, y, x + 1, w - 2, gl[TUI_G_H], st);
  tui__grid_fill(g, y + h - 1, x + 1, w - 2, gl[TUI_G_H], st);
  for (int r = y + 1; r < y + h - 1; r++) {
    tui__grid_putc(g, r, x, gl[TUI_G_V], st);
    tui__grid_putc(g, r, x + w - 1, gl[TUI_G_V], st);
  }
  tui__grid_putc(g, y, x, gl[TUI_G_TL], st);
  tui__grid_putc(g, y, x + w - 1, gl[TUI_G_TR], st);
  tui__grid_putc(g, y + h - 1, x, gl[TUI_G_BL], st);
  tui__grid_putc(g, y + h - 1, x + w - 1, gl[TUI_G_BR], st);
}

char *tui__grid_text(const tui_grid *g) {
  size_t cap = (size_t)g->w * (size_t)g->h * 4 + (size_t)g->h + 1;
  char *s = malloc(cap);
  if (!s) return NULL;
  size_t o = 0;
  for (int y = 0; y < g->h; y++) {
    size_t keep = o;
    for (int x = 0; x < g->w; x++) {
      const tui_cell *c = &g->c[y * g->w + x];
      if (c->w == 0) continue;
      o += (size_t)tui__utf8_put(c->ch, s + o);
      if (c->ch != L' ') keep = o;
    }
    o = keep;
    s[o++] = '\n';
  }
  s[o] = 0;
  return s;
}

int tui__grid_dump(const tui_grid *g, const char *path) {
  char *text = tui__grid_text(g);
  if (!text) return PL_ENOMEM;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  int rc = 0;
  FILE *f = NULL;
  if (!tmp) { rc = PL_ENOMEM; goto done; }
  snprintf(tmp, plen + 32, "%s.%ld.tmp", path, (long)getpid());
  f = fopen(tmp, "w");
  if (!f) { rc = PL_EIO; goto done; }
  size_t n = strlen(text);
  if (fwrite(text, 1, n, f) != n) rc = PL_EIO;
  if (fclose(f) != 0) rc = PL_EIO;
  f = NULL;
  if (rc == 0 && rename(tmp, path) != 0) rc = PL_EIO;
  if (rc != 0) unlink(tmp);
done:
  free(tmp);
  free(text);
  return rc;
}
