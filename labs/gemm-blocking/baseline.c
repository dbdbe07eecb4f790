/* baseline.c — the trusted naive baseline of Lab gemm-blocking: the
 * starter's i-j-k loops, compiled with the lab's flags and timed by the
 * grader in its own jail. The inner loop walks down a column of B, n * 8
 * bytes between consecutive loads, so nearly every load misses the L1
 * cache; and its float reduction stays scalar. */
void lab_gemm(const double *A, const double *B, double *C, long n) {
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++) {
      double s = 0.0;
      for (long k = 0; k < n; k++)
        s += A[i * n + k] * B[k * n + j];
      C[i * n + j] = s;
    }
}
