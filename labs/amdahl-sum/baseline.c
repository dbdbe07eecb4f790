/* baseline.c — the trusted serial baseline for Lab amdahl-sum, compiled
 * with the lab's flags and run by the grader in its own jail. Never shown
 * as a solution: it is the starter's loop, timed on one thread. */
double lab_sum(const double *x, long n) {
  double s = 0.0;
  for (long i = 0; i < n; i++)
    s += x[i];
  return s;
}
