/* bench.c — the timing harness of Lab simd-dot, compiled together with
 * your dot.c (and, in its own jail, with the grader's scalar baseline).
 *
 * One call from the grader to the jail costs tens of microseconds, longer
 * than one dot product over in-cache data. So the grader times this loop
 * instead: it calls lab_dot `reps` times over the same small arrays, which
 * stay in the L1/L2 caches. The start moves by one float per call (offsets
 * 0 to 15), so unaligned starts and every tail length are timed as well.
 * The grader checks the returned total, and keeps its own copy of this file.
 */
float lab_dot(const float *x, const float *y, long n);

double dot_bench(const float *x, const float *y, long n, long reps) {
  double total = 0.0;
  for (long r = 0; r < reps; r++) {
    long off = r % 16;
    total += lab_dot(x + off, y + off, n - off);
  }
  return total;
}
