// harness.cu — the lab's host code, compiled together with the student's
// vadd.cu (and with baseline.cu for the reference measurement). It owns
// every cudaMalloc and copy, so the student's vadd_launch only ever sees
// device pointers, and it guards the end of every output with canary
// values so that a thread writing past c[n-1] is caught.
//
// Exports (see lab.lua):
//   vadd(a, b, c, n)        host arrays in and out; 0, a CUDA error code, or
//                           -1 (no device memory) / -2 (wrote past the end)
//   vadd_load(a, b, n)      keep a and b on the device for the timed runs
//   vadd_timed(out, n, r)   r chained launches x = x + b over n elements,
//                           then samples of x and the canaries into out
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" int vadd_launch(const float *a, const float *b, float *c, long n);

static const long PAD = 1024;      // canary elements after every output
static const float CANARY = -7.0f; // a value a + b never takes here (a, b >= 0 in the checks)
static const long SAMPLES = 4096;  // elements of x returned by vadd_timed

static int report(cudaError_t e, const char *what) {
  if (e == cudaSuccess) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, cudaGetErrorName(e), cudaGetErrorString(e));
  return (int)e;
}

__global__ void set_k(float *x, long n, float v) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) x[i] = v;
}

// 1 when any of x[0..n) differs from v.
__global__ void differs_k(const float *x, long n, float v, int *flag) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n && x[i] != v) *flag = 1;
}

static unsigned blocks_for(long n) { return (unsigned)((n + 255) / 256); }

extern "C" int vadd(const float *a, const float *b, float *c, long n) {
  if (n < 0) return 1;
  float *da = NULL, *db = NULL, *dc = NULL;
  int *flag = NULL, damaged = 0, rc = -1;
  size_t bytes = (size_t)(n + PAD) * sizeof(float);
  if (cudaMalloc(&da, bytes) || cudaMalloc(&db, bytes) || cudaMalloc(&dc, bytes) ||
      cudaMalloc(&flag, sizeof(int)))
    goto done;
  set_k<<<blocks_for(n + PAD), 256>>>(da, n + PAD, 1.0f);
  set_k<<<blocks_for(n + PAD), 256>>>(db, n + PAD, 2.0f);
  set_k<<<blocks_for(n + PAD), 256>>>(dc, n + PAD, CANARY);
  if ((rc = report(cudaMemset(flag, 0, sizeof(int)), "harness: cudaMemset"))) goto done;
  if (n > 0) {
    if ((rc = report(cudaMemcpy(da, a, n * sizeof(float), cudaMemcpyHostToDevice), "harness: copy a")) ||
        (rc = report(cudaMemcpy(db, b, n * sizeof(float), cudaMemcpyHostToDevice), "harness: copy b")))
      goto done;
  }
  // Your code. It may launch nothing when n == 0, but it must not fail.
  if ((rc = vadd_launch(n > 0 ? da : NULL, n > 0 ? db : NULL, n > 0 ? dc : NULL, n))) {
    report((cudaError_t)rc, "vadd_launch returned");
    goto done;
  }
  if ((rc = report(cudaDeviceSynchronize(), "your kernel"))) goto done;
  differs_k<<<blocks_for(PAD), 256>>>(dc + n, PAD, CANARY, flag);
  if ((rc = report(cudaMemcpy(&damaged, flag, sizeof(int), cudaMemcpyDeviceToHost), "harness: canaries")))
    goto done;
  if (damaged) {
    fprintf(stderr, "vadd: a thread wrote past c[n-1] (n = %ld)\n", n);
    rc = -2;
    goto done;
  }
  if (n > 0)
    rc = report(cudaMemcpy(c, dc, n * sizeof(float), cudaMemcpyDeviceToHost), "harness: copy c back");
done:
  cudaFree(da);
  cudaFree(db);
  cudaFree(dc);
  cudaFree(flag);
  return rc;
}

// ---- timed runs ----

static float *g_a0, *g_b, *g_p, *g_q, *g_out;
static long g_cap;

// x = floor(x * 1024) / 1024: every value a multiple of 2^-10 in [0, 1),
// so x + r * b stays exact in float for r < 16383 and the grader can
// check the chained sums exactly.
__global__ void quantize_k(float *x, long n) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) x[i] = floorf(x[i] * 1024.0f) / 1024.0f;
}

extern "C" int vadd_load(const float *a, const float *b, long n) {
  int rc;
  if (n <= 0) return 1;
  if (n > g_cap) {
    cudaFree(g_a0), cudaFree(g_b), cudaFree(g_p), cudaFree(g_q), cudaFree(g_out);
    g_a0 = g_b = g_p = g_q = g_out = NULL;
    g_cap = 0;
    size_t bytes = (size_t)(n + PAD) * sizeof(float);
    if (cudaMalloc(&g_a0, bytes) || cudaMalloc(&g_b, bytes) || cudaMalloc(&g_p, bytes) ||
        cudaMalloc(&g_q, bytes) || cudaMalloc(&g_out, (SAMPLES + 2 * PAD) * sizeof(float)))
      return report(cudaGetLastError(), "harness: cudaMalloc for the timed runs");
    g_cap = n;
  }
  if ((rc = report(cudaMemcpy(g_a0, a, n * sizeof(float), cudaMemcpyHostToDevice), "harness: load a")) ||
      (rc = report(cudaMemcpy(g_b, b, n * sizeof(float), cudaMemcpyHostToDevice), "harness: load b")))
    return rc;
  quantize_k<<<blocks_for(n), 256>>>(g_a0, n);
  quantize_k<<<blocks_for(n), 256>>>(g_b, n);
  // Past n: a = 5 and b = 0, so a launch that writes there leaves 5, never
  // the canary.
  set_k<<<blocks_for(PAD), 256>>>(g_a0 + n, PAD, 5.0f);
  set_k<<<blocks_for(PAD), 256>>>(g_b + n, PAD, 0.0f);
  return report(cudaDeviceSynchronize(), "harness: load");
}

// out[k] = x[k * n / SAMPLES] for k < SAMPLES, then P's and Q's PAD
// elements after n (which must still hold the canary).
__global__ void gather_k(const float *x, const float *p, const float *q, long n, float *out) {
  long k = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (k < SAMPLES) out[k] = x[k * n / SAMPLES];
  else if (k < SAMPLES + PAD) out[k] = p[n + k - SAMPLES];
  else if (k < SAMPLES + 2 * PAD) out[k] = q[n + k - SAMPLES - PAD];
}

// x0 = a; x(i+1) = x(i) + b, alternating between two buffers P and Q, so
// every launch depends on the one before: none can be skipped, and the
// result, a + reps * b, proves that all of them ran.
extern "C" int vadd_timed(float *out, long n, long reps) {
  if (n <= 0 || n > g_cap || reps < 1 || reps > 16000) return 1;
  int rc;
  set_k<<<blocks_for(PAD), 256>>>(g_p + n, PAD, CANARY);
  set_k<<<blocks_for(PAD), 256>>>(g_q + n, PAD, CANARY);
  const float *src = g_a0;
  float *dst = g_p;
  for (long r = 0; r < reps; r++) {
    if ((rc = vadd_launch(src, g_b, dst, n))) return report((cudaError_t)rc, "vadd_launch returned");
    src = dst;
    dst = dst == g_p ? g_q : g_p;
  }
  gather_k<<<(unsigned)((SAMPLES + 2 * PAD + 255) / 256), 256>>>(src, g_p, g_q, n, g_out);
  if ((rc = report(cudaDeviceSynchronize(), "your kernel (timed run)"))) return rc;
  return report(cudaMemcpy(out, g_out, (SAMPLES + 2 * PAD) * sizeof(float), cudaMemcpyDeviceToHost),
                "harness: copy the samples back");
}
