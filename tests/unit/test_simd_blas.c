/*
 * test_simd_blas.c — OpenBLAS loading and the core-type check, the cblas
 * wrappers, and every teaching GEMM against OpenBLAS (odd sizes, alpha and
 * beta, tails of the packed micro-kernel).
 */
#include <stdlib.h>
#include <strings.h>

#include "eng_blas.h"
#include "pl_err.h"
#include "pl_test.h"

static void fill(double *x, long n, unsigned seed) {
  for (long i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (double)(seed >> 8 & 0xffff) / 32768.0 - 1.0;
  }
}

/* Each test runs in a fresh forked process, so each loads OpenBLAS anew. */
static void test_load_and_core(void) {
  unsetenv("OPENBLAS_CORETYPE");
  PT_EQ_INT(eng_blas_init(), 0);
  eng_blas_info I;
  eng_blas_get_info(&I);
  PT_TRUE(I.loaded);
  PT_TRUE(I.core[0] != 0);
  PT_CONTAINS(I.config, "OpenBLAS");
  PT_TRUE(I.detected[0] != 0);
  PT_EQ_INT(I.user_set, 0);
  /* A misdetection is corrected, and then the core in use is the one
   * CPUID called for; otherwise OpenBLAS's own pick stays. */
  if (I.misdetected) {
    PT_TRUE(I.corrected);
    PT_TRUE(strcasecmp(I.core, I.expected) == 0);
  } else {
    PT_EQ_INT(I.corrected, 0);
    PT_TRUE(strcasecmp(I.core, I.detected) == 0);
  }
  printf("  OpenBLAS picks %s by itself, CPUID calls for %s, in use: %s\n", I.detected,
         I.expected[0] ? I.expected : "(no opinion)", I.core);
}

static void test_user_coretype_respected(void) {
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  PT_EQ_INT(eng_blas_init(), 0);
  eng_blas_info I;
  eng_blas_get_info(&I);
  PT_EQ_INT(I.user_set, 1);
  PT_EQ_INT(I.corrected, 0);
  PT_TRUE(strcasecmp(I.core, "Haswell") == 0);
}

static void test_wrappers(void) {
  double x[5] = {1, 2, 3, 4, 5}, y[5] = {1, 1, 1, 1, 2}, d = 0;
  PT_EQ_INT(eng_blas_ddot(5, x, y, &d), 0);
  PT_NEAR(d, 20, 1e-12);
  PT_EQ_INT(eng_blas_daxpy(5, 2, x, y), 0);
  PT_NEAR(y[4], 12, 1e-12);
  float xf[3] = {1, 2, 3}, yf[3] = {1, 1, 1}, df = 0;
  PT_EQ_INT(eng_blas_sdot(3, xf, yf, &df), 0);
  PT_NEAR(df, 6, 1e-6);
  PT_EQ_INT(eng_blas_saxpy(3, -1, xf, yf), 0);
  PT_NEAR(yf[2], -2, 1e-6);
  /* 2x3 * 3x2, row-major */
  double A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {7, 8, 9, 10, 11, 12}, C[4] = {1, 1, 1, 1};
  PT_EQ_INT(eng_blas_dgemm(2, 2, 3, 1, A, B, 0, C), 0);
  PT_NEAR(C[0], 58, 1e-12);
  PT_NEAR(C[1], 64, 1e-12);
  PT_NEAR(C[2], 139, 1e-12);
  PT_NEAR(C[3], 154, 1e-12);
  float Af[6] = {1, 2, 3, 4, 5, 6}, Bf[6] = {7, 8, 9, 10, 11, 12}, Cf[4] = {1, 1, 1, 1};
  PT_EQ_INT(eng_blas_sgemm(2, 2, 3, 2, Af, Bf, 1, Cf), 0);
  PT_NEAR(Cf[3], 309, 1e-4);
  PT_EQ_INT(eng_blas_dgemm(-1, 2, 3, 1, A, B, 0, C), PL_EINVAL);
  PT_EQ_INT(eng_blas_dgemm(2, 2, 3, 1, NULL, B, 0, C), PL_EINVAL);
  PT_EQ_INT(eng_blas_set_threads(0), PL_EINVAL);
  PT_EQ_INT(eng_blas_set_threads(1), 0);
  eng_blas_info I;
  eng_blas_get_info(&I);
  PT_EQ_INT(I.threads, 1);
}

static void test_teaching_gemms(void) {
  static const long sz[][3] = {{1, 1, 1},   {7, 5, 3},    {17, 33, 9},  {65, 31, 257},
                               {100, 130, 70}, {97, 300, 260}, {5, 2049, 3}, {0, 4, 4}, {3, 3, 0}};
  const double ab[][2] = {{1, 0}, {0.5, 2}, {-1, 1}};
  for (size_t s = 0; s < sizeof sz / sizeof sz[0]; s++) {
    long m = sz[s][0], n = sz[s][1], k = sz[s][2];
    double *A = malloc(sizeof *A * (size_t)(m * k + 1)), *B = malloc(sizeof *B * (size_t)(k * n + 1));
    double *C0 = malloc(sizeof *C0 * (size_t)(m * n + 1)), *R = malloc(sizeof *R * (size_t)(m * n + 1));
    double *C = malloc(sizeof *C * (size_t)(m * n + 1));
    fill(A, m * k, 1), fill(B, k * n, 2), fill(C0, m * n, 3);
    for (size_t q = 0; q < sizeof ab / sizeof ab[0]; q++) {
      memcpy(R, C0, sizeof *R * (size_t)(m * n));
      PT_EQ_INT(eng_blas_dgemm(m, n, k, ab[q][0], A, B, ab[q][1], R), 0);
      for (int v = 0; v < ENG_GEMM_NVARIANTS; v++) {
        memcpy(C, C0, sizeof *C * (size_t)(m * n));
        PT_EQ_INT(eng_gemm((eng_gemm_variant)v, m, n, k, ab[q][0], A, B, ab[q][1], C, 2), 0);
        for (long i = 0; i < m * n; i++)
          if (!(fabs(C[i] - R[i]) <= 1e-12 * (double)(k + 1) * 4))
            PT_FAIL_("%s %ldx%ldx%ld alpha %g beta %g: C[%ld] = %.17g, OpenBLAS %.17g",
                     eng_gemm_name((eng_gemm_variant)v), m, n, k, ab[q][0], ab[q][1], i, C[i], R[i]);
      }
    }
    free(A), free(B), free(C0), free(R), free(C);
  }
  eng_gemm_variant v;
  PT_EQ_INT(eng_gemm_parse("blocked", &v), 0);
  PT_EQ_INT(v, ENG_GEMM_BLOCKED);
  PT_EQ_INT(eng_gemm_parse("strassen", &v), PL_EINVAL);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {PT_CASE(test_load_and_core), PT_CASE(test_user_coretype_respected),
                                  PT_CASE(test_wrappers), PT_CASE(test_teaching_gemms), {0}};
  return pt_main(argc, argv, cases);
}
