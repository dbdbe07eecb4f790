/*
 * mapreduce-wordcount, reference solution. map emits (word, 1) for every
 * word; reduce adds the values up. Because addition is associative and
 * commutative, the same function is a valid combiner: partial sums made
 * on each rank before the shuffle add up to the same total.
 */
#include "eng_mapreduce.h"

int wc_map(const char *line, size_t len, eng_mr_out *out, void *arg) {
  (void)arg;
  size_t i = 0;
  while (i < len) {
    while (i < len && line[i] == ' ') i++;
    size_t start = i;
    while (i < len && line[i] != ' ') i++;
    if (i > start && eng_mr_emit_i64(out, line + start, i - start, 1)) return 1;
  }
  return 0;
}

int wc_reduce(const char *word, size_t wlen, eng_mr_values *counts, eng_mr_out *out, void *arg) {
  (void)arg;
  int64_t c, sum = 0;
  while (eng_mr_next_i64(counts, &c)) sum += c;
  return eng_mr_emit_i64(out, word, wlen, sum);
}
