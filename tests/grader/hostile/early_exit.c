/* Calls exit(0) inside the function. */
// lab: tiny
// expect: 1 failed exit status 0
// expect: 2 passed
#include <stdlib.h>
int lab_answer(void) { exit(0); }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
