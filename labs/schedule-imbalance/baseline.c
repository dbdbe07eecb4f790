/* baseline.c — the trusted serial baseline for Lab schedule-imbalance:
 * the same loop with no OpenMP pragma, compiled with the lab's flags and
 * run by the grader in its own jail on one thread. */
void lab_triangle(double *y, const double *x, long n) {
  for (long i = 0; i < n; i++) {
    double xi = x[i], s = 0.0;
    for (long j = 0; j < i; j++) {
      double d = xi - x[j];
      s += 1.0 / (1.0 + d * d);
    }
    y[i] = s;
  }
}
