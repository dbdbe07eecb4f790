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
 *  - screens: vtables {draw, key, resize, tick, free, click} on a stack
 *    owned by the app (tui_main.c). Key bindings are data (tui_binding
 *    tables) and drive dispatch, the `?` help overlay and the status-line
 *    hints (which are clickable). The app also owns the one-line prompt
 *    (search, typed answers, y/n questions). Screens: course map, reader
 *    (lectures, solutions), contents, quiz, progress dashboard, lab.
 *  - models without curses, each in its own file: syntax highlighting
 *    (tui_hl.c), runnable snippets (tui_snippet.c), watching a file for
 *    saves (tui_watch.c), the Amdahl fit and speedup chart (tui_fit.c, on
 *    tui_chart.h), a grading run on a thread (tui_run.c).
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
#include "lx_quiz.h"

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
  TUI_C_KEYWORD, /* syntax highlighting of code blocks (tui_hl.c) */
  TUI_C_STRING,
  TUI_C_COMMENT,
  TUI_C_NUMBER,
  TUI_C_MUTED, /* attribute-only roles from here: dim */
  TUI_C_BAR,   /* title and status bars: reverse video */
  TUI_C_SEL,   /* the selected row */
  TUI_C_COUNT /* 16: every role fits TUI_C_MASK */
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
  TUI_G_BAR_FULL, TUI_G_BAR_EMPTY,           /* progress bars */
  TUI_G_PLAY, TUI_G_RADIO_ON, TUI_G_RADIO_OFF,
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

/* What the layout found, for the reader: headings (table of contents)
 * and code blocks (runnable snippets). Line numbers index the tui_doc. */
typedef struct tui_mdhead {
  int level;  /* 1..6 */
  int line;   /* doc line of the heading */
  char *text; /* UTF-8 */
} tui_mdhead;

typedef struct tui_mdcode {
  char *lang;  /* info string's first word, lower case; "" when none */
  char *text;  /* the code, UTF-8, as written */
  int src;     /* Markdown line of the first code line; 0: unknown */
  int first, last; /* doc lines [first, last) */
} tui_mdcode;

typedef struct tui_mdinfo {
  tui_mdhead *heads;
  int nheads;
  tui_mdcode *codes;
  int ncodes;
} tui_mdinfo;

void tui__mdinfo_free(tui_mdinfo *i);

typedef struct tui_mdopts {
  int width;  /* columns, including list and quote prefixes */
  int ascii;  /* box and bullet glyphs in ASCII */
  int plain;  /* no colour at the far end: mark inline code with `…` */
  tui_mdinfo *info; /* optional: filled with headings and code blocks */
  /* Optional: called right after code block `index` is laid out, to
   * append lines under it (a snippet's output). */
  void (*after_code)(void *arg, int index, tui_doc *d, int width);
  void *arg;
} tui_mdopts;

/* Lay out CommonMark into d (appended). Returns 0, PL_ENOMEM or PL_EINVAL
 * (md4c refused the input). */
int tui__md_layout(const char *md, size_t len, const tui_mdopts *o, tui_doc *d);

/* ---- syntax highlighting (tui_hl.c) ---- */

/* Style n characters of code in language `lang` ("c", "cuda", "lua",
 * "sh", "python" and their usual aliases): st[k] gets a TUI_C_* role for
 * s[k]. Returns 1 when the language is known, 0 (st untouched) otherwise.
 * Block comments and strings may span lines: pass the whole block. */
int tui__hl(const char *lang, const wchar_t *s, int n, uint16_t *st);

/* ---- runnable snippets (tui_snippet.c) ---- */

/* Run Lua `code` in a fresh sandboxed state (the engine and lab API
 * loaded, a deadline of `seconds` and a memory cap) and capture what it
 * prints. Blank lines are prepended so that error messages carry the line
 * numbers of `chunk` (a file name) from `first_line` on. OUT: *out, what
 * it printed followed by the error when it failed (caller frees); *failed
 * = 1 on a Lua error. Returns 0, or PL_ENOMEM. */
int tui__snippet_run(const char *code, const char *chunk, int first_line,
                     double seconds, char **out, int *failed);

/* ---- watching a file for saves (tui_watch.c) ---- */

typedef struct tui_watch tui_watch;
/* Watch the folder of `file` (editors save by writing a temporary file and
 * renaming it over the original) for a write or a rename onto its name.
 * OUT: *out; *err (caller frees) on failure. */
int tui__watch_open(const char *file, tui_watch **out, char **err);
/* 1 when the file was saved since the last poll; never blocks. */
int tui__watch_poll(tui_watch *w);
void tui__watch_free(tui_watch *w);

/* ---- the Amdahl fit behind the speedup chart (tui_fit.c) ---- */

/* Least squares of T(p) = T1 * (s + (1 - s)/p) over n >= 2 measured points
 * (p[k] threads, t[k] seconds): linear in a = T1 s and b = T1 (1 - s).
 * OUT: *s in [0, 1], *t1. Returns 0, or PL_EINVAL when the points cannot
 * determine the fit (fewer than two distinct thread counts). */
int tui__amdahl_fit(const double *p, const double *t, int n, double *s,
                    double *t1);

/* Append to d the speedup chart of a check's t:scaling figures (n points
 * of threads and median seconds; baseline_s > 0: speedups are against the
 * serial baseline, else against the fitted one-thread time): measured
 * points, the ideal line, the Amdahl fit and the serial fraction it
 * implies, at most `width` columns (tui_chart.h draws the plot). Returns 0,
 * PL_EINVAL when there is nothing to chart, PL_ENOMEM. */
int tui__speedup_chart(tui_doc *d, int width, int ascii, const double *threads,
                       const double *times, int n, double baseline_s);

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

/* Mouse: what the last TUI_KEY_MOUSE was. */
enum { TUI_MOUSE_CLICK = 1, TUI_MOUSE_WHEEL_UP, TUI_MOUSE_WHEEL_DOWN };
typedef struct tui_mouse {
  int kind;
  int x, y; /* screen cell */
} tui_mouse;
/* The event behind the last TUI_KEY_MOUSE from tui__term_getkey(). */
void tui__term_mouse(tui_mouse *m);

/* Keys as screens see them: characters, or these (curses stays in
 * tui_term.c). */
enum {
  TUI_KEY_NONE = -1,
  TUI_KEY_TAB = '\t',
  TUI_KEY_ENTER = '\r',
  TUI_KEY_ESC = 27,
  TUI_KEY_UP = 0x110000, TUI_KEY_DOWN, TUI_KEY_LEFT, TUI_KEY_RIGHT,
  TUI_KEY_PGUP, TUI_KEY_PGDN, TUI_KEY_HOME, TUI_KEY_END, TUI_KEY_BTAB,
  TUI_KEY_BACKSPACE, TUI_KEY_RESIZE, TUI_KEY_MOUSE, TUI_KEY_DELETE
};
#define TUI_KEY_CTRL(c) ((c) & 0x1f)

/* ---- screens and the app (tui_main.c) ---- */

typedef struct tui_app tui_app;
typedef struct tui_screen tui_screen;
/* A prompt's answer: text is the input (UTF-8), or "y" for a yes to a
 * yes/no question; NULL when cancelled (Esc, or no). */
typedef void (*tui_prompt_fn)(void *arg, tui_app *a, const char *text);

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
  /* Optional: a click in the content area (wheel events arrive as
   * TUI_ACT_UP / TUI_ACT_DOWN through key()). y is a screen row. */
  int (*click)(tui_screen *s, tui_app *a, int x, int y);
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
  /* A one-line input (search, quiz answers) or a y/n question, drawn in
   * the status line; while active it takes every key. */
  struct tui_prompt {
    int active, yesno;
    char label[96];
    wchar_t buf[256];
    int n, cur;
    tui_prompt_fn done;
    void *arg;
  } prompt;
  struct { int x0, x1, key; } hint_hit[16]; /* status-line hints: clickable */
  int nhint_hit;
};

/* Show a transient status-line message. */
void tui__app_msg(tui_app *a, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Push s (takes ownership; frees it when the stack is full). */
int tui__app_push(tui_app *a, tui_screen *s);
/* Pop the top screen after the current key has been handled. */
void tui__app_pop(tui_app *a);
/* Ask for a line of text in the status line ("/" for search); `initial`
 * may be NULL. fn runs once, on Enter or Esc; arg must stay valid until
 * then (screens cannot be left while a prompt is open). */
void tui__app_prompt(tui_app *a, const char *label, const char *initial,
                     tui_prompt_fn fn, void *arg);
/* Ask a yes/no question; fn gets "y" for yes, NULL for anything else. */
void tui__app_confirm(tui_app *a, const char *question, tui_prompt_fn fn,
                      void *arg);
/* The prompt's text so far, UTF-8 (caller frees); NULL when none open. */
char *tui__app_prompt_text(const tui_app *a);
/* Draw a progress bar of `w` cells, `frac` in [0, 1] full. */
void tui__draw_bar(tui_app *a, tui_grid *g, int y, int x, int w, double frac,
                   uint16_t st);
/* Add `seconds` to the time spent on `item` (best effort: without a
 * database nothing is recorded). */
void tui__app_left_item(tui_app *a, const char *item, double seconds);
/* Remember `item` as the last one opened (for "continue where you left
 * off"). */
void tui__app_opened_item(tui_app *a, const char *item);
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
  TUI_ACT_SEARCH, TUI_ACT_NEXT, TUI_ACT_PREV, TUI_ACT_TOC, TUI_ACT_QUIZ,
  TUI_ACT_WATCH, TUI_ACT_RESET, TUI_ACT_PROGRESS, TUI_ACT_CONTINUE,
  TUI_ACT_SNIPPET,
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
/* Open a course item (lecture or lab) as the map does. */
void tui__open_item(tui_app *a, const lx_module *m, const lx_item *it);
/* The table of contents of a reader: jumps `*top` of the reader to the
 * chosen heading's line. heads is borrowed from the reader, which stays
 * below on the stack. */
tui_screen *tui__toc_new(tui_app *a, const char *crumb, const tui_mdinfo *info,
                         int *top, int current);
/* The quiz of lecture `lecture_id` (content/quizzes/<id>.lua); a missing
 * or broken quiz file is shown in an error panel. */
tui_screen *tui__quiz_new(tui_app *a, const char *crumb, const char *lecture_id,
                          const char *title);
/* The progress dashboard. */
tui_screen *tui__dash_new(tui_app *a);
/* ---- a grading run on a background thread (tui_run.c) ---- */

enum { TUI_CHK_WAIT, TUI_CHK_RUN, TUI_CHK_PASS, TUI_CHK_FAIL, TUI_CHK_SKIP };
enum { TUI_COMP_WAIT, TUI_COMP_RUN, TUI_COMP_OK, TUI_COMP_FAIL };

typedef struct tui_run_check {
  char *name;
  int state, hidden;
  double score, max_score, seconds;
  char *message;
  /* t:scaling's figures once the check is done (grd_check_result) */
  int npoints;
  double threads[8], times[8];
  double baseline_s;
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
