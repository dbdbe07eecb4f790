/*
 * tui_roofline.h — the roofline figure as text, shared by `parlab info
 * --roofline`, `parlab lab run` and the TUI's lab results: the machine's
 * two roofs, min(peak, intensity x bandwidth), on log-log axes (drawn by
 * tui_chart.h: braille, or ASCII), each kernel placed at its arithmetic
 * intensity — a capital letter where it was measured, a small letter
 * where it was predicted — then one table row per kernel with its roof,
 * bound, measured and predicted rates.
 *
 * No curses: the result is plain UTF-8 lines plus, for every display
 * column, the role of what is drawn there (roof, measured, predicted,
 * text), so the TUI colours its cells and the command line its escapes.
 *
 * Layout, top to bottom: the figure's title (if any), the chart (exactly
 * chart_h lines: its own title with the machine's figures, the plot, the
 * axes, the roof's legend), a key line for the letters, the table (a
 * header and one row per kernel). No line is wider than `width` columns.
 * Rates outside the axes' range are left off the chart (the table still
 * lists them); a kernel without a measurement or a prediction shows "-".
 *
 * Thread-safety: pure functions over caller-owned data.
 */
#ifndef TUI_ROOFLINE_H
#define TUI_ROOFLINE_H

#include <stdio.h>

#define TUI_ROOF_MAX_KERNELS 26 /* one letter each */

typedef struct tui_roof_kernel {
  const char *name;
  double ai;        /* FLOP/byte, > 0 (others are listed, not placed) */
  double measured;  /* GFLOP/s; NaN or < 0: not measured */
  double predicted; /* GFLOP/s; NaN or < 0: no prediction */
} tui_roof_kernel;

typedef struct tui_roof_fig {
  const char *title;   /* a heading line above the chart; NULL or "": none */
  double peak_gflops;  /* compute roof, > 0 */
  double bw_gbs;       /* memory roof, > 0 */
  const char *bw_name; /* what measured the bandwidth ("STREAM triad"); NULL: "bandwidth" */
  const tui_roof_kernel *kernels;
  int nkernels;        /* 0 .. TUI_ROOF_MAX_KERNELS */
} tui_roof_fig;

/* The role of a display column in the rendered text. */
enum { TUI_ROOF_TEXT = 0, TUI_ROOF_ROOF, TUI_ROOF_MEASURED, TUI_ROOF_PREDICTED };

typedef struct tui_roof_text {
  char **lines;       /* n UTF-8 lines, each at most width columns */
  int n;
  int width;
  signed char *role;  /* n * width: TUI_ROOF_* of each display column */
} tui_roof_text;

/* Render f at `width` columns (40..1000) with a chart of chart_h lines
 * (>= 8); ascii != 0: ASCII only. PL_EINVAL for a bad roof, size or
 * kernel count. OUT: *out, caller frees with tui_roofline_text_free(). */
int tui_roofline_render(const tui_roof_fig *f, int width, int chart_h, int ascii,
                        tui_roof_text *out);
void tui_roofline_text_free(tui_roof_text *t);

/* The same for a check's t:roofline figure as the grader carries it (the
 * memory roof is the probe's STREAM triad). */
struct grd_roofline;
int tui_roofline_render_check(const struct grd_roofline *g, int width, int chart_h, int ascii,
                              tui_roof_text *out);

/* The role at (line, col), TUI_ROOF_TEXT outside the text. */
int tui_roofline_role(const tui_roof_text *t, int line, int col);

/* Print the lines to f; ansi != 0 colours the roof, the measured and the
 * predicted marks (the command line's --no-color / NO_COLOR decide). */
void tui_roofline_print(FILE *f, const tui_roof_text *t, int ansi);

/* Whether the locale (or, in a program that never set one, LC_ALL,
 * LC_CTYPE, LANG) asks for UTF-8: otherwise charts are drawn in ASCII. */
int tui_roofline_utf8(void);

#endif
