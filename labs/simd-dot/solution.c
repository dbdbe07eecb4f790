/* dot.c — reference solution for Lab simd-dot.
 *
 * A v8f holds 8 floats; `a * b` and `+=` work lane by lane and compile to
 * 256-bit vector instructions (FMAs under -march=native). Four independent
 * accumulators keep four FMA chains in flight: one accumulator would make
 * every FMA wait for the previous one's result (about 4 cycles). The lanes
 * are added together once at the end, then the tail (n mod 8 elements) is
 * done one at a time, so nothing past x[n-1] is ever read.
 */
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));

/* memcpy is the portable unaligned load; it compiles to one vmovups. */
static inline v8f load8(const float *p) {
  v8f v;
  memcpy(&v, p, sizeof v);
  return v;
}

float lab_dot(const float *x, const float *y, long n) {
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
