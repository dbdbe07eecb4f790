/* baseline.c — the trusted float32 baseline of Lab int8-dot: the same dot
 * product on the same values stored as float, written the way Lab simd-dot's
 * reference is (8 float lanes, four accumulators, FMAs under -march=native).
 * The int8 submission must beat a good float kernel, not a scalar loop. */
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));

static inline v8f load8(const float *p) {
  v8f v;
  memcpy(&v, p, sizeof v);
  return v;
}

float lab_fdot(const float *x, const float *y, long n) {
  v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
  long i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 += load8(x + i) * load8(y + i);
    a1 += load8(x + i + 8) * load8(y + i + 8);
    a2 += load8(x + i + 16) * load8(y + i + 16);
    a3 += load8(x + i + 24) * load8(y + i + 24);
  }
  for (; i + 8 <= n; i += 8)
    a0 += load8(x + i) * load8(y + i);
  v8f a = (a0 + a1) + (a2 + a3);
  float s = 0.0f;
  for (int k = 0; k < 8; k++)
    s += a[k];
  for (; i < n; i++)
    s += x[i] * y[i];
  return s;
}
