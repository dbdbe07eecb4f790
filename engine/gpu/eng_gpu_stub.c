/*
 * eng_gpu_stub.c — the GPU backend of a build without CUDA (nvcc was not
 * found, or -DPARLAB_WITH_CUDA=OFF). Same functions as the CUDA files here;
 * each fails with PL_ENOSYS and one message, so every caller (engine.gpu,
 * the benchmarks, the tests) takes its "no device" path.
 */
#include <stddef.h>
#include <string.h>

#include "eng_gpu.h"
#include "pl_err.h"

/* The loader (eng_gpu_load.c) compiles this file again, as the fallback of
 * a build whose CUDA module cannot be loaded: it renames the functions,
 * makes them static and gives its own reason. */
#ifndef ENG_GPU_STUB_REASON
#define ENG_GPU_STUB_REASON "no CUDA device: no CUDA support in this build (parlab was configured without nvcc)"
#endif
#ifndef STUB
#define STUB(name) eng_gpu_##name
#define STUB_LINKAGE
#endif

static int no(void) { return PL_ENOSYS; }

STUB_LINKAGE int STUB(built)(void) { return 0; }
STUB_LINKAGE int STUB(available)(void) { return 0; }
STUB_LINKAGE const char *STUB(unavailable_reason)(void) { return ENG_GPU_STUB_REASON; }
STUB_LINKAGE const char *STUB(errmsg)(void) { return ENG_GPU_STUB_REASON; }

STUB_LINKAGE int STUB(get_info)(eng_gpu_info *out) {
  memset(out, 0, sizeof *out);
  return no();
}

STUB_LINKAGE int STUB(array_new)(eng_dtype t, long n, eng_gpu_array **out) {
  (void)t, (void)n;
  *out = NULL;
  return no();
}
STUB_LINKAGE void STUB(array_free)(eng_gpu_array *a) { (void)a; }
STUB_LINKAGE long STUB(array_len)(const eng_gpu_array *a) { (void)a; return 0; }
STUB_LINKAGE eng_dtype STUB(array_dtype)(const eng_gpu_array *a) { (void)a; return ENG_F64; }
STUB_LINKAGE size_t STUB(array_bytes)(const eng_gpu_array *a) { (void)a; return 0; }
STUB_LINKAGE void *STUB(array_ptr)(const eng_gpu_array *a) { (void)a; return NULL; }
STUB_LINKAGE int STUB(upload)(eng_gpu_array *d, long o, const void *s, long n) { (void)d, (void)o, (void)s, (void)n; return no(); }
STUB_LINKAGE int STUB(download)(const eng_gpu_array *s, long o, void *d, long n) { (void)d, (void)o, (void)s, (void)n; return no(); }
STUB_LINKAGE int STUB(copy)(eng_gpu_array *d, const eng_gpu_array *s, long n) { (void)d, (void)s, (void)n; return no(); }
STUB_LINKAGE int STUB(fill)(eng_gpu_array *a, double v) { (void)a, (void)v; return no(); }
STUB_LINKAGE int STUB(sync)(void) { return no(); }

STUB_LINKAGE int STUB(timer_new)(eng_gpu_timer **out) { *out = NULL; return no(); }
STUB_LINKAGE int STUB(timer_start)(eng_gpu_timer *t) { (void)t; return no(); }
STUB_LINKAGE int STUB(timer_stop)(eng_gpu_timer *t, double *s) { (void)t; *s = 0; return no(); }
STUB_LINKAGE void STUB(timer_free)(eng_gpu_timer *t) { (void)t; }

STUB_LINKAGE int STUB(vadd)(const eng_gpu_array *a, const eng_gpu_array *b, eng_gpu_array *c) {
  (void)a, (void)b, (void)c;
  return no();
}

static const char *const reduce_names[] = {"atomic", "shared", "shuffle", "cub"};
static const char *const mm_names[] = {"naive", "tiled", "cublas"};

/* Names parse without a device, so argument errors read the same. */
STUB_LINKAGE const char *STUB(reduce_name)(eng_gpu_reduce_variant v) {
  return (unsigned)v < ENG_GPU_REDUCE_NVARIANTS ? reduce_names[v] : "?";
}
STUB_LINKAGE int STUB(reduce_parse)(const char *name, eng_gpu_reduce_variant *out) {
  for (int i = 0; i < ENG_GPU_REDUCE_NVARIANTS; i++)
    if (name && !strcmp(name, reduce_names[i])) {
      *out = (eng_gpu_reduce_variant)i;
      return 0;
    }
  return PL_EINVAL;
}
STUB_LINKAGE int STUB(reduce)(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, eng_gpu_array *out) {
  (void)v, (void)x, (void)n, (void)out;
  return no();
}
STUB_LINKAGE int STUB(sum)(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, double *r) {
  (void)v, (void)x, (void)n;
  *r = 0;
  return no();
}

STUB_LINKAGE const char *STUB(mm_name)(eng_gpu_mm_variant v) {
  return (unsigned)v < ENG_GPU_MM_NVARIANTS ? mm_names[v] : "?";
}
STUB_LINKAGE int STUB(mm_parse)(const char *name, eng_gpu_mm_variant *out) {
  for (int i = 0; i < ENG_GPU_MM_NVARIANTS; i++)
    if (name && !strcmp(name, mm_names[i])) {
      *out = (eng_gpu_mm_variant)i;
      return 0;
    }
  return PL_EINVAL;
}
STUB_LINKAGE int STUB(matmul)(eng_gpu_mm_variant v, long m, long n, long k, const eng_gpu_array *A,
                   const eng_gpu_array *B, eng_gpu_array *C) {
  (void)v, (void)m, (void)n, (void)k, (void)A, (void)B, (void)C;
  return no();
}

STUB_LINKAGE int STUB(sgemm)(long m, long n, long k, float alpha, const eng_gpu_array *A,
                  const eng_gpu_array *B, float beta, eng_gpu_array *C) {
  (void)m, (void)n, (void)k, (void)alpha, (void)A, (void)B, (void)beta, (void)C;
  return no();
}
STUB_LINKAGE int STUB(dgemm)(long m, long n, long k, double alpha, const eng_gpu_array *A,
                  const eng_gpu_array *B, double beta, eng_gpu_array *C) {
  (void)m, (void)n, (void)k, (void)alpha, (void)A, (void)B, (void)beta, (void)C;
  return no();
}
STUB_LINKAGE int STUB(cublas_raw)(void **handle, eng_cublas_sgemm_fn *sgemm) {
  *handle = NULL;
  *sgemm = NULL;
  return no();
}

STUB_LINKAGE int STUB(transfer_measure)(size_t bytes, int reps, eng_gpu_transfer *out) {
  (void)bytes, (void)reps;
  memset(out, 0, sizeof *out);
  return no();
}
STUB_LINKAGE int STUB(overlap_demo)(long n, int streams, int chunks, eng_gpu_overlap *out) {
  (void)n, (void)streams, (void)chunks;
  memset(out, 0, sizeof *out);
  return no();
}
