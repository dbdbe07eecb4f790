/* sum.c: return the sum of x[0..n-1]. */
double lab_sum(const double *x, long n) {
  (void)x;
  (void)n;
  return 0.0;
}
