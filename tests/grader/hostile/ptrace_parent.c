/* Tries to ptrace the grader. */
// lab: tiny
// expect: 1 passed
#include <sys/ptrace.h>
#include <unistd.h>
int lab_answer(void) { return ptrace(PTRACE_ATTACH, getppid(), 0, 0) < 0 && ptrace(PTRACE_ATTACH, 1, 0, 0) < 0 ? 42 : 0; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
