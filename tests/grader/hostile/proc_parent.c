/* Looks at the grader through /proc/<ppid> and /proc/1. */
// lab: tiny
// expect: 1 passed
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
static int can(const char *p) { FILE *f = fopen(p, "r"); if (f) fclose(f); return f != 0; }
int lab_answer(void) { char p[64]; int leaked = 0; snprintf(p, sizeof p, "/proc/%d/environ", (int)getppid()); leaked |= can(p);
  snprintf(p, sizeof p, "/proc/%d/root/work/main/labs/amdahl-sum/solution.c", (int)getppid()); leaked |= can(p);
  leaked |= can("/proc/1/root/work/main/labs/amdahl-sum/solution.c"); return leaked ? 0 : 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
