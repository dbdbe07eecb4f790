/* mapreduce-wordcount, wrong on purpose: map emits whole lines, not
 * words. "exact counts" must fail and name what is wrong. */
#include "eng_mapreduce.h"

int wc_map(const char *line, size_t len, eng_mr_out *out, void *arg) {
  (void)arg;
  return eng_mr_emit_i64(out, line, len, 1);
}

int wc_reduce(const char *word, size_t wlen, eng_mr_values *counts, eng_mr_out *out, void *arg) {
  (void)arg;
  int64_t c, sum = 0;
  while (eng_mr_next_i64(counts, &c)) sum += c;
  return eng_mr_emit_i64(out, word, wlen, sum);
}
