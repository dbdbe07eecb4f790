/*
 * tui_text.c — the text model: styled wide-character runs, laid-out
 * documents, UTF-8 conversion, character widths and glyphs. No curses.
 */
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pl_err.h"
#include "tui_int.h"

/* ---- glyphs ---- */

static const char *const glyph_utf8[TUI_G_COUNT] = {
  [TUI_G_BULLET1] = "\u2022", [TUI_G_BULLET2] = "\u25e6",
  [TUI_G_BULLET3] = "\u25aa",
  [TUI_G_H] = "\u2500", [TUI_G_V] = "\u2502", [TUI_G_TL] = "\u250c",
  [TUI_G_TM] = "\u252c", [TUI_G_TR] = "\u2510", [TUI_G_ML] = "\u251c",
  [TUI_G_MM] = "\u253c", [TUI_G_MR] = "\u2524", [TUI_G_BL] = "\u2514",
  [TUI_G_BM] = "\u2534", [TUI_G_BR] = "\u2518",
  [TUI_G_HH] = "\u2550", [TUI_G_HML] = "\u255e", [TUI_G_HMM] = "\u256a",
  [TUI_G_HMR] = "\u2561",
  [TUI_G_RULE1] = "\u2550", [TUI_G_RULE2] = "\u2500",
  [TUI_G_QUOTE] = "\u2502", [TUI_G_CHECK] = "\u2713", [TUI_G_CROSS] = "\u2717",
  [TUI_G_SKIP] = "\u2212", [TUI_G_DOT] = "\u00b7", [TUI_G_CRUMB] = "\u203a",
  [TUI_G_ELLIPSIS] = "\u2026", [TUI_G_TASK_ON] = "[x]",
  [TUI_G_TASK_OFF] = "[ ]", [TUI_G_DASH] = "\u2014",
  [TUI_G_BAR_FULL] = "\u2588", [TUI_G_BAR_EMPTY] = "\u2591",
  [TUI_G_PLAY] = "\u25b6", [TUI_G_RADIO_ON] = "\u25c9",
  [TUI_G_RADIO_OFF] = "\u25cb",
};

static const char *const glyph_ascii[TUI_G_COUNT] = {
  [TUI_G_BULLET1] = "*", [TUI_G_BULLET2] = "-", [TUI_G_BULLET3] = "+",
  [TUI_G_H] = "-", [TUI_G_V] = "|", [TUI_G_TL] = "+", [TUI_G_TM] = "+",
  [TUI_G_TR] = "+", [TUI_G_ML] = "+", [TUI_G_MM] = "+", [TUI_G_MR] = "+",
  [TUI_G_BL] = "+", [TUI_G_BM] = "+", [TUI_G_BR] = "+",
  [TUI_G_HH] = "=", [TUI_G_HML] = "+", [TUI_G_HMM] = "+", [TUI_G_HMR] = "+",
  [TUI_G_RULE1] = "=", [TUI_G_RULE2] = "-",
  [TUI_G_QUOTE] = "|", [TUI_G_CHECK] = "+", [TUI_G_CROSS] = "x",
  [TUI_G_SKIP] = "-", [TUI_G_DOT] = ".", [TUI_G_CRUMB] = ">",
  [TUI_G_ELLIPSIS] = "...", [TUI_G_TASK_ON] = "[x]",
  [TUI_G_TASK_OFF] = "[ ]", [TUI_G_DASH] = "-",
  [TUI_G_BAR_FULL] = "#", [TUI_G_BAR_EMPTY] = ".",
  [TUI_G_PLAY] = ">", [TUI_G_RADIO_ON] = "(*)", [TUI_G_RADIO_OFF] = "( )",
};

const char *tui__glyph(int ascii, int g) {
  if (g < 0 || g >= TUI_G_COUNT) return "?";
  return ascii ? glyph_ascii[g] : glyph_utf8[g];
}

const char *tui__spinner(int ascii, unsigned i) {
  static const char *const u[] = {"\u280b", "\u2819", "\u2839", "\u2838",
                                  "\u283c", "\u2834", "\u2826", "\u2827",
                                  "\u2807", "\u280f"};
  static const char *const a[] = {"|", "/", "-", "\\"};
  return ascii ? a[i % 4] : u[i % 10];
}

/* ---- characters ---- */

/* Used when wcwidth() cannot tell (C locale): East Asian wide ranges and
 * the common combining marks. */
static int fallback_width(wchar_t c) {
  if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return 0;
  if ((c >= 0x0300 && c <= 0x036f) || (c >= 0x200b && c <= 0x200f) ||
      (c >= 0xfe00 && c <= 0xfe0f))
    return 0;
  if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd))
    return 2;
  return 1;
}

int tui__wcwidth(wchar_t c) {
  if (c < 0x7f) return c >= 0x20 ? 1 : 0;
  int w = wcwidth(c);
  if (w >= 0) return w > 2 ? 2 : w;
  return fallback_width(c);
}

wchar_t tui__utf8_next(const char *s, size_t len, size_t *i) {
  const unsigned char *p = (const unsigned char *)s + *i;
  size_t left = len - *i;
  unsigned c = p[0];
  if (c < 0x80) {
    (*i)++;
    return (wchar_t)c;
  }
  int n;
  unsigned cp, min;
  if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; min = 0x80; }
  else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; min = 0x800; }
  else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; min = 0x10000; }
  else { (*i)++; return 0xfffd; }
  if ((size_t)n >= left) { (*i)++; return 0xfffd; }
  for (int k = 1; k <= n; k++) {
    if ((p[k] & 0xc0) != 0x80) { (*i)++; return 0xfffd; }
    cp = (cp << 6) | (p[k] & 0x3f);
  }
  *i += (size_t)n + 1;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0xfffd;
  return (wchar_t)cp;
}

int tui__utf8_put(wchar_t wc, char out[4]) {
  unsigned c = (unsigned)wc;
  if (c < 0x80) { out[0] = (char)c; return 1; }
  if (c < 0x800) {
    out[0] = (char)(0xc0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3f));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xe0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[2] = (char)(0x80 | (c & 0x3f));
    return 3;
  }
  if (c > 0x10ffff) c = 0xfffd;
  out[0] = (char)(0xf0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
  out[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

/* "UTF-8", "utf8", "en_US.UTF-8" ... in any case. */
static int has_utf8(const char *s) {
  for (; s && *s; s++) {
    if (strncasecmp(s, "utf", 3)) continue;
    const char *t = s + 3;
    if (*t == '-') t++;
    if (*t == '8') return 1;
  }
  return 0;
}

int tui__utf8_locale(int trust_env) {
  const char *cs = nl_langinfo(CODESET);
  if (has_utf8(cs)) return 1;
  if (!trust_env) return 0;
  /* A program that never called setlocale() still runs in "C"; then the
   * environment says what the terminal expects. */
  const char *cur = setlocale(LC_CTYPE, NULL);
  if (cur && strcmp(cur, "C") && strcmp(cur, "POSIX")) return 0;
  const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
  for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) {
    const char *v = getenv(vars[k]);
    if (v && *v) return has_utf8(v);
  }
  return 0;
}

double tui__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- rich text ---- */

static int rich_reserve(tui_rich *r, int extra) {
  if (r->oom) return -1;
  if (r->n + extra <= r->cap) return 0;
  int cap = r->cap ? r->cap : 32;
  while (cap < r->n + extra) cap *= 2;
  wchar_t *ch = realloc(r->ch, (size_t)cap * sizeof *ch);
  if (!ch) { r->oom = 1; return -1; }
  r->ch = ch;
  uint16_t *st = realloc(r->st, (size_t)cap * sizeof *st);
  if (!st) { r->oom = 1; return -1; }
  r->st = st;
  r->cap = cap;
  return 0;
}

void tui__rich_putc(tui_rich *r, wchar_t c, uint16_t st) {
  if (rich_reserve(r, 1)) return;
  r->ch[r->n] = c;
  r->st[r->n] = st;
  r->n++;
}

void tui__rich_puts(tui_rich *r, const char *s, size_t len, uint16_t st) {
  if (!s) return;
  if (len == (size_t)-1) len = strlen(s);
  size_t i = 0;
  while (i < len) tui__rich_putc(r, tui__utf8_next(s, len, &i), st);
}

void tui__rich_printf(tui_rich *r, uint16_t st, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof buf) {
    tui__rich_puts(r, buf, (size_t)n, st);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) { r->oom = 1; return; }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  tui__rich_puts(r, big, (size_t)n, st);
  free(big);
}

void tui__rich_append(tui_rich *r, const tui_rich *src) {
  if (!src || src->n == 0) return;
  if (src->oom) r->oom = 1;
  if (rich_reserve(r, src->n)) return;
  memcpy(r->ch + r->n, src->ch, (size_t)src->n * sizeof *r->ch);
  memcpy(r->st + r->n, src->st, (size_t)src->n * sizeof *r->st);
  r->n += src->n;
}

void tui__rich_clear(tui_rich *r) { r->n = 0; }

void tui__rich_free(tui_rich *r) {
  free(r->ch);
  free(r->st);
  memset(r, 0, sizeof *r);
}

int tui__rich_width(const tui_rich *r, int from, int to) {
  int w = 0;
  if (to > r->n) to = r->n;
  for (int k = from < 0 ? 0 : from; k < to; k++) w += tui__wcwidth(r->ch[k]);
  return w;
}

void tui__rich_rtrim(tui_rich *r) {
  while (r->n > 0 && r->ch[r->n - 1] == L' ') r->n--;
}

/* ---- documents ---- */

tui_line *tui__doc_add(tui_doc *d, int src) {
  if (d->oom) return NULL;
  if (d->n == d->cap) {
    int cap = d->cap ? d->cap * 2 : 64;
    tui_line *l = realloc(d->lines, (size_t)cap * sizeof *l);
    if (!l) { d->oom = 1; return NULL; }
    d->lines = l;
    d->cap = cap;
  }
  tui_line *l = &d->lines[d->n++];
  memset(l, 0, sizeof *l);
  l->src = src;
  return l;
}

void tui__doc_free(tui_doc *d) {
  for (int k = 0; k < d->n; k++) tui__rich_free(&d->lines[k].t);
  free(d->lines);
  memset(d, 0, sizeof *d);
}

char *tui__line_utf8(const tui_line *l) {
  char *s = malloc((size_t)l->t.n * 4 + 1);
  if (!s) return NULL;
  size_t o = 0;
  for (int k = 0; k < l->t.n; k++) o += (size_t)tui__utf8_put(l->t.ch[k], s + o);
  s[o] = 0;
  return s;
}

int tui__read_file(const char *path, char **out, size_t *len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return PL_EIO; /* errno says why */
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  int rc = 0;
  if (!buf) { rc = PL_ENOMEM; goto done; }
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) { rc = PL_ENOMEM; goto done; }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) { rc = PL_EIO; goto done; }
  buf[n] = 0;
  *out = buf;
  buf = NULL;
  if (len) *len = n;
done:
  free(buf);
  fclose(f);
  return rc;
}
