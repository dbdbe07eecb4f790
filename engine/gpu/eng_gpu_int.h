/*
 * eng_gpu_int.h — internals shared by the CUDA files of engine/gpu.
 *
 * Every CUDA call goes through ENG_CK(call, "what"): on failure it records
 * "what: cudaErrorName: CUDA's text" as this thread's message and jumps to
 * the function's `done:` label with rc set (the house style: one cleanup
 * label per function that owns resources). Functions first call
 * eng_gpu__ready(), which fails with the "no CUDA device: ..." reason when
 * there is no usable device.
 *
 * Thread-safety: the message buffer is thread-local; the device state is
 * set once under pthread_once.
 */
#ifndef ENG_GPU_INT_H
#define ENG_GPU_INT_H

#include <cuda_runtime.h>

#include "eng_gpu.h"
#include "pl_err.h"

struct eng_gpu_array {
  eng_dtype dtype;
  long n;
  void *ptr; /* device memory, NULL when n == 0 */
};

/* 0 when a device is ready, else PL_ENOSYS with the reason recorded. */
int eng_gpu__ready(void);
/* Record a message for this thread (printf-style); returns rc. */
int eng_gpu__fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a CUDA error: "what: name: text"; returns the PL_E* code. */
int eng_gpu__cuda_fail(cudaError_t e, const char *what);
/* The PL_E* code for a CUDA error. */
int eng_gpu__code(cudaError_t e);
/* Clear this thread's message (start of a successful call). */
void eng_gpu__clear(void);
/* Cached device properties (valid after eng_gpu__ready() succeeded). */
const cudaDeviceProp *eng_gpu__prop(void);
size_t eng_gpu__dtype_size(eng_dtype t);
/* Blocks of `threads` to cover n items, capped at `cap` (grid-stride
 * kernels loop over the rest). */
unsigned eng_gpu__blocks(long n, unsigned threads, unsigned cap);

#define ENG_CK(call, what)                                                  \
  do {                                                                      \
    cudaError_t ck_e_ = (call);                                             \
    if (ck_e_ != cudaSuccess) {                                             \
      rc = eng_gpu__cuda_fail(ck_e_, what);                                 \
      goto done;                                                            \
    }                                                                       \
  } while (0)

/* After a <<<...>>> launch: configuration errors appear at once. */
#define ENG_CK_LAUNCH(what) ENG_CK(cudaGetLastError(), what ": kernel launch")

#endif
