/*
 * tui_int.h — internals of the TUI, shared by the tui/ sources only.
 *
 * Layers, from the bottom:
 *  - text model (tui_text.c): tui_rich is a run of wide characters with one
 *    style per character; tui_doc is a list of laid-out lines. The Markdown
 *    layout (tui_md.c) turns CommonMark into a tui_doc at a given width.
 *    None of this knows about curses, so `parlab read` prints the very same
 *    lines the reader shows.
 *  - cell grid (tui_grid.c): the screen as w x h cells. Screens draw only
 *    into the grid; tui_term.c flushes it to curses once per tick and, when
 *    PARLAB_TUI_DUMP is set, writes it to a file as plain text.
 *  - screens: vtables {draw, key, resize, tick, free} on a stack owned by the
 *    app (tui_main.c). Key bindings are data (tui_binding tables) and drive
 *    both dispatch and the `?` help overlay and the status-line hints.
 *
 * Invariants: a style is a uint16_t (colour role in the low 4 bits, TUI_A_*
 * attributes above); grid cells hold one character each, a wide character
 * occupies its cell plus one continuation cell (w == 0). All strings handed
 * in are UTF-8; everything is converted to wchar_t code points on entry.
 *
 * Thread-safety: everything belongs to the UI thread, except a grading run
 * (tui_run.c) whose event queue is shared with its worker under a mutex.
 */
#ifndef TUI_INT_H
#define TUI_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <wchar.h>

#include "tui.h"
#include "grd.h"
#include "db.h"
#include "lx_course.h"

/* ---- styles ---- */

enum {
  TUI_C_NORMAL = 0,
  TUI_C_HEADING,
  TUI_C_CODE,
  TUI_C_LINK,
  TUI_C_QUOTE,
  TUI_C_OK,
  TUI_C_FAIL,
  TUI_C_WARN,
  TUI_C_ACCENT,
  TUI_C_MUTED, /* attribute-only roles from here: dim */
  TUI_C_BAR,   /* title and status bars: reverse video */
  TUI_C_SEL,   /* the selected row */
  TUI_C_COUNT
};
#define TUI_C_MASK 0x000fu
#define TUI_A_BOLD 0x0010u
#define TUI_A_ITALIC 0x0020u
#define TUI_A_UNDER 0x0040u
#define TUI_A_REVERSE 0x0080u
#define TUI_A_DIM 0x0100u
#define TUI_A_STRIKE 0x0200u

/* ---- glyphs with an ASCII fallback for non-UTF-8 locales ---- */

enum {
  TUI_G_BULLET1, TUI_G_BULLET2, TUI_G_BULLET3,
  TUI_G_H, TUI_G_V, TUI_G_TL, TUI_G_TM, TUI_G_TR, TUI_G_ML, TUI_G_MM,
  TUI_G_MR, TUI_G_BL, TUI_G_BM, TUI_G_BR,
  TUI_G_HH, TUI_G_HML, TUI_G_HMM, TUI_G_HMR, /* rule under a table header */
  TUI_G_RULE1, TUI_G_RULE2,                  /* under H1 and H2 */
  TUI_G_QUOTE, TUI_G_CHECK, TUI_G_CROSS, TUI_G_SKIP, TUI_G_DOT,
  TUI_G_CRUMB, TUI_G_ELLIPSIS, TUI_G_TASK_ON, TUI_G_TASK_OFF, TUI_G_DASH,
  TUI_G_COUNT
};
const char *tui__glyph(int ascii, int g);
/* Spinner frame i (any int). */
const char *tui__spinner(int ascii, unsigned i);

/* ---- text model (tui_text.c) ---- */

typedef struct tui_rich {
  wchar_t *ch;
  uint16_t *st;
  int n, cap;
  int oom; /* sticky: an append failed */
} tui_rich;

typedef struct tui_line {
  tui_rich t;
  int src; /* 1-based line in the Markdown source; 0: none */
} tui_line;

typedef struct tui_doc {
  tui_line *lines;
  int n, cap;
  int oom;
} tui_doc;

int tui__wcwidth(wchar_t c);
/* Decode one UTF-8 sequence at s[*i] (len bytes in all); invalid bytes
 * decode as U+FFFD. Advances *i. */
wchar_t tui__utf8_next(const char *s, size_t len, size_t *i);
/* Encode c into out (4 bytes); returns the byte count. */
int tui__utf8_put(wchar_t c, char out[4]);
/* 1 when the locale's codeset is UTF-8; with trust_env, also when the
 * program never called setlocale() but LC_ALL/LC_CTYPE/LANG say UTF-8
 * (right for bytes written to stdout, not for curses). */
int tui__utf8_locale(int trust_env);
/* Monotonic clock in seconds. */
double tui__now(void);

void tui__rich_putc(tui_rich *r, wchar_t c, uint16_t st);
/* len == (size_t)-1: NUL-terminated. */
void tui__rich_puts(tui_rich *r, const char *s, size_t len, uint16_t st);
void tui__rich_printf(tui_rich *r, uint16_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tui__rich_append(tui_rich *r, const tui_rich *src);
void tui__rich_clear(tui_rich *r);
void tui__rich_free(tui_rich *r);
int tui__rich_width(const tui_rich *r, int from, int to);
/* Drop trailing spaces. */
void tui__rich_rtrim(tui_rich *r);

/* Append an empty line; NULL (and d->oom set) when out of memory. */
tui_line *tui__doc_add(tui_doc *d, int src);
void tui__doc_free(tui_doc *d);
/* UTF-8 text of a line (caller frees); NULL when out of memory. */
char *tui__line_utf8(const tui_line *l);

/* ---- Markdown layout (tui_md.c) ---- */

typedef struct tui_mdopts {
  int width;  /* columns, including list and quote prefixes */
  int ascii;  /* box and bullet glyphs in ASCII */
  int plain;  /* no colour at the far end: mark inline code with `…` */
} tui_mdopts;

/* Lay out CommonMark into d (appended). Returns 0, PL_ENOMEM or PL_EINVAL
 * (md4c refused the input). */
int tui__md_layout(const char *md, size_t len, const tui_mdopts *o, tui_doc *d);

/* Word-wrap `in` to `width` columns into d; the first line starts with
 * `first`, the others with `cont` (either may be NULL). '\n' in `in` is a
 * hard break. */
void tui__wrap(tui_doc *d, const tui_rich *in, int width,
               const tui_rich *first, const tui_rich *cont, int src);

typedef struct tui_table {
  int ncols, nrows, nhead; /* nhead leading rows are the header */
  tui_rich *cells;         /* nrows * ncols, row-major */
  int *align;              /* per column: 0 left, 1 centre, 2 right */
} tui_table;

/* Draw t with box characters into d, at most `width` columns wide
 * (prefix included); cells wrap when the natural widths do not fit. The
 * first line starts with `first`, the others with `cont`. */
void tui__table_layout(tui_doc *d, const tui_table *t, int width,
                       const tui_rich *first, const tui_rich *cont, int ascii,
                       int src);

/* ---- cell grid (tui_grid.c) ---- */

typedef struct tui_cell {
  wchar_t ch;
  uint16_t st;
  uint8_t w; /* 1, 2 (wide), 0 (right half of a wide character) */
} tui_cell;

typedef struct tui_grid {
  int w, h;
  tui_cell *c;
} tui_grid;

int tui__grid_resize(tui_grid *g, int w, int h);
void tui__grid_free(tui_grid *g);
void tui__grid_clear(tui_grid *g);
/* The put functions clip to the grid and to maxw columns (maxw < 0: to the
 * right edge) and return the columns written. */
int tui__grid_putc(tui_grid *g, int y, int x, wchar_t ch, uint16_t st);
int tui__grid_puts(tui_grid *g, int y, int x, int maxw, const char *s,
                   uint16_t st);
int tui__grid_rich(tui_grid *g, int y, int x, int maxw, const tui_rich *r);
void tui__grid_fill(tui_grid *g, int y, int x, int w, wchar_t ch, uint16_t st);
/* Replace the style of w cells (keeps characters). */
void tui__grid_restyle(tui_grid *g, int y, int x, int w, uint16_t st);
void tui__grid_box(tui_grid *g, int y, int x, int h, int w, uint16_t st,
                   int ascii);
/* Plain-text image of the grid, lines without trailing blanks (caller
 * frees). */
char *tui__grid_text(const tui_grid *g);
/* Write tui__grid_text atomically (temp file + rename). */
int tui__grid_dump(const tui_grid *g, const char *path);

/* ---- terminal (tui_term.c): the only file that calls curses ---- */

int tui__term_open(int want_color, int *has_color, char **err);
void tui__term_close(void);
void tui__term_size(int *w, int *h);
void tui__term_flush(const tui_grid *g, int utf8);
/* A key (TUI_KEY_* or a character), TUI_KEY_NONE after the poll timeout. */
int tui__term_getkey(void);
/* Repaint the whole terminal on the next flush (Ctrl-L). */
void tui__term_redraw(void);
/* Leave curses, run `$EDITOR "$path"` in the terminal, come back. Returns
 * the editor's exit status, or a negative PL_E* code. */
int tui__term_edit(const char *path);

/* Keys as screens see them: characters, or these (curses stays in
 * tui_term.c). */
enum {
  TUI_KEY_NONE = -1,
  TUI_KEY_TAB = '\t',
  TUI_KEY_ENTER = '\r',
  TUI_KEY_ESC = 27,
  TUI_KEY_UP = 0x110000, TUI_KEY_DOWN, TUI_KEY_LEFT, TUI_KEY_RIGHT,
  TUI_KEY_PGUP, TUI_KEY_PGDN, TUI_KEY_HOME, TUI_KEY_END, TUI_KEY_BTAB,
  TUI_KEY_BACKSPACE, TUI_KEY_RESIZE
};
#define TUI_KEY_CTRL(c) ((c) & 0x1f)

/* ---- screens and the app (tui_main.c) ---- */

typedef struct tui_app tui_app;
typedef struct tui_screen tui_screen;

typedef struct tui_binding {
  int keys[4];       /* key codes; 0 ends the list early */
  const char *label; /* as shown by `?`, e.g. "j Down" */
  const char *help;  /* "scroll down" */
  const char *hint;  /* status-line form, NULL: not shown there */
  int action;        /* handed to the screen's key() */
} tui_binding;
/* Tables end with an entry whose label is NULL. */

typedef struct tui_screen_vt {
  const char *name;          /* "Course map": help title */
  const tui_binding *keys;
  /* Draw into rows [top, top + h) of g, all columns. */
  void (*draw)(tui_screen *s, tui_app *a, tui_grid *g, int top, int h);
  /* action: from the binding table, 0 for an unbound key. Returns 1 when
   * the key was used. */
  int (*key)(tui_screen *s, tui_app *a, int action, int key);
  /* Content area changed size (also called once after the push). */
  void (*resize)(tui_screen *s, tui_app *a, int w, int h);
  /* Optional: poll background work; returns 1 when a redraw is needed. */
  int (*tick)(tui_screen *s, tui_app *a);
  void (*free)(tui_screen *s, tui_app *a);
} tui_screen_vt;

struct tui_screen {
  const tui_screen_vt *vt;
  char crumb[256]; /* title-bar path: "Foundations > Why parallel..." */
  char where[96];  /* status-line location: "Lecture 42%" */
  const char *help_name; /* help title when not vt->name */
};

#define TUI_MAX_SCREENS 16
#define TUI_MIN_W 80
#define TUI_MIN_H 24

struct tui_app {
  const tui_opts *opts;
  char *home;
  char *course_root;
  lx_course *course;
  char *course_err;
  db *db;
  char *db_err;
  int utf8, color;
  tui_grid grid;
  int w, h;
  tui_screen *stack[TUI_MAX_SCREENS];
  int depth;
  int pop_req; /* screens to pop after the current key */
  int quit;
  int help;    /* help overlay shown */
  int dirty;
  int progress_gen; /* bumped on every db write the map should reflect */
  char msg[256];
  int msg_warn;
  double msg_until;
  char *dump_path;
  unsigned tick;
};

/* Show a transient status-line message. */
void tui__app_msg(tui_app *a, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Push s (takes ownership; frees it when the stack is full). */
int tui__app_push(tui_app *a, tui_screen *s);
/* Pop the top screen after the current key has been handled. */
void tui__app_pop(tui_app *a);
/* Resolve a path from the course manifest against the course root
 * (caller frees). */
char *tui__app_path(const tui_app *a, const char *p);
/* Re-read the terminal size after running an external program. */
void tui__app_sync_size(tui_app *a);
/* A framed panel for errors that must not end the program (broken course
 * files): title, the error text wrapped, and what the user can do. */
void tui__draw_error_panel(tui_app *a, tui_grid *g, int top, int h,
                           const char *title, const char *text,
                           const char *footer);
/* Draw lines [first, first + h) of d at (top, x), clipped to w columns. */
void tui__draw_doc(tui_grid *g, const tui_doc *d, int first, int top, int h,
                   int x, int w);
/* Generic scrolling for a document view: returns 1 when action was a
 * scroll action (and *pos was updated). */
int tui__scroll(int action, int *pos, int nlines, int page);
enum {
  TUI_ACT_NONE = 0,
  TUI_ACT_UP = 1, TUI_ACT_DOWN, TUI_ACT_PGUP, TUI_ACT_PGDN, TUI_ACT_HOME,
  TUI_ACT_END, TUI_ACT_BACK, TUI_ACT_OPEN, TUI_ACT_QUIT, TUI_ACT_RELOAD,
  TUI_ACT_EDIT, TUI_ACT_RUN, TUI_ACT_HINT, TUI_ACT_FOCUS, TUI_ACT_SOLUTION,
  TUI_ACT_SCREEN = 100 /* screen-private actions from here */
};
/* Read a whole file (caller frees); *len may be NULL. */
int tui__read_file(const char *path, char **out, size_t *len);

/* Screens (constructors push nothing; the caller pushes). */
tui_screen *tui__map_new(tui_app *a);
/* md: Markdown text (copied); lecture_id: record reading in the db, or
 * NULL; err: show this error instead of the text. */
tui_screen *tui__reader_new(tui_app *a, const char *crumb, const char *what,
                            const char *md, size_t len,
                            const char *lecture_id, const char *err);
tui_screen *tui__lab_new(tui_app *a, const lx_module *m, const lx_item *it);

/* ---- a grading run on a background thread (tui_run.c) ---- */

enum { TUI_CHK_WAIT, TUI_CHK_RUN, TUI_CHK_PASS, TUI_CHK_FAIL, TUI_CHK_SKIP };
enum { TUI_COMP_WAIT, TUI_COMP_RUN, TUI_COMP_OK, TUI_COMP_FAIL };

typedef struct tui_run_check {
  char *name;
  int state, hidden;
  double score, max_score, seconds;
  char *message;
} tui_run_check;

typedef struct tui_run tui_run;

/* UI-side view of a run; valid on the UI thread between polls. */
typedef struct tui_run_view {
  int compile;
  tui_run_check *checks;
  int nchecks;
  char **output; /* last lines the submission printed */
  int noutput;
  int finished;  /* the worker is done and joined */
  int rc;        /* grd_run's return code once finished */
  const grd_result *result; /* once finished with rc == 0 */
  const char *err;          /* once finished with rc != 0 */
  double started, ended;    /* tui__now() */
} tui_run_view;

/* Start grading `submission` against lab on a new thread; lab must outlive
 * the run. OUT: *out, free with tui__run_free(). */
int tui__run_start(const lx_lab *lab, const char *submission, tui_run **out);
/* Apply queued progress events; returns 1 when the view changed. */
int tui__run_poll(tui_run *r);
const tui_run_view *tui__run_view(const tui_run *r);
/* Joins the worker (blocks while it still runs). */
void tui__run_free(tui_run *r);

#endif
