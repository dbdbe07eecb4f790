/*
 * eng_gpu_blas.cu — cuBLAS sgemm/dgemm on row-major device arrays.
 *
 * cuBLAS is opened with dlopen() on first use rather than linked: the
 * library and its libcublasLt dependency are over 600 MB, and every parlab
 * process (the TUI, each jail) would otherwise map and relocate them at
 * start-up. The types come from cublas_v2.h; only the few entry points
 * used are looked up.
 *
 * Row-major without a transpose: cuBLAS is column-major, and a row-major
 * m x n matrix is the same memory as a column-major n x m one. So
 * C = A B (row-major) is C^T = B^T A^T (column-major), i.e. one call with
 * the operands swapped and m and n exchanged.
 *
 * Thread-safety: the library is loaded once (pthread_once). Handles are
 * per thread (a pthread key destroys a thread's handle when it exits), as
 * cuBLAS requires for concurrent use.
 */
#include <climits>
#include <cublas_v2.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "eng_gpu_int.h"

#ifndef ENG_GPU_CUDA_LIBDIR
#define ENG_GPU_CUDA_LIBDIR "/usr/local/cuda/lib64"
#endif

#define STR2(x) #x
#define STR(x) STR2(x)

typedef cublasStatus_t (*create_fn)(cublasHandle_t *);
typedef cublasStatus_t (*destroy_fn)(cublasHandle_t);
typedef cublasStatus_t (*mathmode_fn)(cublasHandle_t, cublasMath_t);
typedef const char *(*status_fn)(cublasStatus_t);
typedef cublasStatus_t (*sgemm_fn)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int,
                                   int, const float *, const float *, int, const float *, int,
                                   const float *, float *, int);
typedef cublasStatus_t (*dgemm_fn)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int,
                                   int, const double *, const double *, int, const double *, int,
                                   const double *, double *, int);

static struct {
  void *lib;
  create_fn create;
  destroy_fn destroy;
  mathmode_fn mathmode;
  status_fn status;
  sgemm_fn sgemm;
  dgemm_fn dgemm;
  char why[320];
} cb;

static pthread_once_t cb_once = PTHREAD_ONCE_INIT;
static pthread_key_t cb_key;

static void handle_destroy(void *h) {
  if (h && cb.destroy) cb.destroy((cublasHandle_t)h);
}

static void cb_load(void) {
  /* The soname of the major version parlab was compiled against, then the
   * toolkit's own folder (not always in ld.so.cache), then any version. */
  static const char *const names[] = {
      "libcublas.so." STR(CUBLAS_VER_MAJOR),
      ENG_GPU_CUDA_LIBDIR "/libcublas.so." STR(CUBLAS_VER_MAJOR),
      "libcublas.so",
      NULL};
  const char *err = "";
  for (int i = 0; names[i] && !cb.lib; i++) {
    cb.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!cb.lib) err = dlerror();
  }
  if (!cb.lib) {
    snprintf(cb.why, sizeof cb.why, "cuBLAS cannot be loaded: %s", err ? err : "not found");
    return;
  }
  cb.create = (create_fn)dlsym(cb.lib, "cublasCreate_v2");
  cb.destroy = (destroy_fn)dlsym(cb.lib, "cublasDestroy_v2");
  cb.mathmode = (mathmode_fn)dlsym(cb.lib, "cublasSetMathMode");
  cb.status = (status_fn)dlsym(cb.lib, "cublasGetStatusString");
  cb.sgemm = (sgemm_fn)dlsym(cb.lib, "cublasSgemm_v2");
  cb.dgemm = (dgemm_fn)dlsym(cb.lib, "cublasDgemm_v2");
  if (!cb.create || !cb.destroy || !cb.sgemm || !cb.dgemm) {
    snprintf(cb.why, sizeof cb.why, "cuBLAS is loaded but lacks cublasCreate_v2/cublasSgemm_v2/"
                                    "cublasDgemm_v2");
    cb.create = NULL;
    return;
  }
  if (pthread_key_create(&cb_key, handle_destroy)) {
    snprintf(cb.why, sizeof cb.why, "cuBLAS: cannot create a thread key");
    cb.create = NULL;
  }
}

static int cb_fail(cublasStatus_t s, const char *what) {
  const char *text = cb.status ? cb.status(s) : "";
  int rc = s == CUBLAS_STATUS_ALLOC_FAILED ? PL_ENOMEM
           : s == CUBLAS_STATUS_INVALID_VALUE ? PL_EINVAL
           : s == CUBLAS_STATUS_NOT_INITIALIZED ? PL_ENOSYS : PL_EIO;
  return eng_gpu__fail(rc, "%s: cuBLAS status %d: %s", what, (int)s, text ? text : "");
}

/* This thread's handle, created on first use. */
static int cb_handle(cublasHandle_t *out) {
  int rc = eng_gpu__ready();
  if (rc) return rc;
  pthread_once(&cb_once, cb_load);
  if (!cb.create) return eng_gpu__fail(PL_ENOSYS, "%s", cb.why);
  cublasHandle_t h = (cublasHandle_t)pthread_getspecific(cb_key);
  if (!h) {
    cublasStatus_t s = cb.create(&h);
    if (s != CUBLAS_STATUS_SUCCESS) return cb_fail(s, "cublasCreate");
    /* The default: FP32 stays FP32 (no TF32), so results compare with a
     * CPU sgemm at FP32 tolerances. Set explicitly in case the library's
     * default ever changes. */
    if (cb.mathmode) cb.mathmode(h, CUBLAS_DEFAULT_MATH);
    if (pthread_setspecific(cb_key, h)) {
      cb.destroy(h);
      return eng_gpu__fail(PL_ENOMEM, "cuBLAS: cannot keep the handle");
    }
  }
  *out = h;
  return 0;
}

static int gemm_args(long m, long n, long k, const eng_gpu_array *A, const eng_gpu_array *B,
                     const eng_gpu_array *C, eng_dtype t, const char *what) {
  if (!A || !B || !C) return eng_gpu__fail(PL_EINVAL, "%s: missing array", what);
  if (A->dtype != t || B->dtype != t || C->dtype != t)
    return eng_gpu__fail(PL_EINVAL, "%s: needs %s arrays", what, t == ENG_F32 ? "f32" : "f64");
  if (m < 0 || n < 0 || k < 0 || m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return eng_gpu__fail(PL_EINVAL, "%s: dimensions must be in [0, 2^31)", what);
  if (A->n < m * k || B->n < k * n || C->n < m * n)
    return eng_gpu__fail(PL_EINVAL, "%s: arrays too small for m = %ld, n = %ld, k = %ld", what, m, n, k);
  return 0;
}

/* Leading dimensions must be >= 1 even for empty matrices. */
static int ld(long x) { return x > 0 ? (int)x : 1; }

extern "C" int eng_gpu_sgemm(long m, long n, long k, float alpha, const eng_gpu_array *A,
                             const eng_gpu_array *B, float beta, eng_gpu_array *C) {
  cublasHandle_t h;
  int rc = eng_gpu__ready();
  if (rc || (rc = gemm_args(m, n, k, A, B, C, ENG_F32, "sgemm"))) return rc;
  if (m == 0 || n == 0) return 0;
  if ((rc = cb_handle(&h))) return rc;
  cublasStatus_t s = cb.sgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, (int)m, (int)k, &alpha,
                              (const float *)B->ptr, ld(n), (const float *)A->ptr, ld(k), &beta,
                              (float *)C->ptr, ld(n));
  return s == CUBLAS_STATUS_SUCCESS ? 0 : cb_fail(s, "sgemm");
}

extern "C" int eng_gpu_dgemm(long m, long n, long k, double alpha, const eng_gpu_array *A,
                             const eng_gpu_array *B, double beta, eng_gpu_array *C) {
  cublasHandle_t h;
  int rc = eng_gpu__ready();
  if (rc || (rc = gemm_args(m, n, k, A, B, C, ENG_F64, "dgemm"))) return rc;
  if (m == 0 || n == 0) return 0;
  if ((rc = cb_handle(&h))) return rc;
  cublasStatus_t s = cb.dgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, (int)m, (int)k, &alpha,
                              (const double *)B->ptr, ld(n), (const double *)A->ptr, ld(k), &beta,
                              (double *)C->ptr, ld(n));
  return s == CUBLAS_STATUS_SUCCESS ? 0 : cb_fail(s, "dgemm");
}

extern "C" int eng_gpu_cublas_raw(void **handle, eng_cublas_sgemm_fn *sgemm) {
  *handle = NULL;
  *sgemm = NULL;
  cublasHandle_t h;
  int rc = cb_handle(&h);
  if (rc) return rc;
  *handle = (void *)h;
  /* cublasStatus_t and cublasOperation_t are C enums: passed as int. */
  *sgemm = (eng_cublas_sgemm_fn)cb.sgemm;
  return 0;
}
