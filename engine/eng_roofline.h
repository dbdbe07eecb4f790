/*
 * eng_roofline.h — the roofline model: a kernel that does F floating-point
 * operations per B bytes moved (arithmetic intensity I = F / B) can run at
 * most min(peak, I * bandwidth). The ridge point peak / bandwidth is the
 * intensity where a kernel stops being memory-bound and becomes
 * compute-bound. The engine's kernels come with their intensities, so a
 * lab can place a measured rate under the roof.
 *
 * Units: GFLOP/s, GB/s (1e9 bytes), FLOP/byte. Thread-safe (pure).
 */
#ifndef ENG_ROOFLINE_H
#define ENG_ROOFLINE_H

typedef struct eng_roof {
  double peak_gflops; /* compute ceiling, > 0 */
  double bw_gbs;      /* memory ceiling, > 0 (STREAM triad) */
} eng_roof;

typedef struct eng_roof_kernel {
  const char *name;   /* "dot_f64", "triad", "dgemm", ... */
  double flops;       /* per element (per n^3 unit for dgemm: see below) */
  double bytes;       /* per element moved to/from memory */
  const char *what;   /* one line: what the kernel computes */
} eng_roof_kernel;

/* The engine's kernels, out of cache, in their natural dtype: sum, dot,
 * axpy, min/max (f64 and f32), dot_i8, and the STREAM kernels. For dgemm the
 * intensity depends on the size: use eng_roofline_gemm_ai(). */
const eng_roof_kernel *eng_roofline_kernels(int *n);
/* NULL if no such kernel. */
const eng_roof_kernel *eng_roofline_find(const char *name);

/* Arithmetic intensity of a kernel: flops / bytes. */
double eng_roofline_ai(const eng_roof_kernel *k);
/* Best-case intensity of an n x n x n dgemm that reads A and B and reads
 * and writes C once: 2n^3 / (8 * 4n^2) = n / 16. */
double eng_roofline_gemm_ai(long n);

/* min(peak, ai * bw); NaN when the roof or ai is invalid (<= 0). */
double eng_roofline_attainable(const eng_roof *r, double ai);
/* peak / bw; NaN for an invalid roof. */
double eng_roofline_ridge(const eng_roof *r);

typedef struct eng_roof_place {
  double ai, attainable, measured;
  double fraction;     /* measured / attainable */
  int memory_bound;    /* ai < ridge */
} eng_roof_place;

/* Where a kernel with intensity ai measured at `gflops` sits. PL_EINVAL
 * for an invalid roof, ai <= 0 or gflops < 0. */
int eng_roofline_place(const eng_roof *r, double ai, double gflops, eng_roof_place *out);

#endif
