/*
 * harness.c — the mapreduce-wordcount lab's main program, compiled with
 * the student's wordcount.c and parlab's MapReduce library
 * (eng_mapreduce.c) and corpus generator (eng_corpus.h).
 *
 *   harness print WORDS SEED VOCAB   word count of the generated corpus;
 *                                    rank 0 prints "count WORD N" for every
 *                                    word (sorted by the gather), then
 *                                    "time SECONDS keys K total T"
 *   harness time WORDS SEED VOCAB    the same without the counts
 *
 * Each rank generates its own share of the lines first (not timed), then
 * the MapReduce job runs between barriers: map with the student's wc_map,
 * the student's wc_reduce as combiner and as reducer, shuffle by hash.
 * The time is the slowest rank's, from MPI_Wtime.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_corpus.h"
#include "eng_mapreduce.h"

int wc_map(const char *line, size_t len, eng_mr_out *out, void *arg);
int wc_reduce(const char *word, size_t wlen, eng_mr_values *counts, eng_mr_out *out, void *arg);

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, rc = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 5) {
    if (rank == 0) fprintf(stderr, "usage: harness print|time WORDS SEED VOCAB\n");
    MPI_Finalize();
    return 2;
  }
  int print = !strcmp(argv[1], "print");
  long words = atol(argv[2]), vocab = atol(argv[4]);
  uint64_t seed = strtoull(argv[3], NULL, 10);
  long lines = eng_corpus_lines(words), first = lines * rank / size, last = lines * (rank + 1) / size;
  size_t len = 0;
  char *text = eng_corpus_text(seed, words, vocab, first, last - first, &len);
  eng_mr *mr = NULL;
  eng_mr_spec spec = {.comm = MPI_COMM_WORLD, .map = wc_map, .combine = wc_reduce, .reduce = wc_reduce};
  if (!text || eng_mr_new(&spec, &mr)) MPI_Abort(MPI_COMM_WORLD, 3);

  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  rc = eng_mr_map_text(mr, text, len, '\n');
  int all = rc;
  MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD); /* fail together */
  if (!all) all = eng_mr_run(mr);
  double mine = MPI_Wtime() - t0, slowest = 0;
  MPI_Reduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (all) {
    if (rank == 0) printf("mapreduce failed: a map or reduce function returned nonzero\n");
    rc = 1;
  } else if (eng_mr_gather(mr, 0)) {
    rc = 1;
  } else if (rank == 0) {
    long long total = 0;
    for (long i = 0; i < eng_mr_outputs(mr); i++) {
      const char *w;
      const void *v;
      size_t vl;
      int64_t c = 0;
      eng_mr_output(mr, i, &w, NULL, &v, &vl);
      if (vl == sizeof c) memcpy(&c, v, sizeof c);
      total += c;
      if (print) printf("count %s %lld\n", w, (long long)c);
    }
    printf("time %.6f keys %ld total %lld\n", slowest, eng_mr_outputs(mr), total);
  }
  eng_mr_free(mr);
  free(text);
  MPI_Finalize();
  return rc;
}
