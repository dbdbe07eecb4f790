/*
 * eng_gpu_kernels.cu — the teaching kernels: vector add, the three steps
 * of a reduction (global atomics, a shared-memory tree, warp shuffles)
 * with cub::DeviceReduce as the reference, and naive and tiled matrix
 * products.
 *
 * The reductions other than `atomic` run in two passes: each block writes
 * one partial sum, and a second launch of the same kernel with a single
 * block adds the partial sums. That keeps the result deterministic (no
 * floating-point atomics in the final sum) at the price of one more launch,
 * which is what cub::DeviceReduce does as well. Scratch space comes from
 * the stream-ordered allocator (cudaMallocAsync), whose pool eng_gpu.cu
 * keeps between calls, so a reduction costs no cudaMalloc.
 */
#include <climits>
#include <cub/device/device_reduce.cuh>
#include <string.h>

#include "eng_gpu_int.h"

/* ---------------------------------------------------------- vector add */

template <typename T> __global__ void vadd_k(const T *__restrict__ a, const T *__restrict__ b,
                                             T *__restrict__ c, long n) {
  /* One element per thread while the grid is big enough; the loop only
   * runs more than once for arrays past 2^31 blocks' worth. */
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
    c[i] = a[i] + b[i];
}

static int same_float_type(const eng_gpu_array *a, const eng_gpu_array *b, const char *what) {
  if (a->dtype != b->dtype || (a->dtype != ENG_F32 && a->dtype != ENG_F64))
    return eng_gpu__fail(PL_EINVAL, "%s: needs f32 or f64 arrays of one type", what);
  return 0;
}

extern "C" int eng_gpu_vadd(const eng_gpu_array *a, const eng_gpu_array *b, eng_gpu_array *c) {
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (!a || !b || !c) return eng_gpu__fail(PL_EINVAL, "vector add: missing array");
  if ((rc = same_float_type(a, c, "vector add")) || (rc = same_float_type(b, c, "vector add")))
    return rc;
  long n = c->n;
  if (a->n < n || b->n < n)
    return eng_gpu__fail(PL_EINVAL, "vector add: a and b need %ld elements, have %ld and %ld", n,
                         a->n, b->n);
  if (n == 0) return 0;
  unsigned blocks = eng_gpu__blocks(n, 256, 0x7fffffffu);
  if (c->dtype == ENG_F32)
    vadd_k<float><<<blocks, 256>>>((const float *)a->ptr, (const float *)b->ptr, (float *)c->ptr, n);
  else
    vadd_k<double><<<blocks, 256>>>((const double *)a->ptr, (const double *)b->ptr, (double *)c->ptr, n);
  ENG_CK_LAUNCH("vector add");
done:
  return rc;
}

/* ---------------------------------------------------------- reductions */

static const char *const reduce_names[] = {"atomic", "shared", "shuffle", "cub"};

extern "C" const char *eng_gpu_reduce_name(eng_gpu_reduce_variant v) {
  return (unsigned)v < ENG_GPU_REDUCE_NVARIANTS ? reduce_names[v] : "?";
}

extern "C" int eng_gpu_reduce_parse(const char *name, eng_gpu_reduce_variant *out) {
  for (int i = 0; i < ENG_GPU_REDUCE_NVARIANTS; i++)
    if (name && !strcmp(name, reduce_names[i])) {
      *out = (eng_gpu_reduce_variant)i;
      return 0;
    }
  return PL_EINVAL;
}

/* Step 1: every thread adds its element straight into the total. All the
 * additions serialize on one address in the L2 cache. */
template <typename T> __global__ void reduce_atomic_k(const T *__restrict__ x, long n, T *out) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  for (; i < n; i += (long)gridDim.x * blockDim.x) atomicAdd(out, x[i]);
}

/* Step 2: a tree in shared memory. Each thread adds two elements while
 * loading, then the active half shrinks by two each round, with
 * sequential addressing (thread t adds s[t + half]) so the active threads
 * stay packed in whole warps and the banks do not conflict. */
enum { SH_THREADS = 256 };

template <typename T> __global__ void reduce_shared_k(const T *__restrict__ x, long n, T *partial) {
  __shared__ T s[SH_THREADS];
  unsigned t = threadIdx.x;
  long i = blockIdx.x * (2L * SH_THREADS) + t;
  T v = 0;
  if (i < n) v = x[i];
  if (i + SH_THREADS < n) v += x[i + SH_THREADS];
  s[t] = v;
  __syncthreads();
  for (unsigned half = SH_THREADS / 2; half > 0; half >>= 1) {
    if (t < half) s[t] += s[t + half];
    __syncthreads();
  }
  if (t == 0) partial[blockIdx.x] = s[0];
}

/* Step 3: warp shuffles. A warp adds its 32 values through registers
 * (__shfl_down_sync: no shared memory, no __syncthreads), one value per
 * warp goes through shared memory, and the first warp finishes. Loads are
 * vectorized (float4 / double2) and four are in flight per thread, so the
 * memory system always has enough requests to stay busy. */
enum { SF_THREADS = 256 };

template <typename T> __device__ __forceinline__ T warp_sum(T v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

template <typename T> struct vec;
template <> struct vec<float> {
  typedef float4 type;
  enum { width = 4 };
  static __device__ __forceinline__ float sum(float4 v) { return (v.x + v.y) + (v.z + v.w); }
};
template <> struct vec<double> {
  typedef double2 type;
  enum { width = 2 };
  static __device__ __forceinline__ double sum(double2 v) { return v.x + v.y; }
};

template <typename T> __global__ void reduce_shuffle_k(const T *__restrict__ x, long n, T *partial) {
  typedef typename vec<T>::type V;
  const int W = vec<T>::width;
  __shared__ T warps[SF_THREADS / 32];
  long tid = blockIdx.x * (long)blockDim.x + threadIdx.x;
  long stride = (long)gridDim.x * blockDim.x;
  T acc0 = 0, acc1 = 0;
  /* x comes from cudaMalloc (256-byte aligned) or a partial-sum buffer
   * (also cudaMalloc'ed): vector loads are aligned. */
  const V *xv = reinterpret_cast<const V *>(x);
  long nv = n / W;
  long i = tid;
  for (; i + 3 * stride < nv; i += 4 * stride) {
    V a = xv[i], b = xv[i + stride], c = xv[i + 2 * stride], d = xv[i + 3 * stride];
    acc0 += vec<T>::sum(a) + vec<T>::sum(b);
    acc1 += vec<T>::sum(c) + vec<T>::sum(d);
  }
  for (; i < nv; i += stride) acc0 += vec<T>::sum(xv[i]);
  for (long j = nv * W + tid; j < n; j += stride) acc1 += x[j]; /* the last n % W */
  T v = warp_sum(acc0 + acc1);
  unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warps[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < SF_THREADS / 32 ? warps[lane] : T(0);
    v = warp_sum(v);
    if (lane == 0) partial[blockIdx.x] = v;
  }
}

template <typename T>
static int reduce_t(eng_gpu_reduce_variant v, const T *x, long n, T *out) {
  int rc = 0;
  void *scratch = NULL;
  const cudaDeviceProp *p = eng_gpu__prop();
  const char *what = eng_gpu_reduce_name(v);
  char msg[96];
  if (n == 0) {
    snprintf(msg, sizeof msg, "reduce (%s): cudaMemsetAsync", what);
    ENG_CK(cudaMemsetAsync(out, 0, sizeof(T), 0), msg);
    goto done;
  }
  switch (v) {
  case ENG_GPU_REDUCE_ATOMIC: {
    ENG_CK(cudaMemsetAsync(out, 0, sizeof(T), 0), "reduce (atomic): cudaMemsetAsync");
    reduce_atomic_k<T><<<eng_gpu__blocks(n, 256, 0x7fffffffu), 256>>>(x, n, out);
    ENG_CK_LAUNCH("reduce (atomic)");
    break;
  }
  case ENG_GPU_REDUCE_SHARED: {
    /* Pass after pass until one value is left: 2 * 256 elements per block. */
    long per = 2L * SH_THREADS;
    long b1 = (n + per - 1) / per, b2 = (b1 + per - 1) / per;
    if (b1 > 0x7fffffffL) return eng_gpu__fail(PL_EINVAL, "reduce (shared): %ld elements is too many", n);
    ENG_CK(cudaMallocAsync(&scratch, (size_t)(b1 + b2) * sizeof(T), 0), "reduce (shared): cudaMallocAsync");
    T *bufs[2] = {(T *)scratch, (T *)scratch + b1};
    const T *in = x;
    long m = n;
    int k = 0;
    while (m > 1) {
      long blocks = (m + per - 1) / per;
      T *dst = blocks == 1 ? out : bufs[k];
      reduce_shared_k<T><<<(unsigned)blocks, SH_THREADS>>>(in, m, dst);
      ENG_CK_LAUNCH("reduce (shared)");
      in = dst;
      m = blocks;
      k ^= 1;
      if (dst == out) break;
    }
    if (in == x) /* n == 1 */
      ENG_CK(cudaMemcpyAsync(out, x, sizeof(T), cudaMemcpyDeviceToDevice, 0), "reduce (shared): copy");
    break;
  }
  case ENG_GPU_REDUCE_SHUFFLE: {
    /* As many blocks as fit on the device at once: every SM busy, and the
     * second pass has only a few hundred partial sums to add. */
    long fit = (long)p->multiProcessorCount * (p->maxThreadsPerMultiProcessor / SF_THREADS);
    unsigned blocks = eng_gpu__blocks((n + 3) / 4, SF_THREADS, (unsigned)(fit > 0 ? fit : 1));
    ENG_CK(cudaMallocAsync(&scratch, (size_t)blocks * sizeof(T), 0), "reduce (shuffle): cudaMallocAsync");
    reduce_shuffle_k<T><<<blocks, SF_THREADS>>>(x, n, (T *)scratch);
    ENG_CK_LAUNCH("reduce (shuffle)");
    reduce_shuffle_k<T><<<1, SF_THREADS>>>((const T *)scratch, blocks, out);
    ENG_CK_LAUNCH("reduce (shuffle, second pass)");
    break;
  }
  case ENG_GPU_REDUCE_CUB: {
    size_t bytes = 0;
    if (n <= INT_MAX) {
      ENG_CK(cub::DeviceReduce::Sum(NULL, bytes, x, out, (int)n, 0), "reduce (cub): temporary size");
      ENG_CK(cudaMallocAsync(&scratch, bytes ? bytes : 1, 0), "reduce (cub): cudaMallocAsync");
      ENG_CK(cub::DeviceReduce::Sum(scratch, bytes, x, out, (int)n, 0), "reduce (cub)");
    } else {
      ENG_CK(cub::DeviceReduce::Sum(NULL, bytes, x, out, (long long)n, 0), "reduce (cub): temporary size");
      ENG_CK(cudaMallocAsync(&scratch, bytes ? bytes : 1, 0), "reduce (cub): cudaMallocAsync");
      ENG_CK(cub::DeviceReduce::Sum(scratch, bytes, x, out, (long long)n, 0), "reduce (cub)");
    }
    break;
  }
  default:
    return eng_gpu__fail(PL_EINVAL, "reduce: unknown variant %d", (int)v);
  }
done:
  if (scratch && cudaFreeAsync(scratch, 0) != cudaSuccess && !rc)
    rc = eng_gpu__cuda_fail(cudaGetLastError(), "reduce: cudaFreeAsync");
  return rc;
}

extern "C" int eng_gpu_reduce(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n,
                              eng_gpu_array *out) {
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (!x || !out) return eng_gpu__fail(PL_EINVAL, "reduce: missing array");
  if ((unsigned)v >= ENG_GPU_REDUCE_NVARIANTS)
    return eng_gpu__fail(PL_EINVAL, "reduce: unknown variant %d", (int)v);
  if ((rc = same_float_type(x, out, "reduce"))) return rc;
  if (n < 0 || n > x->n) return eng_gpu__fail(PL_EINVAL, "reduce: n = %ld, the array has %ld", n, x->n);
  if (out->n < 1) return eng_gpu__fail(PL_EINVAL, "reduce: the output array is empty");
  if (x->dtype == ENG_F32) return reduce_t<float>(v, (const float *)x->ptr, n, (float *)out->ptr);
  return reduce_t<double>(v, (const double *)x->ptr, n, (double *)out->ptr);
}

extern "C" int eng_gpu_sum(eng_gpu_reduce_variant v, const eng_gpu_array *x, long n, double *result) {
  *result = 0;
  eng_gpu_array *out = NULL;
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if (!x) return eng_gpu__fail(PL_EINVAL, "sum: no array");
  if ((rc = eng_gpu_array_new(x->dtype, 1, &out))) return rc;
  if ((rc = eng_gpu_reduce(v, x, n, out))) goto done;
  if (x->dtype == ENG_F32) {
    float f = 0;
    if (!(rc = eng_gpu_download(out, 0, &f, 1))) *result = f;
  } else {
    rc = eng_gpu_download(out, 0, result, 1);
  }
done:
  eng_gpu_array_free(out);
  return rc;
}

/* ------------------------------------------------------ matrix products */

static const char *const mm_names[] = {"naive", "tiled", "cublas"};

extern "C" const char *eng_gpu_mm_name(eng_gpu_mm_variant v) {
  return (unsigned)v < ENG_GPU_MM_NVARIANTS ? mm_names[v] : "?";
}

extern "C" int eng_gpu_mm_parse(const char *name, eng_gpu_mm_variant *out) {
  for (int i = 0; i < ENG_GPU_MM_NVARIANTS; i++)
    if (name && !strcmp(name, mm_names[i])) {
      *out = (eng_gpu_mm_variant)i;
      return 0;
    }
  return PL_EINVAL;
}

/* One thread per element of C; consecutive threads of a warp take
 * consecutive columns, so reads of B and writes of C are coalesced and
 * A[row][p] is one broadcast per warp. Every operand still comes from
 * global memory (or the caches) k times. */
__global__ void mm_naive_k(int m, int n, int k, const float *__restrict__ A,
                           const float *__restrict__ B, float *__restrict__ C) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= m || col >= n) return;
  float acc = 0;
  for (int p = 0; p < k; p++) acc += A[(long)row * k + p] * B[(long)p * n + col];
  C[(long)row * n + col] = acc;
}

/* A block computes a TILE x TILE tile of C. For each step along k it
 * stages a tile of A and a tile of B in shared memory (each element loaded
 * once by one thread), then every thread reads TILE values of each from
 * shared memory: global traffic drops by a factor TILE. In the inner loop
 * a warp (one ty, 32 tx) reads one As value (a broadcast) and 32
 * consecutive Bs values (32 banks): no bank conflicts. Elements past the
 * edges load as 0, so any m, n, k work. */
enum { TILE = 32 };

__global__ void mm_tiled_k(int m, int n, int k, const float *__restrict__ A,
                           const float *__restrict__ B, float *__restrict__ C) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int tx = threadIdx.x, ty = threadIdx.y;
  int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
  float acc = 0;
  for (int t0 = 0; t0 < k; t0 += TILE) {
    As[ty][tx] = row < m && t0 + tx < k ? A[(long)row * k + t0 + tx] : 0.0f;
    Bs[ty][tx] = t0 + ty < k && col < n ? B[(long)(t0 + ty) * n + col] : 0.0f;
    __syncthreads();
#pragma unroll
    for (int p = 0; p < TILE; p++) acc += As[ty][p] * Bs[p][tx];
    __syncthreads();
  }
  if (row < m && col < n) C[(long)row * n + col] = acc;
}

extern "C" int eng_gpu_matmul(eng_gpu_mm_variant v, long m, long n, long k, const eng_gpu_array *A,
                              const eng_gpu_array *B, eng_gpu_array *C) {
  if (v == ENG_GPU_MM_CUBLAS) return eng_gpu_sgemm(m, n, k, 1.0f, A, B, 0.0f, C);
  int rc = eng_gpu__ready();
  if (rc) return rc;
  if ((unsigned)v >= ENG_GPU_MM_NVARIANTS)
    return eng_gpu__fail(PL_EINVAL, "matmul: unknown variant %d", (int)v);
  if (!A || !B || !C) return eng_gpu__fail(PL_EINVAL, "matmul: missing array");
  if (A->dtype != ENG_F32 || B->dtype != ENG_F32 || C->dtype != ENG_F32)
    return eng_gpu__fail(PL_EINVAL, "matmul (%s): needs f32 arrays", eng_gpu_mm_name(v));
  if (m < 0 || n < 0 || k < 0 || m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return eng_gpu__fail(PL_EINVAL, "matmul: dimensions must be in [0, 2^31)");
  if (A->n < m * k || B->n < k * n || C->n < m * n)
    return eng_gpu__fail(PL_EINVAL, "matmul: arrays too small for m = %ld, n = %ld, k = %ld", m, n, k);
  if (m == 0 || n == 0) return 0;
  if (v == ENG_GPU_MM_NAIVE) {
    dim3 block(32, 8), grid((unsigned)((n + 31) / 32), (unsigned)((m + 7) / 8));
    if (grid.y > 65535) return eng_gpu__fail(PL_EINVAL, "matmul (naive): m = %ld is too large", m);
    mm_naive_k<<<grid, block>>>((int)m, (int)n, (int)k, (const float *)A->ptr, (const float *)B->ptr,
                                (float *)C->ptr);
    ENG_CK_LAUNCH("matmul (naive)");
  } else {
    dim3 block(TILE, TILE), grid((unsigned)((n + TILE - 1) / TILE), (unsigned)((m + TILE - 1) / TILE));
    if (grid.y > 65535) return eng_gpu__fail(PL_EINVAL, "matmul (tiled): m = %ld is too large", m);
    mm_tiled_k<<<grid, block>>>((int)m, (int)n, (int)k, (const float *)A->ptr, (const float *)B->ptr,
                                (float *)C->ptr);
    ENG_CK_LAUNCH("matmul (tiled)");
  }
done:
  return rc;
}
