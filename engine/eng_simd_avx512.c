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

/* x and y at the same offset from a 64-byte line: the lanes to peel off
 * with a masked load so the main loop's loads are aligned (0: none, or
 * the offsets differ and no peel aligns both). A 64-byte load that
 * straddles two cache lines costs two of the core's load slots, which
 * halves an in-L1 dot product. */
static inline long peel_lanes(const void *x, const void *y, long elem, long n) {
  uintptr_t ox = (uintptr_t)x & 63, oy = (uintptr_t)y & 63;
  if (!ox || ox != oy || ox % (uintptr_t)elem) return 0;
  long h = (long)((64 - ox) / (uintptr_t)elem);
  return h <= n ? h : 0;
}

/* Two loads per FMA: the load ports (two 64-byte loads per cycle) bound
 * this loop at half the FMA peak, so it needs aligned loads (the peel)
 * and little work around the loop to come near that: the accumulators
 * are named variables (an array that escapes into a helper goes to the
 * stack) and are summed as a tree, 3 dependent adds rather than 7. */
#define DOT512(T, S, L, LOAD, MLOAD, MASK, TAILM, FMA, MUL, ADD, ZERO, RED)             \
  static S dot_##T(const S *x, const S *y, long n) {                                   \
    L a0 = ZERO(), a1 = ZERO(), a2 = ZERO(), a3 = ZERO(), a4 = ZERO(), a5 = ZERO(),    \
      a6 = ZERO(), a7 = ZERO();                                                        \
    const long w = 64 / (long)sizeof(S);                                               \
    long i = peel_lanes(x, y, (long)sizeof(S), n);                                     \
    if (i) {                                                                           \
      MASK m = TAILM(i);                                                               \
      a7 = MUL(MLOAD(m, x), MLOAD(m, y));                                              \
    }                                                                                  \
    for (; i + 8 * w <= n; i += 8 * w) {                                               \
      const S *px = x + i, *py = y + i;                                                \
      a0 = FMA(LOAD(px), LOAD(py), a0);                                                \
      a1 = FMA(LOAD(px + w), LOAD(py + w), a1);                                        \
      a2 = FMA(LOAD(px + 2 * w), LOAD(py + 2 * w), a2);                                \
      a3 = FMA(LOAD(px + 3 * w), LOAD(py + 3 * w), a3);                                \
      a4 = FMA(LOAD(px + 4 * w), LOAD(py + 4 * w), a4);                                \
      a5 = FMA(LOAD(px + 5 * w), LOAD(py + 5 * w), a5);                                \
      a6 = FMA(LOAD(px + 6 * w), LOAD(py + 6 * w), a6);                                \
      a7 = FMA(LOAD(px + 7 * w), LOAD(py + 7 * w), a7);                                \
    }                                                                                  \
    for (; i + w <= n; i += w) a0 = FMA(LOAD(x + i), LOAD(y + i), a0);                 \
    if (i < n) {                                                                       \
      MASK m = TAILM(n - i);                                                           \
      a1 = FMA(MLOAD(m, x + i), MLOAD(m, y + i), a1);                                  \
    }                                                                                  \
    a0 = ADD(a0, a4), a1 = ADD(a1, a5), a2 = ADD(a2, a6), a3 = ADD(a3, a7);            \
    return RED(ADD(ADD(a0, a2), ADD(a1, a3)));                                         \
  }
DOT512(f64, double, __m512d, _mm512_loadu_pd, _mm512_maskz_loadu_pd, __mmask8, tail8,
       _mm512_fmadd_pd, _mm512_mul_pd, _mm512_add_pd, _mm512_setzero_pd, _mm512_reduce_add_pd)
DOT512(f32, float, __m512, _mm512_loadu_ps, _mm512_maskz_loadu_ps, __mmask16, tail16,
       _mm512_fmadd_ps, _mm512_mul_ps, _mm512_add_ps, _mm512_setzero_ps, _mm512_reduce_add_ps)
#undef DOT512

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
