/* A wrong submission for Lab int8-dot: the popular pmaddubsw trick,
 * maddubs(|a|, sign(b, a)), which is fast but wrong at the extremes:
 * |-128| as a byte is still -128 when negated, and pairs of 16,384
 * saturate the 16-bit sums. */
#include <immintrin.h>
#include <stdint.h>

int32_t lab_idot(const int8_t *a, const int8_t *b, long n) {
  __m256i acc = _mm256_setzero_si256(), ones = _mm256_set1_epi16(1);
  long i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
    __m256i vb = _mm256_loadu_si256((const __m256i *)(b + i));
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(va, va), _mm256_sign_epi8(vb, va));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
  }
  int32_t lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, acc);
  int32_t s = 0;
  for (int k = 0; k < 8; k++)
    s += lanes[k];
  for (; i < n; i++)
    s += a[i] * b[i];
  return s;
}
