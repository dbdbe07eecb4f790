// harness.cu — the lab's host code, compiled together with the student's
// reduce.cu (and with baseline.cu, the atomic version, for the speedup).
// It owns every cudaMalloc and copy; reduce_launch only sees device
// pointers. The output float is followed by canaries, so a kernel that
// writes past it is caught.
//
// Exports (see lab.lua):
//   reduce(x, n, result)        f32 data; result[0] = the sum
//   reduce_int(x, n, result)    i64 data, converted to float on the device
//                               (small integers: every order of additions
//                               gives the exact sum)
//   reduce_load(x, n)           keep integer data on the device for the timed runs
//   reduce_timed(res, n, reps, base)
//                               reps launches over x + 64 * (base + r),
//                               n - 64 * (base + r) elements; sums into res
// Return values: 0, a CUDA error code, -1 (no device memory) or -2 (the
// kernel wrote past the output).
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" int reduce_launch(const float *x, long n, float *out);

static const int PAD = 256;
static const float CANARY = -7.5f;
static const long STEP = 64; // elements between the starts of the timed runs (256 bytes)

static int report(cudaError_t e, const char *what) {
  if (e == cudaSuccess) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, cudaGetErrorName(e), cudaGetErrorString(e));
  return (int)e;
}

__global__ void set_k(float *x, long n, float v) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) x[i] = v;
}

__global__ void from_int_k(const long long *src, float *dst, long n) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) dst[i] = (float)src[i];
}

static unsigned blocks_for(long n) { return (unsigned)((n + 255) / 256); }

// Sum dx[0..n) with the student's code into *result; dx is on the device.
static int run_one(const float *dx, long n, float *result) {
  float *dout = NULL;
  float tail[PAD];
  int rc = -1;
  if (cudaMalloc(&dout, (1 + PAD) * sizeof(float))) goto done;
  set_k<<<1, 1 + PAD>>>(dout, 1 + PAD, CANARY);
  if ((rc = report(cudaMemset(dout, 0, sizeof(float)), "harness: cudaMemset"))) goto done;
  // Your code: *dout is 0 here and must hold the sum once the work queued
  // on the default stream has finished.
  if ((rc = reduce_launch(n > 0 ? dx : NULL, n, dout))) {
    report((cudaError_t)rc, "reduce_launch returned");
    goto done;
  }
  if ((rc = report(cudaDeviceSynchronize(), "your kernel"))) goto done;
  if ((rc = report(cudaMemcpy(result, dout, sizeof(float), cudaMemcpyDeviceToHost), "harness: copy the sum")) ||
      (rc = report(cudaMemcpy(tail, dout + 1, PAD * sizeof(float), cudaMemcpyDeviceToHost), "harness: canaries")))
    goto done;
  for (int i = 0; i < PAD; i++)
    if (tail[i] != CANARY) {
      fprintf(stderr, "reduce: a thread wrote to out[%d]; only out[0] is yours\n", i + 1);
      rc = -2;
      break;
    }
done:
  cudaFree(dout);
  return rc;
}

extern "C" int reduce(const float *x, long n, float *result) {
  if (n < 0) return 1;
  float *dx = NULL;
  int rc = -1;
  if (n > 0 && cudaMalloc(&dx, n * sizeof(float))) goto done;
  if (n > 0 && (rc = report(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice), "harness: copy x")))
    goto done;
  rc = run_one(dx, n, result);
done:
  cudaFree(dx);
  return rc;
}

extern "C" int reduce_int(const long *x, long n, float *result) {
  if (n < 0) return 1;
  long long *di = NULL;
  float *dx = NULL;
  int rc = -1;
  if (n > 0 && (cudaMalloc(&di, n * sizeof(long long)) || cudaMalloc(&dx, n * sizeof(float)))) goto done;
  if (n > 0) {
    if ((rc = report(cudaMemcpy(di, x, n * sizeof(long long), cudaMemcpyHostToDevice), "harness: copy x")))
      goto done;
    from_int_k<<<blocks_for(n), 256>>>(di, dx, n);
  }
  rc = run_one(dx, n, result);
done:
  cudaFree(di);
  cudaFree(dx);
  return rc;
}

// ---- timed runs ----

static float *g_x, *g_res;
static long g_cap, g_rescap;

extern "C" int reduce_load(const long *x, long n) {
  if (n <= 0) return 1;
  long long *di = NULL;
  int rc;
  if (n > g_cap) {
    cudaFree(g_x);
    g_x = NULL;
    g_cap = 0;
    if (cudaMalloc(&g_x, n * sizeof(float))) return -1;
    g_cap = n;
  }
  if (cudaMalloc(&di, n * sizeof(long long))) return -1;
  rc = report(cudaMemcpy(di, x, n * sizeof(long long), cudaMemcpyHostToDevice), "harness: load x");
  if (!rc) {
    from_int_k<<<blocks_for(n), 256>>>(di, g_x, n);
    rc = report(cudaDeviceSynchronize(), "harness: load");
  }
  cudaFree(di);
  return rc;
}

// Run r starts 64 * (base + r) elements in: a new pointer and a new length
// every launch, so no result can be remembered from an earlier one.
extern "C" int reduce_timed(float *res, long n, long reps, long base) {
  if (n <= 0 || n > g_cap || reps < 1 || base < 0 || STEP * (base + reps) >= n) return 1;
  int rc;
  if (reps > g_rescap) {
    cudaFree(g_res);
    g_res = NULL;
    g_rescap = 0;
    if (cudaMalloc(&g_res, reps * sizeof(float))) return -1;
    g_rescap = reps;
  }
  if ((rc = report(cudaMemset(g_res, 0, reps * sizeof(float)), "harness: cudaMemset"))) return rc;
  for (long r = 0; r < reps; r++) {
    long off = STEP * (base + r);
    if ((rc = reduce_launch(g_x + off, n - off, g_res + r))) return report((cudaError_t)rc, "reduce_launch returned");
  }
  if ((rc = report(cudaDeviceSynchronize(), "your kernel (timed run)"))) return rc;
  return report(cudaMemcpy(res, g_res, reps * sizeof(float), cudaMemcpyDeviceToHost), "harness: copy the sums back");
}
