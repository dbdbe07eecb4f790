/*
 * eng_gpu.h — the GPU backend: CUDA device query, device arrays,
 * host<->device transfers, the teaching kernels (vector add, three
 * reductions, naive and tiled matrix multiply), cuBLAS sgemm/dgemm,
 * streams and a copy/compute overlap demonstration.
 *
 * The implementation lives in engine/gpu/ and is built into its own static
 * library (plgpu) with nvcc when CMake finds it; otherwise a stub with the
 * same functions is built, and every call fails with PL_ENOSYS and the
 * message "no CUDA device: no CUDA support in this build ...". A build with
 * CUDA on a machine without a usable device fails the same way, with the
 * reason (no driver, no device, driver too old, PARLAB_NO_GPU=1).
 *
 * Errors: every CUDA and cuBLAS call is checked. A failing function
 * returns a negative PL_E* code — PL_ENOSYS (no device), PL_ENOMEM (device
 * or pinned memory exhausted), PL_EINVAL (bad arguments), PL_EIO (any
 * other CUDA error) — and leaves an English sentence in eng_gpu_errmsg():
 * what was being done and CUDA's own name and text for the error, e.g.
 * "vector add: kernel launch: cudaErrorInvalidConfiguration: invalid
 * configuration argument". Messages for a missing device start with
 * "no CUDA device: ".
 *
 * Ordering: work goes to the legacy default stream of device 0, so calls
 * from one thread run in order. Kernel functions return after the launch;
 * an error raised while the kernel runs is reported by the next
 * eng_gpu_sync() (or by any call that waits: downloads, eng_gpu_sum,
 * timers). The measuring functions (transfers, overlap) create and destroy
 * their own streams, events and buffers.
 *
 * Thread-safety: initialisation is once-only (pthread_once); any thread
 * may call any function. The error message is per thread. cuBLAS handles
 * are per thread (cuBLAS handles must not be shared between threads).
 * Device arrays are plain device memory: concurrent writers race.
 */
#ifndef ENG_GPU_H
#define ENG_GPU_H

#include <stddef.h>

#include "eng_array.h" /* eng_dtype */

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this build has the CUDA backend, 0 for the stub. */
int eng_gpu_built(void);
/* 1 when a CUDA device can be used (checked once per process), else 0. */
int eng_gpu_available(void);
/* Why no device can be used: "no CUDA device: ..."; "" when one can. */
const char *eng_gpu_unavailable_reason(void);
/* The message of this thread's last failing eng_gpu call ("" if none). */
const char *eng_gpu_errmsg(void);

typedef struct eng_gpu_info {
  int device;              /* the ordinal used (always 0) */
  int count;               /* CUDA devices visible */
  char name[256];          /* "NVIDIA H100 80GB HBM3" */
  int cc_major, cc_minor;  /* compute capability, 9.0 on Hopper */
  int sm_count;            /* streaming multiprocessors */
  int warp_size;
  int max_threads_per_block, max_threads_per_sm;
  size_t shared_per_block, shared_per_sm;
  int regs_per_block;
  int l2_bytes;
  size_t mem_total, mem_free; /* bytes; free as of this call */
  int clock_khz;           /* peak SM clock */
  int mem_clock_khz;       /* peak memory clock */
  int bus_width_bits;
  double mem_bw_gbs;       /* theoretical peak: 2 * clock * bus width (DDR) */
  int copy_engines;        /* asynchronous copy engines (2: copies both ways overlap) */
  int concurrent_kernels;
  int driver_version, runtime_version; /* 13000 = 13.0 */
} eng_gpu_info;

int eng_gpu_get_info(eng_gpu_info *out);

/* ---------------------------------------------------------- device arrays */

typedef struct eng_gpu_array eng_gpu_array;

/* n zero elements of type t in device memory (n == 0 is valid: no memory).
 * OUT: *out, caller frees with eng_gpu_array_free(). */
int eng_gpu_array_new(eng_dtype t, long n, eng_gpu_array **out);
void eng_gpu_array_free(eng_gpu_array *a);
long eng_gpu_array_len(const eng_gpu_array *a);
eng_dtype eng_gpu_array_dtype(const eng_gpu_array *a);
size_t eng_gpu_array_bytes(const eng_gpu_array *a);
/* The device pointer (NULL when empty): for kernels of other modules. */
void *eng_gpu_array_ptr(const eng_gpu_array *a);

/* Copy n elements between host memory and a device array, starting at
 * element `off` of the device array. Synchronous. PL_EINVAL when the range
 * is outside the array. */
int eng_gpu_upload(eng_gpu_array *dst, long off, const void *src, long n);
int eng_gpu_download(const eng_gpu_array *src, long off, void *dst, long n);
/* Device to device: the first n elements (same dtype). */
int eng_gpu_copy(eng_gpu_array *dst, const eng_gpu_array *src, long n);
/* Every element set to v (converted to the array's type). */
int eng_gpu_fill(eng_gpu_array *a, double v);
/* Wait for all work queued so far; reports errors raised by kernels. */
int eng_gpu_sync(void);

/* Event timers on the default stream: start, enqueue work, stop (waits
 * and gives the seconds between the two events). */
typedef struct eng_gpu_timer eng_gpu_timer;
int eng_gpu_timer_new(eng_gpu_timer **out);
int eng_gpu_timer_start(eng_gpu_timer *t);
int eng_gpu_timer_stop(eng_gpu_timer *t, double *seconds);
void eng_gpu_timer_free(eng_gpu_timer *t);

/* ---------------------------------------------------------------- kernels */

/* c[i] = a[i] + b[i] for i < len(c); f32 or f64, one type for all three,
 * a and b at least as long as c. One thread per element, 256 per block. */
int eng_gpu_vadd(const eng_gpu_array *a, const eng_gpu_array *b, eng_gpu_array *c);

/* Sum reductions, from slowest to fastest:
 *   atomic   every thread atomicAdd()s its element into one global total
 *   shared   a tree in shared memory per block, partial sums per block,
 *            then the same kernel over the partial sums
 *   shuffle  grid-stride loads, then __shfl_down_sync within each warp and
 *            across the warps of a block; two passes as above
 *   cub      cub::DeviceReduce::Sum (the library reference)
 * atomic sums in an order that changes from run to run; the others are
 * deterministic for a given device and n. f32 sums accumulate in float,
 * f64 in double. */
typedef enum {
  ENG_GPU_REDUCE_ATOMIC = 0,
  ENG_GPU_REDUCE_SHARED,
  ENG_GPU_REDUCE_SHUFFLE,
  ENG_GPU_REDUCE_CUB,
  ENG_GPU_REDUCE_NVARIANTS
} eng_gpu_reduce_variant;

const char *eng_gpu_reduce_name(eng_gpu_reduce_variant v);
int eng_gpu_reduce_parse(const char *name, eng_gpu_reduce_variant *out);
/* Sum of the first n elements of x (n <= len(x)) into out[0] (same dtype,
 * on the device); asynchronous. */
int eng_gpu_reduce(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, eng_gpu_array *out);
/* The same, synchronously, into *result. */
int eng_gpu_sum(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, double *result);

/* Row-major f32 matrix products C = A B (A m x k, B k x n, C m x n):
 *   naive   one thread per element of C, reading A and B from global memory
 *   tiled   32 x 32 tiles of A and B staged in shared memory
 *   cublas  eng_gpu_sgemm (alpha 1, beta 0) */
typedef enum {
  ENG_GPU_MM_NAIVE = 0,
  ENG_GPU_MM_TILED,
  ENG_GPU_MM_CUBLAS,
  ENG_GPU_MM_NVARIANTS
} eng_gpu_mm_variant;

const char *eng_gpu_mm_name(eng_gpu_mm_variant v);
int eng_gpu_mm_parse(const char *name, eng_gpu_mm_variant *out);
int eng_gpu_matmul(eng_gpu_mm_variant v, long m, long n, long k, const eng_gpu_array *A,
                   const eng_gpu_array *B, eng_gpu_array *C);

/* cuBLAS, row-major: C = alpha A B + beta C (A m x k, B k x n, C m x n).
 * cuBLAS is loaded with dlopen() on first use, so processes that never
 * multiply matrices (the jail, the TUI) do not map its 600 MB; PL_ENOSYS
 * with the reason when it cannot be loaded. Plain FP32/FP64 math (no
 * TF32). */
int eng_gpu_sgemm(long m, long n, long k, float alpha, const eng_gpu_array *A,
                  const eng_gpu_array *B, float beta, eng_gpu_array *C);
int eng_gpu_dgemm(long m, long n, long k, double alpha, const eng_gpu_array *A,
                  const eng_gpu_array *B, double beta, eng_gpu_array *C);

/* The raw cublasSgemm_v2 of the loaded library and this thread's handle,
 * for benchmarks that compare parlab's wrapper with a direct call
 * (column-major, as cuBLAS itself; op 0 = CUBLAS_OP_N). Returns 0, or a
 * PL_E* code when cuBLAS cannot be loaded. */
typedef int (*eng_cublas_sgemm_fn)(void *handle, int transa, int transb, int m, int n, int k,
                                   const float *alpha, const float *A, int lda, const float *B,
                                   int ldb, const float *beta, float *C, int ldc);
int eng_gpu_cublas_raw(void **handle, eng_cublas_sgemm_fn *sgemm);

/* ------------------------------------------------ transfers and streams */

/* Bandwidths in GB/s (1e9 bytes per second), medians of `reps` copies of
 * `bytes` each: host memory from malloc() (pageable: the driver copies it
 * through a pinned staging buffer) against cudaMallocHost() (pinned: the
 * copy engine reads it directly), both ways, and device to device
 * (counting the bytes read plus the bytes written). */
typedef struct eng_gpu_transfer {
  size_t bytes;
  int reps;
  double h2d_pageable, h2d_pinned;
  double d2h_pageable, d2h_pinned;
  double d2d;
} eng_gpu_transfer;

int eng_gpu_transfer_measure(size_t bytes, int reps, eng_gpu_transfer *out);

/* The same work twice — upload n floats from pinned memory, run a kernel
 * over them, download the result — first as three steps in order on one
 * stream, then cut into `chunks` pieces spread round-robin over `streams`
 * streams, so that one piece's upload overlaps another's kernel and a
 * third's download. The kernel does enough arithmetic per element to take
 * about as long as a copy. Both results are checked against each other. */
typedef struct eng_gpu_overlap {
  long n;
  int streams, chunks;
  double h2d_s, kernel_s, d2h_s; /* the three steps of the serial run */
  double serial_s, overlapped_s;
  double speedup;                /* serial_s / overlapped_s */
  int copy_engines;              /* 2: uploads and downloads overlap too */
} eng_gpu_overlap;

int eng_gpu_overlap_demo(long n, int streams, int chunks, eng_gpu_overlap *out);

#ifdef __cplusplus
}
#endif

#endif
