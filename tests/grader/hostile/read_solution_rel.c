/* Reads the lab folder by relative paths from its scratch folder. */
// lab: tiny
// expect: 1 passed
#include <stdio.h>
static int can(const char *p) { FILE *f = fopen(p, "r"); if (f) fclose(f); return f != 0; }
int lab_answer(void) { const char *p[] = { "../../../work/main/tests/grader/labs/tiny/solution.c", "../build/tiny.c",
  "../../labs/tiny/solution.c", "../../../../../../../../etc/shadow", 0 };
  int leaked = 0; for (int i = 0; p[i]; i++) leaked |= can(p[i]) && i != 1; return leaked ? 0 : 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
