/* lab_sum never returns; the other exports are right. */
double lab_sum(const double *x, long n) { (void)x; (void)n; for (volatile int k = 1; k;) {} return 0; }
int lab_answer(void) { return 42; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
