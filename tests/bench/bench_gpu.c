/*
 * bench_gpu.c — the "gpu" suite: the engine's CUDA kernels against
 * references measured in the same run, on the same device, with CUDA
 * events (the GPU's own clock), interleaved A B A B, medians of REPS.
 *
 * (a) vector add f32, 2^26 elements (768 MiB touched): bandwidth against
 *     a device-to-device cudaMemcpy of the same elements, both counting
 *     bytes read plus bytes written (12 and 8 per element). Target >= 0.85.
 * (b) the three teaching reductions of 2^26 f32 against
 *     cub::DeviceReduce::Sum, in GB/s read. Target for `shuffle` >= 0.8;
 *     `shared` and `atomic` show what each step buys.
 * (c) sgemm 4096 through eng_gpu_sgemm against a direct cublasSgemm call
 *     on the same handle and data. Target >= 0.97.
 * (d) the teaching naive and tiled matrix products (2048, f32) as a
 *     fraction of cuBLAS sgemm.
 * (e) transfers: pageable host memory against pinned, each way; and the
 *     overlap demonstration (chunks in 4 streams) against the same work
 *     in order on one stream.
 *
 * Without a usable device (or in a build without CUDA) the suite says why
 * on stderr and reports nothing: `parlab bench` still runs the others.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "eng_gpu.h"
#include "eng_measure.h"
#include "pl_err.h"

#define REPS 7

static int add(bench_report *r, const char *name, const char *unit, const char *ref,
               const double *v, int nv, const double *rv, int nr, const char *better) {
  eng_stats so, sr;
  int rc = eng_stats_compute(v, nv, &so);
  if (!rc) rc = eng_stats_compute(rv, nr, &sr);
  if (rc) return rc;
  bench_result res;
  memset(&res, 0, sizeof res);
  snprintf(res.suite, sizeof res.suite, "gpu");
  snprintf(res.name, sizeof res.name, "%s", name);
  snprintf(res.unit, sizeof res.unit, "%s", unit);
  snprintf(res.reference, sizeof res.reference, "%s", ref);
  snprintf(res.better, sizeof res.better, "%s", better);
  res.value = so.median;
  res.spread = so.spread;
  res.reference_value = sr.median;
  res.ratio = sr.median > 0 ? so.median / sr.median : 0;
  return bench_report_add(r, &res);
}

static int fail(const char *what, int rc) {
  fprintf(stderr, "bench gpu: %s: %s\n", what, eng_gpu_errmsg());
  return rc;
}

/* Operations timed `inner` times between two events; seconds per op. */
typedef int (*op_fn)(void *arg);
static int time_op(eng_gpu_timer *t, op_fn op, void *arg, int inner, double *s) {
  int rc = eng_gpu_timer_start(t);
  for (int i = 0; i < inner && !rc; i++) rc = op(arg);
  double total = 0;
  if (!rc) rc = eng_gpu_timer_stop(t, &total);
  *s = total / inner;
  return rc;
}

typedef struct ops {
  eng_gpu_array *a, *b, *c, *out;
  long n;
  eng_gpu_reduce_variant rv;
  eng_gpu_mm_variant mv;
  void *handle;
  eng_cublas_sgemm_fn raw;
} ops;

static int op_vadd(void *p) { ops *o = p; return eng_gpu_vadd(o->a, o->b, o->c); }
static int op_copy(void *p) { ops *o = p; return eng_gpu_copy(o->c, o->a, o->n); }
static int op_reduce(void *p) { ops *o = p; return eng_gpu_reduce(o->rv, o->a, o->n, o->out); }
static int op_sgemm(void *p) {
  ops *o = p;
  return eng_gpu_sgemm(o->n, o->n, o->n, 1.0f, o->a, o->b, 0.0f, o->c);
}
static int op_raw_sgemm(void *p) {
  ops *o = p;
  const float one = 1, zero = 0;
  int n = (int)o->n;
  /* Row-major C = A B as cuBLAS sees it: C^T = B^T A^T, as parlab does. */
  return o->raw(o->handle, 0, 0, n, n, n, &one, eng_gpu_array_ptr(o->b), n, eng_gpu_array_ptr(o->a), n,
                &zero, eng_gpu_array_ptr(o->c), n)
             ? PL_EIO
             : 0;
}
static int op_matmul(void *p) {
  ops *o = p;
  return eng_gpu_matmul(o->mv, o->n, o->n, o->n, o->a, o->b, o->c);
}

static int bench_vadd_reduce(bench_report *r, eng_gpu_timer *t) {
  ops o = {.n = 1L << 26};
  int rc;
  char name[96];
  if ((rc = eng_gpu_array_new(ENG_F32, o.n, &o.a)) || (rc = eng_gpu_array_new(ENG_F32, o.n, &o.b)) ||
      (rc = eng_gpu_array_new(ENG_F32, o.n, &o.c)) || (rc = eng_gpu_array_new(ENG_F32, 1, &o.out))) {
    rc = fail("allocating 3 x 256 MiB", rc);
    goto done;
  }
  if ((rc = eng_gpu_fill(o.a, 0.5)) || (rc = eng_gpu_fill(o.b, 0.25))) {
    rc = fail("fill", rc);
    goto done;
  }
  /* (a) vector add against a device-to-device copy */
  double add_bw[REPS], copy_bw[REPS], s;
  time_op(t, op_vadd, &o, 2, &s); /* warm-up */
  time_op(t, op_copy, &o, 2, &s);
  for (int i = 0; i < REPS; i++) {
    if ((rc = time_op(t, op_vadd, &o, 10, &s))) { rc = fail("vector add", rc); goto done; }
    add_bw[i] = 12.0 * o.n / s / 1e9;
    if ((rc = time_op(t, op_copy, &o, 10, &s))) { rc = fail("device copy", rc); goto done; }
    copy_bw[i] = 8.0 * o.n / s / 1e9;
  }
  snprintf(name, sizeof name, "vector add f32, 2^26 elements");
  if ((rc = add(r, name, "GB/s", "device-to-device cudaMemcpy", add_bw, REPS, copy_bw, REPS, "higher")))
    goto done;

  /* (b) reductions against CUB; atomic is slow, so fewer of its runs */
  for (int v = ENG_GPU_REDUCE_SHUFFLE; v >= ENG_GPU_REDUCE_ATOMIC; v--) {
    double bw[REPS], cub[REPS];
    int reps = v == ENG_GPU_REDUCE_ATOMIC ? 3 : REPS, inner = v == ENG_GPU_REDUCE_ATOMIC ? 1 : 10;
    o.rv = ENG_GPU_REDUCE_CUB;
    time_op(t, op_reduce, &o, 1, &s);
    o.rv = (eng_gpu_reduce_variant)v;
    time_op(t, op_reduce, &o, 1, &s);
    for (int i = 0; i < reps; i++) {
      o.rv = (eng_gpu_reduce_variant)v;
      if ((rc = time_op(t, op_reduce, &o, inner, &s))) { rc = fail("reduce", rc); goto done; }
      bw[i] = 4.0 * o.n / s / 1e9;
      o.rv = ENG_GPU_REDUCE_CUB;
      if ((rc = time_op(t, op_reduce, &o, 10, &s))) { rc = fail("reduce (cub)", rc); goto done; }
      cub[i] = 4.0 * o.n / s / 1e9;
    }
    snprintf(name, sizeof name, "sum f32 (%s), 2^26 elements", eng_gpu_reduce_name((eng_gpu_reduce_variant)v));
    if ((rc = add(r, name, "GB/s", "cub::DeviceReduce::Sum", bw, reps, cub, reps, "higher"))) goto done;
  }
  /* The sum itself must be right: 2^26 * 0.5 is exact in float. */
  double sum = 0;
  if ((rc = eng_gpu_sum(ENG_GPU_REDUCE_SHUFFLE, o.a, o.n, &sum))) { rc = fail("sum", rc); goto done; }
  if (sum != 0.5 * (double)o.n) {
    fprintf(stderr, "bench gpu: wrong sum %.17g, expected %.17g\n", sum, 0.5 * (double)o.n);
    rc = PL_EIO;
  }
done:
  eng_gpu_array_free(o.a);
  eng_gpu_array_free(o.b);
  eng_gpu_array_free(o.c);
  eng_gpu_array_free(o.out);
  return rc;
}

static int bench_gemm(bench_report *r, eng_gpu_timer *t) {
  ops o = {.n = 4096};
  int rc;
  char name[96];
  long nn = o.n * o.n;
  if ((rc = eng_gpu_array_new(ENG_F32, nn, &o.a)) || (rc = eng_gpu_array_new(ENG_F32, nn, &o.b)) ||
      (rc = eng_gpu_array_new(ENG_F32, nn, &o.c))) {
    rc = fail("allocating 3 x 64 MiB", rc);
    goto done;
  }
  if ((rc = eng_gpu_fill(o.a, 0.001)) || (rc = eng_gpu_fill(o.b, 0.002))) { rc = fail("fill", rc); goto done; }
  if ((rc = eng_gpu_cublas_raw(&o.handle, &o.raw))) { rc = fail("cuBLAS", rc); goto done; }
  /* (c) parlab's sgemm against the direct call */
  double ours[REPS], direct[REPS], s;
  double flop = 2.0 * o.n * o.n * o.n;
  if ((rc = time_op(t, op_sgemm, &o, 2, &s)) || (rc = time_op(t, op_raw_sgemm, &o, 2, &s))) {
    rc = fail("sgemm warm-up", rc);
    goto done;
  }
  for (int i = 0; i < REPS; i++) {
    if ((rc = time_op(t, op_raw_sgemm, &o, 5, &s))) { rc = fail("direct cublasSgemm", rc); goto done; }
    direct[i] = flop / s / 1e9;
    if ((rc = time_op(t, op_sgemm, &o, 5, &s))) { rc = fail("sgemm", rc); goto done; }
    ours[i] = flop / s / 1e9;
  }
  snprintf(name, sizeof name, "sgemm %ld via parlab (cuBLAS)", o.n);
  if ((rc = add(r, name, "GFLOP/s", "direct cublasSgemm", ours, REPS, direct, REPS, "higher"))) goto done;

  /* (d) the teaching products at 2048 (the leading 2048 x 2048 of the arrays) */
  o.n = 2048;
  flop = 2.0 * o.n * o.n * o.n;
  double blas[REPS];
  for (int i = 0; i < REPS; i++) {
    if ((rc = time_op(t, op_sgemm, &o, 3, &s))) { rc = fail("sgemm", rc); goto done; }
    blas[i] = flop / s / 1e9;
  }
  for (int v = ENG_GPU_MM_NAIVE; v <= ENG_GPU_MM_TILED; v++) {
    double g[REPS];
    o.mv = (eng_gpu_mm_variant)v;
    time_op(t, op_matmul, &o, 1, &s);
    for (int i = 0; i < REPS; i++) {
      if ((rc = time_op(t, op_matmul, &o, 3, &s))) { rc = fail("matmul", rc); goto done; }
      g[i] = flop / s / 1e9;
    }
    snprintf(name, sizeof name, "teaching matmul %s, n = %ld", eng_gpu_mm_name(o.mv), o.n);
    if ((rc = add(r, name, "GFLOP/s", "cuBLAS sgemm", g, REPS, blas, REPS, "higher"))) goto done;
  }
done:
  eng_gpu_array_free(o.a);
  eng_gpu_array_free(o.b);
  eng_gpu_array_free(o.c);
  return rc;
}

static int bench_transfers(bench_report *r) {
  eng_gpu_transfer T;
  int rc = eng_gpu_transfer_measure(256L << 20, REPS, &T);
  if (rc) return fail("transfers", rc);
  double v[1], ref[1];
  v[0] = T.h2d_pageable, ref[0] = T.h2d_pinned;
  if ((rc = add(r, "host to device, pageable, 256 MiB", "GB/s", "pinned (cudaMallocHost)", v, 1, ref, 1,
                "higher")))
    return rc;
  v[0] = T.d2h_pageable, ref[0] = T.d2h_pinned;
  if ((rc = add(r, "device to host, pageable, 256 MiB", "GB/s", "pinned (cudaMallocHost)", v, 1, ref, 1,
                "higher")))
    return rc;
  double ov[3], se[3];
  for (int i = 0; i < 3; i++) {
    eng_gpu_overlap O;
    if ((rc = eng_gpu_overlap_demo(1L << 25, 4, 16, &O))) return fail("overlap", rc);
    ov[i] = O.overlapped_s * 1e3;
    se[i] = O.serial_s * 1e3;
  }
  return add(r, "copy + kernel + copy, 16 chunks in 4 streams", "ms", "in order on one stream", ov, 3, se, 3,
             "lower");
}

static int bench_gpu_run(bench_report *r) {
  if (!eng_gpu_available()) {
    fprintf(stderr, "bench gpu: skipped: %s\n", eng_gpu_unavailable_reason());
    return 0;
  }
  eng_gpu_info I;
  eng_gpu_timer *t = NULL;
  int rc = eng_gpu_get_info(&I);
  if (rc) return fail("device query", rc);
  fprintf(stderr, "bench gpu: %s, compute capability %d.%d, %d SMs, %.0f GB/s peak memory bandwidth\n",
          I.name, I.cc_major, I.cc_minor, I.sm_count, I.mem_bw_gbs);
  if ((rc = eng_gpu_timer_new(&t))) return fail("timer", rc);
  if (!(rc = bench_vadd_reduce(r, t)) && !(rc = bench_gemm(r, t))) rc = bench_transfers(r);
  eng_gpu_timer_free(t);
  return rc;
}

const bench_suite bench_suite_gpu = {
    "gpu",
    "CUDA kernels vs device copy, CUB and cuBLAS; transfers; stream overlap",
    bench_gpu_run,
};
