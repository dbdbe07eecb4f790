/* triangle.c — Lab schedule-imbalance: balance a triangular loop.
 *
 * lab_triangle sets, for every i in 0..n-1,
 *
 *     y[i] = sum over j < i of 1 / (1 + (x[i] - x[j])^2)
 *
 * so iteration i does i steps of work: the last iteration costs n times
 * more than the first. The file is compiled with gcc -O2 -fopenmp.
 *
 * The loop is already parallel, and correct. What is wrong is how OpenMP
 * hands out the iterations: schedule(static, 8192) gives each thread
 * blocks of 8192 consecutive iterations, decided before the loop starts,
 * and the blocks near the end hold most of the work. Choose a schedule
 * kind and a chunk size that keep every thread busy until the end.
 */
#include <omp.h>

void lab_triangle(double *y, const double *x, long n) {
#pragma omp parallel for schedule(static, 8192)
  for (long i = 0; i < n; i++) {
    double xi = x[i], s = 0.0;
    for (long j = 0; j < i; j++) {
      double d = xi - x[j];
      s += 1.0 / (1.0 + d * d);
    }
    y[i] = s;
  }
}
