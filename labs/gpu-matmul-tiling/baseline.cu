// baseline.cu — the naive kernel the speedup is measured against (the
// starter's code): one thread per element of C, operands from global memory.
#include <cuda_runtime.h>

__global__ void matmul_kernel(const float *A, const float *B, float *C, int n) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= n || col >= n) return;
  float acc = 0.0f;
  for (int k = 0; k < n; k++) acc += A[(long)row * n + k] * B[(long)k * n + col];
  C[(long)row * n + col] = acc;
}

extern "C" int matmul_launch(const float *A, const float *B, float *C, int n) {
  if (n <= 0) return 0;
  dim3 threads(16, 16);
  dim3 blocks((n + 15) / 16, (n + 15) / 16);
  matmul_kernel<<<blocks, threads>>>(A, B, C, n);
  return (int)cudaGetLastError();
}
