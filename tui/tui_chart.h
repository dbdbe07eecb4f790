/*
 * tui_chart.h — a terminal chart widget: series of (x, y) points drawn as
 * lines or points on linear or logarithmic axes, rendered into plain UTF-8
 * text lines. Unicode braille cells give each character 2 x 4 dots; the
 * ASCII form (TUI_CHART_ASCII, for terminals without UTF-8) gives one dot
 * per character. No curses: `parlab info --roofline` prints the lines to
 * stdout, the TUI copies them into its cell grid and may colour each cell
 * by the series that drew it (tui_chart_owner()).
 *
 * Usage:
 *
 *   tui_chart *c;
 *   tui_chart_new(72, 20, TUI_CHART_LOGX | TUI_CHART_LOGY, &c);
 *   tui_chart_labels(c, "Roofline", "FLOP/byte", "GFLOP/s");
 *   tui_chart_add(c, "roof", xs, ys, 3, TUI_CHART_LINE, 0);
 *   tui_chart_add(c, "dot", &ai, &gf, 1, TUI_CHART_POINTS, 'd');
 *   char **lines; int n;
 *   if (tui_chart_render(c, &lines, &n) == 0) { ...; tui_chart_lines_free(lines, n); }
 *   tui_chart_free(c);
 *
 * Layout, top to bottom: title (if any), y-axis label (if any), the plot
 * with y tick labels on its left, the x axis and its tick labels, the
 * x-axis label (if any), then one legend line per named series unless
 * TUI_CHART_NO_LEGEND. Every rendered line is at most `width` display
 * columns (trailing blanks trimmed); there are exactly `height` lines.
 *
 * Data: non-finite points, and non-positive ones on a log axis, are
 * skipped and break a line. Ranges are automatic (the data's extent,
 * widened to round tick values) unless set with tui_chart_xrange() /
 * tui_chart_yrange(); anything outside the range is clipped.
 *
 * Thread-safety: a chart is a plain value owned by one thread; distinct
 * charts are independent.
 */
#ifndef TUI_CHART_H
#define TUI_CHART_H

enum {
  TUI_CHART_LOGX = 1u << 0,      /* logarithmic x axis */
  TUI_CHART_LOGY = 1u << 1,      /* logarithmic y axis */
  TUI_CHART_ASCII = 1u << 2,     /* ASCII only: no braille, no box drawing */
  TUI_CHART_NO_LEGEND = 1u << 3  /* no legend lines under the chart */
};

/* How a series is drawn. */
typedef enum {
  TUI_CHART_LINE = 0,   /* segments joining consecutive points */
  TUI_CHART_DASHED = 1, /* the same, every other stretch left out */
  TUI_CHART_POINTS = 2  /* the points alone */
} tui_chart_style;

#define TUI_CHART_MAX_SERIES 64

typedef struct tui_chart tui_chart;

/* A chart of width x height character cells, everything included
 * (width >= 20, height >= 6, each at most 1000; PL_EINVAL otherwise, or
 * for unknown flags). OUT: *out, caller frees with tui_chart_free(). */
int tui_chart_new(int width, int height, unsigned flags, tui_chart **out);
void tui_chart_free(tui_chart *c);

/* Title and axis labels (UTF-8, copied); NULL leaves one unset. */
int tui_chart_labels(tui_chart *c, const char *title, const char *xlabel,
                     const char *ylabel);

/* Fixed axis ranges, lo < hi, both finite (and > 0 on a log axis);
 * PL_EINVAL otherwise. */
int tui_chart_xrange(tui_chart *c, double lo, double hi);
int tui_chart_yrange(tui_chart *c, double lo, double hi);

/* Add a series of n >= 1 points (x and y copied). name: legend text, NULL
 * for none. marker: 0 draws dots (braille, or a per-series ASCII default);
 * a printable ASCII character draws that character over the whole cell at
 * every point, on top of any dots. Returns the series index (0, 1, ...) or
 * a negative PL_E* code (PL_EINVAL past TUI_CHART_MAX_SERIES). */
int tui_chart_add(tui_chart *c, const char *name, const double *x,
                  const double *y, int n, tui_chart_style style, char marker);

/* A text annotation whose first character sits at the cell of (x, y);
 * clipped at the right edge of the plot. Drawn after every series. */
int tui_chart_note(tui_chart *c, double x, double y, const char *text);

/* Render. OUT: *lines (height NUL-terminated UTF-8 strings) and *n;
 * caller frees with tui_chart_lines_free(). PL_EINVAL when no series has
 * a drawable point and a range is missing. */
int tui_chart_render(tui_chart *c, char ***lines, int *n);
void tui_chart_lines_free(char **lines, int n);

/* After a render: the series (0-based) that last drew the cell at
 * (row, col) of the rendered lines, or -1 for axes, labels, notes,
 * legend text and blanks (the legend's sample cells belong to their
 * series). col counts display columns. */
int tui_chart_owner(const tui_chart *c, int row, int col);

/* Axis range in use after the last render (data units). */
void tui_chart_ranges(const tui_chart *c, double *xlo, double *xhi,
                      double *ylo, double *yhi);

#endif
