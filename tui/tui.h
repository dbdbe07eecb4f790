/*
 * tui.h — the ncurses front end, and the Markdown renderer it shares with
 * `parlab read` / `parlab lab show`.
 *
 * The TUI keeps its screen model apart from curses: screens draw into an
 * in-memory cell grid that is flushed to the terminal once per tick, so
 * tests can read the screen as text. Single-threaded except for grading,
 * which runs on a background thread and posts events to the UI thread.
 */
#ifndef TUI_H
#define TUI_H

#include <stdio.h>
#include <stddef.h>

typedef struct tui_opts {
  const char *home;        /* $PARLAB_HOME, resolved */
  const char *course_root; /* folder holding content/ and labs/ */
  int no_color;            /* --no-color or NO_COLOR */
} tui_opts;

/* Run the courseware until the user quits. Returns a process exit code. */
int tui_main(const tui_opts *o);

/* Render CommonMark to `f` wrapped at `width` columns; ansi != 0 adds
 * bold/underline/colour escapes. Returns 0 or PL_EINVAL (md4c error). */
int tui_md_print(FILE *f, const char *md, size_t len, int width, int ansi);

#endif
