// vadd.cu — reference solution: one thread per element, enough blocks to
// cover the array, and a bounds check for the last, partial block.
#include <cuda_runtime.h>

__global__ void vadd_kernel(const float *__restrict__ a, const float *__restrict__ b,
                            float *__restrict__ c, long n) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i]; // the last block may run past n
}

extern "C" int vadd_launch(const float *a, const float *b, float *c, long n) {
  if (n <= 0) return 0;
  const int threads = 256;
  long blocks = (n + threads - 1) / threads; // round up
  vadd_kernel<<<(unsigned)blocks, threads>>>(a, b, c, n);
  return (int)cudaGetLastError();
}
