// reduce.cu — the sum of n floats on the GPU.
//
// reduce_launch receives device pointers: x (n floats, 256-byte aligned)
// and out (one float, already 0). It queues the work that leaves
// x[0] + ... + x[n-1] in *out; the harness waits for it and copies the
// sum back. Return 0, or the CUDA error of a launch.
//
// This version is correct, and slow: every thread adds its element into
// the same float with atomicAdd, and those additions to one address are
// carried out one after another, however many threads ask at once.
#include <cuda_runtime.h>

__global__ void reduce_kernel(const float *x, long n, float *out) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(out, x[i]);
}

extern "C" int reduce_launch(const float *x, long n, float *out) {
  if (n <= 0) return 0; // the sum of nothing is the 0 already in *out
  const int threads = 256;
  reduce_kernel<<<(unsigned)((n + threads - 1) / threads), threads>>>(x, n, out);
  return (int)cudaGetLastError();
}
