/*
 * eng_pool.h — the engine's fork-join thread pool.
 *
 * A pool owns N-1 worker threads; the calling thread acts as worker 0, so a
 * pool of size 1 runs everything inline. parallel_for splits [begin, end)
 * into one contiguous block per worker (static schedule). Reductions give
 * each worker a private accumulator and combine them in worker order, so a
 * reduction over the same input and pool size is deterministic.
 *
 * Thread-safety: one parallel region at a time per pool (calls from several
 * threads into the same pool are serialized by an internal lock). Nested
 * calls from inside a body (into any pool) run inline on the calling
 * worker, and the body sees that worker's index. In a child made by fork()
 * the helper threads do not exist, so an inherited pool runs inline there.
 * No thread outlives eng_pool_free(). Helper threads block asynchronous
 * signals, so those keep going to the application's threads.
 */
#ifndef ENG_POOL_H
#define ENG_POOL_H

#include <stddef.h>

typedef struct eng_pool eng_pool;

/* Body of a parallel loop: handle [begin, end) on worker `worker`. */
typedef void (*eng_range_fn)(void *arg, long begin, long end, int worker);

/* Reduction body: fold [begin, end) into the private accumulator `acc`
 * (elem_size bytes, initialised from the identity). */
typedef void (*eng_fold_fn)(void *arg, long begin, long end, int worker, void *acc);
/* Combine `other` into `acc`. */
typedef void (*eng_combine_fn)(void *arg, void *acc, const void *other);

/* Number of cores this process may run on (affinity mask aware), >= 1. */
int eng_cores(void);

/* Threads a pool gets by default: PARLAB_NUM_THREADS if set and a valid
 * integer in 1..1024, else eng_cores(). */
int eng_default_threads(void);

/* nthreads <= 0 means eng_default_threads(); more than 1024 is PL_EINVAL.
 * OUT: *out, caller frees with eng_pool_free(). */
int eng_pool_new(int nthreads, eng_pool **out);
void eng_pool_free(eng_pool *p);
int eng_pool_size(const eng_pool *p);

/* Process-wide pool of eng_default_threads(), created on first use and
 * joined at exit. Returns NULL only when out of memory. */
eng_pool *eng_pool_default(void);

/* begin >= end does nothing; workers whose block would be empty (range
 * shorter than the pool) are not called. PL_EINVAL for a NULL p or fn. */
int eng_parallel_for(eng_pool *p, long begin, long end, eng_range_fn fn, void *arg);

/* Generic reduction; `out` receives the combined value (elem_size bytes):
 * worker 0's accumulator combined with workers 1, 2, ... in order, or the
 * identity when begin >= end. elem_size is 1..256 (else PL_EINVAL). */
int eng_parallel_reduce(eng_pool *p, long begin, long end, size_t elem_size,
                        const void *identity, eng_fold_fn fold,
                        eng_combine_fn combine, void *arg, void *out);

/* Sum of doubles produced by `fold` (acc is a double). */
int eng_parallel_sum(eng_pool *p, long begin, long end, eng_fold_fn fold,
                     void *arg, double *out);

#endif
