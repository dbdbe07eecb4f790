/* Casts away const and zeroes its input. */
// lab: tiny
// expect: 0 failed SIGSEGV
// expect: 3 failed SIGSEGV
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) { s += x[i]; ((double *)x)[i] = 0; } return s; }
int lab_answer(void) { return 42; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
