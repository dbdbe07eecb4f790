/* Reads the reference solution and the gradebook by absolute paths. */
// lab: tiny
// expect: 1 passed
#include <stdio.h>
#include <stdlib.h>
static int can(const char *p) { FILE *f = fopen(p, "r"); if (f) fclose(f); return f != 0; }
int lab_answer(void) { const char *src = getenv("HOSTILE_SRC");
  return can("/work/main/labs/amdahl-sum/solution.c") || can("/root/.local/share/parlab/parlab.db")
      || can("/work/main/tests/grader/labs/tiny/solution.c") || (src && can(src)) ? 0 : 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
