/*
 * eng_simd_avx2.c — 256-bit intrinsics with FMA (4 doubles, 8 floats, 32
 * int8 per register), plus the autovec and vecext variants compiled for
 * the same target. Compiled for AVX2 through a target pragma, so this file
 * builds everywhere and eng_simd.c calls it only when CPUID says so.
 */
#include "eng_simd_int.h"

#if ENG__SIMD_X86
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#include <math.h>

static double hsum_pd(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

/* Eight accumulators: an add has 4 cycles of latency and two can start per
 * cycle, so fewer chains would leave the adders idle on in-cache data. */
static double sum_f64(const double *x, long n) {
  __m256d a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_pd();
  long i = 0;
  for (; i + 32 <= n; i += 32)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) a[k] = _mm256_add_pd(a[k], _mm256_loadu_pd(x + i + 4 * k));
  for (; i + 4 <= n; i += 4) a[0] = _mm256_add_pd(a[0], _mm256_loadu_pd(x + i));
  for (int k = 1; k < 8; k++) a[0] = _mm256_add_pd(a[0], a[k]);
  double s = hsum_pd(a[0]);
  for (; i < n; i++) s += x[i];
  return s;
}

static float sum_f32(const float *x, long n) {
  __m256 a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_ps();
  long i = 0;
  for (; i + 64 <= n; i += 64)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) a[k] = _mm256_add_ps(a[k], _mm256_loadu_ps(x + i + 8 * k));
  for (; i + 8 <= n; i += 8) a[0] = _mm256_add_ps(a[0], _mm256_loadu_ps(x + i));
  for (int k = 1; k < 8; k++) a[0] = _mm256_add_ps(a[0], a[k]);
  float s = hsum_ps(a[0]);
  for (; i < n; i++) s += x[i];
  return s;
}

static double dot_f64(const double *x, const double *y, long n) {
  __m256d a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_pd();
  long i = 0;
  for (; i + 32 <= n; i += 32)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++)
      a[k] = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 4 * k), _mm256_loadu_pd(y + i + 4 * k), a[k]);
  for (; i + 4 <= n; i += 4) a[0] = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i), a[0]);
  /* a tree: 3 dependent adds, not 7 (this runs once per call) */
  for (int k = 0; k < 4; k++) a[k] = _mm256_add_pd(a[k], a[k + 4]);
  a[0] = _mm256_add_pd(_mm256_add_pd(a[0], a[2]), _mm256_add_pd(a[1], a[3]));
  double s = hsum_pd(a[0]);
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static float dot_f32(const float *x, const float *y, long n) {
  __m256 a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_ps();
  long i = 0;
  for (; i + 64 <= n; i += 64)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++)
      a[k] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), a[k]);
  for (; i + 8 <= n; i += 8) a[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a[0]);
  /* a tree: 3 dependent adds, not 7 (this runs once per call) */
  for (int k = 0; k < 4; k++) a[k] = _mm256_add_ps(a[k], a[k + 4]);
  a[0] = _mm256_add_ps(_mm256_add_ps(a[0], a[2]), _mm256_add_ps(a[1], a[3]));
  float s = hsum_ps(a[0]);
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static void axpy_f64(double a, const double *x, double *y, long n) {
  __m256d va = _mm256_set1_pd(a);
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_pd(y + i, _mm256_fmadd_pd(va, _mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i)));
    _mm256_storeu_pd(y + i + 4,
                     _mm256_fmadd_pd(va, _mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(y + i + 4)));
  }
  for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f32(float a, const float *x, float *y, long n) {
  __m256 va = _mm256_set1_ps(a);
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    _mm256_storeu_ps(y + i + 8,
                     _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
  }
  for (; i < n; i++) y[i] += a * x[i];
}

static void minmax_f64(const double *x, long n, double *mn, double *mx) {
  double a = INFINITY, b = -INFINITY;
  long i = 0;
  if (n >= 4) {
    __m256d lo = _mm256_loadu_pd(x), hi = lo;
    for (i = 4; i + 4 <= n; i += 4) {
      __m256d v = _mm256_loadu_pd(x + i);
      lo = _mm256_min_pd(lo, v);
      hi = _mm256_max_pd(hi, v);
    }
    double l[4], h[4];
    _mm256_storeu_pd(l, lo);
    _mm256_storeu_pd(h, hi);
    for (int k = 0; k < 4; k++) {
      if (l[k] < a) a = l[k];
      if (h[k] > b) b = h[k];
    }
  }
  for (; i < n; i++) {
    if (x[i] < a) a = x[i];
    if (x[i] > b) b = x[i];
  }
  *mn = a, *mx = b;
}

static void minmax_f32(const float *x, long n, float *mn, float *mx) {
  float a = INFINITY, b = -INFINITY;
  long i = 0;
  if (n >= 8) {
    __m256 lo = _mm256_loadu_ps(x), hi = lo;
    for (i = 8; i + 8 <= n; i += 8) {
      __m256 v = _mm256_loadu_ps(x + i);
      lo = _mm256_min_ps(lo, v);
      hi = _mm256_max_ps(hi, v);
    }
    float l[8], h[8];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(h, hi);
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) {
      if (l[k] < a) a = l[k];
      if (h[k] > b) b = h[k];
    }
  }
  for (; i < n; i++) {
    if (x[i] < a) a = x[i];
    if (x[i] > b) b = x[i];
  }
  *mn = a, *mx = b;
}

/* Sign-extend 16 int8 to int16 (vpmovsxbw), multiply pairs and add them
 * into int32 lanes (vpmaddwd). */
static int64_t dot_i8(const int8_t *x, const int8_t *y, long n) {
  int64_t total = 0;
  long i = 0;
  while (i + 32 <= n) {
    long e = i + ENG__I8_BLOCK;
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0;
    for (; i + 32 <= n && i < e; i += 32) {
      __m256i a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
      __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(y + i)));
      __m256i a1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i + 16)));
      __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(y + i + 16)));
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a0, b0));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(a1, b1));
    }
    int32_t l[8], h[8];
    _mm256_storeu_si256((__m256i *)l, acc0);
    _mm256_storeu_si256((__m256i *)h, acc1);
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) total += (int64_t)l[k] + h[k];
  }
  for (; i < n; i++) total += (int32_t)x[i] * (int32_t)y[i];
  return total;
}

/* 12 independent FMA chains (latency 4 x 2 ports = 8 needed, with room):
 * 12 * 4 lanes * 2 FLOPs per iteration. */
static double fma_loop(long iters) {
  __m256d m = _mm256_set1_pd(0.999999), c = _mm256_set1_pd(1e-6);
  __m256d a[12];
#pragma GCC unroll 16
  for (int k = 0; k < 12; k++) a[k] = _mm256_set1_pd(k + 1);
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int k = 0; k < 12; k++) a[k] = _mm256_fmadd_pd(a[k], m, c);
  volatile double sink = 0;
#pragma GCC unroll 16
  for (int k = 0; k < 12; k++) sink += hsum_pd(a[k]);
  return 96.0 * (double)iters;
}

const eng__simd_impl eng__simd_avx2 = {sum_f64,    sum_f32,    dot_f64, dot_f32, axpy_f64,
                                       axpy_f32,   minmax_f64, minmax_f32, dot_i8, fma_loop, 32};

#define GEN_SFX avx2
#define GEN_VBYTES 32
#include "eng_simd_gen.h"

#pragma GCC pop_options
#endif
