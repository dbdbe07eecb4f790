/* idot.c — reference solution for Lab int8-dot.
 *
 * Each step sign-extends 32 (AVX2) or 64 (AVX-512) bytes of each vector to
 * 16-bit lanes, then multiplies lane by lane and adds neighbouring pairs of
 * products into 32-bit lanes: pmaddwd (_mm256_madd_epi16), or with
 * AVX-512 VNNI vpdpwssd, which also adds into the accumulator. Every
 * product fits in 16 bits and every pair sum in 32, so nothing saturates,
 * not even -128 * -128. (The byte instructions pmaddubsw and vpdpbusd take
 * one operand unsigned and would need a correction term for signed data.)
 * Two accumulators keep two dependency chains in flight; the tail is done
 * one element at a time. Without AVX2 the plain loop remains.
 */
#include <stdint.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

int32_t lab_idot(const int8_t *a, const int8_t *b, long n) {
  int32_t s = 0;
  long i = 0;
#if defined(__AVX512BW__) && defined(__AVX512VNNI__)
  __m512i z0 = _mm512_setzero_si512(), z1 = _mm512_setzero_si512();
  for (; i + 64 <= n; i += 64) {
    __m512i a0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(a + i)));
    __m512i b0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + i)));
    __m512i a1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(a + i + 32)));
    __m512i b1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + i + 32)));
    z0 = _mm512_dpwssd_epi32(z0, a0, b0);
    z1 = _mm512_dpwssd_epi32(z1, a1, b1);
  }
  s += _mm512_reduce_add_epi32(_mm512_add_epi32(z0, z1));
#endif
#if defined(__AVX2__)
  __m256i y0 = _mm256_setzero_si256(), y1 = _mm256_setzero_si256();
  for (; i + 32 <= n; i += 32) {
    __m256i a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
    __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
    __m256i a1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i + 16)));
    __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i + 16)));
    y0 = _mm256_add_epi32(y0, _mm256_madd_epi16(a0, b0));
    y1 = _mm256_add_epi32(y1, _mm256_madd_epi16(a1, b1));
  }
  int32_t lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, _mm256_add_epi32(y0, y1));
  for (int k = 0; k < 8; k++)
    s += lanes[k];
#endif
  for (; i < n; i++)
    s += a[i] * b[i];
  return s;
}
