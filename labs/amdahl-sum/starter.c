/* sum.c — Lab amdahl-sum: make this sum run in parallel.
 *
 * lab_sum returns x[0] + x[1] + ... + x[n-1]. It is correct but serial:
 * it uses one core however many the machine has. Parallelise the loop with
 * OpenMP (the file is compiled with -O2 -fopenmp) and keep it correct.
 * x may be NULL when n is 0.
 */
#include <omp.h>

double lab_sum(const double *x, long n) {
  double s = 0.0;
  for (long i = 0; i < n; i++)
    s += x[i];
  return s;
}
