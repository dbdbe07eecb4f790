/*
 * eng_simd_int.h — internals shared by eng_simd.c and the per-ISA files
 * (eng_simd_sse2.c, eng_simd_avx2.c, eng_simd_avx512.c): one table of
 * kernel pointers per implementation. The tables of an ISA the compiler
 * cannot target (not x86-64) do not exist; eng_simd.c checks
 * ENG__SIMD_X86 before naming them.
 */
#ifndef ENG_SIMD_INT_H
#define ENG_SIMD_INT_H

#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define ENG__SIMD_X86 1
#else
#define ENG__SIMD_X86 0
#endif

/* int8 products summed in int32 lanes are exact for this many elements
 * per lane group (127 * 128 * 2^16 < 2^31); blocks are flushed to int64. */
#define ENG__I8_BLOCK 65536L

typedef struct eng__simd_impl {
  double (*sum_f64)(const double *x, long n);
  float (*sum_f32)(const float *x, long n);
  double (*dot_f64)(const double *x, const double *y, long n);
  float (*dot_f32)(const float *x, const float *y, long n);
  void (*axpy_f64)(double a, const double *x, double *y, long n);
  void (*axpy_f32)(float a, const float *x, float *y, long n);
  void (*minmax_f64)(const double *x, long n, double *mn, double *mx);
  void (*minmax_f32)(const float *x, long n, float *mn, float *mx);
  int64_t (*dot_i8)(const int8_t *x, const int8_t *y, long n);
  double (*fma_loop)(long iters); /* returns the FLOPs done; NULL: none */
  int vbytes;                     /* register width in bytes */
} eng__simd_impl;

extern const eng__simd_impl eng__simd_scalar;
extern const eng__simd_impl eng__simd_autovec_base, eng__simd_vecext_base;
#if ENG__SIMD_X86
extern const eng__simd_impl eng__simd_sse2;
extern const eng__simd_impl eng__simd_avx2, eng__simd_autovec_avx2, eng__simd_vecext_avx2;
extern const eng__simd_impl eng__simd_avx512, eng__simd_autovec_avx512, eng__simd_vecext_avx512;
#endif

#endif
