/* A wrong submission for Lab simd-dot: vectorized, but it forgets the
 * elements left over when n is not a multiple of 8 (the tail). */
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));

float lab_dot(const float *x, const float *y, long n) {
  v8f acc = {0};
  for (long i = 0; i + 8 <= n; i += 8) {
    v8f a, b;
    memcpy(&a, x + i, sizeof a);
    memcpy(&b, y + i, sizeof b);
    acc += a * b;
  }
  float s = 0.0f;
  for (int k = 0; k < 8; k++)
    s += acc[k];
  return s;
}
