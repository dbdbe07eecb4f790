// gpu-matmul-tiling, a typical mistake: 32 x 32 shared-memory tiles that
// assume n is a multiple of 32 (no zero padding, no store guard).
#include <cuda_runtime.h>

#define T 32

__global__ void matmul_kernel(const float *A, const float *B, float *C, int n) {
  __shared__ float As[T][T], Bs[T][T];
  int row = blockIdx.y * T + threadIdx.y, col = blockIdx.x * T + threadIdx.x;
  float acc = 0.0f;
  for (int k0 = 0; k0 < n; k0 += T) {
    As[threadIdx.y][threadIdx.x] = A[(long)row * n + k0 + threadIdx.x];
    Bs[threadIdx.y][threadIdx.x] = B[(long)(k0 + threadIdx.y) * n + col];
    __syncthreads();
    for (int p = 0; p < T; p++) acc += As[threadIdx.y][p] * Bs[p][threadIdx.x];
    __syncthreads();
  }
  C[(long)row * n + col] = acc;
}

extern "C" int matmul_launch(const float *A, const float *B, float *C, int n) {
  if (n <= 0) return 0;
  dim3 threads(T, T), blocks((n + T - 1) / T, (n + T - 1) / T);
  matmul_kernel<<<blocks, threads>>>(A, B, C, n);
  return (int)cudaGetLastError();
}
