/* baseline.c — the trusted scalar baseline of Lab simd-dot: the starter's
 * loop, compiled with the lab's flags and timed by the grader in its own
 * jail. GCC does not vectorize this float reduction without -ffast-math
 * (reordering the additions could change the rounded result), so each
 * addition waits for the previous one. */
float lab_dot(const float *x, const float *y, long n) {
  float s = 0.0f;
  for (long i = 0; i < n; i++)
    s += x[i] * y[i];
  return s;
}
