/*
 * eng_simd.h — SIMD kernels in several variants, and the CPU features that
 * decide which variants can run.
 *
 * Kernels: sum, dot, axpy (y += a*x), min/max, each in f64 and f32, and
 * an int8 dot product with exact 64-bit result (the core of quantized
 * inference). Every kernel exists in these variants, so a lab can put the
 * same loop side by side at different lane counts:
 *
 *   scalar   one element at a time, the compiler's vectorizer switched off
 *   autovec  the same plain loop, vectorized by GCC for the widest ISA here
 *   vecext   GCC vector extensions (32-byte vectors), widest ISA here
 *   sse2     intrinsics, 128-bit
 *   avx2     intrinsics, 256-bit with FMA
 *   avx512   intrinsics, 512-bit (AVX-512 F/BW/VL/DQ)
 *   auto     the best variant this CPU supports (avx512 > avx2 > sse2)
 *
 * The ISA-specific code lives in eng_simd_<isa>.c and is compiled with GCC
 * target pragmas, not global -m flags, so one binary runs everywhere and
 * picks at run time from CPUID (and XGETBV: the OS must save the wide
 * registers). Asking for a variant the CPU lacks is PL_ENOSYS, never a
 * SIGILL; eng_simd_explain() gives the message to show. The environment
 * variable PARLAB_SIMD_DISABLE (a list such as "avx512" or "avx2,avx512")
 * hides extensions from detection, to show dispatch on a lesser CPU.
 *
 * Semantics: n >= 0 and pointers need no alignment (tails and unaligned
 * heads are handled); n == 0 gives sum 0, dot 0, min +inf, max -inf.
 * Floating-point variants add in different orders, so results differ in
 * the last bits (bounded by the usual n * eps * sum|x| error); min/max
 * assume NaN-free input. dot_i8 is exact for any n.
 *
 * Thread-safety: everything is reentrant; CPU detection runs once
 * (pthread_once).
 */
#ifndef ENG_SIMD_H
#define ENG_SIMD_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  ENG_SIMD_AUTO = 0,
  ENG_SIMD_SCALAR,
  ENG_SIMD_AUTOVEC,
  ENG_SIMD_VECEXT,
  ENG_SIMD_SSE2,
  ENG_SIMD_AVX2,
  ENG_SIMD_AVX512,
  ENG_SIMD_NVARIANTS
} eng_simd_variant;

/* What CPUID and XGETBV report (x86-64; all zero elsewhere). A flag is 1
 * only when the OS also enables the registers it needs. */
typedef struct eng_cpu {
  char vendor[16];   /* "GenuineIntel", "AuthenticAMD", ... */
  char brand[64];    /* "Intel(R) Xeon(R) Processor", trimmed */
  int family, model, stepping;
  unsigned sse2 : 1, sse3 : 1, ssse3 : 1, sse41 : 1, sse42 : 1, avx : 1, fma : 1, avx2 : 1,
      avx512f : 1, avx512cd : 1, avx512dq : 1, avx512bw : 1, avx512vl : 1, avx512vnni : 1,
      avx512bf16 : 1, avx512fp16 : 1, avxvnni : 1, amx : 1, f16c : 1, bmi2 : 1;
} eng_cpu;

/* Detected once; never NULL. */
const eng_cpu *eng_cpu_get(void);
/* Space-separated ISA extensions from eng_cpu, e.g. "sse2 ... avx512f ...".
 * Returns the length written (truncated to size - 1). */
int eng_cpu_isa_string(char *buf, size_t size);

const char *eng_simd_variant_name(eng_simd_variant v); /* "scalar", ... */
/* PL_EINVAL for an unknown name. */
int eng_simd_variant_parse(const char *name, eng_simd_variant *out);
/* 1 when v can run here (auto, scalar, autovec, vecext: always). */
int eng_simd_supported(eng_simd_variant v);
/* The variant ENG_SIMD_AUTO runs. */
eng_simd_variant eng_simd_best(void);
/* A sentence for a refused variant: what it needs, that this CPU lacks
 * it, and what is available. Returns the length (truncated). */
int eng_simd_explain(eng_simd_variant v, char *buf, size_t size);
/* Lanes of one register for an element of elem_size bytes (scalar: 1;
 * autovec and vecext: of the ISA they were compiled for). */
int eng_simd_lanes(eng_simd_variant v, size_t elem_size);

/* Kernels: 0, or PL_ENOSYS (variant unsupported), PL_EINVAL (bad variant,
 * n < 0, NULL pointer with n > 0 or NULL out). */
int eng_simd_sum_f64(eng_simd_variant v, const double *x, long n, double *out);
int eng_simd_sum_f32(eng_simd_variant v, const float *x, long n, float *out);
int eng_simd_dot_f64(eng_simd_variant v, const double *x, const double *y, long n, double *out);
int eng_simd_dot_f32(eng_simd_variant v, const float *x, const float *y, long n, float *out);
/* y[i] += a * x[i] */
int eng_simd_axpy_f64(eng_simd_variant v, double a, const double *x, double *y, long n);
int eng_simd_axpy_f32(eng_simd_variant v, float a, const float *x, float *y, long n);
int eng_simd_minmax_f64(eng_simd_variant v, const double *x, long n, double *mn, double *mx);
int eng_simd_minmax_f32(eng_simd_variant v, const float *x, long n, float *mn, float *mx);
int eng_simd_dot_i8(eng_simd_variant v, const int8_t *x, const int8_t *y, long n, int64_t *out);

/* Symmetric per-tensor quantization: scale = max|x| / 127 (1 when x is
 * all zeros), q[i] = round(x[i] / scale) clamped to [-127, 127]; then
 * x[i] ~= q[i] * scale. PL_EINVAL for non-finite input. */
int eng_quantize_f32(const float *x, long n, int8_t *q, float *scale);
int eng_quantize_f64(const double *x, long n, int8_t *q, double *scale);

/* Peak-FLOP/s loop: `iters` rounds of independent FMA chains in the
 * widest registers of variant v (sse2 uses mul + add). Returns the
 * double-precision FLOPs done (*out_flops) so callers time it; PL_ENOSYS
 * when v is unsupported. Single-threaded. */
int eng_simd_fma_loop(eng_simd_variant v, long iters, double *out_flops);

#endif
