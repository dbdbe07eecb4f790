/*
 * tui_screen_map.c — the course map: modules with their lectures and labs,
 * each with its progress mark (lecture read, lab best score and bar, full
 * marks) and a completion bar per module. Progress is re-read from the
 * database whenever it changed (the app's progress_gen), so returning from
 * a lecture or a graded run updates it. On start the item opened last is
 * selected and offered: "continue where you left off" (c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_int.h"

typedef struct map_row {
  int mod;  /* module index */
  int item; /* -1: the module's header */
  int done; /* lecture read or lab at full marks */
  double frac; /* lab: best score / max score; -1: no bar */
  char right[48];
  int y;    /* screen row at the last draw; -1: not shown */
} map_row;

typedef struct tui_map {
  tui_screen base;
  map_row *rows;
  int nrows;
  int sel;  /* row index of the selected item, -1 when none */
  int top;  /* first list row shown */
  int view; /* list rows that fit */
  int gen;  /* progress_gen the marks were read at */
  int cont; /* row to continue from (the item opened last); -1: none */
} tui_map;

static const tui_binding map_keys[] = {
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "next item", "jk move", TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "previous item", NULL, TUI_ACT_UP},
  {{TUI_KEY_ENTER, 'l', TUI_KEY_RIGHT, 0}, "Enter l Right",
   "open the lecture or lab", "Enter open", TUI_ACT_OPEN},
  {{TUI_KEY_PGDN, ' ', 0}, "Space PgDn", "page down", NULL, TUI_ACT_PGDN},
  {{TUI_KEY_PGUP, 'b', 0}, "b PgUp", "page up", NULL, TUI_ACT_PGUP},
  {{'g', TUI_KEY_HOME, 0}, "g Home", "first item", NULL, TUI_ACT_HOME},
  {{'G', TUI_KEY_END, 0}, "G End", "last item", NULL, TUI_ACT_END},
  {{'c', 0}, "c", "continue where you left off", "c continue",
   TUI_ACT_CONTINUE},
  {{'p', 0}, "p", "progress: completion, scores, hints, time spent",
   "p progress", TUI_ACT_PROGRESS},
  {{'r', 0}, "r", "reload the course files", NULL, TUI_ACT_RELOAD},
  {{'q', 0}, "q", "quit parlab", "q quit", TUI_ACT_QUIT},
  {{0}, NULL, NULL, NULL, 0},
};

static void fmt_score(char *buf, size_t n, double s, double max) {
  snprintf(buf, n, "%g/%g", s, max);
}

static void read_progress(tui_map *m, tui_app *a) {
  m->gen = a->progress_gen;
  if (!a->course) return;
  int gpu = grd_gpu_present(NULL, 0); /* CUDA labs: "needs a GPU" where none is */
  for (int k = 0; k < m->nrows; k++) {
    map_row *r = &m->rows[k];
    r->done = 0;
    r->frac = -1;
    r->right[0] = 0;
    if (r->item < 0) continue;
    const lx_item *it = &a->course->modules[r->mod].items[r->item];
    if (!a->db) continue;
    if (it->kind == LX_ITEM_LECTURE) {
      int seen = 0, pos = 0;
      if (db_lecture_get(a->db, it->id, &seen, &pos) == 0 && seen) {
        r->done = 1;
        snprintf(r->right, sizeof r->right, "read");
      }
    } else {
      db_lab_progress p;
      int tried = db_lab_progress_get(a->db, it->id, &p) == 0 && p.attempts > 0;
      if (tried) {
        fmt_score(r->right, sizeof r->right, p.best_score, p.max_score);
        r->done = p.max_score > 0 && p.best_score >= p.max_score;
        r->frac = p.max_score > 0 ? p.best_score / p.max_score : 0;
      } else {
        snprintf(r->right, sizeof r->right, "not started");
      }
      if (it->needs_gpu && !gpu) { /* its checks are skipped here */
        size_t len = tried ? strlen(r->right) : 0;
        snprintf(r->right + len, sizeof r->right - len, "%sneeds a GPU", tried ? ", " : "");
      }
    }
  }
}

static int build_rows(tui_map *m, tui_app *a) {
  free(m->rows);
  m->rows = NULL;
  m->nrows = 0;
  m->sel = -1;
  m->top = 0;
  m->cont = -1;
  if (!a->course) return 0;
  int n = 0;
  for (int i = 0; i < a->course->nmodules; i++)
    n += 1 + a->course->modules[i].nitems;
  m->rows = calloc((size_t)(n ? n : 1), sizeof *m->rows);
  if (!m->rows) return PL_ENOMEM;
  for (int i = 0; i < a->course->nmodules; i++) {
    m->rows[m->nrows++] = (map_row){.mod = i, .item = -1};
    for (int j = 0; j < a->course->modules[i].nitems; j++) {
      if (m->sel < 0) m->sel = m->nrows;
      m->rows[m->nrows++] = (map_row){.mod = i, .item = j};
    }
  }
  m->gen = a->progress_gen - 1; /* read progress on the next draw */
  /* continue where the student left off */
  char *last = NULL;
  if (a->db && db_setting_get(a->db, "last_item", &last) == 0 && last) {
    for (int k = 0; k < m->nrows; k++) {
      const map_row *r = &m->rows[k];
      if (r->item >= 0 &&
          !strcmp(a->course->modules[r->mod].items[r->item].id, last)) {
        m->cont = k;
        m->sel = k;
        break;
      }
    }
  }
  free(last);
  return 0;
}

/* Move the selection to the next item row in direction dir (+1/-1),
 * `steps` items at most; stops at the ends. */
static void move_sel(tui_map *m, int dir, int steps) {
  int s = m->sel;
  for (int k = s + dir; k >= 0 && k < m->nrows && steps > 0; k += dir) {
    if (m->rows[k].item >= 0) {
      s = k;
      steps--;
    }
  }
  m->sel = s;
}

static void keep_visible(tui_map *m) {
  if (m->sel < 0 || m->view < 1) return;
  int want_top = m->sel;
  /* show the module header above its first item */
  if (m->sel > 0 && m->rows[m->sel - 1].item < 0) want_top = m->sel - 1;
  if (want_top < m->top) m->top = want_top;
  if (m->sel >= m->top + m->view) m->top = m->sel - m->view + 1;
  if (m->top < 0) m->top = 0;
}

/* Display rows: a blank line between modules. */
static int module_done(const tui_map *m, int row, int *total) {
  int done = 0;
  *total = 0;
  for (int k = row + 1; k < m->nrows && m->rows[k].item >= 0; k++) {
    (*total)++;
    done += m->rows[k].done;
  }
  return done;
}

static void map_draw(tui_screen *s, tui_app *a, tui_grid *g, int top, int h) {
  tui_map *m = (tui_map *)s;
  int ascii = !a->utf8;
  if (!a->course) {
    snprintf(s->where, sizeof s->where, "Course map");
    tui__draw_error_panel(a, g, top, h, "The course could not be loaded",
                          a->course_err,
                          "Fix the file, then press r to reload, or q to quit.");
    return;
  }
  if (m->gen != a->progress_gen) read_progress(m, a);
  int W = g->w;
  int nitems = 0, ndone = 0;
  for (int k = 0; k < m->nrows; k++)
    if (m->rows[k].item >= 0) {
      nitems++;
      ndone += m->rows[k].done;
    }
  snprintf(s->where, sizeof s->where, "Course map");

  tui__grid_puts(g, top + 1, 2, W - 24, "Lectures and labs",
                 TUI_C_HEADING | TUI_A_BOLD);
  char sum[64];
  snprintf(sum, sizeof sum, "%d of %d done", ndone, nitems);
  tui__grid_puts(g, top + 1, W - 3 - (int)strlen(sum), -1, sum, TUI_C_MUTED);
  if (m->nrows == 0) {
    tui__grid_puts(g, top + 3, 2, W - 4,
                   "This course has no modules yet (content/course.lua).", 0);
    return;
  }
  if (m->cont >= 0) {
    const map_row *c = &m->rows[m->cont];
    const lx_item *it = &a->course->modules[c->mod].items[c->item];
    char line[400];
    snprintf(line, sizeof line, "%s Continue where you left off: %s %s (c)",
             tui__glyph(ascii, TUI_G_PLAY),
             it->kind == LX_ITEM_LAB ? "lab" : "lecture",
             it->title ? it->title : it->id);
    tui__grid_puts(g, top + 2, 2, W - 4, line, TUI_C_ACCENT);
  }
  for (int k = 0; k < m->nrows; k++) m->rows[k].y = -1;

  int y0 = top + 3 + (m->cont >= 0); /* a blank row under "continue" */
  m->view = h - 4 - (m->cont >= 0);
  keep_visible(m);
  int y = y0;
  for (int k = m->top; k < m->nrows && y < top + h - 1; k++) {
    const map_row *r = &m->rows[k];
    const lx_module *mod = &a->course->modules[r->mod];
    if (r->item < 0) {
      if (k > m->top) y++; /* space between modules */
      if (y >= top + h - 1) break;
      char head[300];
      snprintf(head, sizeof head, "Module %d: %s", r->mod + 1,
               mod->title ? mod->title : mod->id);
      tui__grid_puts(g, y, 2, W - 32, head, TUI_C_HEADING | TUI_A_BOLD);
      int total, done = module_done(m, k, &total);
      char prog[48];
      snprintf(prog, sizeof prog, "%d/%d", done, total);
      int px = W - 3 - (int)strlen(prog);
      tui__grid_puts(g, y, px, -1, prog, TUI_C_MUTED);
      tui__draw_bar(a, g, y, px - 18, 16, total ? (double)done / total : 0,
                    TUI_C_OK);
      m->rows[k].y = y;
      y++;
      continue;
    }
    const lx_item *it = &mod->items[r->item];
    int lab = it->kind == LX_ITEM_LAB;
    if (r->done)
      tui__grid_puts(g, y, 4, 3, tui__glyph(ascii, TUI_G_CHECK),
                     TUI_C_OK | TUI_A_BOLD);
    tui__grid_puts(g, y, 7, 8, lab ? "Lab" : "Lecture",
                   lab ? TUI_C_ACCENT : TUI_C_MUTED);
    int rw = (int)strlen(r->right);
    int bw = r->frac >= 0 ? 9 : 0; /* a lab's score bar */
    tui__grid_puts(g, y, 16, W - 16 - 4 - rw - 2 - bw,
                   it->title ? it->title : it->id, 0);
    uint16_t rs = r->done ? TUI_C_OK : lab && strchr(r->right, '/')
                                           ? TUI_C_WARN : TUI_C_MUTED;
    tui__grid_puts(g, y, W - 3 - rw, -1, r->right, rs);
    if (bw)
      tui__draw_bar(a, g, y, W - 3 - rw - bw, bw - 1, r->frac,
                    r->done ? TUI_C_OK : TUI_C_WARN);
    m->rows[k].y = y;
    if (k == m->sel) {
      tui__grid_putc(g, y, 2, L'>', TUI_C_SEL);
      tui__grid_restyle(g, y, 2, W - 4, TUI_C_SEL);
    }
    y++;
  }
  if (m->top > 0)
    tui__grid_puts(g, y0 - 1, W - 12, -1, "more above", TUI_C_MUTED);
  if (y >= top + h - 1 && m->nrows > 0)
    tui__grid_puts(g, top + h - 1, W - 12, -1, "more below", TUI_C_MUTED);
}

void tui__open_item(tui_app *a, const lx_module *mod, const lx_item *it) {
  const char *gl = tui__glyph(!a->utf8, TUI_G_CRUMB);
  tui__app_opened_item(a, it->id);
  char crumb[256];
  snprintf(crumb, sizeof crumb, "%s %s %s", mod->title ? mod->title : mod->id,
           gl, it->title ? it->title : it->id);
  if (it->kind == LX_ITEM_LAB) {
    tui__app_push(a, tui__lab_new(a, mod, it));
    return;
  }
  char *path = tui__app_path(a, it->path);
  char *md = NULL, *err = NULL;
  size_t len = 0;
  int rc = path ? tui__read_file(path, &md, &len) : PL_ENOMEM;
  if (rc != 0) {
    const char *why = rc == PL_EIO ? strerror(errno) : pl_strerror(rc);
    size_t n = (path ? strlen(path) : 0) + strlen(why) + 64;
    err = malloc(n);
    if (err) snprintf(err, n, "cannot read %s: %s", path ? path : "", why);
  }
  tui__app_push(a, tui__reader_new(a, crumb, "Lecture", md, len, it->id,
                                   rc ? (err ? err : "cannot read the file")
                                      : NULL));
  free(err);
  free(md);
  free(path);
}

static void open_item(tui_map *m, tui_app *a) {
  if (m->sel < 0 || !a->course) return;
  const map_row *r = &m->rows[m->sel];
  const lx_module *mod = &a->course->modules[r->mod];
  m->cont = m->sel;
  tui__open_item(a, mod, &mod->items[r->item]);
}

static void reload(tui_map *m, tui_app *a) {
  lx_course *c = NULL;
  char *err = NULL;
  if (lx_course_load(a->course_root, &c, &err) == 0) {
    lx_course_free(a->course);
    a->course = c;
    free(a->course_err);
    a->course_err = NULL;
    free(err);
    int sel = m->sel;
    if (build_rows(m, a) == 0) {
      if (sel >= 0 && sel < m->nrows && m->rows[sel].item >= 0) m->sel = sel;
      tui__app_msg(a, 0, "course reloaded");
    }
    snprintf(m->base.crumb, sizeof m->base.crumb, "%s",
             c->title ? c->title : "course map");
  } else {
    lx_course_free(a->course);
    a->course = NULL;
    free(a->course_err);
    a->course_err = err ? err : strdup("unknown error");
    build_rows(m, a);
  }
}

static int map_key(tui_screen *s, tui_app *a, int action, int key) {
  tui_map *m = (tui_map *)s;
  (void)key;
  switch (action) {
  case TUI_ACT_DOWN: move_sel(m, 1, 1); break;
  case TUI_ACT_UP: move_sel(m, -1, 1); break;
  case TUI_ACT_PGDN: move_sel(m, 1, m->view > 2 ? m->view - 2 : 1); break;
  case TUI_ACT_PGUP: move_sel(m, -1, m->view > 2 ? m->view - 2 : 1); break;
  case TUI_ACT_HOME: move_sel(m, -1, m->nrows); m->top = 0; break;
  case TUI_ACT_END: move_sel(m, 1, m->nrows); break;
  case TUI_ACT_OPEN: open_item(m, a); break;
  case TUI_ACT_CONTINUE:
    if (m->cont < 0) {
      tui__app_msg(a, 0, "Nothing to continue yet: open a lecture or lab");
      break;
    }
    m->sel = m->cont;
    keep_visible(m);
    open_item(m, a);
    break;
  case TUI_ACT_PROGRESS: tui__app_push(a, tui__dash_new(a)); break;
  case TUI_ACT_RELOAD: reload(m, a); break;
  case TUI_ACT_QUIT: a->quit = 1; break;
  default: return 0;
  }
  return 1;
}

static int map_click(tui_screen *s, tui_app *a, int x, int y) {
  tui_map *m = (tui_map *)s;
  (void)x;
  if (m->cont >= 0 && y == 3) { /* the "continue" line */
    return map_key(s, a, TUI_ACT_CONTINUE, 'c');
  }
  for (int k = 0; k < m->nrows; k++) {
    if (m->rows[k].y != y || m->rows[k].item < 0) continue;
    if (m->sel == k) open_item(m, a); /* a second click opens */
    else m->sel = k;
    return 1;
  }
  return 0;
}

static void map_resize(tui_screen *s, tui_app *a, int w, int h) {
  tui_map *m = (tui_map *)s;
  (void)a;
  (void)w;
  m->view = h - 4 - (m->cont >= 0);
  keep_visible(m);
}

static void map_free(tui_screen *s, tui_app *a) {
  tui_map *m = (tui_map *)s;
  (void)a;
  free(m->rows);
  free(m);
}

static const tui_screen_vt map_vt = {
  .name = "Course map",
  .keys = map_keys,
  .draw = map_draw,
  .key = map_key,
  .resize = map_resize,
  .tick = NULL,
  .free = map_free,
  .click = map_click,
};

tui_screen *tui__map_new(tui_app *a) {
  tui_map *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->base.vt = &map_vt;
  snprintf(m->base.crumb, sizeof m->base.crumb, "%s",
           a->course && a->course->title ? a->course->title : "course map");
  snprintf(m->base.where, sizeof m->base.where, "Course map");
  if (build_rows(m, a) != 0) {
    free(m);
    return NULL;
  }
  return &m->base;
}
