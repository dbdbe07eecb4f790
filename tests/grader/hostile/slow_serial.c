/* Detects a one-thread run and slows it down to fake a speedup. */
// lab: amdahl-sum
// expect: 0 passed
// expect: 1 failed speedup
#include <omp.h>
#include <unistd.h>
double lab_sum(const double *x, long n) {
  if (omp_get_max_threads() == 1) usleep(50000);
  double s = 0;
  for (long i = 0; i < n; i++) s += x[i];
  return s;
}
