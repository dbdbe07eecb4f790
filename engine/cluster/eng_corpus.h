/*
 * eng_corpus.h — the word-count corpus parlab generates: the same text on
 * every rank, in the benchmark and in the mapreduce-wordcount lab, and in
 * the lab's Lua checks (labs/mapreduce-wordcount/lab.lua repeats these few
 * lines of integer arithmetic, so the grader computes the expected counts
 * itself).
 *
 * A vocabulary of `vocab` lowercase words (2 to 9 letters; two indexes
 * may spell the same word) and a text of `words` words, 12 to a line,
 * separated by single spaces. The word at position j (0-based) is
 * vocabulary entry skew(splitmix64((seed << 32) | j)), where skew takes
 * two digits a, b in [0, vocab) from the hash and returns a * b / vocab:
 * small indexes are much more frequent than large ones, as in real text.
 * Only 64-bit integer operations (wrapping multiplication, logical
 * shifts), so C and Lua agree bit for bit.
 *
 * Header-only (static functions) so that a lab can ship it as a support
 * file. Thread-safe (no state).
 */
#ifndef ENG_CORPUS_H
#define ENG_CORPUS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ENG_CORPUS_LINE 12      /* words per line */
#define ENG_CORPUS_MAXWORD 10   /* longest word + NUL */

static inline uint64_t eng_corpus_mix(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Vocabulary entry k, written to out (ENG_CORPUS_MAXWORD bytes); returns
 * its length. */
static inline int eng_corpus_word(long k, char *out) {
  uint64_t h = eng_corpus_mix(0x5EEDull * 1000003ull + (uint64_t)k);
  int len = 2 + (int)(h % 8);
  for (int i = 0; i < len; i++) {
    h = eng_corpus_mix(h);
    out[i] = (char)('a' + (int)(h % 26));
  }
  out[len] = 0;
  return len;
}

/* The vocabulary index of the word at position j. */
static inline long eng_corpus_index(uint64_t seed, uint64_t j, long vocab) {
  uint64_t r = eng_corpus_mix((seed << 32) | j);
  uint64_t a = (r >> 16) % (uint64_t)vocab, b = (r >> 40) % (uint64_t)vocab;
  return (long)(a * b / (uint64_t)vocab);
}

/* The lines [first_line, first_line + nlines) of the text of `words`
 * words, as one malloc'ed string (caller frees); *len its length. Rank r
 * of p takes lines [r * L / p, (r + 1) * L / p) of the L lines in all. */
static inline char *eng_corpus_text(uint64_t seed, long words, long vocab, long first_line, long nlines,
                                    size_t *len) {
  char (*voc)[ENG_CORPUS_MAXWORD] = malloc(sizeof *voc * (size_t)vocab);
  int *vlen = malloc(sizeof *vlen * (size_t)vocab);
  long j0 = first_line * ENG_CORPUS_LINE, j1 = (first_line + nlines) * ENG_CORPUS_LINE;
  if (j1 > words) j1 = words;
  if (j0 > j1) j0 = j1;
  char *text = malloc((size_t)(j1 - j0) * ENG_CORPUS_MAXWORD + 1);
  if (!voc || !vlen || !text) {
    free(voc);
    free(vlen);
    free(text);
    return NULL;
  }
  for (long k = 0; k < vocab; k++) vlen[k] = eng_corpus_word(k, voc[k]);
  size_t n = 0;
  for (long j = j0; j < j1; j++) {
    long k = eng_corpus_index(seed, (uint64_t)j, vocab);
    memcpy(text + n, voc[k], (size_t)vlen[k]);
    n += (size_t)vlen[k];
    text[n++] = (j + 1) % ENG_CORPUS_LINE == 0 || j + 1 == words ? '\n' : ' ';
  }
  text[n] = 0;
  free(voc);
  free(vlen);
  *len = n;
  return text;
}

/* Lines in a text of `words` words. */
static inline long eng_corpus_lines(long words) { return (words + ENG_CORPUS_LINE - 1) / ENG_CORPUS_LINE; }

#endif
