/*
 * eng_simd_avx512.c — 512-bit intrinsics (8 doubles, 16 floats, 64 int8
 * per register) with masked loads for the tails, plus the autovec and
 * vecext variants compiled for the same target. Compiled for AVX-512
 * through a target pragma; eng_simd.c calls it only when CPUID and XGETBV
 * say the CPU and the OS support it.
 */
#include "eng_simd_int.h"

#if ENG__SIMD_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,prefer-vector-width=512")
#include <immintrin.h>
#include <math.h>

/* Lanes [0, r) of a mask, r < 16. */
static inline __mmask8 tail8(long r) { return (__mmask8)((1u << r) - 1); }
static inline __mmask16 tail16(long r) { return (__mmask16)((1u << r) - 1); }

/* Eight accumulators keep both FMA ports busy (4-cycle latency). */
static double sum_f64(const double *x, long n) {
  __m512d a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm512_setzero_pd();
  long i = 0;
  for (; i + 64 <= n; i += 64)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) a[k] = _mm512_add_pd(a[k], _mm512_loadu_pd(x + i + 8 * k));
  for (; i + 8 <= n; i += 8) a[0] = _mm512_add_pd(a[0], _mm512_loadu_pd(x + i));
  if (i < n) a[1] = _mm512_add_pd(a[1], _mm512_maskz_loadu_pd(tail8(n - i), x + i));
  for (int k = 1; k < 8; k++) a[0] = _mm512_add_pd(a[0], a[k]);
  return _mm512_reduce_add_pd(a[0]);
}

static float sum_f32(const float *x, long n) {
  __m512 a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm512_setzero_ps();
  long i = 0;
  for (; i + 128 <= n; i += 128)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) a[k] = _mm512_add_ps(a[k], _mm512_loadu_ps(x + i + 16 * k));
  for (; i + 16 <= n; i += 16) a[0] = _mm512_add_ps(a[0], _mm512_loadu_ps(x + i));
  if (i < n) a[1] = _mm512_add_ps(a[1], _mm512_maskz_loadu_ps(tail16(n - i), x + i));
  for (int k = 1; k < 8; k++) a[0] = _mm512_add_ps(a[0], a[k]);
  return _mm512_reduce_add_ps(a[0]);
}

static double dot_f64(const double *x, const double *y, long n) {
  __m512d a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm512_setzero_pd();
  long i = 0;
  for (; i + 64 <= n; i += 64)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++)
      a[k] = _mm512_fmadd_pd(_mm512_loadu_pd(x + i + 8 * k), _mm512_loadu_pd(y + i + 8 * k), a[k]);
  for (; i + 8 <= n; i += 8) a[0] = _mm512_fmadd_pd(_mm512_loadu_pd(x + i), _mm512_loadu_pd(y + i), a[0]);
  if (i < n) {
    __mmask8 m = tail8(n - i);
    a[1] = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, x + i), _mm512_maskz_loadu_pd(m, y + i), a[1]);
  }
  for (int k = 1; k < 8; k++) a[0] = _mm512_add_pd(a[0], a[k]);
  return _mm512_reduce_add_pd(a[0]);
}

static float dot_f32(const float *x, const float *y, long n) {
  __m512 a[8];
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) a[k] = _mm512_setzero_ps();
  long i = 0;
  for (; i + 128 <= n; i += 128)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++)
      a[k] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16 * k), _mm512_loadu_ps(y + i + 16 * k), a[k]);
  for (; i + 16 <= n; i += 16) a[0] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a[0]);
  if (i < n) {
    __mmask16 m = tail16(n - i);
    a[1] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), a[1]);
  }
  for (int k = 1; k < 8; k++) a[0] = _mm512_add_ps(a[0], a[k]);
  return _mm512_reduce_add_ps(a[0]);
}

static void axpy_f64(double a, const double *x, double *y, long n) {
  __m512d va = _mm512_set1_pd(a);
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_pd(y + i, _mm512_fmadd_pd(va, _mm512_loadu_pd(x + i), _mm512_loadu_pd(y + i)));
    _mm512_storeu_pd(y + i + 8,
                     _mm512_fmadd_pd(va, _mm512_loadu_pd(x + i + 8), _mm512_loadu_pd(y + i + 8)));
  }
  for (; i + 8 <= n; i += 8)
    _mm512_storeu_pd(y + i, _mm512_fmadd_pd(va, _mm512_loadu_pd(x + i), _mm512_loadu_pd(y + i)));
  if (i < n) {
    __mmask8 m = tail8(n - i);
    __m512d r = _mm512_fmadd_pd(va, _mm512_maskz_loadu_pd(m, x + i), _mm512_maskz_loadu_pd(m, y + i));
    _mm512_mask_storeu_pd(y + i, m, r);
  }
}

static void axpy_f32(float a, const float *x, float *y, long n) {
  __m512 va = _mm512_set1_ps(a);
  long i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    _mm512_storeu_ps(y + i + 16,
                     _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16)));
  }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    __mmask16 m = tail16(n - i);
    __m512 r = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
    _mm512_mask_storeu_ps(y + i, m, r);
  }
}

/* Masked tails: lanes past the end keep the running min/max (mask_loadu
 * with the accumulator as the pass-through source). */
static void minmax_f64(const double *x, long n, double *mn, double *mx) {
  __m512d lo = _mm512_set1_pd(INFINITY), hi = _mm512_set1_pd(-INFINITY);
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512d v = _mm512_loadu_pd(x + i);
    lo = _mm512_min_pd(lo, v);
    hi = _mm512_max_pd(hi, v);
  }
  if (i < n) {
    __mmask8 m = tail8(n - i);
    lo = _mm512_min_pd(lo, _mm512_mask_loadu_pd(lo, m, x + i));
    hi = _mm512_max_pd(hi, _mm512_mask_loadu_pd(hi, m, x + i));
  }
  *mn = _mm512_reduce_min_pd(lo);
  *mx = _mm512_reduce_max_pd(hi);
}

static void minmax_f32(const float *x, long n, float *mn, float *mx) {
  __m512 lo = _mm512_set1_ps(INFINITY), hi = _mm512_set1_ps(-INFINITY);
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i);
    lo = _mm512_min_ps(lo, v);
    hi = _mm512_max_ps(hi, v);
  }
  if (i < n) {
    __mmask16 m = tail16(n - i);
    lo = _mm512_min_ps(lo, _mm512_mask_loadu_ps(lo, m, x + i));
    hi = _mm512_max_ps(hi, _mm512_mask_loadu_ps(hi, m, x + i));
  }
  *mn = _mm512_reduce_min_ps(lo);
  *mx = _mm512_reduce_max_ps(hi);
}

/* 32 int8 sign-extended to int16 per register (vpmovsxbw), pairs
 * multiplied and added into int32 lanes (vpmaddwd, AVX-512BW). */
static int64_t dot_i8(const int8_t *x, const int8_t *y, long n) {
  int64_t total = 0;
  long i = 0;
  while (i + 64 <= n) {
    long e = i + ENG__I8_BLOCK;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0;
    for (; i + 64 <= n && i < e; i += 64) {
      __m512i a0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(x + i)));
      __m512i b0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(y + i)));
      __m512i a1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(x + i + 32)));
      __m512i b1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(y + i + 32)));
      acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(a0, b0));
      acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(a1, b1));
    }
    total += (int64_t)_mm512_reduce_add_epi32(acc0) + _mm512_reduce_add_epi32(acc1);
  }
  for (; i < n; i++) total += (int32_t)x[i] * (int32_t)y[i];
  return total;
}

/* 16 independent FMA chains: 16 * 8 lanes * 2 FLOPs per iteration. */
static double fma_loop(long iters) {
  __m512d m = _mm512_set1_pd(0.999999), c = _mm512_set1_pd(1e-6);
  __m512d a[16];
#pragma GCC unroll 16
  for (int k = 0; k < 16; k++) a[k] = _mm512_set1_pd(k + 1);
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int k = 0; k < 16; k++) a[k] = _mm512_fmadd_pd(a[k], m, c);
  volatile double sink = 0;
#pragma GCC unroll 16
  for (int k = 0; k < 16; k++) sink += _mm512_reduce_add_pd(a[k]);
  return 256.0 * (double)iters;
}

const eng__simd_impl eng__simd_avx512 = {sum_f64,    sum_f32,    dot_f64, dot_f32, axpy_f64,
                                         axpy_f32,   minmax_f64, minmax_f32, dot_i8, fma_loop, 64};

#define GEN_SFX avx512
#define GEN_VBYTES 64
#include "eng_simd_gen.h"

#pragma GCC pop_options
#endif
