/*
 * test_simd_chart.c — the terminal chart widget (tui/tui_chart.h): layout,
 * braille and ASCII rasters, log axes, clipping, ownership, errors.
 */
#include <stdint.h>

#include "pl_err.h"
#include "pl_test.h"
#include "tui_chart.h"

/* Display columns of a UTF-8 line (every code point here is one column). */
static int cols(const char *s) {
  int n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* Code point at display column col of a UTF-8 line, or ' ' past its end. */
static uint32_t cp_at(const char *s, int col) {
  const unsigned char *p = (const unsigned char *)s;
  for (int c = 0; *p; c++) {
    uint32_t cp;
    int len;
    if (*p < 0x80) cp = *p, len = 1;
    else if ((*p & 0xe0) == 0xc0) cp = *p & 0x1f, len = 2;
    else if ((*p & 0xf0) == 0xe0) cp = *p & 0x0f, len = 3;
    else cp = *p & 0x07, len = 4;
    for (int k = 1; k < len; k++) cp = (cp << 6) | (p[k] & 0x3f);
    if (c == col) return cp;
    p += len;
  }
  return ' ';
}

static int is_braille(uint32_t cp) { return cp > 0x2800 && cp <= 0x28ff; }

static int find_row(char **lines, int n, const char *needle) {
  for (int i = 0; i < n; i++)
    if (strstr(lines[i], needle)) return i;
  return -1;
}

static void test_errors(void) {
  tui_chart *c = NULL;
  PT_EQ_INT(tui_chart_new(10, 10, 0, &c), PL_EINVAL);
  PT_EQ_INT(tui_chart_new(40, 3, 0, &c), PL_EINVAL);
  PT_EQ_INT(tui_chart_new(40, 10, 1u << 20, &c), PL_EINVAL);
  PT_EQ_INT(tui_chart_new(40, 10, TUI_CHART_LOGX, &c), 0);
  PT_EQ_INT(tui_chart_xrange(c, 0, 10), PL_EINVAL); /* log axis needs lo > 0 */
  PT_EQ_INT(tui_chart_xrange(c, 5, 5), PL_EINVAL);
  PT_EQ_INT(tui_chart_yrange(c, 0, NAN), PL_EINVAL);
  double x[1] = {1}, y[1] = {1};
  PT_EQ_INT(tui_chart_add(c, "a", x, y, 0, TUI_CHART_LINE, 0), PL_EINVAL);
  PT_EQ_INT(tui_chart_add(c, "a", x, y, 1, TUI_CHART_LINE, '\n'), PL_EINVAL);
  char **lines;
  int n;
  /* Nothing drawable and no ranges: refused. */
  PT_EQ_INT(tui_chart_render(c, &lines, &n), PL_EINVAL);
  double bad[1] = {-1};
  PT_EQ_INT(tui_chart_add(c, "neg", bad, y, 1, TUI_CHART_LINE, 0), 0);
  PT_EQ_INT(tui_chart_render(c, &lines, &n), PL_EINVAL);
  for (int i = 1; i < TUI_CHART_MAX_SERIES; i++)
    PT_EQ_INT(tui_chart_add(c, NULL, x, y, 1, TUI_CHART_POINTS, 0), i);
  PT_EQ_INT(tui_chart_add(c, NULL, x, y, 1, TUI_CHART_POINTS, 0), PL_EINVAL);
  tui_chart_free(c);
}

/* Size contract: exactly height lines, none wider than width; title,
 * labels and legend present. */
static void test_layout(void) {
  tui_chart *c;
  PT_EQ_INT(tui_chart_new(60, 16, 0, &c), 0);
  PT_EQ_INT(tui_chart_labels(c, "Speedup", "threads", "speedup"), 0);
  double x[4] = {1, 2, 3, 4}, y[4] = {1, 1.9, 2.7, 3.4};
  PT_EQ_INT(tui_chart_add(c, "measured", x, y, 4, TUI_CHART_LINE, 'o'), 0);
  PT_EQ_INT(tui_chart_add(c, "ideal", x, x, 4, TUI_CHART_DASHED, 0), 1);
  char **lines;
  int n;
  PT_EQ_INT(tui_chart_render(c, &lines, &n), 0);
  PT_EQ_INT(n, 16);
  for (int i = 0; i < n; i++) PT_TRUE(cols(lines[i]) <= 60);
  PT_CONTAINS(lines[0], "Speedup");
  PT_CONTAINS(lines[1], "speedup");
  PT_TRUE(find_row(lines, n, "threads") > 1);
  int lm = find_row(lines, n, "measured"), li = find_row(lines, n, "ideal");
  PT_TRUE(lm > 0 && li == lm + 1);
  /* The legend sample belongs to its series; the name does not. */
  int owned = 0;
  for (int k = 0; k < 60; k++) owned += tui_chart_owner(c, lm, k) == 0;
  PT_EQ_INT(owned, 3);
  PT_EQ_INT(tui_chart_owner(c, lm, cols(lines[lm]) - 1), -1);
  /* The marker 'o' appears in the plot at the 4 points, owned by series 0. */
  int marks = 0;
  for (int r = 0; r < find_row(lines, n, "threads"); r++)
    for (int k = 0; k < 60; k++)
      if (cp_at(lines[r], k) == 'o' && tui_chart_owner(c, r, k) == 0) marks++;
  PT_EQ_INT(marks, 4);
  /* Braille dots drawn for the lines. */
  int dots = 0;
  for (int r = 2; r < 12; r++)
    for (int k = 0; k < 60; k++) dots += is_braille(cp_at(lines[r], k));
  PT_TRUE(dots > 10);
  /* Automatic ranges are round and contain the data. */
  double xlo, xhi, ylo, yhi;
  tui_chart_ranges(c, &xlo, &xhi, &ylo, &yhi);
  PT_TRUE(xlo <= 1 && xhi >= 4 && ylo <= 1 && yhi >= 4);
  tui_chart_lines_free(lines, n);
  tui_chart_free(c);
}

/* A horizontal line at the top of a fixed y range lands on the first plot
 * row, a point at the bottom-left corner on the last row, first column. */
static void test_geometry(void) {
  tui_chart *c;
  PT_EQ_INT(tui_chart_new(40, 10, TUI_CHART_NO_LEGEND, &c), 0);
  PT_EQ_INT(tui_chart_xrange(c, 0, 10), 0);
  PT_EQ_INT(tui_chart_yrange(c, 0, 10), 0);
  double hx[2] = {0, 10}, hy[2] = {10, 10};
  PT_EQ_INT(tui_chart_add(c, "top", hx, hy, 2, TUI_CHART_LINE, 0), 0);
  double px[1] = {0}, py[1] = {0};
  PT_EQ_INT(tui_chart_add(c, "corner", px, py, 1, TUI_CHART_POINTS, '#'), 1);
  char **lines;
  int n;
  PT_EQ_INT(tui_chart_render(c, &lines, &n), 0);
  /* No title or labels: plot rows 0..7, axis row 8, tick labels row 9. */
  int axis = n - 2;
  PT_TRUE(cp_at(lines[axis], 2) == 0x2514 || cp_at(lines[axis], 3) == 0x2514);
  int x0 = cp_at(lines[axis], 2) == 0x2514 ? 3 : 4;
  /* Top row: every plot cell has the two top dots (0x01 | 0x08). */
  for (int k = x0; k < 40; k++) {
    uint32_t cp = cp_at(lines[0], k);
    PT_TRUE(is_braille(cp));
    PT_EQ_INT((cp - 0x2800) & 0x09, 0x09);
    PT_EQ_INT(tui_chart_owner(c, 0, k), 0);
  }
  PT_EQ_INT(cp_at(lines[axis - 1], x0), '#');
  PT_EQ_INT(tui_chart_owner(c, axis - 1, x0), 1);
  /* Tick labels: 0 and 10 on both axes. */
  PT_CONTAINS(lines[0], "10");
  PT_CONTAINS(lines[axis - 1], "0");
  PT_CONTAINS(lines[axis + 1], "10");
  tui_chart_lines_free(lines, n);
  tui_chart_free(c);
}

/* Log-log: the roofline case. Ticks at decades, a straight line in
 * log space, clipping of points outside the range. */
static void test_loglog_ascii(void) {
  tui_chart *c;
  PT_EQ_INT(tui_chart_new(50, 14, TUI_CHART_LOGX | TUI_CHART_LOGY | TUI_CHART_ASCII, &c), 0);
  PT_EQ_INT(tui_chart_labels(c, NULL, "FLOP/byte", "GFLOP/s"), 0);
  PT_EQ_INT(tui_chart_xrange(c, 0.01, 100), 0);
  PT_EQ_INT(tui_chart_yrange(c, 0.1, 1000), 0);
  double rx[3] = {0.01, 5, 100}, ry[3] = {0.2, 100, 100};
  PT_EQ_INT(tui_chart_add(c, "roof", rx, ry, 3, TUI_CHART_LINE, 0), 0);
  double kx[2] = {0.125, 1e6}, ky[2] = {2.5, 1};
  PT_EQ_INT(tui_chart_add(c, "kernels", kx, ky, 2, TUI_CHART_POINTS, 'k'), 1);
  PT_EQ_INT(tui_chart_note(c, 5, 100, "ridge"), 0);
  char **lines;
  int n;
  PT_EQ_INT(tui_chart_render(c, &lines, &n), 0);
  for (int i = 0; i < n; i++)
    for (const char *p = lines[i]; *p; p++) PT_TRUE((unsigned char)*p < 0x80);
  PT_TRUE(find_row(lines, n, "1000") >= 0);
  PT_TRUE(find_row(lines, n, "0.01") >= 0);
  PT_TRUE(find_row(lines, n, "ridge") >= 0);
  PT_TRUE(find_row(lines, n, "GFLOP/s") == 0);
  /* Only the in-range kernel point is drawn. */
  int k = 0;
  for (int r = 0; r < find_row(lines, n, "FLOP/byte"); r++)
    for (const char *p = lines[r]; *p; p++) k += *p == 'k' && tui_chart_owner(c, r, (int)(p - lines[r])) == 1;
  PT_EQ_INT(k, 1);
  /* The flat part of the roof: one row holding a long run of '*'. */
  int best = 0;
  for (int r = 0; r < n; r++) {
    int run = 0;
    for (const char *p = lines[r]; *p; p++) {
      run = *p == '*' ? run + 1 : 0;
      if (run > best) best = run;
    }
  }
  PT_TRUE(best >= 10);
  /* The "ridge" note starts where the roof bends: owned by nobody. */
  int rr = find_row(lines, n, "ridge");
  int rc = (int)(strstr(lines[rr], "ridge") - lines[rr]);
  PT_EQ_INT(tui_chart_owner(c, rr, rc), -1);
  tui_chart_lines_free(lines, n);
  tui_chart_free(c);
}

/* NaN breaks a line; a tiny chart sheds legend and labels but still
 * renders at its size. */
static void test_gaps_and_small(void) {
  tui_chart *c;
  PT_EQ_INT(tui_chart_new(20, 6, TUI_CHART_ASCII, &c), 0);
  PT_EQ_INT(tui_chart_labels(c, "t", "x", "y"), 0);
  double x[5] = {0, 1, 2, 3, 4}, y[5] = {0, 1, NAN, 3, 4};
  PT_EQ_INT(tui_chart_add(c, "s", x, y, 5, TUI_CHART_LINE, 0), 0);
  char **lines;
  int n;
  PT_EQ_INT(tui_chart_render(c, &lines, &n), 0);
  PT_EQ_INT(n, 6);
  for (int i = 0; i < n; i++) PT_TRUE(cols(lines[i]) <= 20);
  PT_TRUE(find_row(lines, n, "*") >= 0);
  tui_chart_lines_free(lines, n);
  tui_chart_free(c);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
      PT_CASE(test_errors),       PT_CASE(test_layout),         PT_CASE(test_geometry),
      PT_CASE(test_loglog_ascii), PT_CASE(test_gaps_and_small), {0}};
  return pt_main(argc, argv, cases);
}
