/* bench.c — the harness of Lab int8-dot, compiled together with your
 * idot.c (and, in its own jail, with the grader's float32 baseline).
 *
 * The grader sends int8 vectors as byte strings (const char*), the one
 * way its calls carry raw bytes, and these wrappers hand them to lab_idot
 * as int8_t. idot_bench and fdot_bench repeat the dot product `reps` times
 * over the same in-cache data, because one call from the grader to the
 * jail costs more than one dot product; the start moves by one element per
 * call (offsets 0 to 15), so unaligned starts and tails are timed too.
 *
 * lab_idot is yours; lab_fdot is the baseline's. Each .so has only one of
 * them, hence the weak references: the missing one is NULL and its
 * wrapper is never called there. The grader keeps its own copy of this file.
 */
#include <stdint.h>

int32_t lab_idot(const int8_t *a, const int8_t *b, long n) __attribute__((weak));
float lab_fdot(const float *x, const float *y, long n) __attribute__((weak));

long idot(const char *a, const char *b, long n) {
  return lab_idot((const int8_t *)a, (const int8_t *)b, n);
}

long idot_bench(const char *a, const char *b, long n, long reps) {
  long total = 0;
  for (long r = 0; r < reps; r++) {
    long off = r % 16;
    total += lab_idot((const int8_t *)a + off, (const int8_t *)b + off, n - off);
  }
  return total;
}

double fdot_bench(const float *x, const float *y, long n, long reps) {
  double total = 0.0;
  for (long r = 0; r < reps; r++) {
    long off = r % 16;
    total += lab_fdot(x + off, y + off, n - off);
  }
  return total;
}
