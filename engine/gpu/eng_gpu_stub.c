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

#define NO_CUDA "no CUDA device: no CUDA support in this build (parlab was configured without nvcc)"

static int no(void) { return PL_ENOSYS; }

int eng_gpu_built(void) { return 0; }
int eng_gpu_available(void) { return 0; }
const char *eng_gpu_unavailable_reason(void) { return NO_CUDA; }
const char *eng_gpu_errmsg(void) { return NO_CUDA; }

int eng_gpu_get_info(eng_gpu_info *out) {
  memset(out, 0, sizeof *out);
  return no();
}

int eng_gpu_array_new(eng_dtype t, long n, eng_gpu_array **out) {
  (void)t, (void)n;
  *out = NULL;
  return no();
}
void eng_gpu_array_free(eng_gpu_array *a) { (void)a; }
long eng_gpu_array_len(const eng_gpu_array *a) { (void)a; return 0; }
eng_dtype eng_gpu_array_dtype(const eng_gpu_array *a) { (void)a; return ENG_F64; }
size_t eng_gpu_array_bytes(const eng_gpu_array *a) { (void)a; return 0; }
void *eng_gpu_array_ptr(const eng_gpu_array *a) { (void)a; return NULL; }
int eng_gpu_upload(eng_gpu_array *d, long o, const void *s, long n) { (void)d, (void)o, (void)s, (void)n; return no(); }
int eng_gpu_download(const eng_gpu_array *s, long o, void *d, long n) { (void)d, (void)o, (void)s, (void)n; return no(); }
int eng_gpu_copy(eng_gpu_array *d, const eng_gpu_array *s, long n) { (void)d, (void)s, (void)n; return no(); }
int eng_gpu_fill(eng_gpu_array *a, double v) { (void)a, (void)v; return no(); }
int eng_gpu_sync(void) { return no(); }

int eng_gpu_timer_new(eng_gpu_timer **out) { *out = NULL; return no(); }
int eng_gpu_timer_start(eng_gpu_timer *t) { (void)t; return no(); }
int eng_gpu_timer_stop(eng_gpu_timer *t, double *s) { (void)t; *s = 0; return no(); }
void eng_gpu_timer_free(eng_gpu_timer *t) { (void)t; }

int eng_gpu_vadd(const eng_gpu_array *a, const eng_gpu_array *b, eng_gpu_array *c) {
  (void)a, (void)b, (void)c;
  return no();
}

static const char *const reduce_names[] = {"atomic", "shared", "shuffle", "cub"};
static const char *const mm_names[] = {"naive", "tiled", "cublas"};

/* Names parse without a device, so argument errors read the same. */
const char *eng_gpu_reduce_name(eng_gpu_reduce_variant v) {
  return (unsigned)v < ENG_GPU_REDUCE_NVARIANTS ? reduce_names[v] : "?";
}
int eng_gpu_reduce_parse(const char *name, eng_gpu_reduce_variant *out) {
  for (int i = 0; i < ENG_GPU_REDUCE_NVARIANTS; i++)
    if (name && !strcmp(name, reduce_names[i])) {
      *out = (eng_gpu_reduce_variant)i;
      return 0;
    }
  return PL_EINVAL;
}
int eng_gpu_reduce(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, eng_gpu_array *out) {
  (void)v, (void)x, (void)n, (void)out;
  return no();
}
int eng_gpu_sum(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, double *r) {
  (void)v, (void)x, (void)n;
  *r = 0;
  return no();
}

const char *eng_gpu_mm_name(eng_gpu_mm_variant v) {
  return (unsigned)v < ENG_GPU_MM_NVARIANTS ? mm_names[v] : "?";
}
int eng_gpu_mm_parse(const char *name, eng_gpu_mm_variant *out) {
  for (int i = 0; i < ENG_GPU_MM_NVARIANTS; i++)
    if (name && !strcmp(name, mm_names[i])) {
      *out = (eng_gpu_mm_variant)i;
      return 0;
    }
  return PL_EINVAL;
}
int eng_gpu_matmul(eng_gpu_mm_variant v, long m, long n, long k, const eng_gpu_array *A,
                   const eng_gpu_array *B, eng_gpu_array *C) {
  (void)v, (void)m, (void)n, (void)k, (void)A, (void)B, (void)C;
  return no();
}

int eng_gpu_sgemm(long m, long n, long k, float alpha, const eng_gpu_array *A,
                  const eng_gpu_array *B, float beta, eng_gpu_array *C) {
  (void)m, (void)n, (void)k, (void)alpha, (void)A, (void)B, (void)beta, (void)C;
  return no();
}
int eng_gpu_dgemm(long m, long n, long k, double alpha, const eng_gpu_array *A,
                  const eng_gpu_array *B, double beta, eng_gpu_array *C) {
  (void)m, (void)n, (void)k, (void)alpha, (void)A, (void)B, (void)beta, (void)C;
  return no();
}
int eng_gpu_cublas_raw(void **handle, eng_cublas_sgemm_fn *sgemm) {
  *handle = NULL;
  *sgemm = NULL;
  return no();
}

int eng_gpu_transfer_measure(size_t bytes, int reps, eng_gpu_transfer *out) {
  (void)bytes, (void)reps;
  memset(out, 0, sizeof *out);
  return no();
}
int eng_gpu_overlap_demo(long n, int streams, int chunks, eng_gpu_overlap *out) {
  (void)n, (void)streams, (void)chunks;
  memset(out, 0, sizeof *out);
  return no();
}
