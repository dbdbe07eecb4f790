/*
 * eng_pool.h — the engine's fork-join thread pool.
 *
 * A pool owns N-1 worker threads; the calling thread acts as worker 0, so a
 * pool of size 1 runs everything inline. parallel_for splits [begin, end)
 * into one contiguous block per worker (static schedule) unless options ask
 * for chunks: static round-robin chunks, dynamic (first come, first served)
 * or guided (chunks shrinking with the work left), as OpenMP defines them.
 * Reductions give each worker a private accumulator and combine them in
 * worker order, so a static reduction over the same input and pool size is
 * deterministic (dynamic and guided ones are not: who takes which chunk
 * depends on timing).
 *
 * Tasks (eng_task.h) run on the same workers; a region waits for workers
 * that are busy with a task to finish it first. While futures are
 * outstanding, one more pool thread (the stand-in) runs them as worker 0
 * whenever no region or task-group waiter holds that slot, so a pool of
 * n threads runs futures on n threads while their submitter waits.
 *
 * Waiting. A worker with nothing to do spins for a bounded time (the wait
 * policy, eng_pool_set_spin) and then sleeps in the kernel, so an idle pool
 * costs no CPU. The spin covers the gap between back-to-back regions.
 *
 * Statistics. Each worker counts the time it spends running chunks and
 * tasks (busy time), the chunks it took and the tasks it ran, so a lab can
 * show load imbalance (eng_pool_stats).
 *
 * Thread-safety: one parallel region at a time per pool (calls from several
 * threads into the same pool are serialized by an internal lock). Nested
 * calls from inside a body (into any pool) run inline on the calling
 * worker, and the body sees that worker's index. In a child made by fork()
 * the helper threads do not exist, so an inherited pool runs inline there.
 * No thread (helper or stand-in) outlives eng_pool_free(), which first
 * waits for every task submitted to the pool. Pool threads block
 * asynchronous signals, so those keep going to the application's threads.
 */
#ifndef ENG_POOL_H
#define ENG_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct eng_pool eng_pool;

/* Body of a parallel loop: handle [begin, end) on worker `worker`. */
typedef void (*eng_range_fn)(void *arg, long begin, long end, int worker);

/* Reduction body: fold [begin, end) into the private accumulator `acc`
 * (elem_size bytes, initialised from the identity). With a chunked
 * schedule a worker folds several ranges into the same accumulator. */
typedef void (*eng_fold_fn)(void *arg, long begin, long end, int worker, void *acc);
/* Combine `other` into `acc`. */
typedef void (*eng_combine_fn)(void *arg, void *acc, const void *other);

typedef enum {
  ENG_SCHED_STATIC = 0,  /* chunk 0: one block per worker; k: chunks of k dealt round-robin */
  ENG_SCHED_DYNAMIC = 1, /* chunks of k (default 1) taken from a shared counter */
  ENG_SCHED_GUIDED = 2   /* chunks of max(k, left / threads), taken from a shared counter */
} eng_schedule;

/* Options of a parallel loop; a zeroed struct (or NULL) is the plain
 * static schedule over every worker. */
typedef struct eng_for_opts {
  eng_schedule schedule;
  long chunk;   /* <= 0: the schedule's default (see above) */
  int threads;  /* workers to use, 1..size; <= 0 or more than the pool: all */
} eng_for_opts;

/* What a worker did since the pool was made or the stats were reset. */
typedef struct eng_worker_stats {
  double busy_s;   /* seconds spent running chunks and tasks */
  long chunks;     /* loop chunks (blocks) taken */
  long tasks;      /* tasks run */
  long steals;     /* tasks taken from another worker's queue */
} eng_worker_stats;

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

/* Wait policy: how long an idle worker (or a waiting caller) spins before
 * it sleeps. spin_ns == 0 sleeps at once (passive); the default is 100 us,
 * or 2 us when the pool has more threads than cores, or PARLAB_SPIN_US
 * (microseconds, 0..1000000) when set. Capped at one second. While
 * regions keep finding their workers asleep (a loaded machine, where a
 * wake-up takes longer than the spin), the pool spins up to 16 times as
 * long, at most 2 ms, and comes back to the policy once they stop. */
void eng_pool_set_spin(eng_pool *p, uint64_t spin_ns);
uint64_t eng_pool_spin(const eng_pool *p);
/* The default spin of a new pool of n threads (the rule above). */
uint64_t eng_default_spin_ns(int nthreads);

/* The worker index of the calling thread inside p (in a region or running
 * one of p's tasks), else -1. */
int eng_pool_current_worker(const eng_pool *p);

/* Copy min(n, size) workers' statistics into out; returns that count.
 * Callable anywhere, also from inside a region or a task (the figures of
 * work still running are then partial). */
int eng_pool_stats(eng_pool *p, eng_worker_stats *out, int n);
void eng_pool_stats_reset(eng_pool *p);

/* begin >= end does nothing; workers whose block would be empty (range
 * shorter than the pool) are not called. PL_EINVAL for a NULL p or fn. */
int eng_parallel_for(eng_pool *p, long begin, long end, eng_range_fn fn, void *arg);

/* The same with a schedule; o may be NULL (static). PL_EINVAL for an
 * unknown schedule. */
int eng_parallel_for_opts(eng_pool *p, long begin, long end, const eng_for_opts *o,
                          eng_range_fn fn, void *arg);

/* Generic reduction; `out` receives the combined value (elem_size bytes):
 * the accumulators of the workers that folded anything, combined in worker
 * order starting from the lowest one, or the identity when begin >= end.
 * elem_size is 1..256 (else PL_EINVAL). */
int eng_parallel_reduce(eng_pool *p, long begin, long end, size_t elem_size,
                        const void *identity, eng_fold_fn fold,
                        eng_combine_fn combine, void *arg, void *out);
int eng_parallel_reduce_opts(eng_pool *p, long begin, long end, const eng_for_opts *o,
                             size_t elem_size, const void *identity, eng_fold_fn fold,
                             eng_combine_fn combine, void *arg, void *out);

/* Sum of doubles produced by `fold` (acc is a double). */
int eng_parallel_sum(eng_pool *p, long begin, long end, eng_fold_fn fold,
                     void *arg, double *out);

/* A reusable barrier for n threads that spins for spin_ns, then sleeps.
 * eng_barrier_wait returns 1 in exactly one of the n threads of each
 * round (the last to arrive) and 0 in the others.
 * OUT: *out, caller frees with eng_barrier_free() when nobody waits. */
typedef struct eng_barrier eng_barrier;
int eng_barrier_new(int n, uint64_t spin_ns, eng_barrier **out);
int eng_barrier_wait(eng_barrier *b);
void eng_barrier_free(eng_barrier *b);

#endif
