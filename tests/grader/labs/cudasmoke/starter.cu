/* Starter: the kernel is launched with too few threads, so most of c stays 0. */
#include <cuda_runtime.h>
__global__ void k(const float *a, const float *b, float *c, long n) {
  long i = threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}
extern "C" int vadd(const float *a, const float *b, float *c, long n) {
  float *da, *db, *dc;
  if (cudaMalloc(&da, n * 4) || cudaMalloc(&db, n * 4) || cudaMalloc(&dc, n * 4)) return 1;
  cudaMemcpy(da, a, n * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(db, b, n * 4, cudaMemcpyHostToDevice);
  cudaMemset(dc, 0, n * 4);
  k<<<1, 1>>>(da, db, dc, n);
  cudaMemcpy(c, dc, n * 4, cudaMemcpyDeviceToHost);
  cudaFree(da); cudaFree(db); cudaFree(dc);
  return 0;
}
