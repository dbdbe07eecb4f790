/* Unbounded recursion. */
// lab: tiny
// expect: 1 failed SIGSEGV
// expect: 2 passed
static int down(volatile int *d) { volatile int pad[256]; pad[0] = *d; return down(pad) + pad[1]; }
int lab_answer(void) { int z = 0; return down(&z); }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
