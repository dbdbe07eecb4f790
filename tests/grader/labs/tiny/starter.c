double lab_sum(const double *x, long n) { (void)x; (void)n; return 0; }
int lab_answer(void) { return 0; }
void lab_scale(double *y, long n, double a) { (void)y; (void)n; (void)a; }
