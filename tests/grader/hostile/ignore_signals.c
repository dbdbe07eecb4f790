/* Infinite loop with SIGXCPU, SIGALRM and SIGTERM ignored. */
// lab: tiny
// expect: 1 failed time limit
// expect: 2 passed
#include <signal.h>
int lab_answer(void) { signal(SIGXCPU, SIG_IGN); signal(SIGALRM, SIG_IGN); signal(SIGTERM, SIG_IGN);
  for (volatile int k = 1; k;) {} return 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
