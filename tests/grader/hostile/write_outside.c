/* Writes files outside its scratch folder. */
// lab: tiny
// expect: 1 passed
#include <stdio.h>
static int wrote(const char *p) { FILE *f = fopen(p, "w"); if (f) { fputs("x", f); fclose(f); } return f != 0; }
int lab_answer(void) { int bad = wrote("/usr/parlab-hostile-marker") | wrote("/etc/parlab-hostile-marker")
  | wrote("../build/parlab-hostile-marker"); wrote("/tmp/parlab-hostile-marker"); return bad ? 0 : 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
