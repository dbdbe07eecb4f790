double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
int lab_answer(void) { return 42; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
