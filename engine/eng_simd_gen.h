/*
 * eng_simd_gen.h — template for the compiler-generated variants, included
 * once per target by eng_simd.c (baseline), eng_simd_avx2.c and
 * eng_simd_avx512.c after their `#pragma GCC target`. Before including,
 * define GEN_SFX (a suffix: base, avx2, avx512) and GEN_VBYTES (bytes per
 * vector: 16, 32, 64). Defines the tables eng__simd_autovec_<sfx> and
 * eng__simd_vecext_<sfx>.
 *
 * autovec: plain loops, compiled at -O3 with reassociation allowed, which
 * is what lets GCC split a reduction over vector lanes (the assumption
 * -ffast-math makes for you). vecext: the same loops written with GCC
 * vector types, which the compiler maps to the target's registers.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "eng_simd_int.h"

#define GEN_CAT2(a, b) a##_##b
#define GEN_CAT(a, b) GEN_CAT2(a, b)
#define GEN(name) GEN_CAT(name, GEN_SFX)

#define GEN_AUTOVEC                                                                             \
  __attribute__((optimize("O3", "associative-math", "no-signed-zeros", "no-trapping-math", \
                         "finite-math-only")))

/* ---- autovec ---- */

GEN_AUTOVEC static double GEN(av_sum_f64)(const double *x, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += x[i];
  return s;
}

GEN_AUTOVEC static float GEN(av_sum_f32)(const float *x, long n) {
  float s = 0;
  for (long i = 0; i < n; i++) s += x[i];
  return s;
}

GEN_AUTOVEC static double GEN(av_dot_f64)(const double *x, const double *y, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

GEN_AUTOVEC static float GEN(av_dot_f32)(const float *x, const float *y, long n) {
  float s = 0;
  for (long i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

GEN_AUTOVEC static void GEN(av_axpy_f64)(double a, const double *restrict x, double *restrict y,
                                         long n) {
  for (long i = 0; i < n; i++) y[i] += a * x[i];
}

GEN_AUTOVEC static void GEN(av_axpy_f32)(float a, const float *restrict x, float *restrict y,
                                         long n) {
  for (long i = 0; i < n; i++) y[i] += a * x[i];
}

GEN_AUTOVEC static void GEN(av_minmax_f64)(const double *x, long n, double *mn, double *mx) {
  double a = INFINITY, b = -INFINITY;
  for (long i = 0; i < n; i++) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
  }
  *mn = a, *mx = b;
}

GEN_AUTOVEC static void GEN(av_minmax_f32)(const float *x, long n, float *mn, float *mx) {
  float a = INFINITY, b = -INFINITY;
  for (long i = 0; i < n; i++) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
  }
  *mn = a, *mx = b;
}

GEN_AUTOVEC static int64_t GEN(av_dot_i8)(const int8_t *x, const int8_t *y, long n) {
  int64_t total = 0;
  for (long b = 0; b < n; b += ENG__I8_BLOCK) {
    long e = n - b < ENG__I8_BLOCK ? n : b + ENG__I8_BLOCK;
    int32_t s = 0;
    for (long i = b; i < e; i++) s += (int32_t)x[i] * (int32_t)y[i];
    total += s;
  }
  return total;
}

const eng__simd_impl GEN(eng__simd_autovec) = {
    GEN(av_sum_f64),    GEN(av_sum_f32),    GEN(av_dot_f64), GEN(av_dot_f32),
    GEN(av_axpy_f64),   GEN(av_axpy_f32),   GEN(av_minmax_f64), GEN(av_minmax_f32),
    GEN(av_dot_i8),     NULL,               GEN_VBYTES};

/* ---- vecext ---- */

#define GEN_ND (GEN_VBYTES / 8)
#define GEN_NF (GEN_VBYTES / 4)
#define GEN_NB (GEN_VBYTES / 2) /* int8 elements per step: widened to int16 fill one vector */
typedef double GEN(vd) __attribute__((vector_size(GEN_VBYTES)));
typedef float GEN(vf) __attribute__((vector_size(GEN_VBYTES)));
typedef int8_t GEN(vb) __attribute__((vector_size(GEN_NB)));
typedef int16_t GEN(vh) __attribute__((vector_size(GEN_VBYTES)));
typedef int32_t GEN(vi) __attribute__((vector_size(GEN_VBYTES * 2)));
typedef int64_t GEN(vdm) __attribute__((vector_size(GEN_VBYTES))); /* masks of vd */
typedef int32_t GEN(vfm) __attribute__((vector_size(GEN_VBYTES))); /* masks of vf */

/* memcpy is how vector extensions load unaligned memory; it compiles to
 * one unaligned load. */
static inline GEN(vd) GEN(ld_d)(const double *p) { GEN(vd) v; memcpy(&v, p, sizeof v); return v; }
static inline GEN(vf) GEN(ld_f)(const float *p) { GEN(vf) v; memcpy(&v, p, sizeof v); return v; }

static double GEN(ve_sum_f64)(const double *x, long n) {
  GEN(vd) a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
  long i = 0;
  for (; i + 4 * GEN_ND <= n; i += 4 * GEN_ND) {
    a0 += GEN(ld_d)(x + i);
    a1 += GEN(ld_d)(x + i + GEN_ND);
    a2 += GEN(ld_d)(x + i + 2 * GEN_ND);
    a3 += GEN(ld_d)(x + i + 3 * GEN_ND);
  }
  a0 = (a0 + a1) + (a2 + a3);
  double s = 0;
  for (int k = 0; k < GEN_ND; k++) s += a0[k];
  for (; i < n; i++) s += x[i];
  return s;
}

static float GEN(ve_sum_f32)(const float *x, long n) {
  GEN(vf) a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
  long i = 0;
  for (; i + 4 * GEN_NF <= n; i += 4 * GEN_NF) {
    a0 += GEN(ld_f)(x + i);
    a1 += GEN(ld_f)(x + i + GEN_NF);
    a2 += GEN(ld_f)(x + i + 2 * GEN_NF);
    a3 += GEN(ld_f)(x + i + 3 * GEN_NF);
  }
  a0 = (a0 + a1) + (a2 + a3);
  float s = 0;
  for (int k = 0; k < GEN_NF; k++) s += a0[k];
  for (; i < n; i++) s += x[i];
  return s;
}

static double GEN(ve_dot_f64)(const double *x, const double *y, long n) {
  GEN(vd) a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
  long i = 0;
  for (; i + 4 * GEN_ND <= n; i += 4 * GEN_ND) {
    a0 += GEN(ld_d)(x + i) * GEN(ld_d)(y + i);
    a1 += GEN(ld_d)(x + i + GEN_ND) * GEN(ld_d)(y + i + GEN_ND);
    a2 += GEN(ld_d)(x + i + 2 * GEN_ND) * GEN(ld_d)(y + i + 2 * GEN_ND);
    a3 += GEN(ld_d)(x + i + 3 * GEN_ND) * GEN(ld_d)(y + i + 3 * GEN_ND);
  }
  a0 = (a0 + a1) + (a2 + a3);
  double s = 0;
  for (int k = 0; k < GEN_ND; k++) s += a0[k];
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static float GEN(ve_dot_f32)(const float *x, const float *y, long n) {
  GEN(vf) a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
  long i = 0;
  for (; i + 4 * GEN_NF <= n; i += 4 * GEN_NF) {
    a0 += GEN(ld_f)(x + i) * GEN(ld_f)(y + i);
    a1 += GEN(ld_f)(x + i + GEN_NF) * GEN(ld_f)(y + i + GEN_NF);
    a2 += GEN(ld_f)(x + i + 2 * GEN_NF) * GEN(ld_f)(y + i + 2 * GEN_NF);
    a3 += GEN(ld_f)(x + i + 3 * GEN_NF) * GEN(ld_f)(y + i + 3 * GEN_NF);
  }
  a0 = (a0 + a1) + (a2 + a3);
  float s = 0;
  for (int k = 0; k < GEN_NF; k++) s += a0[k];
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

static void GEN(ve_axpy_f64)(double a, const double *x, double *y, long n) {
  GEN(vd) va = a - (GEN(vd)){0}; /* broadcast */
  long i = 0;
  for (; i + GEN_ND <= n; i += GEN_ND) {
    GEN(vd) r = GEN(ld_d)(y + i) + va * GEN(ld_d)(x + i);
    memcpy(y + i, &r, sizeof r);
  }
  for (; i < n; i++) y[i] += a * x[i];
}

static void GEN(ve_axpy_f32)(float a, const float *x, float *y, long n) {
  GEN(vf) va = a - (GEN(vf)){0};
  long i = 0;
  for (; i + GEN_NF <= n; i += GEN_NF) {
    GEN(vf) r = GEN(ld_f)(y + i) + va * GEN(ld_f)(x + i);
    memcpy(y + i, &r, sizeof r);
  }
  for (; i < n; i++) y[i] += a * x[i];
}

static void GEN(ve_minmax_f64)(const double *x, long n, double *mn, double *mx) {
  double a = INFINITY, b = -INFINITY;
  long i = 0;
  if (n >= GEN_ND) {
    GEN(vd) lo = GEN(ld_d)(x), hi = lo;
    for (i = GEN_ND; i + GEN_ND <= n; i += GEN_ND) {
      GEN(vd) v = GEN(ld_d)(x + i);
      /* C has no vector ?:, so select with the comparison's lane masks. */
      GEN(vdm) l = v < lo, h = v > hi;
      lo = (GEN(vd))(((GEN(vdm))v & l) | ((GEN(vdm))lo & ~l));
      hi = (GEN(vd))(((GEN(vdm))v & h) | ((GEN(vdm))hi & ~h));
    }
    for (int k = 0; k < GEN_ND; k++) {
      a = lo[k] < a ? lo[k] : a;
      b = hi[k] > b ? hi[k] : b;
    }
  }
  for (; i < n; i++) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
  }
  *mn = a, *mx = b;
}

static void GEN(ve_minmax_f32)(const float *x, long n, float *mn, float *mx) {
  float a = INFINITY, b = -INFINITY;
  long i = 0;
  if (n >= GEN_NF) {
    GEN(vf) lo = GEN(ld_f)(x), hi = lo;
    for (i = GEN_NF; i + GEN_NF <= n; i += GEN_NF) {
      GEN(vf) v = GEN(ld_f)(x + i);
      GEN(vfm) l = v < lo, h = v > hi;
      lo = (GEN(vf))(((GEN(vfm))v & l) | ((GEN(vfm))lo & ~l));
      hi = (GEN(vf))(((GEN(vfm))v & h) | ((GEN(vfm))hi & ~h));
    }
    for (int k = 0; k < GEN_NF; k++) {
      a = lo[k] < a ? lo[k] : a;
      b = hi[k] > b ? hi[k] : b;
    }
  }
  for (; i < n; i++) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
  }
  *mn = a, *mx = b;
}

static int64_t GEN(ve_dot_i8)(const int8_t *x, const int8_t *y, long n) {
  int64_t total = 0;
  long i = 0;
  while (i + GEN_NB <= n) {
    long e = i + ENG__I8_BLOCK;
    GEN(vi) acc = {0};
    for (; i + GEN_NB <= n && i < e; i += GEN_NB) {
      GEN(vb) a, b;
      memcpy(&a, x + i, sizeof a);
      memcpy(&b, y + i, sizeof b);
      GEN(vh) p = __builtin_convertvector(a, GEN(vh)) * __builtin_convertvector(b, GEN(vh));
      acc += __builtin_convertvector(p, GEN(vi));
    }
    for (int k = 0; k < GEN_NB; k++) total += acc[k];
  }
  for (; i < n; i++) total += (int32_t)x[i] * (int32_t)y[i];
  return total;
}

const eng__simd_impl GEN(eng__simd_vecext) = {
    GEN(ve_sum_f64),  GEN(ve_sum_f32),  GEN(ve_dot_f64),    GEN(ve_dot_f32),
    GEN(ve_axpy_f64), GEN(ve_axpy_f32), GEN(ve_minmax_f64), GEN(ve_minmax_f32),
    GEN(ve_dot_i8),   NULL,             GEN_VBYTES};

#undef GEN_ND
#undef GEN_NF
#undef GEN_NB
#undef GEN_AUTOVEC
#undef GEN
#undef GEN_CAT
#undef GEN_CAT2
