// gpu-vector-add, a typical mistake: the number of blocks is rounded up,
// but the kernel has no bounds check, so the last block writes past c[n-1].
#include <cuda_runtime.h>

__global__ void vadd_kernel(const float *a, const float *b, float *c, long n) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  c[i] = a[i] + b[i];
}

extern "C" int vadd_launch(const float *a, const float *b, float *c, long n) {
  if (n <= 0) return 0;
  vadd_kernel<<<(unsigned)((n + 255) / 256), 256>>>(a, b, c, n);
  return (int)cudaGetLastError();
}
