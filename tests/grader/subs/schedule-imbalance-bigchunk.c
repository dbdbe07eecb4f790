/* schedule-imbalance, wrong on speed: dynamic, but with chunks so large
 * that n = 16384 makes only two of them, a quarter and three quarters of
 * the work. The kind of schedule alone does not balance the loop. */
#include <omp.h>

void lab_triangle(double *y, const double *x, long n) {
#pragma omp parallel for schedule(dynamic, 8192)
  for (long i = 0; i < n; i++) {
    double xi = x[i], s = 0.0;
    for (long j = 0; j < i; j++) {
      double d = xi - x[j];
      s += 1.0 / (1.0 + d * d);
    }
    y[i] = s;
  }
}
