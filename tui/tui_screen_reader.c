/*
 * tui_screen_reader.c — a scrolling Markdown view: lectures (reading
 * position saved to the database on leave and restored on the next visit)
 * and pages such as a lab's reference solution.
 *
 * Besides scrolling it offers search (/ n N, smart case, matches shown in
 * reverse video), a table of contents (t), runnable Lua snippets (x runs
 * the block marked with a play sign, its output is laid out under the
 * block: the notebook idea) and, for lectures, the quiz (Q) announced in a
 * footer under the text.
 *
 * The position is the source line of the top line shown, so it survives a
 * different terminal width and the lines a snippet's output adds.
 */
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "pl_err.h"
#include "tui_int.h"

#define READER_MAX_WIDTH 100
#define SNIPPET_SECONDS 2.0

enum { ACT_SNIP_NEXT = TUI_ACT_SCREEN, ACT_SNIP_PREV };

typedef struct snip_out {
  char *text; /* NULL: not run */
  int failed;
  double secs;
} snip_out;

typedef struct hit {
  int line, col, len;
} hit;

typedef struct tui_reader {
  tui_screen base;
  char *md;
  size_t len;
  char *lecture_id; /* NULL: not a lecture, nothing recorded */
  char *title;
  char *chunk;      /* file name that snippet errors cite */
  char *err;
  char what[32];
  tui_doc doc;
  tui_mdinfo info;
  int laid_w; /* width the doc was laid out at; 0: lay out again */
  int body_n; /* lines of the text itself; the quiz footer follows */
  int top;
  int view;
  int restore; /* source line to show first after the next layout */

  snip_out *outs; /* per code block */
  int nouts;
  int cur_snip;   /* code block x runs; -1: none on screen */
  int sel_snip;   /* chosen with ] and [; counts while on screen */

  wchar_t pat[128];
  int npat, icase;
  hit *hits;
  int nhits, hit_at; /* hit_at: the current match, -1 none */

  int quiz_n;       /* questions; 0: no quiz */
  char *quiz_err;   /* the quiz file is broken */
  int quiz_gen;     /* progress_gen the footer was built at */
  int footer_line;  /* doc line of "Quiz: ..." */
  double opened;
  int ascii;        /* glyphs for the layout callbacks */
} tui_reader;

static const tui_binding lecture_keys[] = {
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "scroll down", "jk scroll", TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "scroll up", NULL, TUI_ACT_UP},
  {{' ', TUI_KEY_PGDN, 'f', 0}, "Space PgDn", "next page", NULL,
   TUI_ACT_PGDN},
  {{'b', TUI_KEY_PGUP, 0}, "b PgUp", "previous page", NULL, TUI_ACT_PGUP},
  {{'g', TUI_KEY_HOME, 0}, "g Home", "go to the top", NULL, TUI_ACT_HOME},
  {{'G', TUI_KEY_END, 0}, "G End", "go to the end", NULL, TUI_ACT_END},
  {{'/', 0}, "/", "search the text (smart case)", "/ search",
   TUI_ACT_SEARCH},
  {{'n', 0}, "n", "next match", NULL, TUI_ACT_NEXT},
  {{'N', 0}, "N", "previous match", NULL, TUI_ACT_PREV},
  {{'t', 0}, "t", "table of contents", "t contents", TUI_ACT_TOC},
  {{'x', 0}, "x", "run the marked Lua snippet; output shows under it",
   "x run", TUI_ACT_SNIPPET},
  {{']', 0}, "]", "next Lua snippet", NULL, ACT_SNIP_NEXT},
  {{'[', 0}, "[", "previous Lua snippet", NULL, ACT_SNIP_PREV},
  {{'Q', 0}, "Q", "take this lecture's quiz", "Q quiz", TUI_ACT_QUIZ},
  {{'q', TUI_KEY_ESC, TUI_KEY_LEFT, 0}, "q Esc Left", "go back", "q back",
   TUI_ACT_BACK},
  {{0}, NULL, NULL, NULL, 0},
};

/* Pages that are not lectures (a solution): no quiz. */
static const tui_binding page_keys[] = {
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "scroll down", "jk scroll", TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "scroll up", NULL, TUI_ACT_UP},
  {{' ', TUI_KEY_PGDN, 'f', 0}, "Space PgDn", "next page", "Space page",
   TUI_ACT_PGDN},
  {{'b', TUI_KEY_PGUP, 0}, "b PgUp", "previous page", NULL, TUI_ACT_PGUP},
  {{'g', TUI_KEY_HOME, 0}, "g Home", "go to the top", "g/G top/end",
   TUI_ACT_HOME},
  {{'G', TUI_KEY_END, 0}, "G End", "go to the end", NULL, TUI_ACT_END},
  {{'/', 0}, "/", "search the text (smart case)", "/ search",
   TUI_ACT_SEARCH},
  {{'n', 0}, "n", "next match", NULL, TUI_ACT_NEXT},
  {{'N', 0}, "N", "previous match", NULL, TUI_ACT_PREV},
  {{'q', TUI_KEY_ESC, TUI_KEY_LEFT, 0}, "q Esc Left", "go back", "q back",
   TUI_ACT_BACK},
  {{0}, NULL, NULL, NULL, 0},
};

static int top_src(const tui_reader *r) {
  for (int k = r->top; k < r->doc.n; k++)
    if (r->doc.lines[k].src > 0) return r->doc.lines[k].src;
  return 0;
}

static void seek_src(tui_reader *r, int src) {
  r->top = 0;
  if (src <= 1) return;
  for (int k = 0; k < r->doc.n; k++)
    if (r->doc.lines[k].src >= src) {
      r->top = k;
      return;
    }
}

static void clamp(tui_reader *r) {
  int max = r->doc.n - r->view;
  if (r->top > max) r->top = max;
  if (r->top < 0) r->top = 0;
}

/* ---- snippets' output, laid out under their blocks ---- */

/* Output is verbatim (columns matter in printed tables): each line is cut
 * into pieces of the room left after the prefix, never re-flowed. */
static void verbatim(tui_doc *d, const tui_rich *pf, const tui_rich *text,
                     int width) {
  int room = width - tui__rich_width(pf, 0, pf->n);
  if (room < 10) room = 10;
  int i = 0;
  do {
    tui_line *l = tui__doc_add(d, 0);
    if (!l) return;
    tui__rich_append(&l->t, pf);
    int col = 0;
    while (i < text->n) {
      int cw = tui__wcwidth(text->ch[i]);
      if (col + cw > room && col > 0) break;
      tui__rich_putc(&l->t, text->ch[i], text->st[i]);
      col += cw;
      i++;
    }
    tui__rich_rtrim(&l->t);
  } while (i < text->n);
}

static void after_code(void *arg, int index, tui_doc *d, int width) {
  tui_reader *r = arg;
  if (index < 0 || index >= r->nouts || !r->outs[index].text) return;
  const snip_out *o = &r->outs[index];
  tui_rich head = {0}, pf = {0}, body = {0}, none = {0};
  tui__rich_puts(&head, "    ", (size_t)-1, 0);
  if (o->failed)
    tui__rich_printf(&head, TUI_C_FAIL | TUI_A_BOLD, "%s error",
                     tui__glyph(r->ascii, TUI_G_CROSS));
  else
    tui__rich_printf(&head, TUI_C_OK | TUI_A_BOLD, "%s output",
                     tui__glyph(r->ascii, TUI_G_PLAY));
  tui__rich_printf(&head, TUI_C_MUTED, " (%.3f s)", o->secs);
  verbatim(d, &none, &head, width);
  tui__rich_puts(&pf, "    ", (size_t)-1, 0);
  tui__rich_puts(&pf, tui__glyph(r->ascii, TUI_G_QUOTE), (size_t)-1,
                 o->failed ? TUI_C_FAIL : TUI_C_MUTED);
  tui__rich_putc(&pf, L' ', 0);
  const char *s = o->text;
  if (!*s) {
    tui__rich_puts(&body, "(no output)", (size_t)-1, TUI_C_MUTED);
    verbatim(d, &pf, &body, width);
  }
  /* printed lines plain; a failure's message (the last lines) in red */
  int in_err = 0;
  while (*s) {
    const char *e = strchr(s, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (o->failed && (in_err || !strncmp(s, r->chunk, strlen(r->chunk)) ||
                      !e))
      in_err = 1;
    tui__rich_clear(&body);
    uint16_t st = in_err ? TUI_C_FAIL : TUI_C_NORMAL;
    /* tabs become 4 blanks; the runs between them are copied whole, as
     * one byte at a time would split UTF-8 sequences */
    for (size_t k = 0; k < n;) {
      if (s[k] == '\t') {
        tui__rich_puts(&body, "    ", 4, st);
        k++;
        continue;
      }
      size_t j = k;
      while (j < n && s[j] != '\t') j++;
      tui__rich_puts(&body, s + k, j - k, st);
      k = j;
    }
    verbatim(d, &pf, &body, width);
    if (!e) break;
    s = e + 1;
  }
  tui__rich_free(&head);
  tui__rich_free(&pf);
  tui__rich_free(&body);
}

/* ---- the quiz footer ---- */

static void footer_add(tui_reader *r, tui_app *a, int w, uint16_t st,
                       const char *text) {
  tui_rich t = {0};
  tui__rich_puts(&t, text, (size_t)-1, st);
  tui__wrap(&r->doc, &t, w, NULL, NULL, 0);
  tui__rich_free(&t);
  (void)a;
}

static void build_footer(tui_reader *r, tui_app *a) {
  /* drop the old footer */
  for (int k = r->body_n; k < r->doc.n; k++) tui__rich_free(&r->doc.lines[k].t);
  if (r->doc.n > r->body_n) r->doc.n = r->body_n;
  r->quiz_gen = a->progress_gen;
  r->footer_line = -1;
  if (!r->lecture_id) return;
  int w = r->laid_w;
  tui__doc_add(&r->doc, 0);
  tui_line *l = tui__doc_add(&r->doc, 0);
  if (l)
    for (int x = 0; x < w; x++)
      tui__rich_puts(&l->t, tui__glyph(!a->utf8, TUI_G_H), (size_t)-1,
                     TUI_C_MUTED);
  r->footer_line = r->doc.n;
  char buf[512];
  if (r->quiz_err) {
    footer_add(r, a, w, TUI_C_FAIL | TUI_A_BOLD,
               "The quiz for this lecture could not be loaded (Q shows why).");
    return;
  }
  if (r->quiz_n == 0) {
    footer_add(r, a, w, TUI_C_MUTED, "This lecture has no quiz yet.");
    return;
  }
  int answered = 0, correct = 0;
  if (a->db) db_quiz_progress(a->db, r->lecture_id, &answered, &correct);
  snprintf(buf, sizeof buf, "Quiz: %d question%s on this lecture. Press Q to %s.",
           r->quiz_n, r->quiz_n == 1 ? "" : "s",
           answered ? "take it again" : "take it");
  footer_add(r, a, w, TUI_C_ACCENT | TUI_A_BOLD, buf);
  if (answered) {
    snprintf(buf, sizeof buf, "So far: %d of %d answered, %d right.", answered,
             r->quiz_n, correct);
    footer_add(r, a, w, correct >= r->quiz_n ? TUI_C_OK : TUI_C_MUTED, buf);
  }
}

/* ---- search ---- */

static wchar_t fold(const tui_reader *r, wchar_t c) {
  return r->icase ? (wchar_t)towlower((wint_t)c) : c;
}

static void find_hits(tui_reader *r) {
  free(r->hits);
  r->hits = NULL;
  r->nhits = 0;
  if (r->npat == 0) {
    r->hit_at = -1;
    return;
  }
  int cap = 0;
  for (int k = 0; k < r->doc.n; k++) {
    const tui_rich *t = &r->doc.lines[k].t;
    for (int c = 0; c + r->npat <= t->n; c++) {
      int m = 0;
      while (m < r->npat && fold(r, t->ch[c + m]) == r->pat[m]) m++;
      if (m < r->npat) continue;
      if (r->nhits == cap) {
        cap = cap ? cap * 2 : 64;
        hit *h = realloc(r->hits, (size_t)cap * sizeof *h);
        if (!h) return;
        r->hits = h;
      }
      r->hits[r->nhits++] = (hit){k, c, r->npat};
      c += r->npat - 1;
    }
  }
  if (r->hit_at >= r->nhits) r->hit_at = r->nhits - 1;
}

/* Scroll so that line is in view, a third down when it was not. */
static void show_line(tui_reader *r, int line) {
  if (line >= r->top && line < r->top + r->view) return;
  r->top = line - r->view / 3;
  clamp(r);
}

static void goto_hit(tui_reader *r, tui_app *a, int dir) {
  if (r->npat == 0) {
    tui__app_msg(a, 0, "No search yet: press / to search");
    return;
  }
  if (r->nhits == 0) {
    tui__app_msg(a, 1, "Pattern not found");
    return;
  }
  int k;
  if (r->hit_at < 0) {
    /* the first match at or below the top of the screen */
    for (k = 0; k < r->nhits && r->hits[k].line < r->top; k++) {}
    if (k == r->nhits) k = 0;
  } else {
    k = r->hit_at + dir;
    if (k >= r->nhits) {
      k = 0;
      tui__app_msg(a, 0, "Search wrapped to the top");
    } else if (k < 0) {
      k = r->nhits - 1;
      tui__app_msg(a, 0, "Search wrapped to the bottom");
    }
  }
  r->hit_at = k;
  show_line(r, r->hits[k].line);
}

static void on_search(void *arg, tui_app *a, const char *text) {
  tui_reader *r = arg;
  if (!text) return;
  size_t len = strlen(text), i = 0;
  r->npat = 0;
  r->icase = 1;
  while (i < len && r->npat < (int)(sizeof r->pat / sizeof r->pat[0])) {
    wchar_t c = tui__utf8_next(text, len, &i);
    if (iswupper((wint_t)c)) r->icase = 0; /* smart case */
    r->pat[r->npat++] = c;
  }
  for (int k = 0; k < r->npat; k++) r->pat[k] = fold(r, r->pat[k]);
  r->hit_at = -1;
  find_hits(r);
  if (r->npat == 0) return;
  if (r->nhits == 0) {
    tui__app_msg(a, 1, "Pattern not found: %s", text);
    return;
  }
  goto_hit(r, a, 1);
}

/* ---- layout ---- */

static void layout(tui_reader *r, tui_app *a, int w) {
  int tw = w - 4 < READER_MAX_WIDTH ? w - 4 : READER_MAX_WIDTH;
  if (tw == r->laid_w || r->err) return;
  int keep = r->restore ? r->restore : top_src(r);
  tui__doc_free(&r->doc);
  tui__mdinfo_free(&r->info);
  r->ascii = !a->utf8;
  tui_mdopts o = {.width = tw, .ascii = !a->utf8, .plain = 0,
                  .info = &r->info, .after_code = after_code, .arg = r};
  int rc = tui__md_layout(r->md, r->len, &o, &r->doc);
  r->laid_w = tw;
  if (rc != 0) {
    r->err = strdup(rc == PL_ENOMEM ? "out of memory while laying out the text"
                                    : "the Markdown could not be parsed");
    return;
  }
  if (r->nouts < r->info.ncodes) {
    snip_out *o2 = realloc(r->outs, (size_t)r->info.ncodes * sizeof *o2);
    if (o2) {
      memset(o2 + r->nouts, 0,
             (size_t)(r->info.ncodes - r->nouts) * sizeof *o2);
      r->outs = o2;
      r->nouts = r->info.ncodes;
    }
  }
  r->body_n = r->doc.n;
  build_footer(r, a);
  seek_src(r, keep);
  r->restore = 0;
  clamp(r);
  find_hits(r);
}

static int is_lua(const tui_mdcode *c) { return !strcmp(c->lang, "lua"); }

static int on_screen(const tui_reader *r, int k) {
  const tui_mdcode *c = &r->info.codes[k];
  return c->last > r->top && c->first < r->top + r->view;
}

/* The Lua block x runs: the one chosen with ] or [ while it is on screen,
 * else the first one with a line on screen. */
static int current_snippet(const tui_reader *r) {
  if (r->sel_snip >= 0 && r->sel_snip < r->info.ncodes && on_screen(r, r->sel_snip))
    return r->sel_snip;
  for (int k = 0; k < r->info.ncodes; k++)
    if (is_lua(&r->info.codes[k]) && on_screen(r, k)) return k;
  return -1;
}

static void reader_draw(tui_screen *s, tui_app *a, tui_grid *g, int top,
                        int h) {
  tui_reader *r = (tui_reader *)s;
  if (r->err) {
    snprintf(s->where, sizeof s->where, "%s", r->what);
    tui__draw_error_panel(a, g, top, h, "Cannot show this page", r->err,
                          "Press q to go back.");
    return;
  }
  if (r->lecture_id && r->quiz_gen != a->progress_gen) {
    build_footer(r, a);
    find_hits(r);
  }
  r->view = h - 1;
  clamp(r);
  int x0 = 2;
  tui__draw_doc(g, &r->doc, r->top, top + 1, h - 1, x0, g->w - 4);

  /* search matches on screen */
  for (int k = 0; k < r->nhits; k++) {
    const hit *m = &r->hits[k];
    if (m->line < r->top || m->line >= r->top + r->view) continue;
    const tui_rich *t = &r->doc.lines[m->line].t;
    int x = x0 + tui__rich_width(t, 0, m->col);
    int w = tui__rich_width(t, m->col, m->col + m->len);
    tui__grid_restyle(g, top + 1 + m->line - r->top, x, w,
                      k == r->hit_at ? (TUI_C_SEL | TUI_A_REVERSE)
                                     : TUI_A_REVERSE);
  }

  /* the snippet x runs, marked at the right of its first line on screen */
  r->cur_snip = current_snippet(r);
  if (r->cur_snip >= 0) {
    const tui_mdcode *c = &r->info.codes[r->cur_snip];
    int line = c->first > r->top ? c->first : r->top;
    tui_rich mark = {0};
    tui__rich_printf(&mark, TUI_C_ACCENT | TUI_A_REVERSE, " %s x run ",
                     tui__glyph(!a->utf8, TUI_G_PLAY));
    int mw = tui__rich_width(&mark, 0, mark.n);
    tui__grid_rich(g, top + 1 + line - r->top, g->w - 2 - mw, mw, &mark);
    tui__rich_free(&mark);
  }

  const char *pos;
  char pct[16];
  if (r->doc.n <= r->view) pos = "All";
  else if (r->top == 0) pos = "Top";
  else if (r->top + r->view >= r->doc.n) pos = "End";
  else {
    snprintf(pct, sizeof pct, "%d%%",
             (int)(100.0 * (r->top + r->view) / r->doc.n));
    pos = pct;
  }
  if (r->npat > 0 && r->hit_at >= 0)
    snprintf(s->where, sizeof s->where, "%s %s, match %d/%d", r->what, pos,
             r->hit_at + 1, r->nhits);
  else
    snprintf(s->where, sizeof s->where, "%s %s", r->what, pos);
}

/* ---- actions ---- */

static void run_snippet(tui_reader *r, tui_app *a, int k) {
  if (k < 0) {
    tui__app_msg(a, 0, "No Lua snippet on screen (] and [ jump to one)");
    return;
  }
  const tui_mdcode *c = &r->info.codes[k];
  char *out = NULL;
  int failed = 0;
  double t0 = tui__now();
  int rc = tui__snippet_run(c->text, r->chunk, c->src, SNIPPET_SECONDS, &out,
                            &failed);
  if (rc != 0) {
    tui__app_msg(a, 1, "cannot run the snippet: %s", pl_strerror(rc));
    return;
  }
  snip_out *o = &r->outs[k];
  free(o->text);
  o->text = out;
  o->failed = failed;
  o->secs = tui__now() - t0;
  /* lay out again, keeping the text where it was, then show the output */
  int first = c->first, last = c->last;
  /* the output goes under a block that is on screen: the lines above it,
   * the top line included, keep their places */
  int keep_top = r->top;
  r->laid_w = 0;
  layout(r, a, a->w);
  r->top = keep_top;
  if (k < r->info.ncodes) {
    first = r->info.codes[k].first;
    last = r->info.codes[k].last;
  }
  int end = last;
  while (end < r->doc.n && r->doc.lines[end].src == 0 && end - last < 400 &&
         r->doc.lines[end].t.n > 0)
    end++;
  if (end > r->top + r->view) {
    r->top = end - r->view;
    if (r->top > first) r->top = first;
  }
  clamp(r);
  if (failed)
    tui__app_msg(a, 1, "The snippet failed; the error is under it");
  else
    tui__app_msg(a, 0, "Ran the snippet in %.3f s; its output is under it",
                 o->secs);
}

/* Choose the next (dir > 0) or previous Lua block, in reading order, and
 * scroll it into view. */
static void jump_snippet(tui_reader *r, tui_app *a, int dir) {
  int cur = current_snippet(r);
  int best = -1;
  if (cur >= 0) {
    for (int k = cur + dir; k >= 0 && k < r->info.ncodes && best < 0; k += dir)
      if (is_lua(&r->info.codes[k])) best = k;
  } else {
    /* none on screen: the first one below (or above) it */
    for (int k = 0; k < r->info.ncodes; k++) {
      const tui_mdcode *c = &r->info.codes[k];
      if (!is_lua(c)) continue;
      if (dir > 0 && c->first >= r->top + r->view) { best = k; break; }
      if (dir < 0 && c->last <= r->top) best = k;
    }
  }
  if (best < 0) {
    tui__app_msg(a, 0, "No %s Lua snippet", dir > 0 ? "further" : "earlier");
    return;
  }
  r->sel_snip = best;
  const tui_mdcode *c = &r->info.codes[best];
  if (c->first < r->top || c->last > r->top + r->view) {
    r->top = c->first > 0 ? c->first - 1 : 0;
    clamp(r);
  }
}

static void open_quiz(tui_reader *r, tui_app *a) {
  if (!r->lecture_id) return;
  char crumb[300];
  snprintf(crumb, sizeof crumb, "%s %s Quiz", r->base.crumb,
           tui__glyph(!a->utf8, TUI_G_CRUMB));
  tui__app_push(a, tui__quiz_new(a, crumb, r->lecture_id, r->title));
}

static int reader_key(tui_screen *s, tui_app *a, int action, int key) {
  tui_reader *r = (tui_reader *)s;
  (void)key;
  if (action == TUI_ACT_BACK) {
    tui__app_pop(a);
    return 1;
  }
  if (r->err) return 0;
  switch (action) {
  case TUI_ACT_SEARCH:
    tui__app_prompt(a, "/", NULL, on_search, r);
    return 1;
  case TUI_ACT_NEXT: goto_hit(r, a, 1); return 1;
  case TUI_ACT_PREV: goto_hit(r, a, -1); return 1;
  case TUI_ACT_TOC: {
    if (r->info.nheads == 0) {
      tui__app_msg(a, 0, "This page has no headings");
      return 1;
    }
    int cur = 0;
    for (int k = 0; k < r->info.nheads; k++)
      if (r->info.heads[k].line <= r->top) cur = k;
    char crumb[300];
    snprintf(crumb, sizeof crumb, "%s %s Contents", s->crumb,
             tui__glyph(!a->utf8, TUI_G_CRUMB));
    tui__app_push(a, tui__toc_new(a, crumb, &r->info, &r->top, cur));
    return 1;
  }
  case TUI_ACT_SNIPPET: run_snippet(r, a, current_snippet(r)); return 1;
  case ACT_SNIP_NEXT: jump_snippet(r, a, 1); return 1;
  case ACT_SNIP_PREV: jump_snippet(r, a, -1); return 1;
  case TUI_ACT_QUIZ: open_quiz(r, a); return 1;
  default: break;
  }
  return tui__scroll(action, &r->top, r->doc.n, r->view);
}

static int reader_click(tui_screen *s, tui_app *a, int x, int y) {
  tui_reader *r = (tui_reader *)s;
  if (r->err) return 0;
  int line = r->top + (y - 2); /* content starts one row under the title */
  if (line < 0 || line >= r->doc.n) return 0;
  if (r->cur_snip >= 0) {
    const tui_mdcode *c = &r->info.codes[r->cur_snip];
    int mline = c->first > r->top ? c->first : r->top;
    if (line == mline && x >= a->w - 14) {
      run_snippet(r, a, r->cur_snip);
      return 1;
    }
  }
  if (r->lecture_id && r->footer_line >= 0 && line >= r->footer_line) {
    open_quiz(r, a);
    return 1;
  }
  return 0;
}

static void reader_resize(tui_screen *s, tui_app *a, int w, int h) {
  tui_reader *r = (tui_reader *)s;
  r->view = h - 1;
  layout(r, a, w);
  clamp(r);
}

static void reader_free(tui_screen *s, tui_app *a) {
  tui_reader *r = (tui_reader *)s;
  if (r->lecture_id && a->db && !r->err) {
    int pos = top_src(r);
    if (db_lecture_seen(a->db, r->lecture_id, pos > 0 ? pos : 1) == 0)
      a->progress_gen++;
    tui__app_left_item(a, r->lecture_id, tui__now() - r->opened);
  }
  tui__doc_free(&r->doc);
  tui__mdinfo_free(&r->info);
  for (int k = 0; k < r->nouts; k++) free(r->outs[k].text);
  free(r->outs);
  free(r->hits);
  free(r->md);
  free(r->lecture_id);
  free(r->title);
  free(r->chunk);
  free(r->quiz_err);
  free(r->err);
  free(r);
}

static const tui_screen_vt lecture_vt = {
  .name = "Lecture",
  .keys = lecture_keys,
  .draw = reader_draw,
  .key = reader_key,
  .resize = reader_resize,
  .tick = NULL,
  .free = reader_free,
  .click = reader_click,
};

static const tui_screen_vt page_vt = {
  .name = "Reader",
  .keys = page_keys,
  .draw = reader_draw,
  .key = reader_key,
  .resize = reader_resize,
  .tick = NULL,
  .free = reader_free,
  .click = reader_click,
};

/* The quiz, loaded only to announce it; the quiz screen loads its own. */
static void probe_quiz(tui_reader *r, tui_app *a) {
  char *path = lx_quiz_path(a->course_root, r->lecture_id);
  lx_quiz *qz = NULL;
  char *err = NULL;
  int rc = path ? lx_quiz_load(path, &qz, &err) : PL_ENOMEM;
  if (rc == 0) r->quiz_n = qz->n;
  else if (rc != PL_ENOTFOUND) r->quiz_err = err ? err : strdup(pl_strerror(rc));
  if (rc == 0 || rc == PL_ENOTFOUND) free(err);
  lx_quiz_free(qz);
  free(path);
}

tui_screen *tui__reader_new(tui_app *a, const char *crumb, const char *what,
                            const char *md, size_t len,
                            const char *lecture_id, const char *err) {
  tui_reader *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->base.vt = lecture_id ? &lecture_vt : &page_vt;
  r->opened = tui__now();
  r->hit_at = -1;
  r->cur_snip = -1;
  r->sel_snip = -1;
  r->footer_line = -1;
  snprintf(r->base.crumb, sizeof r->base.crumb, "%s", crumb ? crumb : "");
  snprintf(r->what, sizeof r->what, "%s", what ? what : "Reader");
  snprintf(r->base.where, sizeof r->base.where, "%s", r->what);
  r->base.help_name = r->what;
  r->md = malloc(len + 1);
  if (!r->md) goto oom;
  if (len) memcpy(r->md, md, len);
  r->md[len] = 0;
  r->len = len;
  if (err && !(r->err = strdup(err))) goto oom;
  if (lecture_id && !(r->lecture_id = strdup(lecture_id))) goto oom;
  /* the lecture's title is the last part of the crumb */
  const char *gl = tui__glyph(!a->utf8, TUI_G_CRUMB);
  const char *t = r->base.crumb, *p;
  while ((p = strstr(t, gl))) t = p + strlen(gl);
  while (*t == ' ') t++;
  if (!(r->title = strdup(t))) goto oom;
  /* snippet errors cite the lecture file by its name */
  size_t cl = (lecture_id ? strlen(lecture_id) : 8) + 8;
  if (!(r->chunk = malloc(cl))) goto oom;
  snprintf(r->chunk, cl, "%s.md", lecture_id ? lecture_id : "snippet");
  if (r->lecture_id && !r->err) probe_quiz(r, a);
  if (r->lecture_id && a->db && !r->err) {
    int seen = 0, pos = 0;
    if (db_lecture_get(a->db, r->lecture_id, &seen, &pos) == 0 && seen &&
        pos > 1) {
      r->restore = pos;
      tui__app_msg(a, 0, "Back where you left off (g goes to the top)");
    }
  }
  return &r->base;
oom:
  free(r->md);
  free(r->err);
  free(r->lecture_id);
  free(r->title);
  free(r->chunk);
  free(r);
  return NULL;
}
