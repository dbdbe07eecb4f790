/*
 * bench_simd.c — the "simd" suite: engine SIMD kernels and BLAS against
 * references measured in the same run.
 *
 * (a) Out of cache (arrays sized by the STREAM rule, eng_probe.h): dot
 *     (f64), saxpy (f32) and triad, each split over the engine's pool,
 *     against the STREAM triad bandwidth of an OpenMP loop (as in
 *     McCalpin's stream.c), interleaved A B A B, medians. Target >= 0.9.
 * (b) In L1: dot of 2 x 2048 doubles (32 KiB, 64-byte aligned) on one core,
 *     in the variant "auto" runs, against two references measured in the
 *     same run, interleaved: the one-core peak of the FMA loop in the same
 *     variant (so both use registers of the same width), and the
 *     load-port bound. The target is 0.7 of the FMA peak, which no
 *     dot product can reach: it loads two operands per FMA, and a core
 *     issues at most two 64-byte loads per cycle (Intel since Skylake-SP;
 *     three 32-byte ones on Golden Cove) against two FMAs per cycle, so
 *     the loads cap it at half the FMA peak. The bound is measured, not
 *     assumed: a loop of aligned register-wide loads over the same 32 KiB,
 *     whose values are only kept alive (nothing computed), gives the L1
 *     load bandwidth B in bytes/s; the dot does 2 FLOPs per 16 bytes
 *     loaded, so it can run at most at B / 8 FLOP/s. Both fractions are
 *     reported.
 * (c) dgemm 2048: parlab's eng_blas_dgemm against a direct cblas_dgemm
 *     call into the same library (target >= 0.97) and against the
 *     all-core FMA peak (target >= 0.85); OpenBLAS's own core pick
 *     against the corrected one (one thread, measured in a child).
 * (d) The teaching GEMMs at n = 512, each as a fraction of OpenBLAS.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "bench.h"
#include "eng_blas.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "eng_probe.h"
#include "eng_simd.h"
#include "pl_err.h"

#define REPS 5

static int add(bench_report *r, const char *name, const char *unit, const char *ref,
               const double *v, int nv, const double *rv, int nr) {
  eng_stats so, sr;
  int rc = eng_stats_compute(v, nv, &so);
  if (!rc) rc = eng_stats_compute(rv, nr, &sr);
  if (rc) return rc;
  bench_result res;
  memset(&res, 0, sizeof res);
  snprintf(res.suite, sizeof res.suite, "simd");
  snprintf(res.name, sizeof res.name, "%s", name);
  snprintf(res.unit, sizeof res.unit, "%s", unit);
  snprintf(res.reference, sizeof res.reference, "%s", ref);
  snprintf(res.better, sizeof res.better, "higher");
  res.value = so.median;
  res.spread = so.spread;
  res.reference_value = sr.median;
  res.ratio = sr.median > 0 ? so.median / sr.median : 0;
  return bench_report_add(r, &res);
}

/* ---- (a) out of cache ---- */

typedef struct big_arg {
  double *a, *b, *c;
  int op; /* 0 init, 1 dot, 2 saxpy (on b, c as floats), 3 triad */
  double part[1024];
} big_arg;

static void big_body(void *arg, long lo, long hi, int w) {
  big_arg *g = arg;
  double *restrict a = g->a, *restrict b = g->b, *restrict c = g->c;
  double r = 0;
  switch (g->op) {
  case 0: for (long i = lo; i < hi; i++) a[i] = 1.0, b[i] = 2.0, c[i] = 0.5; break;
  case 1: eng_simd_dot_f64(ENG_SIMD_AUTO, a + lo, b + lo, hi - lo, &r); break;
  case 2: /* the same memory seen as floats: twice the elements */
    eng_simd_axpy_f32(ENG_SIMD_AUTO, 1e-7f, (float *)c + 2 * lo, (float *)b + 2 * lo, 2 * (hi - lo));
    break;
  case 3: for (long i = lo; i < hi; i++) a[i] = b[i] + 3.0 * c[i]; break;
  }
  if (w < 1024) g->part[w] += r;
}

static double omp_triad(double *restrict a, const double *restrict b, const double *restrict c,
                        long n, int nt) {
  uint64_t t0 = eng_now_ns();
#pragma omp parallel for num_threads(nt) schedule(static)
  for (long i = 0; i < n; i++) a[i] = b[i] + 3.0 * c[i];
  return 24.0 * (double)n / (double)(eng_now_ns() - t0);
}

static double pool_run(eng_pool *p, big_arg *g, long n, int op, double bytes_per_elem) {
  g->op = op;
  uint64_t t0 = eng_now_ns();
  eng_parallel_for(p, 0, n, big_body, g);
  return bytes_per_elem * (double)n / (double)(eng_now_ns() - t0);
}

static int bench_stream(bench_report *r) {
  eng_probe st;
  eng_probe_static(&st);
  long n = 4 * (st.llc_total > 0 ? st.llc_total : 32L << 20) / 8;
  if (n < 10000000L) n = 10000000L;
  double cap = st.mem_avail_gib * 0.5 * 1073741824.0 / 24.0;
  if (cap > 0 && (double)n > cap) n = (long)cap;
  size_t bytes = (size_t)n * sizeof(double);
  int rc = 0;
  eng_pool *p = eng_pool_default();
  if (!p) return PL_ENOMEM;
  int nt = eng_pool_size(p);
  big_arg *g = calloc(1, sizeof *g);
  double *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  double *b = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  double *c = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (!g || a == MAP_FAILED || b == MAP_FAILED || c == MAP_FAILED) {
    rc = PL_ENOMEM;
    goto done;
  }
  g->a = a, g->b = b, g->c = c;
  pool_run(p, g, n, 0, 0);
  double ref[REPS], dot[REPS], saxpy[REPS], triad[REPS];
  omp_triad(a, b, c, n, nt); /* warm-up: OpenMP threads, TLB */
  pool_run(p, g, n, 1, 16);
  for (int i = 0; i < REPS; i++) {
    ref[i] = omp_triad(a, b, c, n, nt);
    dot[i] = pool_run(p, g, n, 1, 16);
    saxpy[i] = pool_run(p, g, n, 2, 24); /* 2n floats: 12 bytes each */
    triad[i] = pool_run(p, g, n, 3, 24);
  }
  char name[96];
  const char *refname = "STREAM triad (OpenMP)";
  snprintf(name, sizeof name, "dot f64, %ld MiB arrays, %d threads", (long)(bytes >> 20), nt);
  if ((rc = add(r, name, "GB/s", refname, dot, REPS, ref, REPS))) goto done;
  snprintf(name, sizeof name, "saxpy f32, %ld MiB arrays, %d threads", (long)(bytes >> 20), nt);
  if ((rc = add(r, name, "GB/s", refname, saxpy, REPS, ref, REPS))) goto done;
  snprintf(name, sizeof name, "triad f64 (engine pool), %ld MiB arrays", (long)(bytes >> 20));
  rc = add(r, name, "GB/s", refname, triad, REPS, ref, REPS);
done:
  if (a != MAP_FAILED) munmap(a, bytes);
  if (b != MAP_FAILED) munmap(b, bytes);
  if (c != MAP_FAILED) munmap(c, bytes);
  free(g);
  return rc;
}

/* ---- (b) in L1 ---- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* reps passes over x[0, n) (n a multiple of 32, x 64-byte aligned) with
 * aligned loads of the given width. The empty asm takes every loaded
 * register as an input, so the loads happen and nothing is computed on
 * them; its memory clobber makes every pass load again. Returns bytes. */
#define LOAD_LOOP(name, tgt, T, load, step)                                      \
  __attribute__((target(tgt))) static double name(const double *x, long n, long reps) { \
    for (long r = 0; r < reps; r++)                                              \
      for (long i = 0; i < n; i += 4 * (step)) {                                 \
        T a = load(x + i), b = load(x + i + (step)), c = load(x + i + 2 * (step)), \
          d = load(x + i + 3 * (step));                                          \
        __asm__ volatile("" ::"x"(a), "x"(b), "x"(c), "x"(d) : "memory");       \
      }                                                                          \
    return 8.0 * (double)n * (double)reps;                                       \
  }
LOAD_LOOP(loads_512, "avx512f", __m512d, _mm512_load_pd, 8)
LOAD_LOOP(loads_256, "avx", __m256d, _mm256_load_pd, 4)
LOAD_LOOP(loads_128, "sse2", __m128d, _mm_load_pd, 2)

/* The load loop in the register width of variant v; 0 when none. */
static double load_loop(eng_simd_variant v, const double *x, long n, long reps) {
  switch (v) {
  case ENG_SIMD_AVX512: return loads_512(x, n, reps);
  case ENG_SIMD_AVX2: return loads_256(x, n, reps);
  case ENG_SIMD_SSE2: return loads_128(x, n, reps);
  default: return 0;
  }
}
#else
static double load_loop(eng_simd_variant v, const double *x, long n, long reps) {
  (void)v, (void)x, (void)n, (void)reps;
  return 0;
}
#endif

static int bench_l1(bench_report *r) {
  enum { N = 2048, CALLS = 200000, L1_REPS = 9 };
  /* x and y side by side in one aligned 32 KiB block: the load loop reads
   * exactly the bytes one dot call reads. */
  static _Alignas(64) double xy[2 * N];
  double *x = xy, *y = xy + N;
  for (int i = 0; i < N; i++) x[i] = 1.0 / (i + 1), y[i] = (double)(i % 7);
  eng_simd_variant v = eng_simd_best();
  /* Each sample is tens of milliseconds, so a scheduler tick on a busy
   * machine does not decide it. */
  double dot[L1_REPS], peak[L1_REPS], bound[L1_REPS], sink = 0, f = 0;
  long iters = 10000000;
  int have_bound = load_loop(v, xy, 2 * N, 1) > 0;
  eng_simd_fma_loop(v, iters, &f); /* warm-up (and clocks up) */
  for (int i = 0; i < L1_REPS; i++) {
    uint64_t t0 = eng_now_ns();
    eng_simd_fma_loop(v, iters, &f);
    peak[i] = f / (double)(eng_now_ns() - t0);
    t0 = eng_now_ns();
    for (int k = 0; k < CALLS; k++) {
      double d;
      eng_simd_dot_f64(v, x, y, N, &d);
      sink += d;
      __asm__ volatile("" ::: "memory");
    }
    dot[i] = 2.0 * N * CALLS / (double)(eng_now_ns() - t0);
    if (have_bound) {
      t0 = eng_now_ns();
      double bytes = load_loop(v, xy, 2 * N, CALLS);
      bound[i] = bytes / 8.0 / (double)(eng_now_ns() - t0); /* 2 FLOPs per 16 bytes */
    }
  }
  if (!(sink > 0)) return PL_EINVAL;
  char name[96];
  snprintf(name, sizeof name, "dot f64 in L1 (2 x 16 KiB), %s, 1 core", eng_simd_variant_name(v));
  int rc = add(r, name, "GFLOP/s", "FMA peak, 1 core", dot, L1_REPS, peak, L1_REPS);
  if (rc || !have_bound) return rc;
  return add(r, name, "GFLOP/s", "load-port bound (L1 load bandwidth / 8 B per FLOP)", dot, L1_REPS,
             bound, L1_REPS);
}

/* ---- (c) dgemm ---- */

typedef struct peak_arg {
  long iters;
  double flops[1024];
} peak_arg;

static void peak_body(void *arg, long lo, long hi, int w) {
  peak_arg *pa = arg;
  for (long i = lo; i < hi; i++) {
    double f = 0;
    eng_simd_fma_loop(eng_simd_best(), pa->iters, &f);
    if (w < 1024) pa->flops[w] += f;
  }
}

static double peak_all(eng_pool *p) {
  peak_arg *pa = calloc(1, sizeof *pa);
  if (!pa) return 0;
  /* Long enough (tens of ms) that waking the pool's helpers is noise. */
  pa->iters = 20000000;
  int nt = eng_pool_size(p);
  eng_parallel_for(p, 0, nt, peak_body, pa); /* the helpers awake, the loop warm */
  memset(pa->flops, 0, sizeof pa->flops);
  uint64_t t0 = eng_now_ns();
  eng_parallel_for(p, 0, nt, peak_body, pa);
  double total = 0;
  for (int w = 0; w < nt && w < 1024; w++) total += pa->flops[w];
  double g = total / (double)(eng_now_ns() - t0);
  free(pa);
  return g;
}

static int bench_dgemm(bench_report *r) {
  int rc = eng_blas_init_measure(1536);
  if (rc) return rc;
  eng_blas_info I;
  eng_blas_get_info(&I);
  char name[96];
  if (I.dgemm_detected_gflops > 0 && I.dgemm_gflops > 0) {
    double a = I.dgemm_gflops, b = I.dgemm_detected_gflops;
    char ref[64];
    snprintf(ref, sizeof ref, "OpenBLAS's own pick (%s)", I.detected);
    snprintf(name, sizeof name, "dgemm 1536, 1 thread, core %s", I.core);
    if ((rc = add(r, name, "GFLOP/s", ref, &a, 1, &b, 1))) return rc;
  }
  eng_pool *p = eng_pool_default();
  if (!p) return PL_ENOMEM;
  const int n = 2048;
  size_t nn = (size_t)n * n;
  double *A = malloc(nn * sizeof *A), *B = malloc(nn * sizeof *B), *C = calloc(nn, sizeof *C);
  eng_cblas_dgemm_fn raw = eng_blas_raw_dgemm();
  if (!A || !B || !C || !raw) {
    rc = raw ? PL_ENOMEM : PL_ENOSYS;
    goto done;
  }
  for (size_t i = 0; i < nn; i++) A[i] = 1.0 / (double)(i % 31 + 1), B[i] = (double)(i % 7) - 3;
  double ours[REPS], direct[REPS], peak[REPS];
  const double flop = 2.0 * n * (double)n * n;
  eng_blas_dgemm(n, n, n, 1, A, B, 0, C); /* warm-up */
  for (int i = 0; i < REPS; i++) {
    uint64_t t0 = eng_now_ns();
    raw(101, 111, 111, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
    direct[i] = flop / (double)(eng_now_ns() - t0);
    t0 = eng_now_ns();
    eng_blas_dgemm(n, n, n, 1, A, B, 0, C);
    ours[i] = flop / (double)(eng_now_ns() - t0);
  }
  /* The peak after the dgemms, not between them: OpenBLAS's threads spin
   * for a while after each call (about 0.1 s) and would share the cores
   * with the FMA loop, halving the peak it finds. */
  {
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < REPS; i++) peak[i] = peak_all(p);
  snprintf(name, sizeof name, "dgemm %d via parlab, %d threads", n, I.threads);
  if ((rc = add(r, name, "GFLOP/s", "direct cblas_dgemm", ours, REPS, direct, REPS))) goto done;
  rc = add(r, name, "GFLOP/s", "FMA peak, all cores", ours, REPS, peak, REPS);
done:
  free(A), free(B), free(C);
  return rc;
}

/* ---- (d) teaching GEMMs ---- */

static int bench_teaching(bench_report *r) {
  const int n = 512;
  size_t nn = (size_t)n * n;
  int rc = 0;
  double *A = malloc(nn * sizeof *A), *B = malloc(nn * sizeof *B), *C = calloc(nn, sizeof *C);
  if (!A || !B || !C) {
    rc = PL_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < nn; i++) A[i] = 1.0 / (double)(i % 31 + 1), B[i] = (double)(i % 7) - 3;
  const double flop = 2.0 * n * (double)n * n;
  double ob[3];
  eng_gemm(ENG_GEMM_OPENBLAS, n, n, n, 1, A, B, 0, C, 0);
  for (int i = 0; i < 3; i++) {
    uint64_t t0 = eng_now_ns();
    eng_gemm(ENG_GEMM_OPENBLAS, n, n, n, 1, A, B, 0, C, 0);
    ob[i] = flop / (double)(eng_now_ns() - t0);
  }
  for (int v = ENG_GEMM_NAIVE; v < ENG_GEMM_OPENBLAS; v++) {
    int reps = v == ENG_GEMM_NAIVE ? 1 : 3;
    double g[3];
    for (int i = 0; i < reps; i++) {
      uint64_t t0 = eng_now_ns();
      if ((rc = eng_gemm((eng_gemm_variant)v, n, n, n, 1, A, B, 0, C, 0))) goto done;
      g[i] = flop / (double)(eng_now_ns() - t0);
    }
    char name[96];
    snprintf(name, sizeof name, "teaching gemm %s, n = %d", eng_gemm_name((eng_gemm_variant)v), n);
    if ((rc = add(r, name, "GFLOP/s", "OpenBLAS dgemm", g, reps, ob, 3))) goto done;
  }
done:
  free(A), free(B), free(C);
  return rc;
}

static int bench_simd_run(bench_report *r) {
  int rc = bench_dgemm(r); /* first: OpenBLAS must not be loaded yet */
  if (rc) return rc;
  if ((rc = bench_stream(r))) return rc;
  if ((rc = bench_l1(r))) return rc;
  return bench_teaching(r);
}

const bench_suite bench_suite_simd = {
    "simd",
    "SIMD kernels vs STREAM triad and FMA peak; OpenBLAS core type; dgemm; teaching GEMMs",
    bench_simd_run,
};
