// baseline.cu — the yardstick for the bandwidth check, not a vector add:
// a device-to-device copy of n floats (cudaMemcpyAsync), which reads 4 and
// writes 4 bytes per element at the speed the driver's copy achieves on
// this GPU. The grader compares your 12 bytes per element with its 8.
#include <cuda_runtime.h>

extern "C" int vadd_launch(const float *a, const float *b, float *c, long n) {
  (void)b;
  if (n <= 0) return 0;
  return (int)cudaMemcpyAsync(c, a, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, 0);
}
