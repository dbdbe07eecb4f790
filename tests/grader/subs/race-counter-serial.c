/* race-counter, rewritten without threads: one loop in the calling
 * thread. Correct, and faster than the locked counter, but not parallel:
 * it must not get full marks. */
long lab_count(const double *x, long n, double limit, int threads) {
  (void)threads;
  long count = 0;
  for (long i = 0; i < n; i++)
    if (x[i] < limit)
      count++;
  return count;
}
