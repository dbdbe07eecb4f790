/* idot.c — Lab int8-dot: a fast, exact int8 dot product.
 *
 * lab_idot returns a[0]*b[0] + ... + a[n-1]*b[n-1] for int8 vectors, summed
 * exactly in 32-bit integers (n is at most 65,536 here, so int32 cannot
 * overflow). This loop is exact but scalar: one element per step. Make it
 * use vector instructions, so that it beats a vectorized float32 dot
 * product over the same values. The file is compiled with
 * gcc -O2 -march=native; <immintrin.h> intrinsics and GCC vector
 * extensions are both fine.
 *
 * Rules: a and b need not be aligned, n may be 0, every value from -128
 * to 127 may occur, and you must not read past a[n-1] or b[n-1].
 */
#include <stdint.h>

int32_t lab_idot(const int8_t *a, const int8_t *b, long n) {
  int32_t s = 0;
  for (long i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}
