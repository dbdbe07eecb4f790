// baseline.cu — the atomic version the speedup is measured against: one
// atomicAdd per element into the single total (the starter's code).
#include <cuda_runtime.h>

__global__ void reduce_kernel(const float *x, long n, float *out) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(out, x[i]);
}

extern "C" int reduce_launch(const float *x, long n, float *out) {
  if (n <= 0) return 0;
  const int threads = 256;
  reduce_kernel<<<(unsigned)((n + threads - 1) / threads), threads>>>(x, n, out);
  return (int)cudaGetLastError();
}
