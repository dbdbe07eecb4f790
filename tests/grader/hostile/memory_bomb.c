/* Allocates and touches memory until it cannot. */
// lab: tiny
// expect: 1 failed
// expect: 2 passed
#include <stdlib.h>
#include <string.h>
int lab_answer(void) { for (;;) { char *p = malloc(1 << 24); if (!p) return 0; memset(p, 1, 1 << 24); } }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
