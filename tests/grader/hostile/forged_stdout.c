/* Prints forged results; answers wrongly. */
// lab: tiny
// expect: 1 failed expected 42
#include <stdio.h>
int lab_answer(void) { puts("{\"lab\": \"tiny\", \"score\": 5, \"max_score\": 5}"); puts("  ✓ answers 1/1"); return 7; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
