/*
 * eng_gpu_funcs.h — the GPU backend's functions as one list, so that the
 * module's export table (eng_gpu_module.c) and the loader's trampolines
 * (eng_gpu_load.c) cannot drift apart from each other.
 *
 * X(return type, name after eng_gpu_, (parameters), (arguments)) for the
 * functions that return a value; XV(...) for the two that return nothing.
 * Adding a function to eng_gpu.h means adding it here, and bumping
 * ENG_GPU_MODULE_ABI so an older module is refused instead of misused.
 */
#ifndef ENG_GPU_FUNCS_H
#define ENG_GPU_FUNCS_H

#include "eng_gpu.h"

#define ENG_GPU_MODULE_ABI 1

#define ENG_GPU_FUNCS(X, XV)                                                                     \
  X(int, built, (void), ())                                                                      \
  X(int, available, (void), ())                                                                  \
  X(const char *, unavailable_reason, (void), ())                                                \
  X(const char *, errmsg, (void), ())                                                            \
  X(int, get_info, (eng_gpu_info * out), (out))                                                  \
  X(int, array_new, (eng_dtype t, long n, eng_gpu_array **out), (t, n, out))                     \
  XV(array_free, (eng_gpu_array * a), (a))                                                       \
  X(long, array_len, (const eng_gpu_array *a), (a))                                              \
  X(eng_dtype, array_dtype, (const eng_gpu_array *a), (a))                                       \
  X(size_t, array_bytes, (const eng_gpu_array *a), (a))                                          \
  X(void *, array_ptr, (const eng_gpu_array *a), (a))                                            \
  X(int, upload, (eng_gpu_array * dst, long off, const void *src, long n), (dst, off, src, n))  \
  X(int, download, (const eng_gpu_array *src, long off, void *dst, long n), (src, off, dst, n)) \
  X(int, copy, (eng_gpu_array * dst, const eng_gpu_array *src, long n), (dst, src, n))          \
  X(int, fill, (eng_gpu_array * a, double v), (a, v))                                            \
  X(int, sync, (void), ())                                                                       \
  X(int, timer_new, (eng_gpu_timer * *out), (out))                                               \
  X(int, timer_start, (eng_gpu_timer * t), (t))                                                  \
  X(int, timer_stop, (eng_gpu_timer * t, double *seconds), (t, seconds))                         \
  XV(timer_free, (eng_gpu_timer * t), (t))                                                       \
  X(int, vadd, (const eng_gpu_array *a, const eng_gpu_array *b, eng_gpu_array *c), (a, b, c))   \
  X(const char *, reduce_name, (eng_gpu_reduce_variant v), (v))                                  \
  X(int, reduce_parse, (const char *name, eng_gpu_reduce_variant *out), (name, out))             \
  X(int, reduce, (eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, eng_gpu_array *out), \
    (v, x, n, out))                                                                              \
  X(int, sum, (eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, double *result),        \
    (v, x, n, result))                                                                           \
  X(const char *, mm_name, (eng_gpu_mm_variant v), (v))                                          \
  X(int, mm_parse, (const char *name, eng_gpu_mm_variant *out), (name, out))                     \
  X(int, matmul,                                                                                 \
    (eng_gpu_mm_variant v, long m, long n, long k, const eng_gpu_array *A,                       \
     const eng_gpu_array *B, eng_gpu_array *C),                                                  \
    (v, m, n, k, A, B, C))                                                                       \
  X(int, sgemm,                                                                                  \
    (long m, long n, long k, float alpha, const eng_gpu_array *A, const eng_gpu_array *B,       \
     float beta, eng_gpu_array *C),                                                              \
    (m, n, k, alpha, A, B, beta, C))                                                             \
  X(int, dgemm,                                                                                  \
    (long m, long n, long k, double alpha, const eng_gpu_array *A, const eng_gpu_array *B,      \
     double beta, eng_gpu_array *C),                                                             \
    (m, n, k, alpha, A, B, beta, C))                                                             \
  X(int, cublas_raw, (void **handle, eng_cublas_sgemm_fn *sgemm), (handle, sgemm))               \
  X(int, transfer_measure, (size_t bytes, int reps, eng_gpu_transfer *out), (bytes, reps, out)) \
  X(int, overlap_demo, (long n, int streams, int chunks, eng_gpu_overlap *out),                  \
    (n, streams, chunks, out))

/* The module's table: its ABI, then one pointer per function, in order. */
#define ENG_GPU_FIELD(ret, name, params, args) ret(*name) params;
#define ENG_GPU_FIELDV(name, params, args) void(*name) params;
typedef struct eng_gpu_module {
  int abi;
  ENG_GPU_FUNCS(ENG_GPU_FIELD, ENG_GPU_FIELDV)
} eng_gpu_module;

typedef const eng_gpu_module *(*eng_gpu_module_fn)(void);
#define ENG_GPU_MODULE_SYMBOL "eng_gpu_module_table"

#endif
