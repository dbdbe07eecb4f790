/* sum.c — reference solution for Lab amdahl-sum.
 *
 * Each thread sums its own block of the array into a private copy of s;
 * the reduction clause adds the copies together when the loop ends, so
 * there is no race and no lock inside the loop.
 */
#include <omp.h>

double lab_sum(const double *x, long n) {
  double s = 0.0;
#pragma omp parallel for reduction(+ : s) schedule(static)
  for (long i = 0; i < n; i++)
    s += x[i];
  return s;
}
