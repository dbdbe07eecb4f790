/*
 * eng_mapreduce.h — MapReduce on MPI: map, an optional combiner, a
 * shuffle by hash partition, and reduce, over the ranks of a communicator.
 *
 * The C counterpart of Hadoop MapReduce (and of Spark's map / reduceByKey):
 *
 *   map       each rank calls map(record) on its own input records; map
 *             emits (key, value) pairs (byte strings)
 *   combine   optional: the pairs of one key on one rank are folded before
 *             they travel (word count's partial sums); also run whenever the
 *             map output grows past spill_bytes, so memory stays bounded
 *   shuffle   every key goes to rank partition(key) = hash(key) mod size,
 *             with one MPI_Alltoallv: all values of a key meet on one rank
 *   reduce    each rank calls reduce(key, values) once per key it owns
 *
 * Keys and values are byte strings; keys handed to combine and reduce are
 * also NUL-terminated, so text keys can be used as C strings. The hash is
 * FNV-1a (64-bit) with a final mix, the same on every machine, so a key
 * always lands on the same rank for a given number of ranks.
 *
 * Collective calls: eng_mr_run() and eng_mr_gather() must be called by
 * every rank of the communicator, in the same order. A map, combine or
 * reduce function that returns nonzero fails the job on every rank (the
 * ranks agree on the outcome before they communicate, so one rank's error
 * never leaves the others waiting).
 *
 * This file is also compiled into MPI labs with the student's code
 * (submission.support): it depends only on MPI, the C library and
 * pl_err.h.
 *
 * Thread-safety: a job belongs to one thread; separate jobs are
 * independent.
 */
#ifndef ENG_MAPREDUCE_H
#define ENG_MAPREDUCE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "pl_err.h"

typedef struct eng_mr eng_mr;
typedef struct eng_mr_out eng_mr_out;       /* where map, combine and reduce emit */
typedef struct eng_mr_values eng_mr_values; /* the values of one key */

/* map: one input record (not NUL-terminated). 0 ok, nonzero fails the job. */
typedef int (*eng_mr_map_fn)(const char *record, size_t len, eng_mr_out *out, void *arg);
/* combine and reduce: one key and all its values (on this rank). */
typedef int (*eng_mr_reduce_fn)(const char *key, size_t klen, eng_mr_values *vals, eng_mr_out *out,
                                void *arg);

int eng_mr_emit(eng_mr_out *out, const void *key, size_t klen, const void *val, size_t vlen);
/* A 64-bit integer value (native byte order: ranks share one architecture). */
int eng_mr_emit_i64(eng_mr_out *out, const void *key, size_t klen, int64_t v);

/* The next value: 1 and its bytes, or 0 after the last. */
int eng_mr_next(eng_mr_values *v, const void **val, size_t *len);
/* The next value read as an int64 (emitted with eng_mr_emit_i64): 1, or 0
 * after the last (or for a value that is not 8 bytes long). */
int eng_mr_next_i64(eng_mr_values *v, int64_t *val);
/* How many values the key has in all (not only those left to read). */
long eng_mr_count(const eng_mr_values *v);

typedef struct eng_mr_spec {
  MPI_Comm comm;
  eng_mr_map_fn map;          /* required */
  eng_mr_reduce_fn combine;   /* NULL: no combiner */
  eng_mr_reduce_fn reduce;    /* required */
  void *arg;                  /* passed to all three */
  size_t spill_bytes;         /* run the combiner once the map output holds this much; 0: 64 MiB */
} eng_mr_spec;

typedef struct eng_mr_stats {
  long records;               /* map input records on this rank */
  long emitted;               /* pairs emitted by map */
  long combined;              /* pairs left for the shuffle after combining (= emitted without one) */
  long sent;                  /* of those, pairs sent to other ranks */
  long long sent_bytes;       /* bytes sent to other ranks in the shuffle */
  long keys;                  /* distinct keys this rank reduced */
  long outputs;               /* pairs emitted by reduce on this rank */
  double map_s, shuffle_s, reduce_s; /* time in each phase (combining counts as shuffle) */
} eng_mr_stats;

/* OUT: *out, free with eng_mr_free(). PL_EINVAL without map or reduce. */
int eng_mr_new(const eng_mr_spec *spec, eng_mr **out);
void eng_mr_free(eng_mr *mr);

/* Feed input: one record, or a text split into records at `sep` (a last
 * record without a separator counts; empty records are skipped). Local,
 * not collective. The first failing map call's code is returned and kept. */
int eng_mr_map_record(eng_mr *mr, const void *rec, size_t len);
int eng_mr_map_text(eng_mr *mr, const char *data, size_t len, char sep);

/* Collective: combine, shuffle, reduce. Afterwards each rank holds the
 * reduce outputs of the keys it owns. */
int eng_mr_run(eng_mr *mr);

/* This rank's outputs, in no particular order (sorted by key after
 * eng_mr_gather() at the root). The key is NUL-terminated. */
long eng_mr_outputs(const eng_mr *mr);
int eng_mr_output(const eng_mr *mr, long i, const char **key, size_t *klen, const void **val,
                  size_t *vlen);

/* Collective: every rank's outputs move to `root`, sorted by key (bytes,
 * then length); the other ranks are left with none. */
int eng_mr_gather(eng_mr *mr, int root);

/* The rank that reduces `key`, and the hash behind it. */
int eng_mr_partition(const eng_mr *mr, const void *key, size_t klen);
uint64_t eng_mr_hash(const void *key, size_t klen);

void eng_mr_stats_get(const eng_mr *mr, eng_mr_stats *st);

#endif
