/* A wrong submission for Lab gemm-blocking: a k-blocked i-k-j loop that
 * accumulates into C without clearing it first. C holds garbage on entry,
 * so every element comes out wrong. */
void lab_gemm(const double *A, const double *B, double *C, long n) {
  const long KC = 128;
  for (long kk = 0; kk < n; kk += KC) {
    long k1 = kk + KC < n ? kk + KC : n;
    for (long i = 0; i < n; i++)
      for (long k = kk; k < k1; k++) {
        double a = A[i * n + k];
        for (long j = 0; j < n; j++)
          C[i * n + j] += a * B[k * n + j];
      }
  }
}
