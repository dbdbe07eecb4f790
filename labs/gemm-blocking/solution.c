/* gemm.c — reference solution for Lab gemm-blocking.
 *
 * Blocking at three levels, one per level of the memory hierarchy:
 *
 *  - L2: a KC x NC panel of B (256 x 512 doubles, 1 MB) is copied, or
 *    "packed", into a contiguous buffer, strip by strip of NR columns, so
 *    that it is read with unit stride and stays in L2 while every row of A
 *    uses it.
 *  - L1: MR rows of A over the panel's KC columns (4 x 256 doubles, 8 KB)
 *    stay in L1 while they meet every strip of the panel.
 *  - registers: an MR x NR tile of C (4 x 16 doubles) lives in 8 vector
 *    registers for the whole k loop. Each step loads 2 vectors of B,
 *    broadcasts 4 values of A and does 8 vector FMAs, so arithmetic, not
 *    loads, sets the pace, and the 8 independent accumulators keep the
 *    FMA units busy.
 *
 * Rows and columns that do not fill a whole tile (n need not be a multiple
 * of anything) go through a plain i-k-j loop.
 */
#include <stdlib.h>
#include <string.h>

enum { MR = 4, NR = 16, KC = 256, NC = 512 };

typedef double v8d __attribute__((vector_size(64)));

/* memcpy is the portable unaligned vector load and store. */
static inline v8d load(const double *p) { v8d v; memcpy(&v, p, sizeof v); return v; }
static inline void store(double *p, v8d v) { memcpy(p, &v, sizeof v); }

/* C[0..MR)[0..NR) += A[0..MR)[0..kc) * P, where P is a packed strip of B:
 * kc rows of NR contiguous doubles. A and C have row stride n. */
static void tile(const double *A, const double *P, double *C, long n, long kc) {
  v8d c00 = load(C), c01 = load(C + 8);
  v8d c10 = load(C + n), c11 = load(C + n + 8);
  v8d c20 = load(C + 2 * n), c21 = load(C + 2 * n + 8);
  v8d c30 = load(C + 3 * n), c31 = load(C + 3 * n + 8);
  for (long k = 0; k < kc; k++, P += NR) {
    v8d b0 = load(P), b1 = load(P + 8);
    double a0 = A[k], a1 = A[n + k], a2 = A[2 * n + k], a3 = A[3 * n + k];
    c00 += a0 * b0; c01 += a0 * b1;
    c10 += a1 * b0; c11 += a1 * b1;
    c20 += a2 * b0; c21 += a2 * b1;
    c30 += a3 * b0; c31 += a3 * b1;
  }
  store(C, c00); store(C + 8, c01);
  store(C + n, c10); store(C + n + 8, c11);
  store(C + 2 * n, c20); store(C + 2 * n + 8, c21);
  store(C + 3 * n, c30); store(C + 3 * n + 8, c31);
}

/* C[i0..i1)[j0..j1) += A[i0..i1)[k0..k1) * B[k0..k1)[j0..j1), plainly. */
static void edge(const double *A, const double *B, double *C, long n,
                 long i0, long i1, long j0, long j1, long k0, long k1) {
  for (long i = i0; i < i1; i++)
    for (long k = k0; k < k1; k++) {
      double a = A[i * n + k];
      for (long j = j0; j < j1; j++)
        C[i * n + j] += a * B[k * n + j];
    }
}

void lab_gemm(const double *A, const double *B, double *C, long n) {
  for (long i = 0; i < n * n; i++)
    C[i] = 0.0;
  double *panel = malloc(sizeof *panel * KC * NC);
  if (!panel) { /* no room for the packed copy: slower, still correct */
    edge(A, B, C, n, 0, n, 0, n, 0, n);
    return;
  }
  long i_tiles = n / MR * MR;               /* rows covered by whole tiles */
  for (long jj = 0; jj < n; jj += NC) {
    long j1 = jj + NC < n ? jj + NC : n;
    long j_tiles = jj + (j1 - jj) / NR * NR; /* columns covered by whole tiles */
    for (long kk = 0; kk < n; kk += KC) {
      long k1 = kk + KC < n ? kk + KC : n, kc = k1 - kk;
      for (long j = jj; j < j_tiles; j += NR)
        for (long k = kk; k < k1; k++)
          memcpy(panel + (j - jj) * kc + (k - kk) * NR, B + k * n + j, NR * sizeof *panel);
      for (long i = 0; i < i_tiles; i += MR)
        for (long j = jj; j < j_tiles; j += NR)
          tile(A + i * n + kk, panel + (j - jj) * kc, C + i * n + j, n, kc);
      edge(A, B, C, n, 0, i_tiles, j_tiles, j1, kk, k1); /* the right strip */
      edge(A, B, C, n, i_tiles, n, jj, j1, kk, k1);      /* the bottom rows */
    }
  }
  free(panel);
}
