/* A setsid'd daemon that tries to outlive the grading and write a marker later. */
// lab: tiny
// expect: 1 passed
#include <unistd.h>
#include <stdio.h>
int lab_answer(void) { if (fork() == 0) { setsid(); if (fork() == 0) { sleep(3);
  FILE *f = fopen("/tmp/parlab-hostile-daemon", "w"); if (f) fclose(f); for (;;) pause(); } _exit(0); } return 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
