/*
 * tui_screen_reader.c — a scrolling Markdown view: lectures (reading
 * position saved to the database on leave and restored on the next visit)
 * and the reference solution of a lab.
 *
 * The position is the source line of the top line shown, so it survives a
 * different terminal width.
 */
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_int.h"

#define READER_MAX_WIDTH 100

typedef struct tui_reader {
  tui_screen base;
  char *md;
  size_t len;
  char *lecture_id; /* NULL: not a lecture, nothing recorded */
  char *err;
  char what[32];
  tui_doc doc;
  int laid_w; /* width the doc was laid out at */
  int top;
  int view;
  int restore; /* source line to show first after the next layout */
} tui_reader;

static const tui_binding reader_keys[] = {
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "scroll down", "jk scroll", TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "scroll up", NULL, TUI_ACT_UP},
  {{' ', TUI_KEY_PGDN, 'f', 0}, "Space PgDn", "next page", "Space page",
   TUI_ACT_PGDN},
  {{'b', TUI_KEY_PGUP, 0}, "b PgUp", "previous page", NULL, TUI_ACT_PGUP},
  {{'g', TUI_KEY_HOME, 0}, "g Home", "go to the top", "g/G top/end",
   TUI_ACT_HOME},
  {{'G', TUI_KEY_END, 0}, "G End", "go to the end", NULL, TUI_ACT_END},
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

static void layout(tui_reader *r, tui_app *a, int w) {
  int tw = w - 4 < READER_MAX_WIDTH ? w - 4 : READER_MAX_WIDTH;
  if (tw == r->laid_w || r->err) return;
  int keep = r->restore ? r->restore : top_src(r);
  tui__doc_free(&r->doc);
  tui_mdopts o = {.width = tw, .ascii = !a->utf8, .plain = 0};
  int rc = tui__md_layout(r->md, r->len, &o, &r->doc);
  r->laid_w = tw;
  if (rc != 0) {
    r->err = strdup(rc == PL_ENOMEM ? "out of memory while laying out the text"
                                    : "the Markdown could not be parsed");
    return;
  }
  seek_src(r, keep);
  r->restore = 0;
  clamp(r);
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
  r->view = h - 1;
  clamp(r);
  tui__draw_doc(g, &r->doc, r->top, top + 1, h - 1, 2, g->w - 4);
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
  snprintf(s->where, sizeof s->where, "%s %s", r->what, pos);
}

static int reader_key(tui_screen *s, tui_app *a, int action, int key) {
  tui_reader *r = (tui_reader *)s;
  (void)key;
  if (action == TUI_ACT_BACK) {
    tui__app_pop(a);
    return 1;
  }
  return tui__scroll(action, &r->top, r->doc.n, r->view);
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
  }
  tui__doc_free(&r->doc);
  free(r->md);
  free(r->lecture_id);
  free(r->err);
  free(r);
}

static const tui_screen_vt reader_vt = {
  .name = "Reader",
  .keys = reader_keys,
  .draw = reader_draw,
  .key = reader_key,
  .resize = reader_resize,
  .tick = NULL,
  .free = reader_free,
};

tui_screen *tui__reader_new(tui_app *a, const char *crumb, const char *what,
                            const char *md, size_t len,
                            const char *lecture_id, const char *err) {
  tui_reader *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->base.vt = &reader_vt;
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
  free(r);
  return NULL;
}
