/*
 * test_simd.c — every SIMD kernel variant against a long-double (or exact
 * integer) reference, over odd lengths and unaligned starts; dispatch and
 * the refusal of a variant the CPU lacks; quantization; the FMA loop.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#include "eng_simd.h"
#include "pl_err.h"
#include "pl_test.h"

static const long lens[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
                            127, 128, 129, 255, 257, 1000, 4097};
#define NLENS (int)(sizeof lens / sizeof lens[0])
#define MAXN 4097
#define PAD 8

static uint64_t rng = 88172645463325252ull;
static double urand(void) { /* xorshift64, uniform [-1, 1) */
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0 * 2 - 1;
}

/* Each test loops over every variant this CPU supports. */
#define FOR_VARIANTS(v)                                                    \
  for (eng_simd_variant v = ENG_SIMD_AUTO; v < ENG_SIMD_NVARIANTS; v++) \
    if (eng_simd_supported(v))

static void test_sum_dot_f64(void) {
  double *x = malloc(sizeof *x * (MAXN + PAD)), *y = malloc(sizeof *y * (MAXN + PAD));
  for (int i = 0; i < MAXN + PAD; i++) x[i] = urand() * 100, y[i] = urand();
  FOR_VARIANTS(v) {
    for (int li = 0; li < NLENS; li++)
      for (int off = 0; off < 4; off++) {
        long n = lens[li];
        const double *a = x + off, *b = y + (3 - off);
        long double rs = 0, rd = 0, abs_s = 0, abs_d = 0;
        for (long i = 0; i < n; i++) {
          rs += a[i], abs_s += fabsl(a[i]);
          rd += (long double)a[i] * b[i], abs_d += fabsl((long double)a[i] * b[i]);
        }
        double s = NAN, d = NAN;
        PT_EQ_INT(eng_simd_sum_f64(v, a, n, &s), 0);
        PT_EQ_INT(eng_simd_dot_f64(v, a, b, n, &d), 0);
        double tol_s = 2.0 * (double)(n + 1) * DBL_EPSILON * (double)abs_s;
        double tol_d = 2.0 * (double)(n + 1) * DBL_EPSILON * (double)abs_d;
        if (!(fabs(s - (double)rs) <= tol_s))
          PT_FAIL_("%s sum n=%ld off=%d: %.17g vs %.17Lg", eng_simd_variant_name(v), n, off, s, rs);
        if (!(fabs(d - (double)rd) <= tol_d))
          PT_FAIL_("%s dot n=%ld off=%d: %.17g vs %.17Lg", eng_simd_variant_name(v), n, off, d, rd);
      }
  }
  free(x), free(y);
}

static void test_sum_dot_f32(void) {
  float *x = malloc(sizeof *x * (MAXN + PAD)), *y = malloc(sizeof *y * (MAXN + PAD));
  for (int i = 0; i < MAXN + PAD; i++) x[i] = (float)(urand() * 10), y[i] = (float)urand();
  FOR_VARIANTS(v) {
    for (int li = 0; li < NLENS; li++)
      for (int off = 0; off < 4; off++) {
        long n = lens[li];
        const float *a = x + off, *b = y + (3 - off);
        long double rs = 0, rd = 0, abs_s = 0, abs_d = 0;
        for (long i = 0; i < n; i++) {
          rs += a[i], abs_s += fabsl(a[i]);
          rd += (long double)a[i] * b[i], abs_d += fabsl((long double)a[i] * b[i]);
        }
        float s = NAN, d = NAN;
        PT_EQ_INT(eng_simd_sum_f32(v, a, n, &s), 0);
        PT_EQ_INT(eng_simd_dot_f32(v, a, b, n, &d), 0);
        double tol_s = 2.0 * (double)(n + 1) * FLT_EPSILON * (double)abs_s;
        double tol_d = 2.0 * (double)(n + 1) * FLT_EPSILON * (double)abs_d;
        if (!(fabs(s - (double)rs) <= tol_s))
          PT_FAIL_("%s sum n=%ld off=%d: %.9g vs %.9Lg", eng_simd_variant_name(v), n, off, s, rs);
        if (!(fabs(d - (double)rd) <= tol_d))
          PT_FAIL_("%s dot n=%ld off=%d: %.9g vs %.9Lg", eng_simd_variant_name(v), n, off, d, rd);
      }
  }
  free(x), free(y);
}

/* x and y at the same offset from a cache line: the AVX-512 dots peel
 * the first lanes off with a masked load so the rest load aligned; every
 * offset and length must still give the same sums. */
static void test_dot_same_offset(void) {
  size_t nb = sizeof(double) * (MAXN + 64), nf = sizeof(float) * (MAXN + 64);
  double *x = aligned_alloc(64, nb), *y = aligned_alloc(64, nb);
  float *xf = aligned_alloc(64, nf), *yf = aligned_alloc(64, nf);
  for (int i = 0; i < MAXN + 64; i++) {
    x[i] = urand() * 100, y[i] = urand();
    xf[i] = (float)x[i], yf[i] = (float)y[i];
  }
  FOR_VARIANTS(v) {
    for (int li = 0; li < NLENS; li++)
      for (int off = 0; off < 16; off++) {
        long n = lens[li];
        long double rd = 0, ad = 0, rf = 0, af = 0;
        for (long i = 0; i < n; i++) {
          long double pd = (long double)x[off + i] * y[off + i], pf = (long double)xf[off + i] * yf[off + i];
          rd += pd, ad += fabsl(pd), rf += pf, af += fabsl(pf);
        }
        double d = NAN;
        float f = NAN;
        PT_EQ_INT(eng_simd_dot_f64(v, x + off, y + off, n, &d), 0);
        PT_EQ_INT(eng_simd_dot_f32(v, xf + off, yf + off, n, &f), 0);
        if (!(fabs(d - (double)rd) <= 2.0 * (double)(n + 1) * DBL_EPSILON * (double)ad))
          PT_FAIL_("%s dot f64 n=%ld off=%d: %.17g vs %.17Lg", eng_simd_variant_name(v), n, off, d, rd);
        if (!(fabs(f - (double)rf) <= 2.0 * (double)(n + 1) * FLT_EPSILON * (double)af))
          PT_FAIL_("%s dot f32 n=%ld off=%d: %.9g vs %.9Lg", eng_simd_variant_name(v), n, off, f, rf);
      }
  }
  free(x), free(y), free(xf), free(yf);
}

/* axpy writes exactly n elements: the guard elements around y stay put. */
static void test_axpy(void) {
  double *x = malloc(sizeof *x * (MAXN + PAD)), *y0 = malloc(sizeof *y0 * (MAXN + PAD));
  double *y = malloc(sizeof *y * (MAXN + 2 * PAD));
  float *xf = malloc(sizeof *xf * (MAXN + PAD)), *yf0 = malloc(sizeof *yf0 * (MAXN + PAD));
  float *yf = malloc(sizeof *yf * (MAXN + 2 * PAD));
  for (int i = 0; i < MAXN + PAD; i++)
    x[i] = urand(), y0[i] = urand(), xf[i] = (float)urand(), yf0[i] = (float)urand();
  const double a = 1.75;
  FOR_VARIANTS(v) {
    for (int li = 0; li < NLENS; li++)
      for (int off = 0; off < 4; off++) {
        long n = lens[li];
        for (int i = 0; i < MAXN + 2 * PAD; i++) y[i] = -7, yf[i] = -7;
        for (long i = 0; i < n; i++) y[PAD + off + i] = y0[i], yf[PAD + off + i] = yf0[i];
        PT_EQ_INT(eng_simd_axpy_f64(v, a, x + off, y + PAD + off, n), 0);
        PT_EQ_INT(eng_simd_axpy_f32(v, (float)a, xf + off, yf + PAD + off, n), 0);
        for (long i = -PAD - off; i < n + PAD - off; i++) {
          double *p = y + PAD + off + i;
          float *q = yf + PAD + off + i;
          if (i < 0 || i >= n) {
            if (*p != -7 || *q != -7)
              PT_FAIL_("%s axpy n=%ld off=%d wrote outside at %ld", eng_simd_variant_name(v), n, off, i);
            continue;
          }
          double want = y0[i] + a * x[off + i];
          double wantf = (double)yf0[i] + a * (double)xf[off + i];
          if (!(fabs(*p - want) <= 4 * DBL_EPSILON * (fabs(y0[i]) + fabs(a * x[off + i]))))
            PT_FAIL_("%s axpy_f64 n=%ld i=%ld: %.17g vs %.17g", eng_simd_variant_name(v), n, i, *p, want);
          if (!(fabs(*q - wantf) <= 4 * FLT_EPSILON * (fabs(yf0[i]) + fabs(a * xf[off + i]))))
            PT_FAIL_("%s axpy_f32 n=%ld i=%ld: %.9g vs %.9g", eng_simd_variant_name(v), n, i, *q, wantf);
        }
      }
  }
  free(x), free(y0), free(y), free(xf), free(yf0), free(yf);
}

/* The extreme value is planted at every position class: first, last, and
 * inside the vector body, so both the lanes and the tails are checked. */
static void test_minmax(void) {
  double *x = malloc(sizeof *x * (MAXN + PAD));
  float *xf = malloc(sizeof *xf * (MAXN + PAD));
  FOR_VARIANTS(v) {
    for (int li = 1; li < NLENS; li++)
      for (int off = 0; off < 4; off++) {
        long n = lens[li];
        long spots[3] = {0, n - 1, n / 2};
        for (int k = 0; k < 3; k++) {
          for (long i = 0; i < MAXN + PAD; i++) x[i] = urand(), xf[i] = (float)x[i];
          x[off + spots[k]] = -5, xf[off + spots[k]] = -5;
          x[off + spots[(k + 1) % 3]] = 5, xf[off + spots[(k + 1) % 3]] = 5;
          double want_lo = INFINITY, want_hi = -INFINITY;
          for (long i = 0; i < n; i++) {
            if (x[off + i] < want_lo) want_lo = x[off + i];
            if (x[off + i] > want_hi) want_hi = x[off + i];
          }
          double lo, hi;
          float lf, hf;
          PT_EQ_INT(eng_simd_minmax_f64(v, x + off, n, &lo, &hi), 0);
          PT_EQ_INT(eng_simd_minmax_f32(v, xf + off, n, &lf, &hf), 0);
          if (lo != want_lo || hi != want_hi || lf != (float)want_lo || hf != (float)want_hi)
            PT_FAIL_("%s minmax n=%ld off=%d spot=%ld: [%g %g] [%g %g], want [%g %g]",
                     eng_simd_variant_name(v), n, off, spots[k], lo, hi, lf, hf, want_lo, want_hi);
        }
      }
    double lo, hi;
    PT_EQ_INT(eng_simd_minmax_f64(v, x, 0, &lo, &hi), 0);
    PT_TRUE(lo == INFINITY && hi == -INFINITY);
  }
  free(x), free(xf);
}

/* Exact for any n, including sums that overflow int32 (the kernels flush
 * 32-bit lanes to 64 bits every block). */
static void test_dot_i8(void) {
  long big = 300000;
  int8_t *x = malloc((size_t)big + PAD), *y = malloc((size_t)big + PAD);
  for (long i = 0; i < big + PAD; i++) x[i] = (int8_t)(urand() * 128), y[i] = (int8_t)(urand() * 128);
  x[5] = -128, y[5] = -128, x[6] = 127, y[6] = -128;
  FOR_VARIANTS(v) {
    for (int li = 0; li < NLENS; li++)
      for (int off = 0; off < 4; off++) {
        long n = lens[li];
        int64_t want = 0, got = -1;
        for (long i = 0; i < n; i++) want += (int64_t)x[off + i] * y[3 - off + i];
        PT_EQ_INT(eng_simd_dot_i8(v, x + off, y + 3 - off, n, &got), 0);
        if (got != want)
          PT_FAIL_("%s dot_i8 n=%ld off=%d: %lld vs %lld", eng_simd_variant_name(v), n, off,
                   (long long)got, (long long)want);
      }
  }
  /* All -128: 16384 per element, 300000 elements: past 2^31. */
  for (long i = 0; i < big; i++) x[i] = -128, y[i] = -128;
  FOR_VARIANTS(v) {
    for (long n = big - 3; n <= big; n++) {
      int64_t got = 0;
      PT_EQ_INT(eng_simd_dot_i8(v, x, y, n, &got), 0);
      PT_EQ_INT(got, (int64_t)16384 * n);
    }
  }
  free(x), free(y);
}

static void test_quantize(void) {
  enum { N = 1001 };
  float x[N];
  int8_t q[N];
  float s = 0;
  for (int i = 0; i < N; i++) x[i] = (float)(urand() * 3);
  x[17] = -4.5f;
  PT_EQ_INT(eng_quantize_f32(x, N, q, &s), 0);
  PT_NEAR(s, 4.5 / 127, 1e-7);
  PT_EQ_INT(q[17], -127);
  for (int i = 0; i < N; i++) PT_TRUE(fabs(q[i] * s - x[i]) <= s * 0.5001);
  double xd[3] = {0, 0, 0}, sd = 0;
  PT_EQ_INT(eng_quantize_f64(xd, 3, q, &sd), 0);
  PT_NEAR(sd, 1, 0);
  PT_TRUE(q[0] == 0 && q[2] == 0);
  xd[1] = NAN;
  PT_EQ_INT(eng_quantize_f64(xd, 3, q, &sd), PL_EINVAL);
}

static void test_dispatch(void) {
  eng_simd_variant v;
  PT_EQ_INT(eng_simd_variant_parse("avx2", &v), 0);
  PT_EQ_INT(v, ENG_SIMD_AVX2);
  PT_EQ_INT(eng_simd_variant_parse("neon", &v), PL_EINVAL);
  for (int i = 0; i < ENG_SIMD_NVARIANTS; i++) {
    PT_EQ_INT(eng_simd_variant_parse(eng_simd_variant_name((eng_simd_variant)i), &v), 0);
    PT_EQ_INT(v, i);
  }
  PT_TRUE(eng_simd_supported(ENG_SIMD_SCALAR) && eng_simd_supported(ENG_SIMD_AUTO));
  PT_TRUE(eng_simd_supported(eng_simd_best()));
  PT_EQ_INT(eng_simd_lanes(ENG_SIMD_SCALAR, 8), 1);
  double d;
  PT_EQ_INT(eng_simd_sum_f64((eng_simd_variant)99, NULL, 0, &d), PL_EINVAL);
  PT_EQ_INT(eng_simd_sum_f64(ENG_SIMD_SCALAR, NULL, 5, &d), PL_EINVAL);
  PT_EQ_INT(eng_simd_sum_f64(ENG_SIMD_SCALAR, &d, -1, &d), PL_EINVAL);
  char isa[512];
  eng_cpu_isa_string(isa, sizeof isa);
  if (eng_simd_supported(ENG_SIMD_AVX512)) PT_CONTAINS(isa, "avx512f");
  if (eng_simd_supported(ENG_SIMD_AVX2)) PT_EQ_INT(eng_simd_lanes(ENG_SIMD_AVX2, 8), 4);
}

/* A CPU without AVX-512 (simulated by PARLAB_SIMD_DISABLE, read at the
 * first detection in this fresh test process) refuses the variant with a
 * message that says what is missing, and auto falls back. */
static void test_refusal(void) {
  setenv("PARLAB_SIMD_DISABLE", "avx512", 1);
  PT_EQ_INT(eng_simd_supported(ENG_SIMD_AVX512), 0);
  double x[3] = {1, 2, 3}, s = 0;
  PT_EQ_INT(eng_simd_sum_f64(ENG_SIMD_AVX512, x, 3, &s), PL_ENOSYS);
  char msg[256];
  eng_simd_explain(ENG_SIMD_AVX512, msg, sizeof msg);
  PT_CONTAINS(msg, "avx512");
  PT_CONTAINS(msg, "AVX-512");
  PT_CONTAINS(msg, "does not offer");
  PT_CONTAINS(msg, "scalar");
  PT_TRUE(eng_simd_best() != ENG_SIMD_AVX512);
  PT_EQ_INT(eng_simd_sum_f64(ENG_SIMD_AUTO, x, 3, &s), 0);
  PT_NEAR(s, 6, 0);
  char isa[512];
  eng_cpu_isa_string(isa, sizeof isa);
  PT_TRUE(strstr(isa, "avx512") == NULL);
}

static void test_fma_loop(void) {
  FOR_VARIANTS(v) {
    double f = 0;
    PT_EQ_INT(eng_simd_fma_loop(v, 1000, &f), v == ENG_SIMD_AUTOVEC || v == ENG_SIMD_VECEXT ? PL_ENOSYS : 0);
    if (v != ENG_SIMD_AUTOVEC && v != ENG_SIMD_VECEXT) PT_TRUE(f >= 16000 && f == floor(f));
  }
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
      PT_CASE(test_sum_dot_f64), PT_CASE(test_sum_dot_f32), PT_CASE(test_dot_same_offset),
      PT_CASE(test_axpy),        PT_CASE(test_minmax),      PT_CASE(test_dot_i8),      PT_CASE(test_quantize),
      PT_CASE(test_dispatch),    PT_CASE(test_refusal),     PT_CASE(test_fma_loop),
      {0}};
  return pt_main(argc, argv, cases);
}
