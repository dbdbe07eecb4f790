/*
 * test_roofline_figure.c — the roofline figure (tui/tui_roofline.h) that
 * `parlab info --roofline`, `parlab lab run` and the TUI's lab results
 * draw: layout and width, where the letters land and their roles, the
 * table's figures, ASCII output, rates off the chart, errors.
 */
#include <math.h>
#include <stdint.h>

#include "pl_err.h"
#include "pl_test.h"
#include "tui_roofline.h"

/* Display columns of a UTF-8 line (one per code point here). */
static int cols(const char *s) {
  int n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* Display column of the first occurrence of byte c in s, or -1. */
static int col_of(const char *s, char c) {
  for (int col = 0; *s; s++) {
    if (*s == c) return col;
    col += ((unsigned char)*s & 0xc0) != 0x80;
  }
  return -1;
}

static int find_line(const tui_roof_text *t, const char *needle) {
  for (int i = 0; i < t->n; i++)
    if (strstr(t->lines[i], needle)) return i;
  return -1;
}

static int has_braille(const tui_roof_text *t) {
  for (int i = 0; i < t->n; i++)
    if (strstr(t->lines[i], "\xe2\xa0") || strstr(t->lines[i], "\xe2\xa1") ||
        strstr(t->lines[i], "\xe2\xa2") || strstr(t->lines[i], "\xe2\xa3"))
      return 1;
  return 0;
}

/* A machine with peak 100 GFLOP/s and 10 GB/s (ridge 10): a memory-bound
 * kernel measured and predicted, a compute-bound one measured only, one
 * predicted only. */
static const tui_roof_kernel K[3] = {
    {"dot", 0.125, 1.0, 1.25},
    {"gemm", 40, 80, NAN},
    {"poly", 2, NAN, 20},
};

static void test_layout_and_letters(void) {
  tui_roof_fig f = {"My figure", 100, 10, "STREAM triad", K, 3};
  tui_roof_text t;
  PT_EQ_INT(tui_roofline_render(&f, 76, 16, 0, &t), 0);
  PT_EQ_STR(t.lines[0], "My figure");
  /* title + chart + key + table header + 3 rows */
  PT_EQ_INT(t.n, 1 + 16 + 1 + 1 + 3);
  for (int i = 0; i < t.n; i++) PT_TRUE(cols(t.lines[i]) <= 76);
  PT_TRUE(find_line(&t, "Roofline: peak 100 GFLOP/s, STREAM triad 10 GB/s, ridge 10 FLOP/B") >= 0);
  PT_TRUE(find_line(&t, "arithmetic intensity (FLOP/byte)") >= 0);
  PT_TRUE(find_line(&t, "GFLOP/s") >= 0);
  PT_TRUE(has_braille(&t));
  /* Letters on the chart: A (dot measured), a (dot predicted), B (gemm
   * measured), c (poly predicted); no b (gemm has no prediction), no C. */
  int chart_end = find_line(&t, "arithmetic intensity");
  int seen[256] = {0};
  for (int i = 1; i < chart_end; i++)
    for (const char *c = "AaBbCc"; *c; c++) {
      int col = col_of(t.lines[i], *c);
      /* skip the title and axis-label lines, which are words */
      if (col < 0 || strstr(t.lines[i], "Roofline") || strstr(t.lines[i], "GFLOP")) continue;
      seen[(unsigned char)*c] = 1;
      int want = *c >= 'a' ? TUI_ROOF_PREDICTED : TUI_ROOF_MEASURED;
      PT_EQ_INT(tui_roofline_role(&t, i, col), want);
    }
  PT_TRUE(seen['A'] && seen['a'] && seen['B'] && seen['c']);
  PT_TRUE(!seen['b'] && !seen['C']);
  /* The compute-bound measurement sits above the memory-bound one. */
  int rowA = -1, rowB = -1;
  for (int i = 1; i < chart_end; i++) {
    if (rowA < 0 && col_of(t.lines[i], 'A') >= 0 && !strstr(t.lines[i], "GFLOP")) rowA = i;
    if (rowB < 0 && col_of(t.lines[i], 'B') >= 0 && !strstr(t.lines[i], "GFLOP")) rowB = i;
  }
  PT_TRUE(rowB < rowA);
  /* The roof is drawn and tagged: some cell of the plot has its role. */
  int roof = 0;
  for (int i = 1; i < chart_end; i++)
    for (int c = 0; c < 76; c++) roof |= tui_roofline_role(&t, i, c) == TUI_ROOF_ROOF;
  PT_TRUE(roof);
  /* The table: roof, bound, % of roof, and "-" where nothing was given. */
  int r = find_line(&t, "dot ");
  PT_TRUE(r > chart_end);
  PT_CONTAINS(t.lines[r], "memory");
  PT_CONTAINS(t.lines[r], "1.25"); /* roof 0.125 * 10, and the prediction */
  PT_CONTAINS(t.lines[r], "80%");  /* measured 1.0 of 1.25 */
  r = find_line(&t, "gemm ");
  PT_CONTAINS(t.lines[r], "compute");
  PT_CONTAINS(t.lines[r], "80%");
  PT_TRUE(strstr(t.lines[r], " -") != NULL); /* no prediction */
  r = find_line(&t, "poly ");
  PT_CONTAINS(t.lines[r], "20");
  PT_TRUE(strstr(t.lines[r], " -") != NULL); /* not measured */
  PT_EQ_INT(tui_roofline_role(&t, -1, 0), TUI_ROOF_TEXT);
  PT_EQ_INT(tui_roofline_role(&t, 0, 500), TUI_ROOF_TEXT);
  tui_roofline_text_free(&t);
}

static void test_ascii_and_narrow(void) {
  tui_roof_fig f = {NULL, 100, 10, NULL, K, 3};
  tui_roof_text t;
  PT_EQ_INT(tui_roofline_render(&f, 50, 12, 1, &t), 0);
  for (int i = 0; i < t.n; i++) {
    PT_TRUE(cols(t.lines[i]) <= 50);
    for (const char *s = t.lines[i]; *s; s++) PT_TRUE((unsigned char)*s < 0x80);
  }
  PT_TRUE(find_line(&t, "Roofline: peak 100 GFLOP/s, bandwidth 10 GB/s") >= 0);
  PT_TRUE(find_line(&t, "roof: min(peak, intensity x bandwidth)") >= 0);
  PT_TRUE(find_line(&t, "+---") >= 0); /* the x axis */
  PT_TRUE(find_line(&t, "memory") < 0); /* 50 columns: no bound column */
  tui_roofline_text_free(&t);
}

/* A prediction 1e30 off the roof keeps the axes sane: listed, not drawn. */
static void test_wild_prediction(void) {
  tui_roof_kernel k[2] = {{"sane", 1, 5, 10}, {"wild", 1, NAN, 1e30}};
  tui_roof_fig f = {NULL, 100, 10, NULL, k, 2};
  tui_roof_text t;
  PT_EQ_INT(tui_roofline_render(&f, 80, 14, 1, &t), 0);
  int chart_end = find_line(&t, "arithmetic intensity");
  for (int i = 1; i < chart_end; i++)
    if (!strstr(t.lines[i], "GFLOP")) PT_TRUE(col_of(t.lines[i], 'b') < 0);
  PT_TRUE(find_line(&t, "1.00e+30") > chart_end);
  /* the y axis still tops out near the peak, not at 1e30 */
  PT_TRUE(find_line(&t, "1e30") < 0 && find_line(&t, "1e29") < 0);
  tui_roofline_text_free(&t);
}

static void test_errors(void) {
  tui_roof_text t;
  tui_roof_fig f = {NULL, 100, 10, NULL, K, 3};
  PT_EQ_INT(tui_roofline_render(&f, 30, 16, 0, &t), PL_EINVAL);
  PT_EQ_INT(tui_roofline_render(&f, 80, 4, 0, &t), PL_EINVAL);
  f.peak_gflops = 0;
  PT_EQ_INT(tui_roofline_render(&f, 80, 16, 0, &t), PL_EINVAL);
  f.peak_gflops = 100, f.bw_gbs = NAN;
  PT_EQ_INT(tui_roofline_render(&f, 80, 16, 0, &t), PL_EINVAL);
  f.bw_gbs = 10, f.nkernels = TUI_ROOF_MAX_KERNELS + 1;
  PT_EQ_INT(tui_roofline_render(&f, 80, 16, 0, &t), PL_EINVAL);
  PT_EQ_INT(tui_roofline_render(NULL, 80, 16, 0, &t), PL_EINVAL);
  /* no kernels: the roofs alone, no table */
  f.nkernels = 0;
  PT_EQ_INT(tui_roofline_render(&f, 80, 16, 0, &t), 0);
  PT_EQ_INT(t.n, 16);
  tui_roofline_text_free(&t);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {PT_CASE(test_layout_and_letters), PT_CASE(test_ascii_and_narrow),
                                  PT_CASE(test_wild_prediction), PT_CASE(test_errors), {0}};
  return pt_main(argc, argv, cases);
}
