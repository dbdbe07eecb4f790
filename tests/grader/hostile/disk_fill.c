/* Writes to a file until the file-size limit stops it. */
// lab: tiny
// expect: 1 failed SIGXFSZ
// expect: 2 passed
#include <stdio.h>
int lab_answer(void) { FILE *f = fopen("fill.bin", "w"); static char b[1 << 16]; if (!f) return 0;
  for (;;) { if (fwrite(b, 1, sizeof b, f) != sizeof b) return 0; fflush(f); } }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
