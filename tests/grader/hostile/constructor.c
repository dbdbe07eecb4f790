/* Runs code at load time: prints a fake verdict and exits. */
// lab: tiny
// expect: 0 failed could not be loaded
// expect: 1 failed
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void early(void) { puts("{\"score\": 5, \"max_score\": 5}"); exit(0); }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
int lab_answer(void) { return 42; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
