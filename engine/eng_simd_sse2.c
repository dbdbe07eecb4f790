/*
 * eng_simd_sse2.c — 128-bit intrinsics (2 doubles, 4 floats, 16 int8 per
 * register). SSE2 is part of x86-64, so no target pragma is needed; there
 * is no FMA at this level, so products and sums are separate instructions.
 */
#include "eng_simd_int.h"

#if ENG__SIMD_X86
#include <emmintrin.h>
#include <math.h>

static double hsum_pd(__m128d v) { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }

static float hsum_ps(__m128 v) {
  __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

static double sum_f64(const double *x, long n) {
  __m128d a0 = _mm_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 = _mm_add_pd(a0, _mm_loadu_pd(x + i));
    a1 = _mm_add_pd(a1, _mm_loadu_pd(x + i + 2));
    a2 = _mm_add_pd(a2, _mm_loadu_pd(x + i + 4));
    a3 = _mm_add_pd(a3, _mm_loadu_pd(x + i + 6));
  }
  double s = hsum_pd(_mm_add_pd(_mm_add_pd(a0, a1), _mm_add_pd(a2, a3)));
  for (; i < n; i++) s += x[i];
  return s;
}

static float sum_f32(const float *x, long n) {
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm_add_ps(a0, _mm_loadu_ps(x + i));
    a1 = _mm_add_ps(a1, _mm_loadu_ps(x + i + 4));
    a2 = _mm_add_ps(a2, _mm_loadu_ps(x + i + 8));
    a3 = _mm_add_ps(a3, _mm_loadu_ps(x + i + 12));
  }
  float s = hsum_ps(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
  for (; i < n; i++) s += x[i];
  return s;
}

static double dot_f64(const double *x, const double *y, long n) {
  __m128d a0 = _mm_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 = _mm_add_pd(a0, _mm_mul_pd(_mm_loadu_pd(x + i), _mm_loadu_pd(y + i)));
    a1 = _mm_add_pd(a1, _mm_mul_pd(_mm_loadu_pd(x + i + 2), _mm_loadu_pd(y + i + 2)));
    a2 = _mm_add_pd(a2, _mm_mul_pd(_mm_loadu_pd(x + i + 4), _mm_loadu_pd(y + i + 4)));
    a3 = _mm_add_pd(a3, _mm_mul_pd(_mm_loadu_pd(x + i + 6), _mm_loadu_pd(y + i + 6)));
  }
  double s = hsum_pd(_mm_add_pd(_mm_add_pd(a0, a1), _mm_add_pd(a2, a3)));
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static float dot_f32(const float *x, const float *y, long n) {
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm_add_ps(a0, _mm_mul_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i)));
    a1 = _mm_add_ps(a1, _mm_mul_ps(_mm_loadu_ps(x + i + 4), _mm_loadu_ps(y + i + 4)));
    a2 = _mm_add_ps(a2, _mm_mul_ps(_mm_loadu_ps(x + i + 8), _mm_loadu_ps(y + i + 8)));
    a3 = _mm_add_ps(a3, _mm_mul_ps(_mm_loadu_ps(x + i + 12), _mm_loadu_ps(y + i + 12)));
  }
  float s = hsum_ps(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static void axpy_f64(double a, const double *x, double *y, long n) {
  __m128d va = _mm_set1_pd(a);
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    _mm_storeu_pd(y + i, _mm_add_pd(_mm_loadu_pd(y + i), _mm_mul_pd(va, _mm_loadu_pd(x + i))));
    _mm_storeu_pd(y + i + 2,
                  _mm_add_pd(_mm_loadu_pd(y + i + 2), _mm_mul_pd(va, _mm_loadu_pd(x + i + 2))));
  }
  for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f32(float a, const float *x, float *y, long n) {
  __m128 va = _mm_set1_ps(a);
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_ps(y + i, _mm_add_ps(_mm_loadu_ps(y + i), _mm_mul_ps(va, _mm_loadu_ps(x + i))));
    _mm_storeu_ps(y + i + 4,
                  _mm_add_ps(_mm_loadu_ps(y + i + 4), _mm_mul_ps(va, _mm_loadu_ps(x + i + 4))));
  }
  for (; i < n; i++) y[i] += a * x[i];
}

static void minmax_f64(const double *x, long n, double *mn, double *mx) {
  double a = INFINITY, b = -INFINITY;
  long i = 0;
  if (n >= 2) {
    __m128d lo = _mm_loadu_pd(x), hi = lo;
    for (i = 2; i + 2 <= n; i += 2) {
      __m128d v = _mm_loadu_pd(x + i);
      lo = _mm_min_pd(lo, v);
      hi = _mm_max_pd(hi, v);
    }
    a = _mm_cvtsd_f64(_mm_min_sd(lo, _mm_unpackhi_pd(lo, lo)));
    b = _mm_cvtsd_f64(_mm_max_sd(hi, _mm_unpackhi_pd(hi, hi)));
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
  if (n >= 4) {
    __m128 lo = _mm_loadu_ps(x), hi = lo;
    for (i = 4; i + 4 <= n; i += 4) {
      __m128 v = _mm_loadu_ps(x + i);
      lo = _mm_min_ps(lo, v);
      hi = _mm_max_ps(hi, v);
    }
    float l[4], h[4];
    _mm_storeu_ps(l, lo);
    _mm_storeu_ps(h, hi);
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

/* SSE2 has no sign-extending int8 load: interleave a byte with itself
 * and shift right arithmetically by 8 to get the int16 value. */
static int64_t dot_i8(const int8_t *x, const int8_t *y, long n) {
  int64_t total = 0;
  long i = 0;
  while (i + 16 <= n) {
    long e = i + ENG__I8_BLOCK;
    __m128i acc = _mm_setzero_si128();
    for (; i + 16 <= n && i < e; i += 16) {
      __m128i a = _mm_loadu_si128((const __m128i *)(x + i));
      __m128i b = _mm_loadu_si128((const __m128i *)(y + i));
      __m128i alo = _mm_srai_epi16(_mm_unpacklo_epi8(a, a), 8);
      __m128i ahi = _mm_srai_epi16(_mm_unpackhi_epi8(a, a), 8);
      __m128i blo = _mm_srai_epi16(_mm_unpacklo_epi8(b, b), 8);
      __m128i bhi = _mm_srai_epi16(_mm_unpackhi_epi8(b, b), 8);
      acc = _mm_add_epi32(acc, _mm_madd_epi16(alo, blo));
      acc = _mm_add_epi32(acc, _mm_madd_epi16(ahi, bhi));
    }
    int32_t l[4];
    _mm_storeu_si128((__m128i *)l, acc);
    total += (int64_t)l[0] + l[1] + l[2] + l[3];
  }
  for (; i < n; i++) total += (int32_t)x[i] * (int32_t)y[i];
  return total;
}

/* 8 chains of 2-lane multiply + add: 32 FLOPs per iteration. */
static double fma_loop(long iters) {
  __m128d m = _mm_set1_pd(0.999999), c = _mm_set1_pd(1e-6);
  __m128d a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm_set1_pd(k + 1);
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) a[k] = _mm_add_pd(_mm_mul_pd(a[k], m), c);
  volatile double sink = 0;
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) sink += hsum_pd(a[k]);
  return 32.0 * (double)iters;
}

const eng__simd_impl eng__simd_sse2 = {sum_f64,    sum_f32,    dot_f64, dot_f32, axpy_f64,
                                       axpy_f32,   minmax_f64, minmax_f32, dot_i8, fma_loop, 16};

#endif
