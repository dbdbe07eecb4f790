// matmul.cu — C = A B for row-major n x n float matrices on the GPU.
//
// matmul_launch receives device pointers (the harness has copied A and B
// to the GPU and copies C back) and queues the work. Return 0, or the CUDA
// error of a launch.
//
// This is the naive kernel: one thread per element of C, reading a row of
// A and a column of B straight from global memory. It is correct, and
// every element of A and B is fetched n times.
#include <cuda_runtime.h>

__global__ void matmul_kernel(const float *A, const float *B, float *C, int n) {
  int col = blockIdx.x * blockDim.x + threadIdx.x; // consecutive threads: consecutive columns
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
