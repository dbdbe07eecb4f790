/* Thread bomb: threads that never end, until creation fails. */
// lab: tiny
// expect: 1 failed expected 42
// expect: 2 passed
#include <pthread.h>
#include <unistd.h>
static void *sleeper(void *a) { (void)a; for (;;) pause(); return 0; }
int lab_answer(void) { pthread_t t; int n = 0; while (pthread_create(&t, 0, sleeper, 0) == 0) n++; return n > 0 ? 0 : 1; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
