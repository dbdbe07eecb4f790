/* dot.c — Lab simd-dot: vectorize this dot product.
 *
 * lab_dot returns x[0]*y[0] + x[1]*y[1] + ... + x[n-1]*y[n-1]. It is
 * correct but scalar: the compiler keeps one running sum and adds one
 * product at a time, because reordering float additions could change the
 * result. Rewrite it with GCC vector extensions or intrinsics
 * (<immintrin.h>); the file is compiled with gcc -O2 -march=native.
 *
 * Rules: x and y need not be aligned to anything, n may be any length
 * (0 included, and then x and y may be NULL), and you must not read past
 * x[n-1] or y[n-1].
 */
float lab_dot(const float *x, const float *y, long n) {
  float s = 0.0f;
  for (long i = 0; i < n; i++)
    s += x[i] * y[i];
  return s;
}
