/* gemm.c — Lab gemm-blocking: make this matrix product fast.
 *
 * lab_gemm computes C = A * B for n x n matrices of doubles stored
 * row-major: element (i, j) of A is A[i * n + j]. C is output only: it
 * holds garbage on entry and every element must be written. This is the
 * textbook triple loop. It is correct, but its inner loop strides down a
 * column of B and it uses one lane of one vector unit. Reorder, vectorize
 * and block it for the caches; the file is compiled with
 * gcc -O2 -march=native, on one thread.
 */
void lab_gemm(const double *A, const double *B, double *C, long n) {
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++) {
      double s = 0.0;
      for (long k = 0; k < n; k++)
        s += A[i * n + k] * B[k * n + j];
      C[i * n + j] = s;
    }
}
