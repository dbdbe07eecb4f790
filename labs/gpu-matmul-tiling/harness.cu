// harness.cu — the lab's host code, compiled together with the student's
// matmul.cu (and with baseline.cu, the naive kernel, for the speedup). It
// owns every cudaMalloc and copy; matmul_launch only sees device pointers
// to row-major n x n matrices. C is filled with NaN before the launch (an
// element the kernel forgets stays NaN) and followed by canaries (a
// thread that writes past C[n-1][n-1] is caught).
//
// Exports (see lab.lua):
//   matmul(A, B, C, n)      host matrices in and out
//   mm_load(A, B, n)        keep A and B on the device for the timed runs
//   mm_timed(out, n, reps)  reps launches of sizes n - 8 (reps - 1), ...,
//                           n - 8, n; after each, SAMPLES elements of C
//                           (positions in lab.lua) go to out, then the
//                           canaries
// Return values: 0, a CUDA error code, -1 (no device memory) or -2 (the
// kernel wrote past the end of C).
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" int matmul_launch(const float *A, const float *B, float *C, int n);

static const long PAD = 1024;
static const float CANARY = -7.5f;
static const long SAMPLES = 128; // per launch of a timed run

static int report(cudaError_t e, const char *what) {
  if (e == cudaSuccess) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, cudaGetErrorName(e), cudaGetErrorString(e));
  return (int)e;
}

__global__ void set_k(float *x, long n, float v) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) x[i] = v;
}

__global__ void differs_k(const float *x, long n, float v, int *flag) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n && x[i] != v) *flag = 1;
}

static unsigned blocks_for(long n) { return (unsigned)((n + 255) / 256); }

extern "C" int matmul(const float *A, const float *B, float *C, long n) {
  if (n <= 0 || n > 16384) return 1;
  long nn = n * n;
  float *dA = NULL, *dB = NULL, *dC = NULL;
  int *flag = NULL, damaged = 0, rc = -1;
  if (cudaMalloc(&dA, nn * sizeof(float)) || cudaMalloc(&dB, nn * sizeof(float)) ||
      cudaMalloc(&dC, (nn + PAD) * sizeof(float)) || cudaMalloc(&flag, sizeof(int)))
    goto done;
  if ((rc = report(cudaMemcpy(dA, A, nn * sizeof(float), cudaMemcpyHostToDevice), "harness: copy A")) ||
      (rc = report(cudaMemcpy(dB, B, nn * sizeof(float), cudaMemcpyHostToDevice), "harness: copy B")) ||
      (rc = report(cudaMemset(dC, 0xff, nn * sizeof(float)), "harness: cudaMemset")) || /* NaN */
      (rc = report(cudaMemset(flag, 0, sizeof(int)), "harness: cudaMemset")))
    goto done;
  set_k<<<blocks_for(PAD), 256>>>(dC + nn, PAD, CANARY);
  if ((rc = matmul_launch(dA, dB, dC, (int)n))) {
    report((cudaError_t)rc, "matmul_launch returned");
    goto done;
  }
  if ((rc = report(cudaDeviceSynchronize(), "your kernel"))) goto done;
  differs_k<<<blocks_for(PAD), 256>>>(dC + nn, PAD, CANARY, flag);
  if ((rc = report(cudaMemcpy(&damaged, flag, sizeof(int), cudaMemcpyDeviceToHost), "harness: canaries")))
    goto done;
  if (damaged) {
    fprintf(stderr, "matmul: a thread wrote past C[n-1][n-1] (n = %ld)\n", n);
    rc = -2;
    goto done;
  }
  rc = report(cudaMemcpy(C, dC, nn * sizeof(float), cudaMemcpyDeviceToHost), "harness: copy C back");
done:
  cudaFree(dA);
  cudaFree(dB);
  cudaFree(dC);
  cudaFree(flag);
  return rc;
}

// ---- timed runs ----

static float *g_A, *g_B, *g_C, *g_out;
static long g_cap, g_outcap;

extern "C" int mm_load(const float *A, const float *B, long n) {
  if (n <= 0 || n > 16384) return 1;
  long nn = n * n;
  int rc;
  if (nn > g_cap) {
    cudaFree(g_A), cudaFree(g_B), cudaFree(g_C);
    g_A = g_B = g_C = NULL;
    g_cap = 0;
    if (cudaMalloc(&g_A, nn * sizeof(float)) || cudaMalloc(&g_B, nn * sizeof(float)) ||
        cudaMalloc(&g_C, (nn + PAD) * sizeof(float)))
      return -1;
    g_cap = nn;
  }
  if ((rc = report(cudaMemcpy(g_A, A, nn * sizeof(float), cudaMemcpyHostToDevice), "harness: load A")) ||
      (rc = report(cudaMemcpy(g_B, B, nn * sizeof(float), cudaMemcpyHostToDevice), "harness: load B")))
    return rc;
  return 0;
}

// out[base + k] = C[(k * 2654435761 + r * 40503) mod m^2] for launch r of size m.
__global__ void gather_k(const float *C, long m, long r, float *out) {
  long k = threadIdx.x;
  if (k < SAMPLES) out[k] = C[(k * 2654435761L + r * 40503L) % (m * m)];
}

extern "C" int mm_timed(float *out, long n, long reps) {
  if (n <= 8 * reps || n * n > g_cap || reps < 1 || reps > 64) return 1;
  long need = reps * SAMPLES + PAD;
  int rc;
  if (need > g_outcap) {
    cudaFree(g_out);
    g_out = NULL;
    g_outcap = 0;
    if (cudaMalloc(&g_out, need * sizeof(float))) return -1;
    g_outcap = need;
  }
  set_k<<<blocks_for(PAD), 256>>>(g_C + n * n, PAD, CANARY);
  for (long r = 0; r < reps; r++) {
    long m = n - 8 * (reps - 1 - r);
    if ((rc = matmul_launch(g_A, g_B, g_C, (int)m))) return report((cudaError_t)rc, "matmul_launch returned");
    gather_k<<<1, SAMPLES>>>(g_C, m, r, g_out + r * SAMPLES);
  }
  // The canaries after the largest C (the last launch).
  if ((rc = report(cudaMemcpyAsync(g_out + reps * SAMPLES, g_C + n * n, PAD * sizeof(float),
                                   cudaMemcpyDeviceToDevice, 0), "harness: canaries")) ||
      (rc = report(cudaDeviceSynchronize(), "your kernel (timed run)")))
    return rc;
  return report(cudaMemcpy(out, g_out, need * sizeof(float), cudaMemcpyDeviceToHost),
                "harness: copy the samples back");
}
