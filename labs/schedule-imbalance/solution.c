/* triangle.c — reference solution for Lab schedule-imbalance.
 *
 * schedule(dynamic, 16): threads take 16 iterations at a time from a
 * shared queue as they become free, so a thread that drew cheap early
 * iterations simply takes more of them, and all threads finish within one
 * chunk of each other. 16 iterations of this loop are at least a few
 * microseconds of work (except at the very start), far more than the cost
 * of taking a chunk from the queue, and n / 16 chunks leave plenty to share
 * out. schedule(guided) or a small static chunk (cyclic assignment) also
 * balance this loop.
 */
#include <omp.h>

void lab_triangle(double *y, const double *x, long n) {
#pragma omp parallel for schedule(dynamic, 16)
  for (long i = 0; i < n; i++) {
    double xi = x[i], s = 0.0;
    for (long j = 0; j < i; j++) {
      double d = xi - x[j];
      s += 1.0 / (1.0 + d * d);
    }
    y[i] = s;
  }
}
