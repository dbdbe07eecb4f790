/* Prints without end. */
// lab: tiny
// expect: 1 failed time limit
// expect: 2 passed
#include <stdio.h>
int lab_answer(void) { for (;;) puts("flood flood flood flood flood flood flood flood"); }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
