/*
 * test_gpu_device.c — the GPU backend on a real device (ctest label gpu).
 * Exits 77, which ctest reports as skipped, with the reason on stdout,
 * where no CUDA device can be used (no GPU, no driver, a build without
 * CUDA, or PARLAB_NO_GPU=1).
 *
 * The device check runs in a forked child: CUDA may not be used in a
 * child forked after the parent initialised it, and every test case below
 * runs in its own forked child (pl_test.h).
 *
 * Covered: the device query, arrays and transfers (bounds, offsets, empty
 * arrays, every dtype), vector add, the four reductions on f32 and f64 at
 * awkward sizes, the naive, tiled and cuBLAS products and dgemm against a
 * double-precision host product, error messages for bad arguments and for
 * an allocation that cannot succeed, timers, transfers and the overlap
 * demo, and engine.gpu from Lua.
 */
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eng_gpu.h"
#include "lx.h"
#include "pl_err.h"
#include "pl_test.h"

#define CK(call)                                                             \
  do {                                                                       \
    int ck_ = (call);                                                        \
    if (ck_) PT_FAIL_("%s: %s (%s)", #call, pl_strerror(ck_), eng_gpu_errmsg()); \
  } while (0)

/* Deterministic values in [-1, 1). */
static double val(long i, int seed) {
  unsigned long long h = (unsigned long long)(i + 1) * 0x9E3779B97F4A7C15ULL + (unsigned long long)seed * 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 31;
  h *= 0x94D049BB133111EBULL;
  h ^= h >> 29;
  return (double)(h >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static void test_info(void) {
  eng_gpu_info I;
  CK(eng_gpu_get_info(&I));
  PT_TRUE(I.name[0] != 0);
  PT_TRUE(I.count >= 1);
  PT_TRUE(I.cc_major >= 7); /* CUDA 13 supports Turing (7.5) and later */
  PT_TRUE(I.sm_count >= 1);
  PT_EQ_INT(I.warp_size, 32);
  PT_TRUE(I.max_threads_per_block >= 1024);
  PT_TRUE(I.mem_total > ((size_t)1 << 30));
  PT_TRUE(I.mem_free > 0 && I.mem_free <= I.mem_total);
  PT_TRUE(I.clock_khz > 0 && I.mem_clock_khz > 0 && I.bus_width_bits > 0);
  PT_TRUE(I.mem_bw_gbs > 50);
  PT_TRUE(I.runtime_version >= 12000 && I.driver_version >= I.runtime_version);
  PT_EQ_STR(eng_gpu_unavailable_reason(), "");
  printf("  %s: cc %d.%d, %d SMs, %.1f GiB, %.0f GB/s peak, %d copy engines\n", I.name, I.cc_major,
         I.cc_minor, I.sm_count, I.mem_total / 1073741824.0, I.mem_bw_gbs, I.copy_engines);
}

static void test_arrays(void) {
  const long n = 1000003;
  double *h = malloc(n * sizeof *h), *back = malloc(n * sizeof *back);
  PT_TRUE(h && back);
  for (long i = 0; i < n; i++) h[i] = val(i, 1);
  eng_gpu_array *d = NULL;
  CK(eng_gpu_array_new(ENG_F64, n, &d));
  PT_EQ_INT(eng_gpu_array_len(d), n);
  PT_EQ_INT(eng_gpu_array_dtype(d), ENG_F64);
  PT_EQ_INT(eng_gpu_array_bytes(d), n * 8);
  /* new arrays are zeroed */
  CK(eng_gpu_download(d, 0, back, n));
  for (long i = 0; i < n; i += 9973) PT_NEAR(back[i], 0, 0);
  CK(eng_gpu_upload(d, 0, h, n));
  CK(eng_gpu_download(d, 0, back, n));
  PT_TRUE(memcmp(h, back, n * sizeof *h) == 0);
  /* offsets: write 10 values at 500, read them back from 495 */
  double ten[10], got[20];
  for (int i = 0; i < 10; i++) ten[i] = 100 + i;
  CK(eng_gpu_upload(d, 500, ten, 10));
  CK(eng_gpu_download(d, 495, got, 20));
  PT_NEAR(got[4], h[499], 0);
  for (int i = 0; i < 10; i++) PT_NEAR(got[5 + i], 100 + i, 0);
  PT_NEAR(got[15], h[510], 0);
  /* out of range */
  PT_EQ_INT(eng_gpu_upload(d, n - 5, ten, 10), PL_EINVAL);
  PT_CONTAINS(eng_gpu_errmsg(), "outside the device array");
  PT_EQ_INT(eng_gpu_download(d, -1, got, 1), PL_EINVAL);
  /* device copy and fill, other dtypes */
  eng_gpu_array *e = NULL, *f = NULL, *i64 = NULL;
  CK(eng_gpu_array_new(ENG_F64, n, &e));
  CK(eng_gpu_copy(e, d, n));
  CK(eng_gpu_download(e, 0, back, n));
  PT_NEAR(back[n - 1], h[n - 1], 0);
  CK(eng_gpu_array_new(ENG_F32, 7, &f));
  PT_EQ_INT(eng_gpu_copy(f, d, 7), PL_EINVAL); /* different types */
  CK(eng_gpu_fill(f, 2.5));
  float ff[7];
  CK(eng_gpu_download(f, 0, ff, 7));
  for (int i = 0; i < 7; i++) PT_NEAR(ff[i], 2.5, 0);
  CK(eng_gpu_array_new(ENG_I64, 3, &i64));
  CK(eng_gpu_fill(i64, -3.9)); /* truncates toward zero */
  long long ii[3];
  CK(eng_gpu_download(i64, 0, ii, 3));
  PT_EQ_INT(ii[2], -3);
  /* empty arrays */
  eng_gpu_array *z = NULL;
  CK(eng_gpu_array_new(ENG_F32, 0, &z));
  PT_TRUE(eng_gpu_array_ptr(z) == NULL);
  CK(eng_gpu_upload(z, 0, NULL, 0));
  CK(eng_gpu_download(z, 0, NULL, 0));
  PT_EQ_INT(eng_gpu_array_new(ENG_F32, -1, &z), PL_EINVAL);
  PT_TRUE(z == NULL);
  eng_gpu_array_free(d);
  eng_gpu_array_free(e);
  eng_gpu_array_free(f);
  eng_gpu_array_free(i64);
  free(h);
  free(back);
}

static void test_out_of_memory(void) {
  eng_gpu_array *a = NULL;
  /* 2^43 doubles: 64 TiB, more than any GPU has. */
  PT_EQ_INT(eng_gpu_array_new(ENG_F64, 1L << 43, &a), PL_ENOMEM);
  PT_TRUE(a == NULL);
  PT_CONTAINS(eng_gpu_errmsg(), "cudaMalloc");
  PT_CONTAINS(eng_gpu_errmsg(), "cudaErrorMemoryAllocation");
  /* ... and the device still works afterwards. */
  CK(eng_gpu_array_new(ENG_F32, 10, &a));
  CK(eng_gpu_sync());
  eng_gpu_array_free(a);
}

static void test_vadd(void) {
  static const long sizes[] = {1, 255, 256, 257, 1000003};
  for (int t = 0; t < 2; t++) {
    eng_dtype dt = t ? ENG_F64 : ENG_F32;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
      long n = sizes[s];
      size_t es = dt == ENG_F32 ? 4 : 8;
      char *ha = malloc(n * es), *hb = malloc(n * es), *hc = malloc(n * es);
      for (long i = 0; i < n; i++) {
        if (dt == ENG_F32) ((float *)ha)[i] = (float)val(i, 2), ((float *)hb)[i] = (float)val(i, 3);
        else ((double *)ha)[i] = val(i, 2), ((double *)hb)[i] = val(i, 3);
      }
      eng_gpu_array *a, *b, *c;
      CK(eng_gpu_array_new(dt, n, &a));
      CK(eng_gpu_array_new(dt, n, &b));
      CK(eng_gpu_array_new(dt, n, &c));
      CK(eng_gpu_upload(a, 0, ha, n));
      CK(eng_gpu_upload(b, 0, hb, n));
      CK(eng_gpu_vadd(a, b, c));
      CK(eng_gpu_sync());
      CK(eng_gpu_download(c, 0, hc, n));
      for (long i = 0; i < n; i++) {
        if (dt == ENG_F32) {
          float want = ((float *)ha)[i] + ((float *)hb)[i];
          if (((float *)hc)[i] != want) PT_FAIL_("f32 n = %ld, c[%ld] = %g, want %g", n, i, ((float *)hc)[i], want);
        } else {
          double want = ((double *)ha)[i] + ((double *)hb)[i];
          if (((double *)hc)[i] != want) PT_FAIL_("f64 n = %ld, c[%ld] = %g, want %g", n, i, ((double *)hc)[i], want);
        }
      }
      eng_gpu_array_free(a), eng_gpu_array_free(b), eng_gpu_array_free(c);
      free(ha), free(hb), free(hc);
    }
  }
  /* wrong types and lengths are refused with a message */
  eng_gpu_array *x, *y;
  CK(eng_gpu_array_new(ENG_F32, 10, &x));
  CK(eng_gpu_array_new(ENG_F64, 10, &y));
  PT_EQ_INT(eng_gpu_vadd(x, x, y), PL_EINVAL);
  PT_CONTAINS(eng_gpu_errmsg(), "vector add");
  eng_gpu_array_free(y);
  CK(eng_gpu_array_new(ENG_F32, 11, &y));
  PT_EQ_INT(eng_gpu_vadd(x, x, y), PL_EINVAL);
  eng_gpu_array_free(x), eng_gpu_array_free(y);
}

static void test_reductions(void) {
  static const long sizes[] = {0, 1, 2, 3, 31, 511, 512, 513, 100003, (1L << 22) + 5};
  const long nmax = (1L << 22) + 5;
  double *h = malloc(nmax * sizeof *h);
  float *hf = malloc(nmax * sizeof *hf);
  for (long i = 0; i < nmax; i++) h[i] = val(i, 4), hf[i] = (float)h[i];
  eng_gpu_array *xd, *xf;
  CK(eng_gpu_array_new(ENG_F64, nmax, &xd));
  CK(eng_gpu_array_new(ENG_F32, nmax, &xf));
  CK(eng_gpu_upload(xd, 0, h, nmax));
  CK(eng_gpu_upload(xf, 0, hf, nmax));
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    long n = sizes[s];
    double want = 0, abs = 0, wantf = 0;
    for (long i = 0; i < n; i++) want += h[i], abs += fabs(h[i]), wantf += hf[i];
    for (int v = 0; v < ENG_GPU_REDUCE_NVARIANTS; v++) {
      double got;
      CK(eng_gpu_sum((eng_gpu_reduce_variant)v, xd, n, &got));
      if (!(fabs(got - want) <= 1e-13 * abs + 1e-300))
        PT_FAIL_("f64 %s n = %ld: %.17g, want %.17g", eng_gpu_reduce_name(v), n, got, want);
      CK(eng_gpu_sum((eng_gpu_reduce_variant)v, xf, n, &got));
      if (!(fabs(got - wantf) <= 1e-5 * abs + 1e-30))
        PT_FAIL_("f32 %s n = %ld: %.9g, want %.9g", eng_gpu_reduce_name(v), n, got, wantf);
    }
  }
  /* deterministic variants give the same bits twice */
  double a1, a2;
  CK(eng_gpu_sum(ENG_GPU_REDUCE_SHUFFLE, xf, nmax, &a1));
  CK(eng_gpu_sum(ENG_GPU_REDUCE_SHUFFLE, xf, nmax, &a2));
  PT_TRUE(a1 == a2);
  double bad;
  PT_EQ_INT(eng_gpu_sum(ENG_GPU_REDUCE_CUB, xf, nmax + 1, &bad), PL_EINVAL);
  eng_gpu_array_free(xd), eng_gpu_array_free(xf);
  free(h), free(hf);
}

/* C = A B on the host in double (row-major). */
static void host_mm(long m, long n, long k, const float *A, const float *B, double *C) {
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) {
      double s = 0;
      for (long p = 0; p < k; p++) s += (double)A[i * k + p] * B[p * n + j];
      C[i * n + j] = s;
    }
}

static void test_matmul(void) {
  static const long dims[][3] = {{1, 1, 1}, {33, 17, 65}, {100, 200, 50}, {257, 129, 300}, {64, 64, 64}, {5, 7, 0}};
  for (size_t d = 0; d < sizeof dims / sizeof *dims; d++) {
    long m = dims[d][0], n = dims[d][1], k = dims[d][2];
    float *A = malloc((m * k + 1) * 4), *B = malloc((k * n + 1) * 4), *C = malloc(m * n * 4);
    double *W = malloc(m * n * 8);
    for (long i = 0; i < m * k; i++) A[i] = (float)val(i, 5);
    for (long i = 0; i < k * n; i++) B[i] = (float)val(i, 6);
    host_mm(m, n, k, A, B, W);
    eng_gpu_array *dA, *dB, *dC;
    CK(eng_gpu_array_new(ENG_F32, m * k, &dA));
    CK(eng_gpu_array_new(ENG_F32, k * n, &dB));
    CK(eng_gpu_array_new(ENG_F32, m * n, &dC));
    CK(eng_gpu_upload(dA, 0, A, m * k));
    CK(eng_gpu_upload(dB, 0, B, k * n));
    for (int v = 0; v < ENG_GPU_MM_NVARIANTS; v++) {
      CK(eng_gpu_fill(dC, 12345.0)); /* every element must be overwritten */
      CK(eng_gpu_matmul((eng_gpu_mm_variant)v, m, n, k, dA, dB, dC));
      CK(eng_gpu_download(dC, 0, C, m * n));
      for (long i = 0; i < m * n; i++)
        if (!(fabs(C[i] - W[i]) <= 1e-5 * (k + 1)))
          PT_FAIL_("%s %ldx%ldx%ld: C[%ld] = %.9g, want %.9g", eng_gpu_mm_name(v), m, n, k, i, C[i], W[i]);
    }
    /* sgemm with alpha and beta: C = 2 A B - C */
    CK(eng_gpu_upload(dC, 0, C, m * n));
    CK(eng_gpu_sgemm(m, n, k, 2.0f, dA, dB, -1.0f, dC));
    float *C2 = malloc(m * n * 4);
    CK(eng_gpu_download(dC, 0, C2, m * n));
    for (long i = 0; i < m * n; i++)
      if (!(fabs(C2[i] - (2 * W[i] - C[i])) <= 1e-5 * (k + 1)))
        PT_FAIL_("sgemm alpha/beta %ldx%ldx%ld: C[%ld] = %.9g, want %.9g", m, n, k, i, C2[i], 2 * W[i] - C[i]);
    eng_gpu_array_free(dA), eng_gpu_array_free(dB), eng_gpu_array_free(dC);
    free(A), free(B), free(C), free(C2), free(W);
  }
  /* dgemm */
  const long m = 70, n = 50, k = 90;
  double *A = malloc(m * k * 8), *B = malloc(k * n * 8), *C = malloc(m * n * 8);
  for (long i = 0; i < m * k; i++) A[i] = val(i, 7);
  for (long i = 0; i < k * n; i++) B[i] = val(i, 8);
  eng_gpu_array *dA, *dB, *dC;
  CK(eng_gpu_array_new(ENG_F64, m * k, &dA));
  CK(eng_gpu_array_new(ENG_F64, k * n, &dB));
  CK(eng_gpu_array_new(ENG_F64, m * n, &dC));
  CK(eng_gpu_upload(dA, 0, A, m * k));
  CK(eng_gpu_upload(dB, 0, B, k * n));
  CK(eng_gpu_dgemm(m, n, k, 1.0, dA, dB, 0.0, dC));
  CK(eng_gpu_download(dC, 0, C, m * n));
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) {
      double s = 0;
      for (long p = 0; p < k; p++) s += A[i * k + p] * B[p * n + j];
      PT_NEAR(C[i * n + j], s, 1e-12 * k);
    }
  /* argument errors */
  PT_EQ_INT(eng_gpu_matmul(ENG_GPU_MM_TILED, m, n, k, dA, dB, dC), PL_EINVAL); /* f64 */
  PT_CONTAINS(eng_gpu_errmsg(), "needs f32 arrays");
  PT_EQ_INT(eng_gpu_dgemm(m + 1, n, k, 1.0, dA, dB, 0.0, dC), PL_EINVAL);
  PT_CONTAINS(eng_gpu_errmsg(), "arrays too small");
  eng_gpu_array_free(dA), eng_gpu_array_free(dB), eng_gpu_array_free(dC);
  free(A), free(B), free(C);
}

static void test_timer_transfers_overlap(void) {
  eng_gpu_timer *t;
  eng_gpu_array *a;
  double s;
  CK(eng_gpu_timer_new(&t));
  PT_EQ_INT(eng_gpu_timer_stop(t, &s), PL_EINVAL); /* not started */
  CK(eng_gpu_array_new(ENG_F32, 1 << 24, &a));
  CK(eng_gpu_timer_start(t));
  CK(eng_gpu_fill(a, 1.0));
  CK(eng_gpu_timer_stop(t, &s));
  PT_TRUE(s > 0 && s < 10);
  eng_gpu_timer_free(t);
  eng_gpu_array_free(a);

  eng_gpu_transfer T;
  CK(eng_gpu_transfer_measure(16 << 20, 3, &T));
  PT_TRUE(T.h2d_pageable > 0 && T.h2d_pinned > 0 && T.d2h_pageable > 0 && T.d2h_pinned > 0 && T.d2d > 0);
  printf("  transfers (GB/s): h2d %.1f pageable, %.1f pinned; d2h %.1f pageable, %.1f pinned; d2d %.0f\n",
         T.h2d_pageable, T.h2d_pinned, T.d2h_pageable, T.d2h_pinned, T.d2d);
  PT_EQ_INT(eng_gpu_transfer_measure(10, 3, &T), PL_EINVAL);

  eng_gpu_overlap O;
  CK(eng_gpu_overlap_demo(1 << 22, 4, 16, &O)); /* also checks both runs agree */
  PT_TRUE(O.serial_s > 0 && O.overlapped_s > 0 && O.h2d_s > 0 && O.kernel_s > 0 && O.d2h_s > 0);
  PT_NEAR(O.speedup, O.serial_s / O.overlapped_s, 1e-12);
  printf("  overlap: in order %.2f ms, 4 streams %.2f ms (%.2fx), %d copy engines\n", O.serial_s * 1e3,
         O.overlapped_s * 1e3, O.speedup, O.copy_engines);
  PT_EQ_INT(eng_gpu_overlap_demo(1 << 22, 0, 16, &O), PL_EINVAL);
}

static void run_ok(lua_State *L, const char *code) {
  char *err = NULL;
  if (lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("Lua: %s", err ? err : "?");
}

static void run_err(lua_State *L, const char *code, const char *needle) {
  char *err = NULL;
  if (!lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("expected an error from: %s", code);
  PT_CONTAINS(err, needle);
  free(err);
}

static void test_lua(void) {
  lua_State *L = NULL;
  lx_limits lim = {.mem_bytes = 0, .seconds = 120};
  PT_EQ_INT(lx_open(&lim, &L), 0);
  run_ok(L,
         "assert(engine.gpu.available() == true)\n"
         "local I = engine.gpu.info()\n"
         "assert(#I.name > 0 and I.sm_count > 0 and I.warp_size == 32 and I.cc:match('^%d+%.%d+$'))\n"
         "local x = engine.array.random('f32', 100003, { seed = 3, lo = -1, hi = 1 })\n"
         "local d = engine.gpu.array(x)\n"
         "assert(engine.gpu.is_array(d) and #d == 100003 and d:dtype() == 'f32')\n"
         "assert(tostring(d) == 'gpu array<f32>[100003]')\n"
         "local back = d:host()\n"
         "for i = 1, #x, 997 do assert(back[i] == x[i]) end\n"
         "for _, v in ipairs(engine.gpu.sum_variants) do\n"
         "  local s = engine.gpu.sum(d, { variant = v })\n"
         "  assert(math.abs(s - x:sum()) < 5e-2, v .. ': ' .. s .. ' vs ' .. x:sum())\n"
         "end\n"
         "assert(math.abs(engine.gpu.sum(x) - x:sum()) < 5e-2) -- a host array works too\n"
         "local y = engine.gpu.add(x, x)  -- host in, host out\n"
         "assert(not engine.gpu.is_array(y) and y[7] == x[7] + x[7])\n"
         "local dy = engine.gpu.add(d, d) -- device in, device out\n"
         "assert(engine.gpu.is_array(dy) and dy:host()[7] == x[7] + x[7])\n"
         "local n = 65\n"
         "local A = engine.array.random('f32', n * n, { seed = 4, lo = -1, hi = 1 })\n"
         "local B = engine.array.random('f32', n * n, { seed = 5, lo = -1, hi = 1 })\n"
         "local want = engine.array.zeros('f32', n * n)\n"
         "engine.blas.sgemm(A, B, want, n, n, n)\n"
         "for _, v in ipairs(engine.gpu.matmul_variants) do\n"
         "  local C = engine.array.zeros('f32', n * n)\n"
         "  engine.gpu.matmul(A, B, C, n, n, n, { variant = v })\n"
         "  for i = 1, n * n do assert(math.abs(C[i] - want[i]) < 1e-4, v) end\n"
         "end\n"
         "local C = engine.array.zeros('f32', n * n)\n"
         "engine.gpu.sgemm(A, B, C, n, n, n)\n"
         "for i = 1, n * n do assert(math.abs(C[i] - want[i]) < 1e-4) end\n"
         "d:free()\n"
         "assert(tostring(d) == 'gpu array (freed)')\n");
  run_err(L, "local d = engine.gpu.zeros('f32', 4); d:free(); d:host()", "engine.gpu.host: the array has been freed");
  run_err(L, "engine.gpu.zeros('f16', 4)", "unknown array type 'f16'");
  run_err(L, "engine.gpu.sum(engine.array.zeros('f32', 4), { variant = 'tree' })", "no variant 'tree'");
  run_err(L, "engine.gpu.sum(42)", "snippet.lua:1: engine.gpu.sum: x must be an engine array or a device array");
  run_err(L, "local a = engine.gpu.zeros('f32', 4); engine.gpu.add(a, engine.gpu.zeros('f64', 4))",
          "engine.gpu.add: vector add: needs f32 or f64 arrays of one type");
  run_err(L, "local x = engine.array.zeros('f32', 4); engine.gpu.matmul(x, x, x, 3, 3, 3)",
          "arrays too small for m = 3, n = 3, k = 3");
  run_err(L, "local d = engine.gpu.zeros('f32', 4); d:download(engine.array.zeros('f64', 4))",
          "the host array is f64, the device array f32");
  lx_close(L);
}

int main(int argc, char **argv) {
  /* Probe in a child: a parent that initialised CUDA must not fork CUDA users. */
  int st = 0;
  pid_t pid = fork();
  if (pid == 0) _exit(eng_gpu_available() ? 0 : 1);
  if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    /* Reading the reason does not touch the GPU when there is none. */
    printf("SKIP: %s\n", eng_gpu_unavailable_reason());
    return 77;
  }
  static const pt_case cases[] = {
      PT_CASE(test_info),    PT_CASE(test_arrays),     PT_CASE(test_out_of_memory),
      PT_CASE(test_vadd),    PT_CASE(test_reductions), PT_CASE_T(test_matmul, 120),
      PT_CASE_T(test_timer_transfers_overlap, 120), PT_CASE_T(test_lua, 180), {0}};
  return pt_main(argc, argv, cases);
}
